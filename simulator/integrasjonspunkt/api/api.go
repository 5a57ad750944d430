package api

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/registry"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Size units as Spring's DataSize counts them.
const (
	mib = 1 << 20
	gib = 1 << 30
)

// Options configure an API.
type Options struct {
	// OrgNumber is the integration point's own organisation number (difi.move.org.number), 9 digits. A
	// message without sender is sent from 0192:OrgNumber, and a sender 0192:X with X ≠ OrgNumber is
	// rewritten to 0192:OrgNumber:X (på vegne av).
	OrgNumber string
	// Store holds conversations, statuses and the outbox. Required.
	Store *store.Store
	// Registry looks receivers up in the address register. Required.
	Registry *registry.Client
	// EnabledServices are the channels messages may be created for (difi.move.feature.enableDPx).
	// Nil enables DPO only. A message resolved to another channel is refused with 400
	// ServiceNotEnabledException, as the real IP does with that channel switched off.
	EnabledServices map[wire.ServiceIdentifier]bool
	// DefaultTTL is the time to live of a message without expectedResponseDateTime (24 h when 0).
	DefaultTTL time.Duration
	// UploadLimits bound the combined size of a message's files per channel (spec ip-api §4.6); missing
	// channels get the real defaults (DPO 1 GiB, DPV 250 MiB, DPI 50 MiB, DPF 1 GiB, DPE 2 MiB, DPH 18 MiB).
	UploadLimits map[wire.ServiceIdentifier]int64
	// StatusQueue reports whether statuses of a channel go to the status queue
	// (difi.move.feature.statusQueueIncludes); nil queues none.
	StatusQueue func(service string) bool
	// OnStatus is called after every status the API registers (OPPRETTET at create, LEVETID_UTLOPT at
	// send), for webhooks and logs. It may be nil. Statuses registered elsewhere (delivery, polling)
	// are not seen here; pass them to CountStatus so that /manage/prometheus counts them.
	OnStatus func(store.StatusEvent)
	// OnSend is called after a message has been handed to delivery (to wake idle workers); may be nil.
	OnSend func()
	// Health adds components to /manage/health (keyed by name; each value is usually
	// {"status": "UP"|"DOWN", "details": {…}}); a component named like a built-in one replaces it. It
	// may be nil.
	Health func(ctx context.Context) map[string]any
	// Version is the build version shown by /manage/info.
	Version string
	// Plain says the integration point runs without cryptography on DPO; /manage/info reports it.
	Plain bool
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logger receives one line per request and every internal error; nil discards.
	Logger *slog.Logger
	// LockTimeout is how long GET /api/messages/in/peek locks a message
	// (difi.move.nextmove.lockTimeoutMinutes; 5 min when 0).
	LockTimeout time.Duration
	// StatusServices are the channels whose senders get a LEVERT status SBD back when the client
	// deletes an incoming message (difi.move.nextmove.status-services); nil means DPO and DPE. The
	// status is put on the outbox and OnSend is called.
	StatusServices []wire.ServiceIdentifier
	// BasicAuth, when its User is set, requires HTTP Basic authentication with that user and password
	// on everything but /manage/<one segment>, as the real IP's difi.security.* settings do.
	BasicAuth BasicAuth
	// DPF checks DPF messages at create (spec ip-api §4.7 create rule 12): the sender needs SvarUt
	// credentials and a forsendelseType must be one SvarUt knows. Nil when DPF is off.
	DPF DPFChecker
	// Webhooks pings push endpoints when subscriptions are created or their push endpoint changes, and
	// is told of every change to the subscriptions (spec ip-api §8); pass the webhook.Dispatcher. Nil
	// pings with a plain HTTP client (10 s timeout).
	Webhooks Webhooks
}

// BasicAuth is the API's HTTP Basic user (difi.security.user.name and .password).
type BasicAuth struct {
	User     string
	Password string
}

// DPFChecker is what the create-time DPF rules ask of the DPF channel.
type DPFChecker interface {
	// HasAccount reports whether the sender organisation has SvarUt credentials.
	HasAccount(org string) bool
	// ForsendelseTyper are the forsendelsestyper SvarUt knows for the sender organisation.
	ForsendelseTyper(ctx context.Context, org string) ([]string, error)
}

