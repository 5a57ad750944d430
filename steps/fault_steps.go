package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/cucumber/godog"

	"github.com/efm-harness/efm-harness/simulator/admin"
)

func registerFaultSteps(sc *godog.ScenarioContext) {
	sc.Step(`^(?:the )?(address register|Maskinporten|DPO broker|DPV simulator|DPF simulator|DPI simulator|integration point|[a-z]+) has the fault:$`, setFault)
	sc.Step(`^the fault on (?:the )?(address register|Maskinporten|DPO broker|DPV simulator|DPF simulator|DPI simulator|integration point|[a-z]+) is cleared$`, clearFault)
	sc.Step(`^a client with a timeout of (\d+(?:\.\d+)?)s calls "([^"]*)" on (?:the )?(address register|Maskinporten|DPO broker|DPV simulator|DPF simulator|DPI simulator|integration point|[a-z]+)$`, clientCalls)
	sc.Step(`^the call times out after about (\d+(?:\.\d+)?)s$`, callTimesOut)
	sc.Step(`^the call is refused$`, callRefused)
	sc.Step(`^the call is reset by the peer$`, callReset)
	sc.Step(`^the call is answered with status (\d+)$`, callAnswered)
	sc.Step(`^the call took at least (\d+)ms$`, callTookAtLeast)
	sc.Step(`^the integration points have finished delivering earlier messages$`, deliveryQueueEmpty)
	sc.Step(`^(?:the )?(address register|Maskinporten|DPO broker|DPV simulator|DPF simulator|DPI simulator|integration point|[a-z]+) journal shows (at least )?(\d+) (?:(GET|POST|PUT|DELETE) )?requests? to "([^"]*)"(?: acting for "([^"]*)")?(?: with fault "([^"]*)"|( that no fault answered))?$`, journalShows)
}

func setFault(ctx context.Context, service string, doc *godog.DocString) error {
	w := getWorld(ctx)
	var f admin.Fault
	dec := json.NewDecoder(strings.NewReader(doc.Content))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("fault JSON: %w", err)
	}
	w.faulted[serviceName(service)] = true
	return w.admin(service).SetFault(ctx, f)
}

func clearFault(ctx context.Context, service string) error {
	return getWorld(ctx).admin(service).ClearFault(ctx)
}

func clientCalls(ctx context.Context, seconds float64, path, service string) error {
	w := getWorld(ctx)
	base, err := w.cfg.serviceURL(service)
	if err != nil {
		return err
	}
	if path, err = w.expand(path); err != nil {
		return err
	}
	// A fresh client per call, with no pooled connections, like an integration point after a restart.
	c := &http.Client{Timeout: time.Duration(seconds * float64(time.Second)), Transport: &http.Transport{DisableKeepAlives: true}}
	start := time.Now()
	resp, err := c.Get(base + path)
	out := &callOutcome{Err: err, Service: service, Path: path, Start: start}
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		out.Status = resp.StatusCode
	}
	out.Elapsed = time.Since(start)
	w.call = out
	return nil
}

func (w *world) outcome() (*callOutcome, error) {
	if w.call == nil {
		return nil, fmt.Errorf("no client call was made in this scenario")
	}
	return w.call, nil
}

func callTimesOut(ctx context.Context, seconds float64) error {
	o, err := getWorld(ctx).outcome()
	if err != nil {
		return err
	}
	var ne net.Error
	if !errors.As(o.Err, &ne) || !ne.Timeout() {
		return fmt.Errorf("want a client timeout, got status %d, error %v", o.Status, o.Err)
	}
	want := time.Duration(seconds * float64(time.Second))
	if o.Elapsed < want*9/10 || o.Elapsed > want*3 {
		return fmt.Errorf("timed out after %v, want about %v", o.Elapsed, want)
	}
	return nil
}

