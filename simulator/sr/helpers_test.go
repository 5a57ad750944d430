package sr

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

// testNow is the fixed clock of the tests.
var testNow = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// testKeys are generated once per test binary: RSA key generation is slow.
var testKeys = sync.OnceValue(func() map[string]*rsa.PrivateKey {
	keys := map[string]*rsa.PrivateKey{}
	for _, name := range []string{"sr", "certs", "token", "forged"} {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[name] = k
	}
	return keys
})

func testKey(t testing.TB, name string) *rsa.PrivateKey {
	t.Helper()
	k, ok := testKeys()[name]
	if !ok {
		t.Fatalf("no test key %q", name)
	}
	return k
}

// selfSignedCert makes a self-signed certificate for key named cn.
func selfSignedCert(t testing.TB, key *rsa.PrivateKey, cn string) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(int64(len(cn)) + 1000),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    testNow.Add(-time.Hour),
		NotAfter:     testNow.AddDate(1, 0, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create certificate %s: %v", cn, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse certificate %s: %v", cn, err)
	}
	return c
}

var pemCache sync.Map

// testPEM is a PEM certificate named cn (cached per name).
func testPEM(t testing.TB, cn string) string {
	t.Helper()
	if v, ok := pemCache.Load(cn); ok {
		return v.(string)
	}
	c := selfSignedCert(t, testKey(t, "certs"), cn)
	s := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
	v, _ := pemCache.LoadOrStore(cn, s)
	return v.(string)
}

// validFnr makes a valid fødselsnummer from a date (ddmmyy) and an individual number, trying the following
// individual numbers until the check digits work out.
func validFnr(t testing.TB, ddmmyy string, individual int) string {
	t.Helper()
	for i := individual; i < individual+100; i++ {
		first9 := fmt.Sprintf("%s%03d", ddmmyy, i%1000)
		if cd, ok := wire.FodselsnummerCheckDigits(first9); ok {
			return first9 + cd
		}
	}
	t.Fatalf("no valid fødselsnummer for %s", ddmmyy)
	return ""
}

// invalidFnr changes the last check digit of a valid fødselsnummer.
func invalidFnr(fnr string) string {
	last := fnr[10] - '0'
	return fnr[:10] + string(rune('0'+(last+1)%10))
}

// Test population.
const (
	orgDPO     = "910075918" // DPO on every arkivmelding and avtalt process
	orgSender  = "910077473" // the calling sender, DPO everywhere
	orgPartial = "910094092" // DPO on administrasjon and planByggOgGeodata
	orgDPV     = "910076787" // on nothing: DPV
	orgDPF     = "910229028" // KS SvarUt levels 3 and 4
	orgDPF3    = "910085379" // KS SvarUt level 3
	orgEinnsyn = "910094548" // eInnsyn processes and DPO administrasjon
	orgUnknown = "404040404"
	printOrgnr = "984661185"
)

type population struct {
	regs []wire.Registration
	fnrDigital, fnrReserved, fnrNoMailbox, fnrSecret, fnrNotNotifiable, fnrDeleted,
	fnrUnknown string
}

func allDPOProcesses() []string {
	return append(wire.ArkivmeldingProcesses(), wire.ProcessAvtalt)
}

