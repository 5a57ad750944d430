package sr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Sentinel errors; every *Error wraps one of them, so callers can test the kind with errors.Is.
var (
	// ErrEntityNotFound: the organisation is not registered (404).
	ErrEntityNotFound = errors.New("entity not found")
	// ErrProcessNotFound: the process is unknown or yields no record for the receiver (404).
	ErrProcessNotFound = errors.New("receiver process not found")
	// ErrSecurityLevelNotFound: the receiver cannot take the requested security level (400).
	ErrSecurityLevelNotFound = errors.New("security level not found")
	// ErrCertificateNotFound: the organisation has no business certificate (404, "certificate_not_found").
	ErrCertificateNotFound = errors.New("certificate not found")
	// ErrCitizenNotFound: the citizen is unknown to the simulated KRR and FREG (404, {"message"} body).
	ErrCitizenNotFound = errors.New("citizen not found")
	// ErrBadIdentifier: the path identifier does not parse (400, Spring default body).
	ErrBadIdentifier = errors.New("unparseable identifier")
	// ErrBadRequest: a query parameter is malformed (400).
	ErrBadRequest = errors.New("bad request")
	// ErrUnauthorized: the bearer token is missing, invalid or lacks a scope (401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrInvalidRegistration is wrapped by every validation error of Put.
	ErrInvalidRegistration = errors.New("invalid registration")
)

// ErrorCodeCertificateNotFound is the only non-empty error_code of the real register.
const ErrorCodeCertificateNotFound = "certificate_not_found"

// Error is a lookup failure with the status and body the register answers with.
type Error struct {
	// Kind is one of the sentinel errors above.
	Kind error
	// Status is the HTTP status.
	Status int
	// Code is the body's error_code ("" except certificate_not_found).
	Code string
	// Description is the body's error_description (or the citizen body's message).
	Description string
}

// Error is the description.
func (e *Error) Error() string { return e.Description }

// Unwrap makes errors.Is(err, ErrProcessNotFound) and friends work.
func (e *Error) Unwrap() error { return e.Kind }

func entityNotFound(qualified string) *Error {
	return &Error{Kind: ErrEntityNotFound, Status: http.StatusNotFound,
		Description: fmt.Sprintf("Entity with identifier '%s' not found.", qualified)}
}

func processNotFound(process, identifier string) *Error {
	return &Error{Kind: ErrProcessNotFound, Status: http.StatusNotFound,
		Description: fmt.Sprintf("Process %s not found for receiver %s", process, identifier)}
}

func certificateNotFound(orgnr string) *Error {
	return &Error{Kind: ErrCertificateNotFound, Status: http.StatusNotFound, Code: ErrorCodeCertificateNotFound,
		Description: fmt.Sprintf("Virksert lookup failed - no certificate found for organization number %s", orgnr)}
}

func citizenNotFound(fnr string) *Error {
	return &Error{Kind: ErrCitizenNotFound, Status: http.StatusNotFound,
		Description: "No service record found for citizen: " + fnr}
}

func badIdentifier(value string) *Error {
	return &Error{Kind: ErrBadIdentifier, Status: http.StatusBadRequest,
		Description: fmt.Sprintf("Unable to parse identifier = '%s'", value)}
}

func badRequest(format string, a ...any) *Error {
	return &Error{Kind: ErrBadRequest, Status: http.StatusBadRequest, Description: fmt.Sprintf(format, a...)}
}

func unauthorized(format string, a ...any) *Error {
	return &Error{Kind: ErrUnauthorized, Status: http.StatusUnauthorized, Description: fmt.Sprintf(format, a...)}
}

// springError is Spring Boot's default error body plus the register's two fields (see badIdentifier).
type springError struct {
	Timestamp        string `json:"timestamp"`
	Status           int    `json:"status"`
	Error            string `json:"error"`
	Path             string `json:"path"`
	ErrorCode        string `json:"error_code"`
	ErrorDescription string `json:"error_description"`
}

// springTimestamp formats t like Jackson writes java.util.Date in Spring's error body.
func springTimestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-07:00") }

// marshal encodes v compactly, without HTML escaping, the way Jackson writes it.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only our own types are encoded here; they always encode.
		return []byte(`{"error_code":"","error_description":"cannot encode response"}`)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// jsonResponse is a compact JSON response; the register's bodies are written byte for byte.
func jsonResponse(status int, body []byte) admin.Response {
	return admin.Text(status, "application/json", body)
}

// errorResponse renders err in the register's shape for the request r.
func (s *Server) errorResponse(r *http.Request, err error) admin.Response {
	var e *Error
	if !errors.As(err, &e) {
		e = badRequest("%s", err.Error())
	}
	switch {
	case errors.Is(e, ErrCitizenNotFound):
		// The real register answers this one with a hand-written body, space after the colon included.
		return jsonResponse(e.Status, []byte(`{"message": `+string(marshal(e.Description))+`}`))
	case errors.Is(e, ErrBadIdentifier):
		return jsonResponse(e.Status, marshal(springError{Timestamp: springTimestamp(s.now()), Status: e.Status,
			Error: http.StatusText(e.Status), Path: r.URL.Path, ErrorDescription: e.Description}))
	}
	resp := jsonResponse(e.Status, marshal(wire.RegisterError{ErrorCode: e.Code, ErrorDescription: e.Description}))
	if e.Status == http.StatusUnauthorized {
		resp.Header = http.Header{"Www-Authenticate": {"Bearer"}}
	}
	return resp
}
