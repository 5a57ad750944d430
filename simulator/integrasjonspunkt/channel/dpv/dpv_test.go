package dpv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel/channeltest"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/sample"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// fake is a minimal correspondence API: it records uploads and serves overviews.
type fake struct {
	mu        sync.Mutex
	uploads   []upload
	byRef     map[string][]string
	overview  map[string]Overview
	keys      map[string]bool
	nextError int // answered once to the next upload instead of accepting it
	problem   string
	exchanges int
}

type upload struct {
	fields map[string]string
	order  []string
	files  []filePart
	auth   string
}

type filePart struct {
	name, filename, ctype string
	data                  []byte
}

func newFake() *fake {
	return &fake{byRef: map[string][]string{}, overview: map[string]Overview{}, keys: map[string]bool{}}
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	const base = "/correspondence/api/v1/correspondence"
	switch {
	case r.URL.Path == "/exchange":
		f.exchanges++
		io.WriteString(w, "altinn-token")
	case r.Header.Get("Authorization") != "Bearer altinn-token":
		w.WriteHeader(http.StatusUnauthorized)
	case r.Method == http.MethodPost && r.URL.Path == base+"/upload":
		mr, err := r.MultipartReader()
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		u := upload{fields: map[string]string{}, auth: r.Header.Get("Authorization")}
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			b, _ := io.ReadAll(p)
			if p.FileName() != "" {
				u.files = append(u.files, filePart{p.FormName(), p.FileName(), p.Header.Get("Content-Type"), b})
				continue
			}
			if ct := p.Header.Get("Content-Type"); ct != "text/plain;charset=UTF-8" {
				http.Error(w, "text part type "+ct, 400)
				return
			}
			u.fields[p.FormName()] = string(b)
			u.order = append(u.order, p.FormName())
		}
		f.uploads = append(f.uploads, u)
		if f.nextError != 0 {
			s := f.nextError
			f.nextError = 0
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(s)
			io.WriteString(w, f.problem)
			return
		}
		key := u.fields["idempotentKey"]
		if f.keys[key] {
			w.WriteHeader(http.StatusConflict)
			io.WriteString(w, `{"title":"Conflict"}`)
			return
		}
		f.keys[key] = true
		id := fmt.Sprintf("corr-%d", len(f.uploads))
		ref := u.fields["correspondence.sendersReference"]
		f.byRef[ref] = append(f.byRef[ref], id)
		f.overview[id] = Overview{CorrespondenceID: id, Status: StatusInitialized, Created: "2025-01-01T10:00:00Z"}
		json.NewEncoder(w).Encode(map[string]any{"correspondences": []map[string]any{{"correspondenceId": id, "status": "Initialized",
			"recipient": u.fields["recipients[0]"]}}, "attachmentIds": []string{}})
	case r.Method == http.MethodGet && r.URL.Path == base:
		ids := f.byRef[r.URL.Query().Get("sendersReference")]
		if ids == nil {
			ids = []string{}
		}
		json.NewEncoder(w).Encode(map[string]any{"ids": ids})
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, base+"/"):
		ov, ok := f.overview[strings.TrimPrefix(r.URL.Path, base+"/")]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		json.NewEncoder(w).Encode(ov)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (f *fake) set(id string, mod func(*Overview)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ov := f.overview[id]
	mod(&ov)
	f.overview[id] = ov
}

var now = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func setup(t *testing.T, opts Options) (*Channel, *fake) {
	t.Helper()
	mp := channeltest.StartMaskinporten(t, fixtures.MustLoadPKI())
	f := newFake()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	hc := &http.Client{Timeout: 5 * time.Second}
	opts.Tokens = mp.Tokens("910077473", hc)
	opts.HTTP = hc
	opts.CorrespondenceURL = srv.URL + "/correspondence/api/v1"
	opts.TokenExchangeURL = srv.URL + "/exchange"
	opts.OrgNumber = "910077473"
	opts.Now = func() time.Time { return now }
	if opts.SenderName == nil {
		opts.SenderName = func(context.Context, string) (string, error) { return "Avsender AS", nil }
	}
	return New(opts), f
}

func resource(s string) *string { return &s }

