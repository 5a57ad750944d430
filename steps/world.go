// Package steps is the godog step library of the harness. It reaches the services only through their
// URLs and the admin API (never by importing them), so the same scenarios run against the in-process
// stack, a compose stack or a real Java integration point. The feature test in package features and the
// binary's `test` command both register it with Initialize.
package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/loadtest"
	"github.com/efm-harness/efm-harness/simulator/admin"
)

// Config says where the services under test are.
type Config struct {
	// SRURL, MaskinportenURL are the services' base URLs; ControlURL is the harness control port whose
	// /__admin/{service} API resets services and sets faults.
	SRURL           string
	MaskinportenURL string
	ControlURL      string
	// IPURL is the integration point under test (ours or a real one); DPOURL the DPO broker simulator.
	IPURL  string
	DPOURL string
	DPVURL string
	// DPFURL is the DPF (SvarUt and SvarInn) simulator; DPIURL the DPI corner-2 and KRR simulator.
	DPFURL string
	DPIURL string
	// IP2URL is a second integration point (B) that receives what A sends; empty when there is none.
	IP2URL string
	// IPAuth is "user:password" for integration points that require HTTP Basic authentication;
	// AdminAuth the same for a harness whose admin API is protected.
	IPAuth    string
	AdminAuth string
	// Population and PKI are the test data the services were started with.
	Population *fixtures.Population
	PKI        *fixtures.PKI
	// ReferenceIP says that the integration point under test is the harness's reference IP (its
	// /manage/info has an efm-harness section): scenarios tagged @reference-ip check what it does beyond
	// the real IP and are skipped otherwise.
	ReferenceIP bool
	// CallbackHost is the host name by which the integration points under test reach this machine, for
	// the webhook endpoints scenarios subscribe (host.docker.internal for integration points in
	// containers). Empty keeps the endpoints on 127.0.0.1; otherwise they listen on every interface.
	CallbackHost string
	// Timeout bounds every request a step makes (10 s when zero).
	Timeout time.Duration
	// RestartIP kills the integration point under test (A) and starts it again on the same data, for
	// the scenarios tagged @crash; they are skipped when it is nil. It returns once the restart was
	// begun; the step then waits for /manage/health. The feature test restarts its in-process
	// integration point (an emulation, see stack.RestartIP); `efm-harness test --ip-restart-cmd` runs a
	// shell command such as "docker kill ip && docker start ip".
	RestartIP func(ctx context.Context) error
	// OnSkip, when set, hears of every scenario skipped because the target lacks a service its tags
	// (@two-ips, @dpo, @dpv, @dpf, @dpi, @crash) need, with the reason.
	OnSkip func(scenario, reason string)
}

// callback is where a webhook endpoint of the scenarios listens, and the base URL of its push endpoint
// once listening on a port (see CallbackHost).
func (c Config) callback() (listen string, advertise func(port string) string) {
	if c.CallbackHost == "" {
		return "127.0.0.1:0", func(port string) string { return "http://127.0.0.1:" + port }
	}
	return ":0", func(port string) string { return "http://" + net.JoinHostPort(c.CallbackHost, port) }
}

func (c Config) timeout() time.Duration {
	if c.Timeout <= 0 {
		return 10 * time.Second
	}
	return c.Timeout
}

// capabilities maps a scenario tag to what it needs, for skipping scenarios a target cannot run.
var capabilities = []struct {
	tag, what string
	has       func(Config) bool
}{
	{"@two-ips", "a second integration point (--ip2-url)", func(c Config) bool { return c.IP2URL != "" }},
	{"@dpo", "the DPO broker simulator (--dpo-url)", func(c Config) bool { return c.DPOURL != "" }},
	{"@dpv", "the DPV simulator (--dpv-url)", func(c Config) bool { return c.DPVURL != "" }},
	{"@dpf", "the DPF simulator (--dpf-url)", func(c Config) bool { return c.DPFURL != "" }},
	{"@dpi", "the DPI simulator (--dpi-url)", func(c Config) bool { return c.DPIURL != "" }},
	{"@reference-ip", "the harness's reference integration point (the scenario checks where it goes beyond the real IP)", func(c Config) bool { return c.ReferenceIP }},
	{"@crash", "a way to kill and restart the integration point (--ip-restart-cmd)", func(c Config) bool { return c.RestartIP != nil }},
	// The load generator runs against this machine only, and its webhook receiver must be reachable.
	{"@load", "an integration point on this machine (--ip-url on 127.0.0.1 or localhost), which can push webhooks to the load generator",
		func(c Config) bool { return c.IPURL != "" && loadtest.CheckLoopback(c.IPURL) == nil }},
}

