package sr

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/efm-harness/efm-harness/simulator/bearer"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Token checking.
const (
	jwksTimeout = 5 * time.Second
	tokenLeeway = jwt.DefaultLeeway
)

// caller is who a request comes from, as far as its bearer token says.
type caller struct {
	// consumerOrgnr is the organisation number of the token's consumer.ID, "" when absent or invalid.
	consumerOrgnr string
	scopes        map[string]bool
}

// newVerifier checks bearer tokens against opts.TokenKeys, else the keys at opts.MaskinportenJWKSURL
// (cached for a minute), else nothing: without a key source tokens are decoded without checking their
// signature, so that curl and hand-made tokens work. Time claims are checked with a minute's leeway, and
// a token without exp is accepted.
func newVerifier(opts Options) *bearer.Verifier {
	var v *bearer.Verifier
	switch {
	case opts.TokenKeys != nil:
		v = bearer.NewFuncVerifier(opts.TokenKeys)
	case opts.MaskinportenJWKSURL != "":
		v = bearer.NewVerifier(opts.MaskinportenJWKSURL, &http.Client{Timeout: jwksTimeout})
	default:
		v = bearer.NewUnverifiedVerifier()
	}
	return v.WithClock(opts.Now).WithLeeway(tokenLeeway).AllowMissingExpiry()
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
	if id := claims.Consumer; id != "" {
		if p, err := wire.ParseIdentifier(id); err == nil && p.Kind == wire.KindOrganization && p.ICD == wire.ICDNorway {
			c.consumerOrgnr = p.OrgID
		}
	}
	if c.consumerOrgnr == "" && s.opts.RequireAuth {
		return caller{}, unauthorized("Access is denied: consumer.ID %q is not a valid ISO 6523 identifier (0192:<orgnr>)", claims.Consumer)
	}
	return c, nil
}

// verify checks token's signature and time claims and returns its claims; the error says why not, in
// the words of the register's 401 texts.
func (s *Server) verify(ctx context.Context, token string) (*bearer.Claims, error) {
	claims, err := s.verifier.Verify(ctx, token)
	switch {
	case err == nil:
		return claims, nil
	case errors.Is(err, bearer.ErrKeysUnavailable):
		return nil, errors.New("cannot get the token keys: " + strings.TrimPrefix(err.Error(), bearer.ErrKeysUnavailable.Error()+": "))
	case errors.Is(err, bearer.ErrExpired):
		return nil, errors.New("token is expired")
	default:
		return nil, errors.New(strings.TrimPrefix(err.Error(), bearer.ErrInvalidToken.Error()+": "))
	}
}
