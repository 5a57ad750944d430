package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/webhook"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// pushEndpoint records the requests a push endpoint receives.
type pushEndpoint struct {
	srv    *httptest.Server
	status int
	mu     sync.Mutex
	bodies map[string][]string
}

func newPushEndpoint(t *testing.T, status int) *pushEndpoint {
	t.Helper()
	p := &pushEndpoint{status: status, bodies: map[string][]string{}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("ping %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
		}
		p.mu.Lock()
		p.bodies[r.URL.Path] = append(p.bodies[r.URL.Path], string(b))
		p.mu.Unlock()
		w.WriteHeader(p.status)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *pushEndpoint) pings(path string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.bodies[path]...)
}

// fakeWebhooks records what the API asks of the dispatcher.
type fakeWebhooks struct {
	mu      sync.Mutex
	pinged  []string
	changes int
}

func (f *fakeWebhooks) Ping(_ context.Context, pushEndpoint string) error {
	f.mu.Lock()
	f.pinged = append(f.pinged, pushEndpoint)
	f.mu.Unlock()
	return nil
}

func (f *fakeWebhooks) SubscriptionsChanged() {
	f.mu.Lock()
	f.changes++
	f.mu.Unlock()
}

func (f *fakeWebhooks) state() ([]string, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.pinged...), f.changes
}

func (e *env) putJSON(path string, body string) reply {
	return e.do(http.MethodPut, path, map[string]string{"Content-Type": "application/json"}, strings.NewReader(body))
}

func (e *env) mustSubscribe(t *testing.T, body string) subscriptionView {
	t.Helper()
	r := e.postJSON("/api/subscriptions", []byte(body))
	if r.status != http.StatusOK {
		t.Fatalf("create subscription: %d %s", r.status, r.body)
	}
	var v subscriptionView
	decode(t, r, &v)
	return v
}

