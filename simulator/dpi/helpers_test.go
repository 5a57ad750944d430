package dpi_test

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/bearer"
	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/dpi"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

var (
	testPKI = sync.OnceValue(fixtures.MustLoadPKI)
	pop     = fixtures.Default()
	// senderOrg is the avsender (the integration point's organisation).
	senderOrg = pop.Org(fixtures.RoleSender).Orgnr
	// otherOrg is another organisation with its own integration point.
	otherOrg  = pop.Org(fixtures.RoleReceiver).Orgnr
	ola       = pop.Citizen(fixtures.RoleDigital).Facts.Mailbox.Address
	kari      = pop.Citizen(fixtures.RoleDigitalEboks).Facts.Mailbox.Address
	receiptKy = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
)

const kanal = "no_difi_move_integrasjonspunkt"

func cred(t testing.TB, name string) fixtures.Credential {
	t.Helper()
	c, ok := testPKI().Get(name)
	if !ok {
		t.Fatalf("test PKI has no credential %q", name)
	}
	return c
}

type env struct {
	srv *dpi.Server
	ts  *httptest.Server
	t   testing.TB
}

func newEnv(t testing.TB, mutate func(*dpi.Options)) *env {
	t.Helper()
	pr := cred(t, fixtures.CredPrint)
	opts := dpi.Options{
		Maskinporten: bearer.NewStaticVerifier(testPKI().MaskinportenKeySet()),
		Providers: map[string]*rsa.PrivateKey{
			fixtures.DigipostOrgnr: cred(t, fixtures.CredDigipost).Key,
			fixtures.EboksOrgnr:    cred(t, fixtures.CredEboks).Key,
		},
		PrintProvider: dpi.PrintProvider{Orgnr: fixtures.PrintProviderOrgnr, Certificate: pr.Certificate, Key: pr.Key},
		ReceiptKey:    receiptKy(),
	}
	if mutate != nil {
		mutate(&opts)
	}
	s, err := dpi.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() { ts.Close(); _ = s.Close() })
	return &env{srv: s, ts: ts, t: t}
}

var jti atomic.Int64

// token is a Maskinporten access token for orgnr with scope; consumerOrg, when not empty, is the
// consumer_org claim (and the consumer).
func token(t testing.TB, orgnr, consumerOrg, scope string) string {
	t.Helper()
	now := time.Now()
	consumer := orgnr
	if consumerOrg != "" {
		consumer = consumerOrg
	}
	claims := map[string]any{"iss": "http://maskinporten/", "client_id": "client-" + orgnr, "scope": scope,
		"consumer": map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:" + consumer},
		"iat":      now.Unix(), "exp": now.Add(2 * time.Minute).Unix(), "jti": fmt.Sprint("j", jti.Add(1))}
	if consumerOrg != "" {
		claims["consumer_org"] = consumerOrg
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: cred(t, fixtures.CredMaskinporten).Key, KeyID: "mp"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	jws, err := signer.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := jws.CompactSerialize()
	return s
}

type answer struct {
	status int
	body   []byte
	header http.Header
}

func (a answer) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
}

func (a answer) problem(t testing.TB) dpi.Problem {
	t.Helper()
	if ct := a.header.Get("Content-Type"); ct != dpi.ContentTypeProblem {
		t.Fatalf("content type %q, want %s; body %s", ct, dpi.ContentTypeProblem, a.body)
	}
	var p dpi.Problem
	a.json(t, &p)
	return p
}

func (e *env) do(method, path, tok, contentType string, body []byte) answer {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: b, header: resp.Header}
}

func (e *env) admin(method, path string, body any) answer {
	e.t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			e.t.Fatal(err)
		}
	}
	return e.do(method, "/__admin"+path, "", "application/json", b)
}

// receiveToken is the integration point's token for status and receipt calls (no consumer_org).
func receiveToken(t testing.TB, orgnr string) string {
	return token(t, orgnr, "", wire.DPIScope)
}

