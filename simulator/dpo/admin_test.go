package dpo_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/dpo"
	"github.com/efm-harness/efm-harness/simulator/sample"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// dpoMessage builds what the integration point uploads for an arkivmelding from A to B: sbd.zip with
// sbd.json and asic.zip, the signed ASiC-E encrypted for B.
func dpoMessage(t *testing.T) (zip []byte, sbd *wire.StandardBusinessDocument, files []dokumentpakke.File) {
	t.Helper()
	sbd = fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{Sender: orgA, Receiver: orgB})
	sbdJSON, err := json.Marshal(sbd)
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := dokumentpakke.BuildManifest(dokumentpakke.Manifest{Mottaker: "0192:" + orgB, Avsender: "0192:" + orgA,
		Hoveddokument: &dokumentpakke.ManifestDocument{Href: "arkivmelding.xml", Mime: "application/xml"}})
	if err != nil {
		t.Fatal(err)
	}
	files = []dokumentpakke.File{
		{Name: "manifest.xml", MimeType: "application/xml", Content: manifest},
		{Name: "arkivmelding.xml", MimeType: "application/xml", Content: []byte(`<?xml version="1.0" encoding="UTF-8"?><arkivmelding/>`)},
		{Name: "vedlegg.pdf", MimeType: "application/pdf", Content: sample.PDF("vedlegg")},
	}
	sender, receiver := credential(t, orgA), credential(t, orgB)
	asic, err := dokumentpakke.Seal(files, dokumentpakke.Signer{Key: sender.Key, Certificate: sender.Certificate},
		receiver.Certificate, dokumentpakke.RSAOAEP)
	if err != nil {
		t.Fatal(err)
	}
	return zipOf(t, "sbd.json", sbdJSON, "asic.zip", asic), sbd, files
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func TestAdminMessages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	aWrite := e.altinnToken(t, orgA, dpo.ScopeWrite)
	payload, sbd, files := dpoMessage(t)
	id := e.initialize(t, aWrite, "/broker/api/v1/filetransfer/", initBody(orgA, orgB))
	e.upload(t, aWrite, id, payload)
	broken := e.initialize(t, aWrite, "/broker/api/v1/filetransfer/", initBody(orgA, orgB))
	e.upload(t, aWrite, broken, zipOf(t, "sbd.json", []byte(`{"standardBusinessDocumentHeader":{}}`), "asic.zip", []byte("not CMS")))
	notZip := e.initialize(t, aWrite, "/broker/api/v1/filetransfer/", initBody(orgA, orgB))
	e.upload(t, aWrite, notZip, []byte("plain bytes"))
	empty := e.initialize(t, aWrite, "/broker/api/v1/filetransfer/", initBody(orgA, orgB))
	notASiC := e.initialize(t, aWrite, "/broker/api/v1/filetransfer/", initBody(orgA, orgB))
	envelope, err := dokumentpakke.Encrypt(zipOf(t, "a.txt", []byte("a")), credential(t, orgB).Certificate, dokumentpakke.RSAOAEP)
	if err != nil {
		t.Fatal(err)
	}
	e.upload(t, aWrite, notASiC, zipOf(t, "asic.zip", envelope))

	c := admin.NewClient(e.ts.URL+admin.Prefix, e.ts.Client())
	ctx := context.Background()
	var list dpo.TransferList
	if err := c.Messages(ctx, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Transfers) != 5 || list.Transfers[0].ID != id || list.Transfers[0].Size != int64(len(payload)) ||
		list.Transfers[0].Status != "Published" || list.Transfers[3].Status != "Initialized" || list.Transfers[4].Status != "Published" ||
		list.Transfers[0].Sender != "0192:"+orgA || list.Transfers[0].Recipients[0].Recipient != "0192:"+orgB ||
		*list.Transfers[0].SendersFileTransferReference != "ref-"+orgA || list.Transfers[0].FileName != "sbd.zip" {
		t.Errorf("messages: %+v", list)
	}
	var filtered dpo.TransferList
	if err := c.Do(ctx, http.MethodGet, "/messages?status=initialized&recipient="+orgB, nil, &filtered); err != nil ||
		len(filtered.Transfers) != 1 || filtered.Transfers[0].ID != empty {
		t.Errorf("filtered: %v %+v", err, filtered)
	}

	// The decoded message: entries, the SBD, the opened package.
	var v dpo.MessageView
	if err := c.Message(ctx, id, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Entries) != 2 || v.Entries[0].Name != "sbd.json" || v.Entries[1].Name != "asic.zip" || v.Entries[1].SHA256 == "" {
		t.Errorf("entries: %+v", v.Entries)
	}
	got, err := wire.ParseSBD(v.SBD)
	if err != nil || got.MessageID() != sbd.MessageID() || got.ConversationID() != sbd.ConversationID() || v.SBDError != "" {
		t.Errorf("sbd: %v %s", err, v.SBD)
	}
	if v.ASiC == nil {
		t.Fatalf("no asic: %+v", v)
	}
	var wantFiles []dpo.FileView
	for _, f := range files {
		wantFiles = append(wantFiles, dpo.FileView{Name: f.Name, MimeType: f.MimeType, Size: len(f.Content), SHA256: sha(f.Content)})
	}
	if diff := cmp.Diff(wantFiles, v.ASiC.Files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if v.ASiC.Error != "" || !v.ASiC.Signed || v.ASiC.DecryptedFor != orgB || v.ASiC.Signer == nil || v.ASiC.Signer.Orgnr != orgA {
		t.Errorf("asic: %+v signer %+v", v.ASiC, v.ASiC.Signer)
	}
	if v.ASiC.Manifest == nil || v.ASiC.Manifest.Mottaker != "0192:"+orgB || v.ASiC.Manifest.Hoveddokument != "arkivmelding.xml" {
		t.Errorf("manifest: %+v", v.ASiC.Manifest)
	}

	// With ?content=true: text inline, binary as base64.
	var full dpo.MessageView
	if err := c.Do(ctx, http.MethodGet, "/messages/"+id+"?content=true", nil, &full); err != nil {
		t.Fatal(err)
	}
	if f := full.ASiC.Files; f[1].Text != string(files[1].Content) || f[1].Content != nil || string(f[2].Content) != string(files[2].Content) || f[2].Text != "" {
		t.Errorf("content: %+v", f)
	}

	// Raw files with their MIME types.
	for _, tt := range []struct{ name, mime, body string }{
		{"arkivmelding.xml", "application/xml", string(files[1].Content)},
		{"vedlegg.pdf", "application/pdf", string(files[2].Content)},
		{"sbd.json", "application/json", ""},
	} {
		a := e.do(t, http.MethodGet, "/__admin/messages/"+id+"/files/"+tt.name, "", "", nil)
		if a.status != http.StatusOK || a.header.Get("Content-Type") != tt.mime || (tt.body != "" && a.body != tt.body) {
			t.Errorf("file %s: %d %s", tt.name, a.status, a.header.Get("Content-Type"))
		}
	}
	if a := e.do(t, http.MethodGet, "/__admin/messages/"+id+"/files/nothing.txt", "", "", nil); a.status != http.StatusNotFound {
		t.Errorf("missing file: %d", a.status)
	}
	if a := e.do(t, http.MethodGet, "/__admin/messages/"+id+"/payload", "", "", nil); a.status != http.StatusOK || a.body != string(payload) {
		t.Errorf("payload: %d", a.status)
	}

	// What cannot be decoded says why.
	var bv dpo.MessageView
	if err := c.Message(ctx, broken, &bv); err != nil {
		t.Fatal(err)
	}
	if bv.SBD != nil || bv.SBDError == "" || bv.SBDRaw != `{"standardBusinessDocumentHeader":{}}` || bv.ASiC == nil ||
		!strings.Contains(bv.ASiC.Error, "not decrypted") || len(bv.ASiC.Files) != 0 {
		t.Errorf("broken: %+v %+v", bv, bv.ASiC)
	}
	var na dpo.MessageView
	if err := c.Message(ctx, notASiC, &na); err != nil || na.ASiC == nil || na.ASiC.DecryptedFor != orgB ||
		!strings.Contains(na.ASiC.Error, "not a readable ASiC-E container") || na.SBD != nil {
		t.Errorf("not an ASiC-E: %v %+v", err, na.ASiC)
	}
	var nz dpo.MessageView
	if err := c.Message(ctx, notZip, &nz); err != nil || !strings.Contains(nz.ZipError, "not a zip") {
		t.Errorf("not a zip: %v %+v", err, nz)
	}
	var ev dpo.MessageView
	if err := c.Message(ctx, empty, &ev); err != nil || ev.Entries != nil || ev.Transfer.Status != "Initialized" {
		t.Errorf("not uploaded: %v %+v", err, ev)
	}
	if err := c.Message(ctx, "5f0c7d2e-8a4e-4a57-9a43-2f7a2b3c4d5e", &ev); !admin.IsNotFound(err) {
		t.Errorf("unknown message: %v", err)
	}

	// Without keys the package is shown undecrypted.
	nokeys := newEnv(t, func(o *dpo.Options) { o.Keys, o.Credentials = nil, nil })
	w := nokeys.altinnToken(t, orgA, dpo.ScopeWrite)
	nid := nokeys.initialize(t, w, "/broker/api/v1/filetransfer", initBody(orgA, orgB))
	nokeys.upload(t, w, nid, payload)
	var nv dpo.MessageView
	if err := admin.NewClient(nokeys.ts.URL+admin.Prefix, nil).Message(ctx, nid, &nv); err != nil || nv.ASiC == nil ||
		!strings.Contains(nv.ASiC.Error, "Options.Keys") || nv.SBD == nil {
		t.Errorf("without keys: %v %+v", err, nv)
	}

	// Reset forgets the transfers.
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if a := e.do(t, http.MethodGet, "/broker/api/v1/filetransfer/"+id, aWrite, "", nil); a.status != http.StatusNotFound {
		t.Errorf("after reset: %d", a.status)
	}
	if len(e.srv.Transfers()) != 0 {
		t.Error("Transfers() after reset")
	}
}

