package dpf

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	dpfsim "github.com/efm-harness/efm-harness/simulator/dpf"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel/channeltest"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/inbound"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/sample"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

const (
	ipOrg    = "910077473"
	kommune  = "910229028"
	password = "hemmelig"
)

var account = Account{KontoID: "0f6b5a3c-1a2b-4c3d-8e9f-0a1b2c3d4e5f", IntegrasjonID: "9a1c2b3d-0000-4000-8000-000000000001", IntegrasjonPassord: password}

// world is the real Maskinporten and DPF simulators and a channel for ipOrg pointed at them.
type world struct {
	ch    *Channel
	sim   *dpfsim.Server
	admin *admin.Client
	pki   *fixtures.PKI
}

func newWorld(t *testing.T) *world {
	t.Helper()
	pki := fixtures.MustLoadPKI()
	mp := channeltest.StartMaskinporten(t, pki)
	sim, err := dpfsim.New(dpfsim.Options{Key: pki.MustGet(fixtures.CredSvarUt).Key, Maskinporten: mp.Server.Verifier(),
		Integrations: map[string]string{account.IntegrasjonID: password},
		SvarInnUsers: map[string]dpfsim.SvarInnUser{"svarinn": {Password: password, Orgnr: ipOrg}},
		SvarInnOrgs:  []string{ipOrg}, DefaultSender: kommune,
		Credentials: func(org string) (*rsa.PrivateKey, *x509.Certificate, bool) {
			c, ok := pki.Get(org)
			return c.Key, c.Certificate, ok
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	org := pki.MustGet(ipOrg)
	hc := &http.Client{Timeout: 5 * time.Second}
	ch := New(Options{SvarUtURL: srv.URL, SvarInnURL: srv.URL + dpfsim.SvarInnBase, OrgNumber: ipOrg,
		Accounts: map[string]Account{ipOrg: account}, SvarInnUsers: map[string]BasicAuth{ipOrg: {Username: "svarinn", Password: password}},
		Key: org.Key, Certificate: org.Certificate, HTTP: hc, Tokens: mp.Tokens(ipOrg, hc),
		Info: func(_ context.Context, orgnr string) (wire.InfoRecord, error) {
			return wire.InfoRecord{Identifier: orgnr, OrganizationName: "ORG " + orgnr,
				Postadresse: &wire.Postadresse{Adresse: "Gate 1", Postnummer: "0468", Poststed: "OSLO"}}, nil
		}})
	return &world{ch: ch, sim: sim, admin: admin.NewClient(srv.URL+admin.Prefix, hc), pki: pki}
}

// message is an arkivmelding to the municipality whose arkivmelding.xml names vedlegg.txt and brev.pdf
// (the hoveddokument), uploaded in that order.
func (w *world) message(t *testing.T, mutate func(*wire.StandardBusinessDocument)) (channel.Message, map[string][]byte) {
	t.Helper()
	sbd := fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{Receiver: kommune, TTL: time.Hour})
	if mutate != nil {
		mutate(sbd)
	}
	am, err := sample.BuildArkivmelding(sample.ArkivmeldingSpec{Title: "Søknad om byggetillatelse", Author: "Kari Saksbehandler",
		Documents: []sample.Document{{Filename: "vedlegg.txt"}, {Filename: "brev.pdf", Primary: true}}})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"arkivmelding.xml": am, "brev.pdf": sample.PDF("Søknad"), "vedlegg.txt": []byte("vedlegg")}
	fs := []store.File{{Filename: "arkivmelding.xml", MimeType: "text/xml", Dokumentnummer: 1},
		{Filename: "vedlegg.txt", MimeType: "text/plain", Dokumentnummer: 2},
		{Filename: "brev.pdf", MimeType: "application/pdf", Dokumentnummer: 3}}
	return channel.Message{SBD: sbd, Files: fs, Attempt: 1,
		Open: func(f store.File) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(files[f.Filename])), nil
		},
		Record: wire.ServiceRecord{PEMCertificate: w.pki.MustGet(fixtures.CredSvarUt).CertificatePEM(),
			Service: wire.Service{Identifier: wire.ServiceDPF}}}, files
}

