package webhook

import "sync"

// ring is a bounded FIFO that drops its oldest element when full. Consumers wait on ready, which is
// signalled (without blocking) on every push and handed on by pop while elements remain.
type ring[T any] struct {
	mu    sync.Mutex
	buf   []T
	head  int
	n     int
	ready chan struct{}
}

func newRing[T any](capacity int) *ring[T] {
	return &ring[T]{buf: make([]T, capacity), ready: make(chan struct{}, 1)}
}

// push appends v; when the ring was full it drops and returns the oldest element.
func (r *ring[T]) push(v T) (dropped T, didDrop bool) {
	r.mu.Lock()
	if r.n == len(r.buf) {
		dropped, didDrop = r.buf[r.head], true
		var zero T
		r.buf[r.head] = zero
		r.head = (r.head + 1) % len(r.buf)
		r.n--
	}
	r.buf[(r.head+r.n)%len(r.buf)] = v
	r.n++
	r.mu.Unlock()
	r.signal()
	return dropped, didDrop
}

// pop removes the oldest element.
func (r *ring[T]) pop() (v T, ok bool) {
	r.mu.Lock()
	if r.n == 0 {
		r.mu.Unlock()
		return v, false
	}
	v = r.buf[r.head]
	var zero T
	r.buf[r.head] = zero
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	more := r.n > 0
	r.mu.Unlock()
	if more {
		r.signal() // wake another consumer
	}
	return v, true
}

// drain removes and returns every element.
func (r *ring[T]) drain() []T {
	var out []T
	for {
		v, ok := r.pop()
		if !ok {
			return out
		}
		out = append(out, v)
	}
}

// signal wakes one waiting consumer, if any waits.
func (r *ring[T]) signal() {
	select {
	case r.ready <- struct{}{}:
	default:
	}
}
