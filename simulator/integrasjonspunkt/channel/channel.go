// Package channel is the contract between the integration point's delivery engine and its message
// channels: one adapter per service (DPO, DPV, DPF, DPI) in a subpackage, each owning how a message is
// sent over its upstream protocol.
package channel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Message is an outgoing message as a channel gets it.
type Message struct {
	SBD *wire.StandardBusinessDocument
	// Files are the attachments in dokumentnummer order; Open reads one.
	Files []store.File
	Open  func(store.File) (io.ReadCloser, error)
	// Record is the receiver's service record that chose this channel (certificate, resource, …).
	Record wire.ServiceRecord
	// Attempt counts the delivery attempts of the message, this one included (1 for the first). A later
	// attempt may find that an earlier one reached the upstream although its answer was lost.
	Attempt int
}

// Result is what a successful send tells the delivery engine.
type Result struct {
	// ExternalReference is the upstream's id of the message (e.g. a file transfer id).
	ExternalReference string
	// Pollable turns on status polling of the conversation (channels with a polling strategy).
	Pollable bool
	// Then are statuses to register right after SENDT (e.g. LEVERT and LEST for a receipt that a DPV
	// receiver never gets).
	Then []wire.ReceiptStatus
}

// Channel sends messages over one service.
type Channel interface {
	// Service is the service identifier this channel serves.
	Service() wire.ServiceIdentifier
	// Send delivers m upstream. An error wrapped by Permanent ends the message as FEIL at once; any other
	// error is retried with back-off.
	Send(ctx context.Context, m Message) (Result, error)
}

// PermanentError is a failure that retrying cannot fix, such as a 4xx from the upstream.
type PermanentError struct {
	Err error
	// RawReceipt is the upstream's answer, kept on the FEIL status.
	RawReceipt string
}

func (e *PermanentError) Error() string { return fmt.Sprintf("permanent: %v", e.Err) }

// Unwrap gives the cause.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as permanent, with the upstream's raw answer.
func Permanent(err error, raw string) error { return &PermanentError{Err: err, RawReceipt: raw} }

// AsPermanent reports whether err is permanent.
func AsPermanent(err error) (*PermanentError, bool) {
	var p *PermanentError
	ok := errors.As(err, &p)
	return p, ok
}

// PollEvery runs poll at once and then with a fixed delay of interval after each round, until ctx ends
// (the real IP's @Scheduled fixedDelay pollers). A failed round is logged as what failed; the next round
// tries again.
func PollEvery(ctx context.Context, interval time.Duration, log *slog.Logger, what string, poll func(context.Context) (int, error)) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := poll(ctx); err != nil && ctx.Err() == nil {
			log.Warn(what+" failed; trying again next round", "err", err)
		}
		t.Reset(interval)
	}
}

// Truncate is an upstream's answer trimmed to 500 characters, for error texts.
func Truncate(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return s
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "", "\n", "")

// QuoteEscape makes s safe inside a quoted multipart Content-Disposition parameter: backslashes and
// quotes escaped, line breaks dropped.
func QuoteEscape(s string) string { return quoteEscaper.Replace(s) }

// Request is one call to an upstream with a bearer token.
type Request struct {
	// Method, URL, ContentType (may be empty) and Body (may be nil) make the request; Header adds to it.
	Method      string
	URL         string
	ContentType string
	Body        []byte
	Header      http.Header
	// Build, when set, makes the body and its content type for each token (an upstream that wants the
	// token inside the signed body too); it replaces Body and ContentType.
	Build func(token string) (body []byte, contentType string, err error)
	// Name names the upstream in errors ("SvarUt", "DPI", …); empty names none.
	Name string
	// Detail turns an error answer into its text for the error (Truncate when nil).
	Detail func(raw []byte) string
	// Limit bounds the answer read (4 MiB when 0).
	Limit int64
}

// Call makes r with a token from token, asking for a fresh one once if the upstream answers 401 or 403,
// and returns the answer's body and status (0 when there was none). The answer decides the error: none
// for 2xx; an authentication failure (permanent) for a second 401 or 403; a transient error for 408, 429,
// 5xx and network failures; a permanent error, with the answer as raw receipt, for any other status.
func Call(ctx context.Context, hc *http.Client, token func(ctx context.Context, fresh bool) (string, error), r Request) ([]byte, int, error) {
	what := strings.TrimSpace(r.Name + " " + r.Method + " " + r.URL)
	detail := r.Detail
	if detail == nil {
		detail = Truncate
	}
	limit := r.Limit
	if limit <= 0 {
		limit = 4 << 20
	}
	for try := 0; ; try++ {
		tok, err := token(ctx, try > 0)
		if err != nil {
			return nil, 0, err
		}
		body, contentType := r.Body, r.ContentType
		if r.Build != nil {
			if body, contentType, err = r.Build(tok); err != nil {
				return nil, 0, err
			}
		}
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, rd)
		if err != nil {
			return nil, 0, Permanent(err, "")
		}
		for k, vs := range r.Header {
			req.Header[k] = vs
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		if req.Header.Get("Accept") == "" {
			req.Header.Set("Accept", "application/json")
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", what, err)
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, limit))
		resp.Body.Close()
		if err != nil {
			return nil, resp.StatusCode, fmt.Errorf("%s: read answer: %w", what, err)
		}
		switch s := resp.StatusCode; {
		case s >= 200 && s < 300:
			return raw, s, nil
		case (s == http.StatusUnauthorized || s == http.StatusForbidden) && try == 0:
			continue
		case s == http.StatusUnauthorized || s == http.StatusForbidden:
			return raw, s, Permanent(fmt.Errorf("authentication failed: %s answered %d: %s", what, s, detail(raw)), string(raw))
		case s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500 || s < 400:
			return raw, s, fmt.Errorf("%s answered %d: %s", what, s, detail(raw))
		default:
			return raw, s, Permanent(fmt.Errorf("%s answered %d: %s", what, s, detail(raw)), string(raw))
		}
	}
}
