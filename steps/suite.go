package steps

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/cucumber/godog"
	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/google/go-cmp/cmp"
)

// Initialize returns the scenario initializer: per-scenario state, the reset of every service before a
// scenario and the clearing of faults after it, and every step of the library.
func Initialize(cfg Config) func(*godog.ScenarioContext) {
	services := []string{"sr", "maskinporten"}
	for name, u := range map[string]string{"dpo": cfg.DPOURL, "dpv": cfg.DPVURL, "dpf": cfg.DPFURL, "dpi": cfg.DPIURL} {
		if u != "" {
			services = append(services, name)
		}
	}
	sort.Strings(services[2:])
	return func(sc *godog.ScenarioContext) {
		sc.Before(func(ctx context.Context, s *godog.Scenario) (context.Context, error) {
			tags := make([]string, len(s.Tags))
			for i, t := range s.Tags {
				tags[i] = t.Name
			}
			if reason := cfg.lacks(tags); reason != "" {
				if cfg.OnSkip != nil {
					cfg.OnSkip(s.Name, reason)
				}
				return ctx, fmt.Errorf("%w: %s", godog.ErrSkip, reason)
			}
			w := &world{cfg: cfg, client: &http.Client{Timeout: cfg.timeout()}, faulted: map[string]bool{}, started: time.Now()}
			for _, svc := range services {
				if err := w.admin(svc).Reset(ctx); err != nil {
					return ctx, fmt.Errorf("reset %s before the scenario: %w", svc, err)
				}
			}
			return context.WithValue(ctx, worldKey{}, w), nil
		})
		sc.After(func(ctx context.Context, s *godog.Scenario, err error) (context.Context, error) {
			w, ok := ctx.Value(worldKey{}).(*world)
			if !ok {
				return ctx, nil
			}
			if err != nil {
				// What each service saw during the scenario, for the report, before a reset forgets it.
				for _, svc := range append(services, "ip") {
					entries, jerr := w.admin(svc).Requests(ctx, admin.Filter{Since: w.started, Limit: 50})
					if jerr != nil || len(entries) == 0 {
						continue
					}
					b, _ := json.MarshalIndent(entries, "", "  ")
					ctx = godog.Attach(ctx, godog.Attachment{Body: b, FileName: svc + " request journal", MediaType: "application/json"})
				}
			}
			for svc := range w.faulted {
				if svc == "sr-records" {
					_ = w.admin("sr").Reset(ctx)
					continue
				}
				if svc == "dpo" || svc == "dpv" || svc == "dpf" || svc == "dpi" { // faults and behaviours alike
					_ = w.admin(svc).Reset(ctx)
					continue
				}
				_ = w.admin(svc).ClearFault(ctx)
			}
			// The subscription first (with the IP's credentials), so that nothing is pushed to a closed port, or
			// to a later scenario's endpoint on the same port.
			if w.subscriptionID != 0 && cfg.IPURL != "" {
				last := w.last
				_, _ = w.do(ctx, http.MethodDelete, fmt.Sprintf("%s/api/subscriptions/%d", strings.TrimRight(cfg.IPURL, "/"), w.subscriptionID), nil, nil)
				w.last = last
			}
			if w.hook != nil {
				w.hook.srv.Close()
			}
			if err != nil && w.last != nil {
				ctx = godog.Attach(ctx, godog.Attachment{Body: w.last.Body, FileName: "last response", MediaType: "text/plain"})
			}
			return ctx, nil
		})
		registerHTTPSteps(sc)
		registerRegisterSteps(sc)
		registerTokenSteps(sc)
		registerFaultSteps(sc)
		registerIPSteps(sc)
		registerInboundSteps(sc)
		registerCounterpartSteps(sc)
		registerDPVSteps(sc)
		registerDPFSteps(sc)
		registerDPISteps(sc)
		registerOutageSteps(sc)
		registerHostileSteps(sc)
		registerHostileInboundSteps(sc)
		registerCrashSteps(sc)
		registerLoadSteps(sc)
	}
}

