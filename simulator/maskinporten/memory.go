package maskinporten

import (
	"encoding/json"
	"sync"
	"time"
)

// replayCache remembers granted (iss, jti) pairs until their assertion could no longer be accepted
// (exp + ClockSkew), at most max of them; when full the oldest are forgotten first.
type replayCache struct {
	mu    sync.Mutex
	max   int
	seen  map[string]time.Time
	order []replayEntry // insertion order; assertion lifetimes are bounded, so nearly expiry order
}

type replayEntry struct {
	key   string
	until time.Time
}

func newReplayCache(max int) *replayCache {
	return &replayCache{max: max, seen: map[string]time.Time{}}
}

// use records key until until and reports whether it was unused (or its earlier use has expired).
func (c *replayCache) use(key string, until, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.order) > 0 && (!c.order[0].until.After(now) || len(c.seen) >= c.max) {
		e := c.order[0]
		c.order[0] = replayEntry{}
		c.order = c.order[1:]
		if u, ok := c.seen[e.key]; ok && u.Equal(e.until) {
			delete(c.seen, e.key)
		}
	}
	if u, ok := c.seen[key]; ok && u.After(now) {
		return false
	}
	c.seen[key] = until
	c.order = append(c.order, replayEntry{key: key, until: until})
	return true
}

func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

func (c *replayCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = map[string]time.Time{}
	c.order = nil
}

// IssuedToken describes one issued access token on the admin API (GET /__admin/messages); the token
// itself is not kept. IssuedAt and ExpiresAt are RFC 3339 times.
type IssuedToken struct {
	JTI                  string          `json:"jti"`
	ClientID             string          `json:"client_id"`
	ClientAMR            string          `json:"client_amr"`
	Consumer             string          `json:"consumer,omitempty"`
	Supplier             string          `json:"supplier,omitempty"`
	ConsumerOrg          string          `json:"consumer_org,omitempty"`
	Scope                string          `json:"scope"`
	Audience             json.RawMessage `json:"aud,omitempty"`
	AuthorizationDetails json.RawMessage `json:"authorization_details,omitempty"`
	IssuedAt             time.Time       `json:"iat"`
	ExpiresAt            time.Time       `json:"exp"`
}

// IssuedTokens is the body of GET /__admin/messages.
type IssuedTokens struct {
	// Tokens are the issued tokens, oldest first.
	Tokens []IssuedToken `json:"tokens"`
	// Dropped counts tokens forgotten to keep the list bounded.
	Dropped int64 `json:"dropped"`
}

// issuedLog is a ring of the last max issued tokens; the Server's mutex guards it.
type issuedLog struct {
	max     int
	ring    []IssuedToken
	next    int
	dropped int64
}

func newIssuedLog(max int) *issuedLog { return &issuedLog{max: max} }

func (l *issuedLog) add(t IssuedToken) {
	if len(l.ring) < l.max {
		l.ring = append(l.ring, t)
		return
	}
	l.ring[l.next] = t
	l.next = (l.next + 1) % l.max
	l.dropped++
}

func (l *issuedLog) list() IssuedTokens {
	out := IssuedTokens{Tokens: make([]IssuedToken, 0, len(l.ring)), Dropped: l.dropped}
	out.Tokens = append(out.Tokens, l.ring[l.next:]...)
	out.Tokens = append(out.Tokens, l.ring[:l.next]...)
	return out
}

func (l *issuedLog) find(jti string) (IssuedToken, bool) {
	for i := len(l.ring) - 1; i >= 0; i-- {
		if l.ring[i].JTI == jti {
			return l.ring[i], true
		}
	}
	return IssuedToken{}, false
}

func (l *issuedLog) reset() {
	l.ring, l.next, l.dropped = nil, 0, 0
}
