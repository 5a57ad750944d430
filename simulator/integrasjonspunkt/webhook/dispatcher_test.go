package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// receiver is a push endpoint that records what it receives; respond, when set, may answer the n-th
// request (1-based) to a path itself and returns whether the request counts as received.
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	got     map[string][]Event
	raw     map[string][]string
	count   map[string]int
	respond func(path string, n int, w http.ResponseWriter, r *http.Request) bool
}

func newReceiver(t *testing.T, respond func(path string, n int, w http.ResponseWriter, r *http.Request) bool) *receiver {
	t.Helper()
	rc := &receiver{got: map[string][]Event{}, raw: map[string][]string{}, count: map[string]int{}, respond: respond}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.count[r.URL.Path]++
		n := rc.count[r.URL.Path]
		rc.mu.Unlock()
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Authorization") != "" {
			t.Errorf("push %s %s with Content-Type %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		if rc.respond != nil && !rc.respond(r.URL.Path, n, w, r) {
			return
		}
		var e Event
		if err := json.Unmarshal(body, &e); err != nil {
			t.Errorf("push body is not JSON: %v\n%s", err, body)
		}
		rc.mu.Lock()
		rc.got[r.URL.Path] = append(rc.got[r.URL.Path], e)
		rc.raw[r.URL.Path] = append(rc.raw[r.URL.Path], string(body))
		rc.mu.Unlock()
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) url(path string) string { return rc.srv.URL + path }

func (rc *receiver) events(path string) []Event {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Event(nil), rc.got[path]...)
}