func TestSubscriptionCRUD(t *testing.T) {
	t.Parallel()
	push := newPushEndpoint(t, http.StatusOK)
	e := newEnv(t)
	url := push.srv.URL + "/messages/incoming"

	r := e.postJSON("/api/subscriptions", []byte(`{"name": "Incoming messages", "pushEndpoint": "`+url+`",
		"resource": "messages", "event": "status", "filter": "status=INNKOMMENDE_MOTTATT&direction=INCOMING", "unknown": 1}`))
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var created map[string]any
	decode(t, r, &created)
	id := int64(created["id"].(float64))
	want := map[string]any{"id": created["id"], "name": "Incoming messages", "pushEndpoint": url, "resource": "messages",
		"event": "status", "filter": "status=INNKOMMENDE_MOTTATT&direction=INCOMING"}
	if diff := cmp.Diff(want, created); diff != "" || id <= 0 {
		t.Errorf("created subscription (-want +got):\n%s", diff)
	}
	pings := push.pings("/messages/incoming")
	if len(pings) != 1 {
		t.Fatalf("pings = %q, want one", pings)
	}
	var ping map[string]any
	if err := json.Unmarshal([]byte(pings[0]), &ping); err != nil || len(ping) != 2 || ping["event"] != "ping" {
		t.Errorf("ping body %s", pings[0])
	}
	if ts, err := wire.ParseOffsetDateTime(ping["createdTs"].(string)); err != nil || ts.Time.IsZero() {
		t.Errorf("ping createdTs %v: %v", ping["createdTs"], err)
	}

	// Same name and push endpoint again: 400, no second ping.
	r = e.postJSON("/api/subscriptions", []byte(`{"name": "Incoming messages", "pushEndpoint": "`+url+`", "resource": "all", "event": "all"}`))
	expectError(t, r, http.StatusBadRequest, exSubscriptionExists, "Subscription with same name and push endpoint already exists.")
	if n := len(push.pings("/messages/incoming")); n != 1 {
		t.Errorf("%d pings after a refused duplicate", n)
	}

	// A subscription without filter has none in its JSON.
	second := e.mustSubscribe(t, `{"name": "All", "pushEndpoint": "`+push.srv.URL+`/all", "resource": "all", "event": "all"}`)
	r = e.get("/api/subscriptions/" + strconv.FormatInt(second.ID, 10))
	if r.status != http.StatusOK || bytes.Contains(r.body, []byte(`"filter"`)) {
		t.Errorf("get subscription without filter: %d %s", r.status, r.body)
	}
	var got subscriptionView
	decode(t, r, &got)
	if got != (subscriptionView{ID: second.ID, Name: "All", PushEndpoint: push.srv.URL + "/all", Resource: "all", Event: "all"}) {
		t.Errorf("get = %+v", got)
	}

	// Page.
	e.mustSubscribe(t, `{"name": "Third", "pushEndpoint": "`+push.srv.URL+`/third", "resource": "all", "event": "all"}`)
	var page wire.Page[subscriptionView]
	r = e.get("/api/subscriptions?size=2")
	decode(t, r, &page)
	if r.status != http.StatusOK || page.TotalElements != 3 || page.TotalPages != 2 || len(page.Content) != 2 ||
		page.Content[0].ID != id || page.Size != 2 || page.Sort.Sorted || !page.Sort.Unsorted {
		t.Errorf("page: %d %s", r.status, r.body)
	}
	r = e.get("/api/subscriptions?page=1&size=2&sort=name,desc")
	decode(t, r, &page)
	if len(page.Content) != 1 || page.Content[0].Name != "All" || !page.Sort.Sorted || page.Number != 1 || !page.Last {
		t.Errorf("page 1 sorted by name desc: %s", r.body)
	}
	expectError(t, e.get("/api/subscriptions?sort=nope"), http.StatusBadRequest, exPropertyReference, "No property 'nope' found for type 'Subscription'")

	// Partial update: only the filter; no ping (the push endpoint did not change).
	path := "/api/subscriptions/" + strconv.FormatInt(id, 10)
	r = e.putJSON(path, `{"filter": "status=FEIL", "pushEndpoint": null}`)
	if r.status != http.StatusOK || len(r.body) != 0 {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	decode(t, e.get(path), &got)
	if got != (subscriptionView{ID: id, Name: "Incoming messages", PushEndpoint: url, Resource: "messages", Event: "status", Filter: "status=FEIL"}) {
		t.Errorf("after update: %+v", got)
	}
	if n := len(push.pings("/messages/incoming")); n != 1 {
		t.Errorf("%d pings after an update that keeps the push endpoint", n)
	}
	// A new push endpoint is pinged.
	moved := push.srv.URL + "/moved"
	if r = e.putJSON(path, `{"pushEndpoint": "`+moved+`", "event": "all"}`); r.status != http.StatusOK {
		t.Fatalf("move: %d %s", r.status, r.body)
	}
	if n := len(push.pings("/moved")); n != 1 {
		t.Errorf("%d pings of the new push endpoint, want 1", n)
	}
	decode(t, e.get(path), &got)
	if got.PushEndpoint != moved || got.Event != "all" || got.Filter != "status=FEIL" || got.Resource != "messages" {
		t.Errorf("after move: %+v", got)
	}
	// Renaming onto another subscription's name and push endpoint is refused.
	r = e.putJSON(path, `{"name": "All", "pushEndpoint": "`+push.srv.URL+`/all"}`)
	expectError(t, r, http.StatusBadRequest, exSubscriptionExists, "Subscription with same name and push endpoint already exists.")
	r = e.putJSON(path, `{"name": "All"}`) // merged with the kept push endpoint: no clash
	if r.status != http.StatusOK {
		t.Errorf("rename: %d %s", r.status, r.body)
	}
	// Updating to its own name and push endpoint is fine.
	if r = e.putJSON(path, `{"name": "All", "pushEndpoint": "`+moved+`"}`); r.status != http.StatusOK {
		t.Errorf("update to itself: %d %s", r.status, r.body)
	}

	// Not found, wrong ids.
	expectError(t, e.get("/api/subscriptions/999"), http.StatusNotFound, exSubscriptionNotFound, "Subscription with id = 999 was not found")
	expectError(t, e.get("/api/subscriptions/1234567"), http.StatusNotFound, exSubscriptionNotFound, "Subscription with id = 1,234,567 was not found")
	expectError(t, e.putJSON("/api/subscriptions/999", `{"name": "x"}`), http.StatusNotFound, exSubscriptionNotFound, "Subscription with id = 999 was not found")
	expectError(t, e.do(http.MethodDelete, "/api/subscriptions/999", nil, nil), http.StatusNotFound, exSubscriptionNotFound,
		"Subscription with id = 999 was not found")
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		r := e.do(method, "/api/subscriptions/abc", map[string]string{"Content-Type": "application/json"}, strings.NewReader(`{}`))
		expectError(t, r, http.StatusBadRequest, exTypeMismatch, `For input string: "abc"`)
	}

	// Delete one, then all.
	if r = e.do(http.MethodDelete, path, nil, nil); r.status != http.StatusOK || len(r.body) != 0 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	expectError(t, e.get(path), http.StatusNotFound, exSubscriptionNotFound, "was not found")
	if r = e.do(http.MethodDelete, "/api/subscriptions", nil, nil); r.status != http.StatusOK {
		t.Fatalf("delete all: %d %s", r.status, r.body)
	}
	decode(t, e.get("/api/subscriptions"), &page)
	if page.TotalElements != 0 || len(page.Content) != 0 || !page.Empty {
		t.Errorf("after delete all: %+v", page)
	}
}

