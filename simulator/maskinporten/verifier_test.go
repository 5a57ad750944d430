package maskinporten_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/bearer"
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

// TestVerifier: the simulator's access tokens verify with bearer verifiers over its /jwk, its JWK set and
// Server.Verifier, and their claims read back as issued; other simulators' and expired tokens do not.
// (The verifier itself is tested in package bearer.)
func TestVerifier(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	s, ts, iss := newServer(t, nil)
	details := []any{map[string]any{"type": "urn:altinn:systemuser",
		"systemuser_org": map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:910075918"}}}
	valid := issue(t, ts, maskinporten.AssertionClaims{Issuer: "test-client", Audience: iss,
		Scope: "eformidling:dpo altinn:broker.read", ConsumerOrg: "987654321", AuthorizationDetails: details})

	past := time.Now().Add(-30 * time.Minute)
	_, oldTS, oldIss := newServer(t, func(o *maskinporten.Options) { o.Now = func() time.Time { return past } })
	expired := issue(t, oldTS, maskinporten.AssertionClaims{Issuer: "c", Audience: oldIss, Scope: "eformidling:dpo",
		IssuedAt: past})

	_, otherTS, otherIss := newServer(t, func(o *maskinporten.Options) { o.Signer = p.clientKey })
	foreign := issue(t, otherTS, maskinporten.AssertionClaims{Issuer: "c", Audience: otherIss, Scope: "eformidling:dpo"})

	verifiers := map[string]*bearer.Verifier{
		"fetched": bearer.NewVerifier(ts.URL+"/jwk", ts.Client()),
		"static":  bearer.NewStaticVerifier(s.JWKS()),
		"func":    bearer.NewFuncVerifier(func() (*jose.JSONWebKeySet, error) { ks := s.JWKS(); return &ks, nil }),
		"server":  s.Verifier(),
	}
	tests := []struct {
		name    string
		bearer  string
		wantErr error
	}{
		{"valid", valid, nil},
		{"valid with Bearer prefix", "Bearer " + valid, nil},
		{"expired", expired, bearer.ErrExpired},
		{"other simulator", foreign, bearer.ErrInvalidToken},
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
				got := bearer.Claims{Issuer: c.Issuer, ClientID: c.ClientID, ClientAMR: c.ClientAMR, Scope: c.Scope,
					Consumer: c.Consumer, Supplier: c.Supplier, ConsumerOrg: c.ConsumerOrg,
					AuthorizationDetails: c.AuthorizationDetails}
				want := bearer.Claims{Issuer: iss, ClientID: "test-client", ClientAMR: "virksomhetssertifikat",
					Scope: []string{"eformidling:dpo", "altinn:broker.read"}, Consumer: "0192:987654321",
					Supplier: "0192:" + testOrgnr, ConsumerOrg: "987654321",
					AuthorizationDetails: json.RawMessage(`[{"systemuser_org":{"ID":"0192:910075918","authority":"iso6523-actorid-upis"},"type":"urn:altinn:systemuser"}]`)}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("claims (-want +got):\n%s", diff)
				}
				if d := c.Expiry.Sub(c.IssuedAt); d != 120*time.Second || c.JTI == "" || c.Raw["jti"] != c.JTI {
					t.Errorf("expiry %v iat %v jti %q raw %v", c.Expiry, c.IssuedAt, c.JTI, c.Raw)
				}
				if c.ConsumerOrgnr() != "987654321" || c.SupplierOrgnr() != testOrgnr || c.SystemUserOrg() != "910075918" {
					t.Errorf("ConsumerOrgnr %q SupplierOrgnr %q SystemUserOrg %q", c.ConsumerOrgnr(), c.SupplierOrgnr(), c.SystemUserOrg())
				}
			})
		}
	}
}