func registerHTTPSteps(sc *godog.ScenarioContext) {
	sc.Step(`^I GET "([^"]*)" from (?:the )?(address register|Maskinporten|DPO broker|DPV simulator|integration point|[a-z]+)$`, getFrom)
	sc.Step(`^the response status is (\d+)$`, responseStatusIs)
	sc.Step(`^the response body is empty$`, responseBodyEmpty)
	sc.Step(`^the response body is exactly:$`, responseBodyExactly)
	sc.Step(`^the response JSON is:$`, responseJSONIs)
	sc.Step(`^the response JSON has "([^"]*)" = "([^"]*)"$`, responseJSONHas)
	sc.Step(`^the response header "([^"]*)" starts with "([^"]*)"$`, responseHeaderStartsWith)
}

func getFrom(ctx context.Context, path, service string) error {
	w := getWorld(ctx)
	base, err := w.cfg.serviceURL(service)
	if err != nil {
		return err
	}
	if path, err = w.expand(path); err != nil {
		return err
	}
	h := http.Header{"Accept": {"application/json"}}
	if user, pw, ok := strings.Cut(w.cfg.AdminAuth, ":"); ok && strings.HasPrefix(path, "/__admin") {
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pw)))
	}
	_, err = w.do(ctx, http.MethodGet, base+path, h, nil)
	return err
}

func responseStatusIs(ctx context.Context, status int) error {
	r, err := getWorld(ctx).lastResponse()
	if err != nil {
		return err
	}
	if r.Status != status {
		return fmt.Errorf("status %d, want %d; body: %.500s", r.Status, status, r.Body)
	}
	return nil
}

func responseBodyEmpty(ctx context.Context) error {
	r, err := getWorld(ctx).lastResponse()
	if err != nil {
		return err
	}
	if len(r.Body) != 0 {
		return fmt.Errorf("body is not empty: %.300s", r.Body)
	}
	return nil
}

func responseBodyExactly(ctx context.Context, doc *godog.DocString) error {
	w := getWorld(ctx)
	r, err := w.lastResponse()
	if err != nil {
		return err
	}
	want, err := w.expand(doc.Content)
	if err != nil {
		return err
	}
	if got := strings.TrimRight(string(r.Body), "\n"); got != want {
		return fmt.Errorf("body differs (-want +got):\n%s", cmp.Diff(want, got))
	}
	return nil
}

// responseJSONIs compares the body with the expected JSON, ignoring key order and whitespace. A value
// "<any>" in the expected JSON matches anything present.
func responseJSONIs(ctx context.Context, doc *godog.DocString) error {
	w := getWorld(ctx)
	r, err := w.lastResponse()
	if err != nil {
		return err
	}
	wantText, err := w.expand(doc.Content)
	if err != nil {
		return err
	}
	want, err := decodeJSON([]byte(wantText))
	if err != nil {
		return fmt.Errorf("expected JSON in the feature: %w", err)
	}
	got, err := decodeJSON(r.Body)
	if err != nil {
		return err
	}
	anyValue := cmp.FilterValues(func(a, b any) bool { return a == "<any>" || b == "<any>" }, cmp.Comparer(func(a, b any) bool { return true }))
	if diff := cmp.Diff(want, got, anyValue); diff != "" {
		return fmt.Errorf("JSON differs (-want +got):\n%s", diff)
	}
	return nil
}

func responseJSONHas(ctx context.Context, path, want string) error {
	w := getWorld(ctx)
	r, err := w.lastResponse()
	if err != nil {
		return err
	}
	if want, err = w.expand(want); err != nil {
		return err
	}
	v, err := decodeJSON(r.Body)
	if err != nil {
		return err
	}
	got, err := jsonPath(v, path)
	if err != nil {
		return err
	}
	if stringOf(got) != want {
		return fmt.Errorf("%s is %q, want %q", path, stringOf(got), want)
	}
	return nil
}

func responseHeaderStartsWith(ctx context.Context, name, prefix string) error {
	r, err := getWorld(ctx).lastResponse()
	if err != nil {
		return err
	}
	if got := r.Header.Get(name); !strings.HasPrefix(got, prefix) {
		return fmt.Errorf("header %s is %q, want a value starting with %q", name, got, prefix)
	}
	return nil
}