// arkivmelding is an arkivmelding whose arkivmelding.xml refers to two PDFs, uploaded in reverse order.
func arkivmelding(t *testing.T, res string, dpv *wire.DPVSettings) channel.Message {
	t.Helper()
	sbd := fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{TTL: time.Hour})
	sbd.Message.(*wire.Arkivmelding).DPV = dpv
	am, err := sample.BuildArkivmelding(sample.ArkivmeldingSpec{Title: "Bestilling av nye lysrør", Documents: []sample.Document{
		{Filename: "brev.pdf", Title: "Brev", Primary: true}, {Filename: "vedlegg.pdf", Title: "Vedlegg"}}})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"arkivmelding.xml": am, "brev.pdf": []byte("brev"), "vedlegg.pdf": []byte("vedlegg")}
	fs := []store.File{
		{Filename: "arkivmelding.xml", MimeType: "text/xml", Dokumentnummer: 1},
		{Filename: "vedlegg.pdf", Title: "Vedlegget", MimeType: "application/pdf", Dokumentnummer: 2},
		{Filename: "brev.pdf", Title: "Brevet", MimeType: "application/pdf", Dokumentnummer: 3},
	}
	return channel.Message{SBD: sbd, Files: fs,
		Open: func(f store.File) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(files[f.Filename])), nil
		},
		Record: wire.ServiceRecord{Service: wire.Service{Identifier: wire.ServiceDPV, Resource: resource(res)}}}
}

func TestSendArkivmelding(t *testing.T) {
	ch, f := setup(t, Options{})
	m := arkivmelding(t, wire.ResourceDPVAdministrasjon, nil)
	res, err := ch.Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if res.ExternalReference != "corr-1" || !res.Pollable {
		t.Fatalf("result %+v", res)
	}
	u := f.uploads[0]
	id := m.SBD.MessageID()
	rcv, _ := wire.ParseIdentifier(m.SBD.ReceiverIdentifier())
	want := map[string]string{
		"recipients[0]":                                           "urn:altinn:organization:identifier-no:" + rcv.OrgID,
		"idempotentKey":                                           id,
		"correspondence.resourceId":                               wire.ResourceDPVAdministrasjon,
		"correspondence.sendersReference":                         id,
		"correspondence.messageSender":                            "Avsender AS",
		"correspondence.requestedPublishTime":                     "2025-03-01T12:00:00.000Z",
		"correspondence.dueDateTime":                              "2025-03-08T12:00:00.000Z",
		"correspondence.isConfirmationNeeded":                     "false",
		"correspondence.isConfidential":                           "false",
		"correspondence.content.language":                         "nb",
		"correspondence.content.messageTitle":                     "Bestilling av nye lysrør",
		"correspondence.content.messageSummary":                   "Bestilling av nye lysrør",
		"correspondence.content.messageBody":                      "Bestilling av nye lysrør",
		"correspondence.content.attachments[0].fileName":          "brev.pdf",
		"correspondence.content.attachments[0].displayName":       "Brevet",
		"correspondence.content.attachments[1].fileName":          "vedlegg.pdf",
		"correspondence.content.attachments[1].isEncrypted":       "false",
		"correspondence.content.attachments[1].sendersReference":  AttachmentSendersReference,
		"correspondence.notification.notificationTemplate":        "CustomMessage",
		"correspondence.notification.notificationChannel":         "EmailAndSms",
		"correspondence.notification.emailSubject":                "Melding mottatt i Altinn",
		"correspondence.notification.emailBody":                   "$correspondenceRecipientName$: Du har mottatt en melding fra Avsender AS.",
		"correspondence.notification.requestedSendTime":           "2025-03-01T12:05:00.000Z",
		"correspondence.notification.sendReminder":                "true",
		"correspondence.notification.reminderNotificationChannel": "EmailAndSms",
	}
	for k, v := range want {
		if u.fields[k] != v {
			t.Errorf("%s = %q, want %q", k, u.fields[k], v)
		}
	}
	if _, ok := u.fields["correspondence.content.attachments[2].fileName"]; ok {
		t.Error("arkivmelding.xml was attached")
	}
	if len(u.files) != 2 || u.files[0].filename != "brev.pdf" || u.files[1].filename != "vedlegg.pdf" ||
		u.files[0].name != "attachments" || u.files[0].ctype != "application/octet-stream" || string(u.files[1].data) != "vedlegg" {
		t.Errorf("file parts %+v", u.files)
	}
	if u.order[0] != "recipients[0]" || u.order[1] != "idempotentKey" {
		t.Errorf("field order %v", u.order[:2])
	}
}

