package dpi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel/channeltest"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

const ipOrg = "910077473"

// corner2 records what the channel posts and serves KRR's print certificate.
type corner2 struct {
	mu       sync.Mutex
	query    string
	auth     string
	parts    map[string][]byte
	ctypes   map[string]string
	answer   int
	once401  bool // answer the next send 401
	krrCalls int
	krr      wire.KRRPrintSertifikat
}

func (c *corner2) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case r.URL.Path == "/krr":
		c.krrCalls++
		_ = json.NewEncoder(w).Encode(c.krr)
	case r.Method == http.MethodPost && r.URL.Path == "/api/v2/dpi/messages/out":
		c.query, c.auth = r.URL.RawQuery, r.Header.Get("Authorization")
		mr, err := r.MultipartReader()
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		c.parts, c.ctypes = map[string][]byte{}, map[string]string{}
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(p)
			c.parts[p.FormName()] = b
			c.ctypes[p.FormName()] = p.FileName() + " " + p.Header.Get("Content-Type")
		}
		if c.once401 {
			c.once401 = false
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if c.answer != 0 {
			w.WriteHeader(c.answer)
			return
		}
		_, _ = io.WriteString(w, "{}")
	default:
		http.NotFound(w, r)
	}
}

type setup struct {
	ch  *Channel
	c2  *corner2
	pki *fixtures.PKI
}

func newSetup(t *testing.T) *setup {
	t.Helper()
	pki := fixtures.MustLoadPKI()
	mp := channeltest.StartMaskinporten(t, pki)
	c2 := &corner2{krr: wire.KRRPrintSertifikat{PostkasseleverandoerAdresse: fixtures.PrintProviderOrgnr,
		X509Sertifikat: pki.MustGet(fixtures.CredPrint).CertificatePEM()}}
	srv := httptest.NewServer(c2)
	t.Cleanup(srv.Close)
	org := pki.MustGet(ipOrg)
	hc := &http.Client{Timeout: 5 * time.Second}
	ch := New(Options{URI: srv.URL + "/api/v2/dpi", KRRPrintURL: srv.URL + "/krr", MpcID: "no.difi.move.integrasjonspunkt", OrgNumber: ipOrg,
		Key: org.Key, Certificate: org.Certificate, HTTP: hc, Tokens: mp.Tokens(ipOrg, hc),
		Now: func() time.Time { return time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC) }})
	return &setup{ch: ch, c2: c2, pki: pki}
}

func message(sbd *wire.StandardBusinessDocument, files map[string][]byte, fs []store.File, rec wire.ServiceRecord) channel.Message {
	return channel.Message{SBD: sbd, Files: fs, Record: rec, Attempt: 1,
		Open: func(f store.File) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(files[f.Filename])), nil
		}}
}

// opened is what the provider sees of a posted message.
type opened struct {
	msg       wire.DPIMessage
	container *dokumentpakke.Container
	manifest  *wire.SDPManifest
}

