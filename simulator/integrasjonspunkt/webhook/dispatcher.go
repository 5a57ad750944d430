// Package webhook is the reference integration point's webhooks (spec ip-api §8): the subscription
// filter grammar, the events POSTed to push endpoints, and a Dispatcher that pushes every registered
// status to the subscriptions that match it.
//
// Publish never blocks: events wait in a bounded queue (when it is full the oldest event is dropped,
// counted and logged) for one fan-out goroutine, which matches them against the subscriptions (read from
// the store and cached until SubscriptionsChanged, or at most CacheMaxAge) and hands one delivery per
// matching subscription to that subscription's own bounded queue and workers. So a slow or dead push
// endpoint delays only its own subscription, never message handling or other subscriptions.
//
// # Deviations from the real integration point
//
//   - Failed deliveries (connection error, timeout, any status other than 2xx, redirects included) are
//     retried Retries times (3) with exponential back-off from RetryInitial (1 s, 2 s, 4 s), then given up
//     with a log line. The real IP makes one attempt and only logs failures (its documentation promises
//     three retries); a negative Retries behaves like the real IP.
//   - With the default single worker per subscription, events reach a push endpoint in the order they
//     were published (the real IP pushes from a thread pool, in no particular order).
//   - Events that cannot be queued (the queues are bounded) are dropped, oldest first; the real IP's
//     executor queue is unbounded.
//   - Bodies are pretty-printed with Go's "key": value layout rather than Jackson's "key" : value; the
//     fields, their order and the Content-Type (application/json) are the real ones.
package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
)

// Options configure a Dispatcher. Zero values get the defaults named.
type Options struct {
	// Store holds the subscriptions. Required.
	Store *store.Store
	// Client posts to push endpoints; nil uses a client of its own that does not follow redirects.
	Client *http.Client
	// Timeout bounds each POST, connecting and reading the answer included (10 s, the real
	// difi.move.webhooks.connectTimeout/readTimeout).
	Timeout time.Duration
	// Retries is how often a failed delivery is retried (3); negative makes one attempt only, as the
	// real IP does.
	Retries int
	// RetryInitial is the wait before the first retry (1 s); it doubles before each further retry.
	RetryInitial time.Duration
	// QueueSize bounds the events published but not yet matched against the subscriptions (4096).
	QueueSize int
	// SubscriptionQueueSize bounds the deliveries waiting for one subscription's workers (1000).
	SubscriptionQueueSize int
	// Workers is the number of concurrent deliveries per subscription (1: in publish order).
	Workers int
	// CacheMaxAge is how long the subscriptions read from the store are used when SubscriptionsChanged
	// is not called (5 s); changes made through the API take effect at once.
	CacheMaxAge time.Duration
	// Now is the clock of the events' createdTs (time.Now when nil).
	Now func() time.Time
	// Logger receives drops, failed attempts and given-up deliveries; nil discards.
	Logger *slog.Logger
}

// Stats are the dispatcher's counters since New.
type Stats struct {
	// Published counts the events Publish accepted.
	Published int64
	// Dropped counts events dropped before matching: the queue was full (the oldest went) or they were
	// still queued at Close.
	Dropped int64
	// Pings and PingFailures count the pings sent and those that failed.
	Pings        int64
	PingFailures int64
	// Subscriptions holds the counters per subscription id (kept after the subscription is deleted).
	Subscriptions map[int64]SubscriptionStats
}

// SubscriptionStats are the delivery counters of one subscription.
type SubscriptionStats struct {
	// Matched counts the events that matched the subscription and were queued for delivery.
	Matched int64
	// Attempts counts the POSTs made, retries included.
	Attempts int64
	// Delivered counts the events delivered (a 2xx answer).
	Delivered int64
	// Failed counts the events given up after the last retry.
	Failed int64
	// Dropped counts the events dropped from the subscription's full queue, or abandoned when the
	// subscription was deleted or the dispatcher closed.
	Dropped int64
}

// StatusError is a push endpoint's answer other than 2xx.
type StatusError struct{ StatusCode int }

