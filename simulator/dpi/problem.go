package dpi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/bearer"
)

// ContentTypeProblem is the media type of every corner-2 error body.
const ContentTypeProblem = "application/problem+json"

// Problem is the error body of corner 2 and KRR as the simulator writes it: RFC 7807 (type, title,
// status, detail) plus, for a refused message, the violations found. Corner 2's real error body is not
// known here; the integration point reads only the status code.
type Problem struct {
	Type   string      `json:"type"`
	Title  string      `json:"title"`
	Status int         `json:"status"`
	Detail string      `json:"detail,omitempty"`
	Errors []Violation `json:"errors,omitempty"`
}

// Violation is one broken rule of a refused message: where (a dotted JSON path, or the part, file or
// manifest element) and what.
type Violation struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// violations collects broken rules.
type violations []Violation

func (v *violations) add(path, format string, a ...any) {
	*v = append(*v, Violation{Path: path, Message: fmt.Sprintf(format, a...)})
}

func (v violations) String() string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = x.Path + ": " + x.Message
	}
	return strings.Join(parts, "; ")
}

// problemResponse writes p; a 401 carries WWW-Authenticate.
func problemResponse(p Problem) admin.Response {
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	if p.Type == "" {
		p.Type = "about:blank"
	}
	b, err := json.Marshal(p)
	if err != nil { // cannot happen: strings and ints
		b = []byte(`{"status":500}`)
	}
	resp := admin.Response{Status: p.Status, ContentType: ContentTypeProblem, Raw: b}
	if p.Status == http.StatusUnauthorized {
		resp.Header = http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}}
	}
	return resp
}

func problem(status int, detail string) admin.Response {
	return problemResponse(Problem{Status: status, Detail: detail})
}

// invalid is a 400 naming the violations.
func invalid(detail string, v violations) admin.Response {
	if len(v) > 0 {
		detail += ": " + v.String()
	}
	return problemResponse(Problem{Status: http.StatusBadRequest, Detail: detail, Errors: v})
}

func statusFault(w http.ResponseWriter, _ *http.Request, status int) {
	problem(status, "Simulated fault").Write(w)
}

// caller is who calls corner 2, from the Maskinporten token.
type caller struct {
	token       string
	consumerOrg string // the consumer_org claim
	orgnr       string // the organisation the token acts for (consumer, else consumer_org)
	clientID    string
}

// corner2 wraps a corner-2 handler with authentication: a Maskinporten bearer token with Options.Scope.
// 401 without or with a bad token, 403 without the scope.
func (s *Server) corner2(h func(*http.Request, caller) admin.Response) admin.Handler {
	return func(r *http.Request) admin.Response {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		tok = strings.TrimSpace(tok)
		if !ok || tok == "" {
			return problem(http.StatusUnauthorized, "No Maskinporten token (Authorization: Bearer)")
		}
		claims, err := s.opts.Maskinporten.Verify(r.Context(), tok)
		if err != nil {
			if !errors.Is(err, bearer.ErrInvalidToken) {
				return problem(http.StatusServiceUnavailable, "Cannot check the token: "+err.Error())
			}
			return problem(http.StatusUnauthorized, "Invalid Maskinporten token: "+err.Error())
		}
		if !claims.HasScope(s.opts.Scope) {
			return problem(http.StatusForbidden, fmt.Sprintf("The token has scope %q; corner 2 needs %s",
				strings.Join(claims.Scope, " "), s.opts.Scope))
		}
		return h(r, caller{token: tok, consumerOrg: claims.ConsumerOrg, orgnr: claims.ConsumerOrgnr(), clientID: claims.ClientID})
	}
}