// TestEviction: beyond MaxTransfers the oldest fully confirmed transfers go first, then the oldest.
func TestEviction(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *dpo.Options) { o.MaxTransfers = 3; o.MaxStoredBytes = 100 })
	aWrite := e.altinnToken(t, orgA, dpo.ScopeWrite)
	bRead := e.altinnToken(t, orgB, dpo.ScopeRead)
	send := func() string {
		id := e.initialize(t, aWrite, "/broker/api/v1/filetransfer", initBody(orgA, orgB))
		e.upload(t, aWrite, id, []byte("0123456789"))
		return id
	}
	first, second, third := send(), send(), send()
	e.do(t, http.MethodGet, "/broker/api/v1/filetransfer/"+second+"/download", bRead, "", nil)
	if a := e.do(t, http.MethodPost, "/broker/api/v1/filetransfer/"+second+"/confirmdownload", bRead, "", nil); a.status != http.StatusNoContent {
		t.Fatalf("confirm: %d %s", a.status, a.body)
	}
	fourth := send()
	ids := func() []string {
		var out []string
		for _, s := range e.srv.Transfers() {
			out = append(out, s.ID)
		}
		return out
	}
	if diff := cmp.Diff([]string{first, third, fourth}, ids()); diff != "" {
		t.Errorf("after the fourth (-want +got):\n%s", diff)
	}
	fifth := send()
	if diff := cmp.Diff([]string{third, fourth, fifth}, ids()); diff != "" {
		t.Errorf("after the fifth (-want +got):\n%s", diff)
	}
	var list dpo.TransferList
	if err := admin.NewClient(e.ts.URL+admin.Prefix, nil).Messages(context.Background(), &list); err != nil ||
		list.Evicted != 2 || list.EvictedUnconfirmed != 1 || list.StoredBytes != 30 {
		t.Errorf("counters: %v %+v", err, list)
	}
	// The byte bound: a 95-byte upload pushes out all but itself.
	big := e.initialize(t, aWrite, "/broker/api/v1/filetransfer", initBody(orgA, orgB))
	e.upload(t, aWrite, big, []byte(strings.Repeat("x", 95)))
	if diff := cmp.Diff([]string{big}, ids()); diff != "" {
		t.Errorf("after a big upload (-want +got):\n%s", diff)
	}
	if a := e.do(t, http.MethodGet, "/broker/api/v1/filetransfer/"+first, bRead, "", nil); a.status != http.StatusNotFound {
		t.Errorf("evicted: %d", a.status)
	}
}

