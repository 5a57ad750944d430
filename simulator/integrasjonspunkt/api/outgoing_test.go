package api

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/sample"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// TestMultiStepSend creates, uploads and sends a DPO arkivmelding and checks what the store holds.
func TestMultiStepSend(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sbd := e.mustCreate(sbdFor(t, wire.TypeArkivmelding, dpoOrg))
	id := sbd.MessageID()

	am, pdf := arkivmeldingXML(t, "brev.pdf", "vedlegg.txt"), sample.PDF("Hei")
	e.mustUpload(id, "application/xml", `attachment; name=Arkivmelding; filename=arkivmelding.xml`, am)
	e.mustUpload(id, "application/pdf", `attachment; name="Brevet"; filename="brev.pdf"`, pdf)
	e.mustUpload(id, "application/octet-stream", `attachment; filename="vedlegg.txt"`, []byte("vedlegg"))
	if r := e.send(id); r.status != http.StatusOK || len(r.body) != 0 {
		t.Fatalf("send: %d %s", r.status, r.body)
	}

	ctx := context.Background()
	m, err := e.store.Outgoing(ctx, id)
	if err != nil {
		t.Fatalf("outgoing: %v", err)
	}
	want := []store.File{
		{MessageID: id, Filename: "arkivmelding.xml", Title: "Arkivmelding", MimeType: "application/xml", Size: int64(len(am)), Primary: true, Dokumentnummer: 1},
		{MessageID: id, Filename: "brev.pdf", Title: "Brevet", MimeType: "application/pdf", Size: int64(len(pdf)), Dokumentnummer: 2},
		{MessageID: id, Filename: "vedlegg.txt", MimeType: "text/plain", Size: 7, Dokumentnummer: 3},
	}
	if diff := cmp.Diff(want, m.Files, cmpopts.IgnoreFields(store.File{}, "ID", "Identifier")); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if m.ServiceIdentifier != "DPO" || m.ReceiverIdentifier != dpoOrg || m.SenderIdentifier != ownOrg {
		t.Errorf("outgoing = %+v", m)
	}
	counts, err := e.store.Counts(ctx)
	if err != nil || counts.Queued != 1 || counts.Outgoing != 1 {
		t.Errorf("counts = %+v, %v; want one queued", counts, err)
	}
	c, err := e.store.ConversationByMessageID(ctx, id, store.Outgoing)
	if err != nil {
		t.Fatalf("conversation: %v", err)
	}
	if c.MessageTitle != "Bestilling av nye lysrør" || !strings.HasSuffix(c.MessageReference, "-1") || c.MessageReference == sbd.ConversationID() {
		t.Errorf("conversation title/reference = %q / %q", c.MessageTitle, c.MessageReference)
	}
	var statuses []wire.ReceiptStatus
	for _, s := range c.Statuses {
		statuses = append(statuses, s.Status)
	}
	if diff := cmp.Diff([]wire.ReceiptStatus{wire.StatusOpprettet}, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]wire.ReceiptStatus{wire.StatusOpprettet}, e.statusEvents()); diff != "" {
		t.Errorf("OnStatus (-want +got):\n%s", diff)
	}
	// Sending again while queued is accepted (the message is queued once).
	if r := e.send(id); r.status != http.StatusOK {
		t.Errorf("second send: %d %s", r.status, r.body)
	}
}

