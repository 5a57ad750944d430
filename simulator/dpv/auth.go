package dpv

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/efm-harness/efm-harness/simulator/admin"
)

// caller is who calls the correspondence API: the organisation of the token (its system user, else its
// consumer, else Altinn's urn:altinn:orgNumber); empty when the token names none.
type caller struct {
	orgnr string
}

// correspondence wraps a correspondence handler with authentication: an Altinn token from the exchange
// (or, when Options.Maskinporten is set, a Maskinporten token) with scope eformidling:dpv.
func (s *Server) correspondenceAPI(h func(*http.Request, caller) admin.Response) admin.Handler {
	return func(r *http.Request) admin.Response {
		c, p := s.authenticate(r)
		if p != nil {
			return p.Response()
		}
		return h(r, c)
	}
}

// authenticate finds the caller. Problems: 401 for a missing or invalid token, 403 for a token without
// the scope.
func (s *Server) authenticate(r *http.Request) (caller, *Problem) {
	claims, p := s.altinn.Authenticate(r, "No bearer token: the correspondence API needs an Altinn token from "+ExchangePath)
	if p != nil {
		return caller{}, p
	}
	if !claims.HasScope(s.opts.Scope) {
		return caller{}, newProblem(http.StatusForbidden, fmt.Sprintf("The token has scope %q; this endpoint needs %s",
			strings.Join(claims.Scope, " "), s.opts.Scope))
	}
	org := claims.SystemUserOrg()
	if org == "" {
		org = claims.ConsumerOrgnr()
	}
	if org == "" {
		if v, ok := claims.Raw["urn:altinn:orgNumber"].(string); ok {
			org = v
		}
	}
	return caller{orgnr: org}, nil
}

// health serves the health probe as ASP.NET Core's health checks answer it.
func (s *Server) health(*http.Request) admin.Response {
	return admin.Text(http.StatusOK, "text/plain", []byte("Healthy"))
}
