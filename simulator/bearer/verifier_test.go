package bearer_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/bearer"
)

// testKeys are two RSA keys, made once per test binary (key generation is slow).
var testKeys = sync.OnceValues(func() ([2]*rsa.PrivateKey, error) {
	var ks [2]*rsa.PrivateKey
	for i := range ks {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return ks, err
		}
		ks[i] = k
	}
	return ks, nil
})

func keys(t testing.TB) (issuer, other *rsa.PrivateKey) {
	t.Helper()
	ks, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	return ks[0], ks[1]
}

func keySet(key *rsa.PrivateKey, kid string) jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"}}}
}

// sign signs claims as a token with key, alg and header kid (none when empty).
func sign(t testing.TB, key *rsa.PrivateKey, kid string, alg jose.SignatureAlgorithm, claims map[string]any) string {
	t.Helper()
	var k any = key
	if alg == jose.HS256 {
		k = []byte("0123456789abcdef0123456789abcdef")
	}
	sk := jose.SigningKey{Algorithm: alg, Key: k}
	if kid != "" {
		sk.Key = jose.JSONWebKey{Key: k, KeyID: kid}
	}
	signer, err := jose.NewSigner(sk, nil)
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

// maskinportenClaims are the claims of a Maskinporten access token for a DPO system user.
func maskinportenClaims(now time.Time) map[string]any {
	return map[string]any{
		"iss": "http://mp/", "client_id": "test-client", "client_amr": "virksomhetssertifikat",
		"scope":    "eformidling:dpo altinn:broker.read",
		"consumer": map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:987654321"},
		"supplier": map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:910077473"},
		"authorization_details": []any{map[string]any{"type": "urn:altinn:systemuser",
			"systemuser_org": map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:910075918"}}},
		"consumer_org": "987654321", "jti": "j1", "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
	}
}

func with(c map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func jwksServer(t *testing.T, set *atomic.Pointer[jose.JSONWebKeySet], fetches *atomic.Int32) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if fetches != nil {
			fetches.Add(1)
		}
		_ = json.NewEncoder(w).Encode(set.Load())
	}))
	t.Cleanup(ts.Close)
	return ts
}