// TestCreateDefaults checks the defaults and the on-behalf-of rewrite on a minimal SBD.
func TestCreateDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.DefaultTTL = 2 * time.Hour })
	body := `{
	  "standardBusinessDocumentHeader": {
	    "headerVersion": "1.0",
	    "receiver": [{ "identifier": { "authority": "iso6523-actorid-upis", "value": "0192:` + dpoOrg + `" } }],
	    "documentIdentification": { "standard": "urn:no:difi:arkivmelding:xsd::arkivmelding", "type": "arkivmelding", "typeVersion": "2.0" },
	    "businessScope": { "scope": [ { "identifier": "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0", "type": "ConversationId" },
	                                  { "type": "SenderRef" } ] } },
	  "arkivmelding": {} }`
	before := time.Now()
	r := e.postJSON("/api/messages/out", []byte(body))
	if r.status != http.StatusOK {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type = %q", ct)
	}
	if !strings.HasPrefix(string(r.body), "{\n  \"standardBusinessDocumentHeader\": {") {
		t.Errorf("body is not pretty-printed with the header first:\n%s", r.body)
	}
	sbd, err := wire.ParseSBD(r.body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if got := sbd.SenderIdentifier(); got != "0192:"+ownOrg {
		t.Errorf("sender = %q", got)
	}
	if !uuidPattern.MatchString(sbd.MessageID()) || !uuidPattern.MatchString(sbd.ConversationID()) {
		t.Errorf("ids = %q, %q", sbd.MessageID(), sbd.ConversationID())
	}
	if s := sbd.FindScope(wire.ScopeSenderRef); s == nil || !uuidPattern.MatchString(s.InstanceIdentifier) {
		t.Errorf("SenderRef scope = %+v", s)
	}
	created := sbd.Header.DocumentIdentification.CreationDateAndTime
	if created == nil || created.Before(before.Add(-time.Second)) {
		t.Errorf("creationDateAndTime = %v", created)
	}
	erdt, ok := sbd.ExpectedResponseDateTime()
	if !ok || erdt.Sub(created.Time) != 2*time.Hour {
		t.Errorf("expectedResponseDateTime = %v (created %v)", erdt, created)
	}
	if _, off := erdt.Zone(); off != 3600 && off != 7200 {
		t.Errorf("offset %d is not Oslo's", off)
	}
	c, err := e.store.ConversationByMessageID(context.Background(), sbd.MessageID(), store.Outgoing)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Conversation{ConversationID: sbd.ConversationID(), MessageID: sbd.MessageID(), Direction: store.Outgoing,
		Sender: "0192:" + ownOrg, SenderIdentifier: ownOrg, Receiver: "0192:" + dpoOrg, ReceiverIdentifier: dpoOrg,
		ProcessIdentifier: wire.ProcessArkivmeldingAdministrasjon, DocumentIdentifier: wire.StandardArkivmelding,
		MessageReference: sbd.ConversationID(), ServiceIdentifier: "DPO"}
	if diff := cmp.Diff(want, c, cmpopts.IgnoreFields(store.Conversation{}, "ID", "Expiry", "LastUpdate", "Statuses")); diff != "" {
		t.Errorf("conversation (-want +got):\n%s", diff)
	}
	if !c.Expiry.Equal(erdt.Time) {
		t.Errorf("expiry = %v, want %v", c.Expiry, erdt)
	}
}

// TestOnBehalfOf checks the "på vegne av" rewrite (spec ip-api §4.3).
func TestOnBehalfOf(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		sender, wantSender, wantSenderID string
	}{
		{"0192:" + dpfOrg, "0192:" + ownOrg + ":" + dpfOrg, dpfOrg},
		{"0192:" + ownOrg + ":" + dpvOrg, "0192:" + ownOrg + ":" + dpvOrg, dpvOrg},
		{"0192:" + ownOrg, "0192:" + ownOrg, ownOrg},
		{ownOrg, ownOrg, ownOrg},
	}
	for _, tt := range tests {
		sbd := sbdFor(t, wire.TypeArkivmelding, dpoOrg)
		sbd.Header.Sender[0].Identifier.Value = tt.sender
		got := e.mustCreate(sbd)
		if s := got.SenderIdentifier(); s != tt.wantSender {
			t.Errorf("sender %s: got %s, want %s", tt.sender, s, tt.wantSender)
		}
		m, err := e.store.Outgoing(context.Background(), got.MessageID())
		if err != nil || m.SenderIdentifier != tt.wantSenderID {
			t.Errorf("sender %s: senderIdentifier = %q (%v), want %s", tt.sender, m.SenderIdentifier, err, tt.wantSenderID)
		}
	}
}

// TestMultipartSend sends in one request and checks the message is queued.
func TestMultipartSend(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sbd := sbdFor(t, wire.TypeArkivmelding, dpoOrg)
	b, _ := json.Marshal(sbd)
	r := e.multipart(
		part{name: "sbd", contentType: "application/json", content: b},
		part{name: "Arkivmelding", filename: "arkivmelding.xml", contentType: "application/xml", content: arkivmeldingXML(t, "brev.pdf")},
		part{name: "Before The Law", filename: "brev.pdf", contentType: "application/pdf", content: sample.PDF("x")},
	)
	if r.status != http.StatusOK {
		t.Fatalf("multipart: %d %s", r.status, r.body)
	}
	got, err := wire.ParseSBD(r.body)
	if err != nil || got.MessageID() != sbd.MessageID() {
		t.Fatalf("answer: %v %s", err, r.body)
	}
	m, err := e.store.Outgoing(context.Background(), sbd.MessageID())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range m.Files {
		names = append(names, f.Filename+"|"+f.Title+"|"+f.MimeType)
	}
	want := []string{"arkivmelding.xml|Arkivmelding|application/xml", "brev.pdf|Before The Law|application/pdf"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if c, _ := e.store.Counts(context.Background()); c.Queued != 1 {
		t.Errorf("queued = %d, want 1", c.Queued)
	}
}

// TestAvtaltNeedsNoFile sends an avtalt message without attachments.
func TestAvtaltNeedsNoFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sbd := e.mustCreate(sbdFor(t, wire.TypeAvtalt, dpoOrg))
	if r := e.send(sbd.MessageID()); r.status != http.StatusOK {
		t.Fatalf("send: %d %s", r.status, r.body)
	}
}

