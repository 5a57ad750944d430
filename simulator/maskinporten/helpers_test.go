package maskinporten_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/efm-harness/efm-harness/simulator/maskinporten"
)

// testOrgnr is the organisation of the test business certificate.
const testOrgnr = "910077473"

// testPKI is a test CA with a business certificate for testOrgnr, certificates that must be refused, and
// the other keys the tests need. It is made once per test binary (RSA key generation is slow).
type testPKI struct {
	caKey, leafKey, otherCAKey, clientKey, signerKey *rsa.PrivateKey

	ca, leaf, expiredLeaf, futureLeaf, otherCA, otherLeaf *x509.Certificate
	roots                                                 *x509.CertPool
}

var pkiOnce = sync.OnceValues(makePKI)

func newPKI(t testing.TB) *testPKI {
	t.Helper()
	p, err := pkiOnce()
	if err != nil {
		t.Fatalf("test PKI: %v", err)
	}
	return p
}

// makePKI makes the test PKI from the fixed keys in testdata/test-keys.pem (generating RSA keys is slow,
// and very slow in coverage-instrumented fuzz workers).
func makePKI() (*testPKI, error) {
	p := &testPKI{}
	rest, err := os.ReadFile("testdata/test-keys.pem")
	if err != nil {
		return nil, err
	}
	for _, k := range []**rsa.PrivateKey{&p.caKey, &p.leafKey, &p.otherCAKey, &p.clientKey, &p.signerKey} {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			return nil, errors.New("testdata/test-keys.pem: too few keys")
		}
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		rk, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("testdata/test-keys.pem: %T, want RSA", key)
		}
		*k = rk
	}
	now := time.Now()
	if p.ca, err = makeCA("Test CA", p.caKey); err != nil {
		return nil, err
	}
	if p.otherCA, err = makeCA("Other CA", p.otherCAKey); err != nil {
		return nil, err
	}
	org := pkix.Name{Country: []string{"NO"}, Organization: []string{"TEST VIRKSOMHET AS"},
		CommonName: "TEST VIRKSOMHET AS", SerialNumber: testOrgnr}
	if p.leaf, err = makeCert(org, now.Add(-time.Hour), now.Add(24*time.Hour), p.leafKey, p.ca, p.caKey); err != nil {
		return nil, err
	}
	if p.expiredLeaf, err = makeCert(org, now.Add(-48*time.Hour), now.Add(-time.Hour), p.leafKey, p.ca, p.caKey); err != nil {
		return nil, err
	}
	if p.futureLeaf, err = makeCert(org, now.Add(time.Hour), now.Add(48*time.Hour), p.leafKey, p.ca, p.caKey); err != nil {
		return nil, err
	}
	if p.otherLeaf, err = makeCert(org, now.Add(-time.Hour), now.Add(24*time.Hour), p.leafKey, p.otherCA, p.otherCAKey); err != nil {
		return nil, err
	}
	p.roots = x509.NewCertPool()
	p.roots.AddCert(p.ca)
	return p, nil
}

var serial atomic.Int64

func nextSerial() *big.Int { return big.NewInt(1000 + serial.Add(1)) }

func makeCA(name string, key *rsa.PrivateKey) (*x509.Certificate, error) {
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: name, Organization: []string{name}},
		NotBefore: time.Now().Add(-24 * time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func makeCert(subject pkix.Name, notBefore, notAfter time.Time, key *rsa.PrivateKey, parent *x509.Certificate,
	parentKey *rsa.PrivateKey) (*x509.Certificate, error) {
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(), Subject: subject, NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// newServer starts a simulator (trusting the test CA, signing with the test signer key) on an httptest
// server and returns it with the server's issuer URL.
func newServer(t *testing.T, mutate func(*maskinporten.Options)) (*maskinporten.Server, *httptest.Server, string) {
	t.Helper()
	p := newPKI(t)
	opts := maskinporten.Options{Signer: p.signerKey, Roots: p.roots}
	if mutate != nil {
		mutate(&opts)
	}
	s, err := maskinporten.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	s.SetIssuer(ts.URL)
	return s, ts, ts.URL + "/"
}

// assertion makes an assertion or fails the test.
func assertion(t testing.TB, key *rsa.PrivateKey, chain []*x509.Certificate, a maskinporten.AssertionClaims) string {
	t.Helper()
	s, err := maskinporten.MakeAssertion(key, chain, a)
	if err != nil {
		t.Fatalf("MakeAssertion: %v", err)
	}
	return s
}

// rawJWS signs arbitrary header and claims with key, PKCS #1 v1.5 with the hash alg names (SHA-256 for
// any alg but RS384 and RS512), so that tests can send what MakeAssertion would never make. A nil key
// leaves the signature empty.
func rawJWS(t testing.TB, key *rsa.PrivateKey, alg string, header, claims map[string]any) string {
	t.Helper()
	h := map[string]any{"alg": alg}
	for k, v := range header {
		h[k] = v
	}
	hb, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	input := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	if key == nil {
		return input + "."
	}
	hash := map[string]crypto.Hash{"RS384": crypto.SHA384, "RS512": crypto.SHA512}[alg]
	if hash == 0 {
		hash = crypto.SHA256
	}
	d := hash.New()
	d.Write([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, hash, d.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func x5c(certs ...*x509.Certificate) []string {
	out := make([]string, len(certs))
	for i, c := range certs {
		out[i] = base64.StdEncoding.EncodeToString(c.Raw)
	}
	return out
}

// baseClaims are valid assertion claims for aud.
func baseClaims(aud string) map[string]any {
	now := time.Now().Unix()
	return map[string]any{"aud": aud, "iss": "test-client", "scope": "eformidling:dpo", "iat": now,
		"exp": now + 120, "jti": randomID()}
}

func randomID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// postToken posts a token request form and returns the status, content type and body.
func postToken(t testing.TB, ts *httptest.Server, form url.Values) (int, string, []byte) {
	t.Helper()
	resp, err := ts.Client().Post(ts.URL+"/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatalf("POST /token: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

func grantForm(assertion string) url.Values {
	return url.Values{"grant_type": {maskinporten.GrantTypeJWTBearer}, "assertion": {assertion}}
}

// getJSON GETs url and decodes the JSON answer into out, failing on a non-200 status.
func getJSON(t testing.TB, client *http.Client, u string, out any) {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("GET %s: decode %s: %v", u, b, err)
	}
}
