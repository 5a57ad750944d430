package maskinporten_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/maskinporten"
)

// issue gets an access token from ts for the test certificate.
func issue(t *testing.T, ts *httptest.Server, a maskinporten.AssertionClaims) string {
	t.Helper()
	p := newPKI(t)
	resp, err := maskinporten.RequestToken(context.Background(), ts.Client(), ts.URL+"/token",
		assertion(t, p.leafKey, []*x509.Certificate{p.leaf}, a))
	if err != nil {
		t.Fatalf("RequestToken: %v", err)
	}
	return resp.AccessToken
}

// signToken signs claims as an access token with key and header kid.
func signToken(t *testing.T, key *rsa.PrivateKey, kid string, alg jose.SignatureAlgorithm, claims map[string]any) string {
	t.Helper()
	var k any = key
	if alg == jose.HS256 {
		k = []byte("0123456789abcdef0123456789abcdef")
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: k, KeyID: kid}}, nil)
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

func TestVerifier(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	s, ts, iss := newServer(t, nil)
	details := []any{map[string]any{"type": "urn:altinn:systemuser"}}
	valid := issue(t, ts, maskinporten.AssertionClaims{Issuer: "test-client", Audience: iss,
		Scope: "eformidling:dpo altinn:broker.read", ConsumerOrg: "987654321", AuthorizationDetails: details})

	// A token issued by a simulator whose clock is half an hour behind.
	past := time.Now().Add(-30 * time.Minute)
	_, oldTS, oldIss := newServer(t, func(o *maskinporten.Options) { o.Now = func() time.Time { return past } })
	expired := issue(t, oldTS, maskinporten.AssertionClaims{Issuer: "c", Audience: oldIss, Scope: "eformidling:dpo",
		IssuedAt: past})

	// A token from another simulator (another key, another kid).
	_, otherTS, otherIss := newServer(t, func(o *maskinporten.Options) { o.Signer = p.clientKey })
	foreign := issue(t, otherTS, maskinporten.AssertionClaims{Issuer: "c", Audience: otherIss, Scope: "eformidling:dpo"})

	exp := time.Now().Add(time.Minute).Unix()
	forged := signToken(t, p.clientKey, s.KeyID(), jose.RS256, map[string]any{"client_id": "c", "exp": exp})
	hmac := signToken(t, nil, s.KeyID(), jose.HS256, map[string]any{"client_id": "c", "exp": exp})
	noExp := signToken(t, p.signerKey, s.KeyID(), jose.RS256, map[string]any{"client_id": "c"})
	badScope := signToken(t, p.signerKey, s.KeyID(), jose.RS256, map[string]any{"scope": 7, "exp": exp})

	verifiers := map[string]*maskinporten.Verifier{
		"fetched": maskinporten.NewVerifier(ts.URL+"/jwk", ts.Client()),
		"static":  maskinporten.NewStaticVerifier(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: p.signerKey, KeyID: s.KeyID()}}}),
		"server":  s.Verifier(),
	}
	tests := []struct {
		name    string
		bearer  string
		wantErr error
	}{
		{"valid", valid, nil},
		{"valid with Bearer prefix", "Bearer " + valid, nil},
		{"expired", expired, maskinporten.ErrInvalidToken},
		{"wrong key", foreign, maskinporten.ErrInvalidToken},
		{"forged with our kid", forged, maskinporten.ErrInvalidToken},
		{"HS256", hmac, maskinporten.ErrInvalidToken},
		{"no exp", noExp, maskinporten.ErrInvalidToken},
		{"scope not a string", badScope, maskinporten.ErrInvalidToken},
		{"garbage", "garbage", maskinporten.ErrInvalidToken},
		{"three garbage parts", "a.b.c", maskinporten.ErrInvalidToken},
		{"empty", "Bearer ", maskinporten.ErrInvalidToken},
	}
	for vname, v := range verifiers {
		for _, tt := range tests {
			t.Run(vname+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				c, err := v.Verify(context.Background(), tt.bearer)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Verify: %v, want %v", err, tt.wantErr)
				}
				if err != nil {
					return
				}
				got := maskinporten.Claims{Issuer: c.Issuer, ClientID: c.ClientID, ClientAMR: c.ClientAMR, Scope: c.Scope,
					Consumer: c.Consumer, Supplier: c.Supplier, ConsumerOrg: c.ConsumerOrg,
					AuthorizationDetails: c.AuthorizationDetails}
				want := maskinporten.Claims{Issuer: iss, ClientID: "test-client", ClientAMR: "virksomhetssertifikat",
					Scope: []string{"eformidling:dpo", "altinn:broker.read"}, Consumer: "0192:987654321",
					Supplier: "0192:" + testOrgnr, ConsumerOrg: "987654321",
					AuthorizationDetails: json.RawMessage(`[{"type":"urn:altinn:systemuser"}]`)}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("claims (-want +got):\n%s", diff)
				}
				if d := c.Expiry.Sub(c.IssuedAt); d != 120*time.Second || c.JTI == "" || c.Raw["jti"] != c.JTI {
					t.Errorf("expiry %v iat %v jti %q raw %v", c.Expiry, c.IssuedAt, c.JTI, c.Raw)
				}
				if !c.HasScope("altinn:broker.read") || c.HasScope("altinn:broker.write") {
					t.Errorf("HasScope wrong for %v", c.Scope)
				}
				if c.ConsumerOrgnr() != "987654321" || c.SupplierOrgnr() != testOrgnr {
					t.Errorf("ConsumerOrgnr %q SupplierOrgnr %q", c.ConsumerOrgnr(), c.SupplierOrgnr())
				}
			})
		}
	}
}

