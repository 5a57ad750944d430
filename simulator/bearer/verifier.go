package bearer

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

// Verifier timings and limits.
const (
	// JWKSCacheTTL is how long a fetched JWK set is used before it is fetched again.
	JWKSCacheTTL = time.Minute
	// JWKSFetchTimeout bounds one fetch of the JWK set.
	JWKSFetchTimeout = 5 * time.Second
	// MaxTokenSize bounds the size of a token the verifier looks at.
	MaxTokenSize = 64 << 10
	// jwksRefetchAfter is the least time between two fetches once a set is cached (for an unknown kid,
	// or to refresh a stale set).
	jwksRefetchAfter = time.Second
	// jwksRetryAfter is the least time between two failed fetches while no set is cached.
	jwksRetryAfter = time.Second
)

var (
	// ErrInvalidToken is wrapped by every error about the token itself: not an RS256 JWS, bad signature,
	// expired, not valid yet, malformed claims. Answer it with 401.
	ErrInvalidToken = errors.New("invalid token")
	// ErrExpired is wrapped (together with ErrInvalidToken, which it wraps) when exp has passed.
	ErrExpired = fmt.Errorf("%w: expired", ErrInvalidToken)
	// ErrSignature is wrapped (together with ErrInvalidToken, which it wraps) when no key of the set
	// verifies the signature: the token comes from another issuer.
	ErrSignature = fmt.Errorf("%w: signature does not verify", ErrInvalidToken)
	// ErrKeysUnavailable is wrapped when the key source fails (the JWK set cannot be fetched and none is
	// cached, or the key function returns an error). It is not the caller's fault.
	ErrKeysUnavailable = errors.New("token keys unavailable")
)

type source int

const (
	sourceURL source = iota
	sourceStatic
	sourceFunc
	sourceNone
)

// Verifier checks bearer tokens: RS256 JWTs signed with a key of a JWK set, such as the access tokens of
// the Maskinporten simulator or the Altinn tokens of the DPO simulator. It is safe for concurrent use;
// configure it (WithClock, WithLeeway, AllowMissingExpiry) before its first use.
type Verifier struct {
	src     source
	jwksURL string
	client  *http.Client
	fn      func() (*jose.JSONWebKeySet, error)

	now        func() time.Time
	leeway     time.Duration
	optionalEx bool

	fetchMu     sync.Mutex // held while fetching
	mu          sync.Mutex // guards the fields below
	keys        []jose.JSONWebKey
	fetched     time.Time // last successful fetch; zero before the first
	lastAttempt time.Time
	lastErr     error
}

// NewVerifier makes a Verifier that fetches the JWK set from jwksURL (e.g. "http://127.0.0.1:9100/jwk"),
// caches it for JWKSCacheTTL (then refreshes it in the background), and fetches again at once when a
// token names an unknown kid. Each fetch is bounded by JWKSFetchTimeout. A nil client uses
// http.DefaultClient.
func NewVerifier(jwksURL string, client *http.Client) *Verifier {
	if client == nil {
		client = http.DefaultClient
	}
	return &Verifier{src: sourceURL, jwksURL: jwksURL, client: client, now: time.Now}
}

// NewStaticVerifier makes a Verifier that checks tokens against a fixed key set (private keys are used
// by their public half).
func NewStaticVerifier(keys jose.JSONWebKeySet) *Verifier {
	return &Verifier{src: sourceStatic, keys: slices.Clone(keys.Keys), now: time.Now}
}

// NewFuncVerifier makes a Verifier that asks keys for the key set on every token: an in-process key
// source such as the JWKS of the Maskinporten simulator of the same stack. An error from keys is
// wrapped in ErrKeysUnavailable; a nil set verifies nothing.
func NewFuncVerifier(keys func() (*jose.JSONWebKeySet, error)) *Verifier {
	return &Verifier{src: sourceFunc, fn: keys, now: time.Now}
}

// NewUnverifiedVerifier makes a Verifier that does NOT check signatures: a token must still be a compact
// RS256 JWS with readable claims and valid time claims. It is for lenient simulators that read
// hand-made tokens; never use it where the signature matters.
func NewUnverifiedVerifier() *Verifier {
	return &Verifier{src: sourceNone, now: time.Now}
}

// WithClock sets the clock the time claims are checked against (time.Now by default) and returns v.
func (v *Verifier) WithClock(now func() time.Time) *Verifier {
	if now != nil {
		v.now = now
	}
	return v
}

// WithLeeway sets how far exp may lie behind, and nbf and iat ahead of, the clock (zero by default) and
// returns v.
func (v *Verifier) WithLeeway(d time.Duration) *Verifier {
	v.leeway = d
	return v
}