func (rc *receiver) requests(path string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.count[path]
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func subscribe(t *testing.T, st *store.Store, name, endpoint, filter string) store.Subscription {
	t.Helper()
	s, err := st.CreateSubscription(context.Background(), store.Subscription{Name: name, PushEndpoint: endpoint,
		Resource: ResourceAll, Event: EventAll, Filter: filter})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newDispatcher(t *testing.T, opts Options) *Dispatcher {
	t.Helper()
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func drain(t *testing.T, d *Dispatcher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Drain(ctx); err != nil {
		t.Fatalf("drain: %v (stats %+v)", err, d.Stats())
	}
}

var oslo2019 = time.Date(2019, 3, 25, 11, 38, 23, 0, time.UTC)

func TestDispatcherFilters(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	rc := newReceiver(t, nil)
	incoming := subscribe(t, st, "Incoming messages", rc.url("/incoming"), "status=INNKOMMENDE_MOTTATT&direction=INCOMING")
	all := subscribe(t, st, "Everything", rc.url("/all"), "")
	d := newDispatcher(t, Options{Store: st, Now: func() time.Time { return oslo2019 }})

	d.Publish(statusEvent(wire.StatusOpprettet, store.Incoming, "DPO", ""))
	d.Publish(statusEvent(wire.StatusInnkommendeMottatt, store.Incoming, "DPO", ""))
	d.Publish(statusEvent(wire.StatusInnkommendeMottatt, store.Outgoing, "DPO", ""))
	d.Publish(statusEvent(wire.StatusLevetidUtlopt, store.Incoming, "DPO", "Levetiden for meldingen er utgått. Må sendes på nytt"))
	drain(t, d)

	got := rc.events("/incoming")
	want := Event{CreatedTs: wire.NewOffsetDateTime(oslo2019.In(wire.Oslo())), Resource: "messages", Event: "status",
		MessageID: "m-1", ConversationID: "c-1", Direction: "INCOMING", ServiceIdentifier: "DPO", Status: "INNKOMMENDE_MOTTATT"}
	if len(got) != 1 || got[0].CreatedTs.String() != "2019-03-25T12:38:23+01:00" || got[0].CreatedTs.Equal(want.CreatedTs) != true {
		t.Fatalf("filtered subscription got %+v, want one INNKOMMENDE_MOTTATT", got)
	}
	got[0].CreatedTs = want.CreatedTs
	if got[0] != want {
		t.Errorf("pushed %+v, want %+v", got[0], want)
	}
	var statuses []string
	for _, e := range rc.events("/all") {
		statuses = append(statuses, e.Status+"/"+e.Direction)
	}
	if s := strings.Join(statuses, " "); s != "OPPRETTET/INCOMING INNKOMMENDE_MOTTATT/INCOMING INNKOMMENDE_MOTTATT/OUTGOING LEVETID_UTLOPT/INCOMING" {
		t.Errorf("unfiltered subscription got %s (in publish order)", s)
	}
	rc.mu.Lock()
	last := rc.raw["/all"][3]
	rc.mu.Unlock()
	if !strings.Contains(last, `"description": "Levetiden for meldingen er utgått. Må sendes på nytt"`) {
		t.Errorf("body without description:\n%s", last)
	}
	s := d.Stats()
	if s.Published != 4 || s.Dropped != 0 {
		t.Errorf("stats %+v", s)
	}
	if in := s.Subscriptions[incoming.ID]; in != (SubscriptionStats{Matched: 1, Attempts: 1, Delivered: 1}) {
		t.Errorf("filtered subscription stats %+v", in)
	}
	if a := s.Subscriptions[all.ID]; a != (SubscriptionStats{Matched: 4, Attempts: 4, Delivered: 4}) {
		t.Errorf("unfiltered subscription stats %+v", a)
	}
}

func TestDispatcherRetries(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	rc := newReceiver(t, func(path string, n int, w http.ResponseWriter, r *http.Request) bool {
		switch {
		case path == "/flaky" && n <= 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		case path == "/broken":
			w.WriteHeader(http.StatusInternalServerError)
		case path == "/moved":
			http.Redirect(w, r, "/flaky", http.StatusTemporaryRedirect)
		default:
			return true
		}
		return false
	})
	flaky := subscribe(t, st, "flaky", rc.url("/flaky"), "")
	broken := subscribe(t, st, "broken", rc.url("/broken"), "")
	moved := subscribe(t, st, "moved", rc.url("/moved"), "")
	d := newDispatcher(t, Options{Store: st, RetryInitial: 5 * time.Millisecond})

	start := time.Now()
	d.Publish(statusEvent(wire.StatusLevert, store.Outgoing, "DPO", ""))
	drain(t, d)
	if el := time.Since(start); el < 35*time.Millisecond {
		t.Errorf("three retries took %v, want at least 5+10+20 ms of back-off", el)
	}
	s := d.Stats()
	if got := s.Subscriptions[flaky.ID]; got != (SubscriptionStats{Matched: 1, Attempts: 3, Delivered: 1}) {
		t.Errorf("flaky endpoint stats %+v, want delivered on the 3rd attempt", got)
	}
	if got := s.Subscriptions[broken.ID]; got != (SubscriptionStats{Matched: 1, Attempts: 4, Failed: 1}) {
		t.Errorf("broken endpoint stats %+v, want given up after 4 attempts", got)
	}
	if got := s.Subscriptions[moved.ID]; got.Attempts != 4 || got.Failed != 1 {
		t.Errorf("redirecting endpoint stats %+v, want redirects not followed and given up", got)
	}
	if n := rc.requests("/broken"); n != 4 {
		t.Errorf("broken endpoint got %d requests, want 4", n)
	}
	if got := rc.events("/flaky"); len(got) != 1 || got[0].Status != "LEVERT" {
		t.Errorf("flaky endpoint received %+v", got)
	}

	// Retries < 0: one attempt, as the real IP.
	d2 := newDispatcher(t, Options{Store: st, Retries: -1, RetryInitial: time.Millisecond})
	d2.Publish(statusEvent(wire.StatusLest, store.Outgoing, "DPO", ""))
	drain(t, d2)
	if got := d2.Stats().Subscriptions[broken.ID]; got != (SubscriptionStats{Matched: 1, Attempts: 1, Failed: 1}) {
		t.Errorf("without retries: %+v", got)
	}
}

func TestDispatcherNetworkErrorAndTimeout(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	rc := newReceiver(t, func(path string, n int, w http.ResponseWriter, r *http.Request) bool {
		if path == "/slow" && n == 1 {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return false
		}
		return true
	})
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL + "/gone"
	dead.Close()
	slow := subscribe(t, st, "slow", rc.url("/slow"), "")
	gone := subscribe(t, st, "gone", deadURL, "")
	d := newDispatcher(t, Options{Store: st, Timeout: 50 * time.Millisecond, RetryInitial: time.Millisecond})
	d.Publish(statusEvent(wire.StatusSendt, store.Outgoing, "DPO", ""))
	drain(t, d)
	s := d.Stats()
	if got := s.Subscriptions[slow.ID]; got != (SubscriptionStats{Matched: 1, Attempts: 2, Delivered: 1}) {
		t.Errorf("timed-out first attempt: %+v, want delivered on the 2nd attempt", got)
	}
	if got := s.Subscriptions[gone.ID]; got != (SubscriptionStats{Matched: 1, Attempts: 4, Failed: 1}) {
		t.Errorf("connection refused: %+v, want given up after 4 attempts", got)
	}
}

func TestPublishDoesNotBlock(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	hanging := make(chan struct{})
	var once sync.Once
	rc := newReceiver(t, func(path string, n int, w http.ResponseWriter, r *http.Request) bool {
		once.Do(func() { close(hanging) })
		<-r.Context().Done() // hangs until the dispatcher gives up the request
		return false
	})
	sub := subscribe(t, st, "hanging", rc.url("/hang"), "")
	d, err := New(Options{Store: st, Timeout: time.Minute, QueueSize: 100, SubscriptionQueueSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	d.Publish(statusEvent(wire.StatusOpprettet, store.Outgoing, "DPO", ""))
	select {
	case <-hanging:
	case <-time.After(10 * time.Second):
		t.Fatal("the endpoint never got the first event")
	}
	const n = 5000
	start := time.Now()
	for range n {
		d.Publish(statusEvent(wire.StatusSendt, store.Outgoing, "DPO", ""))
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("%d Publish calls under a hanging endpoint took %v", n, el)
	}
	// Everything beyond the bounded queues was dropped, oldest first, and counted — once the dispatcher
	// has drained its own queue, which takes a moment on a loaded machine.
	s := d.Stats()
	ss := s.Subscriptions[sub.ID]
	for deadline := time.Now().Add(5 * time.Second); s.Dropped+ss.Matched != n+1 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		s = d.Stats()
		ss = s.Subscriptions[sub.ID]
	}
	if s.Published != n+1 || s.Dropped+ss.Matched != n+1 || ss.Dropped < ss.Matched-11 || ss.Attempts != 1 {
		t.Errorf("stats under a hanging endpoint: %+v %+v", s, ss)
	}
	done := make(chan struct{})
	go func() { d.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close blocked on a hanging endpoint")
	}
	s = d.Stats()
	ss = s.Subscriptions[sub.ID]
	if ss.Delivered != 0 || ss.Failed != 0 || s.Dropped+ss.Dropped != n+1 {
		t.Errorf("after Close every event is counted as dropped: %+v %+v", s, ss)
	}
	d.Publish(statusEvent(wire.StatusLevert, store.Outgoing, "DPO", "")) // ignored after Close
	if d.Stats().Published != n+1 {
		t.Error("Publish after Close was accepted")
	}
}

func TestSubscriptionChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	rc := newReceiver(t, nil)
	sub := subscribe(t, st, "s", rc.url("/a"), "status=FEIL")
	d := newDispatcher(t, Options{Store: st, CacheMaxAge: time.Hour})
	publish := func(status wire.ReceiptStatus) {
		d.Publish(statusEvent(status, store.Outgoing, "DPO", ""))
		drain(t, d)
	}
	publish(wire.StatusFeil)
	publish(wire.StatusLest)
	filter, ep := "status=LEST", rc.url("/b")
	if _, err := st.UpdateSubscription(ctx, sub.ID, store.SubscriptionPatch{Filter: &filter, PushEndpoint: &ep}); err != nil {
		t.Fatal(err)
	}
	d.SubscriptionsChanged()
	publish(wire.StatusFeil)
	publish(wire.StatusLest)
	if err := st.DeleteSubscription(ctx, sub.ID); err != nil {
		t.Fatal(err)
	}
	d.SubscriptionsChanged()
	publish(wire.StatusLest)
	other := subscribe(t, st, "t", rc.url("/c"), "")
	d.SubscriptionsChanged()
	publish(wire.StatusMottatt)

	if a, b, c := rc.events("/a"), rc.events("/b"), rc.events("/c"); len(a) != 1 || a[0].Status != "FEIL" ||
		len(b) != 1 || b[0].Status != "LEST" || len(c) != 1 || c[0].Status != "MOTTATT" {
		t.Errorf("deliveries after changes: /a %+v, /b %+v, /c %+v", a, b, c)
	}
	s := d.Stats()
	if s.Subscriptions[sub.ID].Delivered != 2 || s.Subscriptions[other.ID].Delivered != 1 {
		t.Errorf("stats %+v", s)
	}
	d.mu.Lock()
	_, laneLeft := d.lanes[sub.ID]
	d.mu.Unlock()
	if laneLeft {
		t.Error("the deleted subscription's workers still run")
	}
}

func TestPing(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	rc := newReceiver(t, func(path string, n int, w http.ResponseWriter, r *http.Request) bool {
		if path == "/fail" {
			w.WriteHeader(http.StatusBadGateway)
			return false
		}
		return true
	})
	d := newDispatcher(t, Options{Store: st, Now: func() time.Time { return oslo2019 }})
	if err := d.Ping(context.Background(), rc.url("/ok")); err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	body := rc.raw["/ok"]
	rc.mu.Unlock()
	if len(body) != 1 || body[0] != "{\n  \"createdTs\": \"2019-03-25T12:38:23+01:00\",\n  \"event\": \"ping\"\n}" {
		t.Errorf("ping body %q", body)
	}
	err := d.Ping(context.Background(), rc.url("/fail"))
	if se, ok := err.(*StatusError); !ok || se.StatusCode != http.StatusBadGateway {
		t.Errorf("failing ping: %v", err)
	}
	if s := d.Stats(); s.Pings != 2 || s.PingFailures != 1 {
		t.Errorf("ping stats %+v", s)
	}
}

// TestCloseStopsWorkers runs alone (not parallel) so that the goroutine dump shows only its own.
func TestCloseStopsWorkers(t *testing.T) {
	st := openStore(t)
	rc := newReceiver(t, func(path string, n int, w http.ResponseWriter, r *http.Request) bool {
		if path == "/hang" {
			<-r.Context().Done()
			return false
		}
		return true
	})
	subscribe(t, st, "ok", rc.url("/ok"), "")
	subscribe(t, st, "hang", rc.url("/hang"), "")
	subscribe(t, st, "never", rc.url("/never"), "status=NONE") // matches nothing: no workers
	d, err := New(Options{Store: st, Workers: 3, RetryInitial: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		d.Publish(statusEvent(wire.StatusSendt, store.Outgoing, "DPO", ""))
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(rc.events("/ok")) < 20 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := len(rc.events("/ok")); got != 20 {
		t.Fatalf("the working endpoint got %d of 20 events", got)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "webhook.(*Dispatcher)") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dispatcher goroutines left after Close:\n%s", stacks)
		}
		time.Sleep(time.Millisecond)
	}
	if s := d.Stats(); d.pending.Load() != 0 {
		t.Errorf("pending %d after Close; stats %+v", d.pending.Load(), s)
	}
}
