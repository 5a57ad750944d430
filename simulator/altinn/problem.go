package altinn

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/efm-harness/efm-harness/simulator/admin"
)

// ContentTypeProblem is the media type of every error body, as ASP.NET Core writes ProblemDetails.
const ContentTypeProblem = "application/problem+json; charset=utf-8"

// Problem is an RFC 7807 ProblemDetails body as the Altinn 3 services (ASP.NET Core) write it: type,
// title, status and detail, the Altinn error code (such as the Broker's "BRO-00001") where Altinn has
// one, and the model validation errors keyed by field for a 400 on bad input.
type Problem struct {
	Type   string              `json:"type"`
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Detail string              `json:"detail,omitempty"`
	Errors map[string][]string `json:"errors,omitempty"`
	Code   string              `json:"code,omitempty"`
}

// Error is "status title: detail".
func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail) }

// Response is the problem as an HTTP answer; 401s carry WWW-Authenticate.
func (p *Problem) Response() admin.Response {
	b, err := json.Marshal(p)
	if err != nil { // cannot happen: strings, ints and string maps
		b = []byte(`{"status":500}`)
	}
	resp := admin.Response{Status: p.Status, ContentType: ContentTypeProblem, Raw: b}
	if p.Status == http.StatusUnauthorized {
		resp.Header = http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}}
	}
	return resp
}

// rfc9110 maps statuses to the sections of RFC 9110 that ASP.NET Core names in ProblemDetails.type.
var rfc9110 = map[int]string{
	400: "15.5.1", 401: "15.5.2", 402: "15.5.3", 403: "15.5.4", 404: "15.5.5", 405: "15.5.6", 406: "15.5.7",
	407: "15.5.8", 408: "15.5.9", 409: "15.5.10", 410: "15.5.11", 411: "15.5.12", 412: "15.5.13",
	413: "15.5.14", 414: "15.5.15", 415: "15.5.16", 416: "15.5.17", 417: "15.5.18", 421: "15.5.20",
	422: "15.5.21", 426: "15.5.22",
	500: "15.6.1", 501: "15.6.2", 502: "15.6.3", 503: "15.6.4", 504: "15.6.5", 505: "15.6.6",
}

// titles are ASP.NET Core's titles where they differ from Go's status texts.
var titles = map[int]string{
	413: "Payload Too Large", 416: "Range Not Satisfiable", 422: "Unprocessable Entity",
}

// NewProblem is a problem with the type and title ASP.NET Core gives status.
func NewProblem(status int, detail string) *Problem {
	p := &Problem{Status: status, Detail: detail, Title: titles[status]}
	if p.Title == "" {
		p.Title = http.StatusText(status)
	}
	if p.Title == "" {
		p.Title = fmt.Sprintf("Status %d", status)
	}
	if sec, ok := rfc9110[status]; ok {
		p.Type = "https://tools.ietf.org/html/rfc9110#section-" + sec
	} else {
		p.Type = "about:blank"
	}
	return p
}

// ValidationTitle is the title of ASP.NET Core's model validation problems.
const ValidationTitle = "One or more validation errors occurred."

// ValidationProblem is a 400 with the model validation errors (field → messages) as ASP.NET Core's
// [ApiController] writes it, plus a detail that lists them (ASP.NET Core writes no detail).
func ValidationProblem(errs map[string][]string) *Problem {
	p := NewProblem(http.StatusBadRequest, "")
	p.Title = ValidationTitle
	p.Errors = errs
	keys := make([]string, 0, len(errs))
	for k := range errs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString("; ")
		}
		if k != "" {
			b.WriteString(k + ": ")
		}
		b.WriteString(strings.Join(errs[k], " "))
	}
	p.Detail = b.String()
	return p
}

// JSON is a compact JSON answer as ASP.NET Core writes it.
func JSON(status int, v any) admin.Response {
	b, err := json.Marshal(v)
	if err != nil {
		return NewProblem(http.StatusInternalServerError, "encode response: "+err.Error()).Response()
	}
	return admin.Response{Status: status, ContentType: "application/json; charset=utf-8", Raw: b}
}

// StatusFault writes an injected status fault as a ProblemDetails body (an admin.Hooks.StatusFault).
func StatusFault(w http.ResponseWriter, _ *http.Request, status int) {
	NewProblem(status, fmt.Sprintf("Injected fault: %d %s", status, http.StatusText(status))).Response().Write(w)
}

// NotFound answers a request no route matches.
func NotFound(r *http.Request) admin.Response {
	return NewProblem(http.StatusNotFound, fmt.Sprintf("No endpoint %s %s", r.Method, r.URL.Path)).Response()
}

// MethodNotAllowed answers a request whose path a route matches but not its method.
func MethodNotAllowed(r *http.Request) admin.Response {
	return NewProblem(http.StatusMethodNotAllowed, fmt.Sprintf("Method %s is not allowed on %s", r.Method, r.URL.Path)).Response()
}
