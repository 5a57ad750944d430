package dpo

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	dposim "github.com/efm-harness/efm-harness/simulator/dpo"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel/channeltest"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/delivery"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/inbound"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/registry"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/sample"
	"github.com/efm-harness/efm-harness/simulator/sr"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

const (
	orgA = "910077473" // the fixtures' sender
	orgB = "910075918" // the fixtures' receiver
)

// world is the real Maskinporten and DPO simulators, shared by the integration points of a test.
type world struct {
	t      *testing.T
	pki    *fixtures.PKI
	mp     *channeltest.Maskinporten
	dpoURL string
	sim    *dposim.Server
}

func newWorld(t *testing.T) *world {
	t.Helper()
	pki := fixtures.MustLoadPKI()
	mp := channeltest.StartMaskinporten(t, pki)
	alt := pki.MustGet(fixtures.CredAltinn)
	sim, err := dposim.New(dposim.Options{Signer: alt.Key, Certificate: alt.Certificate, Maskinporten: mp.Server.Verifier(),
		Keys: func(orgnr string) (*rsa.PrivateKey, bool) { c, ok := pki.Get(orgnr); return c.Key, ok }})
	if err != nil {
		t.Fatal(err)
	}
	dpoSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(dpoSrv.Close)
	return &world{t: t, pki: pki, mp: mp, dpoURL: dpoSrv.URL, sim: sim}
}

// channel is a DPO channel of org's integration point; adjust changes its options.
func (w *world) channel(org string, adjust ...func(*Options)) *Channel {
	cred := w.pki.MustGet(org)
	hc := &http.Client{Timeout: 5 * time.Second}
	tokens := w.mp.Tokens(org, hc)
	o := Options{BrokerURL: w.dpoURL + "/broker/api/v1", TokenExchangeURL: w.dpoURL + "/authentication/api/v1/exchange/maskinporten",
		OrgNumber: org, Key: cred.Key, Certificate: cred.Certificate, Tokens: tokens, HTTP: hc}
	for _, f := range adjust {
		f(&o)
	}
	return New(o)
}

// ip is the receiving side of an integration point: store, inbound service and poller.
type ip struct {
	store   *store.Store
	inbound *inbound.Service
	poller  *Poller
	ch      *Channel
}

func (w *world) ip(org string, adjust ...func(*Options)) *ip {
	w.t.Helper()
	st, err := store.Open(context.Background(), store.Options{Dir: w.t.TempDir()})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { st.Close() })
	ch := w.channel(org, adjust...)
	in := inbound.New(inbound.Options{Store: st})
	return &ip{store: st, inbound: in, poller: NewPoller(ch, in), ch: ch}
}

// send sends sbd with files from the channel ch, encrypted for the certificate of encryptFor.
func (w *world) send(ch *Channel, sbd *wire.StandardBusinessDocument, files map[string][]byte, encryptFor string) string {
	w.t.Helper()
	var fs []store.File
	n := 0
	for _, name := range []string{"arkivmelding.xml", "brev.pdf"} {
		if files[name] == nil {
			continue
		}
		n++
		fs = append(fs, store.File{MessageID: sbd.MessageID(), Filename: name, MimeType: "application/octet-stream",
			Primary: n == 1, Dokumentnummer: n, Size: int64(len(files[name]))})
	}
	m := channel.Message{SBD: sbd, Files: fs,
		Open: func(f store.File) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(files[f.Filename])), nil
		},
		Record: wire.ServiceRecord{PEMCertificate: w.pki.MustGet(encryptFor).CertificatePEM(), Service: wire.Service{Identifier: wire.ServiceDPO}}}
	res, err := ch.Send(context.Background(), m)
	if err != nil {
		w.t.Fatalf("send %s: %v", sbd.MessageID(), err)
	}
	return res.ExternalReference
}

// recipientStatus is the broker's status of orgnr on transfer id.
func (w *world) recipientStatus(id, orgnr string) string {
	for _, t := range w.sim.Transfers() {
		if t.ID != id {
			continue
		}
		for _, r := range t.Recipients {
			if r.Recipient == wire.ICDNorway+":"+orgnr || r.Recipient == orgnr {
				return r.Status
			}
		}
	}
	return ""
}

