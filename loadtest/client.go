package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"
)

// Client calls an integration point's Next Move API.
type Client struct {
	// BaseURL is the integration point's URL, e.g. http://127.0.0.1:9093.
	BaseURL string
	// User and Password, when User is set, are sent as HTTP Basic authentication.
	User, Password string
	// HTTP does the calls; its transport should allow as many idle connections per host as there are
	// virtual users.
	HTTP *http.Client
}

// NewHTTPClient is an HTTP client for load: keep-alive connections, up to maxConns idle per host, and
// a timeout on every request.
func NewHTTPClient(maxConns int, timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = maxConns
	tr.MaxIdleConnsPerHost = maxConns
	tr.MaxConnsPerHost = 0
	tr.IdleConnTimeout = 30 * time.Second
	return &http.Client{Transport: tr, Timeout: timeout}
}

// StatusError is an answer outside 2xx.
type StatusError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s answered %d: %.200s", e.Method, e.Path, e.Status, strings.TrimSpace(e.Body))
}

// Do sends one request and reads the whole answer; an answer outside 2xx is a *StatusError.
func (c *Client) Do(ctx context.Context, method, path string, header http.Header, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return 0, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if c.User != "" {
		req.SetBasicAuth(c.User, c.Password)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, raw, &StatusError{Method: method, Path: path, Status: resp.StatusCode, Body: string(raw)}
	}
	return resp.StatusCode, raw, nil
}

// Classify names the kind of an error for the error table: "status 503", "timeout", "connection
// refused", "connection reset", "cancelled" or "error".
func Classify(err error) string {
	var se *StatusError
	var ne net.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &se):
		return fmt.Sprintf("status %d", se.Status)
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection reset"
	}
	return "error"
}

// ErrRemote is returned by CheckLoopback for a target that is not on this machine.
var ErrRemote = errors.New("target is not on the loopback interface")

// CheckLoopback refuses URLs whose host is not a loopback address (or localhost): a load run against
// someone else's machine must be asked for with --allow-remote.
func CheckLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not a URL", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%w: %s (pass --allow-remote to load it anyway)", ErrRemote, raw)
}
