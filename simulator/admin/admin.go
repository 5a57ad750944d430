// Package admin is the control plane every simulator shares (architecture §5): health, reset, a bounded
// request journal, faults (refuse, blackhole, reset, latency, status) and the service's own inspection,
// injection and behaviour hooks, served under /__admin on the service's port and, through Control, under
// /__admin/{service} on the harness control port. Client speaks the same API from Go.
package admin

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"
)

// Prefix is where the admin API lives on a service's own port.
const Prefix = "/__admin"

// Hooks are the parts of the admin API that differ per service. Any nil hook answers 404.
type Hooks struct {
	// Reset forgets the service's state.
	Reset func()
	// Messages lists what the service received, decoded; Message shows one.
	Messages func(r *http.Request) Response
	Message  func(r *http.Request, id string) Response
	// Inject makes the service deliver something to an integration point.
	Inject func(r *http.Request) Response
	// Behaviour shows (GET) or changes (PUT) how the service answers.
	Behaviour func(r *http.Request) Response
	// Routes adds service-specific admin routes to r, which is already under the admin prefix.
	Routes func(r *mux.Router)
	// StatusFault writes the body of a status fault in the service's own error shape. Nil writes a
	// plain JSON {"status","error","message"} body.
	StatusFault func(w http.ResponseWriter, r *http.Request, status int)
}

// Options configure a Service.
type Options struct {
	// JournalSize bounds the request journal (DefaultJournalSize when 0).
	JournalSize int
	// Logger receives one line per request; nil logs nothing.
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Service is the control plane of one simulator.
type Service struct {
	name    string
	hooks   Hooks
	opts    Options
	journal *Journal
	faults  *faults

	mu       sync.Mutex
	listener *Listener
}

// New makes the control plane of the service called name ("sr", "maskinporten", "dpo", …).
func New(name string, hooks Hooks, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{name: name, hooks: hooks, opts: opts, journal: NewJournal(opts.JournalSize), faults: newFaults()}
}

// Name is the service's name.
func (s *Service) Name() string { return s.name }

// Journal is the service's request journal.
func (s *Service) Journal() *Journal { return s.journal }

// Attach gives the service the listener it serves on, so that port-wide faults can close or blackhole it.
func (s *Service) Attach(l *Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listener = l
}

func (s *Service) currentListener() *Listener {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.listener
}

// SetFault replaces the active fault.
func (s *Service) SetFault(f Fault) error {
	if err := f.Validate(); err != nil {
		return err
	}
	s.ClearFault()
	s.faults.set(f, s.opts.Now())
	if l := s.currentListener(); l != nil && f.portWide() {
		switch f.Mode {
		case ModeRefuse:
			return l.SetRefuse(true)
		case ModeBlackhole:
			l.SetBlackhole(true)
		}
	}
	return nil
}

// ClearFault lifts the active fault, re-opening a refused port and releasing blackholed connections.
func (s *Service) ClearFault() error {
	s.faults.clear()
	if l := s.currentListener(); l != nil {
		l.SetBlackhole(false)
		return l.SetRefuse(false)
	}
	return nil
}

// FaultState shows the active fault.
func (s *Service) FaultState() FaultState { return s.faults.state() }

// Reset clears the journal and the fault and forgets the service's state.
func (s *Service) Reset() {
	_ = s.ClearFault()
	s.journal.Reset()
	if s.hooks.Reset != nil {
		s.hooks.Reset()
	}
}

// Routes registers the admin API on r, which must already be under the admin prefix (a subrouter of
// "/__admin" or "/__admin/{service}").
func (s *Service) Routes(r *mux.Router) {
	r.Handle("/health", Handler(s.health)).Methods(http.MethodGet).Name(s.name + ".admin.health")
	r.Handle("/reset", Handler(s.reset)).Methods(http.MethodPost).Name(s.name + ".admin.reset")
	r.Handle("/requests", Handler(s.requests)).Methods(http.MethodGet).Name(s.name + ".admin.requests")
	r.Handle("/requests", Handler(s.clearRequests)).Methods(http.MethodDelete).Name(s.name + ".admin.requests.clear")
	r.Handle("/faults", Handler(s.getFault)).Methods(http.MethodGet).Name(s.name + ".admin.faults")
	r.Handle("/faults", Handler(s.putFault)).Methods(http.MethodPut, http.MethodPost).Name(s.name + ".admin.faults.set")
	r.Handle("/faults", Handler(s.deleteFault)).Methods(http.MethodDelete).Name(s.name + ".admin.faults.clear")
	r.Handle("/messages", Handler(s.hook(s.hooks.Messages))).Methods(http.MethodGet).Name(s.name + ".admin.messages")
	r.Handle("/messages/{id}", Handler(func(r *http.Request) Response {
		if s.hooks.Message == nil {
			return s.unsupported(r)
		}
		return s.hooks.Message(r, mux.Vars(r)["id"])
	})).Methods(http.MethodGet).Name(s.name + ".admin.message")
	r.Handle("/inject", Handler(s.hook(s.hooks.Inject))).Methods(http.MethodPost).Name(s.name + ".admin.inject")
	r.Handle("/behaviour", Handler(s.hook(s.hooks.Behaviour))).Methods(http.MethodGet, http.MethodPut).Name(s.name + ".admin.behaviour")
	if s.hooks.Routes != nil {
		s.hooks.Routes(r)
	}
	r.NotFoundHandler = Handler(func(r *http.Request) Response {
		return ErrorResponse(http.StatusNotFound, fmt.Sprintf("%s has no admin route %s %s", s.name, r.Method, r.URL.Path))
	})
}

func (s *Service) hook(h func(*http.Request) Response) func(*http.Request) Response {
	if h == nil {
		return s.unsupported
	}
	return h
}

func (s *Service) unsupported(r *http.Request) Response {
	return ErrorResponse(http.StatusNotFound, fmt.Sprintf("%s has no %s", s.name, r.URL.Path))
}

// Health is the body of GET /__admin/health.
type Health struct {
	Service string     `json:"service"`
	Status  string     `json:"status"`
	Fault   FaultState `json:"fault"`
}

func (s *Service) health(*http.Request) Response {
	return JSON(http.StatusOK, Health{Service: s.name, Status: "UP", Fault: s.FaultState()})
}

func (s *Service) reset(*http.Request) Response {
	s.Reset()
	return JSON(http.StatusOK, map[string]string{"service": s.name, "status": "reset"})
}

// RequestList is the body of GET /__admin/requests.
type RequestList struct {
	Requests []Entry `json:"requests"`
	// Dropped counts entries forgotten to keep the journal bounded.
	Dropped int64 `json:"dropped"`
}

func (s *Service) requests(r *http.Request) Response {
	q := r.URL.Query()
	f := Filter{Path: q.Get("path"), Method: q.Get("method")}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return ErrorResponse(http.StatusBadRequest, fmt.Sprintf("since=%q is not an RFC 3339 time such as 2026-11-22T10:00:00Z", v))
		}
		f.Since = t
	}
	if v := q.Get("status"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return ErrorResponse(http.StatusBadRequest, fmt.Sprintf("status=%q is not a number", v))
		}
		f.Status = &n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return ErrorResponse(http.StatusBadRequest, fmt.Sprintf("limit=%q is not a non-negative number", v))
		}
		f.Limit = n
	}
	return JSON(http.StatusOK, RequestList{Requests: s.journal.Find(f), Dropped: s.journal.Dropped()})
}