// AllowMissingExpiry makes v accept tokens without an exp claim (refused by default) and returns v.
func (v *Verifier) AllowMissingExpiry() *Verifier {
	v.optionalEx = true
	return v
}

// ChecksSignatures reports whether v verifies signatures (false only for NewUnverifiedVerifier).
func (v *Verifier) ChecksSignatures() bool { return v.src != sourceNone }

// Claims are the claims of a verified token.
type Claims struct {
	// Issuer is iss.
	Issuer string
	// ClientID is the client that asked for the token (Maskinporten's client_id).
	ClientID string
	// ClientAMR is how the client authenticated: "virksomhetssertifikat" or "private_key_jwt".
	ClientAMR string
	// Scope are the granted scopes (the scope claim, a space-separated string or an array).
	Scope []string
	// Consumer is the consumer's ID, "0192:<orgnr>": the organisation the token acts for.
	Consumer string
	// Supplier is the supplier's ID, "0192:<orgnr>", when the token acts for another organisation.
	Supplier string
	// ConsumerOrg is the consumer_org the client asked for, if any.
	ConsumerOrg string
	// AuthorizationDetails is the authorization_details claim as it is, if any (DPO system users).
	AuthorizationDetails json.RawMessage
	// JTI is the token's id.
	JTI string
	// IssuedAt and Expiry are iat and exp (zero when absent).
	IssuedAt, Expiry time.Time
	// Raw are all claims as decoded JSON.
	Raw map[string]any
}

// HasScope reports whether the token grants scope s.
func (c *Claims) HasScope(s string) bool { return c != nil && slices.Contains(c.Scope, s) }

// ConsumerOrgnr is the 9-digit organisation number the token acts for: that of consumer.ID, else
// consumer_org ("" when it names none).
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

// SystemUserOrg is the 9-digit organisation number of the Altinn system user the token names:
// authorization_details[0].systemuser_org.ID ("0192:<orgnr>"), as DPO tokens carry it. It is "" when the
// token has no such claim or it is malformed.
func (c *Claims) SystemUserOrg() string {
	if c == nil || len(c.AuthorizationDetails) == 0 {
		return ""
	}
	var details []authorizationDetail
	if err := json.Unmarshal(c.AuthorizationDetails, &details); err != nil {
		var one authorizationDetail
		if json.Unmarshal(c.AuthorizationDetails, &one) != nil {
			return ""
		}
		details = []authorizationDetail{one}
	}
	if len(details) == 0 || details[0].SystemUserOrg == nil {
		return ""
	}
	return orgnrOfID(details[0].SystemUserOrg.ID)
}

type authorizationDetail struct {
	Type          string `json:"type"`
	SystemUserOrg *party `json:"systemuser_org"`
}

// orgnrOfID is the organisation number of "0192:<orgnr>" (or any "<prefix>:<orgnr>", such as
// "urn:altinn:organization:identifier-no:<orgnr>"), "" when id is not of that form.
func orgnrOfID(id string) string {
	i := strings.LastIndexByte(id, ':')
	if i < 0 || !isOrgnr(id[i+1:]) {
		return ""
	}
	return id[i+1:]
}

func isOrgnr(s string) bool {
	if len(s) != 9 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// party is the consumer or supplier claim: authority "iso6523-actorid-upis" and ID "0192:<orgnr>".
type party struct {
	Authority string `json:"authority"`
	ID        string `json:"ID"`
}

// scopeList reads the scope claim as a space-separated string (Maskinporten) or an array of strings.
type scopeList []string

// UnmarshalJSON reads either form.
func (l *scopeList) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = strings.Fields(s)
		return nil
	}
	var a []string
	if err := json.Unmarshal(b, &a); err != nil {
		return errors.New("scope is neither a string nor an array of strings")
	}
	*l = a
	return nil
}

type tokenClaims struct {
	Iss                  string          `json:"iss"`
	ClientID             string          `json:"client_id"`
	ClientAMR            string          `json:"client_amr"`
	Scope                scopeList       `json:"scope"`
	Consumer             *party          `json:"consumer"`
	Supplier             *party          `json:"supplier"`
	ConsumerOrg          string          `json:"consumer_org"`
	AuthorizationDetails json.RawMessage `json:"authorization_details"`
	JTI                  string          `json:"jti"`
	Iat                  *float64        `json:"iat"`
	Exp                  *float64        `json:"exp"`
	Nbf                  *float64        `json:"nbf"`
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidToken, fmt.Sprintf(format, a...))
}