// TestGetAndDeleteOutgoing reads a message back, deletes it, and deleting again is fine.
func TestGetAndDeleteOutgoing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sbd := e.mustCreate(sbdFor(t, wire.TypeArkivmelding, dpoOrg))
	r := e.get("/api/messages/out/" + sbd.MessageID())
	if r.status != http.StatusOK {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	got, err := wire.ParseSBD(r.body)
	if err != nil || got.MessageID() != sbd.MessageID() {
		t.Fatalf("get: %v", err)
	}
	for range 2 {
		if r := e.do(http.MethodDelete, "/api/messages/out/"+sbd.MessageID(), nil, nil); r.status != http.StatusOK {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
	}
	expectError(t, e.get("/api/messages/out/"+sbd.MessageID()), 404, exMessageNotFound,
		"Message with messageId = "+sbd.MessageID()+" was not found")
	// The conversation stays, so the messageId cannot be reused.
	expectError(t, e.create(sbd), 400, exMessageAlreadyExists, "already exists")
}

// TestListOutgoingPage checks the Spring page JSON and the filters of GET /api/messages/out.
func TestListOutgoingPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var ids []string
	for range 3 {
		ids = append(ids, e.mustCreate(sbdFor(t, wire.TypeArkivmelding, dpoOrg)).MessageID())
	}
	r := e.get("/api/messages/out?size=2&page=1")
	if r.status != http.StatusOK {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	var raw map[string]any
	decode(t, r, &raw)
	var keys []string
	for k := range raw {
		keys = append(keys, k)
	}
	wantKeys := []string{"content", "empty", "first", "last", "number", "numberOfElements", "pageable", "size", "sort",
		"totalElements", "totalPages"}
	if diff := cmp.Diff(wantKeys, keys, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("page keys (-want +got):\n%s", diff)
	}
	var p page[json.RawMessage]
	decode(t, r, &p)
	wantPageable := map[string]any{"sort": map[string]any{"sorted": false, "unsorted": true, "empty": true},
		"pageNumber": 1.0, "pageSize": 2.0, "offset": 2.0, "paged": true, "unpaged": false}
	if diff := cmp.Diff(wantPageable, p.Pageable); diff != "" {
		t.Errorf("pageable (-want +got):\n%s", diff)
	}
	if p.TotalElements != 3 || p.TotalPages != 2 || p.Number != 1 || p.Size != 2 || p.NumberOfElements != 1 ||
		p.First || !p.Last || p.Empty || p.Sort.Sorted {
		t.Errorf("page = %+v", p)
	}
	got, err := wire.ParseSBD(p.Content[0])
	if err != nil || got.MessageID() != ids[2] {
		t.Errorf("content = %s (%v)", p.Content[0], err)
	}

	tests := []struct {
		query string
		want  int64
	}{
		{"messageId=" + ids[0], 1},
		{"messageId=" + ids[0] + "&messageId=" + ids[1], 2},
		{"receiverIdentifier=" + dpoOrg, 3},
		{"receiverIdentifier=0192:" + dpoOrg, 0},
		{"senderIdentifier=" + ownOrg + "&serviceIdentifier=DPO", 3},
		{"serviceIdentifier=DPV", 0},
		{"processIdentifier=" + wire.ProcessArkivmeldingAdministrasjon, 3},
		{"unknown=1", 3},
		{"sort=lastUpdated,desc&size=1", 3},
	}
	for _, tt := range tests {
		var p page[json.RawMessage]
		r := e.get("/api/messages/out?" + tt.query)
		decode(t, r, &p)
		if r.status != http.StatusOK || p.TotalElements != tt.want {
			t.Errorf("%s: %d, totalElements %d, want %d", tt.query, r.status, p.TotalElements, tt.want)
		}
	}
	var sorted page[json.RawMessage]
	decode(t, e.get("/api/messages/out?sort=id,desc&size=1"), &sorted)
	if got, _ := wire.ParseSBD(sorted.Content[0]); !sorted.Sort.Sorted || got.MessageID() != ids[2] {
		t.Errorf("sorted page = %+v", sorted)
	}
	expectError(t, e.get("/api/messages/out?sort=nope"), 400, exPropertyReference, "No property 'nope' found for type 'NextMoveOutMessage'")
	expectError(t, e.get("/api/messages/out?serviceIdentifier=DPX"), 400, exIllegalArgument, "No enum constant no.difi.meldingsutveksling.ServiceIdentifier.DPX")
	expectError(t, e.get("/api/messages/out?id=abc"), 400, exMethodArgNotValid, "Error count: 1")
}
