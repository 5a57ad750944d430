package dpo_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/dpo"
	"github.com/efm-harness/efm-harness/simulator/sample"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

func (e *env) inject(t testing.TB, body any) dpo.InjectResult {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	a := e.adminCall(t, http.MethodPost, "/inject", string(b))
	var res dpo.InjectResult
	if a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &res) != nil {
		t.Fatalf("inject %s: %d %s", b, a.status, a.body)
	}
	if uuid.Validate(res.FileTransferID) != nil || uuid.Validate(res.MessageID) != nil || uuid.Validate(res.ConversationID) != nil {
		t.Errorf("inject answer: %+v", res)
	}
	return res
}

// openPackage downloads an injected transfer as the receiver and opens it as the receiving integration
// point does: sbd.json, and asic.zip decrypted with the receiver's key and verified.
func (e *env) openPackage(t testing.TB, receiver, id string) (*wire.StandardBusinessDocument, *dokumentpakke.Container) {
	t.Helper()
	entries := e.fetch(t, receiver, id)
	sbd := parseSBD(t, entries)
	asic, ok := entries["asic.zip"]
	if !ok {
		return sbd, nil
	}
	c, err := dokumentpakke.Open(asic, credential(t, receiver).Key, dokumentpakke.ReadOptions{})
	if err != nil {
		t.Fatalf("open asic.zip: %v", err)
	}
	if !c.Signed || c.SignerCertificate == nil {
		t.Fatalf("asic.zip is not signed")
	}
	return sbd, c
}

func names(c *dokumentpakke.Container) []string {
	var out []string
	for _, f := range c.Files {
		out = append(out, f.Name+" "+f.MimeType)
	}
	return out
}

// TestInjectArkivmelding: without files the simulator generates arkivmelding.xml and the PDF it refers
// to, signs them as the sender and encrypts them to the receiver.
func TestInjectArkivmelding(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	res := e.inject(t, map[string]any{"sender": orgA, "receiver": orgB})

	got := e.srv.Transfers()
	if len(got) != 1 || got[0].ID != res.FileTransferID || got[0].Status != "Published" || got[0].Sender != "0192:"+orgA ||
		got[0].Recipients[0].Recipient != "0192:"+orgB || got[0].Recipients[0].Status != "Initialized" ||
		got[0].SendersFileTransferReference == nil || uuid.Validate(*got[0].SendersFileTransferReference) != nil {
		t.Fatalf("transfers: %+v", got)
	}
	if ids := e.list(t, e.altinnToken(t, orgB, dpo.ScopeRead), "&status=Published&recipientStatus=Initialized"); !cmp.Equal(ids, []string{res.FileTransferID}) {
		t.Errorf("B's poll: %v", ids)
	}
	sbd, c := e.openPackage(t, orgB, res.FileTransferID)
	if sbd.MessageID() != res.MessageID || sbd.ConversationID() != res.ConversationID || sbd.Type() != wire.TypeArkivmelding ||
		sbd.Process() != wire.ProcessArkivmeldingAdministrasjon || sbd.Standard() != wire.StandardArkivmelding ||
		sbd.SenderIdentifier() != "0192:"+orgA || sbd.ReceiverIdentifier() != "0192:"+orgB {
		t.Errorf("sbd: %+v", sbd.Header)
	}
	if exp, ok := sbd.ExpectedResponseDateTime(); !ok || !exp.Time.Equal(e.clock.Now().Add(24*time.Hour)) {
		t.Errorf("expectedResponseDateTime: %v", exp)
	}
	if am, ok := sbd.Message.(*wire.Arkivmelding); !ok || am.Hoveddokument != "arkivmelding.xml" {
		t.Errorf("payload: %+v", sbd.Message)
	}
	if !c.SignerCertificate.Equal(credential(t, orgA).Certificate) {
		t.Errorf("signer: %s", c.SignerCertificate.Subject)
	}
	if want := []string{"manifest.xml application/xml", "arkivmelding.xml application/xml", "dokument.pdf application/pdf"}; !cmp.Equal(names(c), want) {
		t.Errorf("files %v, want %v", names(c), want)
	}
	m, err := dokumentpakke.ParseManifest(c.File("manifest.xml").Content)
	if err != nil || m.Mottaker != "0192:"+orgB || m.Avsender != "0192:"+orgA || m.Hoveddokument == nil ||
		m.Hoveddokument.Href != "arkivmelding.xml" || m.Hoveddokument.Mime != "application/xml" {
		t.Errorf("manifest: %+v %v", m, err)
	}
	refs, err := sample.ReferencedFiles(c.File("arkivmelding.xml").Content)
	if err != nil || !cmp.Equal(refs, []string{"dokument.pdf"}) {
		t.Errorf("arkivmelding refers to %v (%v)\n%s", refs, err, c.File("arkivmelding.xml").Content)
	}
	if !strings.Contains(string(c.File("arkivmelding.xml").Content), "<meldingId>"+res.MessageID+"</meldingId>") {
		t.Errorf("arkivmelding.xml:\n%s", c.File("arkivmelding.xml").Content)
	}
	if pdf := c.File("dokument.pdf").Content; !strings.HasPrefix(string(pdf), "%PDF-1.4") || !strings.HasSuffix(string(pdf), "%%EOF\n") {
		t.Errorf("pdf: %q", pdf)
	}
}

