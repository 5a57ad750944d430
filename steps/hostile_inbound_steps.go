package steps

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"
	"github.com/google/uuid"
)

func registerHostileInboundSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the DPO broker offers organisation ([AB]), from "([^"]*)", this batch:$`, dpoOffersBatch)
	sc.Step(`^SvarInn offers organisation ([AB]), from "([^"]*)", this batch:$`, svarInnOffersBatch)
	sc.Step(`^archive system ([AB]) receives every good message of the batch: it peeks, pops and deletes each$`, receivesGoodOfBatch)
	sc.Step(`^no hostile message of the batch is in archive system ([AB])'s in-queue or has a status there$`, noHostileInQueue)
	sc.Step(`^archive system ([AB]) never gets a hostile document package: each is not in its in-queue, or its pop fails and it ends FEIL$`, neverGetsHostileContent)
	sc.Step(`^the DPO broker shows every transfer of the batch downloaded by organisation ([AB]), and the good ones confirmed$`, dpoBatchDownloaded)
	sc.Step(`^SvarInn shows the good forsendelser of the batch acknowledged, and the hostile ones not$`, func(ctx context.Context) error {
		return svarInnBatchShows(ctx, false)
	})
	sc.Step(`^SvarInn shows every hostile forsendelse of the batch reported with mottakFeilet, and the good ones acknowledged$`, func(ctx context.Context) error {
		return svarInnBatchShows(ctx, true)
	})
	sc.Step(`^nothing was written outside the integration point's data directory$`, nothingWrittenOutside)
}

// bombSize is what a zip bomb of the scenarios unpacks to: twice the integration point's 1 GiB bound,
// in about 2 MiB.
const bombSize = 2 << 30

// hostileDir is the directory a hostile entry name points at; nothing may appear there.
const hostileDir = "/tmp"

// batchItem is one package of a batch a broker offers.
type batchItem struct {
	kind string
	good bool
	// id is the broker's id (DPO fileTransferId, SvarInn forsendelse id); messageID the messageId the
	// integration point would give the message, when the package says it.
	id, messageID string
}

// inboundBatch is what a scenario offered an integration point and which files it must never write.
type inboundBatch struct {
	party string
	items []batchItem
	// paths are the absolute paths hostile entry names resolve to.
	paths []string
}

type batchKey struct{}

func batchOf(ctx context.Context) (*inboundBatch, error) {
	b, ok := ctx.Value(batchKey{}).(*inboundBatch)
	if !ok {
		return nil, errors.New("the scenario offered no batch")
	}
	return b, nil
}

// hostileName is a fresh file name in hostileDir, as an absolute path and as a ../ path that reaches it
// from any directory less than 16 levels deep.
func (b *inboundBatch) hostileName(ext string) (abs, rel string) {
	name := "efm-harness-hostile-" + uuid.NewString() + ext
	abs = hostileDir + "/" + name
	b.paths = append(b.paths, abs)
	return abs, strings.Repeat("../", 16) + strings.TrimPrefix(hostileDir, "/") + "/" + name
}

var bomb struct {
	once   sync.Once
	stream []byte // raw deflate of bombSize zero bytes
	crc    uint32
}

// bombStream is a raw deflate stream of bombSize zero bytes and its CRC-32, made once: one MiB of zeros
// compressed after another compresses to the same bytes, so the stream is the first MiB, the second
// repeated, and the end block.
func bombStream() ([]byte, uint32) {
	bomb.once.Do(func() {
		const chunk = 1 << 20
		zero := make([]byte, chunk)
		var buf bytes.Buffer
		fw, _ := flate.NewWriter(&buf, flate.BestCompression)
		_, _ = fw.Write(zero)
		_ = fw.Flush()
		first := buf.Len()
		_, _ = fw.Write(zero)
		_ = fw.Flush()
		second := buf.Len()
		_ = fw.Close()
		head, rep, tail := buf.Bytes()[:first], buf.Bytes()[first:second], buf.Bytes()[second:]
		out := make([]byte, 0, first+(bombSize/chunk-1)*len(rep)+len(tail))
		out = append(out, head...)
		crc := crc32.Update(0, crc32.IEEETable, zero)
		for range bombSize/chunk - 1 {
			out = append(out, rep...)
			crc = crc32.Update(crc, crc32.IEEETable, zero)
		}
		bomb.stream, bomb.crc = append(out, tail...), crc
	})
	return bomb.stream, bomb.crc
}