func TestSendConfidentialAndSettings(t *testing.T) {
	ch, f := setup(t, Options{})
	days := 3
	m := arkivmelding(t, wire.ResourceDPVTaushetsbelagt, &wire.DPVSettings{VarselType: wire.DPVVarselUtenRevarsel,
		VarselTransportType: wire.DPVTransportSMS, TaushetsbelagtVarselTekst: "Hemmelig fra $reporterName$", DagerTilSvarfrist: &days})
	if _, err := ch.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	u := f.uploads[0]
	for k, v := range map[string]string{
		"correspondence.isConfidential":                   "true",
		"correspondence.dueDateTime":                      "2025-03-04T12:00:00.000Z",
		"correspondence.notification.notificationChannel": "Sms",
		"correspondence.notification.smsBody":             "Hemmelig fra Avsender AS",
		"correspondence.notification.sendReminder":        "false",
	} {
		if u.fields[k] != v {
			t.Errorf("%s = %q, want %q", k, u.fields[k], v)
		}
	}
	if _, ok := u.fields["correspondence.notification.reminderEmailBody"]; ok {
		t.Error("reminder fields without a reminder")
	}
}

func TestSendDigitalDPV(t *testing.T) {
	ch, f := setup(t, Options{DisableDueDate: true})
	sbd := fixtures.MustSBD(wire.TypeDigitalDPV, fixtures.SBDSpec{TTL: time.Hour})
	d := sbd.Message.(*wire.DigitalDPV)
	d.Tittel, d.Sammendrag, d.Innhold = "Tittel", "Sammendrag", ""
	files := []store.File{{Filename: "b.pdf", Dokumentnummer: 2}, {Filename: "a.pdf", Title: "A", Dokumentnummer: 1}}
	m := channel.Message{SBD: sbd, Files: files,
		Open:   func(f store.File) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(f.Filename)), nil },
		Record: wire.ServiceRecord{Service: wire.Service{Identifier: wire.ServiceDPV, Resource: resource(wire.ResourceDPVAdministrasjon)}}}
	if _, err := ch.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	u := f.uploads[0]
	for k, v := range map[string]string{
		"correspondence.content.messageTitle":               "Tittel",
		"correspondence.content.messageSummary":             "Sammendrag",
		"correspondence.content.messageBody":                "Ingen innhold",
		"correspondence.content.attachments[0].fileName":    "a.pdf",
		"correspondence.content.attachments[1].displayName": "b.pdf",
	} {
		if u.fields[k] != v {
			t.Errorf("%s = %q, want %q", k, u.fields[k], v)
		}
	}
	if _, ok := u.fields["correspondence.dueDateTime"]; ok {
		t.Error("due date although disabled")
	}
	if !strings.HasPrefix(u.fields["recipients[0]"], "urn:altinn:") {
		t.Errorf("recipient %q", u.fields["recipients[0]"])
	}
}

func TestConflictResolvedBySendersReference(t *testing.T) {
	ch, f := setup(t, Options{})
	m := arkivmelding(t, wire.ResourceDPVAdministrasjon, nil)
	first, err := ch.Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ch.Send(context.Background(), m) // the first answer was "lost"
	if err != nil {
		t.Fatal(err)
	}
	if again.ExternalReference != first.ExternalReference || !again.Pollable || len(f.uploads) != 2 {
		t.Fatalf("after 409: %+v, want %+v", again, first)
	}
}

func TestBadRequestIsPermanent(t *testing.T) {
	ch, f := setup(t, Options{})
	f.nextError, f.problem = 400, `{"title":"Bad Request","status":400,"detail":"Resource not whitelisted"}`
	_, err := ch.Send(context.Background(), arkivmelding(t, wire.ResourceDPVAdministrasjon, nil))
	p, ok := channel.AsPermanent(err)
	if !ok || !strings.Contains(p.RawReceipt, "Resource not whitelisted") {
		t.Fatalf("err %v, want permanent with the problem", err)
	}
	f.nextError = 503
	if _, err := ch.Send(context.Background(), arkivmelding(t, wire.ResourceDPVAdministrasjon, nil)); err == nil {
		t.Fatal("503 accepted")
	} else if _, ok := channel.AsPermanent(err); ok {
		t.Fatalf("503 is permanent: %v", err)
	}
	if f.exchanges != 1 {
		t.Errorf("%d token exchanges, want 1 (cached)", f.exchanges)
	}
}

