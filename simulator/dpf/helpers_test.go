package dpf_test

import (
	"archive/zip"
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/bearer"
	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/dpf"
)

var testPKI = sync.OnceValue(fixtures.MustLoadPKI)

const (
	dpfOrg   = "910229028"
	ipOrg    = "910077473"
	kontoID  = "7e1f6c1e-2a36-4c57-9c1e-6a1d9b0e3c11"
	integID  = "integrasjon-1"
	integPwd = "hemmelig"
)

func cred(t testing.TB, name string) fixtures.Credential {
	t.Helper()
	c, ok := testPKI().Get(name)
	if !ok {
		t.Fatalf("no credential %q", name)
	}
	return c
}

type env struct {
	srv *dpf.Server
	ts  *httptest.Server
	t   testing.TB
}

func newEnv(t testing.TB, mutate func(*dpf.Options)) *env {
	t.Helper()
	mp := cred(t, fixtures.CredMaskinporten)
	opts := dpf.Options{
		Key:          cred(t, fixtures.CredSvarUt).Key,
		Maskinporten: bearer.NewStaticVerifier(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &mp.Key.PublicKey, KeyID: "mp", Algorithm: "RS256", Use: "sig"}}}),
		Integrations: map[string]string{integID: integPwd},
		SvarInnOrgs:  []string{ipOrg},
		Credentials: func(orgnr string) (*rsa.PrivateKey, *x509.Certificate, bool) {
			c, ok := testPKI().Get(orgnr)
			return c.Key, c.Certificate, ok
		},
	}
	if mutate != nil {
		mutate(&opts)
	}
	s, err := dpf.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() { ts.Close(); _ = s.Close() })
	return &env{srv: s, ts: ts, t: t}
}

func token(t testing.TB, orgnr, scope string) string {
	t.Helper()
	now := time.Now()
	claims := map[string]any{"iss": "http://mp/", "client_id": "c-" + orgnr, "scope": scope,
		"consumer": map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:" + orgnr},
		"iat":      now.Unix(), "exp": now.Add(2 * time.Minute).Unix(), "jti": "j"}
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

func (e *env) do(req *http.Request) answer {
	e.t.Helper()
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: b, header: resp.Header}
}

// svarUt makes a SvarUt REST request with valid credentials unless overridden.
func (e *env) svarUt(method, path, contentType string, body []byte, hdr map[string]string) answer {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.ts.URL+path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+token(e.t, ipOrg, "ks:fiks"))
	req.Header.Set("IntegrasjonId", integID)
	req.Header.Set("IntegrasjonPassord", integPwd)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return e.do(req)
}

func (e *env) svarInn(method, path, user, pw string) answer {
	e.t.Helper()
	u := path
	if !strings.HasPrefix(u, "http") {
		u = e.ts.URL + path
	}
	req, _ := http.NewRequest(method, u, nil)
	if user != "" {
		req.SetBasicAuth(user, pw)
	}
	return e.do(req)
}

func (e *env) admin(method, path string, body any) answer {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.ts.URL+"/__admin"+path, rd)
	return e.do(req)
}

type file struct {
	name, mime string
	plain      []byte
}

func forsendelseJSON(eksternRef, receiver string, files []file) []byte {
	docs := []map[string]any{}
	for _, f := range files {
		docs = append(docs, map[string]any{"filnavn": f.name, "mimeType": f.mime, "ekskluderesFraPrint": false})
	}
	b, _ := json.Marshal(map[string]any{
		"tittel": "Vedtak om byggeløyve", "eksternReferanse": eksternRef, "kryptert": true, "kunDigitalLevering": true,
		"mottaker":       map[string]any{"navn": "Kommune", "orgnr": receiver, "adresse": map[string]any{"adresselinje1": "Pb 1", "postnummer": "9950", "poststed": "VARDØ"}},
		"svarSendesTil":  map[string]any{"navn": "Avsender", "orgnr": ipOrg, "type": "ORGANISASJON"},
		"sikkerhetsniva": "BETYDELIG", "forsendelsestype": "Byggesøknad",
		"metadataFraAvleverendeSystem": map[string]any{"saksaar": 2026, "sakssekvensnummer": 12, "journalaar": 2026,
			"journalsekvensnummer": 5, "journalpostnummer": 3, "journalposttype": "U", "journalstatus": "F",
			"journaldato": "2026-11-20T00:00+01:00", "dokumentetsDato": "2026-11-19", "tittel": "Vedtak", "saksbehandler": "Ola",
			"ekstraMetadata": []map[string]any{{"key": "k", "value": "v"}}},
		"dokumenter": docs,
	})
	return b
}

// multipartSend builds the send body with documents encrypted to cert.
func multipartSend(t testing.TB, forsendelse []byte, files []file, cert *x509.Certificate) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="forsendelse"`)
	h.Set("Content-Type", "text/plain;charset=UTF-8")
	p, _ := w.CreatePart(h)
	_, _ = p.Write(forsendelse)
	for i, f := range files {
		enc, err := dokumentpakke.Encrypt(f.plain, cert, dokumentpakke.RSAOAEP)
		if err != nil {
			t.Fatal(err)
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="filer_%d"; filename="%s"`, i, f.name))
		h.Set("Content-Type", f.mime)
		p, _ := w.CreatePart(h)
		_, _ = p.Write(enc)
	}
	_ = w.Close()
	return w.FormDataContentType(), buf.Bytes()
}

func (e *env) send(eksternRef, receiver string, files []file) answer {
	e.t.Helper()
	ct, body := multipartSend(e.t, forsendelseJSON(eksternRef, receiver, files), files, cred(e.t, fixtures.CredSvarUt).Certificate)
	return e.svarUt(http.MethodPost, "/api/v3/kontoer/"+kontoID+"/forsendelser/organisasjon", ct, body, nil)
}

func unzip(t testing.TB, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out
}