// zipEntry is one entry of a zip a step builds.
type zipEntry struct {
	name    string
	content []byte
	bomb    bool // bombSize zero bytes, deflated, with honest sizes and CRC
	store   bool
}

// buildZip writes entries in order; names are used as they are, hostile or not.
func buildZip(entries ...zipEntry) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		switch {
		case e.bomb:
			stream, crc := bombStream()
			w, err := zw.CreateRaw(&zip.FileHeader{Name: e.name, Method: zip.Deflate, CRC32: crc,
				CompressedSize64: uint64(len(stream)), UncompressedSize64: bombSize})
			if err != nil {
				return nil, err
			}
			if _, err := w.Write(stream); err != nil {
				return nil, err
			}
		default:
			h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
			if e.store {
				h.Method = zip.Store
			}
			w, err := zw.CreateHeader(h)
			if err != nil {
				return nil, err
			}
			if _, err := w.Write(e.content); err != nil {
				return nil, err
			}
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// junk is n random bytes after a DER SEQUENCE header, as a broken CMS structure looks.
func junk(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return append([]byte{0x30, 0x82, 0x01, 0xfc}, b...)
}

// arkivmeldingSBD is an sbd.json of an arkivmelding from sender to receiver with messageId id; without
// business, it has no business message.
func arkivmeldingSBD(sender, receiver, id string, business bool) []byte {
	now := time.Now()
	sbd := fmt.Sprintf(`{"standardBusinessDocumentHeader": {"headerVersion": "1.0",
	  "sender": [{"identifier": {"authority": "iso6523-actorid-upis", "value": "0192:%s"}}],
	  "receiver": [{"identifier": {"authority": "iso6523-actorid-upis", "value": "0192:%s"}}],
	  "documentIdentification": {"standard": "urn:no:difi:arkivmelding:xsd::arkivmelding", "typeVersion": "2.0",
	    "instanceIdentifier": %q, "type": "arkivmelding", "creationDateAndTime": %q},
	  "businessScope": {"scope": [{"type": "ConversationId", "instanceIdentifier": %q,
	    "identifier": "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0",
	    "scopeInformation": [{"expectedResponseDateTime": %q}]}]}}`,
		sender, receiver, id, now.Format(time.RFC3339), uuid.NewString(), now.Add(time.Hour).Format(time.RFC3339))
	if business {
		sbd += `, "arkivmelding": {"hoveddokument": "dokument.pdf", "sikkerhetsnivaa": 3}`
	}
	return []byte(sbd + "}")
}

// unsignedASiC is an ASiC-E holding dokument.pdf and a file named name, with an ASiC manifest listing
// both and a signature that is not one.
func unsignedASiC(name string) ([]byte, error) {
	pdf := []byte("%PDF-1.4 efm-harness hostile")
	digest := func(b []byte) string { s := sha256.Sum256(b); return base64.StdEncoding.EncodeToString(s[:]) }
	sig := "META-INF/signature-" + uuid.NewString() + ".p7s"
	manifest := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<ASiCManifest xmlns="http://uri.etsi.org/02918/v1.2.1#" xmlns:ns2="http://www.w3.org/2000/09/xmldsig#">
<SigReference URI="` + sig + `" MimeType="application/x-pkcs7-signature"/>
<DataObjectReference URI="dokument.pdf" MimeType="application/pdf"><ns2:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ns2:DigestValue>` + digest(pdf) + `</ns2:DigestValue></DataObjectReference>
<DataObjectReference URI="` + name + `" MimeType="text/plain"><ns2:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ns2:DigestValue>` + digest([]byte("evil")) + `</ns2:DigestValue></DataObjectReference>
</ASiCManifest>`
	return buildZip(zipEntry{name: "mimetype", content: []byte("application/vnd.etsi.asic-e+zip"), store: true},
		zipEntry{name: "dokument.pdf", content: pdf}, zipEntry{name: name, content: []byte("evil")},
		zipEntry{name: "META-INF/asicmanifest.xml", content: []byte(manifest)}, zipEntry{name: sig, content: junk(256)})
}

// dpoOffersBatch puts the table's packages, in order, at the DPO broker for integration point p's
// organisation, from the organisation from.
func dpoOffersBatch(ctx context.Context, p, from string, table *godog.Table) (context.Context, error) {
	w := getWorld(ctx)
	sender, receiver, err := w.parties(ctx, from, p)
	if err != nil {
		return ctx, err
	}
	b := &inboundBatch{party: p}
	dpo := w.admin("dpo")
	for i, row := range table.Rows {
		kind := row.Cells[0].Value
		if i == 0 && kind == "package" {
			continue
		}
		it := batchItem{kind: kind}
		if kind == "a good arkivmelding" {
			out, err := w.injectDPO(ctx, sender, receiver, nil)
			if err != nil {
				return ctx, fmt.Errorf("%s: %w", kind, err)
			}
			it.good, it.id, it.messageID = true, out.FileTransferID, out.MessageID
			b.items = append(b.items, it)
			continue
		}
		if kind == "an ASiC-E entry with ../ in its name" { // signed by the sender: only the name is hostile
			_, rel := b.hostileName(".txt")
			out, err := w.injectDPO(ctx, sender, receiver, map[string]any{
				"files": []map[string]any{{"name": "dokument.pdf", "text": "%PDF-1.4 efm-harness", "primary": true},
					{"name": rel, "mimeType": "text/plain", "text": "evil"}}})
			if err != nil {
				return ctx, fmt.Errorf("%s: %w", kind, err)
			}
			it.id, it.messageID = out.FileTransferID, out.MessageID
			b.items = append(b.items, it)
			continue
		}
		req := map[string]any{"sender": sender, "receiver": receiver}
		withSBD := func() {
			it.messageID = uuid.NewString()
			req["sbd"] = arkivmeldingSBD(sender, receiver, it.messageID, true)
		}
		switch kind {
		case "an sbd.zip that is not a zip":
			req["package"] = []byte("PK\x03\x04 this is not a zip")
		case "an sbd.zip zip bomb":
			if req["package"], err = buildZip(zipEntry{name: "sbd.json", bomb: true}); err != nil {
				return ctx, err
			}
		case "an sbd.zip with ../ and absolute entry names":
			abs, rel := b.hostileName("-sbd.json")
			abs2, _ := b.hostileName("-asic.zip")
			if req["package"], err = buildZip(zipEntry{name: rel, content: arkivmeldingSBD(sender, receiver, uuid.NewString(), true)},
				zipEntry{name: abs2, content: junk(64)}, zipEntry{name: abs, content: []byte("{}")}); err != nil {
				return ctx, err
			}
		case "an sbd.json that does not parse":
			req["sbd"] = []byte(`{"standardBusinessDocumentHeader": {"headerVersion": "1.0",`)
		case "an SBD without a business message":
			it.messageID = uuid.NewString()
			req["sbd"] = arkivmeldingSBD(sender, receiver, it.messageID, false)
		case "an SBD whose messageId is not a UUID":
			req["sbd"] = arkivmeldingSBD(sender, receiver, "efm-harness-not-a-uuid", true)
		case "an asic.zip that is not CMS":
			withSBD()
			req["asic"] = junk(512)
		case "an ASiC-E that is not a zip":
			withSBD()
			req["container"] = []byte("this is not a zip")
		case "an ASiC-E zip bomb":
			withSBD()
			if req["container"], err = buildZip(zipEntry{name: "mimetype", content: []byte("application/vnd.etsi.asic-e+zip"), store: true},
				zipEntry{name: "dokument.pdf", bomb: true}); err != nil {
				return ctx, err
			}
		case "an ASiC-E with a bad signature":
			withSBD()
			if req["container"], err = unsignedASiC("vedlegg.txt"); err != nil {
				return ctx, err
			}
		case "an ASiC-E entry with an absolute path":
			withSBD()
			abs, _ := b.hostileName(".txt")
			if req["container"], err = unsignedASiC(abs); err != nil {
				return ctx, err
			}
		default:
			return ctx, fmt.Errorf("unknown package %q", kind)
		}
		var out struct {
			FileTransferID string `json:"fileTransferId"`
		}
		if err := dpo.InjectRaw(ctx, req, &out); err != nil {
			return ctx, fmt.Errorf("%s: %w", kind, err)
		}
		it.id = out.FileTransferID
		b.items = append(b.items, it)
		// The broker lists transfers by creation time; keep the table's order.
		time.Sleep(2 * time.Millisecond)
	}
	return context.WithValue(ctx, batchKey{}, b), nil
}

// svarInnOffersBatch puts the table's forsendelser, in order, in SvarInn for integration point p's
// organisation, from the organisation from.
func svarInnOffersBatch(ctx context.Context, p, from string, table *godog.Table) (context.Context, error) {
	w := getWorld(ctx)
	sender, receiver, err := w.parties(ctx, from, p)
	if err != nil {
		return ctx, err
	}
	b := &inboundBatch{party: p}
	for i, row := range table.Rows {
		kind := row.Cells[0].Value
		if i == 0 && kind == "forsendelse" {
			continue
		}
		it := batchItem{kind: kind}
		req := map[string]any{"sender": sender, "senderName": "Kommunen " + sender, "receiver": receiver,
			"tittel": fmt.Sprintf("Forsendelse %d: %s", i, kind)}
		switch kind {
		case "a good forsendelse":
			it.good = true
			req["files"] = []map[string]string{{"name": "vedtak.pdf", "mimeType": "application/pdf", "text": "%PDF-1.4 vedtak"}}
		case "a zip bomb":
			if req["zip"], err = buildZip(zipEntry{name: "vedtak.pdf", bomb: true}); err != nil {
				return ctx, err
			}
		case "a zip entry with ../ in its name":
			_, rel := b.hostileName(".pdf")
			if req["zip"], err = buildZip(zipEntry{name: rel, content: []byte("%PDF-1.4 evil")}); err != nil {
				return ctx, err
			}
		case "a zip entry with an absolute path":
			abs, _ := b.hostileName(".pdf")
			if req["zip"], err = buildZip(zipEntry{name: abs, content: []byte("%PDF-1.4 evil")}); err != nil {
				return ctx, err
			}
		case "a download that is not CMS":
			req["download"] = junk(512)
		case "a ZIP that is not a ZIP":
			req["zip"] = []byte("PK\x03\x04 this is not a zip")
		default:
			return ctx, fmt.Errorf("unknown forsendelse %q", kind)
		}
		var out struct {
			ID string `json:"id"`
		}
		if err := w.admin("dpf").Inject(ctx, req, &out); err != nil {
			return ctx, fmt.Errorf("%s: %w", kind, err)
		}
		it.id, it.messageID = out.ID, out.ID // SvarInn's id becomes the messageId
		b.items = append(b.items, it)
	}
	return context.WithValue(ctx, batchKey{}, b), nil
}

// receivesGoodOfBatch waits for each good message of the batch in p's in-queue, then pops it (an
// ASiC-E) and deletes it.
func receivesGoodOfBatch(ctx context.Context, p string) error {
	w := getWorld(ctx)
	b, err := batchOf(ctx)
	if err != nil {
		return err
	}
	base, err := w.party(p)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(w.cfg.timeout())
	for _, it := range b.items {
		if !it.good {
			continue
		}
		for {
			found, err := w.peek(ctx, p, it.messageID)
			if err != nil {
				return err
			}
			if found {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the good message %s (%s) did not arrive in %s's in-queue within %v", it.messageID, it.id, p, w.cfg.timeout())
			}
			time.Sleep(25 * time.Millisecond)
		}
		r, err := w.do(ctx, http.MethodGet, base+"/api/messages/in/pop/"+it.messageID, nil, nil)
		if err != nil {
			return err
		}
		if r.Status != http.StatusOK {
			return fmt.Errorf("pop of the good message %s answered %d: %.300s", it.messageID, r.Status, r.Body)
		}
		if _, err := zip.NewReader(bytes.NewReader(r.Body), int64(len(r.Body))); err != nil {
			return fmt.Errorf("the popped good message %s is not a zip: %w", it.messageID, err)
		}
		if r, err = w.do(ctx, http.MethodDelete, base+"/api/messages/in/"+it.messageID, nil, nil); err != nil {
			return err
		}
		if r.Status != http.StatusOK {
			return fmt.Errorf("delete of the good message %s answered %d: %.300s", it.messageID, r.Status, r.Body)
		}
	}
	return nil
}

// inQueue lists the messageIds in p's in-queue.
func (w *world) inQueue(ctx context.Context, p string) ([]string, error) {
	base, err := w.party(p)
	if err != nil {
		return nil, err
	}
	r, err := w.do(ctx, http.MethodGet, base+"/api/messages/in?size=1000", nil, nil)
	if err != nil {
		return nil, err
	}
	if r.Status != http.StatusOK {
		return nil, fmt.Errorf("the in-queue listing answered %d: %.300s", r.Status, r.Body)
	}
	var page struct {
		Content []struct {
			Header struct {
				DocumentIdentification struct {
					InstanceIdentifier string `json:"instanceIdentifier"`
				} `json:"documentIdentification"`
			} `json:"standardBusinessDocumentHeader"`
		} `json:"content"`
	}
	if err := json.Unmarshal(r.Body, &page); err != nil {
		return nil, fmt.Errorf("the in-queue listing: %w", err)
	}
	var ids []string
	for _, c := range page.Content {
		ids = append(ids, c.Header.DocumentIdentification.InstanceIdentifier)
	}
	return ids, nil
}

// statusesOf lists the statuses p has for messageId, oldest first.
func (w *world) statusesOf(ctx context.Context, p, messageID string) ([]string, error) {
	base, err := w.party(p)
	if err != nil {
		return nil, err
	}
	r, err := w.do(ctx, http.MethodGet, base+"/api/statuses/"+messageID+"?size=100", nil, nil)
	if err != nil {
		return nil, err
	}
	var page struct {
		Content []struct {
			Status string `json:"status"`
		} `json:"content"`
	}
	if err := json.Unmarshal(r.Body, &page); err != nil {
		return nil, fmt.Errorf("statuses of %s at %s (%d): %w", messageID, p, r.Status, err)
	}
	var out []string
	for _, s := range page.Content {
		out = append(out, s.Status)
	}
	return out, nil
}

// noHostileInQueue checks, after the good messages arrived, that p's in-queue holds none of the
// batch's hostile messages and that none of those has a status at p.
func noHostileInQueue(ctx context.Context, p string) error {
	w := getWorld(ctx)
	b, err := batchOf(ctx)
	if err != nil {
		return err
	}
	ids, err := w.inQueue(ctx, p)
	if err != nil {
		return err
	}
	for _, it := range b.items {
		if it.good || it.messageID == "" {
			continue
		}
		if slices.Contains(ids, it.messageID) {
			return fmt.Errorf("%s's in-queue holds the hostile message %q (%s)", p, it.kind, it.messageID)
		}
		st, err := w.statusesOf(ctx, p, it.messageID)
		if err != nil {
			return err
		}
		if len(st) > 0 {
			return fmt.Errorf("the hostile message %q (%s) has the statuses %v at %s", it.kind, it.messageID, st, p)
		}
	}
	return nil
}

// neverGetsHostileContent checks each hostile message of the batch: either it is not in p's in-queue
// and has no INNKOMMENDE_MOTTATT there (the reference integration point checks the package when it
// receives it), or popping it fails and its statuses end with FEIL (the real one stores the package
// unread and finds it broken when the archive system pops it, ip-api §7.4).
func neverGetsHostileContent(ctx context.Context, p string) error {
	w := getWorld(ctx)
	b, err := batchOf(ctx)
	if err != nil {
		return err
	}
	base, err := w.party(p)
	if err != nil {
		return err
	}
	for _, it := range b.items {
		if it.good || it.messageID == "" {
			continue
		}
		found, err := w.peek(ctx, p, it.messageID)
		if err != nil {
			return err
		}
		if !found {
			st, err := w.statusesOf(ctx, p, it.messageID)
			if err != nil {
				return err
			}
			if slices.Contains(st, "INNKOMMENDE_MOTTATT") && (len(st) == 0 || st[len(st)-1] != "FEIL") {
				return fmt.Errorf("the hostile message %q (%s) was received (%v) but is not in the in-queue", it.kind, it.messageID, st)
			}
			continue
		}
		r, err := w.do(ctx, http.MethodGet, base+"/api/messages/in/pop/"+it.messageID, nil, nil)
		if err != nil {
			return err
		}
		if r.Status == http.StatusOK {
			return fmt.Errorf("archive system %s popped the hostile message %q (%s): %d bytes", p, it.kind, it.messageID, len(r.Body))
		}
		if err := statusesAtEndWith(ctx, w, p, it.messageID, "FEIL"); err != nil {
			return fmt.Errorf("the hostile message %q: %w", it.kind, err)
		}
	}
	return nil
}

// statusesAtEndWith waits until the last status of messageID at p is want.
func statusesAtEndWith(ctx context.Context, w *world, p, messageID, want string) error {
	deadline := time.Now().Add(w.cfg.timeout())
	for {
		st, err := w.statusesOf(ctx, p, messageID)
		if err != nil {
			return err
		}
		if len(st) > 0 && st[len(st)-1] == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("statuses of %s at %s are %v, want them to end with %s", messageID, p, st, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dpoBatchDownloaded waits until the DPO broker shows that p's organisation downloaded every transfer
// of the batch (it looked at each, however bad) and confirmed every good one.
func dpoBatchDownloaded(ctx context.Context, p string) error {
	w := getWorld(ctx)
	b, err := batchOf(ctx)
	if err != nil {
		return err
	}
	org, err := w.orgOf(ctx, p)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(w.cfg.timeout())
	for {
		var list struct {
			Transfers []struct {
				ID         string `json:"id"`
				Recipients []struct {
					Recipient string `json:"recipient"`
					Status    string `json:"status"`
				} `json:"recipients"`
			} `json:"transfers"`
		}
		if err := w.admin("dpo").Do(ctx, http.MethodGet, "/messages?recipient="+org, nil, &list); err != nil {
			return err
		}
		status := map[string]string{}
		for _, t := range list.Transfers {
			for _, rc := range t.Recipients {
				if strings.HasSuffix(rc.Recipient, org) {
					status[t.ID] = rc.Status
				}
			}
		}
		var problems []string
		for _, it := range b.items {
			st := status[it.id]
			switch {
			case it.good && st != "DownloadConfirmed":
				problems = append(problems, fmt.Sprintf("%s %s is %q, want DownloadConfirmed", it.kind, it.id, st))
			case !it.good && st != "DownloadStarted" && st != "DownloadConfirmed":
				problems = append(problems, fmt.Sprintf("%s %s is %q, want it downloaded", it.kind, it.id, st))
			}
		}
		if len(problems) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("at the DPO broker, for %s: %s", org, strings.Join(problems, "; "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// svarInnBatchShows waits until SvarInn shows every good forsendelse of the batch acknowledged and no
// hostile one acknowledged; with reported, every hostile one reported with mottakFeilet too (the real IP
// never calls it: it leaves a forsendelse it cannot take to be listed again).
func svarInnBatchShows(ctx context.Context, reported bool) error {
	w := getWorld(ctx)
	b, err := batchOf(ctx)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(w.cfg.timeout())
	for {
		var problems []string
		for _, it := range b.items {
			var v struct {
				Acknowledged bool            `json:"acknowledged"`
				MottakFeilet json.RawMessage `json:"mottakFeilet"`
			}
			if err := w.admin("dpf").Message(ctx, it.id, &v); err != nil {
				return err
			}
			failed := len(v.MottakFeilet) > 0 && string(v.MottakFeilet) != "null"
			switch {
			case it.good && (!v.Acknowledged || failed):
				problems = append(problems, fmt.Sprintf("%s %s: acknowledged=%v, mottakFeilet=%s", it.kind, it.id, v.Acknowledged, v.MottakFeilet))
			case !it.good && (v.Acknowledged || (reported && !failed)):
				problems = append(problems, fmt.Sprintf("%s %s: acknowledged=%v, mottakFeilet=%s", it.kind, it.id, v.Acknowledged, v.MottakFeilet))
			}
		}
		if len(problems) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("SvarInn: %s", strings.Join(problems, "; "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// nothingWrittenOutside checks that no file named by a hostile entry exists. It can only see files on
// this machine: against an integration point elsewhere it proves nothing.
func nothingWrittenOutside(ctx context.Context) error {
	b, err := batchOf(ctx)
	if err != nil {
		return err
	}
	if len(b.paths) == 0 {
		return errors.New("the batch named no hostile path")
	}
	for _, p := range b.paths {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s was written", p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}
