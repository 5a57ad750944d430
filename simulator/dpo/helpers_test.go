package dpo_test

import (
	"archive/zip"
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/bearer"
	"github.com/efm-harness/efm-harness/simulator/dpo"
)

var testPKI = sync.OnceValue(fixtures.MustLoadPKI)

// orgs of the tests: a sender and a receiver with DPO, and an organisation that is neither.
var (
	pop        = fixtures.Default()
	orgA       = pop.Org(fixtures.RoleSender).Orgnr
	orgB       = pop.Org(fixtures.RoleReceiver).Orgnr
	orgOutside = pop.Org(fixtures.RoleDPV).Orgnr
)

func credential(t testing.TB, name string) fixtures.Credential {
	t.Helper()
	c, ok := testPKI().Get(name)
	if !ok {
		t.Fatalf("test PKI has no credential %q", name)
	}
	return c
}

type env struct {
	srv   *dpo.Server
	ts    *httptest.Server
	clock *fixtures.Clock
}

// newEnv starts a simulator that signs with the test PKI's Altinn key, trusts the test PKI's
// Maskinporten key, opens packages with the organisations' keys, and runs on the test clock.
func newEnv(t testing.TB, mutate func(*dpo.Options)) *env {
	t.Helper()
	c := &fixtures.Clock{}
	alt := credential(t, fixtures.CredAltinn)
	opts := dpo.Options{
		Signer: alt.Key, Certificate: alt.Certificate,
		Maskinporten: bearer.NewStaticVerifier(testPKI().MaskinportenKeySet()).WithClock(c.Now),
		Keys: func(orgnr string) (*rsa.PrivateKey, bool) {
			cr, ok := testPKI().Get(orgnr)
			return cr.Key, ok
		},
		Credentials: func(orgnr string) (*rsa.PrivateKey, *x509.Certificate, bool) {
			cr, ok := testPKI().Get(orgnr)
			return cr.Key, cr.Certificate, ok
		},
		Now: c.Now,
	}
	if mutate != nil {
		mutate(&opts)
	}
	s, err := dpo.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return &env{srv: s, ts: ts, clock: c}
}

// mpClaims are the claims of the Maskinporten token an integration point gets for the system user of
// orgnr: consumer = the organisation itself, authorization_details naming its system user.
func mpClaims(e *env, orgnr, scope string) map[string]any {
	now := e.clock.Now()
	return map[string]any{
		"iss": "http://mp/", "client_id": "MOVE_IP_" + orgnr, "client_amr": "virksomhetssertifikat", "scope": scope,
		"consumer": map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:" + orgnr},
		"authorization_details": []any{map[string]any{"type": "urn:altinn:systemuser",
			"systemuser_org": map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:" + orgnr},
			"externalRef":    orgnr + "_integrasjonspunkt_systembruker_" + orgnr}},
		"jti": "jti-" + orgnr, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
	}
}

// signMP signs claims with the Maskinporten key of the test PKI.
func signMP(t testing.TB, claims map[string]any) string {
	t.Helper()
	return signWith(t, credential(t, fixtures.CredMaskinporten).Key, "mp", claims)
}

func signWith(t testing.TB, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	jws, err := signer.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// altinnToken exchanges a Maskinporten token for orgnr's system user and scope for an Altinn token.
func (e *env) altinnToken(t testing.TB, orgnr, scope string) string {
	t.Helper()
	a := e.do(t, http.MethodGet, dpo.ExchangePath, signMP(t, mpClaims(e, orgnr, scope)), "", nil)
	if a.status != http.StatusOK {
		t.Fatalf("exchange: %d %s", a.status, a.body)
	}
	return a.body
}

type answer struct {
	status int
	header http.Header
	body   string
}

// do sends a request to the simulator with a bearer token (none when empty).
func (e *env) do(t testing.TB, method, path, token, contentType string, body []byte) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// initBody is the initialise body the integration point sends.
func initBody(sender string, recipients ...string) []byte {
	rs := make([]string, len(recipients))
	for i, r := range recipients {
		rs[i] = "0192:" + r
	}
	b, _ := json.Marshal(map[string]any{"fileName": "sbd.zip", "resourceId": dpo.DefaultResource,
		"sendersFileTransferReference": "ref-" + sender, "sender": "0192:" + sender, "recipients": rs,
		"propertyList": map[string]string{}, "checksum": nil, "disableVirusScan": nil})
	return b
}

// initialize initialises a transfer and returns its id.
func (e *env) initialize(t testing.TB, token, path string, body []byte) string {
	t.Helper()
	a := e.do(t, http.MethodPost, path, token, "application/json", body)
	var out dpo.FileTransferID
	if a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &out) != nil || out.FileTransferID == "" {
		t.Fatalf("initialize: %d %s", a.status, a.body)
	}
	return out.FileTransferID
}

func (e *env) upload(t testing.TB, token, id string, data []byte) {
	t.Helper()
	a := e.do(t, http.MethodPost, "/broker/api/v1/filetransfer/"+id+"/upload", token, "application/octet-stream", data)
	if a.status != http.StatusOK || a.body != `{"fileTransferId":"`+id+`"}` {
		t.Fatalf("upload: %d %s", a.status, a.body)
	}
}

// list lists transfer ids with the query.
func (e *env) list(t testing.TB, token, query string) []string {
	t.Helper()
	a := e.do(t, http.MethodGet, "/broker/api/v1/filetransfer?resourceId="+dpo.DefaultResource+query, token, "", nil)
	var ids []string
	if a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &ids) != nil {
		t.Fatalf("list %s: %d %s", query, a.status, a.body)
	}
	return ids
}

func (e *env) overview(t testing.TB, token, id string) dpo.FileTransferOverview {
	t.Helper()
	a := e.do(t, http.MethodGet, "/broker/api/v1/filetransfer/"+id, token, "", nil)
	var o dpo.FileTransferOverview
	if a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &o) != nil {
		t.Fatalf("overview: %d %s", a.status, a.body)
	}
	return o
}

// zipOf builds a zip of the named entries, in order.
func zipOf(t testing.TB, entries ...any) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i < len(entries); i += 2 {
		w, err := zw.Create(entries[i].(string))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(entries[i+1].([]byte)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func problemCode(body string) string {
	var p dpo.Problem
	if json.Unmarshal([]byte(body), &p) != nil {
		return "not a problem: " + body
	}
	return p.Code
}

func isProblem(a answer) bool {
	var p dpo.Problem
	return strings.HasPrefix(a.header.Get("Content-Type"), "application/problem+json") &&
		json.Unmarshal([]byte(a.body), &p) == nil && p.Status == a.status && p.Title != "" && p.Type != ""
}
