package maskinporten

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Verifier timings.
const (
	// JWKSCacheTTL is how long a fetched JWK set is used before it is fetched again.
	JWKSCacheTTL = time.Minute
	// JWKSFetchTimeout bounds one fetch of the JWK set.
	JWKSFetchTimeout = 5 * time.Second
	// jwksRefetchAfter is the least time between two fetches once a set is cached (for an unknown kid,
	// or to refresh a stale set).
	jwksRefetchAfter = time.Second
	// jwksRetryAfter is the least time between two failed fetches while no set is cached.
	jwksRetryAfter = time.Second
	// maxBearer bounds the size of a token the verifier looks at.
	maxBearer = 64 << 10
)

var (
	// ErrInvalidToken is wrapped by every error about the token itself: not a JWS, unknown kid, bad
	// signature, expired, malformed claims. Answer it with 401.
	ErrInvalidToken = errors.New("invalid token")
	// ErrKeysUnavailable is wrapped when the JWK set cannot be fetched and none is cached. It is not the
	// caller's fault; answer it with 503.
	ErrKeysUnavailable = errors.New("maskinporten keys unavailable")
)

// Verifier checks the bearer tokens issued by the simulator (or by anything else that signs RS256 JWTs
// with a key in a JWK set). Other simulators use it to learn who calls them. It is safe for concurrent
// use.
type Verifier struct {
	jwksURL string
	client  *http.Client
	now     func() time.Time

	static bool

	fetchMu     sync.Mutex // held while fetching
	mu          sync.Mutex // guards the fields below
	keys        []jose.JSONWebKey
	fetched     time.Time // last successful fetch; zero before the first
	lastAttempt time.Time
	lastErr     error
}

// NewVerifier makes a Verifier that fetches the JWK set from jwksURL (e.g. "http://127.0.0.1:9100/jwk"),
// caches it for JWKSCacheTTL (then refreshes it in the background), and fetches again at once when a
// token names an unknown kid. Each fetch is
// bounded by JWKSFetchTimeout. A nil client uses http.DefaultClient.
func NewVerifier(jwksURL string, client *http.Client) *Verifier {
	if client == nil {
		client = http.DefaultClient
	}
	return &Verifier{jwksURL: jwksURL, client: client, now: time.Now}
}

// NewStaticVerifier makes a Verifier that checks tokens against a fixed key set (private keys are used
// by their public half).
func NewStaticVerifier(keys jose.JSONWebKeySet) *Verifier {
	v := &Verifier{now: time.Now, static: true}
	v.keys = slices.Clone(keys.Keys)
	return v
}

// Claims are the claims of a verified access token.
type Claims struct {
	// Issuer is iss, the simulator's issuer URL.
	Issuer string
	// ClientID is the client that asked for the token (the assertion's iss).
	ClientID string
	// ClientAMR is how the client authenticated: "virksomhetssertifikat" or "private_key_jwt".
	ClientAMR string
	// Scope are the granted scopes.
	Scope []string
	// Consumer is the consumer's ID, "0192:<orgnr>": the organisation the token acts for.
	Consumer string
	// Supplier is the supplier's ID, "0192:<orgnr>", when the token acts for another organisation.
	Supplier string
	// ConsumerOrg is the consumer_org the client asked for, if any.
	ConsumerOrg string
	// AuthorizationDetails are copied from the assertion, if any.
	AuthorizationDetails json.RawMessage
	// JTI is the token's id.
	JTI string
	// IssuedAt and Expiry are iat and exp.
	IssuedAt, Expiry time.Time
	// Raw are all claims as decoded JSON.
	Raw map[string]any
}

// HasScope reports whether the token grants scope s.
func (c *Claims) HasScope(s string) bool { return c != nil && slices.Contains(c.Scope, s) }

// ConsumerOrgnr is the 9-digit organisation number the token acts for ("" when it names none).
func (c *Claims) ConsumerOrgnr() string {
	if c == nil {
		return ""
	}
	if n := orgnrOfID(c.Consumer); n != "" {
		return n
	}
	if isOrgnr(c.ConsumerOrg) {
		return c.ConsumerOrg
	}
	return ""
}

// SupplierOrgnr is the 9-digit organisation number of the supplier ("" when the token has none).
func (c *Claims) SupplierOrgnr() string {
	if c == nil {
		return ""
	}
	return orgnrOfID(c.Supplier)
}

func orgnrOfID(id string) string {
	_, n, ok := strings.Cut(id, ":")
	if !ok || !isOrgnr(n) {
		return ""
	}
	return n
}

type tokenClaims struct {
	Iss                  string          `json:"iss"`
	ClientID             string          `json:"client_id"`
	ClientAMR            string          `json:"client_amr"`
	Scope                string          `json:"scope"`
	Consumer             *Party          `json:"consumer"`
	Supplier             *Party          `json:"supplier"`
	ConsumerOrg          string          `json:"consumer_org"`
	AuthorizationDetails json.RawMessage `json:"authorization_details"`
	JTI                  string          `json:"jti"`
	Iat                  *float64        `json:"iat"`
	Exp                  *float64        `json:"exp"`
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidToken, fmt.Sprintf(format, a...))
}