// poll is GET /messages/in for kanal k with the query q added.
func (e *env) poll(k string, q url.Values, tok string) []wire.DPIIncoming {
	e.t.Helper()
	if q == nil {
		q = url.Values{}
	}
	q.Set("kanal", k)
	a := e.do(http.MethodGet, dpi.DefaultBasePath+"/messages/in?"+q.Encode(), tok, "", nil)
	if a.status != http.StatusOK {
		e.t.Fatalf("poll: %d %s", a.status, a.body)
	}
	var out []wire.DPIIncoming
	a.json(e.t, &out)
	return out
}

func (e *env) statuses(id string) []wire.DPIStatus {
	e.t.Helper()
	a := e.do(http.MethodGet, dpi.DefaultBasePath+"/messages/out/"+id+"/statuses", receiveToken(e.t, senderOrg), "", nil)
	if a.status != http.StatusOK {
		e.t.Fatalf("statuses: %d %s", a.status, a.body)
	}
	var out []wire.DPIStatus
	a.json(e.t, &out)
	return out
}

func (e *env) message(id string, content bool) dpi.MessageView {
	e.t.Helper()
	path := "/messages/" + id
	if content {
		path += "?content=true"
	}
	a := e.admin(http.MethodGet, path, nil)
	if a.status != http.StatusOK {
		e.t.Fatalf("admin message %s: %d %s", id, a.status, a.body)
	}
	var v dpi.MessageView
	a.json(e.t, &v)
	return v
}

