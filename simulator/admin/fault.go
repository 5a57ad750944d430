package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// Fault modes (architecture §5).
const (
	ModeRefuse    = "refuse"    // the port refuses connections
	ModeBlackhole = "blackhole" // connections are accepted and never answered: the firewall case
	ModeReset     = "reset"     // the connection is dropped with a TCP reset
	ModeLatency   = "latency"   // answers are delayed
	ModeStatus    = "status"    // answers are an error status in the service's own error shape
	ModeDrop      = "drop"      // the request is processed, then the connection closes without an answer
)

// Fault is what PUT /__admin/faults takes. Zero Rate means every matching request; zero Count means
// until cleared; empty Paths means every path. Faults never apply to /__admin.
type Fault struct {
	Mode    string   `json:"mode"`
	Status  int      `json:"status,omitempty"`
	Latency Duration `json:"latency,omitempty"`
	Rate    float64  `json:"rate,omitempty"`
	Paths   []string `json:"paths,omitempty"`
	// Methods limits the fault to these HTTP methods (all when empty).
	Methods []string `json:"methods,omitempty"`
	Count   int      `json:"count,omitempty"`
}

// ErrBadFault is wrapped by every fault validation error.
var ErrBadFault = errors.New("bad fault")

// Validate checks the fault and fills defaults (status 503 for mode status).
func (f *Fault) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrBadFault, fmt.Sprintf(format, a...))
	}
	switch f.Mode {
	case ModeRefuse:
		if len(f.Paths) > 0 || f.Rate != 0 || f.Count != 0 {
			return bad("mode refuse closes the whole port and takes no paths, rate or count; use mode reset to drop single requests")
		}
	case ModeBlackhole, ModeReset, ModeDrop:
	case ModeLatency:
		if f.Latency <= 0 {
			return bad(`mode latency needs a positive "latency" such as "2s"`)
		}
	case ModeStatus:
		if f.Status == 0 {
			f.Status = 503
		}
		if f.Status < 400 || f.Status > 599 {
			return bad("mode status needs a status between 400 and 599, got %d", f.Status)
		}
	case "":
		return bad(`"mode" is required: one of refuse, blackhole, reset, latency, status, drop`)
	default:
		return bad("unknown mode %q: expected one of refuse, blackhole, reset, latency, status, drop", f.Mode)
	}
	if f.Rate < 0 || f.Rate > 1 {
		return bad(`"rate" must be between 0 and 1, got %v`, f.Rate)
	}
	if f.Count < 0 {
		return bad(`"count" must not be negative, got %d`, f.Count)
	}
	for _, p := range f.Paths {
		if !strings.HasPrefix(p, "/") {
			return bad("path %q must start with /", p)
		}
	}
	for i, m := range f.Methods {
		f.Methods[i] = strings.ToUpper(m)
		if f.Mode == ModeRefuse {
			return bad("mode refuse closes the whole port and takes no methods")
		}
	}
	return nil
}

// portWide reports whether the fault takes the whole port (new connections too), not only matching requests.
func (f Fault) portWide() bool {
	return (f.Mode == ModeRefuse || f.Mode == ModeBlackhole) && len(f.Paths) == 0 && len(f.Methods) == 0 && f.Rate == 0 && f.Count == 0
}

func (f Fault) matches(method, path string) bool {
	if len(f.Methods) > 0 && !slices.Contains(f.Methods, method) {
		return false
	}
	if len(f.Paths) == 0 {
		return true
	}
	for _, p := range f.Paths {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// FaultState is what GET /__admin/faults shows.
type FaultState struct {
	Active  bool      `json:"active"`
	Fault   *Fault    `json:"fault,omitempty"`
	Since   time.Time `json:"since,omitzero"`
	Applied int       `json:"applied"`
}

// faults holds the active fault of one service.
type faults struct {
	mu      sync.Mutex
	fault   *Fault
	since   time.Time
	applied int
	rnd     *rand.Rand
}

func newFaults() *faults { return &faults{rnd: rand.New(rand.NewPCG(1, 2))} }

func (fs *faults) set(f Fault, now time.Time) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.fault, fs.since, fs.applied = &f, now, 0
}

func (fs *faults) clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.fault, fs.applied = nil, 0
}

func (fs *faults) state() FaultState {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.fault == nil {
		return FaultState{}
	}
	f := *fs.fault
	return FaultState{Active: true, Fault: &f, Since: fs.since, Applied: fs.applied}
}

// take decides whether the active fault applies to a request with method on path, and counts it if so. A fault whose
// count is used up is cleared; cleared reports that.
func (fs *faults) take(method, path string) (f Fault, apply, cleared bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.fault == nil || !fs.fault.matches(method, path) {
		return Fault{}, false, false
	}
	if fs.fault.Rate > 0 && fs.fault.Rate < 1 && fs.rnd.Float64() >= fs.fault.Rate {
		return Fault{}, false, false
	}
	f = *fs.fault
	fs.applied++
	if f.Count > 0 && fs.applied >= f.Count {
		fs.fault = nil
		cleared = true
	}
	return f, true, cleared
}

// Duration is a time.Duration written and read as a Go duration string ("2s", "150ms").
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "2s" or a number of milliseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var ms float64
		if err2 := json.Unmarshal(b, &ms); err2 != nil {
			return fmt.Errorf("duration must be a string such as \"2s\" or a number of milliseconds")
		}
		*d = Duration(ms * float64(time.Millisecond))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}