// TestInjectFiles: given files arrive byte-identical with their MIME types, the primary document first;
// the SBD carries the given process, time to live and message channel.
func TestInjectFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	bin := make([]byte, 3000)
	if _, err := rand.Read(bin); err != nil {
		t.Fatal(err)
	}
	am := `<?xml version="1.0" encoding="UTF-8"?><arkivmelding xmlns="http://www.arkivverket.no/standarder/noark5/arkivmelding"/>`
	exp := "2027-01-02T03:04:05+01:00"
	res := e.inject(t, map[string]any{
		"sender": "0192:" + orgB, "receiver": orgA, "type": "arkivmelding", "process": wire.ProcessArkivmeldingTekniske,
		"messageChannel": "kanal-9", "expectedResponseDateTime": exp,
		"files": []map[string]any{
			{"name": "brev.pdf", "mimeType": "application/pdf", "base64": base64.StdEncoding.EncodeToString(bin)},
			{"name": "arkivmelding.xml", "mimeType": "text/xml", "text": am},
			{"name": "notat.txt", "text": "æøå"},
		},
	})
	sbd, c := e.openPackage(t, orgA, res.FileTransferID)
	if sbd.Process() != wire.ProcessArkivmeldingTekniske || sbd.MessageChannel() != "kanal-9" || sbd.SenderIdentifier() != "0192:"+orgB {
		t.Errorf("sbd: %+v", sbd.Header)
	}
	if got, ok := sbd.ExpectedResponseDateTime(); !ok || got.String() != exp {
		t.Errorf("expectedResponseDateTime %v, want %s", got, exp)
	}
	if am, ok := sbd.Message.(*wire.Arkivmelding); !ok || am.Hoveddokument != "arkivmelding.xml" {
		t.Errorf("payload: %+v", sbd.Message)
	}
	if !c.SignerCertificate.Equal(credential(t, orgB).Certificate) {
		t.Errorf("signer: %s", c.SignerCertificate.Subject)
	}
	want := []string{"manifest.xml application/xml", "arkivmelding.xml text/xml", "brev.pdf application/pdf", "notat.txt text/plain"}
	if !cmp.Equal(names(c), want) {
		t.Errorf("files %v, want %v", names(c), want)
	}
	if string(c.File("brev.pdf").Content) != string(bin) || string(c.File("arkivmelding.xml").Content) != am ||
		string(c.File("notat.txt").Content) != "æøå" {
		t.Error("the files are not byte-identical")
	}
	// A business message keeps a fresh reference even with a message channel (as the integration point).
	if s := e.srv.Transfers()[0]; s.SendersFileTransferReference == nil || uuid.Validate(*s.SendersFileTransferReference) != nil {
		t.Errorf("reference: %v", s.SendersFileTransferReference)
	}

	// A full SBD is used as it is; an avtalt with a file; a chosen primary document.
	full := fixtures.MustSBD(wire.TypeAvtalt, fixtures.SBDSpec{Sender: orgA, Receiver: orgB})
	fullJSON, _ := json.Marshal(full)
	res = e.inject(t, map[string]any{"sbd": json.RawMessage(fullJSON), "sendersFileTransferReference": "my-ref",
		"files": []map[string]any{{"name": "a.json", "text": `{"a":1}`}, {"name": "b.xml", "text": "<b/>", "primary": true}}})
	sbd, c = e.openPackage(t, orgB, res.FileTransferID)
	if res.MessageID != full.MessageID() || res.ConversationID != full.ConversationID() || sbd.Type() != wire.TypeAvtalt {
		t.Errorf("full sbd: %+v / %+v", res, sbd.Header)
	}
	if got := names(c); !cmp.Equal(got, []string{"manifest.xml application/xml", "b.xml application/xml", "a.json application/json"}) {
		t.Errorf("files %v", got)
	}
	if s := e.srv.Transfers()[1]; *s.SendersFileTransferReference != "my-ref" {
		t.Errorf("reference %s", *s.SendersFileTransferReference)
	}
	// An avtalt without files has no asic.zip.
	res = e.inject(t, map[string]any{"sender": orgA, "receiver": orgB, "type": "avtalt"})
	if entries := e.fetch(t, orgB, res.FileTransferID); len(entries) != 1 {
		t.Errorf("avtalt without files: %d entries", len(entries))
	}
}