// spec describes a message to send; the zero value (with typ) is a valid message as the real
// integration point makes it.
type spec struct {
	typ            string // wire.DPITypeDigital (default) or wire.DPITypeUtskrift
	messageID      string
	conversationID string
	postkasse      string
	receiver       string            // provider orgnr (default Digipost, or the print provider)
	recipient      *x509.Certificate // the certificate the dokumentpakke is encrypted to
	aapning        bool
	avsenderID     string
	files          []dokumentpakke.File
	xades          string                // "": signed by dokumentpakke.CreateASiCEXAdES; xadesNone, xadesPlaceholder, xadesTampered
	xadesSigner    *dokumentpakke.Signer // the XAdES signer (default: the sender's credential)
	container      func([]byte) []byte   // changes the ASiC-E before it is encrypted
	noManifest     bool
	manifest       func(*wire.SDPManifest)
	manifestXML    func([]byte) []byte
	msg            func(*wire.DPIMessage) // changes the business message after the fingerprint is set
	payload        func([]byte) []byte    // changes the signed JSON
	jws            func(string) string    // changes the compact JWS
	tokenOrg       string                 // consumer_org of the bearer token (default senderOrg; "-" none)
	scope          string
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

var (
	brevPDF    = []byte("%PDF-1.4\n% efm-harness test letter\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
	vedleggTxt = []byte("Vedlegg: tekst med æøå\n")
)

func defaultFiles() []dokumentpakke.File {
	return []dokumentpakke.File{{Name: "brev.pdf", MimeType: "application/pdf", Content: brevPDF},
		{Name: "vedlegg.txt", MimeType: "text/plain", Content: vedleggTxt}}
}

// XAdES variants of spec.xades.
const (
	xadesNone        = "none"        // no META-INF/signatures.xml
	xadesPlaceholder = "placeholder" // an empty XAdESSignatures element
	xadesTampered    = "tampered"    // a real signature over other content of brev.pdf
)

// asice builds an ASiC-E as commons-asic lays out a XAdES container: the stored mimetype, manifest.xml and
// the files, META-INF/signatures.xml (when signatures is not nil: taken as it is) and the OASIS manifest.
func asice(t testing.TB, manifest []byte, files []dokumentpakke.File, signatures []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	_ = zw.SetComment("mimetype=" + dokumentpakke.MimeTypeASiCE)
	mt := []byte(dokumentpakke.MimeTypeASiCE)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "mimetype", Method: zip.Store, CRC32: crc32.ChecksumIEEE(mt),
		CompressedSize64: uint64(len(mt)), UncompressedSize64: uint64(len(mt))})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(mt)
	write := func(name string, data []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(data)
	}
	oasis := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">` +
		`<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.etsi.asic-e+zip"/>`
	if manifest != nil {
		write("manifest.xml", manifest)
		oasis += `<manifest:file-entry manifest:full-path="manifest.xml" manifest:media-type="application/xml"/>`
	}
	for _, f := range files {
		write(f.Name, f.Content)
		oasis += fmt.Sprintf(`<manifest:file-entry manifest:full-path="%s" manifest:media-type="%s"/>`, f.Name, f.MimeType)
	}
	if signatures != nil {
		write("META-INF/signatures.xml", signatures)
	}
	write("META-INF/manifest.xml", []byte(oasis+"</manifest:manifest>"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// built is a message ready to send.
type built struct {
	messageID, conversationID string
	msg                       *wire.DPIMessage
	jws                       string
	cms                       []byte
	token                     string
	files                     []dokumentpakke.File
}

func build(t testing.TB, sp spec) built {
	t.Helper()
	if sp.typ == "" {
		sp.typ = wire.DPITypeDigital
	}
	if sp.messageID == "" {
		sp.messageID = newID()
	}
	if sp.conversationID == "" {
		sp.conversationID = newID()
	}
	if sp.postkasse == "" {
		sp.postkasse = ola
	}
	if sp.receiver == "" {
		sp.receiver = fixtures.DigipostOrgnr
	}
	if sp.recipient == nil {
		sp.recipient = cred(t, fixtures.CredDigipost).Certificate
		if sp.typ == wire.DPITypeUtskrift {
			sp.recipient = cred(t, fixtures.CredPrint).Certificate
		}
	}
	if sp.files == nil {
		sp.files = defaultFiles()
	}
	if sp.scope == "" {
		sp.scope = wire.DPIScope
	}
	tokOrg := senderOrg
	switch sp.tokenOrg {
	case "":
	case "-":
		tokOrg = ""
	default:
		tokOrg = sp.tokenOrg
	}
	tok := token(t, senderOrg, tokOrg, sp.scope)

	avsender := wire.DPIAvsender{Virksomhetsidentifikator: wire.NewDPIIdentifier(senderOrg), Avsenderidentifikator: sp.avsenderID}
	man := wire.SDPManifest{
		Avsender: wire.SDPAvsender{Organisasjon: wire.SDPOrganisasjon{Authority: wire.AuthorityISO6523, Value: avsender.Virksomhetsidentifikator.Value},
			Avsenderidentifikator: sp.avsenderID},
		Hoveddokument: wire.SDPDokument{Href: sp.files[0].Name, Mime: sp.files[0].MimeType, Tittel: wire.SDPTittel{Lang: "NO", Value: "Vedtak"}},
	}
	for _, f := range sp.files[1:] {
		man.Vedlegg = append(man.Vedlegg, wire.SDPDokument{Href: f.Name, Mime: f.MimeType, Tittel: wire.SDPTittel{Lang: "NO", Value: "Vedlegg"}})
	}
	if sp.typ == wire.DPITypeDigital {
		man.Mottaker = &wire.SDPMottaker{Person: wire.SDPPerson{Postkasseadresse: sp.postkasse}}
	}
	if sp.manifest != nil {
		sp.manifest(&man)
	}
	var manXML []byte
	if !sp.noManifest {
		var err error
		if manXML, err = man.Marshal(); err != nil {
			t.Fatal(err)
		}
		if sp.manifestXML != nil {
			manXML = sp.manifestXML(manXML)
		}
	}
	container := xadesContainer(t, sp, manXML)
	if sp.container != nil {
		container = sp.container(container)
	}
	cms, err := dokumentpakke.Encrypt(container, sp.recipient, dokumentpakke.RSAOAEP)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cms)
	fp := wire.DPIFingeravtrykk{DigestMethod: wire.DPIDigestMethod, DigestValue: base64.StdEncoding.EncodeToString(sum[:])}

	now := wire.NewOffsetDateTime(time.Now().In(wire.Oslo()))
	exp := wire.NewOffsetDateTime(time.Now().Add(24 * time.Hour).In(wire.Oslo()))
	bm := &wire.DPIMessage{Header: wire.StandardBusinessDocumentHeader{HeaderVersion: "1.0",
		Sender:   []wire.Partner{{Identifier: &wire.PartnerIdentification{Value: "0192:" + senderOrg, Authority: wire.AuthorityISO6523}}},
		Receiver: []wire.Partner{{Identifier: &wire.PartnerIdentification{Value: "0192:" + sp.receiver, Authority: wire.AuthorityISO6523}}},
		DocumentIdentification: &wire.DocumentIdentification{Standard: wire.DPIStandard(sp.typ), TypeVersion: "1.0",
			InstanceIdentifier: sp.messageID, Type: sp.typ, CreationDateAndTime: &now},
		BusinessScope: &wire.BusinessScope{Scope: []wire.Scope{{Type: wire.ScopeConversationID, InstanceIdentifier: sp.conversationID,
			Identifier: wire.DPIProcess(sp.typ), ScopeInformation: []wire.CorrelationInformation{{ExpectedResponseDateTime: &exp}}}}},
	}}
	if sp.typ == wire.DPITypeDigital {
		bm.Digital = &wire.DPIDigital{Avsender: avsender, Mottaker: wire.DPIDigitalMottaker{Postkasseadresse: sp.postkasse},
			Dokumentpakkefingeravtrykk: fp, Maskinportentoken: tok, Sikkerhetsnivaa: 4,
			Virkningstidspunkt: time.Now().Truncate(24 * time.Hour).Format(time.RFC3339), Aapningskvittering: sp.aapning,
			Ikkesensitivtittel: "Vedtak om byggeløyve", Spraak: "NO",
			Varsler: &wire.DPIVarsler{
				Epostvarsel: &wire.DPIVarsel{Epostadresse: "ola@example.com", Varslingstekst: "Du har fått post", Repetisjoner: []int{0, 7}},
				Smsvarsel:   &wire.DPIVarsel{Mobiltelefonnummer: "+4799999999", Varslingstekst: "Du har fått post", Repetisjoner: []int{0, 7}}}}
	} else {
		bm.Utskrift = &wire.DPIUtskrift{Avsender: avsender,
			Mottaker:                   wire.DPIAdresse{Navn: "Ola Nordmann", Adresselinje1: "Storgata 1", Postnummer: "0468", Poststed: "OSLO"},
			Dokumentpakkefingeravtrykk: fp, Maskinportentoken: tok, Utskriftstype: wire.DPIUtskriftFarge,
			Retur: wire.DPIRetur{Mottaker: wire.DPIAdresse{Navn: "Lote og Årviksand", Adresselinje1: "Postboks 1", Postnummer: "9950", Poststed: "VARDØ"},
				Returposthaandtering: wire.DPIReturDirekte},
			Posttype: wire.DPIPosttypeA}
	}
	if sp.msg != nil {
		sp.msg(bm)
	}
	payload, err := json.Marshal(bm)
	if err != nil {
		t.Fatal(err)
	}
	if sp.payload != nil {
		payload = sp.payload(payload)
	}
	sc := cred(t, senderOrg)
	jws, err := dokumentpakke.SignJWS(payload, sc.Key, []*x509.Certificate{sc.Certificate}, "")
	if err != nil {
		t.Fatal(err)
	}
	if sp.jws != nil {
		jws = sp.jws(jws)
	}
	return built{messageID: sp.messageID, conversationID: sp.conversationID, msg: bm, jws: jws, cms: cms, token: tok, files: sp.files}
}

// xadesContainer is the ASiC-E of sp: the SDP manifest (unless nil) and sp.files, XAdES-signed as sp.xades
// says.
func xadesContainer(t testing.TB, sp spec, manXML []byte) []byte {
	t.Helper()
	signer := sp.xadesSigner
	if signer == nil {
		sc := cred(t, senderOrg)
		signer = &dokumentpakke.Signer{Key: sc.Key, Certificate: sc.Certificate}
	}
	sign := func(files []dokumentpakke.File) []byte {
		if manXML != nil {
			files = append([]dokumentpakke.File{{Name: "manifest.xml", MimeType: "application/xml", Content: manXML}}, files...)
		}
		c, err := dokumentpakke.CreateASiCEXAdES(files, *signer, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	switch sp.xades {
	case "":
		return sign(sp.files)
	case xadesNone:
		return asice(t, manXML, sp.files, nil)
	case xadesPlaceholder:
		return asice(t, manXML, sp.files, []byte(`<?xml version="1.0" encoding="UTF-8" standalone="no"?><XAdESSignatures xmlns="http://uri.etsi.org/02918/v1.2.1#"/>`))
	case xadesTampered:
		other := slices.Clone(sp.files)
		other[0].Content = append(slices.Clone(other[0].Content), " tampered"...)
		signed := sign(other)
		zr, err := zip.NewReader(bytes.NewReader(signed), int64(len(signed)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			if f.Name == "META-INF/signatures.xml" {
				rc, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				sig, err := io.ReadAll(rc)
				_ = rc.Close()
				if err != nil {
					t.Fatal(err)
				}
				return asice(t, manXML, sp.files, sig)
			}
		}
		t.Fatal("no signatures.xml in the container")
	}
	t.Fatalf("unknown xades variant %q", sp.xades)
	return nil
}

// multipartBody is the send body as the integration point writes it.
func multipartBody(jws string, cms []byte) (string, []byte) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range []struct {
		name, filename, ct string
		data               []byte
	}{{"forretningsmelding", "sbd.jwt", "application/jwt", []byte(jws)}, {"dokumentpakke", "asic.cms", "application/cms", cms}} {
		if p.data == nil {
			continue
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.name, p.filename))
		h.Set("Content-Type", p.ct)
		pw, _ := w.CreatePart(h)
		_, _ = pw.Write(p.data)
	}
	_ = w.Close()
	return w.FormDataContentType(), buf.Bytes()
}

func (e *env) sendBuilt(b built, k string) answer {
	e.t.Helper()
	ct, body := multipartBody(b.jws, b.cms)
	return e.do(http.MethodPost, dpi.DefaultBasePath+"/messages/out?kanal="+url.QueryEscape(k), b.token, ct, body)
}

// send builds and sends sp on kanal, failing the test unless corner 2 accepts it.
func (e *env) send(sp spec, k string) built {
	e.t.Helper()
	b := build(e.t, sp)
	if a := e.sendBuilt(b, k); a.status != http.StatusOK {
		e.t.Fatalf("send: %d %s", a.status, a.body)
	}
	return b
}

// eventually retries f until it returns true or five seconds pass.
func eventually(t testing.TB, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// openReceipt verifies a receipt JWS with its x5c and parses it.
func openReceipt(t testing.TB, jws string) (*wire.DPIMessage, *x509.Certificate) {
	t.Helper()
	payload, cert, err := dokumentpakke.VerifyJWS(jws, dokumentpakke.VerifyOptions{})
	if err != nil {
		t.Fatalf("receipt does not verify: %v", err)
	}
	var m wire.DPIMessage
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatalf("receipt does not parse: %v\n%s", err, payload)
	}
	return &m, cert
}

func receiptTypes(t testing.TB, in []wire.DPIIncoming) []string {
	t.Helper()
	out := []string{}
	for _, x := range in {
		m, _ := openReceipt(t, x.Forretningsmelding)
		out = append(out, m.Type())
	}
	return out
}

func replaceJSON(old, new string) func([]byte) []byte {
	return func(b []byte) []byte { return []byte(strings.Replace(string(b), old, new, 1)) }
}

func signPayload(payload []byte, c fixtures.Credential) (string, error) {
	return dokumentpakke.SignJWS(payload, c.Key, []*x509.Certificate{c.Certificate}, "")
}