func (s *Service) clearRequests(*http.Request) Response {
	s.journal.Reset()
	return NoContent(http.StatusNoContent)
}

func (s *Service) getFault(*http.Request) Response { return JSON(http.StatusOK, s.FaultState()) }

func (s *Service) putFault(r *http.Request) Response {
	var f Fault
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return ErrorResponse(http.StatusBadRequest, "fault body: "+err.Error())
	}
	if err := s.SetFault(f); err != nil {
		return ErrorResponse(http.StatusBadRequest, err.Error())
	}
	return JSON(http.StatusOK, s.FaultState())
}

func (s *Service) deleteFault(*http.Request) Response {
	if err := s.ClearFault(); err != nil {
		return ErrorResponse(http.StatusInternalServerError, err.Error())
	}
	return JSON(http.StatusOK, s.FaultState())
}

// redacted are headers whose values the journal does not keep in full.
var redacted = map[string]bool{"Authorization": true, "Integrasjonpassord": true, "Cookie": true}

// Middleware journals every request to next and applies the active fault to every request outside the
// admin prefix.
func (s *Service) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, Prefix+"/") || r.URL.Path == Prefix {
			next.ServeHTTP(w, r)
			return
		}
		start := s.opts.Now()
		e := Entry{Time: start, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Remote: r.RemoteAddr,
			Headers: map[string]string{}, Caller: callerOf(r.Header.Get("Authorization"))}
		for k, v := range r.Header {
			if redacted[k] && len(v) > 0 {
				scheme, _, _ := strings.Cut(v[0], " ")
				e.Headers[k] = scheme + " …"
				continue
			}
			e.Headers[k] = strings.Join(v, ", ")
		}
		if r.Body == nil { // requests built for in-process use may carry no body at all
			r.Body = http.NoBody
		}
		body := &digestReader{r: r.Body, h: sha256.New()}
		r.Body = body
		rec := &recorder{ResponseWriter: w}

		if f, apply, _ := s.faults.take(r.Method, r.URL.Path); apply {
			e.Fault = f.Mode
			if f.Mode == ModeDrop { // a lost answer: the work is done, the client never hears of it
				lost := &discard{header: http.Header{}}
				next.ServeHTTP(lost, r)
				rec.hijacked = true
				// Journal first, so that a client that sees the connection close finds the request there.
				s.finish(&e, body, rec, start)
				if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
					c.Close()
				}
				return
			}
			if f.Mode == ModeReset { // journal first, so that a client that sees the reset finds the request there
				rec.hijacked = true
				s.finish(&e, body, rec, start)
				s.applyFault(f, rec, r)
				return
			}
			if done := s.applyFault(f, rec, r); done {
				s.finish(&e, body, rec, start)
				return
			}
		}
		next.ServeHTTP(rec, r)
		s.finish(&e, body, rec, start)
	})
}

