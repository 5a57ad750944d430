package oidc

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/maskinporten"
)

func setup(t *testing.T) (*Client, *maskinporten.Server, *httptest.Server) {
	t.Helper()
	pki := fixtures.MustLoadPKI()
	mpCred := pki.MustGet(fixtures.CredMaskinporten)
	mp, err := maskinporten.New(maskinporten.Options{Signer: mpCred.Key, Certificate: mpCred.Certificate, Roots: pki.Pool()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mp.Handler())
	t.Cleanup(srv.Close)
	mp.SetIssuer(srv.URL + "/")
	org := pki.MustGet("910077473")
	c := New(Options{TokenURL: srv.URL + "/token", Audience: srv.URL + "/", ClientID: "MOVE_IP_910077473",
		Key: org.Key, Certificate: org.Certificate})
	return c, mp, srv
}

func TestTokenGrantedCachedAndVerifiable(t *testing.T) {
	t.Parallel()
	c, mp, _ := setup(t)
	ctx := context.Background()
	details := []map[string]any{{"type": "urn:altinn:systemuser", "systemuser_org": map[string]string{"authority": "iso6523-actorid-upis", "ID": "0192:910077473"}}}
	tok, err := c.Token(ctx, Request{Scopes: []string{"altinn:broker.write"}, AuthorizationDetails: details})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := mp.Verifier().Verify(ctx, tok)
	if err != nil {
		t.Fatalf("token does not verify with Maskinporten's key: %v", err)
	}
	if !claims.HasScope("altinn:broker.write") || claims.ConsumerOrgnr() != "910077473" || claims.SystemUserOrg() != "910077473" {
		t.Errorf("claims %+v", claims)
	}
	again, _ := c.Token(ctx, Request{Scopes: []string{"altinn:broker.write"}, AuthorizationDetails: details})
	if again != tok {
		t.Error("second request was not served from the cache")
	}
	if n := len(mp.Issued().Tokens); n != 1 {
		t.Errorf("Maskinporten issued %d tokens, want 1", n)
	}
	other, _ := c.Token(ctx, Request{Scopes: []string{"eformidling:dpo"}})
	if other == tok {
		t.Error("a token for other scopes came from the cache")
	}
}

func TestRefusedGrantIsPermanent(t *testing.T) {
	t.Parallel()
	c, _, _ := setup(t)
	_, err := c.Token(context.Background(), Request{Scopes: []string{"no:such.scope"}})
	var ge *GrantError
	if !errors.As(err, &ge) || !errors.Is(err, ErrGrant) || ge.Code != "invalid_scope" {
		t.Fatalf("error %v, want a refused grant with invalid_scope", err)
	}
}

func TestUnreachableIsTransient(t *testing.T) {
	t.Parallel()
	c, _, srv := setup(t)
	srv.Close()
	c.opts.HTTP.Timeout = time.Second
	_, err := c.Token(context.Background(), Request{Scopes: []string{"eformidling:dpo"}})
	if err == nil || errors.Is(err, ErrGrant) {
		t.Fatalf("error %v, want a transient failure", err)
	}
}
