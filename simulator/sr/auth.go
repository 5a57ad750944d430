package sr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Token key fetching.
const (
	jwksTimeout      = 5 * time.Second
	jwksCacheFor     = time.Minute
	jwksRefreshAfter = 5 * time.Second // a token with an unknown key refetches at most this often
	tokenLeeway      = jwt.DefaultLeeway
)

// caller is who a request comes from, as far as its bearer token says.
type caller struct {
	// consumerOrgnr is the organisation number of the token's consumer.ID, "" when absent or invalid.
	consumerOrgnr string
	scopes        map[string]bool
}

// tokenClaims are the Maskinporten claims the register reads.
type tokenClaims struct {
	Consumer struct {
		Authority string `json:"authority"`
		ID        string `json:"ID"`
	} `json:"consumer"`
	Scope scopeList `json:"scope"`
}

// scopeList reads the scope claim as a space-separated string (Maskinporten) or an array.
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

// authenticate reads the bearer token. Without an Authorization header (or with another scheme, such as
// the real register's HTTP Basic user) the caller is anonymous, which only RequireAuth refuses. A bearer
// token must be an RS256 JWT that verifies against the token keys (when any are configured) and has not
// expired; anything else is 401.
func (s *Server) authenticate(r *http.Request) (caller, *Error) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, token, _ := strings.Cut(h, " ")
	if h == "" || !strings.EqualFold(scheme, "Bearer") {
		if s.opts.RequireAuth {
			return caller{}, unauthorized("Full authentication is required to access this resource")
		}
		return caller{}, nil
	}
	claims, err := s.verify(r.Context(), strings.TrimSpace(token))
	if err != nil {
		return caller{}, unauthorized("Invalid bearer token: %v", err)
	}
	c := caller{scopes: map[string]bool{}}
	for _, sc := range claims.Scope {
		c.scopes[sc] = true
	}
	if id := claims.Consumer.ID; id != "" {
		if p, err := wire.ParseIdentifier(id); err == nil && p.Kind == wire.KindOrganization && p.ICD == wire.ICDNorway {
			c.consumerOrgnr = p.OrgID
		}
	}
	if c.consumerOrgnr == "" && s.opts.RequireAuth {
		return caller{}, unauthorized("Access is denied: consumer.ID %q is not a valid ISO 6523 identifier (0192:<orgnr>)", claims.Consumer.ID)
	}
	return c, nil
}

// verify checks token's signature and time claims and returns its claims.
func (s *Server) verify(ctx context.Context, token string) (tokenClaims, error) {
	var claims tokenClaims
	var std jwt.Claims
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return claims, errors.New("not an RS256 JWT")
	}
	keys, err := s.keys.get(ctx, false)
	switch {
	case err != nil:
		return claims, fmt.Errorf("cannot get the token keys: %w", err)
	case keys == nil:
		// No key source: decode without checking the signature (curl and hand-made tokens work).
		if err := tok.UnsafeClaimsWithoutVerification(&std, &claims); err != nil {
			return claims, fmt.Errorf("claims: %w", err)
		}
	default:
		verr := verifyWith(tok, keys, &std, &claims)
		if errors.Is(verr, errNoKeyVerifies) && s.keys.refreshable() {
			if fresh, ferr := s.keys.get(ctx, true); ferr == nil && fresh != nil {
				verr = verifyWith(tok, fresh, &std, &claims)
			}
		}
		if verr != nil {
			return claims, verr
		}
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Time: s.now()}, tokenLeeway); err != nil {
		if errors.Is(err, jwt.ErrExpired) {
			return claims, errors.New("token is expired")
		}
		return claims, err
	}
	return claims, nil
}

var errNoKeyVerifies = errors.New("signature does not verify with any token key")

// verifyWith tries the keys whose kid matches the token's (every key when none does).
func verifyWith(tok *jwt.JSONWebToken, keys *jose.JSONWebKeySet, dest ...any) error {
	var candidates []jose.JSONWebKey
	if len(tok.Headers) > 0 && tok.Headers[0].KeyID != "" {
		candidates = keys.Key(tok.Headers[0].KeyID)
	}
	if len(candidates) == 0 {
		candidates = keys.Keys
	}
	for _, k := range candidates {
		pub := k.Public()
		if !pub.Valid() || tok.Claims(pub) != nil {
			continue
		}
		if err := tok.Claims(pub, dest...); err != nil {
			return fmt.Errorf("claims: %w", err)
		}
		return nil
	}
	return errNoKeyVerifies
}

// keySource supplies the token keys: from a function, or from a JWKS URL with a short cache.
type keySource struct {
	fn     func() (*jose.JSONWebKeySet, error)
	url    string
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	cached  *jose.JSONWebKeySet
	fetched time.Time
}

func newKeySource(fn func() (*jose.JSONWebKeySet, error), url string, now func() time.Time) *keySource {
	return &keySource{fn: fn, url: url, now: now, client: &http.Client{Timeout: jwksTimeout}}
}

// refreshable reports whether a refetch may find keys the cache lacks.
func (k *keySource) refreshable() bool {
	if k.fn != nil || k.url == "" {
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.now().Sub(k.fetched) >= jwksRefreshAfter
}

// get returns the keys; nil (and no error) when there is no key source.
func (k *keySource) get(ctx context.Context, refresh bool) (*jose.JSONWebKeySet, error) {
	if k.fn != nil {
		return k.fn()
	}
	if k.url == "" {
		return nil, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if !refresh && k.cached != nil && k.now().Sub(k.fetched) < jwksCacheFor {
		return k.cached, nil
	}
	set, err := k.fetch(ctx)
	if err != nil {
		return nil, err
	}
	k.cached, k.fetched = set, k.now()
	return set, nil
}

func (k *keySource) fetch(ctx context.Context) (*jose.JSONWebKeySet, error) {
	ctx, cancel := context.WithTimeout(ctx, jwksTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", k.url, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", k.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("JWKS %s: status %d", k.url, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", k.url, err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", k.url, err)
	}
	return &set, nil
}
