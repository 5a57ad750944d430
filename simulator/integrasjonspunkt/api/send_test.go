package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/sample"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// TestSendValidation is the send-time catalogue (spec ip-api §4.7 send rules).
func TestSendValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, enable(wire.ServiceDPI))
	pdf := sample.PDF("x")

	noFiles := e.mustCreate(sbdFor(t, wire.TypeArkivmelding, dpoOrg)).MessageID()

	noArkivmelding := e.mustCreate(sbdFor(t, wire.TypeArkivmelding, dpoOrg)).MessageID()
	e.mustUpload(noArkivmelding, "application/pdf", `attachment; filename=brev.pdf`, pdf)

	missingRefs := e.mustCreate(sbdFor(t, wire.TypeArkivmelding, dpoOrg)).MessageID()
	e.mustUpload(missingRefs, "application/xml", `attachment; filename=arkivmelding.xml`, arkivmeldingXML(t, "a.pdf", "b.pdf", "c.pdf"))
	e.mustUpload(missingRefs, "application/pdf", `attachment; filename=b.pdf`, pdf)

	digital := sbdFor(t, wire.TypeDigital, citizen)
	digital.Message.(*wire.Digital).MetadataFiler = map[string]string{"brev.pdf": "meta.xml", "vedlegg.pdf": "meta2.xml"}
	metadataMissing := e.mustCreate(digital).MessageID()
	e.mustUpload(metadataMissing, "application/pdf", `attachment; filename=brev.pdf`, pdf)
	e.mustUpload(metadataMissing, "text/xml", `attachment; filename=meta.xml`, []byte("<m/>"))

	noPrimary := e.mustCreate(sbdFor(t, wire.TypeDigital, citizen)).MessageID()
	e.mustUpload(noPrimary, "application/pdf", `attachment; name=Vedlegg; filename=vedlegg.pdf`, pdf)

	okDigital := e.mustCreate(sbdFor(t, wire.TypeDigital, citizen)).MessageID()
	e.mustUpload(okDigital, "application/pdf", `attachment; filename=brev.pdf`, pdf)

	tests := []struct {
		name, messageID    string
		status             int
		exception, message string
	}{
		{name: "unknown message", messageID: "1f0c7a4e-1111-4a2c-9b3b-64c2e7a3e4f0", status: 404, exception: exMessageNotFound,
			message: "Message with messageId = 1f0c7a4e-1111-4a2c-9b3b-64c2e7a3e4f0 was not found"},
		{name: "no files", messageID: noFiles, status: 400, exception: exMissingFile, message: "There must always be at least one attachment"},
		{name: "no arkivmelding.xml", messageID: noArkivmelding, status: 400, exception: exMissingArkivmelding,
			message: "DPO message type requires arkivmelding.xml attachment"},
		{name: "files of the arkivmelding missing", messageID: missingRefs, status: 400, exception: exMissingArkivmeldingFile,
			message: "File(s) defined in arkivmelding, but not found in message: a.pdf,c.pdf"},
		{name: "metadata files missing", messageID: metadataMissing, status: 404, exception: exFileNotFound,
			message: "File(s) named meta2.xml, vedlegg.pdf was not found"},
		{name: "no primary document", messageID: noPrimary, status: 400, exception: exMissingPrimaryDocument,
			message: "Missing a primary document. Please specify the hoveddokument property"},
		{name: "digital", messageID: okDigital, status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.send(tt.messageID)
			if tt.status == http.StatusOK {
				if r.status != http.StatusOK {
					t.Fatalf("send: %d %s", r.status, r.body)
				}
				return
			}
			expectError(t, r, tt.status, tt.exception, tt.message)
		})
	}
	c, err := e.store.ConversationByMessageID(context.Background(), okDigital, store.Outgoing)
	if err != nil || c.MessageTitle != "Vedtak om tilskudd" {
		t.Errorf("digital title = %q (%v)", c.MessageTitle, err)
	}
	if counts, _ := e.store.Counts(context.Background()); counts.Queued != 1 {
		t.Errorf("queued = %d, want only the valid message", counts.Queued)
	}
}