func TestVerify(t *testing.T) {
	t.Parallel()
	key, other := keys(t)
	now := time.Now()
	base := maskinportenClaims(now)
	valid := sign(t, key, "k1", jose.RS256, base)

	var set atomic.Pointer[jose.JSONWebKeySet]
	ks := keySet(key, "k1")
	set.Store(&ks)
	ts := jwksServer(t, &set, nil)

	verifiers := map[string]*bearer.Verifier{
		"fetched": bearer.NewVerifier(ts.URL, ts.Client()),
		"static":  bearer.NewStaticVerifier(ks),
		"func":    bearer.NewFuncVerifier(func() (*jose.JSONWebKeySet, error) { return &ks, nil }),
		// A private key in the set is used by its public half.
		"private": bearer.NewStaticVerifier(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key, KeyID: "k1"}}}),
	}
	tests := []struct {
		name     string
		token    string
		wantErr  error
		unsigned bool // the unverified verifier accepts it
	}{
		{name: "valid", token: valid},
		{name: "valid with Bearer prefix", token: "Bearer " + valid},
		{name: "valid with lower-case prefix", token: "bearer " + valid},
		{name: "no kid", token: sign(t, key, "", jose.RS256, base)},
		{name: "unknown kid, known key", token: sign(t, key, "rotated", jose.RS256, base)},
		{name: "scope as an array", token: sign(t, key, "k1", jose.RS256, with(base, "scope", []string{"eformidling:dpo", "altinn:broker.read"}))},
		{name: "expired", token: sign(t, key, "k1", jose.RS256, with(base, "exp", now.Add(-time.Second).Unix())), wantErr: bearer.ErrExpired},
		{name: "not valid yet", token: sign(t, key, "k1", jose.RS256, with(base, "nbf", now.Add(time.Hour).Unix())), wantErr: bearer.ErrInvalidToken},
		{name: "issued in the future", token: sign(t, key, "k1", jose.RS256, with(base, "iat", now.Add(time.Hour).Unix())), wantErr: bearer.ErrInvalidToken},
		{name: "no exp", token: sign(t, key, "k1", jose.RS256, with(base, "exp", nil)), wantErr: bearer.ErrInvalidToken},
		{name: "huge exp", token: sign(t, key, "k1", jose.RS256, with(base, "exp", 1e300))},
		{name: "wrong key with our kid", token: sign(t, other, "k1", jose.RS256, base), wantErr: bearer.ErrSignature, unsigned: true},
		{name: "wrong key, other kid", token: sign(t, other, "k2", jose.RS256, base), wantErr: bearer.ErrSignature, unsigned: true},
		{name: "HS256", token: sign(t, nil, "k1", jose.HS256, base), wantErr: bearer.ErrInvalidToken},
		{name: "RS512", token: sign(t, key, "k1", jose.RS512, base), wantErr: bearer.ErrInvalidToken},
		{name: "scope not a string", token: sign(t, key, "k1", jose.RS256, with(base, "scope", 7)), wantErr: bearer.ErrInvalidToken},
		{name: "consumer not an object", token: sign(t, key, "k1", jose.RS256, with(base, "consumer", "x")), wantErr: bearer.ErrInvalidToken},
		{name: "garbage", token: "garbage", wantErr: bearer.ErrInvalidToken},
		{name: "three garbage parts", token: "a.b.c", wantErr: bearer.ErrInvalidToken},
		{name: "empty", token: "Bearer ", wantErr: bearer.ErrInvalidToken},
		{name: "too long", token: strings.Repeat("a", bearer.MaxTokenSize) + ".b.c", wantErr: bearer.ErrInvalidToken},
	}
	verifiers["unverified"] = bearer.NewUnverifiedVerifier()
	for vname, v := range verifiers {
		for _, tt := range tests {
			t.Run(vname+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				wantErr := tt.wantErr
				if vname == "unverified" && tt.unsigned {
					wantErr = nil
				}
				c, err := v.Verify(context.Background(), tt.token)
				if !errors.Is(err, wantErr) || (wantErr == nil) != (err == nil) {
					t.Fatalf("Verify: %v, want %v", err, wantErr)
				}
				if err != nil {
					return
				}
				got := bearer.Claims{Issuer: c.Issuer, ClientID: c.ClientID, ClientAMR: c.ClientAMR, Scope: c.Scope,
					Consumer: c.Consumer, Supplier: c.Supplier, ConsumerOrg: c.ConsumerOrg, JTI: c.JTI}
				want := bearer.Claims{Issuer: "http://mp/", ClientID: "test-client", ClientAMR: "virksomhetssertifikat",
					Scope: []string{"eformidling:dpo", "altinn:broker.read"}, Consumer: "0192:987654321",
					Supplier: "0192:910077473", ConsumerOrg: "987654321", JTI: "j1"}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("claims (-want +got):\n%s", diff)
				}
				if c.IssuedAt.Unix() != now.Unix() || c.Raw["jti"] != "j1" {
					t.Errorf("iat %v raw %v", c.IssuedAt, c.Raw)
				}
				if !c.HasScope("altinn:broker.read") || c.HasScope("altinn:broker.write") {
					t.Errorf("HasScope wrong for %v", c.Scope)
				}
				if c.ConsumerOrgnr() != "987654321" || c.SupplierOrgnr() != "910077473" || c.SystemUserOrg() != "910075918" {
					t.Errorf("ConsumerOrgnr %q SupplierOrgnr %q SystemUserOrg %q", c.ConsumerOrgnr(), c.SupplierOrgnr(), c.SystemUserOrg())
				}
			})
		}
	}
}

func TestVerifyTimePolicy(t *testing.T) {
	t.Parallel()
	key, _ := keys(t)
	clock := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	base := maskinportenClaims(clock)
	ks := keySet(key, "k1")
	late := sign(t, key, "k1", jose.RS256, with(base, "exp", clock.Add(-30*time.Second).Unix()))
	early := sign(t, key, "k1", jose.RS256, with(base, "iat", clock.Add(30*time.Second).Unix(), "nbf", clock.Add(30*time.Second).Unix()))
	noExp := sign(t, key, "k1", jose.RS256, with(base, "exp", nil))
	strict := bearer.NewStaticVerifier(ks).WithClock(func() time.Time { return clock })
	lenient := bearer.NewStaticVerifier(ks).WithClock(func() time.Time { return clock }).WithLeeway(time.Minute).AllowMissingExpiry()
	for _, tok := range []string{late, early, noExp} {
		if _, err := strict.Verify(context.Background(), tok); !errors.Is(err, bearer.ErrInvalidToken) {
			t.Errorf("strict: %v, want ErrInvalidToken", err)
		}
		c, err := lenient.Verify(context.Background(), tok)
		if err != nil {
			t.Errorf("lenient: %v", err)
			continue
		}
		if tok == noExp && !c.Expiry.IsZero() {
			t.Errorf("no exp: Expiry %v", c.Expiry)
		}
	}
	if _, err := strict.Verify(context.Background(), late); !errors.Is(err, bearer.ErrExpired) {
		t.Errorf("late: %v, want ErrExpired", err)
	}
	if !strict.ChecksSignatures() || bearer.NewUnverifiedVerifier().ChecksSignatures() {
		t.Error("ChecksSignatures")
	}
}

