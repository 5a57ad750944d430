// Package oidc is the reference integration point's Maskinporten client: the JWT-bearer grant of spec
// upstreams §2 — an RS256 assertion signed with the organisation's business certificate (x5c), with aud,
// iss, scope, jti, iat, exp = iat + 120 s and, when asked, consumer_org and authorization_details — and a
// cache of the tokens it gets, keyed by everything that went into the assertion.
package oidc

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
)

// Options configure a Client.
type Options struct {
	// TokenURL is the token endpoint (difi.move.oidc.url), Audience the assertion's aud.
	TokenURL string
	Audience string
	ClientID string
	// Key and Certificate are the business certificate the assertion is signed with and carries (x5c).
	Key         *rsa.PrivateKey
	Certificate *x509.Certificate
	// HTTP makes the calls; it must have a timeout.
	HTTP *http.Client
	Now  func() time.Time
}

// Client gets and caches Maskinporten access tokens.
type Client struct {
	opts  Options
	mu    sync.Mutex
	cache map[string]token
}

type token struct {
	value   string
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
	return &Client{opts: opts, cache: map[string]token{}}
}

// Request is what a token is for.
type Request struct {
	Scopes []string
	// ConsumerOrg is the 9-digit organisation the token acts for (DPI, SvarUt REST, DPH).
	ConsumerOrg string
	// AuthorizationDetails are passed as they are (the DPO system user).
	AuthorizationDetails any
}

func (r Request) key() string {
	s := append([]string(nil), r.Scopes...)
	sort.Strings(s)
	ad, _ := json.Marshal(r.AuthorizationDetails)
	return strings.Join(s, " ") + "|" + r.ConsumerOrg + "|" + string(ad)
}

// ErrGrant is wrapped when Maskinporten refuses the grant (4xx): retrying with the same credentials is
// pointless. Other failures (network, 5xx) are transient.
var ErrGrant = errors.New("maskinporten refused the grant")

// GrantError is Maskinporten's answer to a refused or failed grant.
type GrantError struct {
	Status      int
	Code        string
	Description string
	Transient   bool
}

func (e *GrantError) Error() string {
	return fmt.Sprintf("maskinporten answered %d: %s: %s", e.Status, e.Code, e.Description)
}

// Unwrap makes a refused grant match ErrGrant.
func (e *GrantError) Unwrap() error {
	if e.Transient {
		return nil
	}
	return ErrGrant
}

// Token returns an access token for r, from the cache while it has more than 30 s to live.
func (c *Client) Token(ctx context.Context, r Request) (string, error) {
	key := r.key()
	now := c.opts.Now()
	c.mu.Lock()
	t, ok := c.cache[key]
	c.mu.Unlock()
	if ok && now.Add(30*time.Second).Before(t.expires) {
		return t.value, nil
	}
	value, life, err := c.grant(ctx, r, now)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if len(c.cache) > 1000 {
		c.cache = map[string]token{}
	}
	c.cache[key] = token{value: value, expires: now.Add(life)}
	c.mu.Unlock()
	return value, nil
}

// Forget drops the cached token for r, so that the next Token asks again (after a 401 upstream).
func (c *Client) Forget(r Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.cache, r.key())
}

// Scoped adapts the client to callers that only name scopes (the address-register client).
type Scoped struct{ *Client }

// Token asks for a token with scopes and nothing else.
func (s Scoped) Token(ctx context.Context, scopes []string) (string, error) {
	return s.Client.Token(ctx, Request{Scopes: scopes})
}

func (c *Client) assertion(r Request, now time.Time) (string, error) {
	opts := (&jose.SignerOptions{}).WithHeader("x5c", []string{base64.StdEncoding.EncodeToString(c.opts.Certificate.Raw)})
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: c.opts.Key}, opts)
	if err != nil {
		return "", fmt.Errorf("assertion signer: %w", err)
	}
	claims := map[string]any{
		"aud": c.opts.Audience, "iss": c.opts.ClientID, "scope": strings.Join(r.Scopes, " "),
		"jti": uuid.NewString(), "iat": now.Unix(), "exp": now.Add(120 * time.Second).Unix(),
	}
	if r.ConsumerOrg != "" {
		claims["consumer_org"] = r.ConsumerOrg
	}
	if r.AuthorizationDetails != nil {
		claims["authorization_details"] = r.AuthorizationDetails
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign assertion: %w", err)
	}
	return obj.CompactSerialize()
}

func (c *Client) grant(ctx context.Context, r Request, now time.Time) (string, time.Duration, error) {
	a, err := c.assertion(r, now)
	if err != nil {
		return "", 0, err
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {a}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.opts.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json, application/*+json")
	resp, err := c.opts.HTTP.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("token request to %s: %w", c.opts.TokenURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", 0, fmt.Errorf("token response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &e)
		if e.Error == "" {
			e.Description = strings.TrimSpace(string(body))
		}
		return "", 0, &GrantError{Status: resp.StatusCode, Code: e.Error, Description: e.Description,
			Transient: resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests}
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return "", 0, fmt.Errorf("token response from %s has no access_token", c.opts.TokenURL)
	}
	life := time.Duration(tr.ExpiresIn) * time.Second
	if life <= 0 {
		life = 60 * time.Second
	}
	return tr.AccessToken, life, nil
}
