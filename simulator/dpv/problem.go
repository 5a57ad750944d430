package dpv

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

// Problem is an RFC 7807 ProblemDetails body as Altinn Correspondence (ASP.NET Core) writes it: type,
// title, status and detail, and the model validation errors keyed by field for a 400 on bad input.
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

// newProblem is a problem with the type and title ASP.NET Core gives status.
func newProblem(status int, detail string) *Problem {
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

// The Altinn Correspondence refusals the simulator answers with (texts after Altinn's error messages).
const (
	detailNotFound        = "The requested correspondence was not found"
	detailIdempotency     = "A correspondence with the same idempotent key already exists"
	detailResourceUnknown = "The resource has not been configured for correspondence, or the caller has no access to it"
	detailUploadTooLarge  = "The uploaded attachments exceed the maximum size"
	detailNoFormData      = "The request must be multipart/form-data"
)

// validationTitle is the title of ASP.NET Core's model validation problems.
const validationTitle = "One or more validation errors occurred."

// validationProblem is a 400 with the model validation errors (field → messages) as ASP.NET Core's
// [ApiController] writes it, plus a detail that lists them (ASP.NET Core writes no detail).
func validationProblem(errs map[string][]string) *Problem {
	p := newProblem(http.StatusBadRequest, "")
	p.Title = validationTitle
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

// validation collects model validation errors.
type validation map[string][]string

func (v validation) add(field, msg string) { v[field] = append(v[field], msg) }

func (v validation) problem() *Problem {
	if len(v) == 0 {
		return nil
	}
	return validationProblem(v)
}
