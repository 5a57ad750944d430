package maskinporten_test

import (
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/efm-harness/efm-harness/simulator/maskinporten"
)

// FuzzToken posts arbitrary assertions to the token endpoint: it must never panic, never answer 5xx, and
// always answer an OAuth JSON body.
func FuzzToken(f *testing.F) {
	p := newPKI(f)
	s, err := maskinporten.New(maskinporten.Options{Signer: p.signerKey, Roots: p.roots, Issuer: "http://mp/"})
	if err != nil {
		f.Fatal(err)
	}
	h := s.Handler()
	f.Add(assertion(f, p.leafKey, []*x509.Certificate{p.leaf}, maskinporten.AssertionClaims{
		Issuer: "c", Audience: "http://mp/", Scope: "eformidling:dpo"}))
	f.Add(assertion(f, p.clientKey, nil, maskinporten.AssertionClaims{Issuer: "c", Audience: "http://mp/",
		Scope: "eformidling:dpo", KID: "k"}))
	f.Add("")
	f.Add("a.b.c")
	f.Add("e30.e30.")
	f.Add("eyJhbGciOiJSUzI1NiIsIng1YyI6WyJBQUFBIl19.eyJpc3MiOiJjIn0.AA")
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJjIiwiYXVkIjpbXSwiaWF0IjoxZTMwMCwiZXhwIjotMX0.")
	f.Fuzz(func(t *testing.T, a string) {
		form := url.Values{"grant_type": {maskinporten.GrantTypeJWTBearer}, "assertion": {a}}
		req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, a, rec.Body)
		}
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("status %d for %q: body %q is not JSON", rec.Code, a, rec.Body)
		}
		if rec.Code != http.StatusOK && body["error"] == nil {
			t.Fatalf("status %d for %q without an error code: %s", rec.Code, a, rec.Body)
		}
	})
}