func TestVerifierKeysUnavailable(t *testing.T) {
	t.Parallel()
	key, _ := keys(t)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	tok := sign(t, key, "k1", jose.RS256, maskinportenClaims(time.Now()))
	for name, v := range map[string]*bearer.Verifier{
		"url":  bearer.NewVerifier(down.URL+"/jwk", down.Client()),
		"func": bearer.NewFuncVerifier(func() (*jose.JSONWebKeySet, error) { return nil, errors.New("no keys today") }),
	} {
		if _, err := v.Verify(context.Background(), tok); !errors.Is(err, bearer.ErrKeysUnavailable) {
			t.Errorf("%s: Verify: %v, want ErrKeysUnavailable", name, err)
		}
		// Garbage is refused before any fetch.
		if _, err := v.Verify(context.Background(), "x"); !errors.Is(err, bearer.ErrInvalidToken) {
			t.Errorf("%s: Verify(garbage): %v, want ErrInvalidToken", name, err)
		}
	}
	// A nil set from the key function verifies nothing.
	v := bearer.NewFuncVerifier(func() (*jose.JSONWebKeySet, error) { return nil, nil })
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, bearer.ErrInvalidToken) {
		t.Errorf("nil set: %v, want ErrInvalidToken", err)
	}
}

// TestVerifierRefetch: a verifier that cached an issuer's keys learns a new key (a restarted issuer)
// when a token names an unknown kid, but fetches at most once a second, and serves a stale set while it
// refreshes it in the background.
func TestVerifierRefetch(t *testing.T) {
	t.Parallel()
	key, other := keys(t)
	var set atomic.Pointer[jose.JSONWebKeySet]
	first := keySet(key, "k1")
	set.Store(&first)
	var fetches atomic.Int32
	ts := jwksServer(t, &set, &fetches)

	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	v := bearer.NewVerifier(ts.URL, ts.Client()).WithClock(now)
	verify := func(key *rsa.PrivateKey, kid string) error {
		_, err := v.Verify(context.Background(), sign(t, key, kid, jose.RS256, maskinportenClaims(now())))
		return err
	}
	if err := verify(key, "k1"); err != nil {
		t.Fatalf("first key: %v", err)
	}
	second := keySet(other, "k2")
	set.Store(&second)
	// Within a second of the last fetch the unknown kid is not fetched.
	if err := verify(other, "k2"); !errors.Is(err, bearer.ErrInvalidToken) {
		t.Fatalf("second key at once: %v, want ErrInvalidToken", err)
	}
	clock.Add(int64(2 * time.Second))
	if err := verify(other, "k2"); err != nil {
		t.Fatalf("second key: %v", err)
	}
	if n := fetches.Load(); n != 2 {
		t.Errorf("%d fetches, want 2", n)
	}
	// Stale: the cached set is used while a background fetch refreshes it.
	clock.Add(int64(bearer.JWKSCacheTTL + time.Second))
	if err := verify(other, "k2"); err != nil {
		t.Fatalf("stale set: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for fetches.Load() != 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := fetches.Load(); n != 3 {
		t.Errorf("%d fetches after the set went stale, want 3", n)
	}
}

func TestSystemUserOrg(t *testing.T) {
	t.Parallel()
	tests := []struct {
		details string
		want    string
	}{
		{`[{"type":"urn:altinn:systemuser","systemuser_org":{"authority":"iso6523-actorid-upis","ID":"0192:910075918"}}]`, "910075918"},
		{`[{"systemuser_org":{"ID":"urn:altinn:organization:identifier-no:910075918"}},{"systemuser_org":{"ID":"0192:987654321"}}]`, "910075918"},
		{`{"systemuser_org":{"ID":"0192:910075918"}}`, "910075918"},
		{`[{"systemuser_org":{"ID":"0192:91007591"}}]`, ""},
		{`[{"systemuser_org":{"ID":"910075918"}}]`, ""},
		{`[{"type":"urn:altinn:systemuser"}]`, ""},
		{`[]`, ""},
		{`"x"`, ""},
		{``, ""},
	}
	for _, tt := range tests {
		c := &bearer.Claims{AuthorizationDetails: json.RawMessage(tt.details)}
		if got := c.SystemUserOrg(); got != tt.want {
			t.Errorf("SystemUserOrg(%s) = %q, want %q", tt.details, got, tt.want)
		}
	}
	var nilClaims *bearer.Claims
	if nilClaims.SystemUserOrg() != "" || nilClaims.ConsumerOrgnr() != "" || nilClaims.SupplierOrgnr() != "" || nilClaims.HasScope("x") {
		t.Error("nil claims")
	}
	c := &bearer.Claims{ConsumerOrg: "987654321"}
	if c.ConsumerOrgnr() != "987654321" {
		t.Errorf("ConsumerOrgnr from consumer_org = %q", c.ConsumerOrgnr())
	}
}
