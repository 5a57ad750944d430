package admin

import (
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
)

// Response is what a handler returns; one adapter (Handler) writes it. Body is encoded as JSON unless Raw
// is set.
type Response struct {
	Status      int
	Header      http.Header
	ContentType string
	Body        any
	Raw         []byte
}

// JSON is a JSON response.
func JSON(status int, body any) Response { return Response{Status: status, Body: body} }

// Text is a plain response with the given content type.
func Text(status int, contentType string, body []byte) Response {
	return Response{Status: status, ContentType: contentType, Raw: body}
}

// NoContent is an empty response with status.
func NoContent(status int) Response { return Response{Status: status} }

// Handler adapts a function that returns a Response to http.Handler.
type Handler func(*http.Request) Response

// ServeHTTP writes the handler's response.
func (h Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h(r).Write(w) }

// Write writes the response to w.
func (resp Response) Write(w http.ResponseWriter) {
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	switch {
	case resp.Raw != nil:
		if resp.ContentType != "" {
			w.Header().Set("Content-Type", resp.ContentType)
		}
		w.WriteHeader(status)
		_, _ = w.Write(resp.Raw)
	case resp.Body != nil:
		b, err := json.MarshalIndent(resp.Body, "", "  ")
		if err != nil {
			slog.Error("encode response", "err", err)
			http.Error(w, "encode response", http.StatusInternalServerError)
			return
		}
		ct := resp.ContentType
		if ct == "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		_, _ = w.Write(append(b, '\n'))
	default:
		if resp.ContentType != "" {
			w.Header().Set("Content-Type", resp.ContentType)
		}
		w.WriteHeader(status)
	}
}

// Problem is the control plane's own error body.
type Problem struct {
	Status  int    `json:"status"`
	Error   string `json:"error"`
	Message string `json:"message"`
}

// ErrorResponse is a control-plane error.
func ErrorResponse(status int, message string) Response {
	return JSON(status, Problem{Status: status, Error: http.StatusText(status), Message: message})
}

// RequireBasic protects the admin API in next (every path under Prefix, or everything when all is true,
// as on the control port) with HTTP Basic authentication; the services' own APIs stay as they are. An
// empty user protects nothing.
func RequireBasic(user, password string, all bool, next http.Handler) http.Handler {
	if user == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if all || r.URL.Path == Prefix || strings.HasPrefix(r.URL.Path, Prefix+"/") {
			u, p, ok := r.BasicAuth()
			if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(user)) != 1 || subtle.ConstantTimeCompare([]byte(p), []byte(password)) != 1 {
				w.Header().Set("WWW-Authenticate", `Basic realm="efm-harness admin"`)
				ErrorResponse(http.StatusUnauthorized, "the admin API needs the harness's admin user (up --admin-auth)").Write(w)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