// TestInjectReceipts: statuses and receipts by hand, answering a transfer or built from fields; a
// simulated receiver answers injected messages.
func TestInjectReceipts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *dpo.Options) { o.Credentials = nil })
	orig := fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{Sender: orgA, Receiver: orgB, MessageChannel: "kanal-2"})
	origID := e.send(t, orgA, orgB, sbdPayload(t, orig))

	levert := e.inject(t, map[string]any{"respondTo": origID, "status": "LEVERT"})
	kv := e.inject(t, map[string]any{"respondTo": origID, "type": "arkivmelding_kvittering", "receiptType": "warning",
		"messages": []map[string]string{{"code": "Recno", "text": "7"}}})
	byHand := e.inject(t, map[string]any{"sender": orgB, "receiver": orgA, "type": "status", "status": "MOTTATT",
		"messageId": orig.MessageID(), "conversationId": orig.ConversationID(), "messageChannel": "kanal-2"})
	kvByHand := e.inject(t, map[string]any{"sender": orgB, "receiver": orgA, "type": "arkivmelding_kvittering",
		"relatedToMessageId": orig.MessageID(), "receiptType": "ERROR"})

	if levert.MessageID != orig.MessageID() || levert.ConversationID != orig.ConversationID() ||
		kv.MessageID == orig.MessageID() || kv.ConversationID != orig.ConversationID() || byHand.MessageID != orig.MessageID() {
		t.Errorf("answers: %+v %+v %+v", levert, kv, byHand)
	}
	for _, tt := range []struct {
		res     dpo.InjectResult
		ref     string
		message wire.BusinessMessage
	}{
		{levert, "kanal-2", &wire.StatusMessage{Status: wire.StatusLevert}},
		{kv, "kanal-2", &wire.ArkivmeldingKvittering{ReceiptType: "WARNING", RelatedToMessageID: orig.MessageID(),
			Messages: []wire.KvitteringStatusMessage{{Code: "Recno", Text: "7"}}}},
		{byHand, "kanal-2", &wire.StatusMessage{Status: wire.StatusMottatt}},
		{kvByHand, "", &wire.ArkivmeldingKvittering{ReceiptType: "ERROR", RelatedToMessageID: orig.MessageID()}},
	} {
		sbd, c := e.openPackage(t, orgA, tt.res.FileTransferID)
		if c != nil || sbd.SenderIdentifier() != "0192:"+orgB || sbd.ReceiverIdentifier() != "0192:"+orgA ||
			sbd.Process() != wire.ProcessArkivmeldingResponse {
			t.Errorf("%s: %+v", tt.res.FileTransferID, sbd.Header)
		}
		if diff := cmp.Diff(tt.message, sbd.Message); diff != "" {
			t.Errorf("%s payload (-want +got):\n%s", tt.res.FileTransferID, diff)
		}
		var s dpo.TransferSummary
		for _, x := range e.srv.Transfers() {
			if x.ID == tt.res.FileTransferID {
				s = x
			}
		}
		if tt.ref != "" && *s.SendersFileTransferReference != tt.ref || tt.ref == "" && uuid.Validate(*s.SendersFileTransferReference) != nil {
			t.Errorf("%s reference %s, want %q", tt.res.FileTransferID, *s.SendersFileTransferReference, tt.ref)
		}
	}

	// An injected message to a simulated organisation is answered.
	e.setBehaviour(t, `{"organizations":{"`+orgA+`":{"mottatt":"0s"}}}`)
	res := e.inject(t, map[string]any{"sender": orgB, "receiver": orgA, "type": "avtalt"})
	answers := waitFor(t, e, orgA, 2)
	sbd := parseSBD(t, e.fetch(t, orgB, answers[1].ID))
	if sbd.MessageID() != res.MessageID || sbd.Type() != wire.TypeStatus || sbd.Process() != wire.ProcessAvtaltResponse {
		t.Errorf("answer to an injected message: %+v", sbd.Header)
	}
}

func TestInjectErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	noCreds := newEnv(t, func(o *dpo.Options) { o.Credentials = nil })
	unknown := "999999995"
	origID := e.send(t, orgA, orgB, sbdPayload(t, fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{Sender: orgA, Receiver: orgB})))
	for _, tt := range []struct {
		name string
		env  *env
		body string
		want string
	}{
		{"no sender", e, `{"receiver":"` + orgB + `"}`, "sender is required"},
		{"sender not an organisation", e, `{"sender":"abc","receiver":"` + orgB + `"}`, "sender"},
		{"unknown sender credentials", e, `{"sender":"` + unknown + `","receiver":"` + orgB + `"}`, "sender: no credentials"},
		{"unknown receiver credentials", e, `{"sender":"` + orgA + `","receiver":"` + unknown + `"}`, "receiver: no certificate"},
		{"no credentials at all", noCreds, `{"sender":"` + orgA + `","receiver":"` + orgB + `"}`, "Options.Credentials"},
		{"bad base64", e, `{"sender":"` + orgA + `","receiver":"` + orgB + `","files":[{"name":"a.pdf","base64":"***"}]}`, "files[0].base64"},
		{"text and base64", e, `{"sender":"` + orgA + `","receiver":"` + orgB + `","files":[{"name":"a.pdf","base64":"","text":""}]}`, "files[0]"},
		{"no file name", e, `{"sender":"` + orgA + `","receiver":"` + orgB + `","files":[{"text":"x"}]}`, "files[0].name"},
		{"manifest.xml", e, `{"sender":"` + orgA + `","receiver":"` + orgB + `","files":[{"name":"manifest.xml","text":"x"}]}`, "manifest.xml"},
		{"duplicate file", e, `{"sender":"` + orgA + `","receiver":"` + orgB + `","files":[{"name":"a","text":"x"},{"name":"a","text":"y"}]}`, "twice"},
		{"META-INF file", e, `{"sender":"` + orgA + `","receiver":"` + orgB + `","files":[{"name":"META-INF/x.xml","text":"x"}]}`, "META-INF"},
		{"unknown type", e, `{"sender":"` + orgA + `","receiver":"` + orgB + `","type":"brev"}`, "type"},
		{"type without default payload", e, `{"sender":"` + orgA + `","receiver":"` + orgB + `","type":"innsynskrav"}`, "payload is required"},
		{"bad payload", e, `{"sender":"` + orgA + `","receiver":"` + orgB + `","type":"status","payload":{"status":"NOPE"}}`, "payload"},
		{"status with files", e, `{"sender":"` + orgA + `","receiver":"` + orgB + `","type":"status","files":[{"name":"a","text":"x"}]}`, "no files"},
		{"bad status", e, `{"sender":"` + orgA + `","receiver":"` + orgB + `","type":"status","status":"LEST"}`, "status"},
		{"status on arkivmelding", e, `{"sender":"` + orgA + `","receiver":"` + orgB + `","status":"LEVERT"}`, "status belongs"},
		{"kvittering without relatedToMessageId", e, `{"sender":"` + orgA + `","receiver":"` + orgB + `","type":"arkivmelding_kvittering"}`, "relatedToMessageId"},
		{"bad receipt type", e, `{"sender":"` + orgA + `","receiver":"` + orgB + `","type":"arkivmelding_kvittering","relatedToMessageId":"x","receiptType":"FINE"}`, "receiptType"},
		{"bad expectedResponseDateTime", e, `{"sender":"` + orgA + `","receiver":"` + orgB + `","expectedResponseDateTime":"tomorrow"}`, "expectedResponseDateTime"},
		{"bad message channel", e, `{"sender":"` + orgA + `","receiver":"` + orgB + `","messageChannel":"a channel with spaces"}`, "not valid"},
		{"bad messageId", e, `{"sender":"` + orgA + `","receiver":"` + orgB + `","messageId":"not-a-uuid"}`, "not a UUID"},
		{"bad sbd", e, `{"sbd":{"standardBusinessDocumentHeader":{}}}`, "sbd"},
		{"sbd and sender", e, `{"sbd":{},"sender":"` + orgA + `"}`, "with sbd"},
		{"unknown respondTo", e, `{"respondTo":"` + uuid.NewString() + `"}`, "respondTo"},
		{"respondTo with an arkivmelding", e, `{"respondTo":"` + origID + `","type":"arkivmelding"}`, "respondTo"},
		{"respondTo with sender", e, `{"respondTo":"` + origID + `","sender":"` + orgA + `"}`, "respondTo"},
		{"unknown field", e, `{"sender":"` + orgA + `","receiver":"` + orgB + `","colour":"red"}`, "colour"},
		{"not JSON", e, `{`, "inject"},
	} {
		a := tt.env.adminCall(t, http.MethodPost, "/inject", tt.body)
		if a.status != http.StatusBadRequest || !strings.Contains(a.body, tt.want) {
			t.Errorf("%s: %d %s, want 400 naming %q", tt.name, a.status, a.body, tt.want)
		}
	}
	if got := e.srv.Transfers(); len(got) != 1 {
		t.Errorf("refused injections stored transfers: %+v", got)
	}
	if got := noCreds.srv.Transfers(); len(got) != 0 {
		t.Errorf("refused injections stored transfers: %+v", got)
	}
}

// TestInspectWithCredentials: without Options.Keys the inspection API decrypts with Options.Credentials.
func TestInspectWithCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *dpo.Options) {
		o.Keys = nil
		o.Credentials = func(orgnr string) (*rsa.PrivateKey, *x509.Certificate, bool) {
			c, ok := testPKI().Get(orgnr)
			return c.Key, c.Certificate, ok
		}
	})
	res := e.inject(t, map[string]any{"sender": orgA, "receiver": orgB})
	a := e.adminCall(t, http.MethodGet, "/messages/"+res.FileTransferID, "")
	var v dpo.MessageView
	if a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &v) != nil || v.ASiC == nil || !v.ASiC.Signed ||
		v.ASiC.DecryptedFor != orgB || len(v.ASiC.Files) != 3 {
		t.Errorf("inspection: %d %s", a.status, a.body)
	}
}
