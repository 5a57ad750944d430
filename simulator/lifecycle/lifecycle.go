// Package lifecycle keeps a simulator's pending life-cycle steps — a status after a delay, a receipt
// later — as timers that run each step with the simulator's mutex held, unless the simulator was reset
// or closed first. It is what the DPV, DPF and DPI simulators schedule their state changes with.
package lifecycle

import (
	"sync"
	"time"
)

// Timers are the pending steps of one simulator. Every method is called with the simulator's mutex
// (the one given to New) held; the steps run with it held too.
type Timers struct {
	mu      sync.Locker
	max     int
	pending map[*time.Timer]struct{}
	gen     uint64
	closed  bool
}

// New makes Timers that take mu around every step and keep at most max steps pending.
func New(mu sync.Locker, max int) *Timers {
	return &Timers{mu: mu, max: max, pending: map[*time.Timer]struct{}{}}
}

// AfterLocked runs f after d unless StopLocked or CloseLocked comes first. It reports false, scheduling
// nothing, when the timers are closed or max steps are pending.
func (t *Timers) AfterLocked(d time.Duration, f func()) bool {
	if t.closed || len(t.pending) >= t.max {
		return false
	}
	gen := t.gen
	var tm *time.Timer
	tm = time.AfterFunc(d, func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		delete(t.pending, tm)
		if t.closed || t.gen != gen {
			return // reset or closed since: a timer that already fired does nothing
		}
		f()
	})
	t.pending[tm] = struct{}{}
	return true
}

// StopLocked forgets every pending step (a reset); later steps are scheduled as usual.
func (t *Timers) StopLocked() {
	t.gen++
	for tm := range t.pending {
		tm.Stop()
	}
	clear(t.pending)
}

// CloseLocked stops every pending step and refuses new ones.
func (t *Timers) CloseLocked() {
	t.closed = true
	t.StopLocked()
}

// ClosedLocked reports whether CloseLocked was called.
func (t *Timers) ClosedLocked() bool { return t.closed }

// PendingLocked is the number of steps waiting.
func (t *Timers) PendingLocked() int { return len(t.pending) }