// open checks the posted parts as a provider would: the JWS verifies with its x5c, the dokumentpakke
// decrypts with the provider key, its fingerprint matches and its XAdES signature verifies.
func (s *setup) open(t *testing.T, providerCred string) opened {
	t.Helper()
	s.c2.mu.Lock()
	defer s.c2.mu.Unlock()
	if d := cmp.Diff(map[string]string{"forretningsmelding": "sbd.jwt application/jwt", "dokumentpakke": "asic.cms application/cms"}, s.c2.ctypes); d != "" {
		t.Fatalf("parts (-want +got):\n%s", d)
	}
	payload, cert, err := dokumentpakke.VerifyJWS(string(s.c2.parts["forretningsmelding"]), dokumentpakke.VerifyOptions{})
	if err != nil || cert.Subject.SerialNumber != ipOrg {
		t.Fatalf("forretningsmelding: %v (signer %v)", err, cert)
	}
	var o opened
	if err := json.Unmarshal(payload, &o.msg); err != nil {
		t.Fatalf("forretningsmelding payload: %v\n%s", err, payload)
	}
	cms := s.c2.parts["dokumentpakke"]
	sum := sha256.Sum256(cms)
	fp := wire.DPIFingeravtrykk{DigestMethod: wire.DPIDigestMethod, DigestValue: base64.StdEncoding.EncodeToString(sum[:])}
	var got wire.DPIFingeravtrykk
	if o.msg.Digital != nil {
		got = o.msg.Digital.Dokumentpakkefingeravtrykk
	} else {
		got = o.msg.Utskrift.Dokumentpakkefingeravtrykk
	}
	if got != fp {
		t.Errorf("fingerprint %+v, want %+v", got, fp)
	}
	asic, err := dokumentpakke.Decrypt(cms, s.pki.MustGet(providerCred).Key)
	if err != nil {
		t.Fatalf("decrypt for %s: %v", providerCred, err)
	}
	if o.container, err = dokumentpakke.VerifyXAdES(asic); err != nil {
		t.Fatalf("XAdES: %v", err)
	}
	if o.manifest, err = wire.ParseSDPManifest(o.container.File("manifest.xml").Content); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestSendDigital(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	citizen := fixtures.Default().Citizen(fixtures.RoleDigital)
	sbd := fixtures.MustSBD(wire.TypeDigital, fixtures.SBDSpec{Receiver: citizen.Fnr, TTL: time.Hour})
	d := sbd.Message.(*wire.Digital)
	d.MetadataFiler = map[string]string{"brev.pdf": "brev.xml"}
	d.AvsenderID, d.FakturaReferanse = "avd-42", "F-1"
	files := map[string][]byte{"brev.pdf": []byte("%PDF brev"), "vedlegg.pdf": []byte("%PDF vedlegg"), "brev.xml": []byte("<x/>")}
	fs := []store.File{{Filename: "brev.pdf", Title: "Brevet", MimeType: "application/pdf", Primary: true},
		{Filename: "brev.xml", Title: "Metadata", MimeType: "application/xml"}, {Filename: "vedlegg.pdf", MimeType: "application/pdf"}}
	box, kanVarsles := "ola.nordmann#9YDT", true
	rec := wire.ServiceRecord{PEMCertificate: s.pki.MustGet(fixtures.CredDigipost).CertificatePEM(), OrgnrPostkasse: fixtures.DigipostOrgnr,
		PostkasseAdresse: &box, EpostAdresse: "ola@example.test", Mobilnummer: "+4799999999", KanVarsles: &kanVarsles,
		Service: wire.Service{Identifier: wire.ServiceDPI}}
	res, err := s.ch.Send(context.Background(), message(sbd, files, fs, rec))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Pollable {
		t.Errorf("result %+v: want pollable", res)
	}
	if s.c2.query != "kanal=no_difi_move_integrasjonspunkt" || !strings.HasPrefix(s.c2.auth, "Bearer ") || s.c2.krrCalls != 1 {
		t.Errorf("query %q, auth %q, KRR calls %d", s.c2.query, s.c2.auth, s.c2.krrCalls)
	}
	o := s.open(t, fixtures.CredDigipost)
	h := o.msg.Header
	gotHeader := []string{h.Sender[0].Identifier.Value, h.Receiver[0].Identifier.Value, h.DocumentIdentification.Standard,
		h.DocumentIdentification.Type, h.DocumentIdentification.InstanceIdentifier, o.msg.ConversationID(), h.BusinessScope.Scope[0].Identifier}
	wantHeader := []string{"0192:" + ipOrg, "0192:" + fixtures.DigipostOrgnr, wire.DPIStandard("digital"), "digital", sbd.MessageID(),
		sbd.ConversationID(), wire.DPIProcess("digital")}
	if diff := cmp.Diff(wantHeader, gotHeader); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	dig := *o.msg.Digital
	if dig.Maskinportentoken != strings.TrimPrefix(s.c2.auth, "Bearer ") {
		t.Error("maskinportentoken is not the bearer token")
	}
	dig.Maskinportentoken, dig.Dokumentpakkefingeravtrykk = "", wire.DPIFingeravtrykk{}
	want := wire.DPIDigital{
		Avsender: wire.DPIAvsender{Virksomhetsidentifikator: wire.NewDPIIdentifier(ipOrg), Avsenderidentifikator: "avd-42", FakturaReferanse: "F-1"},
		Mottaker: wire.DPIDigitalMottaker{Postkasseadresse: box}, Sikkerhetsnivaa: 3,
		Virkningstidspunkt: d.DigitalPostInfo.Virkningsdato.In(wire.Oslo()).Format(time.RFC3339), Ikkesensitivtittel: "Vedtak om tilskudd", Spraak: "NO",
		Varsler: &wire.DPIVarsler{
			Epostvarsel: &wire.DPIVarsel{Epostadresse: "ola@example.test", Varslingstekst: "Du har fått et brev fra kommunen", Repetisjoner: []int{0, 7}},
			Smsvarsel:   &wire.DPIVarsel{Mobiltelefonnummer: "+4799999999", Varslingstekst: "Du har fått brev", Repetisjoner: []int{0, 7}}},
	}
	if diff := cmp.Diff(want, dig); diff != "" {
		t.Errorf("digital (-want +got):\n%s", diff)
	}
	wantManifest := &wire.SDPManifest{XMLName: o.manifest.XMLName, Mottaker: &wire.SDPMottaker{Person: wire.SDPPerson{Postkasseadresse: box}},
		Avsender: wire.SDPAvsender{Organisasjon: wire.SDPOrganisasjon{Authority: wire.AuthorityISO6523, Value: "0192:" + ipOrg},
			Avsenderidentifikator: "avd-42", FakturaReferanse: "F-1"},
		Hoveddokument: wire.SDPDokument{Href: "brev.pdf", Mime: "application/pdf", Tittel: wire.SDPTittel{Lang: "NO", Value: "Brevet"},
			Data: &wire.SDPData{Href: "brev.xml", Mime: "application/xml"}},
		Vedlegg: []wire.SDPDokument{{Href: "vedlegg.pdf", Mime: "application/pdf", Tittel: wire.SDPTittel{Lang: "NO", Value: MissingTitle}}}}
	if diff := cmp.Diff(wantManifest, o.manifest); diff != "" {
		t.Errorf("manifest (-want +got):\n%s", diff)
	}
	var names []string
	for _, f := range o.container.Files {
		names = append(names, f.Name)
		if want, ok := files[f.Name]; ok && !bytes.Equal(want, f.Content) {
			t.Errorf("%s differs in the dokumentpakke", f.Name)
		}
	}
	if diff := cmp.Diff([]string{"manifest.xml", "brev.pdf", "vedlegg.pdf", "brev.xml"}, names); diff != "" {
		t.Errorf("dokumentpakke files (-want +got):\n%s", diff)
	}
}

func TestSendPrintWithoutReceiver(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	sbd := fixtures.MustSBD(wire.TypePrint, fixtures.SBDSpec{Receiver: fixtures.Default().Citizen(fixtures.RoleReserved).Fnr, TTL: time.Hour})
	sbd.Header.Receiver = nil
	p := sbd.Message.(*wire.Print)
	p.Mottaker = &wire.PostalAddress{Navn: "Sven", Adresselinje1: "Storgatan 1", Postnummer: "111 22", Poststed: "STOCKHOLM", Land: "Sverige"}
	files := map[string][]byte{"brev.pdf": []byte("%PDF brev")}
	fs := []store.File{{Filename: "brev.pdf", Title: "Brevet", MimeType: "application/pdf", Primary: true}}
	if _, err := s.ch.Send(context.Background(), message(sbd, files, fs, wire.ServiceRecord{Service: wire.Service{Identifier: wire.ServiceDPI}})); err != nil {
		t.Fatal(err)
	}
	o := s.open(t, fixtures.CredPrint)
	u := o.msg.Utskrift
	if o.msg.Header.Receiver[0].Identifier.Value != "0192:"+fixtures.PrintProviderOrgnr || o.manifest.Mottaker != nil {
		t.Errorf("receiver %s, manifest mottaker %+v: want the print provider and no mottaker", o.msg.Header.Receiver[0].Identifier.Value, o.manifest.Mottaker)
	}
	want := wire.DPIAdresse{Navn: "Sven", Adresselinje1: "Storgatan 1", Adresselinje2: "111 22 STOCKHOLM", Land: "Sverige"}
	if diff := cmp.Diff(want, u.Mottaker); diff != "" || u.Utskriftstype != wire.DPIUtskriftSortHvit || u.Posttype != wire.DPIPosttypeB ||
		u.Retur.Returposthaandtering != wire.DPIReturDirekte {
		t.Errorf("utskrift %+v (-want +got mottaker):\n%s", u, diff)
	}
}

func TestSendFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status    int
		permanent bool
	}{{400, true}, {503, false}, {429, false}} {
		s := newSetup(t)
		s.c2.answer = tc.status
		sbd := fixtures.MustSBD(wire.TypePrint, fixtures.SBDSpec{Receiver: fixtures.Default().Citizen(fixtures.RoleReserved).Fnr, TTL: time.Hour})
		files := map[string][]byte{"brev.pdf": []byte("%PDF")}
		fs := []store.File{{Filename: "brev.pdf", Title: "B", MimeType: "application/pdf", Primary: true}}
		_, err := s.ch.Send(context.Background(), message(sbd, files, fs, wire.ServiceRecord{Service: wire.Service{Identifier: wire.ServiceDPI}}))
		if _, perm := channel.AsPermanent(err); err == nil || perm != tc.permanent {
			t.Errorf("answer %d: error %v, permanent %v; want permanent %v", tc.status, err, perm, tc.permanent)
		}
	}
}

// A 401 gets one fresh token, and the forretningsmelding is signed again with it.
func TestSendRetriesA401WithAFreshToken(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	s.c2.once401 = true
	sbd := fixtures.MustSBD(wire.TypePrint, fixtures.SBDSpec{Receiver: fixtures.Default().Citizen(fixtures.RoleReserved).Fnr, TTL: time.Hour})
	files := map[string][]byte{"brev.pdf": []byte("%PDF")}
	fs := []store.File{{Filename: "brev.pdf", Title: "B", MimeType: "application/pdf", Primary: true}}
	if _, err := s.ch.Send(context.Background(), message(sbd, files, fs, wire.ServiceRecord{Service: wire.Service{Identifier: wire.ServiceDPI}})); err != nil {
		t.Fatal(err)
	}
	o := s.open(t, fixtures.CredPrint)
	if o.msg.Utskrift.Maskinportentoken != strings.TrimPrefix(s.c2.auth, "Bearer ") {
		t.Error("the retried forretningsmelding carries another token than its bearer")
	}
}