// TestSendExpired registers LEVETID_UTLOPT and refuses with TimeToLiveException when the time to live has
// passed between create and send; the message stays in the outbox.
func TestSendExpired(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sbd := e.mustCreate(sbdFor(t, wire.TypeArkivmelding, dpoOrg, func(s *fixtures.SBDSpec) { s.TTL = time.Minute }))
	id := sbd.MessageID()
	e.mustUpload(id, "application/xml", `attachment; filename=arkivmelding.xml`, arkivmeldingXML(t, "arkivmelding.xml"))
	e.clock.Advance(2 * time.Minute)
	erdt, _ := sbd.ExpectedResponseDateTime()
	expectError(t, e.send(id), 400, exTimeToLive,
		"ExpectedResponseDateTime "+erdt.String()+" has been exceeded. Please resend the message")

	c, err := e.store.ConversationByMessageID(context.Background(), id, store.Outgoing)
	if err != nil {
		t.Fatal(err)
	}
	type st struct {
		Status      wire.ReceiptStatus
		Description string
	}
	var got []st
	for _, s := range c.Statuses {
		got = append(got, st{s.Status, s.Description})
	}
	want := []st{{wire.StatusOpprettet, ""}, {wire.StatusLevetidUtlopt, "Levetiden for meldingen er utgått. Må sendes på nytt"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if !c.Finished {
		t.Error("conversation not finished")
	}
	if _, err := e.store.Outgoing(context.Background(), id); err != nil {
		t.Errorf("message left the outbox: %v", err)
	}
	if diff := cmp.Diff([]wire.ReceiptStatus{wire.StatusOpprettet, wire.StatusLevetidUtlopt}, e.statusEvents()); diff != "" {
		t.Errorf("OnStatus (-want +got):\n%s", diff)
	}
	// The status page shows it too.
	var p page[messageStatusView]
	decode(t, e.get("/api/statuses/"+id), &p)
	if len(p.Content) != 2 || p.Content[1].Status != wire.StatusLevetidUtlopt || p.Content[1].Description == "" {
		t.Errorf("status page = %+v", p.Content)
	}
}

// TestMultipartValidation covers the multipart endpoint's own errors.
func TestMultipartValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sbdPart := func(mod func(*wire.StandardBusinessDocument)) part {
		sbd := sbdFor(t, wire.TypeArkivmelding, dpoOrg)
		if mod != nil {
			mod(sbd)
		}
		b, _ := json.Marshal(sbd)
		return part{name: "sbd", content: b}
	}
	am := part{name: "Arkivmelding", filename: "arkivmelding.xml", contentType: "application/xml", content: arkivmeldingXML(t, "arkivmelding.xml")}

	t.Run("wrong content type", func(t *testing.T) {
		r := e.postJSON("/api/messages/out/multipart", []byte(`{}`))
		expectError(t, r, 415, exMediaTypeNotSupported, "Content-Type 'application/json' is not supported")
	})
	t.Run("no sbd", func(t *testing.T) {
		expectError(t, e.multipart(am), 400, exMissingParameter, "Required request parameter 'sbd'")
	})
	t.Run("sbd not json", func(t *testing.T) {
		expectError(t, e.multipart(part{name: "sbd", content: []byte("nope")}), 400, exNotReadable, "JSON parse error")
	})
	t.Run("constraint violation", func(t *testing.T) {
		r := e.multipart(sbdPart(func(s *wire.StandardBusinessDocument) { s.Header.DocumentIdentification.TypeVersion = "" }), am)
		b := expectError(t, r, 400, exConstraintViolation,
			"createAndSendMessage.sbd.standardBusinessDocumentHeader.documentIdentification.typeVersion: must not be null")
		want := []wire.ValidationError{{Codes: []string{"NotNull"}, DefaultMessage: "must not be null",
			ObjectName: "createAndSendMessage.sbd.standardBusinessDocumentHeader.documentIdentification.typeVersion",
			Field:      "createAndSendMessage.sbd.standardBusinessDocumentHeader.documentIdentification.typeVersion", Code: "NotNull"}}
		if diff := cmp.Diff(want, b.Errors); diff != "" {
			t.Errorf("errors (-want +got):\n%s", diff)
		}
	})
	t.Run("part too large", func(t *testing.T) {
		big := part{name: "Stor", filename: "big.bin", content: bytes.Repeat([]byte("x"), maxMultipartFileSize+1)}
		expectError(t, e.multipart(sbdPart(nil), am, big), 400, exMultipartFileToLarge,
			"The attachment named 'big.bin' is too large. The maximum size for multipart requests is 5,242,880 bytes. Please use the non-multipart API to avoid such problems.")
	})
	t.Run("duplicate filenames", func(t *testing.T) {
		a := part{name: "A", filename: "a.txt", content: []byte("a")}
		expectError(t, e.multipart(sbdPart(nil), am, a, a), 400, exDuplicateFilename, "Filename already exists in message: a.txt, a.txt.")
	})
	t.Run("create error", func(t *testing.T) {
		r := e.multipart(sbdPart(func(s *wire.StandardBusinessDocument) { s.Header.Receiver[0].Identifier.Value = "0192:" + dpvOrg }), am)
		expectError(t, r, 400, exServiceNotEnabled, "Service DPV is not enabled")
	})
	t.Run("file error leaves nothing", func(t *testing.T) {
		p := sbdPart(nil)
		var sbd wire.StandardBusinessDocument
		json.Unmarshal(p.content, &sbd)
		bad := part{name: "A", filename: "arkivmelding.xml", content: []byte("<not xml")}
		expectError(t, e.multipart(p, bad), 400, exNextMoveRuntime, "Failed to get Arkivmelding")
		if exists, _ := e.store.ConversationExists(context.Background(), sbd.MessageID()); exists {
			t.Error("conversation left behind")
		}
	})
	t.Run("send error leaves the message", func(t *testing.T) {
		p := sbdPart(nil)
		var sbd wire.StandardBusinessDocument
		json.Unmarshal(p.content, &sbd)
		r := e.multipart(p, part{name: "Brev", filename: "brev.pdf", content: []byte("x")})
		expectError(t, r, 400, exMissingArkivmelding, "requires arkivmelding.xml")
		if _, err := e.store.Outgoing(context.Background(), sbd.MessageID()); err != nil {
			t.Errorf("message gone: %v", err)
		}
	})
}