// view is what the tests read of the simulator's admin view of a forsendelse.
type view struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	Forsendelse struct {
		Tittel              string         `json:"tittel"`
		EksternReferanse    string         `json:"eksternReferanse"`
		Sikkerhetsniva      string         `json:"sikkerhetsniva"`
		SvarPaForsendelseID string         `json:"svarPaForsendelseId"`
		Forsendelsestype    string         `json:"forsendelsestype"`
		Mottaker            map[string]any `json:"mottaker"`
		SvarSendesTil       map[string]any `json:"svarSendesTil"`
		Metadata            map[string]any `json:"metadataFraAvleverendeSystem"`
	} `json:"forsendelse"`
	Documents []struct {
		Filnavn   string `json:"filnavn"`
		MimeType  string `json:"mimeType"`
		Encrypted bool   `json:"encrypted"`
		Content   string `json:"content"`
	} `json:"documents"`
	IntegrasjonID string `json:"integrasjonId"`
}

func (w *world) view(t *testing.T, id string) view {
	t.Helper()
	var v view
	if err := w.admin.Do(context.Background(), http.MethodGet, "/messages/"+id+"?content=true", nil, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSendMapsTheArkivmeldingAndEncryptsEachDocument(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	four := 4
	receiverRef := uuid.NewString()
	m, files := w.message(t, func(sbd *wire.StandardBusinessDocument) {
		am := sbd.Message.(*wire.Arkivmelding)
		am.Sikkerhetsnivaa, am.DPF = &four, &wire.DPFSettings{ForsendelseType: "Byggesøknad"}
		sbd.Header.BusinessScope.Scope = append(sbd.Header.BusinessScope.Scope,
			wire.Scope{Type: wire.ScopeReceiverRef, InstanceIdentifier: receiverRef})
	})
	res, err := w.ch.Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uuid.Parse(res.ExternalReference); err != nil || !res.Pollable || !cmp.Equal(res.Then, []wire.ReceiptStatus{wire.StatusLevert}) {
		t.Fatalf("result %+v: want SvarUt's id, pollable, then LEVERT", res)
	}
	v := w.view(t, res.ExternalReference)
	got := map[string]any{"tittel": v.Forsendelse.Tittel, "eksternReferanse": v.Forsendelse.EksternReferanse,
		"sikkerhetsniva": v.Forsendelse.Sikkerhetsniva, "svarPaForsendelseId": v.Forsendelse.SvarPaForsendelseID,
		"forsendelsestype": v.Forsendelse.Forsendelsestype, "mottaker": v.Forsendelse.Mottaker["navn"],
		"svarSendesTil": v.Forsendelse.SvarSendesTil["organisasjonsnummer"], "journalposttype": v.Forsendelse.Metadata["journalposttype"],
		"journalstatus": v.Forsendelse.Metadata["journalstatus"], "journalaar": v.Forsendelse.Metadata["journalaar"],
		"integrasjonId": v.IntegrasjonID}
	want := map[string]any{"tittel": "Søknad om byggetillatelse", "eksternReferanse": m.SBD.MessageID(), "sikkerhetsniva": "HOYESTE",
		"svarPaForsendelseId": receiverRef, "forsendelsestype": "Byggesøknad", "mottaker": "ORG " + kommune,
		"svarSendesTil": ipOrg, "journalposttype": "U", "journalstatus": "J", "journalaar": time.Now().Format("2006"),
		"integrasjonId": account.IntegrasjonID}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("forsendelse (-want +got):\n%s", d)
	}
	var names []string
	for _, d := range v.Documents {
		names = append(names, d.Filnavn+" "+d.MimeType)
		content, _ := base64.StdEncoding.DecodeString(d.Content)
		if d.Encrypted || !bytes.Equal(content, files[d.Filnavn]) {
			t.Errorf("%s: not decrypted byte for byte at SvarUt (encrypted %v)", d.Filnavn, d.Encrypted)
		}
	}
	if d := cmp.Diff([]string{"brev.pdf application/pdf", "vedlegg.txt text/plain"}, names); d != "" {
		t.Errorf("documents, hoveddokument first (-want +got):\n%s", d)
	}
}

func TestSendFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		setup     func(*world) error
		mutate    func(*Channel)
		permanent bool
		text      string
	}{
		{name: "SvarUt rejects", permanent: true, text: "Ugyldig mottaker",
			setup: func(w *world) error {
				return w.admin.SetBehaviour(context.Background(), map[string]any{"avvis": map[string]any{"status": 400, "message": "Ugyldig mottaker"}})
			}},
		{name: "SvarUt unavailable", text: "503",
			setup: func(w *world) error {
				return w.admin.SetFault(context.Background(), admin.Fault{Mode: admin.ModeStatus, Status: 503})
			}},
		{name: "wrong integration password", permanent: true, text: "authentication failed",
			mutate: func(c *Channel) {
				c.opts.Accounts = map[string]Account{ipOrg: {KontoID: account.KontoID, IntegrasjonID: account.IntegrasjonID, IntegrasjonPassord: "feil"}}
			}},
		{name: "no SvarUt account for the sender", permanent: true, text: "SvarUt credentials not configured for orgnr " + ipOrg,
			mutate: func(c *Channel) { c.opts.Accounts = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			if tc.setup != nil {
				if err := tc.setup(w); err != nil {
					t.Fatal(err)
				}
			}
			if tc.mutate != nil {
				tc.mutate(w.ch)
			}
			m, _ := w.message(t, nil)
			_, err := w.ch.Send(context.Background(), m)
			if err == nil || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("error %v, want one containing %q", err, tc.text)
			}
			if _, perm := channel.AsPermanent(err); perm != tc.permanent {
				t.Fatalf("permanent = %v, want %v (%v)", perm, tc.permanent, err)
			}
		})
	}
}