func TestMissingResourceIsPermanent(t *testing.T) {
	ch, f := setup(t, Options{})
	m := arkivmelding(t, "", nil)
	m.Record.Service.Resource = nil
	if _, err := ch.Send(context.Background(), m); err == nil {
		t.Fatal("sent without a resource")
	} else if _, ok := channel.AsPermanent(err); !ok {
		t.Fatalf("not permanent: %v", err)
	}
	if len(f.uploads) != 0 {
		t.Fatal("uploaded")
	}
}

func TestReceiptNotUploaded(t *testing.T) {
	ch, f := setup(t, Options{})
	sbd := fixtures.MustSBD(wire.TypeArkivmeldingKvittering, fixtures.SBDSpec{TTL: time.Hour})
	res, err := ch.Send(context.Background(), channel.Message{SBD: sbd})
	if err != nil || res.Pollable || len(f.uploads) != 0 || !cmp.Equal(res.Then, []wire.ReceiptStatus{wire.StatusLevert, wire.StatusLest}) {
		t.Fatalf("receipt: %+v %v, %d uploads; want no upload and LEVERT, LEST at once", res, err, len(f.uploads))
	}
	changes, err := ch.Poller().Poll(context.Background(), store.Conversation{MessageID: sbd.MessageID(), DocumentIdentifier: wire.StandardArkivmeldingKvittering})
	if err != nil || len(changes) != 2 || changes[0].Status != wire.StatusLevert || changes[1].Status != wire.StatusLest {
		t.Fatalf("receipt poll: %+v %v", changes, err)
	}
}

func TestPollMapping(t *testing.T) {
	ch, f := setup(t, Options{})
	m := arkivmelding(t, wire.ResourceDPVAdministrasjon, nil)
	if _, err := ch.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	p := ch.Poller()
	conv := store.Conversation{MessageID: m.SBD.MessageID(), DocumentIdentifier: wire.StandardArkivmelding}
	poll := func() string {
		t.Helper()
		changes, err := p.Poll(context.Background(), conv)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range changes {
			s := string(c.Status)
			if c.Pollable != nil && !*c.Pollable {
				s += " stop"
			}
			out = append(out, s)
		}
		return strings.Join(out, ",")
	}
	if got := poll(); got != "" {
		t.Errorf("initialized: %q", got)
	}
	f.set("corr-1", func(o *Overview) { o.Status, o.Published = StatusPublished, "2025-03-01T12:00:01.5+01:00" })
	if got := poll(); got != "LEVERT" {
		t.Errorf("published: %q", got)
	}
	f.set("corr-1", func(o *Overview) { o.Status, o.Read = StatusRead, "2025-03-01T12:00:02.123456" })
	if got := poll(); got != "LEVERT,LEST" {
		t.Errorf("read: %q", got)
	}
	f.set("corr-1", func(o *Overview) { o.Status = StatusPurgedByRecipient })
	if got := poll(); got != "LEVERT,LEST,ANNET stop" {
		t.Errorf("purged: %q", got)
	}
	f.set("corr-1", func(o *Overview) { o.Status = "Replied" })
	if got := poll(); got != "LEVERT,LEST,ANNET" {
		t.Errorf("unknown: %q", got)
	}
	f.mu.Lock()
	delete(f.overview, "corr-1")
	f.mu.Unlock()
	changes, err := p.Poll(context.Background(), conv)
	if err != nil || len(changes) != 1 || changes[0].Status != wire.StatusAnnet || changes[0].Description != DescriptionDeleted {
		t.Fatalf("deleted: %+v %v", changes, err)
	}
	if got := Map(Overview{Read: "2025-03-01T12:00:00Z"}); len(got) != 2 || got[0].Status != wire.StatusLevert {
		t.Errorf("read without published: %+v", got)
	}
}