func callRefused(ctx context.Context) error {
	o, err := getWorld(ctx).outcome()
	if err != nil {
		return err
	}
	if errors.Is(o.Err, syscall.ECONNREFUSED) {
		return nil
	}
	// Behind a proxy that accepts for the service (Docker's published ports), a closed port reads as a
	// connection closed before any answer. It is the refusal only if the request never reached the
	// service: a reset fault, or a service that failed, leaves the request in the journal.
	var ne net.Error
	if o.Err != nil && !(errors.As(o.Err, &ne) && ne.Timeout()) &&
		(errors.Is(o.Err, syscall.ECONNRESET) || errors.Is(o.Err, io.EOF) || strings.Contains(o.Err.Error(), "EOF")) {
		w := getWorld(ctx)
		entries, err := w.admin(o.Service).Requests(ctx, admin.Filter{Path: o.Path, Since: o.Start})
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			return nil
		}
		return fmt.Errorf("want connection refused, got %v, and the %s journal holds the request (fault %q)", o.Err, o.Service, entries[0].Fault)
	}
	return fmt.Errorf("want connection refused, got status %d, error %v", o.Status, o.Err)
}

func callReset(ctx context.Context) error {
	o, err := getWorld(ctx).outcome()
	if err != nil {
		return err
	}
	if o.Err == nil {
		return fmt.Errorf("want a reset connection, got status %d", o.Status)
	}
	var ne net.Error
	if errors.As(o.Err, &ne) && ne.Timeout() {
		return fmt.Errorf("want a reset connection, got a timeout: %v", o.Err)
	}
	if !errors.Is(o.Err, syscall.ECONNRESET) && !errors.Is(o.Err, io.EOF) && !strings.Contains(o.Err.Error(), "EOF") {
		return fmt.Errorf("want connection reset, got %v", o.Err)
	}
	return nil
}

func callAnswered(ctx context.Context, status int) error {
	o, err := getWorld(ctx).outcome()
	if err != nil {
		return err
	}
	if o.Err != nil || o.Status != status {
		return fmt.Errorf("want status %d, got status %d, error %v", status, o.Status, o.Err)
	}
	return nil
}

func callTookAtLeast(ctx context.Context, ms int) error {
	o, err := getWorld(ctx).outcome()
	if err != nil {
		return err
	}
	if o.Elapsed < time.Duration(ms)*time.Millisecond {
		return fmt.Errorf("call took %v, want at least %dms", o.Elapsed, ms)
	}
	return nil
}

// journalShows counts the service's journal entries for path (and method); "acting for" keeps those whose
// bearer token acts for that organisation, so that requests of another integration point (a receipt the
// second IP sends back, say) are not counted.
func journalShows(ctx context.Context, service, atLeast string, n int, method, path, caller, fault, unfaulted string) error {
	w := getWorld(ctx)
	path, err := w.expand(path)
	if err != nil {
		return err
	}
	if caller, err = w.expand(caller); err != nil {
		return err
	}
	entries, err := w.admin(service).Requests(ctx, admin.Filter{Path: path, Method: method})
	if err != nil {
		return err
	}
	count := 0
	for _, e := range entries {
		if caller != "" && e.Caller != caller {
			continue
		}
		if (unfaulted != "" && e.Fault == "") || (unfaulted == "" && (fault == "" || e.Fault == fault)) {
			count++
		}
	}
	if count != n && (atLeast == "" || count < n) {
		return fmt.Errorf("journal of %s shows %d requests to %s (caller %q, fault %q), want %s%d", service, count, path, caller, fault, atLeast, n)
	}
	return nil
}

// deliveryQueueEmpty waits until the delivery queue of each integration point under test
// (efm_ip_delivery_queue_messages on /manage/prometheus) is empty, so that a message an earlier scenario left
// retrying cannot add its requests to a journal this scenario counts. An integration point without that
// metric (the real IP) is not waited for.
func deliveryQueueEmpty(ctx context.Context) error {
	w := getWorld(ctx)
	deadline := time.Now().Add(30 * time.Second)
	for _, base := range []string{w.cfg.IPURL, w.cfg.IP2URL} {
		if base == "" {
			continue
		}
		url := strings.TrimRight(base, "/") + "/manage/prometheus"
		for {
			r, err := w.do(ctx, http.MethodGet, url, nil, nil)
			if err != nil {
				return err
			}
			n, found := -1, false
			if r.Status == http.StatusOK {
				for _, line := range strings.Split(string(r.Body), "\n") {
					if v, ok := strings.CutPrefix(line, "efm_ip_delivery_queue_messages "); ok {
						_, err := fmt.Sscan(v, &n)
						found = err == nil
					}
				}
			}
			if !found || n == 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s still has %d earlier messages in its delivery queue after 30s", base, n)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}