func arkivmelding(t *testing.T) (*wire.StandardBusinessDocument, map[string][]byte) {
	t.Helper()
	am, err := sample.BuildArkivmelding(sample.ArkivmeldingSpec{Documents: []sample.Document{{Filename: "brev.pdf"}}})
	if err != nil {
		t.Fatal(err)
	}
	return fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{Sender: orgA, Receiver: orgB, TTL: time.Hour}),
		map[string][]byte{"arkivmelding.xml": am, "brev.pdf": sample.PDF("Hei")}
}

func TestPollReceivesQueuesAndAnswersMottatt(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a, b := w.channel(orgA), w.ip(orgB)
	ctx := context.Background()
	first, files := arkivmelding(t)
	t1 := w.send(a, first, files, orgB)
	second, _ := arkivmelding(t)
	t2 := w.send(a, second, files, orgB)

	n, err := b.poller.Poll(ctx)
	if err != nil || n != 2 {
		t.Fatalf("poll: %d %v", n, err)
	}
	for _, id := range []string{t1, t2} {
		if s := w.recipientStatus(id, orgB); s != dposim.RecipientDownloadConfirmed {
			t.Errorf("transfer %s: recipient status %q", id, s)
		}
	}
	// Oldest first: the in-queue holds them in the order they were sent.
	page, _, err := b.store.IncomingPage(ctx, store.Filter{}, store.PageRequest{Size: 10})
	if err != nil || len(page) != 2 || page[0].MessageID != first.MessageID() || page[1].MessageID != second.MessageID() {
		t.Fatalf("in-queue: %+v %v", page, err)
	}
	m, ok, _ := b.store.Peek(ctx, store.Filter{}, time.Minute)
	if !ok {
		t.Fatal("nothing to peek")
	}
	m, err = b.store.Pop(ctx, m.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := b.store.OpenASiC(m)
	if err != nil {
		t.Fatal(err)
	}
	asic, _ := io.ReadAll(rc)
	rc.Close()
	c, err := dokumentpakke.ReadASiCE(asic, dokumentpakke.ReadOptions{})
	if err != nil || !c.Signed {
		t.Fatalf("stored container is not a readable signed ASiC-E: %v", err)
	}
	if f := c.File("arkivmelding.xml"); f == nil || !bytes.Equal(f.Content, files["arkivmelding.xml"]) {
		t.Error("arkivmelding.xml not in the stored container")
	}
	if c.File("manifest.xml") == nil || c.File("brev.pdf") == nil {
		t.Error("manifest.xml or brev.pdf missing")
	}
	for _, sbd := range []*wire.StandardBusinessDocument{first, second} {
		if _, err := b.store.Outgoing(ctx, store.StatusKey(sbd.MessageID(), wire.StatusMottatt)); err != nil {
			t.Errorf("no MOTTATT queued for %s: %v", sbd.MessageID(), err)
		}
	}
	if n, err := b.poller.Poll(ctx); n != 0 || err != nil {
		t.Errorf("second poll: %d %v", n, err)
	}
	// The sender's own poll finds nothing: it is no recipient.
	if n, err := w.ip(orgA).poller.Poll(ctx); n != 0 || err != nil {
		t.Errorf("sender's poll: %d %v", n, err)
	}
}

func TestPollDiscardsWhatItCannotOpenAndGoesOn(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a, b := w.channel(orgA), w.ip(orgB)
	ctx := context.Background()
	sealedForA, files := arkivmelding(t)
	bad := w.send(a, sealedForA, files, orgA) // encrypted for the wrong organisation
	good, _ := arkivmelding(t)
	ok := w.send(a, good, files, orgB)
	junk := w.upload(a, orgA, orgB, []byte("not a zip"), nil)
	noPayload := w.upload(a, orgA, orgB, zipOf(t, map[string][]byte{"sbd.json": []byte(
		`{"standardBusinessDocumentHeader":{"documentIdentification":{"type":"arkivmelding"}}}`)}), nil)

	n, err := b.poller.Poll(ctx)
	if err != nil || n != 4 {
		t.Fatalf("poll: %d %v", n, err)
	}
	for _, id := range []string{bad, ok, junk, noPayload} {
		if s := w.recipientStatus(id, orgB); s != dposim.RecipientDownloadConfirmed {
			t.Errorf("transfer %s: %q, want confirmed", id, s)
		}
	}
	page, _, _ := b.store.IncomingPage(ctx, store.Filter{}, store.PageRequest{Size: 10})
	if len(page) != 1 || page[0].MessageID != good.MessageID() {
		t.Errorf("in-queue: %+v", page)
	}
	if exists, _ := b.store.ConversationExists(ctx, sealedForA.MessageID()); exists {
		t.Error("the undecryptable message got a conversation")
	}
}

// upload initialises and uploads a raw sbd.zip from org to recipient with reference ref (a UUID when nil).
func (w *world) upload(ch *Channel, org, recipient string, pkg []byte, ref *string) string {
	w.t.Helper()
	body := map[string]any{"fileName": "sbd.zip", "resourceId": wire.ResourceDPO, "sender": wire.ICDNorway + ":" + org,
		"recipients": []string{wire.ICDNorway + ":" + recipient}, "propertyList": map[string]string{}}
	if ref != nil {
		body["sendersFileTransferReference"] = *ref
	}
	b, _ := json.Marshal(body)
	var created struct {
		FileTransferID string `json:"fileTransferId"`
	}
	ctx := context.Background()
	if err := ch.call(ctx, org, ScopeWrite, http.MethodPost, ch.opts.BrokerURL+"/filetransfer/", "application/json", b, &created); err != nil {
		w.t.Fatal(err)
	}
	if err := ch.call(ctx, org, ScopeWrite, http.MethodPost, ch.opts.BrokerURL+"/filetransfer/"+created.FileTransferID+"/upload",
		"application/octet-stream", pkg, nil); err != nil {
		w.t.Fatal(err)
	}
	return created.FileTransferID
}

func zipOf(t *testing.T, entries map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range entries {
		f, _ := zw.Create(name)
		f.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestPollKeepsToItsMessageChannel(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a := w.channel(orgA)
	plain := w.ip(orgB)
	tagged := w.ip(orgB, func(o *Options) { o.MessageChannel = "kanalB" })
	ctx := context.Background()

	msg, files := arkivmelding(t)
	normal := w.send(a, msg, files, orgB)
	// A status answering a message the channel IP sent carries its channel as the transfer reference.
	sentByTagged := fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{Sender: orgB, Receiver: orgA, TTL: time.Hour})
	createOutgoing(t, tagged.store, sentByTagged.MessageID())
	status := fixtures.MustSBD(wire.TypeStatus, fixtures.SBDSpec{Sender: orgA, Receiver: orgB, MessageID: sentByTagged.MessageID(),
		ConversationID: sentByTagged.ConversationID(), TTL: time.Hour, MessageChannel: "kanalB"})
	status.Message = &wire.StatusMessage{Status: wire.StatusMottatt}
	toChannel := w.send(a, status, nil, orgB)
	other := "kanalC"
	foreign := w.upload(a, orgA, orgB, zipOf(t, map[string][]byte{"sbd.json": []byte("{}")}), &other)

	if n, err := plain.poller.Poll(ctx); n != 1 || err != nil {
		t.Fatalf("poll without channel: %d %v", n, err)
	}
	if w.recipientStatus(normal, orgB) != dposim.RecipientDownloadConfirmed || w.recipientStatus(toChannel, orgB) != dposim.RecipientInitialized {
		t.Errorf("without a channel: normal %s, channel-tagged %s", w.recipientStatus(normal, orgB), w.recipientStatus(toChannel, orgB))
	}
	if n, err := tagged.poller.Poll(ctx); n != 1 || err != nil {
		t.Fatalf("poll with channel: %d %v", n, err)
	}
	if w.recipientStatus(toChannel, orgB) != dposim.RecipientDownloadConfirmed || w.recipientStatus(foreign, orgB) != dposim.RecipientInitialized {
		t.Errorf("with a channel: tagged %s, other channel %s", w.recipientStatus(toChannel, orgB), w.recipientStatus(foreign, orgB))
	}
	conv, err := tagged.store.ConversationByMessageID(ctx, sentByTagged.MessageID(), store.Outgoing)
	if err != nil || len(conv.Statuses) != 2 || conv.Statuses[1].Status != wire.StatusMottatt {
		t.Errorf("status via the channel: %+v %v", conv.Statuses, err)
	}
	if c, _ := tagged.store.Counts(ctx); c.Incoming != 0 {
		t.Error("the status was queued for the client")
	}
}

func createOutgoing(t *testing.T, st *store.Store, messageID string) {
	t.Helper()
	m := store.OutMessage{MessageID: messageID, ConversationID: "c-" + messageID, SBD: []byte(`{}`), ServiceIdentifier: "DPO"}
	c := store.Conversation{ConversationID: m.ConversationID, MessageID: messageID, ServiceIdentifier: "DPO", Expiry: time.Now().Add(time.Hour)}
	if _, err := st.CreateOutgoing(context.Background(), m, c, nil); err != nil {
		t.Fatal(err)
	}
}

// flaky fails like a store that is down until told otherwise.
type flaky struct {
	down bool
	next Handler
}

func (f *flaky) Handle(ctx context.Context, sbd *wire.StandardBusinessDocument, asic []byte, s wire.ServiceIdentifier) error {
	if f.down {
		return errors.New("database is locked")
	}
	return f.next.Handle(ctx, sbd, asic, s)
}

func TestTransientFailuresLeaveTransfersForTheNextRound(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a, b := w.channel(orgA), w.ip(orgB)
	ctx := context.Background()
	msg, files := arkivmelding(t)
	id := w.send(a, msg, files, orgB)

	h := &flaky{down: true, next: b.inbound}
	p := NewPoller(b.ch, h)
	if n, err := p.Poll(ctx); err == nil || n != 0 {
		t.Fatalf("poll with the store down: %d %v", n, err)
	}
	if s := w.recipientStatus(id, orgB); s == dposim.RecipientDownloadConfirmed {
		t.Fatal("confirmed although the message was not stored")
	}
	ctl := admin.NewClient(w.dpoURL+"/__admin", nil)
	if err := ctl.SetFault(ctx, admin.Fault{Mode: admin.ModeStatus, Status: 503, Paths: []string{"/broker/"}}); err != nil {
		t.Fatal(err)
	}
	h.down = false
	if n, err := p.Poll(ctx); err == nil || n != 0 {
		t.Fatalf("poll through a 503: %d %v", n, err)
	}
	if err := ctl.ClearFault(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := p.Poll(ctx); err != nil || n != 1 {
		t.Fatalf("poll after recovery: %d %v", n, err)
	}
	if s := w.recipientStatus(id, orgB); s != dposim.RecipientDownloadConfirmed {
		t.Errorf("recipient status %s", s)
	}
}

func TestUnpackIsBounded(t *testing.T) {
	t.Parallel()
	big := zipOf(t, map[string][]byte{"sbd.json": []byte("{}"), "asic.zip": bytes.Repeat([]byte("a"), 4096)})
	if _, _, err := unpack(big, 1024); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized entry: %v", err)
	}
	sbd, asic, err := unpack(zipOf(t, map[string][]byte{"sbd.json": []byte("{}"), "other.txt": []byte("x")}), 1024)
	if err != nil || string(sbd) != "{}" || asic != nil {
		t.Errorf("unpack: %q %v %v", sbd, asic, err)
	}
}

// TestStatusesTravelBack runs two integration points against the same broker: A sends, B receives and
// its delivery sends MOTTATT back; B's client deletes the message and LEVERT follows; A's poller
// registers both on its outgoing conversation.
func TestStatusesTravelBack(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a, b := w.ip(orgA), w.ip(orgB)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	pop := fixtures.Default()
	srCred := w.pki.MustGet(fixtures.CredSR)
	reg, err := sr.New(sr.Options{Signer: srCred.Key, Certificate: srCred.Certificate, Registrations: pop.Registrations(w.pki),
		SvarUtCertificate: w.pki.MustGet(fixtures.CredSvarUt).CertificatePEM()})
	if err != nil {
		t.Fatal(err)
	}
	srSrv := httptest.NewServer(reg.Handler())
	t.Cleanup(srSrv.Close)
	del := delivery.New(delivery.Options{Store: b.store, Channels: []channel.Channel{b.ch},
		Registry:       registry.New(registry.Options{BaseURL: srSrv.URL, HTTP: &http.Client{Timeout: 5 * time.Second}}),
		Retry:          delivery.RetryPolicy{Initial: 10 * time.Millisecond, Multiplier: 2, Max: 100 * time.Millisecond, MaxAttempts: 5},
		AttemptTimeout: 10 * time.Second, PollInterval: 10 * time.Millisecond, TTLScanInterval: time.Hour})
	done := make(chan struct{})
	go func() { del.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	msg, files := arkivmelding(t)
	createOutgoing(t, a.store, msg.MessageID())
	w.send(a.ch, msg, files, orgB)
	if n, err := b.poller.Poll(ctx); n != 1 || err != nil {
		t.Fatalf("B's poll: %d %v", n, err)
	}
	waitFor(t, a, msg.MessageID(), wire.StatusMottatt)

	if _, ok, _ := b.store.Peek(ctx, store.Filter{}, time.Minute); !ok {
		t.Fatal("B has nothing to peek")
	}
	if _, err := b.inbound.Acknowledge(ctx, msg.MessageID()); err != nil {
		t.Fatal(err)
	}
	del.Wake()
	waitFor(t, a, msg.MessageID(), wire.StatusLevert)
	got := statusNames(t, a.store, msg.MessageID(), store.Outgoing)
	if diff := cmp.Diff([]string{"OPPRETTET", "MOTTATT", "LEVERT"}, got); diff != "" {
		t.Errorf("A's statuses (-want +got):\n%s", diff)
	}
	got = statusNames(t, b.store, msg.MessageID(), store.Incoming)
	if diff := cmp.Diff([]string{"OPPRETTET", "INNKOMMENDE_MOTTATT", "INNKOMMENDE_LEVERT"}, got); diff != "" {
		t.Errorf("B's statuses (-want +got):\n%s", diff)
	}
	if c, _ := b.store.Counts(ctx); c.Queued != 0 {
		t.Errorf("B's delivery queue: %+v", c)
	}
}

// waitFor polls A's broker inbox until its outgoing conversation has status s.
func waitFor(t *testing.T, a *ip, messageID string, s wire.ReceiptStatus) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := a.poller.Poll(context.Background()); err != nil {
			t.Logf("A's poll: %v", err)
		}
		for _, got := range statusNames(t, a.store, messageID, store.Outgoing) {
			if got == string(s) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("A never got %s: %v", s, statusNames(t, a.store, messageID, store.Outgoing))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func statusNames(t *testing.T, st *store.Store, messageID, direction string) []string {
	t.Helper()
	c, err := st.ConversationByMessageID(context.Background(), messageID, direction)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range c.Statuses {
		out = append(out, string(s.Status))
	}
	return out
}

func TestRunPollsReporteesWithTheirOwnSystemUser(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a := w.channel(orgA)
	// An integration point of orgA that also receives for orgB (a reportee) with its own key.
	host := w.ip(orgA, func(o *Options) { o.Reportees = []string{orgB} })
	msg, files := arkivmelding(t)
	id := w.send(a, msg, files, orgA) // encrypted for the host's key
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { host.poller.Run(ctx, 10*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for w.recipientStatus(id, orgB) != dposim.RecipientDownloadConfirmed {
		if time.Now().After(deadline) {
			t.Fatalf("the reportee's transfer was never confirmed: %s", w.recipientStatus(id, orgB))
		}
		time.Sleep(10 * time.Millisecond)
	}
	m, err := host.store.IncomingMessage(context.Background(), msg.MessageID())
	if err != nil || m.ReceiverIdentifier != orgB {
		t.Errorf("reportee's message: %+v %v", m, err)
	}
}