func TestRetryFindsTheForsendelseOfAnEarlierAttempt(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	m, _ := w.message(t, nil)
	first, err := w.ch.Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	m.Attempt = 2
	again, err := w.ch.Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if again.ExternalReference != first.ExternalReference {
		t.Fatalf("retry sent anew: %s, first %s", again.ExternalReference, first.ExternalReference)
	}
	var list struct {
		Forsendelser []struct{ ID string } `json:"forsendelser"`
	}
	if err := w.admin.Messages(context.Background(), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Forsendelser) != 1 {
		t.Fatalf("SvarUt holds %d forsendelser, want 1", len(list.Forsendelser))
	}
}

func TestReceiptsAreNotSent(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sbd := fixtures.MustSBD(wire.TypeArkivmeldingKvittering, fixtures.SBDSpec{Receiver: kommune})
	res, err := w.ch.Send(context.Background(), channel.Message{SBD: sbd})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(channel.Result{Then: []wire.ReceiptStatus{wire.StatusLevert, wire.StatusLest}}, res); d != "" {
		t.Fatalf("result (-want +got):\n%s", d)
	}
}

func TestPollTurnsLestIntoLestAndUnknownIntoFeil(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	m, _ := w.message(t, nil)
	res, err := w.ch.Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	p := w.ch.Poller()
	conv := store.Conversation{MessageID: m.SBD.MessageID(), SenderIdentifier: ipOrg, ExternalSystemReference: res.ExternalReference}
	if got, err := p.Poll(context.Background(), conv); err != nil || len(got) != 0 {
		t.Fatalf("AKSEPTERT: %v %v, want nothing", got, err)
	}
	byRef := conv
	byRef.ExternalSystemReference = "" // found by eksternRef
	if err := w.admin.Do(context.Background(), http.MethodPost, "/messages/"+res.ExternalReference+"/lest", nil, nil); err != nil {
		t.Fatal(err)
	}
	no := false
	for _, c := range []store.Conversation{conv, byRef} {
		got, err := p.Poll(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Status != wire.StatusLest || got[0].Pollable == nil || *got[0].Pollable || got[0].At.IsZero() {
			t.Fatalf("after LEST: %+v", got)
		}
	}
	unknown := store.Conversation{MessageID: uuid.NewString(), SenderIdentifier: ipOrg}
	got, err := p.Poll(context.Background(), unknown)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]store.StatusChange{{Status: wire.StatusFeil, Description: DescriptionUnknown, Pollable: &no}}, got); d != "" {
		t.Fatalf("unknown forsendelse (-want +got):\n%s", d)
	}
}

