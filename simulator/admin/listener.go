package admin

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// maxParked bounds the connections a blackhole holds; the oldest is closed beyond it.
const maxParked = 4096

// Listener is a TCP listener whose port can be made to refuse connections (it is really closed and later
// re-opened on the same address) or to blackhole them (they are accepted and never read or answered).
// It is how a simulator plays a host that is down or behind a firewall that drops packets.
type Listener struct {
	mu        sync.Mutex
	cond      *sync.Cond
	addr      string
	inner     net.Listener
	refusing  bool
	blackhole bool
	closed    bool
	conns     map[net.Conn]struct{}
	parked    []net.Conn
}

// Listen opens a Listener on addr ("127.0.0.1:0" picks a free port that later re-opens keep).
func Listen(addr string) (*Listener, error) {
	inner, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	l := &Listener{addr: inner.Addr().String(), inner: inner, conns: map[net.Conn]struct{}{}}
	l.cond = sync.NewCond(&l.mu)
	return l, nil
}

// Accept waits for the next connection that is neither refused nor blackholed.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		for l.refusing && !l.closed {
			l.cond.Wait()
		}
		if l.closed {
			l.mu.Unlock()
			return nil, net.ErrClosed
		}
		inner := l.inner
		l.mu.Unlock()

		c, err := inner.Accept()
		l.mu.Lock()
		if err != nil {
			if l.closed {
				l.mu.Unlock()
				return nil, net.ErrClosed
			}
			if l.refusing || inner != l.inner {
				l.mu.Unlock()
				continue // closed on purpose by SetRefuse
			}
			l.mu.Unlock()
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return nil, err
		}
		if l.refusing || l.closed {
			l.mu.Unlock()
			c.Close()
			continue
		}
		if l.blackhole {
			l.parkLocked(c)
			l.mu.Unlock()
			continue
		}
		tc := &trackedConn{Conn: c, l: l}
		l.conns[tc] = struct{}{}
		l.mu.Unlock()
		return tc, nil
	}
}

// Close closes the listener for good, with every connection it holds.
func (l *Listener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	l.cond.Broadcast()
	l.releaseParkedLocked()
	if l.refusing { // the socket is already closed
		return nil
	}
	return l.inner.Close()
}

// Addr is the listening address, stable across refuse and restore.
func (l *Listener) Addr() net.Addr {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.inner.Addr()
}

// SetRefuse closes the port (on) so that clients get "connection refused", dropping open connections, or
// re-opens it on the same address (off).
func (l *Listener) SetRefuse(on bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || on == l.refusing {
		return nil
	}
	if on {
		l.refusing = true
		err := l.inner.Close()
		for c := range l.conns {
			c.(*trackedConn).Conn.Close()
			delete(l.conns, c)
		}
		return err
	}
	var inner net.Listener
	var err error
	for i := 0; i < 50; i++ { // the old socket may linger for a moment
		if inner, err = net.Listen("tcp", l.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("re-open %s: %w", l.addr, err)
	}
	l.inner, l.refusing = inner, false
	l.cond.Broadcast()
	return nil
}

// SetBlackhole makes new connections hang unanswered (on), or releases the held ones (off).
func (l *Listener) SetBlackhole(on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.blackhole = on
	if !on {
		l.releaseParkedLocked()
	}
}

// Park holds c unanswered until the blackhole is lifted; used for requests on connections that were
// already open when the fault began.
func (l *Listener) Park(c net.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.parkLocked(c)
}

func (l *Listener) parkLocked(c net.Conn) {
	if tc, ok := c.(*trackedConn); ok { // hold the raw connection: closing a tracked one takes l.mu
		delete(l.conns, tc)
		c = tc.Conn
	}
	if len(l.parked) >= maxParked {
		l.parked[0].Close()
		l.parked = l.parked[1:]
	}
	l.parked = append(l.parked, c)
}

func (l *Listener) releaseParkedLocked() {
	for _, c := range l.parked {
		c.Close()
	}
	l.parked = nil
}

type trackedConn struct {
	net.Conn
	l    *Listener
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
