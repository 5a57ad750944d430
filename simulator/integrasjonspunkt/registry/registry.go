// Package registry is the reference integration point's client of the address register (ServiceRegistry):
// lookups of a receiver's service records, as the real IP makes them (spec upstreams §3): the same paths
// and query order, an optional Maskinporten bearer token, JWS answers verified against the register's
// /jwk, and answers cached for five minutes (the cache key leaves out conversationId).
package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Scopes the real IP asks for when it calls the register with DPO enabled.
var DefaultScopes = []string{"eformidling:dpo"}

// TokenSource gives bearer tokens for the register.
type TokenSource interface {
	Token(ctx context.Context, scopes []string) (string, error)
}

// Options configure a Client.
type Options struct {
	// BaseURL is the register's base URL, without a trailing slash.
	BaseURL string
	// Signed asks for JWS answers and verifies them against BaseURL/jwk.
	Signed bool
	// HTTP makes the calls; it must have a timeout (every upstream call has one).
	HTTP *http.Client
	// Tokens, when set, adds a Maskinporten bearer token with Scopes to every call but /jwk.
	Tokens TokenSource
	Scopes []string
	// CacheTTL is how long answers are kept (0 disables the cache).
	CacheTTL time.Duration
	// MaxEntries bounds the cache (10 000 when 0).
	MaxEntries int
	Now        func() time.Time
}

// Client looks receivers up in the address register.
type Client struct {
	opts  Options
	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	res     wire.IdentifierResource
	expires time.Time
}