// Verify checks bearer (the token, with or without a "Bearer " prefix): an RS256 JWS whose kid names a
// key of the set (any key when it names none), with an exp in the future. Errors wrap ErrInvalidToken or
// ErrKeysUnavailable.
func (v *Verifier) Verify(ctx context.Context, bearer string) (*Claims, error) {
	tok := strings.TrimSpace(bearer)
	if len(tok) >= 7 && strings.EqualFold(tok[:7], "bearer ") {
		tok = strings.TrimSpace(tok[7:])
	}
	switch {
	case tok == "":
		return nil, invalid("no token")
	case len(tok) > maxBearer:
		return nil, invalid("token longer than %d bytes", maxBearer)
	case strings.Count(tok, ".") != 2:
		return nil, invalid("not a compact JWS")
	}
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, invalid("%v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, invalid("want one signature, got %d", len(jws.Signatures))
	}
	kid := jws.Signatures[0].Header.KeyID
	keys, err := v.keysFor(ctx, kid)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, invalid("unknown key id %q", kid)
	}
	var payload []byte
	for _, k := range keys {
		if payload, err = jws.Verify(k); err == nil {
			break
		}
	}
	if err != nil {
		return nil, invalid("signature does not verify with key %q", kid)
	}
	var tc tokenClaims
	if err := json.Unmarshal(payload, &tc); err != nil {
		return nil, invalid("claims: %v", err)
	}
	var raw map[string]any
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, invalid("claims: %v", err)
	}
	if tc.Exp == nil {
		return nil, invalid("no exp")
	}
	exp := time.Unix(int64(*tc.Exp), 0)
	if now := v.now(); !now.Before(exp) {
		return nil, invalid("expired at %s", exp.UTC().Format(time.RFC3339))
	}
	c := &Claims{Issuer: tc.Iss, ClientID: tc.ClientID, ClientAMR: tc.ClientAMR, Scope: strings.Fields(tc.Scope),
		ConsumerOrg: tc.ConsumerOrg, AuthorizationDetails: tc.AuthorizationDetails, JTI: tc.JTI, Expiry: exp, Raw: raw}
	if tc.Iat != nil {
		c.IssuedAt = time.Unix(int64(*tc.Iat), 0)
	}
	if tc.Consumer != nil {
		c.Consumer = tc.Consumer.ID
	}
	if tc.Supplier != nil {
		c.Supplier = tc.Supplier.ID
	}
	return c, nil
}

// keysFor returns the RSA public keys that may have signed a token with kid. With no set cached it
// fetches one and waits; when the set does not know kid it fetches again and waits; when the set is stale
// it refreshes it in the background. Only one fetch runs at a time, and at most one per
// jwksRefetchAfter once a set is cached.
func (v *Verifier) keysFor(ctx context.Context, kid string) ([]*rsa.PublicKey, error) {
	if v.static {
		return match(v.keys, kid), nil
	}
	st := v.state()
	now := v.now()
	if st.fetched.IsZero() {
		v.fetchMu.Lock()
		defer v.fetchMu.Unlock()
		st = v.state()
		if st.fetched.IsZero() {
			if st.lastErr != nil && now.Sub(st.lastAttempt) < jwksRetryAfter {
				return nil, st.lastErr
			}
			if err := v.fetch(ctx, now); err != nil {
				return nil, err
			}
			st = v.state()
		}
		return match(st.keys, kid), nil
	}
	found := match(st.keys, kid)
	if now.Sub(st.lastAttempt) < jwksRefetchAfter {
		return found, nil
	}
	switch {
	case len(found) == 0 && v.fetchMu.TryLock():
		// An unknown kid (the simulator may have a new key): fetch now.
		defer v.fetchMu.Unlock()
		if v.fetch(ctx, now) == nil {
			found = match(v.state().keys, kid)
		}
	case now.Sub(st.fetched) >= JWKSCacheTTL && v.fetchMu.TryLock():
		// Stale: refresh in the background and use the cached set meanwhile.
		go func() {
			defer v.fetchMu.Unlock()
			_ = v.fetch(context.WithoutCancel(ctx), now)
		}()
	}
	return found, nil
}

type verifierState struct {
	keys                 []jose.JSONWebKey
	fetched, lastAttempt time.Time
	lastErr              error
}

func (v *Verifier) state() verifierState {
	v.mu.Lock()
	defer v.mu.Unlock()
	return verifierState{keys: v.keys, fetched: v.fetched, lastAttempt: v.lastAttempt, lastErr: v.lastErr}
}

// fetch fetches the JWK set and records the outcome.
func (v *Verifier) fetch(ctx context.Context, now time.Time) error {
	keys, err := v.get(ctx)
	v.mu.Lock()
	defer v.mu.Unlock()
	v.lastAttempt, v.lastErr = now, err
	if err == nil {
		v.keys, v.fetched = keys, now
	}
	return err
}

func (v *Verifier) get(ctx context.Context) ([]jose.JSONWebKey, error) {
	ctx, cancel := context.WithTimeout(ctx, JWKSFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.jwksURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %w", ErrKeysUnavailable, v.jwksURL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: GET %s: status %d", ErrKeysUnavailable, v.jwksURL, resp.StatusCode)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("%w: decode %s: %w", ErrKeysUnavailable, v.jwksURL, err)
	}
	return set.Keys, nil
}

// match returns the RSA public keys with kid (all RSA keys when kid is empty).
func match(keys []jose.JSONWebKey, kid string) []*rsa.PublicKey {
	var out []*rsa.PublicKey
	for _, k := range keys {
		if kid != "" && k.KeyID != kid {
			continue
		}
		switch key := k.Key.(type) {
		case *rsa.PublicKey:
			out = append(out, key)
		case *rsa.PrivateKey:
			out = append(out, &key.PublicKey)
		}
	}
	return out
}
