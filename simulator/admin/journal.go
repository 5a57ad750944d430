package admin

import (
	"strings"
	"sync"
	"time"
)

// DefaultJournalSize is how many requests a journal keeps before it forgets the oldest.
const DefaultJournalSize = 2000

// Entry is one request as the journal remembers it.
type Entry struct {
	Seq        int64             `json:"seq"`
	Time       time.Time         `json:"time"`
	Method     string            `json:"method"`
	Path       string            `json:"path"`
	Query      string            `json:"query,omitempty"`
	Headers    map[string]string `json:"headers,omitempty"`
	BodySize   int64             `json:"bodySize"`
	BodySHA256 string            `json:"bodySha256,omitempty"`
	Status     int               `json:"status"`
	LatencyMS  float64           `json:"latencyMs"`
	Fault      string            `json:"fault,omitempty"`
	Remote     string            `json:"remote,omitempty"`
	// Caller is the organisation number the request's bearer token acts for (read, not verified), so that
	// one integration point's requests can be told from another's.
	Caller string `json:"caller,omitempty"`
}

// Filter selects journal entries; zero fields select everything.
type Filter struct {
	// Path matches entries whose path starts with it.
	Path   string
	Method string
	// Since keeps entries at or after this time.
	Since time.Time
	// Status keeps entries with this status (0 for blackholed or reset requests).
	Status *int
	Limit  int
}

// Journal is a bounded ring of the requests a service received.
type Journal struct {
	mu      sync.Mutex
	ring    []Entry
	next    int
	full    bool
	seq     int64
	dropped int64
}

// NewJournal keeps the last size requests.
func NewJournal(size int) *Journal {
	if size <= 0 {
		size = DefaultJournalSize
	}
	return &Journal{ring: make([]Entry, size)}
}

// Add records e, giving it the next sequence number.
func (j *Journal) Add(e Entry) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	e.Seq = j.seq
	if j.full {
		j.dropped++
	}
	j.ring[j.next] = e
	j.next = (j.next + 1) % len(j.ring)
	if j.next == 0 {
		j.full = true
	}
}

// Find returns the entries that match f, oldest first.
func (j *Journal) Find(f Filter) []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	var all []Entry
	if j.full {
		all = append(all, j.ring[j.next:]...)
	}
	all = append(all, j.ring[:j.next]...)
	out := []Entry{}
	for _, e := range all {
		if f.Path != "" && !strings.HasPrefix(e.Path, f.Path) {
			continue
		}
		if f.Method != "" && !strings.EqualFold(f.Method, e.Method) {
			continue
		}
		if !f.Since.IsZero() && e.Time.Before(f.Since) {
			continue
		}
		if f.Status != nil && e.Status != *f.Status {
			continue
		}
		out = append(out, e)
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[len(out)-f.Limit:]
	}
	return out
}

// Dropped is how many entries were forgotten to keep the journal bounded.
func (j *Journal) Dropped() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.dropped
}

// Reset forgets every entry.
func (j *Journal) Reset() {
	j.mu.Lock()
	defer j.mu.Unlock()
	for i := range j.ring {
		j.ring[i] = Entry{}
	}
	j.next, j.full, j.dropped = 0, false, 0
}
