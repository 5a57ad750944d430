// Package altinn is what the integration point's Altinn-based channels (DPO over the Altinn 3 Broker, DPV
// over Altinn 3 Correspondence) share: the Altinn token exchange, where a Maskinporten token becomes an
// Altinn token (spec upstreams §4.2, §12.3), cached as the real IP caches it.
package altinn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/oidc"
)

// TokenLifetime is how long an exchanged token is reused (the real IP caches it for 25 minutes).
const TokenLifetime = 25 * time.Minute

// Exchange turns Maskinporten tokens into Altinn tokens and caches them per Maskinporten request.
type Exchange struct {
	url    string
	tokens *oidc.Client
	http   *http.Client
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	value   string
	expires time.Time
}

// NewExchange makes an exchange client for url (…/authentication/api/v1/exchange/maskinporten).
func NewExchange(url string, tokens *oidc.Client, httpClient *http.Client, now func() time.Time) *Exchange {
	if now == nil {
		now = time.Now
	}
	return &Exchange{url: url, tokens: tokens, http: httpClient, now: now, cache: map[string]cached{}}
}

// Token returns the Altinn token for the Maskinporten request req, from the cache unless fresh. A refused
// grant is a permanent authentication failure. An exchange answering 401/403 to a cached Maskinporten token
// is tried once more with a fresh one (the cached token may have been revoked, or signed with a retired
// key); a 401/403 to a fresh token is a permanent authentication failure. Network errors and other answers
// are transient.
func (e *Exchange) Token(ctx context.Context, req oidc.Request, fresh bool) (string, error) {
	key := fmt.Sprintf("%v|%s|%v", req.Scopes, req.ConsumerOrg, req.AuthorizationDetails)
	e.mu.Lock()
	t, ok := e.cache[key]
	e.mu.Unlock()
	if ok && !fresh && e.now().Before(t.expires) {
		return t.value, nil
	}
	if fresh {
		// The cached Altinn token was refused: drop it with the Maskinporten token behind it, so that no
		// later call uses it again while a new one cannot be had.
		e.mu.Lock()
		delete(e.cache, key)
		e.mu.Unlock()
		e.tokens.Forget(req)
	}
	for try := 0; ; try++ {
		value, err := e.exchange(ctx, req)
		if errors.Is(err, errExchangeRefused) && try == 0 && !fresh {
			e.tokens.Forget(req)
			continue
		}
		if err != nil {
			return "", err
		}
		e.mu.Lock()
		if len(e.cache) > 1000 {
			e.cache = map[string]cached{}
		}
		e.cache[key] = cached{value: value, expires: e.now().Add(TokenLifetime)}
		e.mu.Unlock()
		return value, nil
	}
}

// errExchangeRefused is wrapped when the exchange answers 401 or 403.
var errExchangeRefused = errors.New("altinn token exchange refused the Maskinporten token")

// exchange gets a Maskinporten token for req (from the oidc client's cache, if it has one) and exchanges
// it for an Altinn token.
func (e *Exchange) exchange(ctx context.Context, req oidc.Request) (string, error) {
	mp, err := e.tokens.Token(ctx, req)
	if err != nil {
		if errors.Is(err, oidc.ErrGrant) {
			return "", channel.Permanent(fmt.Errorf("authentication failed: %w", err), err.Error())
		}
		return "", err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url, nil)
	if err != nil {
		return "", channel.Permanent(err, "")
	}
	r.Header.Set("Authorization", "Bearer "+mp)
	resp, err := e.http.Do(r)
	if err != nil {
		return "", fmt.Errorf("altinn token exchange: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("altinn token exchange: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("altinn token exchange answered %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return "", channel.Permanent(fmt.Errorf("authentication failed: %w: %w", errExchangeRefused, err), string(body))
		}
		return "", err
	}
	return strings.TrimSpace(string(body)), nil // used raw, as the real IP does
}