// lacks names what a scenario with these tags needs and the target does not have; "" when it has all.
func (c Config) lacks(tags []string) string {
	var missing []string
	for _, t := range tags {
		for _, cp := range capabilities {
			if t == cp.tag && !cp.has(c) {
				missing = append(missing, cp.what)
			}
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return "needs " + strings.Join(missing, " and ") + ", which the target was not given"
}

// serviceURL maps a service name used in feature text to its base URL.
func (c Config) serviceURL(name string) (string, error) {
	switch name {
	case "sr", "address register":
		return c.SRURL, nil
	case "maskinporten", "Maskinporten":
		return c.MaskinportenURL, nil
	case "ip", "integration point":
		return c.IPURL, nil
	case "dpo", "DPO broker":
		return c.DPOURL, nil
	case "dpv", "DPV simulator":
		return c.DPVURL, nil
	case "dpf", "DPF simulator":
		return c.DPFURL, nil
	case "dpi", "DPI simulator":
		return c.DPIURL, nil
	}
	return "", fmt.Errorf("unknown service %q (known: sr, maskinporten)", name)
}

// serviceName maps a service name used in feature text to its admin name.
func serviceName(name string) string {
	switch name {
	case "address register":
		return "sr"
	case "Maskinporten":
		return "maskinporten"
	case "integration point":
		return "ip"
	case "DPO broker":
		return "dpo"
	case "DPV simulator":
		return "dpv"
	case "DPF simulator":
		return "dpf"
	case "DPI simulator":
		return "dpi"
	}
	return name
}

// response is the last HTTP answer a step received.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// callOutcome is what a client with a timeout observed: an answer, or how it failed.
type callOutcome struct {
	Status  int
	Err     error
	Elapsed time.Duration
	// Service, Path and Start say what was called and when, to look the call up in the journal.
	Service, Path string
	Start         time.Time
}

// world is one scenario's state.
type world struct {
	cfg    Config
	client *http.Client
	last   *response
	plain  *response // a plain JSON answer kept to compare a signed one with
	token  *tokenState
	issuer string // Maskinporten's, from its metadata
	out    *outgoing
	in     *incoming
	hook   *hook
	// subscriptionID is the webhook subscription a scenario made (deleted after it).
	subscriptionID int64
	call           *callOutcome
	faulted        map[string]bool
	// started is when the scenario began (its journals are attached from then on when it fails).
	started time.Time
	// batch are the messageIds of a stream of messages the scenario sent.
	batch    []string
	resolved map[string]string
	// held are the messages a scenario put at the brokers for A to fetch.
	held *heldMessages
	// load is the result of the scenario's load run.
	load *loadtest.Result
}

type worldKey struct{}

func getWorld(ctx context.Context) *world { return ctx.Value(worldKey{}).(*world) }

func (w *world) admin(service string) *admin.Client {
	user, pw, _ := strings.Cut(w.cfg.AdminAuth, ":")
	return admin.ControlClient(w.cfg.ControlURL, serviceName(service)).WithBasicAuth(user, pw)
}

var placeholder = regexp.MustCompile(`\{([a-z-]+)(?::([a-z0-9-]+))?\}`)

// expand replaces placeholders with test-population values: {org:<role>} and {orgnr:<role>} (the
// organisation number), {citizen:<role>} (the fødselsnummer), {unknown-org}, {unknown-fnr},
// {invalid-fnr}, {d-number}, {print-provider}, {message-id} (the scenario's message) and the values earlier steps kept
// ({sender-ref}, {receiver-ref}, …).
func (w *world) expand(s string) (string, error) {
	var err error
	p := w.cfg.Population
	out := placeholder.ReplaceAllStringFunc(s, func(m string) string {
		g := placeholder.FindStringSubmatch(m)
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("placeholder %s: %v", m, r)
			}
		}()
		switch g[1] {
		case "org", "orgnr":
			return p.Org(g[2]).Orgnr
		case "citizen":
			return p.Citizen(g[2]).Fnr
		case "unknown-org":
			return p.UnknownOrgnr
		case "unknown-fnr":
			return p.UnknownFnr
		case "invalid-fnr":
			return p.InvalidFnr
		case "d-number":
			return p.DNumber
		case "print-provider":
			return fixtures.PrintProviderOrgnr
		case "message-id":
			if w.out != nil && w.out.messageID != "" {
				return w.out.messageID
			}
		}
		if v, ok := w.resolved[g[1]]; ok {
			return v
		}
		err = fmt.Errorf("unknown placeholder %s", m)
		return m
	})
	return out, err
}

// do sends a request and keeps the answer as the last response.
func (w *world) do(ctx context.Context, method, url string, header http.Header, body io.Reader) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if user, pw, ok := strings.Cut(w.cfg.IPAuth, ":"); ok && req.Header.Get("Authorization") == "" && w.isIP(url) {
		req.SetBasicAuth(user, pw)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", method, url, err)
	}
	w.last = &response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	return w.last, nil
}

// isIP reports whether url is on one of the integration points under test.
func (w *world) isIP(url string) bool {
	for _, base := range []string{w.cfg.IPURL, w.cfg.IP2URL} {
		if base != "" && strings.HasPrefix(url, strings.TrimRight(base, "/")+"/") {
			return true
		}
	}
	return false
}

func (w *world) lastResponse() (*response, error) {
	if w.last == nil {
		return nil, fmt.Errorf("no request has been made in this scenario")
	}
	return w.last, nil
}

// jsonPath reads a dotted path ("serviceRecords.0.service.identifier") from a decoded JSON value.
func jsonPath(v any, path string) (any, error) {
	cur := v
	for _, part := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[part]
			if !ok {
				return nil, fmt.Errorf("no field %q in %s", part, path)
			}
			cur = next
		case []any:
			var i int
			if _, err := fmt.Sscanf(part, "%d", &i); err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("no element %q in %s (length %d)", part, path, len(c))
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("%s: %q is not an object or array", path, part)
		}
	}
	return cur, nil
}

func decodeJSON(b []byte) (any, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("body is not JSON (%v): %.300s", err, b)
	}
	return v, nil
}

func stringOf(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return "null"
	default:
		b, _ := json.Marshal(t)
		return string(b)
	}
}