func TestMap(t *testing.T) {
	t.Parallel()
	no := false
	at := time.Date(2023, 1, 1, 11, 33, 55, 8e6, time.FixedZone("", 3600))
	for _, tc := range []struct {
		status string
		want   []store.StatusChange
	}{
		{"MOTTATT", nil}, {"AKSEPTERT", nil}, {"VARSLET", nil}, {"SENDT_PRINT", nil},
		{"LEST", []store.StatusChange{{Status: wire.StatusLest, At: at, Pollable: &no}}},
		{"AVVIST", []store.StatusChange{{Status: wire.StatusFeil, Description: DescriptionAvvist, At: at, Pollable: &no}}},
	} {
		got := Map(ForsendelseStatus{ID: "x", Status: tc.status, SisteStatusEndring: "2023-01-01T11:33:55.008+01:00"})
		if d := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.status, d)
		}
	}
}

// recorder is a Handler that keeps what it gets.
type recorder struct {
	mu   sync.Mutex
	sbds []*wire.StandardBusinessDocument
	asic [][]byte
	fail error
}

func (r *recorder) Handle(_ context.Context, sbd *wire.StandardBusinessDocument, asic []byte, service wire.ServiceIdentifier) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if service != wire.ServiceDPF {
		return errors.New("wrong service " + string(service))
	}
	if r.fail != nil {
		return r.fail
	}
	r.sbds, r.asic = append(r.sbds, sbd), append(r.asic, asic)
	return nil
}