// API is the reference integration point's client-facing HTTP API (outgoing messages, capabilities,
// statuses, conversations and the actuator endpoints).
type API struct {
	opts    Options
	log     *slog.Logger
	router  *mux.Router
	handler http.Handler
	metrics *metrics
	started time.Time
}

// New checks opts, fills defaults and builds the API.
func New(opts Options) (*API, error) {
	if !wire.ValidOrgNumber(opts.OrgNumber) {
		return nil, fmt.Errorf("api: org number %q is not a valid organisation number", opts.OrgNumber)
	}
	if opts.Store == nil {
		return nil, errors.New("api: Options.Store is required")
	}
	if opts.Registry == nil {
		return nil, errors.New("api: Options.Registry is required")
	}
	if opts.EnabledServices == nil {
		opts.EnabledServices = map[wire.ServiceIdentifier]bool{wire.ServiceDPO: true}
	}
	if opts.DefaultTTL <= 0 {
		opts.DefaultTTL = 24 * time.Hour
	}
	limits := map[wire.ServiceIdentifier]int64{wire.ServiceDPO: gib, wire.ServiceDPV: 250 * mib, wire.ServiceDPI: 50 * mib,
		wire.ServiceDPF: gib, wire.ServiceDPE: 2 * mib, wire.ServiceDPH: 18 * mib}
	for k, v := range opts.UploadLimits {
		limits[k] = v
	}
	opts.UploadLimits = limits
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	a := &API{opts: opts, log: opts.Logger, metrics: newMetrics()}
	a.started = opts.Now()
	a.router = a.routes()
	a.handler = a.middleware(a.router)
	return a, nil
}

// Handler serves the API.
func (a *API) Handler() http.Handler { return a.handler }

// CountStatus counts a status registered outside the API (delivery, channel polling) in
// /manage/prometheus. Statuses the API registers itself are counted already.
func (a *API) CountStatus(ev store.StatusEvent) { a.metrics.status(ev.Status.Status) }

// handlerFunc is the shape of every handler: it reads the request and returns what to answer.
type handlerFunc func(*http.Request) response

// response is what a handler answers; one adapter (serve) writes it.
type response struct {
	status int
	// body is written as pretty-printed JSON when set.
	body any
	// raw is written as is, with contentType, when set.
	raw         []byte
	contentType string
	// err, when set, is written as the Spring-style error body instead.
	err error
}

// ok is 200 with a JSON body.
func ok(body any) response { return response{status: http.StatusOK, body: body} }

// empty is a response without body.
func empty(status int) response { return response{status: status} }

// fail answers with err's error body.
func fail(err error) response { return response{err: err} }

// routes is the API's one route table.
func (a *API) routes() *mux.Router {
	r := mux.NewRouter()
	get := []string{http.MethodGet, http.MethodHead}
	h := func(f handlerFunc) http.Handler { return a.serve(f) }

	r.Handle("/api/messages/out", h(a.createMessage)).Methods(http.MethodPost).Name("messages.out.create")
	r.Handle("/api/messages/out", h(a.listOutgoing)).Methods(get...).Name("messages.out.list")
	r.Handle("/api/messages/out/multipart", h(a.createAndSend)).Methods(http.MethodPost).Name("messages.out.multipart")
	r.Handle("/api/messages/out/{messageId}", h(a.getOutgoing)).Methods(get...).Name("messages.out.get")
	r.Handle("/api/messages/out/{messageId}", h(a.uploadFile)).Methods(http.MethodPut).Name("messages.out.upload")
	r.Handle("/api/messages/out/{messageId}", h(a.sendMessage)).Methods(http.MethodPost).Name("messages.out.send")
	r.Handle("/api/messages/out/{messageId}", h(a.deleteOutgoing)).Methods(http.MethodDelete).Name("messages.out.delete")
	a.incomingRoutes(r, h, get)

	r.Handle("/api/capabilities/{receiverIdentifier}", h(a.capabilities)).Methods(get...).Name("capabilities")

	r.Handle("/api/statuses", h(a.listStatuses)).Methods(get...).Name("statuses.list")
	r.Handle("/api/statuses/peek", h(a.peekStatus)).Methods(get...).Name("statuses.peek")
	r.Handle("/api/statuses/{messageId}", h(a.statusesOfMessage)).Methods(get...).Name("statuses.message")
	r.Handle("/api/statuses/{id}", h(a.deleteQueuedStatus)).Methods(http.MethodDelete).Name("statuses.queue.delete")

	r.Handle("/api/conversations", h(a.listConversations)).Methods(get...).Name("conversations.list")
	r.Handle("/api/conversations/queue", h(a.conversationQueue)).Methods(get...).Name("conversations.queue")
	r.Handle("/api/conversations/messageId/{messageId}", h(a.conversationByMessageID)).Methods(get...).Name("conversations.message")
	r.Handle("/api/conversations/messageId/{messageId}", h(a.deleteConversationsByMessageID)).Methods(http.MethodDelete).Name("conversations.message.delete")
	r.Handle("/api/conversations/{id}", h(a.conversationByID)).Methods(get...).Name("conversations.get")
	r.Handle("/api/conversations/{id}", h(a.deleteConversationByID)).Methods(http.MethodDelete).Name("conversations.delete")
	a.subscriptionRoutes(r, h, get)

	r.Handle("/manage/health", h(a.health)).Methods(get...).Name("manage.health")
	r.Handle("/manage/health/liveness", h(a.liveness)).Methods(get...).Name("manage.health.liveness")
	r.Handle("/manage/health/readiness", h(a.readiness)).Methods(get...).Name("manage.health.readiness")
	r.Handle("/manage/info", h(a.info)).Methods(get...).Name("manage.info")
	r.Handle("/manage/prometheus", h(a.prometheus)).Methods(get...).Name("manage.prometheus")

	r.NotFoundHandler = a.serve(a.notFound)
	r.MethodNotAllowedHandler = a.serve(a.methodNotAllowed)
	return r
}