// Verify checks token (with or without a "Bearer " prefix): a compact RS256 JWS whose signature
// verifies with a key of the set (those whose kid the token names, else any), with an exp in the future
// (unless AllowMissingExpiry), and with no nbf or iat in the future. Errors wrap ErrInvalidToken (and
// ErrSignature or ErrExpired where they apply) or ErrKeysUnavailable.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	tok := strings.TrimSpace(token)
	if len(tok) >= 7 && strings.EqualFold(tok[:7], "bearer ") {
		tok = strings.TrimSpace(tok[7:])
	}
	switch {
	case tok == "":
		return nil, invalid("no token")
	case len(tok) > MaxTokenSize:
		return nil, invalid("token longer than %d bytes", MaxTokenSize)
	case strings.Count(tok, ".") != 2:
		return nil, invalid("not a compact JWS")
	}
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, invalid("not an RS256 JWT: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, invalid("want one signature, got %d", len(jws.Signatures))
	}
	var payload []byte
	if v.src == sourceNone {
		payload = jws.UnsafePayloadWithoutVerification()
	} else {
		kid := jws.Signatures[0].Header.KeyID
		set, err := v.keySet(ctx, kid)
		if err != nil {
			return nil, err
		}
		keys := match(set, kid)
		if len(keys) == 0 {
			keys = match(set, "")
		}
		if len(keys) == 0 {
			return nil, fmt.Errorf("%w: the key set holds no RSA key", ErrSignature)
		}
		for _, k := range keys {
			if payload, err = jws.Verify(k); err == nil {
				break
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%w with any token key", ErrSignature)
		}
	}
	return v.claims(payload)
}

func (v *Verifier) claims(payload []byte) (*Claims, error) {
	var tc tokenClaims
	if err := json.Unmarshal(payload, &tc); err != nil {
		return nil, invalid("claims: %v", err)
	}
	var raw map[string]any
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, invalid("claims: %v", err)
	}
	now := v.now()
	c := &Claims{Issuer: tc.Iss, ClientID: tc.ClientID, ClientAMR: tc.ClientAMR, Scope: tc.Scope,
		ConsumerOrg: tc.ConsumerOrg, AuthorizationDetails: tc.AuthorizationDetails, JTI: tc.JTI, Raw: raw}
	switch {
	case tc.Exp != nil:
		c.Expiry = unix(*tc.Exp)
		if !now.Before(c.Expiry.Add(v.leeway)) {
			return nil, fmt.Errorf("%w at %s", ErrExpired, c.Expiry.UTC().Format(time.RFC3339))
		}
	case !v.optionalEx:
		return nil, invalid("no exp")
	}
	if tc.Nbf != nil {
		if nbf := unix(*tc.Nbf); now.Add(v.leeway).Before(nbf) {
			return nil, invalid("not valid before %s (nbf)", nbf.UTC().Format(time.RFC3339))
		}
	}
	if tc.Iat != nil {
		c.IssuedAt = unix(*tc.Iat)
		if now.Add(v.leeway).Before(c.IssuedAt) {
			return nil, invalid("issued in the future, at %s (iat)", c.IssuedAt.UTC().Format(time.RFC3339))
		}
	}
	if tc.Consumer != nil {
		c.Consumer = tc.Consumer.ID
	}
	if tc.Supplier != nil {
		c.Supplier = tc.Supplier.ID
	}
	return c, nil
}

// unix is a NumericDate as a time; values beyond the range of int64 seconds are clamped.
func unix(f float64) time.Time {
	const maxSec = 1 << 62 / int64(time.Second)
	switch {
	case f > float64(maxSec):
		f = float64(maxSec)
	case f < -float64(maxSec):
		f = -float64(maxSec)
	}
	return time.Unix(int64(f), 0)
}

// keySet returns the key set that may hold the key of a token with kid. From a URL: with no set cached
// it fetches one and waits; when the set does not know kid it fetches again and waits; when the set is
// stale it refreshes it in the background. Only one fetch runs at a time, and at most one per
// jwksRefetchAfter once a set is cached.
func (v *Verifier) keySet(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	switch v.src {
	case sourceStatic:
		return v.keys, nil
	case sourceFunc:
		set, err := v.fn()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
		}
		if set == nil {
			return nil, nil
		}
		return set.Keys, nil
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
		return st.keys, nil
	}
	if now.Sub(st.lastAttempt) < jwksRefetchAfter {
		return st.keys, nil
	}
	switch {
	case len(match(st.keys, kid)) == 0 && v.fetchMu.TryLock():
		// An unknown kid (the issuer may have a new key): fetch now.
		defer v.fetchMu.Unlock()
		if v.fetch(ctx, now) == nil {
			return v.state().keys, nil
		}
	case now.Sub(st.fetched) >= JWKSCacheTTL && v.fetchMu.TryLock():
		// Stale: refresh in the background and use the cached set meanwhile.
		go func() {
			defer v.fetchMu.Unlock()
			_ = v.fetch(context.WithoutCancel(ctx), now)
		}()
	}
	return st.keys, nil
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
