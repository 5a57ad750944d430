package maskinporten_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/maskinporten"
)

// tokenClaims verifies an access token against the JWK set served at jwksURL, as a downstream service
// would with go-jose, and returns its claims.
func tokenClaims(t *testing.T, client *http.Client, jwksURL, token string) map[string]any {
	t.Helper()
	var set jose.JSONWebKeySet
	getJSON(t, client, jwksURL, &set)
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("parse access token: %v", err)
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q: %d keys in %s", tok.Headers[0].KeyID, len(keys), jwksURL)
	}
	var claims map[string]any
	if err := tok.Claims(keys[0].Key, &claims); err != nil {
		t.Fatalf("verify access token: %v", err)
	}
	return claims
}

func TestGrant(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	s, ts, iss := newServer(t, func(o *maskinporten.Options) { o.ExtraAudiences = []string{"https://test.maskinporten.no/"} })
	if err := s.RegisterKey("go-kid", &p.clientKey.PublicKey, "991825827", ""); err != nil {
		t.Fatal(err)
	}
	// A JWK client registered through the admin API.
	jwk, err := json.Marshal(jose.JSONWebKey{Key: &p.clientKey.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	reg := map[string]any{"jwk": json.RawMessage(jwk), "orgnr": "974720760", "clientId": "jwk-client"}
	if err := admin.NewClient(ts.URL+admin.Prefix, ts.Client()).Do(context.Background(), http.MethodPut,
		"/keys/admin-kid", reg, nil); err != nil {
		t.Fatalf("register key: %v", err)
	}
	org := func(n string) map[string]any {
		return map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:" + n}
	}
	details := []any{map[string]any{"type": "urn:altinn:systemuser",
		"systemuser_org": map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:910077473"}}}

	tests := []struct {
		name      string
		assertion func() string
		want      map[string]any
		wantScope string
	}{
		{
			name: "x5c business certificate",
			assertion: func() string {
				return assertion(t, p.leafKey, []*x509.Certificate{p.leaf}, maskinporten.AssertionClaims{
					Issuer: "test-client", Audience: iss, Scope: "eformidling:dpo move/dpo.read"})
			},
			want: map[string]any{"iss": iss, "client_id": "test-client", "client_amr": "virksomhetssertifikat",
				"token_type": "Bearer", "scope": "eformidling:dpo move/dpo.read", "consumer": org(testOrgnr)},
			wantScope: "eformidling:dpo move/dpo.read",
		},
		{
			name: "x5c with the CA in the chain and aud without slash",
			assertion: func() string {
				return assertion(t, p.leafKey, []*x509.Certificate{p.leaf, p.ca}, maskinporten.AssertionClaims{
					Issuer: "test-client", Audience: strings.TrimSuffix(iss, "/"), Scope: "ks:fiks ks:fiks"})
			},
			want: map[string]any{"iss": iss, "client_id": "test-client", "client_amr": "virksomhetssertifikat",
				"token_type": "Bearer", "scope": "ks:fiks", "consumer": org(testOrgnr)},
			wantScope: "ks:fiks",
		},
		{
			name: "consumer_org and authorization_details",
			assertion: func() string {
				return assertion(t, p.leafKey, []*x509.Certificate{p.leaf}, maskinporten.AssertionClaims{
					Issuer: "test-client", Audience: iss + "token", Scope: "digitalpostinnbygger:send",
					ConsumerOrg: "987654321", AuthorizationDetails: details})
			},
			want: map[string]any{"iss": iss, "client_id": "test-client", "client_amr": "virksomhetssertifikat",
				"token_type": "Bearer", "scope": "digitalpostinnbygger:send", "consumer": org("987654321"),
				"supplier": org(testOrgnr), "consumer_org": "987654321", "authorization_details": details},
			wantScope: "digitalpostinnbygger:send",
		},
		{
			name: "resource becomes aud; an extra audience",
			assertion: func() string {
				return assertion(t, p.leafKey, []*x509.Certificate{p.leaf}, maskinporten.AssertionClaims{
					Issuer: "test-client", Audience: "https://test.maskinporten.no/", Scope: "eformidling:dpv",
					Resource: "https://platform.altinn.no/"})
			},
			want: map[string]any{"iss": iss, "client_id": "test-client", "client_amr": "virksomhetssertifikat",
				"token_type": "Bearer", "scope": "eformidling:dpv", "consumer": org(testOrgnr),
				"aud": "https://platform.altinn.no/"},
			wantScope: "eformidling:dpv",
		},
		{
			name: "kid registered through the admin API",
			assertion: func() string {
				return assertion(t, p.clientKey, nil, maskinporten.AssertionClaims{
					Issuer: "jwk-client", Audience: iss, Scope: "altinn:broker.read", KID: "admin-kid"})
			},
			want: map[string]any{"iss": iss, "client_id": "jwk-client", "client_amr": "private_key_jwt",
				"token_type": "Bearer", "scope": "altinn:broker.read", "consumer": org("974720760")},
			wantScope: "altinn:broker.read",
		},
		{
			name: "kid registered in Go, any client id",
			assertion: func() string {
				return assertion(t, p.clientKey, nil, maskinporten.AssertionClaims{
					Issuer: "someone", Audience: iss, Scope: "eformidling:dpe", KID: "go-kid"})
			},
			want: map[string]any{"iss": iss, "client_id": "someone", "client_amr": "private_key_jwt",
				"token_type": "Bearer", "scope": "eformidling:dpe", "consumer": org("991825827")},
			wantScope: "eformidling:dpe",
		},
		{
			name: "neither x5c nor kid: the keys registered for iss",
			assertion: func() string {
				return assertion(t, p.clientKey, nil, maskinporten.AssertionClaims{
					Issuer: "jwk-client", Audience: iss, Scope: "eformidling:dpo"})
			},
			want: map[string]any{"iss": iss, "client_id": "jwk-client", "client_amr": "private_key_jwt",
				"token_type": "Bearer", "scope": "eformidling:dpo", "consumer": org("974720760")},
			wantScope: "eformidling:dpo",
		},
		{
			name: "RS512 with x5c",
			assertion: func() string {
				c := baseClaims(iss)
				c["scope"] = "eformidling:dpf"
				return rawJWS(t, p.leafKey, "RS512", map[string]any{"x5c": x5c(p.leaf)}, c)
			},
			want: map[string]any{"iss": iss, "client_id": "test-client", "client_amr": "virksomhetssertifikat",
				"token_type": "Bearer", "scope": "eformidling:dpf", "consumer": org(testOrgnr)},
			wantScope: "eformidling:dpf",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			before := time.Now().Unix()
			resp, err := maskinporten.RequestToken(context.Background(), ts.Client(), ts.URL+"/token", tt.assertion())
			if err != nil {
				t.Fatalf("RequestToken: %v", err)
			}
			if diff := cmp.Diff(maskinporten.TokenResponse{TokenType: "Bearer", ExpiresIn: 120, Scope: tt.wantScope},
				*resp, cmpopts.IgnoreFields(maskinporten.TokenResponse{}, "AccessToken")); diff != "" {
				t.Errorf("token response (-want +got):\n%s", diff)
			}
			claims := tokenClaims(t, ts.Client(), ts.URL+"/jwk", resp.AccessToken)
			iat, _ := claims["iat"].(float64)
			exp, _ := claims["exp"].(float64)
			if int64(iat) < before-1 || exp-iat != 120 {
				t.Errorf("iat %v exp %v: want iat ≥ %d and a 120 s lifetime", iat, exp, before)
			}
			if jti, _ := claims["jti"].(string); jti == "" {
				t.Errorf("no jti in %v", claims)
			}
			for _, k := range []string{"iat", "exp", "jti"} {
				delete(claims, k)
			}
			if diff := cmp.Diff(tt.want, claims); diff != "" {
				t.Errorf("access token claims (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	s, ts, iss := newServer(t, nil)
	if err := s.RegisterKey("bound-kid", &p.clientKey.PublicKey, "974720760", "bound-client"); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	leafChain := []*x509.Certificate{p.leaf}
	mk := func(a maskinporten.AssertionClaims) func() string {
		return func() string {
			if a.Issuer == "" {
				a.Issuer = "test-client"
			}
			if a.Audience == "" {
				a.Audience = iss
			}
			if a.Scope == "" {
				a.Scope = "eformidling:dpo"
			}
			return assertion(t, p.leafKey, leafChain, a)
		}
	}
	withClaims := func(edit func(map[string]any)) func() string {
		return func() string {
			c := baseClaims(iss)
			edit(c)
			return rawJWS(t, p.leafKey, "RS256", map[string]any{"x5c": x5c(p.leaf)}, c)
		}
	}
	withHeader := func(h map[string]any) func() string {
		return func() string { return rawJWS(t, p.leafKey, "RS256", h, baseClaims(iss)) }
	}
	const (
		authFailed = "Invalid assertion. Client authentication failed."
		invalidReq = "Invalid assertion. Invalid parameter value"
	)
	type body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	tests := []struct {
		name      string
		form      url.Values // used as is when set
		assertion func() string
		status    int
		want      body
	}{
		{name: "wrong grant_type", form: url.Values{"grant_type": {"client_credentials"}, "assertion": {"x"}},
			want: body{"unsupported_grant_type", "Invalid grant type: client_credentials"}},
		{name: "missing grant_type", form: url.Values{"assertion": {"x"}},
			want: body{"unsupported_grant_type", "Invalid grant type: "}},
		{name: "missing assertion", form: url.Values{"grant_type": {maskinporten.GrantTypeJWTBearer}},
			want: body{"invalid_request", invalidReq}},
		{name: "garbage assertion", assertion: func() string { return "not-a-jwt" },
			want: body{"invalid_request", invalidReq}},
		{name: "four parts", assertion: func() string { return "e30.e30.e30.e30" },
			want: body{"invalid_request", invalidReq}},
		{name: "payload not an object", assertion: func() string { return "eyJhbGciOiJSUzI1NiJ9.WzFd.AA" },
			want: body{"invalid_request", invalidReq}},
		{name: "no alg", assertion: func() string { return "e30.e30.AA" },
			want: body{"invalid_request", invalidReq}},
		{name: "missing jti", assertion: withClaims(func(c map[string]any) { delete(c, "jti") }),
			want: body{"invalid_request", invalidReq}},
		{name: "missing exp", assertion: withClaims(func(c map[string]any) { delete(c, "exp") }),
			want: body{"invalid_request", invalidReq}},
		{name: "iat a string", assertion: withClaims(func(c map[string]any) { c["iat"] = "now" }),
			want: body{"invalid_request", invalidReq}},
		{name: "consumer_org not an orgnr", assertion: mk(maskinporten.AssertionClaims{ConsumerOrg: "12345"}),
			want: body{"invalid_request", invalidReq}},
		{name: "authorization_details not an array",
			assertion: mk(maskinporten.AssertionClaims{AuthorizationDetails: map[string]any{"type": "x"}}),
			want:      body{"invalid_request", invalidReq}},
		{name: "missing iss", assertion: withClaims(func(c map[string]any) { delete(c, "iss") }),
			want: body{"invalid_client", authFailed}},
		{name: "empty iss", assertion: withClaims(func(c map[string]any) { c["iss"] = "" }),
			want: body{"invalid_client", authFailed}},
		{name: "forged signature", assertion: func() string {
			return assertion(t, p.clientKey, leafChain, maskinporten.AssertionClaims{Issuer: "test-client", Audience: iss,
				Scope: "eformidling:dpo"})
		}, want: body{"invalid_grant", authFailed + " Invalid JWT signature"}},
		{name: "alg none", assertion: func() string {
			return rawJWS(t, nil, "none", map[string]any{"x5c": x5c(p.leaf)}, baseClaims(iss))
		}, want: body{"invalid_grant", authFailed + " Invalid JWT signature"}},
		{name: "alg HS256", assertion: func() string {
			return rawJWS(t, p.leafKey, "HS256", map[string]any{"x5c": x5c(p.leaf)}, baseClaims(iss))
		}, want: body{"invalid_grant", authFailed + " Invalid JWT signature"}},
		{name: "certificate from another CA", assertion: func() string {
			return assertion(t, p.leafKey, []*x509.Certificate{p.otherLeaf}, maskinporten.AssertionClaims{
				Issuer: "test-client", Audience: iss, Scope: "eformidling:dpo"})
		}, want: body{"invalid_client", authFailed + " The JWT is signed with an invalid certificate."}},
		{name: "expired certificate", assertion: func() string {
			return assertion(t, p.leafKey, []*x509.Certificate{p.expiredLeaf}, maskinporten.AssertionClaims{
				Issuer: "test-client", Audience: iss, Scope: "eformidling:dpo"})
		}, want: body{"invalid_client", authFailed + " Expired key"}},
		{name: "certificate not valid yet", assertion: func() string {
			return assertion(t, p.leafKey, []*x509.Certificate{p.futureLeaf}, maskinporten.AssertionClaims{
				Issuer: "test-client", Audience: iss, Scope: "eformidling:dpo"})
		}, want: body{"invalid_client", authFailed + " The JWT is signed with an invalid certificate."}},
		{name: "x5c not base64", assertion: withHeader(map[string]any{"x5c": []string{"%%%"}}),
			want: body{"invalid_client", authFailed + " Invalid JWT header x5c"}},
		{name: "x5c not a certificate", assertion: withHeader(map[string]any{"x5c": []string{"AAAA"}}),
			want: body{"invalid_client", authFailed + " Invalid JWT header x5c"}},
		{name: "x5c empty", assertion: withHeader(map[string]any{"x5c": []string{}}),
			want: body{"invalid_client", authFailed + " Invalid JWT header x5c"}},
		{name: "x5c a string", assertion: withHeader(map[string]any{"x5c": x5c(p.leaf)[0]}),
			want: body{"invalid_client", authFailed + " Invalid JWT header x5c"}},
		{name: "unknown kid", assertion: func() string {
			return assertion(t, p.clientKey, nil, maskinporten.AssertionClaims{Issuer: "test-client", Audience: iss,
				Scope: "eformidling:dpo", KID: "nobody"})
		}, want: body{"invalid_client", authFailed + " Client not found"}},
		{name: "kid of another client", assertion: func() string {
			return assertion(t, p.clientKey, nil, maskinporten.AssertionClaims{Issuer: "test-client", Audience: iss,
				Scope: "eformidling:dpo", KID: "bound-kid"})
		}, want: body{"invalid_client", authFailed + " Client not found"}},
		{name: "neither x5c nor kid, unknown client", assertion: func() string {
			return assertion(t, p.clientKey, nil, maskinporten.AssertionClaims{Issuer: "test-client", Audience: iss,
				Scope: "eformidling:dpo"})
		}, want: body{"invalid_client", authFailed + " Client not found"}},
		{name: "wrong aud", assertion: mk(maskinporten.AssertionClaims{Audience: "https://maskinporten.no/"}),
			want: body{"invalid_grant", authFailed + " Invalid JWT claim aud"}},
		{name: "expired", assertion: mk(maskinporten.AssertionClaims{IssuedAt: now.Add(-5 * time.Minute)}),
			want: body{"invalid_grant", "Invalid assertion. JWT is expired"}},
		{name: "issued in the future", assertion: mk(maskinporten.AssertionClaims{IssuedAt: now.Add(time.Minute)}),
			want: body{"invalid_grant", "Invalid assertion. Issue time is after now"}},
		{name: "lifetime too long", assertion: mk(maskinporten.AssertionClaims{Lifetime: 121 * time.Second}),
			want: body{"invalid_grant", "Invalid assertion. JWT lifetime exceeds 120 seconds"}},
		{name: "scope not allowed", assertion: mk(maskinporten.AssertionClaims{Scope: "eformidling:dpo difitest:test1"}),
			want: body{"invalid_scope", "Token request contains invalid scopes for client"}},
		{name: "scope missing", assertion: withClaims(func(c map[string]any) { delete(c, "scope") }),
			want: body{"invalid_scope", "Token request contains invalid scopes for client"}},
		{name: "scope blank", assertion: withClaims(func(c map[string]any) { c["scope"] = "  " }),
			want: body{"invalid_scope", "Token request contains invalid scopes for client"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			form := tt.form
			if form == nil {
				form = grantForm(tt.assertion())
			}
			status, ct, b := postToken(t, ts, form)
			want := tt.status
			if want == 0 {
				want = http.StatusBadRequest
			}
			if status != want || ct != "application/json" {
				t.Errorf("status %d, Content-Type %q; want %d, application/json", status, ct, want)
			}
			var got body
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("body %s: %v", b, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("error body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReplayedJTI(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	s, ts, iss := newServer(t, nil)
	a := assertion(t, p.leafKey, []*x509.Certificate{p.leaf}, maskinporten.AssertionClaims{
		Issuer: "test-client", Audience: iss, Scope: "eformidling:dpo", JTI: "the-jti"})
	ctx := context.Background()
	if _, err := maskinporten.RequestToken(ctx, ts.Client(), ts.URL+"/token", a); err != nil {
		t.Fatalf("first use: %v", err)
	}
	_, err := maskinporten.RequestToken(ctx, ts.Client(), ts.URL+"/token", a)
	var oe *maskinporten.OAuthError
	if !errors.As(err, &oe) || !errors.Is(err, maskinporten.ErrReplayed) {
		t.Fatalf("second use: %v; want %v", err, maskinporten.ErrReplayed)
	}
	if diff := cmp.Diff(&maskinporten.OAuthError{Status: 400, Code: "invalid_grant",
		Description: "Invalid assertion. Grant is used before"}, oe); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// The same jti from another client is another grant.
	b := assertion(t, p.leafKey, []*x509.Certificate{p.leaf}, maskinporten.AssertionClaims{
		Issuer: "other-client", Audience: iss, Scope: "eformidling:dpo", JTI: "the-jti"})
	if _, err := maskinporten.RequestToken(ctx, ts.Client(), ts.URL+"/token", b); err != nil {
		t.Errorf("same jti, other client: %v", err)
	}
	// A reset forgets the replay memory.
	s.Admin().Reset()
	if _, err := maskinporten.RequestToken(ctx, ts.Client(), ts.URL+"/token", a); err != nil {
		t.Errorf("after reset: %v", err)
	}
}

func TestRequestShape(t *testing.T) {
	t.Parallel()
	_, ts, _ := newServer(t, nil)
	tests := []struct {
		name, method, contentType string
		body                      string
		status                    int
		want                      maskinporten.OAuthError
	}{
		{name: "body too large", method: http.MethodPost, contentType: "application/x-www-form-urlencoded",
			body: "assertion=" + strings.Repeat("a", maskinporten.MaxBodySize), status: http.StatusRequestEntityTooLarge,
			want: maskinporten.OAuthError{Code: "invalid_request", Description: "Request body too large"}},
		{name: "JSON body", method: http.MethodPost, contentType: "application/json", body: `{"grant_type":"x"}`,
			status: http.StatusBadRequest,
			want: maskinporten.OAuthError{Code: "invalid_request",
				Description: "Invalid request. Expected an application/x-www-form-urlencoded body"}},
		{name: "bad escape", method: http.MethodPost, contentType: "application/x-www-form-urlencoded",
			body: "grant_type=%zz", status: http.StatusBadRequest,
			want: maskinporten.OAuthError{Code: "invalid_request",
				Description: "Invalid request. Expected an application/x-www-form-urlencoded body"}},
		{name: "GET", method: http.MethodGet, status: http.StatusMethodNotAllowed,
			want: maskinporten.OAuthError{Code: "invalid_request", Description: "Method GET is not allowed on /token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tt.method, ts.URL+"/token", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			var got maskinporten.OAuthError
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("body %s: %v", b, err)
			}
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestMetadataAndJWK(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	cert, err := makeCert(pkix.Name{CommonName: "maskinporten simulator"}, time.Now().Add(-time.Hour),
		time.Now().Add(time.Hour), p.signerKey, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, ts, iss := newServer(t, func(o *maskinporten.Options) { o.Certificate = cert })

	var md maskinporten.Metadata
	getJSON(t, ts.Client(), ts.URL+"/.well-known/oauth-authorization-server", &md)
	want := maskinporten.Metadata{Issuer: iss, TokenEndpoint: iss + "token", JWKSURI: iss + "jwk",
		TokenEndpointAuthMethods:          []string{"private_key_jwt"},
		GrantTypes:                        []string{"urn:ietf:params:oauth:grant-type:jwt-bearer"},
		TokenEndpointAuthSigningAlgValues: []string{"RS256", "RS384", "RS512"}}
	if diff := cmp.Diff(want, md); diff != "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}

	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	getJSON(t, ts.Client(), ts.URL+"/jwk", &raw)
	if len(raw.Keys) != 1 {
		t.Fatalf("keys: %v", raw.Keys)
	}
	k := raw.Keys[0]
	got := map[string]any{"kty": k["kty"], "e": k["e"], "use": k["use"], "kid": k["kid"], "alg": k["alg"],
		"x5c": k["x5c"]}
	wantKey := map[string]any{"kty": "RSA", "e": "AQAB", "use": "sig", "kid": s.KeyID(), "alg": "RS256",
		"x5c": []any{x5c(cert)[0]}}
	if diff := cmp.Diff(wantKey, got); diff != "" {
		t.Errorf("jwk (-want +got):\n%s", diff)
	}
	if n, _ := k["n"].(string); n == "" || k["d"] != nil {
		t.Errorf("jwk n=%q d=%v: want a public key", n, k["d"])
	}

	// A certificate that is not the signer's is refused.
	if _, err := maskinporten.New(maskinporten.Options{Signer: p.signerKey, Certificate: p.leaf}); !errors.Is(err, maskinporten.ErrOptions) {
		t.Errorf("New with a foreign certificate: %v, want ErrOptions", err)
	}
}

func TestIssuerFromHost(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	s, ts, _ := newServer(t, nil)
	s.SetIssuer("")
	host := strings.TrimPrefix(ts.URL, "http://")
	a := assertion(t, p.leafKey, []*x509.Certificate{p.leaf}, maskinporten.AssertionClaims{
		Issuer: "c", Audience: "http://" + host + "/", Scope: "eformidling:dpo"})
	resp, err := maskinporten.RequestToken(context.Background(), ts.Client(), ts.URL+"/token", a)
	if err != nil {
		t.Fatal(err)
	}
	if got := tokenClaims(t, ts.Client(), ts.URL+"/jwk", resp.AccessToken)["iss"]; got != "http://"+host+"/" {
		t.Errorf("iss %v, want http://%s/", got, host)
	}
	s.SetIssuer("http://maskinporten:9100")
	if got := s.Issuer(); got != "http://maskinporten:9100/" {
		t.Errorf("Issuer() = %q", got)
	}
}

func TestAdmin(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	_, ts, iss := newServer(t, nil)
	ctx := context.Background()
	ac := admin.NewClient(ts.URL+admin.Prefix, ts.Client())

	jwk, _ := json.Marshal(jose.JSONWebKey{Key: &p.clientKey.PublicKey})
	if err := ac.Do(ctx, http.MethodPut, "/keys/k1", map[string]any{"jwk": json.RawMessage(jwk), "orgnr": "974720760"}, nil); err != nil {
		t.Fatalf("PUT key: %v", err)
	}
	bad := []struct {
		name string
		body any
	}{
		{"no jwk", map[string]any{"orgnr": "974720760"}},
		{"bad orgnr", map[string]any{"jwk": json.RawMessage(jwk), "orgnr": "97472076"}},
		{"symmetric key", map[string]any{"jwk": map[string]any{"kty": "oct", "k": "AAAA"}}},
		{"not JSON object", []int{1}},
	}
	for _, b := range bad {
		var ae *admin.APIError
		if err := ac.Do(ctx, http.MethodPut, "/keys/k2", b.body, nil); !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
			t.Errorf("PUT key %s: %v, want 400", b.name, err)
		}
	}
	var keys maskinporten.KeyList
	if err := ac.Do(ctx, http.MethodGet, "/keys", nil, &keys); err != nil {
		t.Fatal(err)
	}
	if len(keys.Keys) != 1 || keys.Keys[0].KID != "k1" || keys.Keys[0].Orgnr != "974720760" {
		t.Errorf("keys: %+v", keys)
	}

	a := assertion(t, p.leafKey, []*x509.Certificate{p.leaf}, maskinporten.AssertionClaims{
		Issuer: "test-client", Audience: iss, Scope: "eformidling:dpi", ConsumerOrg: "987654321", JTI: "j1"})
	tr, err := maskinporten.RequestToken(ctx, ts.Client(), ts.URL+"/token", a)
	if err != nil {
		t.Fatal(err)
	}
	var issued maskinporten.IssuedTokens
	if err := ac.Messages(ctx, &issued); err != nil {
		t.Fatal(err)
	}
	if len(issued.Tokens) != 1 {
		t.Fatalf("issued: %+v", issued)
	}
	got := issued.Tokens[0]
	if got.ExpiresAt.Sub(got.IssuedAt) != 120*time.Second || got.JTI == "" {
		t.Errorf("iat %v exp %v jti %q", got.IssuedAt, got.ExpiresAt, got.JTI)
	}
	want := maskinporten.IssuedToken{JTI: got.JTI, ClientID: "test-client", ClientAMR: "virksomhetssertifikat",
		Consumer: "0192:987654321", Supplier: "0192:" + testOrgnr, ConsumerOrg: "987654321", Scope: "eformidling:dpi",
		IssuedAt: got.IssuedAt, ExpiresAt: got.ExpiresAt}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("issued token (-want +got):\n%s", diff)
	}
	var one maskinporten.IssuedToken
	if err := ac.Message(ctx, got.JTI, &one); err != nil || one.JTI != got.JTI {
		t.Errorf("message %s: %+v, %v", got.JTI, one, err)
	}
	var listing json.RawMessage
	if err := ac.Messages(ctx, &listing); err != nil || bytes.Contains(listing, []byte(tr.AccessToken)) {
		t.Errorf("the admin API shows the token text (or %v)", err)
	}

	// A status fault answers in the OAuth error shape.
	if err := ac.SetFault(ctx, admin.Fault{Mode: admin.ModeStatus, Status: 503}); err != nil {
		t.Fatal(err)
	}
	status, ct, b := postToken(t, ts, grantForm(a))
	var oe maskinporten.OAuthError
	_ = json.Unmarshal(b, &oe)
	if status != 503 || ct != "application/json" || oe.Code != "temporarily_unavailable" ||
		oe.Description != "injected fault: status 503" {
		t.Errorf("status fault: %d %q %s", status, ct, b)
	}
	if err := ac.ClearFault(ctx); err != nil {
		t.Fatal(err)
	}

	// Reset forgets issued tokens, replay memory and keys.
	if err := ac.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ac.Messages(ctx, &issued); err != nil || len(issued.Tokens) != 0 {
		t.Errorf("after reset: %+v, %v", issued, err)
	}
	if err := ac.Do(ctx, http.MethodGet, "/keys", nil, &keys); err != nil || len(keys.Keys) != 0 {
		t.Errorf("keys after reset: %+v, %v", keys, err)
	}
	if _, err := maskinporten.RequestToken(ctx, ts.Client(), ts.URL+"/token", a); err != nil {
		t.Errorf("same assertion after reset: %v", err)
	}
	if err := ac.Do(ctx, http.MethodDelete, "/keys/k1", nil, nil); !admin.IsNotFound(err) {
		t.Errorf("DELETE unknown key: %v, want 404", err)
	}
}

func TestCertificateOrgnr(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	oidOrgID := asn1.ObjectIdentifier{2, 5, 4, 97}
	tests := []struct {
		name    string
		subject pkix.Name
		want    string
	}{
		{"serialNumber", pkix.Name{SerialNumber: "910077473", CommonName: "123456789"}, "910077473"},
		{"organizationIdentifier", pkix.Name{CommonName: "x",
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidOrgID, Value: "NTRNO-991825827"}}}, "991825827"},
		{"O", pkix.Name{Organization: []string{"DIGDIR 991825827"}}, "991825827"},
		{"CN", pkix.Name{CommonName: "TEST - 974720760"}, "974720760"},
		{"OU", pkix.Name{OrganizationalUnit: []string{"974720760"}}, "974720760"},
		{"ten digits are no orgnr", pkix.Name{SerialNumber: "9100774731", CommonName: "x"}, ""},
		{"none", pkix.Name{CommonName: "no number"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := makeCert(tt.subject, time.Now(), time.Now().Add(time.Hour), p.leafKey, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := maskinporten.CertificateOrgnr(c); got != tt.want {
				t.Errorf("CertificateOrgnr = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOAuthErrorIs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err, target error
		want        bool
	}{
		{&maskinporten.OAuthError{Code: "unsupported_grant_type", Description: "Invalid grant type: x"}, maskinporten.ErrUnsupportedGrantType, true},
		{maskinporten.ErrExpiredKey, maskinporten.ErrMissingIssuer, false},
		{maskinporten.ErrExpiredKey, maskinporten.ErrExpiredKey, true},
		{&maskinporten.OAuthError{Code: "invalid_grant", Description: "Invalid assertion. JWT is expired"}, maskinporten.ErrExpired, true},
		{maskinporten.ErrExpired, maskinporten.ErrReplayed, false},
	}
	for _, tt := range tests {
		if got := errors.Is(tt.err, tt.target); got != tt.want {
			t.Errorf("errors.Is(%v, %v) = %v, want %v", tt.err, tt.target, got, tt.want)
		}
	}
}