// applyFault plays f on the request; done is true when the request must not reach the handler.
func (s *Service) applyFault(f Fault, w *recorder, r *http.Request) (done bool) {
	switch f.Mode {
	case ModeLatency:
		t := time.NewTimer(time.Duration(f.Latency))
		defer t.Stop()
		select {
		case <-t.C:
			return false
		case <-r.Context().Done():
			return true
		}
	case ModeStatus:
		if s.hooks.StatusFault != nil {
			s.hooks.StatusFault(w, r, f.Status)
		} else {
			ErrorResponse(f.Status, fmt.Sprintf("%s: injected fault", s.name)).Write(w)
		}
		return true
	case ModeReset:
		w.hijacked = true
		if c, _, err := http.NewResponseController(w.ResponseWriter).Hijack(); err == nil {
			if tc, ok := underlyingTCP(c); ok {
				_ = tc.SetLinger(0)
			}
			c.Close()
		}
		return true
	case ModeBlackhole, ModeRefuse:
		w.hijacked = true
		c, _, err := http.NewResponseController(w.ResponseWriter).Hijack()
		if err != nil {
			<-r.Context().Done()
			return true
		}
		if f.Mode == ModeRefuse {
			c.Close()
			return true
		}
		if l := s.currentListener(); l != nil {
			l.Park(c)
		} else {
			go func() { // no listener to hold it: wait until the fault is lifted
				for s.faults.state().Active {
					time.Sleep(50 * time.Millisecond)
				}
				c.Close()
			}()
		}
		return true
	}
	return false
}

func (s *Service) finish(e *Entry, body *digestReader, rec *recorder, start time.Time) {
	if rec.wrote && !rec.hijacked {
		_, _ = io.Copy(io.Discard, io.LimitReader(body, 1<<20))
	}
	e.BodySize = body.n
	if body.n > 0 {
		e.BodySHA256 = hex.EncodeToString(body.h.Sum(nil))
	}
	e.Status = rec.status
	if rec.hijacked {
		e.Status = 0
	}
	e.LatencyMS = float64(s.opts.Now().Sub(start).Microseconds()) / 1000
	s.journal.Add(*e)
	if s.opts.Logger != nil {
		s.opts.Logger.Info("request", "service", s.name, "method", e.Method, "path", e.Path, "status", e.Status,
			"latency_ms", e.LatencyMS, "fault", e.Fault)
	}
}

type digestReader struct {
	r io.ReadCloser
	h hash.Hash
	n int64
}

func (d *digestReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.n += int64(n)
	d.h.Write(p[:n])
	return n, err
}

func (d *digestReader) Close() error { return d.r.Close() }

type recorder struct {
	http.ResponseWriter
	status   int
	wrote    bool
	hijacked bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.status, r.wrote = http.StatusOK, true
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer (flush, hijack, deadlines).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func underlyingTCP(c net.Conn) (*net.TCPConn, bool) {
	for {
		switch v := c.(type) {
		case *net.TCPConn:
			return v, true
		case *trackedConn:
			c = v.Conn
		default:
			return nil, false
		}
	}
}

// discard is a ResponseWriter that forgets the answer (for the drop fault).
type discard struct{ header http.Header }

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}