func TestVerifierKeysUnavailable(t *testing.T) {
	t.Parallel()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	_, ts, iss := newServer(t, nil)
	tok := issue(t, ts, maskinporten.AssertionClaims{Issuer: "c", Audience: iss, Scope: "eformidling:dpo"})
	v := maskinporten.NewVerifier(down.URL+"/jwk", down.Client())
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, maskinporten.ErrKeysUnavailable) {
		t.Errorf("Verify: %v, want ErrKeysUnavailable", err)
	}
	// Garbage is refused before any fetch.
	if _, err := v.Verify(context.Background(), "x"); !errors.Is(err, maskinporten.ErrInvalidToken) {
		t.Errorf("Verify(garbage): %v, want ErrInvalidToken", err)
	}
}

// TestVerifierRefetch: a verifier that cached one simulator's keys learns a new key (a restarted
// simulator) when a token names an unknown kid.
func TestVerifierRefetch(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	first, err := maskinporten.New(maskinporten.Options{Signer: p.signerKey, Roots: p.roots})
	if err != nil {
		t.Fatal(err)
	}
	second, err := maskinporten.New(maskinporten.Options{Signer: p.clientKey, Roots: p.roots})
	if err != nil {
		t.Fatal(err)
	}
	var current atomic.Pointer[maskinporten.Server]
	current.Store(first)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		current.Load().Handler().ServeHTTP(w, r)
	}))
	defer ts.Close()
	iss := ts.URL + "/"
	v := maskinporten.NewVerifier(ts.URL+"/jwk", ts.Client())
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	maskinporten.SetVerifierClock(v, func() time.Time { return time.Unix(0, clock.Load()) })
	if _, err := v.Verify(context.Background(), issue(t, ts, maskinporten.AssertionClaims{Issuer: "c", Audience: iss,
		Scope: "eformidling:dpo"})); err != nil {
		t.Fatalf("first key: %v", err)
	}
	current.Store(second)
	clock.Add(int64(2 * time.Second))
	if _, err := v.Verify(context.Background(), issue(t, ts, maskinporten.AssertionClaims{Issuer: "c", Audience: iss,
		Scope: "eformidling:dpo"})); err != nil {
		t.Fatalf("second key: %v", err)
	}
}