// TestConcurrent: senders, a polling receiver and the inspection API at once (for the race detector).
func TestConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *dpo.Options) { o.MaxTransfers = 20 })
	aWrite := e.altinnToken(t, orgA, dpo.ScopeWrite)
	bRead := e.altinnToken(t, orgB, dpo.ScopeRead)
	done := make(chan struct{})
	var senders sync.WaitGroup
	for range 4 {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for range 10 {
				a := e.do(t, http.MethodPost, "/broker/api/v1/filetransfer/", aWrite, "application/json", initBody(orgA, orgB))
				var id dpo.FileTransferID
				if a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &id) != nil {
					t.Errorf("initialize: %d %s", a.status, a.body)
					return
				}
				if a := e.do(t, http.MethodPost, "/broker/api/v1/filetransfer/"+id.FileTransferID+"/upload", aWrite,
					"application/octet-stream", []byte("data")); a.status != http.StatusOK {
					t.Errorf("upload: %d %s", a.status, a.body)
				}
			}
		}()
	}
	go func() {
		defer close(done)
		for range 20 {
			a := e.do(t, http.MethodGet, "/broker/api/v1/filetransfer?resourceId="+dpo.DefaultResource+
				"&status=Published&recipientStatus=Initialized", bRead, "", nil)
			var ids []string
			if a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &ids) != nil {
				t.Errorf("list: %d %s", a.status, a.body)
				return
			}
			for _, id := range ids {
				e.do(t, http.MethodGet, "/broker/api/v1/filetransfer/"+id+"/download", bRead, "", nil)
				e.do(t, http.MethodPost, "/broker/api/v1/filetransfer/"+id+"/confirmdownload", bRead, "", nil)
				e.do(t, http.MethodGet, "/__admin/messages/"+id, "", "", nil)
			}
			e.do(t, http.MethodGet, "/__admin/messages", "", "", nil)
		}
	}()
	senders.Wait()
	<-done
	if n := len(e.srv.Transfers()); n != 20 {
		t.Errorf("%d transfers kept, want 20", n)
	}
}
