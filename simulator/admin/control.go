package admin

import (
	"fmt"
	"html/template"
	"net/http"
	"net/http/pprof"
	"runtime"
	"strings"
	"sync"

	"github.com/gorilla/mux"
)

// Control is the harness control port (9090): an overview at / and every registered service's admin API
// under /__admin/{service}/..., served in-process so that a service whose own port is refused or
// blackholed can still be inspected and healed.
type Control struct {
	mu       sync.RWMutex
	services []controlled
	joined   []*joined
	router   *mux.Router
}

type controlled struct {
	svc *Service
	url string
}

// NewControl makes an empty control plane.
func NewControl() *Control {
	c := &Control{router: mux.NewRouter()}
	c.router.Handle("/", Handler(c.overview)).Methods(http.MethodGet).Name("control.overview")
	c.router.Handle(Prefix, Handler(c.list)).Methods(http.MethodGet).Name("control.services")
	c.router.Handle(Prefix+"/", Handler(c.list)).Methods(http.MethodGet).Name("control.services.slash")
	// Liveness of this process alone (the image's health check), without asking joined control planes.
	c.router.Handle("/health", Handler(func(*http.Request) Response {
		return JSON(http.StatusOK, map[string]string{"status": "UP"})
	})).Methods(http.MethodGet).Name("control.health")
	// go_goroutines of this process in the Prometheus text format, for the load generator's resource samples
	// of a process that runs no integration point (efm-harness sim).
	c.router.Handle("/metrics", Handler(func(*http.Request) Response {
		return Text(http.StatusOK, "text/plain; version=0.0.4; charset=utf-8", fmt.Appendf(nil,
			"# HELP go_goroutines Number of goroutines that currently exist.\n# TYPE go_goroutines gauge\ngo_goroutines %d\n", runtime.NumGoroutine()))
	})).Methods(http.MethodGet).Name("control.metrics")
	// The Go profiler of the whole harness process, for load runs (go tool pprof URL/debug/pprof/profile).
	c.router.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline).Name("control.pprof.cmdline")
	c.router.HandleFunc("/debug/pprof/profile", pprof.Profile).Name("control.pprof.profile")
	c.router.HandleFunc("/debug/pprof/symbol", pprof.Symbol).Name("control.pprof.symbol")
	c.router.HandleFunc("/debug/pprof/trace", pprof.Trace).Name("control.pprof.trace")
	c.router.PathPrefix("/debug/pprof/").HandlerFunc(pprof.Index).Name("control.pprof")
	c.router.NotFoundHandler = http.HandlerFunc(c.passOn)
	c.router.MethodNotAllowedHandler = Handler(func(r *http.Request) Response {
		return ErrorResponse(http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.Path))
	})
	return c
}

// Register adds a service, reachable at url, under /__admin/{name}.
func (c *Control) Register(svc *Service, url string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.services = append(c.services, controlled{svc: svc, url: url})
	base := Prefix + "/" + svc.Name()
	// Only the service's own path: /__admin/ip must not take /__admin/ip2/….
	own := func(r *http.Request, _ *mux.RouteMatch) bool {
		rest := strings.TrimPrefix(r.URL.Path, base)
		return rest == "" || rest[0] == '/'
	}
	svc.Routes(c.router.PathPrefix(base).MatcherFunc(own).Subrouter())
}

// Handler serves the control plane.
func (c *Control) Handler() http.Handler { return c.router }

// ServiceInfo is one row of the overview.
type ServiceInfo struct {
	Name  string     `json:"name"`
	URL   string     `json:"url"`
	Admin string     `json:"admin"`
	Fault FaultState `json:"fault"`
	// Error says why a joined control plane could not be asked for its services.
	Error string `json:"error,omitempty"`
}

func (c *Control) infos(r *http.Request) []ServiceInfo {
	base := "http://" + r.Host
	c.mu.RLock()
	out := make([]ServiceInfo, 0, len(c.services))
	for _, s := range c.services {
		out = append(out, ServiceInfo{Name: s.svc.Name(), URL: s.url, Admin: base + Prefix + "/" + s.svc.Name(), Fault: s.svc.FaultState()})
	}
	c.mu.RUnlock()
	return append(out, c.joinedInfos(r, base, out)...)
}

func (c *Control) list(r *http.Request) Response {
	return JSON(http.StatusOK, map[string]any{"services": c.infos(r)})
}

var overviewPage = template.Must(template.New("overview").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>efm-harness</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse}
td,th{padding:.4rem .8rem;border-bottom:1px solid #ddd;text-align:left}.bad{color:#b00020;font-weight:600}
code{background:#f4f4f4;padding:0 .2rem}</style></head><body>
<h1>efm-harness</h1><p>Simulated eFormidling services. Admin API of each: <code>/__admin/{service}/…</code>
(health, reset, requests, faults, messages, inject, behaviour).</p>
<table><tr><th>Service</th><th>URL</th><th>Admin</th><th>Fault</th></tr>
{{range .}}<tr><td>{{.Name}}</td><td><a href="{{.URL}}">{{.URL}}</a></td>
<td>{{if .Admin}}<a href="{{.Admin}}/requests">{{.Admin}}</a>{{end}}</td>
<td>{{if .Error}}<span class="bad">{{.Error}}</span>{{else if .Fault.Active}}<span class="bad">{{.Fault.Fault.Mode}}</span> (applied {{.Fault.Applied}}){{else}}none{{end}}</td></tr>
{{end}}</table></body></html>`))

func (c *Control) overview(r *http.Request) Response {
	infos := c.infos(r)
	if !strings.Contains(r.Header.Get("Accept"), "text/html") {
		return JSON(http.StatusOK, map[string]any{"services": infos})
	}
	var b strings.Builder
	if err := overviewPage.Execute(&b, infos); err != nil {
		return ErrorResponse(http.StatusInternalServerError, err.Error())
	}
	return Text(http.StatusOK, "text/html; charset=utf-8", []byte(b.String()))
}