func TestSubscriptionPingFailureIsIgnored(t *testing.T) {
	t.Parallel()
	failing := newPushEndpoint(t, http.StatusInternalServerError)
	e := newEnv(t)
	e.mustSubscribe(t, `{"name": "a", "pushEndpoint": "`+failing.srv.URL+`/x", "resource": "all", "event": "all"}`)
	if n := len(failing.pings("/x")); n != 1 {
		t.Errorf("%d pings, want 1", n)
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	e.mustSubscribe(t, `{"name": "b", "pushEndpoint": "`+dead.URL+`/x", "resource": "all", "event": "all"}`)
}

func TestSubscriptionWebhooksHook(t *testing.T) {
	t.Parallel()
	hooks := &fakeWebhooks{}
	e := newEnv(t, func(o *Options) { o.Webhooks = hooks })
	s := e.mustSubscribe(t, `{"name": "a", "pushEndpoint": "http://push.invalid/a", "resource": "all", "event": "all"}`)
	path := "/api/subscriptions/" + strconv.FormatInt(s.ID, 10)
	e.putJSON(path, `{"filter": "status=LEST"}`)
	e.putJSON(path, `{"pushEndpoint": "http://push.invalid/b"}`)
	e.putJSON(path, `{"event": "bad"}`) // refused: no change
	e.do(http.MethodDelete, path, nil, nil)
	e.do(http.MethodDelete, "/api/subscriptions", nil, nil)
	pinged, changes := hooks.state()
	if diff := cmp.Diff([]string{"http://push.invalid/a", "http://push.invalid/b"}, pinged); diff != "" {
		t.Errorf("pings (-want +got):\n%s", diff)
	}
	if changes != 5 {
		t.Errorf("SubscriptionsChanged called %d times, want 5", changes)
	}
}

func TestSubscriptionValidation(t *testing.T) {
	t.Parallel()
	hooks := &fakeWebhooks{}
	e := newEnv(t, func(o *Options) { o.Webhooks = hooks })
	type fieldErr struct {
		Field, Code, Message string
		Rejected             any
	}
	check := func(name string, r reply, want ...fieldErr) {
		t.Helper()
		b := expectError(t, r, http.StatusBadRequest, exMethodArgNotValid,
			"Validation failed for object='subscription'. Error count: "+strconv.Itoa(len(want)))
		var got []fieldErr
		for _, ve := range b.Errors {
			got = append(got, fieldErr{ve.Field, ve.Code, ve.DefaultMessage, ve.RejectedValue})
			if ve.ObjectName != "subscription" || ve.Codes[len(ve.Codes)-1] != ve.Code ||
				ve.Codes[0] != ve.Code+".subscription."+ve.Field || ve.BindingFailure {
				t.Errorf("%s: error entry %+v", name, ve)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: errors (-want +got):\n%s", name, diff)
		}
	}
	notNull := func(f string) fieldErr { return fieldErr{f, "NotNull", "must not be null", nil} }
	post := func(body string) reply { return e.postJSON("/api/subscriptions", []byte(body)) }

	check("empty object", post(`{}`), notNull("name"), notNull("pushEndpoint"), notNull("resource"), notNull("event"))
	check("bad values", post(`{"id": 7, "name": "n", "pushEndpoint": "not a url", "resource": "everything",
		"event": "nonexistent", "filter": "foo=bar"}`),
		fieldErr{"id", "Null", "must be null", float64(7)},
		fieldErr{"pushEndpoint", "URL", "must be a valid URL", "not a url"},
		fieldErr{"resource", "OneOf", "'everything' is not expected. Allowed values are: [all, messages]", "everything"},
		fieldErr{"event", "OneOf", "'nonexistent' is not expected. Allowed values are: [all, status]", "nonexistent"},
		fieldErr{"filter", "WebhookFilter", "Must be a valid filter definition.", "foo=bar"})
	for _, f := range []string{"", "status", "status!=FEIL", "Status=FEIL", "&status=FEIL"} {
		check("filter "+f, post(`{"name": "n", "pushEndpoint": "http://x", "resource": "all", "event": "all", "filter": "`+f+`"}`),
			fieldErr{"filter", "WebhookFilter", "Must be a valid filter definition.", f})
	}
	for _, u := range []string{"x", "://x", "www.example.com", "htp://x", "http://host:port/", "jar:file:/x.jar"} {
		check("url "+u, post(`{"name": "n", "pushEndpoint": "`+u+`", "resource": "all", "event": "all"}`),
			fieldErr{"pushEndpoint", "URL", "must be a valid URL", u})
	}
	// Java's URL accepts these (they may still not be deliverable).
	for i, u := range []string{"http://localhost:8080/x", "HTTPS://h/p?q#f", "http:relative", "ftp://x", "http://[::1]:9/x", "http://u:p@h:1/"} {
		r := post(`{"name": "ok` + strconv.Itoa(i) + `", "pushEndpoint": "` + u + `", "resource": "all", "event": "all", "filter": "status=FEIL,LEST&"}`)
		if r.status != http.StatusOK {
			t.Errorf("url %s refused: %s", u, r.body)
		}
	}
	// Jackson's coercions: numbers and booleans become strings, a numeric string is an id.
	r := post(`{"name": 42, "pushEndpoint": "http://x/42", "resource": "all", "event": "all"}`)
	var v subscriptionView
	if decode(t, r, &v); r.status != http.StatusOK || v.Name != "42" {
		t.Errorf("numeric name: %d %s", r.status, r.body)
	}
	check("string id", post(`{"id": "5", "name": "n", "pushEndpoint": "http://x", "resource": "all", "event": "all"}`),
		fieldErr{"id", "Null", "must be null", float64(5)})

	// Update validates values but not presence, and ignores the id.
	s := e.mustSubscribe(t, `{"name": "u", "pushEndpoint": "http://x/u", "resource": "all", "event": "all"}`)
	path := "/api/subscriptions/" + strconv.FormatInt(s.ID, 10)
	check("update", e.putJSON(path, `{"id": 1, "pushEndpoint": "nope", "event": "ping", "filter": "direction"}`),
		fieldErr{"pushEndpoint", "URL", "must be a valid URL", "nope"},
		fieldErr{"event", "OneOf", "'ping' is not expected. Allowed values are: [all, status]", "ping"},
		fieldErr{"filter", "WebhookFilter", "Must be a valid filter definition.", "direction"})
	if r := e.putJSON(path, `{"id": 12345}`); r.status != http.StatusOK {
		t.Errorf("update with an id: %d %s", r.status, r.body)
	}
	// Validation comes before the existence check.
	check("update of a missing subscription", e.putJSON("/api/subscriptions/999", `{"resource": "x"}`),
		fieldErr{"resource", "OneOf", "'x' is not expected. Allowed values are: [all, messages]", "x"})

	// Body errors.
	expectError(t, post(`{"name": `), http.StatusBadRequest, exNotReadable, "JSON parse error")
	expectError(t, post(`[]`), http.StatusBadRequest, exNotReadable, "Cannot deserialize value of type `"+subscriptionClass+"` from Array value")
	expectError(t, post(`{"name": {"a": 1}}`), http.StatusBadRequest, exNotReadable, "Cannot deserialize value of type `java.lang.String` from Object value")
	expectError(t, post(`{"id": "abc"}`), http.StatusBadRequest, exNotReadable, "Cannot deserialize value of type `java.lang.Long` from String \"abc\"")
	expectError(t, post(``), http.StatusBadRequest, exNotReadable, "Required request body is missing")
	expectError(t, e.do(http.MethodPost, "/api/subscriptions", map[string]string{"Content-Type": "text/plain"}, strings.NewReader(`{}`)),
		http.StatusUnsupportedMediaType, exMediaTypeNotSupported, "Content-Type 'text/plain' is not supported")

	if pinged, _ := hooks.state(); len(pinged) != 8 {
		t.Errorf("pinged %q: want only the 8 accepted subscriptions", pinged)
	}
}

func TestSubscriptionWithDispatcher(t *testing.T) {
	t.Parallel()
	push := newPushEndpoint(t, http.StatusOK)
	var d *webhook.Dispatcher
	e := newEnv(t, func(o *Options) {
		var err error
		d, err = webhook.New(webhook.Options{Store: o.Store, RetryInitial: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		o.Webhooks = d
		o.OnStatus = d.Publish
	})
	// The dispatcher has read the (empty) subscriptions before the subscription exists.
	e.mustCreate(sbdFor(t, wire.TypeArkivmelding, dpoOrg))
	drainDispatcher(t, d)
	sub := e.mustSubscribe(t, `{"name": "created", "pushEndpoint": "`+push.srv.URL+`/hook", "resource": "messages",
		"event": "status", "filter": "status=OPPRETTET&direction=OUTGOING&serviceIdentifier=DPO"}`)
	created := e.mustCreate(sbdFor(t, wire.TypeArkivmelding, dpoOrg))
	drainDispatcher(t, d)

	bodies := push.pings("/hook")
	if len(bodies) != 2 { // the ping and one status event
		t.Fatalf("push endpoint got %q", bodies)
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(bodies[1]), &ev); err != nil {
		t.Fatal(err)
	}
	delete(ev, "createdTs")
	want := map[string]any{"resource": "messages", "event": "status", "messageId": created.MessageID(),
		"conversationId": created.ConversationID(), "direction": "OUTGOING", "serviceIdentifier": "DPO", "status": "OPPRETTET"}
	if diff := cmp.Diff(want, ev); diff != "" {
		t.Errorf("status event (-want +got):\n%s", diff)
	}
	if s := d.Stats(); s.Pings != 1 || s.Subscriptions[sub.ID] != (webhook.SubscriptionStats{Matched: 1, Attempts: 1, Delivered: 1}) {
		t.Errorf("dispatcher stats %+v", s)
	}
	// Deleting through the API stops the pushes at once.
	e.do(http.MethodDelete, "/api/subscriptions", nil, nil)
	e.mustCreate(sbdFor(t, wire.TypeArkivmelding, dpoOrg))
	drainDispatcher(t, d)
	if n := len(push.pings("/hook")); n != 2 {
		t.Errorf("%d pushes after the subscription was deleted", n-2)
	}
}

func drainDispatcher(t *testing.T, d *webhook.Dispatcher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}
