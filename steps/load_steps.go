package steps

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/efm-harness/efm-harness/loadtest"
)

// The load steps run the load generator (loadtest) against the integration point under test, as
// `efm-harness load` does, and check its result: throughput scenarios bounded to seconds.
func registerLoadSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the load generator runs "([^"]*)" at ([^ ]+) for ([^ ]+)$`, runLoad)
	sc.Step(`^no iteration failed or was dropped$`, noIterationFailed)
	sc.Step(`^every message reached (SENDT|LEVERT|its final status)$`, everyMessageReached)
	sc.Step(`^the load thresholds hold:$`, loadThresholdsHold)
}

// runLoad runs the flows (a mix such as "dpo-small,dpf=2") at a constant rate, waiting up to 60 s for the
// messages' statuses afterwards.
func runLoad(ctx context.Context, flows, rate, duration string) error {
	w := getWorld(ctx)
	if w.cfg.IPURL == "" {
		return fmt.Errorf("the load generator needs the integration point (--ip-url)")
	}
	r, err := loadtest.ParseRate(rate)
	if err != nil {
		return err
	}
	d, err := time.ParseDuration(duration)
	if err != nil {
		return fmt.Errorf("duration %q: %w", duration, err)
	}
	mix, err := loadtest.ParseMix(flows)
	if err != nil {
		return err
	}
	user, pw, _ := strings.Cut(w.cfg.IPAuth, ":")
	hc := loadtest.NewHTTPClient(256, 30*time.Second)
	defer hc.CloseIdleConnections()
	ip := &loadtest.Client{BaseURL: w.cfg.IPURL, User: user, Password: pw, HTTP: hc}
	var ip2 *loadtest.Client // only for a receive flow: otherwise DPO goes to no integration point
	if w.cfg.IP2URL != "" && mix[loadtest.FlowReceive] > 0 {
		ip2 = &loadtest.Client{BaseURL: w.cfg.IP2URL, User: user, Password: pw, HTTP: hc}
	}
	var weighted []loadtest.Weighted
	for _, name := range loadtest.SortedNames(mix) {
		f, err := loadtest.NewFlow(name, loadtest.FlowConfig{IP: ip, IP2: ip2, LargeSize: 1 << 20, DPOLevert: mix[loadtest.FlowReceive] > 0})
		if err != nil {
			return err
		}
		weighted = append(weighted, loadtest.Weighted{Flow: f, Weight: mix[name]})
	}
	listen, _ := w.cfg.callback()
	tr, err := loadtest.NewTracker(ctx, ip, loadtest.TrackerOptions{KeepSent: true, Name: "efm-harness scenario load",
		Listen: listen, AdvertiseHost: w.cfg.CallbackHost})
	if err != nil {
		return err
	}
	defer tr.Close()
	res, err := loadtest.Run(ctx, loadtest.Options{Schedule: loadtest.Constant(r, d), Flows: weighted, Tracker: tr,
		MaxVUs: 256, GracefulStop: 30 * time.Second, Drain: 60 * time.Second, ControlURL: w.cfg.ControlURL, AdminAuth: w.cfg.AdminAuth})
	if err != nil {
		return err
	}
	w.load = res
	return nil
}

func (w *world) loadResult() (*loadtest.Result, error) {
	if w.load == nil {
		return nil, fmt.Errorf("no load run in this scenario")
	}
	return w.load, nil
}

func noIterationFailed(ctx context.Context) error {
	res, err := getWorld(ctx).loadResult()
	if err != nil {
		return err
	}
	if res.Failed != 0 || res.Dropped != 0 || res.Iterations != res.Scheduled {
		return fmt.Errorf("of %d scheduled iterations %d started, %d failed, %d dropped; errors: %s",
			res.Scheduled, res.Iterations, res.Failed, res.Dropped, describeErrors(res.Errors))
	}
	return nil
}

func everyMessageReached(ctx context.Context, what string) error {
	res, err := getWorld(ctx).loadResult()
	if err != nil {
		return err
	}
	e := res.E2E
	if e.Accepted == 0 {
		return fmt.Errorf("no message was accepted")
	}
	if e.Failed() != 0 || e.Outstanding != 0 {
		return fmt.Errorf("of %d accepted messages %d ended as FEIL, %d as LEVETID_UTLOPT, %d never got their status: %s",
			e.Accepted, e.Feil, e.Expired, e.Missing, describeErrors(res.Errors))
	}
	switch what {
	case "SENDT":
		if e.Sendt+e.MissedHook < e.Accepted {
			return fmt.Errorf("%d of %d accepted messages reached SENDT", e.Sendt, e.Accepted)
		}
	case "LEVERT":
		if e.Levert+e.MissedHook < e.Accepted {
			return fmt.Errorf("%d of %d accepted messages reached LEVERT", e.Levert, e.Accepted)
		}
	}
	return nil
}

// loadThresholdsHold checks k6-style thresholds, one per table row (first cell).
func loadThresholdsHold(ctx context.Context, table *godog.Table) error {
	res, err := getWorld(ctx).loadResult()
	if err != nil {
		return err
	}
	var ts []loadtest.Threshold
	for _, row := range table.Rows {
		if len(row.Cells) == 0 {
			continue
		}
		t, err := loadtest.ParseThreshold(row.Cells[0].Value)
		if err != nil {
			return err
		}
		ts = append(ts, t)
	}
	if loadtest.Evaluate(res, ts) {
		return nil
	}
	var failed []string
	for _, t := range res.Thresholds {
		if !t.Passed {
			failed = append(failed, fmt.Sprintf("%s (actual %s)", t.Threshold, t.Actual))
		}
	}
	return fmt.Errorf("thresholds failed: %s", strings.Join(failed, "; "))
}

func describeErrors(errs []loadtest.ErrorCount) string {
	if len(errs) == 0 {
		return "none"
	}
	var parts []string
	for i, e := range errs {
		if i == 3 {
			break
		}
		s := fmt.Sprintf("%d× %s", e.Count, e.Kind)
		if len(e.Samples) > 0 {
			s += fmt.Sprintf(" (e.g. %.150s)", e.Samples[0])
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}
