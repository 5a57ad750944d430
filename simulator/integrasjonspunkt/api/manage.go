package api

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Spring Boot health statuses.
const (
	statusUp   = "UP"
	statusDown = "DOWN"
)

// component is one health component.
type component struct {
	Status  string         `json:"status"`
	Details map[string]any `json:"details,omitempty"`
}

// healthBody is Spring Boot's composite health JSON.
type healthBody struct {
	Status     string         `json:"status"`
	Components map[string]any `json:"components,omitempty"`
	Groups     []string       `json:"groups,omitempty"`
}

// healthTimeout bounds the database checks of the health endpoints.
const healthTimeout = 5 * time.Second

// health serves GET /manage/health: db, nextMoveQueue (outbox size), messageStatus (pollable
// conversations), the probes, plus Options.Health's components. Any DOWN component makes the whole DOWN
// and the status 503, as Spring Boot does.
func (a *API) health(r *http.Request) response {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	comps := map[string]any{
		"ping":           component{Status: statusUp},
		"livenessState":  component{Status: statusUp},
		"readinessState": component{Status: statusUp},
	}
	db := component{Status: statusUp, Details: map[string]any{"database": "SQLite", "validationQuery": "isValid()"}}
	if err := a.opts.Store.Ping(ctx); err != nil {
		db = component{Status: statusDown, Details: map[string]any{"database": "SQLite", "error": err.Error()}}
	}
	comps["db"] = db
	if c, err := a.opts.Store.Counts(ctx); err != nil {
		comps["nextMoveQueue"] = component{Status: statusDown, Details: map[string]any{"error": err.Error()}}
		comps["messageStatus"] = component{Status: statusDown, Details: map[string]any{"error": err.Error()}}
	} else {
		comps["nextMoveQueue"] = component{Status: statusUp, Details: map[string]any{"outgoing": c.Outgoing, "incoming": c.Incoming}}
		comps["messageStatus"] = component{Status: statusUp, Details: map[string]any{"pollable": c.Pollable}}
	}
	if a.opts.Health != nil {
		for k, v := range a.opts.Health(ctx) {
			comps[k] = v
		}
	}
	body := healthBody{Status: statusUp, Components: comps, Groups: []string{"liveness", "readiness"}}
	for _, c := range comps {
		if s := componentStatus(c); s != statusUp && s != "" && s != "UNKNOWN" {
			body.Status = statusDown
		}
	}
	resp := ok(body)
	if body.Status != statusUp {
		resp.status = http.StatusServiceUnavailable
	}
	return resp
}

// componentStatus reads the status of a health component of any shape.
func componentStatus(c any) string {
	switch v := c.(type) {
	case component:
		return v.Status
	case map[string]any:
		s, _ := v["status"].(string)
		return s
	case map[string]string:
		return v["status"]
	}
	return ""
}

// liveness serves GET /manage/health/liveness: the process is up.
func (a *API) liveness(*http.Request) response {
	return ok(healthBody{Status: statusUp})
}

// readiness serves GET /manage/health/readiness: UP when the database answers.
func (a *API) readiness(r *http.Request) response {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	if err := a.opts.Store.Ping(ctx); err != nil {
		resp := ok(healthBody{Status: statusDown})
		resp.status = http.StatusServiceUnavailable
		return resp
	}
	return ok(healthBody{Status: statusUp})
}

// info serves GET /manage/info: the build information.
func (a *API) info(*http.Request) response {
	v := a.opts.Version
	if v == "" {
		v = "dev"
	}
	crypto := "full"
	if a.opts.Plain {
		crypto = "plain (no signature or encryption on DPO)"
	}
	return ok(map[string]any{
		"build": map[string]any{
			"artifact": "efm-harness",
			"name":     "efm-harness reference integrasjonspunkt",
			"group":    "github.com/efm-harness/efm-harness",
			"version":  v,
			"time":     oslo(a.started).String(),
		},
		// The organisation this integration point is (difi.move.org.number), so that clients and
		// scenarios can tell two integration points apart.
		"org": map[string]any{"number": a.opts.OrgNumber},
		// What the harness's load generator reports with its numbers.
		"efm-harness": map[string]any{"crypto": crypto},
	})
}

// prometheus serves GET /manage/prometheus: a few gauges read from the store and the counters kept in
// memory since start, in the Prometheus text exposition format.
func (a *API) prometheus(r *http.Request) response {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	var b strings.Builder
	metric := func(name, typ, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	up := 1
	if err := a.opts.Store.Ping(ctx); err != nil {
		up = 0
	}
	metric("efm_ip_up", "gauge", "Whether the integration point's database answers (1) or not (0).")
	fmt.Fprintf(&b, "efm_ip_up %d\n", up)
	if c, err := a.opts.Store.Counts(ctx); err == nil {
		metric("efm_ip_outbox_messages", "gauge", "Outgoing messages in the outbox: created, queued or retrying, not yet delivered.")
		fmt.Fprintf(&b, "efm_ip_outbox_messages %d\n", c.Outgoing)
		metric("efm_ip_delivery_queue_messages", "gauge", "Outgoing messages handed to delivery (sent by the client) and not finished.")
		fmt.Fprintf(&b, "efm_ip_delivery_queue_messages %d\n", c.Queued)
		metric("efm_ip_pollable_conversations", "gauge", "Conversations awaiting channel status polling.")
		fmt.Fprintf(&b, "efm_ip_pollable_conversations %d\n", c.Pollable)
	}
	statuses, requests := a.metrics.snapshot()
	metric("efm_ip_statuses_registered_total", "counter", "Statuses registered since start, by status.")
	for _, s := range wire.ReceiptStatuses() {
		fmt.Fprintf(&b, "efm_ip_statuses_registered_total{status=%q} %d\n", s, statuses[s])
	}
	metric("efm_ip_http_requests_total", "counter", "HTTP requests served since start, by route, method and status.")
	for _, rq := range requests {
		fmt.Fprintf(&b, "efm_ip_http_requests_total{route=%q,method=%q,status=\"%d\"} %d\n", rq.route, rq.method, rq.status, rq.n)
	}
	metric("go_goroutines", "gauge", "Number of goroutines that currently exist.")
	fmt.Fprintf(&b, "go_goroutines %d\n", runtime.NumGoroutine())
	metric("efm_ip_start_time_seconds", "gauge", "Start time of the API since the Unix epoch, in seconds.")
	fmt.Fprintf(&b, "efm_ip_start_time_seconds %d\n", a.started.Unix())
	return response{status: http.StatusOK, raw: []byte(b.String()), contentType: "text/plain; version=0.0.4; charset=utf-8"}
}

// requestCount is one row of the request counter.
type requestCount struct {
	requestKey
	n int64
}

// snapshot copies the counters; requests come sorted by route, method and status.
func (m *metrics) snapshot() (map[wire.ReceiptStatus]int64, []requestCount) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := make(map[wire.ReceiptStatus]int64, len(m.statuses))
	for k, v := range m.statuses {
		st[k] = v
	}
	rq := make([]requestCount, 0, len(m.requests))
	for k, v := range m.requests {
		rq = append(rq, requestCount{k, v})
	}
	sort.Slice(rq, func(i, j int) bool {
		a, b := rq[i], rq[j]
		if a.route != b.route {
			return a.route < b.route
		}
		if a.method != b.method {
			return a.method < b.method
		}
		return a.status < b.status
	})
	return st, rq
}