func TestReceiveConvertsGoodForsendelserAndReportsBadOnes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	inject := func(body map[string]any) string {
		var res dpfsim.InjectResult
		if err := w.admin.Inject(ctx, body, &res); err != nil {
			t.Fatal(err)
		}
		return res.ID
	}
	corrupt := inject(map[string]any{"receiver": ipOrg, "corrupt": true})
	svarPa := uuid.NewString()
	good := inject(map[string]any{"receiver": ipOrg, "tittel": "Vedtak i byggesak", "senderName": "Kommunen", "svarPaForsendelse": svarPa,
		"files": []map[string]string{{"name": "vedtak.pdf", "mimeType": "application/pdf", "text": "%PDF vedtak"},
			{"name": "kart.png", "mimeType": "image/png", "text": "png"}}})
	rec := &recorder{}
	r := w.ch.Receiver(rec)
	n, err := r.Poll(ctx)
	if err != nil || n != 1 {
		t.Fatalf("first round: handled %d, %v; want 1 and no error", n, err)
	}
	if len(rec.sbds) != 1 {
		t.Fatalf("handler got %d messages", len(rec.sbds))
	}
	sbd := rec.sbds[0]
	got := map[string]string{"messageId": sbd.MessageID(), "conversationId": sbd.ConversationID(), "sender": sbd.SenderIdentifier(),
		"receiver": sbd.ReceiverIdentifier(), "process": sbd.Process(), "standard": sbd.Standard(),
		"receiverRef": sbd.FindScope(wire.ScopeReceiverRef).InstanceIdentifier, "hoveddokument": sbd.Message.(*wire.Arkivmelding).Hoveddokument}
	want := map[string]string{"messageId": good, "conversationId": good, "sender": "0192:" + kommune, "receiver": "0192:" + ipOrg,
		"process": wire.ProcessArkivmeldingAdministrasjon, "standard": wire.StandardArkivmelding, "receiverRef": svarPa, "hoveddokument": "vedtak.pdf"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("SBD (-want +got):\n%s", d)
	}
	c, err := dokumentpakke.ReadASiCE(rec.asic[0], dokumentpakke.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range c.Files {
		names = append(names, f.Name)
	}
	if d := cmp.Diff([]string{"arkivmelding.xml", "vedtak.pdf", "kart.png"}, names); d != "" {
		t.Errorf("ASiC-E files (-want +got):\n%s", d)
	}
	am, err := wire.ParseArkivmelding(bytes.NewReader(c.File("arkivmelding.xml").Content), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	jp, _ := am.Journalpost()
	avsender, _ := jp.Part(wire.KorrespondansepartAvsender)
	var refs []string
	for _, d := range jp.Documents() {
		refs = append(refs, d.TilknyttetRegistreringSom+" "+d.Dokumentobjekt[0].ReferanseDokumentfil)
	}
	gotAM := []string{am.MeldingID, am.System, jp.OffentligTittel, jp.Journalposttype, avsender.KorrespondansepartNavn, strings.Join(refs, ", ")}
	wantAM := []string{good, System, "Vedtak i byggesak", "Utgående dokument", "Kommunen", "Hoveddokument vedtak.pdf, Vedlegg kart.png"}
	if d := cmp.Diff(wantAM, gotAM); d != "" {
		t.Errorf("arkivmelding.xml (-want +got):\n%s", d)
	}

	var goodView, badView struct {
		Status       string `json:"status"`
		Acknowledged bool   `json:"acknowledged"`
		MottakFeilet any    `json:"mottakFeilet"`
	}
	_ = w.admin.Message(ctx, good, &goodView)
	_ = w.admin.Message(ctx, corrupt, &badView)
	if !goodView.Acknowledged || badView.Acknowledged || badView.MottakFeilet == nil {
		t.Fatalf("good %+v, corrupt %+v: want the good one acknowledged and the corrupt one reported", goodView, badView)
	}
	if n, err := r.Poll(ctx); err != nil || n != 0 || len(rec.sbds) != 1 {
		t.Fatalf("second round: handled %d, %v, handler has %d; want nothing new", n, err, len(rec.sbds))
	}
}

func TestReceiveLeavesAForsendelseTheStoreCouldNotTake(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	var res dpfsim.InjectResult
	if err := w.admin.Inject(ctx, map[string]any{"receiver": ipOrg}, &res); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{fail: errors.New("database is locked")}
	r := w.ch.Receiver(rec)
	if n, err := r.Poll(ctx); err == nil || n != 0 {
		t.Fatalf("handled %d, %v; want 0 and the store's error", n, err)
	}
	rec.fail = nil
	if n, err := r.Poll(ctx); err != nil || n != 1 {
		t.Fatalf("next round: handled %d, %v; want 1", n, err)
	}
	rec.fail = inbound.ErrRejected // rejected for good: reported, not retried
	if err := w.admin.Inject(ctx, map[string]any{"receiver": ipOrg}, &res); err != nil {
		t.Fatal(err)
	}
	if n, _ := r.Poll(ctx); n != 0 {
		t.Fatalf("a rejected forsendelse was acknowledged")
	}
	var v struct {
		MottakFeilet any `json:"mottakFeilet"`
	}
	_ = w.admin.Message(ctx, res.ID, &v)
	if v.MottakFeilet == nil {
		t.Fatal("a rejected forsendelse was not reported with mottakFeilet")
	}
}
