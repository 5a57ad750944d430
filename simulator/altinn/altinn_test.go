package altinn_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/efm-harness/efm-harness/simulator/altinn"
)

func TestProblemResponse(t *testing.T) {
	resp := altinn.NewProblem(http.StatusUnauthorized, "no").Response()
	want := `{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.2","title":"Unauthorized","status":401,"detail":"no"}`
	if string(resp.Raw) != want || resp.ContentType != altinn.ContentTypeProblem || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("got %d %q %s %v", resp.Status, resp.ContentType, resp.Raw, resp.Header)
	}
	if p := altinn.NewProblem(599, ""); p.Type != "about:blank" || p.Title != "Status 599" {
		t.Fatalf("599: %+v", p)
	}
	v := altinn.ValidationProblem(map[string][]string{"b": {"x"}, "a": {"y", "z"}})
	if v.Detail != "a: y z; b: x" || v.Title != altinn.ValidationTitle {
		t.Fatalf("validation: %+v", v)
	}
}

func TestPlatformExchangeAndAuthenticate(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	p, err := altinn.NewPlatform(key, nil, nil, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	if _, prob := p.Authenticate(httptest.NewRequest(http.MethodGet, "/x", nil), "missing"); prob == nil || prob.Status != 401 || prob.Detail != "missing" {
		t.Fatalf("no token: %v", prob)
	}
	// An unsigned Maskinporten token (the exchange reads it without checking its signature).
	mp := unsignedToken(t, now)
	req := httptest.NewRequest(http.MethodGet, altinn.ExchangePath, nil)
	req.Header.Set("Authorization", "Bearer "+mp)
	resp := p.Exchange(req)
	if resp.Status != http.StatusOK {
		t.Fatalf("exchange: %d %s", resp.Status, resp.Raw)
	}
	req = httptest.NewRequest(http.MethodGet, "/x", nil)
	req.Header.Set("Authorization", "Bearer "+string(resp.Raw))
	claims, prob := p.Authenticate(req, "missing")
	if prob != nil {
		t.Fatalf("authenticate: %v", prob)
	}
	if !claims.HasScope("altinn:broker.read") || claims.Raw["urn:altinn:orgNumber"] != "991825827" {
		t.Fatalf("claims: %+v", claims)
	}
	if len(p.Keys().Keys) != 1 || p.JWKS(req).Status != http.StatusOK || p.OpenIDConfig(req).Status != http.StatusOK {
		t.Fatal("keys")
	}
}

// unsignedToken is a Maskinporten-like token signed with a throwaway key.
func unsignedToken(t *testing.T, now time.Time) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k}, nil)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]any{"scope": "altinn:broker.read", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		"consumer": map[string]string{"authority": "iso6523-actorid-upis", "ID": "0192:991825827"}})
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	c, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