func testPopulation(t testing.TB) population {
	t.Helper()
	p := population{
		fnrDigital:       validFnr(t, "010190", 100),
		fnrReserved:      validFnr(t, "020290", 200),
		fnrNoMailbox:     validFnr(t, "030390", 300),
		fnrSecret:        validFnr(t, "040490", 400),
		fnrNotNotifiable: validFnr(t, "050590", 500),
		fnrDeleted:       validFnr(t, "060690", 600),
		fnrUnknown:       validFnr(t, "070790", 700),
	}
	addr := func(street string) *wire.Postadresse {
		return &wire.Postadresse{Adresse: street, Postnummer: "0468", Poststed: "OSLO", Land: "Norge"}
	}
	org := func(orgnr, name, form string, smp []string, levels []int) wire.Registration {
		return wire.Registration{Identifier: orgnr, Organization: &wire.OrganizationFacts{Name: name, OrgForm: form,
			Postadresse: addr("Portveien 2"), Certificate: testPEM(t, orgnr), SMPProcesses: smp, SvarUtLevels: levels}}
	}
	post := func(name string) *wire.PostAddress {
		return &wire.PostAddress{Name: name, Street: "Storgata 1", PostalCode: "0468", PostalArea: "OSLO", Country: "Norway"}
	}
	mailbox := &wire.Mailbox{Address: "ola.nordmann#9YDT", ProviderOrgnr: "984661185", Certificate: testPEM(t, "digipost")}
	citizen := func(fnr string, f wire.CitizenFacts) wire.Registration {
		f.Language = "NB"
		if f.Notifiable {
			f.Email, f.Mobile = fnr+"@example.test", "+4799999999"
		}
		return wire.Registration{Identifier: fnr, Citizen: &f}
	}
	sender := org(orgSender, "LOTE OG ÅRVIKSAND", "ORGL", allDPOProcesses(), nil)
	sender.Organization.Postadresse = addr("Skrivarvegen 42")
	p.regs = []wire.Registration{
		org(orgDPO, "BIRISTRAND OG TJØTTA", "ORGL", allDPOProcesses(), nil),
		sender,
		org(orgPartial, "STÅRHEIM OG RØST", "ORGL", []string{wire.ProcessArkivmeldingAdministrasjon, wire.ProcessArkivmeldingPlanByggGeodata}, nil),
		org(orgDPV, "DØLEMO OG RAMBERG", "ORGL", nil, nil),
		org(orgDPF, "SØMÅDALEN OG BESSAKER REVISJON", "KOMM", nil, []int{3, 4}),
		org(orgDPF3, "REIPÅ OG BUGØYNES", "KOMM", nil, []int{3}),
		org(orgEinnsyn, "ØSTBY OG SANDØY", "ORGL", []string{wire.ProcessArkivmeldingAdministrasjon, wire.ProcessEinnsynJournalpost,
			wire.ProcessEinnsynInnsynskrav, wire.ProcessEinnsynMeeting, wire.ProcessEinnsynResponse}, nil),
		citizen(p.fnrDigital, wire.CitizenFacts{Name: "OLA NORDMANN", Status: wire.KRRActive, Notifiable: true, Mailbox: mailbox, PostAddress: post("OLA NORDMANN")}),
		citizen(p.fnrReserved, wire.CitizenFacts{Name: "KARI RESERVERT", Status: wire.KRRActive, Reserved: true, Notifiable: true, PostAddress: post("")}),
		citizen(p.fnrNoMailbox, wire.CitizenFacts{Name: "PER UTENKASSE", Status: wire.KRRActive, Notifiable: true, PostAddress: post("PER UTENKASSE")}),
		citizen(p.fnrSecret, wire.CitizenFacts{Name: "HEMMELIG ADRESSE", Status: wire.KRRActive, Notifiable: true}),
		citizen(p.fnrNotNotifiable, wire.CitizenFacts{Name: "IKKE VARSLES", Status: wire.KRRActive, Mailbox: mailbox, PostAddress: post("IKKE VARSLES")}),
		citizen(p.fnrDeleted, wire.CitizenFacts{Name: "SLETTET PERSON", Status: wire.KRRDeleted, Notifiable: true, Mailbox: mailbox, PostAddress: post("SLETTET PERSON")}),
	}
	return p
}

func (p population) reg(t *testing.T, id string) wire.Registration {
	t.Helper()
	for _, r := range p.regs {
		if r.Identifier == id {
			return r
		}
	}
	t.Fatalf("no registration %s", id)
	return wire.Registration{}
}

func testEnv(t testing.TB) Env {
	return Env{SvarUtCertificate: testPEM(t, "svarut"), PrintProvider: PrintProvider{Orgnr: printOrgnr, Certificate: testPEM(t, "print")}}
}

// newTestServer starts a register on the test population; edit adjusts the options.
func newTestServer(t testing.TB, edit func(*Options)) (*Server, *httptest.Server, population) {
	t.Helper()
	pop := testPopulation(t)
	env := testEnv(t)
	opts := Options{
		Signer:            testKey(t, "sr"),
		Certificate:       selfSignedCert(t, testKey(t, "sr"), "sr"),
		Registrations:     pop.regs,
		SvarUtCertificate: env.SvarUtCertificate,
		PrintProvider:     env.PrintProvider,
		Now:               func() time.Time { return testNow },
	}
	if edit != nil {
		edit(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts, pop
}

// answer is a response read whole.
type answer struct {
	Status      int
	ContentType string
	Body        string
	Header      http.Header
}

// do sends a request with the given headers (name, value, name, value, ...) and an optional body.
func do(t *testing.T, method, url, body string, headers ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return answer{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: string(b), Header: resp.Header}
}

// mintToken signs a Maskinporten-like access token with key.
func mintToken(t *testing.T, key *rsa.PrivateKey, kid string, exp time.Time, consumer, scope string) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, opts)
	if err != nil {
		t.Fatalf("signer: %v", err)
	}
	std := jwt.Claims{Issuer: "https://test.maskinporten.no/", Expiry: jwt.NewNumericDate(exp), IssuedAt: jwt.NewNumericDate(exp.Add(-2 * time.Minute))}
	extra := map[string]any{"scope": scope, "client_id": "MOVE_IP_" + consumer,
		"consumer": map[string]string{"authority": "iso6523-actorid-upis", "ID": "0192:" + consumer}}
	tok, err := jwt.Signed(sig).Claims(std).Claims(extra).Serialize()
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	return tok
}

func tokenKeySet(t *testing.T) *jose.JSONWebKeySet {
	return &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &testKey(t, "token").PublicKey, KeyID: "mp", Algorithm: "RS256", Use: "sig"}}}
}
