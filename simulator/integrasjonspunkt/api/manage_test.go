package api

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) {
		o.Health = func(context.Context) map[string]any {
			return map[string]any{"dpo": map[string]any{"status": "UP", "details": map[string]any{"broker": "ok"}}}
		}
	})
	e.mustCreate(sbdFor(t, wire.TypeArkivmelding, dpoOrg))
	r := e.get("/manage/health")
	if r.status != http.StatusOK {
		t.Fatalf("health: %d %s", r.status, r.body)
	}
	var got struct {
		Status     string                    `json:"status"`
		Components map[string]map[string]any `json:"components"`
	}
	decode(t, r, &got)
	if got.Status != "UP" {
		t.Errorf("status = %q", got.Status)
	}
	want := map[string]any{"status": "UP", "details": map[string]any{"outgoing": 1.0, "incoming": 0.0}}
	if diff := cmp.Diff(want, got.Components["nextMoveQueue"]); diff != "" {
		t.Errorf("nextMoveQueue (-want +got):\n%s", diff)
	}
	for _, name := range []string{"db", "messageStatus", "ping", "dpo", "livenessState", "readinessState"} {
		if got.Components[name]["status"] != "UP" {
			t.Errorf("component %s = %v", name, got.Components[name])
		}
	}
	for _, p := range []string{"/manage/health/liveness", "/manage/health/readiness"} {
		if r := e.get(p); r.status != http.StatusOK || !strings.Contains(string(r.body), `"status": "UP"`) {
			t.Errorf("%s: %d %s", p, r.status, r.body)
		}
	}

	down := newEnv(t, func(o *Options) {
		o.Health = func(context.Context) map[string]any { return map[string]any{"dpo": component{Status: "DOWN"}} }
	})
	if r := down.get("/manage/health"); r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), `"status": "DOWN"`) {
		t.Errorf("down: %d %s", r.status, r.body)
	}
}

func TestInfoAndPrometheus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if r := e.get("/manage/info"); r.status != http.StatusOK || !strings.Contains(string(r.body), `"version": "1.2.3-test"`) {
		t.Errorf("info: %d %s", r.status, r.body)
	}
	id := e.mustCreate(sbdFor(t, wire.TypeAvtalt, dpoOrg)).MessageID()
	e.send(id)
	e.api.CountStatus(store.StatusEvent{Status: store.Status{Status: wire.StatusSendt}})
	r := e.get("/manage/prometheus")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("prometheus: %d %s %v", r.status, r.body, r.header)
	}
	body := string(r.body)
	for _, want := range []string{
		"# TYPE efm_ip_outbox_messages gauge\nefm_ip_outbox_messages 1\n",
		"efm_ip_delivery_queue_messages 1\n",
		"efm_ip_pollable_conversations 0\n",
		`efm_ip_statuses_registered_total{status="OPPRETTET"} 1`,
		`efm_ip_statuses_registered_total{status="SENDT"} 1`,
		`efm_ip_statuses_registered_total{status="LEVERT"} 0`,
		`efm_ip_http_requests_total{route="messages.out.create",method="POST",status="200"} 1`,
		`efm_ip_http_requests_total{route="messages.out.send",method="POST",status="200"} 1`,
		"efm_ip_up 1\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("prometheus output lacks %q:\n%s", want, body)
		}
	}
}

// TestRouting covers unknown paths, wrong methods, trailing slashes, HEAD and the security headers.
func TestRouting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := expectError(t, e.get("/api/nope"), 404, exNoResource, "No static resource api/nope.")
	if b.Path != "/api/nope" {
		t.Errorf("path = %q", b.Path)
	}
	r := e.do(http.MethodPatch, "/api/messages/out/abc", nil, nil)
	expectError(t, r, 405, exMethodNotSupported, "Request method 'PATCH' is not supported")
	if got := r.header.Get("Allow"); got != "GET, HEAD, POST, PUT, DELETE" {
		t.Errorf("Allow = %q", got)
	}
	r = e.do(http.MethodPut, "/api/statuses", nil, nil)
	expectError(t, r, 405, exMethodNotSupported, "Request method 'PUT' is not supported")
	if got := r.header.Get("Allow"); got != "GET, HEAD" {
		t.Errorf("Allow = %q", got)
	}
	for _, p := range []string{"/api/statuses/", "/api/conversations/", "/api/messages/out/", "/manage/health/"} {
		if r := e.get(p); r.status != http.StatusOK {
			t.Errorf("GET %s: %d %s", p, r.status, r.body)
		}
	}
	b = expectError(t, e.get("/api/messages/out/nope/"), 404, exMessageNotFound, "nope")
	if b.Path != "/api/messages/out/nope/" {
		t.Errorf("path = %q, want the path as asked", b.Path)
	}
	if r := e.do(http.MethodHead, "/api/statuses", nil, nil); r.status != http.StatusOK || len(r.body) != 0 {
		t.Errorf("HEAD: %d %q", r.status, r.body)
	}
	r = e.get("/api/statuses")
	for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
		"Cache-Control": "no-cache, no-store, max-age=0, must-revalidate", "Pragma": "no-cache", "Expires": "0"} {
		if got := r.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if !bytes.HasSuffix(r.body, []byte("}\n")) || !bytes.Contains(r.body, []byte("\n  \"content\": [],\n")) {
		t.Errorf("page not pretty-printed:\n%s", r.body)
	}
}

// TestPanicRecovery answers 500 in the error shape when a handler panics.
func TestPanicRecovery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.api.router.Handle("/boom", e.api.serve(func(*http.Request) response { panic("boom") }))
	expectError(t, e.get("/boom"), 500, exRuntime, "Internal error")
}

func TestNewValidatesOptions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for name, o := range map[string]Options{
		"bad org":     {OrgNumber: "123", Store: e.store, Registry: e.api.opts.Registry},
		"no store":    {OrgNumber: ownOrg, Registry: e.api.opts.Registry},
		"no registry": {OrgNumber: ownOrg, Store: e.store},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
