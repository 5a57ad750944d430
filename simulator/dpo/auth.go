package dpo

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/altinn"
	"github.com/efm-harness/efm-harness/simulator/bearer"
)

// scopeRule is the scope policy of a broker endpoint: Altinn's Sender (write), Recipient (read) and
// SenderOrRecipient (either) policies.
type scopeRule []string

var (
	scopeWrite       = scopeRule{ScopeWrite}
	scopeRead        = scopeRule{ScopeRead}
	scopeReadOrWrite = scopeRule{ScopeRead, ScopeWrite}
)

// caller is who calls the broker: the organisation the token's system user belongs to.
type caller struct {
	orgnr string
}

// broker wraps a broker handler with authentication: an Altinn token from the exchange (or, when
// Options.Maskinporten is set, a Maskinporten token) with one of the rule's scopes, naming an
// organisation.
func (s *Server) broker(rule scopeRule, h func(*http.Request, caller) admin.Response) admin.Handler {
	return func(r *http.Request) admin.Response {
		c, p := s.authenticate(r, rule)
		if p != nil {
			return p.Response()
		}
		return h(r, c)
	}
}

// authenticate finds the caller of a broker call. Problems: 401 for a missing or invalid token, 403 for a
// token without the rule's scope, 401 (Altinn's NoAccessToResource) for a token naming no organisation.
func (s *Server) authenticate(r *http.Request, rule scopeRule) (caller, *Problem) {
	claims, p := s.altinn.Authenticate(r, "No bearer token: the broker needs an Altinn token from "+ExchangePath)
	if p != nil {
		return caller{}, p
	}
	if !rule.allows(claims) {
		return caller{}, newProblem(http.StatusForbidden, fmt.Sprintf("The token has scope %q; this endpoint needs %s",
			strings.Join(claims.Scope, " "), strings.Join(rule, " or ")))
	}
	org := claims.SystemUserOrg()
	if org == "" {
		org = claims.ConsumerOrgnr()
	}
	if org == "" {
		return caller{}, errNoAccessToResource.problem()
	}
	return caller{orgnr: org}, nil
}

func (rule scopeRule) allows(c *bearer.Claims) bool {
	for _, sc := range rule {
		if c.HasScope(sc) {
			return true
		}
	}
	return false
}

// OpenIDConfiguration is the body of GET /authentication/api/v1/openid/.well-known/openid-configuration
// (the parts a token verifier reads).
type OpenIDConfiguration = altinn.OpenIDConfiguration
