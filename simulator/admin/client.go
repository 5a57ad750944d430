package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client speaks one service's admin API. Base is that API's root: either the service's own
// "http://host:port/__admin" or the control port's "http://host:9090/__admin/{service}" (which keeps
// working while the service's port is refused or blackholed).
type Client struct {
	base     string
	http     *http.Client
	user, pw string
}

// WithBasicAuth is c sending HTTP Basic credentials, for an admin API that RequireBasic protects; an
// empty user sends none.
func (c *Client) WithBasicAuth(user, password string) *Client {
	d := *c
	d.user, d.pw = user, password
	return &d
}

// NewClient makes a client for the admin API at base. A nil httpClient uses one with a 10 s timeout.
func NewClient(base string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &Client{base: strings.TrimRight(base, "/"), http: httpClient}
}

// ControlClient is a client for service name on the harness control port at controlURL.
func ControlClient(controlURL, name string) *Client {
	return NewClient(strings.TrimRight(controlURL, "/")+Prefix+"/"+name, nil)
}

// APIError is a non-2xx answer from the admin API.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string { return fmt.Sprintf("admin: %d: %s", e.Status, e.Message) }

// Do sends in (JSON, if not nil) with method to path under the base and decodes the answer into out (if
// not nil).
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pw)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var p Problem
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &p) == nil && p.Message != "" {
			msg = p.Message
		}
		return &APIError{Status: resp.StatusCode, Message: msg}
	}
	if out != nil && len(b) > 0 {
		if raw, ok := out.(*json.RawMessage); ok {
			*raw = append((*raw)[:0], b...)
			return nil
		}
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

// Health checks that the service's control plane answers.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	err := c.Do(ctx, http.MethodGet, "/health", nil, &h)
	return h, err
}

// Reset forgets the service's state, journal and fault.
func (c *Client) Reset(ctx context.Context) error {
	return c.Do(ctx, http.MethodPost, "/reset", nil, nil)
}

// Requests returns the journal entries that match f.
func (c *Client) Requests(ctx context.Context, f Filter) ([]Entry, error) {
	q := url.Values{}
	if f.Path != "" {
		q.Set("path", f.Path)
	}
	if f.Method != "" {
		q.Set("method", f.Method)
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.Format(time.RFC3339Nano))
	}
	if f.Status != nil {
		q.Set("status", strconv.Itoa(*f.Status))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	path := "/requests"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var l RequestList
	err := c.Do(ctx, http.MethodGet, path, nil, &l)
	return l.Requests, err
}

// SetFault replaces the service's active fault.
func (c *Client) SetFault(ctx context.Context, f Fault) error {
	return c.Do(ctx, http.MethodPut, "/faults", f, nil)
}

// ClearFault lifts the active fault.
func (c *Client) ClearFault(ctx context.Context) error {
	return c.Do(ctx, http.MethodDelete, "/faults", nil, nil)
}

// Fault shows the active fault.
func (c *Client) Fault(ctx context.Context) (FaultState, error) {
	var s FaultState
	err := c.Do(ctx, http.MethodGet, "/faults", nil, &s)
	return s, err
}

// Messages decodes the service's received messages into out.
func (c *Client) Messages(ctx context.Context, out any) error {
	return c.Do(ctx, http.MethodGet, "/messages", nil, out)
}

// Message decodes one received message into out.
func (c *Client) Message(ctx context.Context, id string, out any) error {
	return c.Do(ctx, http.MethodGet, "/messages/"+url.PathEscape(id), nil, out)
}

// Inject asks the service to deliver in to an integration point, decoding its answer into out.
func (c *Client) Inject(ctx context.Context, in, out any) error {
	return c.Do(ctx, http.MethodPost, "/inject", in, out)
}

// InjectRaw asks the service to deliver a package given byte for byte (POST /inject/raw; the DPO
// simulator), decoding its answer into out.
func (c *Client) InjectRaw(ctx context.Context, in, out any) error {
	return c.Do(ctx, http.MethodPost, "/inject/raw", in, out)
}

// SetBehaviour changes how the service answers.
func (c *Client) SetBehaviour(ctx context.Context, in any) error {
	return c.Do(ctx, http.MethodPut, "/behaviour", in, nil)
}

// PutRecord adds or changes the address register's registration for identifier.
func (c *Client) PutRecord(ctx context.Context, identifier string, rec any) error {
	return c.Do(ctx, http.MethodPut, "/records/"+url.PathEscape(identifier), rec, nil)
}

// DeleteRecord removes the address register's registration for identifier.
func (c *Client) DeleteRecord(ctx context.Context, identifier string) error {
	return c.Do(ctx, http.MethodDelete, "/records/"+url.PathEscape(identifier), nil, nil)
}

// Records decodes the address register's registrations into out.
func (c *Client) Records(ctx context.Context, out any) error {
	return c.Do(ctx, http.MethodGet, "/records", nil, out)
}

// IsNotFound reports whether err is a 404 from the admin API.
func IsNotFound(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}