// New makes a client.
func New(opts Options) *Client {
	if opts.HTTP == nil {
		opts.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxEntries == 0 {
		opts.MaxEntries = 10000
	}
	if opts.Scopes == nil {
		opts.Scopes = DefaultScopes
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	return &Client{opts: opts, cache: map[string]cached{}}
}

// Errors of a lookup.
var (
	// ErrNotFound: the register answered 404 (unknown receiver, or no record for the process).
	ErrNotFound = errors.New("not found in the address register")
	// ErrRefused: the register answered another 4xx (e.g. security level not found).
	ErrRefused = errors.New("refused by the address register")
	// ErrUnavailable: the register could not be reached, timed out, answered 5xx or a bad signature.
	ErrUnavailable = errors.New("address register unavailable")
)

// Error is a failed lookup: Kind is one of the sentinels, Description the register's error_description.
type Error struct {
	Kind        error
	Status      int
	Description string
	URL         string
	Err         error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v: GET %s", e.Kind, e.URL)
	if e.Status != 0 {
		fmt.Fprintf(&b, " answered %d", e.Status)
	}
	if e.Description != "" {
		fmt.Fprintf(&b, ": %s", e.Description)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap gives the kind and the cause.
func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }

// Query is one lookup.
type Query struct {
	Identifier string
	// Process, when set, asks for that process only.
	Process string
	// SecurityLevel is sent when the business message has sikkerhetsnivaa.
	SecurityLevel *int
	// ConversationID is sent for the register's logs; it is not part of the cache key.
	ConversationID string
	// NoPrint adds print=false.
	NoPrint bool
}

func (q Query) path() string {
	p := "/identifier/" + url.PathEscape(q.Identifier)
	if q.Process != "" {
		p += "/process/" + url.PathEscape(q.Process) // leaves a URN's colons as the real IP sends them
	}
	return p
}

func (q Query) cacheKey() string {
	lvl := ""
	if q.SecurityLevel != nil {
		lvl = strconv.Itoa(*q.SecurityLevel)
	}
	return q.path() + "|" + lvl + "|" + strconv.FormatBool(q.NoPrint)
}

// Lookup returns the receiver's info record and service records, from the cache when fresh.
func (c *Client) Lookup(ctx context.Context, q Query) (wire.IdentifierResource, error) {
	key := q.cacheKey()
	now := c.opts.Now()
	if c.opts.CacheTTL > 0 {
		c.mu.Lock()
		e, ok := c.cache[key]
		c.mu.Unlock()
		if ok && now.Before(e.expires) {
			return e.res, nil
		}
	}
	var params []string // in the real IP's order
	if q.SecurityLevel != nil {
		params = append(params, "securityLevel="+strconv.Itoa(*q.SecurityLevel))
	}
	if q.ConversationID != "" {
		params = append(params, "conversationId="+url.QueryEscape(q.ConversationID))
	}
	if q.NoPrint {
		params = append(params, "print=false")
	}
	u := c.opts.BaseURL + q.path()
	if len(params) > 0 {
		u += "?" + strings.Join(params, "&")
	}
	body, err := c.get(ctx, u)
	if err != nil {
		return wire.IdentifierResource{}, err
	}
	var res wire.IdentifierResource
	if err := json.Unmarshal(body, &res); err != nil {
		return res, &Error{Kind: ErrUnavailable, URL: u, Err: fmt.Errorf("answer is not an identifier resource: %w", err)}
	}
	if c.opts.CacheTTL > 0 {
		c.mu.Lock()
		if len(c.cache) >= c.opts.MaxEntries {
			for k, v := range c.cache { // drop expired entries, or any one entry when none has expired
				if now.After(v.expires) || len(c.cache) >= c.opts.MaxEntries {
					delete(c.cache, k)
				}
				if len(c.cache) < c.opts.MaxEntries/2 {
					break
				}
			}
		}
		c.cache[key] = cached{res: res, expires: now.Add(c.opts.CacheTTL)}
		c.mu.Unlock()
	}
	return res, nil
}

// Record returns the first service record of the receiver's answer for process whose document types
// contain standard, as the real IP chooses the channel. ErrNotFound (wrapped in *Error) when none does.
func (c *Client) Record(ctx context.Context, q Query, standard string) (wire.ServiceRecord, error) {
	res, err := c.Lookup(ctx, q)
	if err != nil {
		return wire.ServiceRecord{}, err
	}
	for _, r := range res.ServiceRecords {
		if r.HasDocumentType(standard) {
			return r, nil
		}
	}
	return wire.ServiceRecord{}, &Error{Kind: ErrNotFound, URL: c.opts.BaseURL + q.path(),
		Description: fmt.Sprintf("Error looking up service record with document type %s", standard)}
}

// Info returns the receiver's info record (GET /info/{id}).
func (c *Client) Info(ctx context.Context, id string) (wire.InfoRecord, error) {
	u := c.opts.BaseURL + "/info/" + url.PathEscape(id)
	body, err := c.get(ctx, u)
	if err != nil {
		return wire.InfoRecord{}, err
	}
	var res wire.IdentifierResource
	if err := json.Unmarshal(body, &res); err != nil {
		return wire.InfoRecord{}, &Error{Kind: ErrUnavailable, URL: u, Err: err}
	}
	return res.InfoRecord, nil
}

// ClearCache forgets every cached answer.
func (c *Client) ClearCache() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cache = map[string]cached{}
}

// get fetches u, verifying a JWS answer when the client asks for signed answers.
func (c *Client) get(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &Error{Kind: ErrUnavailable, URL: u, Err: err}
	}
	if c.opts.Signed {
		req.Header.Set("Accept", "application/jose, application/json")
	}
	if c.opts.Tokens != nil {
		tok, err := c.opts.Tokens.Token(ctx, c.opts.Scopes)
		if err != nil {
			return nil, &Error{Kind: ErrUnavailable, URL: u, Err: fmt.Errorf("maskinporten token: %w", err)}
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.opts.HTTP.Do(req)
	if err != nil {
		return nil, &Error{Kind: ErrUnavailable, URL: u, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, &Error{Kind: ErrUnavailable, URL: u, Status: resp.StatusCode, Err: err}
	}
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusNotFound:
		return nil, &Error{Kind: ErrNotFound, URL: u, Status: resp.StatusCode, Description: description(body)}
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		return nil, &Error{Kind: ErrRefused, URL: u, Status: resp.StatusCode, Description: description(body)}
	default:
		return nil, &Error{Kind: ErrUnavailable, URL: u, Status: resp.StatusCode, Description: description(body)}
	}
	if !c.opts.Signed {
		return body, nil
	}
	payload, err := c.verify(ctx, string(body))
	if err != nil {
		return nil, &Error{Kind: ErrUnavailable, URL: u, Description: "Bad signature in response from service registry", Err: err}
	}
	return payload, nil
}

// verify checks a compact JWS as the real IP does: with the first RSA key of the register's /jwk,
// downloaded for every verification.
func (c *Client) verify(ctx context.Context, compact string) ([]byte, error) {
	obj, err := jose.ParseSigned(strings.TrimSpace(compact), []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, fmt.Errorf("not a compact RS256 JWS: %w", err)
	}
	body, err := c.plain(ctx, c.opts.BaseURL+"/jwk")
	if err != nil {
		return nil, fmt.Errorf("jwk: %w", err)
	}
	var ks jose.JSONWebKeySet
	if err := json.Unmarshal(body, &ks); err != nil {
		return nil, fmt.Errorf("jwk: %w", err)
	}
	for _, k := range ks.Keys {
		if k.Valid() && k.Algorithm != "" && k.Algorithm != string(jose.RS256) {
			continue
		}
		return obj.Verify(k.Key)
	}
	return nil, errors.New("jwk: no RSA key")
}

func (c *Client) plain(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.opts.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s answered %d", u, resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

func description(body []byte) string {
	var e wire.RegisterError
	if json.Unmarshal(body, &e) == nil && e.ErrorDescription != "" {
		return e.ErrorDescription
	}
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &m) == nil && m.Message != "" {
		return m.Message
	}
	return strings.TrimSpace(string(body))
}