// Error returns "push endpoint answered <code> <text>".
func (e *StatusError) Error() string {
	return fmt.Sprintf("push endpoint answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// Dispatcher pushes status events to the matching subscriptions' push endpoints.
type Dispatcher struct {
	opts   Options
	log    *slog.Logger
	client *http.Client
	// ownClient is set when client is the dispatcher's own: Close closes its idle connections.
	ownClient bool
	events    *ring[published]
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup

	closeMu   sync.RWMutex // Publish holds it shared, Close exclusively
	closed    bool
	closeOnce sync.Once

	gen       atomic.Int64 // bumped by SubscriptionsChanged
	pending   atomic.Int64 // events queued or being matched, plus deliveries not finished
	published atomic.Int64
	dropped   atomic.Int64
	pings     atomic.Int64
	pingFails atomic.Int64
	lastDrop  atomic.Int64 // unix nanos of the last drop log line

	mu    sync.Mutex // guards lanes and subStats
	lanes map[int64]*lane
	stats map[int64]*SubscriptionStats

	// Used by the fan-out goroutine only.
	cache      []cached
	cacheValid bool
	cacheGen   int64
	cacheAt    time.Time
}

// published is an event waiting for fan-out, stamped when it was published.
type published struct {
	ev store.StatusEvent
	at time.Time
}

// cached is a subscription with its parsed filter; ok is false when the stored filter does not parse.
type cached struct {
	sub    store.Subscription
	filter Filter
	ok     bool
}

// lane is one subscription's delivery queue and workers.
type lane struct {
	id     int64
	q      *ring[delivery]
	ctx    context.Context
	cancel context.CancelFunc
}

// delivery is one event for one push endpoint.
type delivery struct {
	endpoint string
	body     []byte
	// what names the event in log lines.
	what string
}

// New checks opts, fills defaults and starts the dispatcher's fan-out goroutine.
func New(opts Options) (*Dispatcher, error) {
	if opts.Store == nil {
		return nil, errors.New("webhook: Options.Store is required")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Retries == 0 {
		opts.Retries = 3
	}
	if opts.Retries < 0 {
		opts.Retries = 0
	}
	if opts.RetryInitial <= 0 {
		opts.RetryInitial = time.Second
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 4096
	}
	if opts.SubscriptionQueueSize <= 0 {
		opts.SubscriptionQueueSize = 1000
	}
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	if opts.CacheMaxAge <= 0 {
		opts.CacheMaxAge = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	client, own := opts.Client, false
	if client == nil {
		client, own = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, true
	}
	d := &Dispatcher{opts: opts, log: opts.Logger, client: client, ownClient: own, events: newRing[published](opts.QueueSize),
		lanes: map[int64]*lane{}, stats: map[int64]*SubscriptionStats{}}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.wg.Add(1)
	go d.fanOut()
	return d, nil
}

// Publish queues a registered status for the webhooks and returns at once; it never blocks on the
// store, the network or a full queue (the oldest queued event is dropped instead). After Close it does
// nothing. It is safe for concurrent use and fits the OnStatus hooks directly.
func (d *Dispatcher) Publish(ev store.StatusEvent) {
	at := d.opts.Now()
	d.closeMu.RLock()
	defer d.closeMu.RUnlock()
	if d.closed {
		return
	}
	d.published.Add(1)
	d.pending.Add(1)
	if old, dropped := d.events.push(published{ev: ev, at: at}); dropped {
		d.pending.Add(-1)
		n := d.dropped.Add(1)
		d.logDrop("webhook event queue full: dropped the oldest event", "messageId", old.ev.Conversation.MessageID,
			"status", string(old.ev.Status.Status), "dropped", n)
	}
}

// SubscriptionsChanged makes the next event read the subscriptions from the store again. The API calls
// it after every change to the subscriptions.
func (d *Dispatcher) SubscriptionsChanged() { d.gen.Add(1) }

// Ping posts the ping event (spec ip-api §8.3) to pushEndpoint and waits for the answer (at most
// Timeout). The real IP pings on create and on a changed push endpoint and ignores the outcome; so does
// the API, which only logs the error returned here (Ping itself does not log).
func (d *Dispatcher) Ping(ctx context.Context, pushEndpoint string) error {
	d.pings.Add(1)
	err := Post(ctx, d.client, d.opts.Timeout, pushEndpoint, PingEvent(d.opts.Now()).JSON())
	if err != nil {
		d.pingFails.Add(1)
	}
	return err
}

// Post POSTs body as application/json to url with client, waiting at most timeout (no limit when 0);
// any answer other than 2xx is a *StatusError.
func Post(ctx context.Context, client *http.Client, timeout time.Duration, url string, body []byte) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &StatusError{StatusCode: resp.StatusCode}
	}
	return nil
}

// Stats returns a snapshot of the counters.
func (d *Dispatcher) Stats() Stats {
	s := Stats{Published: d.published.Load(), Dropped: d.dropped.Load(), Pings: d.pings.Load(),
		PingFailures: d.pingFails.Load(), Subscriptions: map[int64]SubscriptionStats{}}
	d.mu.Lock()
	for id, st := range d.stats {
		s.Subscriptions[id] = *st
	}
	d.mu.Unlock()
	return s
}

// Drain waits until every published event has been matched and every delivery has finished (delivered,
// given up or dropped), or ctx ends.
func (d *Dispatcher) Drain(ctx context.Context) error {
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for d.pending.Load() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// Close stops the dispatcher: it stops accepting events, aborts deliveries in flight and back-offs,
// waits for its goroutines to end, closes the idle connections of its own client and counts what was
// left as dropped. Call Drain first to let queued events go out. Ping still works after Close. Close is
// idempotent and always returns nil.
func (d *Dispatcher) Close() error {
	d.closeOnce.Do(func() {
		d.closeMu.Lock()
		d.closed = true
		d.closeMu.Unlock()
		d.cancel()
		d.wg.Wait()
		left := int64(len(d.events.drain()))
		d.dropped.Add(left)
		d.pending.Add(-left)
		d.mu.Lock()
		for id, l := range d.lanes {
			n := int64(len(l.q.drain()))
			d.stat(id).Dropped += n
			d.pending.Add(-n)
			left += n
			delete(d.lanes, id)
		}
		d.mu.Unlock()
		if d.ownClient {
			d.client.CloseIdleConnections()
		}
		if left > 0 {
			d.log.Info("webhook dispatcher closed with undelivered events", "dropped", left)
		}
	})
	return nil
}

// fanOut matches queued events against the subscriptions until Close.
func (d *Dispatcher) fanOut() {
	defer d.wg.Done()
	for d.ctx.Err() == nil {
		p, ok := d.events.pop()
		if !ok {
			select {
			case <-d.events.ready:
			case <-d.ctx.Done():
			}
			continue
		}
		d.dispatch(p)
		d.pending.Add(-1)
	}
}

// dispatch queues one delivery of p per matching subscription.
func (d *Dispatcher) dispatch(p published) {
	subs := d.subscriptions()
	if len(subs) == 0 {
		return
	}
	e := StatusEventOf(p.ev, p.at)
	var body []byte
	for _, c := range subs {
		if !c.ok || !Accepts(c.sub.Resource, c.sub.Event, c.filter, e) {
			continue
		}
		if body == nil {
			body = e.JSON()
		}
		d.enqueue(c.sub.ID, delivery{endpoint: c.sub.PushEndpoint, body: body, what: e.MessageID + " " + e.Status})
	}
}

// subscriptions returns the cached subscriptions, reading them again after SubscriptionsChanged or
// CacheMaxAge. When the store fails, the previous subscriptions are used.
func (d *Dispatcher) subscriptions() []cached {
	g := d.gen.Load()
	if d.cacheValid && d.cacheGen == g && time.Since(d.cacheAt) < d.opts.CacheMaxAge {
		return d.cache
	}
	subs, err := d.opts.Store.Subscriptions(d.ctx)
	if err != nil {
		if d.ctx.Err() == nil {
			d.log.Error("webhook: read subscriptions", "error", err)
		}
		return d.cache
	}
	cache := make([]cached, 0, len(subs))
	ids := make(map[int64]bool, len(subs))
	for _, s := range subs {
		c := cached{sub: s, ok: true}
		if s.Filter != "" {
			f, err := ParseFilter(s.Filter)
			if err != nil {
				d.log.Error("webhook: subscription has an invalid filter; it gets no events", "id", s.ID,
					"filter", s.Filter, "error", err)
				c.ok = false
			}
			c.filter = f
		}
		cache = append(cache, c)
		ids[s.ID] = true
	}
	d.cache, d.cacheValid, d.cacheGen, d.cacheAt = cache, true, g, time.Now()
	d.pruneLanes(ids)
	return cache
}

// pruneLanes stops the lanes of deleted subscriptions; their queued deliveries are dropped.
func (d *Dispatcher) pruneLanes(keep map[int64]bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, l := range d.lanes {
		if keep[id] {
			continue
		}
		l.cancel()
		n := int64(len(l.q.drain()))
		d.stat(id).Dropped += n
		d.pending.Add(-n)
		delete(d.lanes, id)
	}
}

// enqueue hands dl to subscription id's lane, starting the lane when needed.
func (d *Dispatcher) enqueue(id int64, dl delivery) {
	d.mu.Lock()
	l := d.lanes[id]
	if l == nil {
		l = &lane{id: id, q: newRing[delivery](d.opts.SubscriptionQueueSize)}
		l.ctx, l.cancel = context.WithCancel(d.ctx)
		d.lanes[id] = l
		for range d.opts.Workers {
			d.wg.Add(1)
			go d.work(l)
		}
	}
	d.stat(id).Matched++
	d.pending.Add(1)
	old, dropped := l.q.push(dl)
	if dropped {
		d.stat(id).Dropped++
		d.pending.Add(-1)
	}
	d.mu.Unlock()
	if dropped {
		d.logDrop("webhook subscription queue full: dropped the oldest event", "subscription", id,
			"pushEndpoint", old.endpoint, "event", old.what)
	}
}

// work delivers a lane's queue until the lane stops.
func (d *Dispatcher) work(l *lane) {
	defer d.wg.Done()
	for l.ctx.Err() == nil {
		dl, ok := l.q.pop()
		if !ok {
			select {
			case <-l.q.ready:
			case <-l.ctx.Done():
			}
			continue
		}
		d.deliver(l, dl)
		d.pending.Add(-1)
	}
}

// deliver posts dl, retrying with exponential back-off.
func (d *Dispatcher) deliver(l *lane, dl delivery) {
	wait := d.opts.RetryInitial
	for attempt := 1; ; attempt++ {
		d.count(l.id, func(s *SubscriptionStats) { s.Attempts++ })
		err := Post(l.ctx, d.client, d.opts.Timeout, dl.endpoint, dl.body)
		if err == nil {
			d.count(l.id, func(s *SubscriptionStats) { s.Delivered++ })
			d.log.Debug("webhook delivered", "subscription", l.id, "pushEndpoint", dl.endpoint, "event", dl.what,
				"attempt", attempt)
			return
		}
		if l.ctx.Err() != nil {
			d.count(l.id, func(s *SubscriptionStats) { s.Dropped++ })
			return
		}
		if attempt > d.opts.Retries {
			d.count(l.id, func(s *SubscriptionStats) { s.Failed++ })
			d.log.Warn("webhook delivery given up", "subscription", l.id, "pushEndpoint", dl.endpoint, "event", dl.what,
				"attempts", attempt, "error", err)
			return
		}
		d.log.Info("webhook delivery failed; retrying", "subscription", l.id, "pushEndpoint", dl.endpoint,
			"event", dl.what, "attempt", attempt, "retryIn", wait.String(), "error", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-l.ctx.Done():
			t.Stop()
			d.count(l.id, func(s *SubscriptionStats) { s.Dropped++ })
			return
		}
		wait *= 2
	}
}

// stat returns subscription id's counters; d.mu must be held.
func (d *Dispatcher) stat(id int64) *SubscriptionStats {
	s := d.stats[id]
	if s == nil {
		s = &SubscriptionStats{}
		d.stats[id] = s
	}
	return s
}

// count updates subscription id's counters.
func (d *Dispatcher) count(id int64, f func(*SubscriptionStats)) {
	d.mu.Lock()
	f(d.stat(id))
	d.mu.Unlock()
}

// logDrop logs a drop at most once a second, so that a flood of drops does not flood the log.
func (d *Dispatcher) logDrop(msg string, attrs ...any) {
	now := time.Now().UnixNano()
	last := d.lastDrop.Load()
	if now-last < int64(time.Second) || !d.lastDrop.CompareAndSwap(last, now) {
		return
	}
	d.log.Warn(msg, attrs...)
}