// notFound is Spring 6's answer to a path nothing serves.
func (a *API) notFound(r *http.Request) response {
	return fail(newError(http.StatusNotFound, exNoResource,
		"No static resource "+strings.TrimPrefix(r.URL.Path, "/")+"."))
}

// methodNotAllowed answers 405 with the Allow header of the methods the path does serve.
func (a *API) methodNotAllowed(r *http.Request) response {
	return fail(newError(http.StatusMethodNotAllowed, exMethodNotSupported,
		"Request method '"+r.Method+"' is not supported"))
}

// allowedMethods lists the methods the router serves for r's path.
func (a *API) allowedMethods(r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		var match mux.RouteMatch
		if a.router.Match(probe, &match) && match.MatchErr == nil {
			out = append(out, m)
		}
	}
	return out
}

// ctxKey keys request-scoped values.
type ctxKey int

const originalPathKey ctxKey = iota

// requestPath is the path the client asked for (before a trailing slash was dropped): the error body's path.
func requestPath(r *http.Request) string {
	if p, ok := r.Context().Value(originalPathKey).(string); ok {
		return p
	}
	return r.URL.Path
}

// middleware wraps the router: panics become 500s, a trailing slash is dropped (old clients send one),
// and Spring Security's response headers are set.
func (a *API) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("X-XSS-Protection", "0")
		hdr.Set("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate")
		hdr.Set("Pragma", "no-cache")
		hdr.Set("Expires", "0")
		hdr.Set("X-Frame-Options", "DENY")
		if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
			r = r.WithContext(context.WithValue(r.Context(), originalPathKey, p))
			u := *r.URL
			u.Path, u.RawPath = strings.TrimRight(p, "/"), ""
			if u.Path == "" {
				u.Path = "/"
			}
			r.URL = &u
		}
		sw := &statusWriter{ResponseWriter: w}
		if !a.authorised(r) {
			hdr.Set("WWW-Authenticate", `Basic realm="Realm"`)
			a.writeError(sw, r, errUnauthorized())
			return
		}
		defer func() {
			if v := recover(); v != nil {
				a.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v,
					"stack", string(debug.Stack()))
				if !sw.wrote {
					a.writeError(sw, r, errInternal(fmt.Errorf("panic: %v", v)))
				}
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// authorised reports whether r may pass: Basic authentication is off, r names the configured user and
// password, or r is for /manage/<one segment> (health, info, prometheus), which stays open as in the real
// IP (its matcher /manage/* takes one segment only).
func (a *API) authorised(r *http.Request) bool {
	want := a.opts.BasicAuth
	if want.User == "" {
		return true
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/manage/"); ok && rest != "" && !strings.Contains(rest, "/") {
		return true
	}
	user, pw, ok := r.BasicAuth()
	return ok && subtle.ConstantTimeCompare([]byte(user), []byte(want.User)) == 1 &&
		subtle.ConstantTimeCompare([]byte(pw), []byte(want.Password)) == 1
}

// statusWriter remembers whether and what the handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

// WriteHeader records the status.
func (w *statusWriter) WriteHeader(status int) {
	if !w.wrote {
		w.status, w.wrote = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write records an implicit 200.
func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

// serve adapts a handlerFunc: it runs it, writes its response or error body, logs and counts.
func (a *API) serve(f handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		resp := f(r)
		status := a.write(w, r, resp)
		route := "unmatched"
		if cr := mux.CurrentRoute(r); cr != nil && cr.GetName() != "" {
			route = cr.GetName()
		}
		a.metrics.request(route, r.Method, status)
		level := slog.LevelDebug
		switch {
		case status >= 500:
			level = slog.LevelError
		case status >= 400:
			level = slog.LevelInfo
		}
		attrs := []any{"method", r.Method, "path", r.URL.Path, "route", route, "status", status,
			"duration", time.Since(start).String()}
		if resp.err != nil {
			attrs = append(attrs, "error", resp.err.Error())
		}
		a.log.Log(r.Context(), level, "request", attrs...)
	})
}

// write writes resp and returns the status written.
func (a *API) write(w http.ResponseWriter, r *http.Request, resp response) int {
	if resp.err != nil {
		return a.writeError(w, r, resp.err)
	}
	status := resp.status
	if status == 0 {
		status = http.StatusOK
	}
	switch {
	case resp.raw != nil:
		if resp.contentType != "" {
			w.Header().Set("Content-Type", resp.contentType)
		}
		w.WriteHeader(status)
		_, _ = w.Write(resp.raw)
	case resp.body != nil:
		b, err := encodeJSON(resp.body)
		if err != nil {
			return a.writeError(w, r, errInternal(fmt.Errorf("encode response: %w", err)))
		}
		ct := resp.contentType
		if ct == "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		_, _ = w.Write(b)
	default:
		w.WriteHeader(status)
	}
	return status
}

// writeError writes err as the Spring-style error body; errors that are not apiErrors are bugs: logged
// and answered 500.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) int {
	e, ok := asAPIError(err)
	if !ok {
		e = errInternal(err)
	}
	if e.status >= 500 {
		a.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	if e.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", strings.Join(a.allowedMethods(r), ", "))
	}
	b, encErr := encodeJSON(e.body(a.now, requestPath(r)))
	if encErr != nil {
		http.Error(w, "encode error body", http.StatusInternalServerError)
		return http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	_, _ = w.Write(b)
	return e.status
}

// encodeJSON is Jackson's INDENT_OUTPUT without HTML escaping, ending in a newline.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// now is the API's clock as an Oslo OffsetDateTime.
func (a *API) now() wire.OffsetDateTime {
	return wire.NewOffsetDateTime(a.opts.Now().In(wire.Oslo()).Truncate(time.Microsecond))
}

// emit counts a status the API registered and hands it to OnStatus.
func (a *API) emit(ev *store.StatusEvent) {
	if ev == nil {
		return
	}
	a.metrics.status(ev.Status.Status)
	if a.opts.OnStatus != nil {
		a.opts.OnStatus(*ev)
	}
}

// metrics are the in-memory counters behind /manage/prometheus.
type metrics struct {
	mu       sync.Mutex
	statuses map[wire.ReceiptStatus]int64
	requests map[requestKey]int64
}

// requestKey labels one request counter.
type requestKey struct {
	route, method string
	status        int
}

// newMetrics makes empty counters.
func newMetrics() *metrics {
	return &metrics{statuses: map[wire.ReceiptStatus]int64{}, requests: map[requestKey]int64{}}
}

// status counts a registered status.
func (m *metrics) status(s wire.ReceiptStatus) {
	m.mu.Lock()
	m.statuses[s]++
	m.mu.Unlock()
}

// request counts a served request.
func (m *metrics) request(route, method string, status int) {
	m.mu.Lock()
	m.requests[requestKey{route, method, status}]++
	m.mu.Unlock()
}
