package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/loadtest"
	"github.com/efm-harness/efm-harness/simulator/stack"
)

// benchConfig is the configuration of `efm-harness bench`.
type benchConfig struct {
	PortBase   int
	Duration   time.Duration
	Steady     time.Duration
	Start      float64
	Step       float64
	MaxRate    float64
	P99        time.Duration
	Reports    string
	Modes      []string
	SkipSteady bool
}

// benchRung is one rate of the ladder.
type benchRung struct {
	Mode   string
	Rate   float64
	Passed bool
	Why    string
	Result *loadtest.Result
}

// runBench finds the highest DPO rate the stack sustains (full cryptography and --plain), measures
// latency at half of it, the address register and a bare handler with wrk, the load generator's own
// ceiling, and the integration point's memory over a steady run; it writes reports/bench.md and an HTML
// report per run.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg benchConfig
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.PortBase, "port-base", 19090, "port base of the stacks the benchmark starts")
	fs.DurationVar(&cfg.Duration, "duration", 60*time.Second, "how long each rate must hold")
	fs.DurationVar(&cfg.Steady, "steady", 10*time.Minute, "length of the steady run whose memory is reported")
	fs.Float64Var(&cfg.Start, "start", 80, "first rate of the ladder, per second")
	fs.Float64Var(&cfg.Step, "step", 1.25, "factor between the ladder's rates")
	fs.Float64Var(&cfg.MaxRate, "max-rate", 2000, "highest rate tried")
	fs.DurationVar(&cfg.P99, "p99", time.Second, "the accepted→SENDT p99 a rate must keep")
	fs.StringVar(&cfg.Reports, "reports", "reports", "directory for bench.md and the HTML reports")
	modes := fs.String("modes", "full,plain", "crypto modes to measure")
	fs.BoolVar(&cfg.SkipSteady, "skip-steady", false, "leave out the steady run")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: efm-harness bench [flags]\n\nStarts the stack as a separate process (efm-harness up) once per run and drives\nDPO messages through it with the load generator: a ladder of rates, each for\n--duration (after a 5 s warm-up at half the rate), until one misses the bar (errors, drops, or accepted→SENDT p99 over\n--p99); then half the highest rate, wrk against the address register and a bare\nhandler, and a --steady run for memory. Writes %s/bench.md.\n\nFlags:\n", "reports")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.Modes = strings.Split(*modes, ",")
	if cfg.Step <= 1 || cfg.Start <= 0 {
		return fmt.Errorf("--start must be positive and --step above 1 (got %g and %g)", cfg.Start, cfg.Step)
	}
	if err := os.MkdirAll(cfg.Reports, 0o755); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var md strings.Builder
	fmt.Fprintf(&md, "Machine: %s. Duration per rate %s; bar: no error, no dropped iteration, accepted→SENDT p99 < %s.\n\n", machine(), cfg.Duration, cfg.P99)
	fmt.Fprintf(&md, "| measure | result |\n|---|---|\n")
	best := map[string]float64{}
	for _, mode := range cfg.Modes {
		rungs, err := benchLadder(ctx, self, cfg, mode, stderr)
		if err != nil {
			return err
		}
		top := 0.0
		for _, r := range rungs {
			if r.Passed {
				top = r.Rate
			}
		}
		best[mode] = top
		var tried []string
		for _, r := range rungs {
			s := fmt.Sprintf("%.0f/s %s", r.Rate, map[bool]string{true: "✓", false: "✗ " + r.Why}[r.Passed])
			tried = append(tried, s)
		}
		fmt.Fprintf(&md, "| highest DPO rate held for %s (%s) | **%.0f msg/s** (tried: %s) |\n", cfg.Duration, mode, top, strings.Join(tried, "; "))
		if top > 0 {
			half := math.Round(top / 2)
			res, err := benchRun(ctx, self, cfg, mode, half, cfg.Duration, filepath.Join(cfg.Reports, "bench-"+mode+"-half.html"), stderr)
			if err != nil {
				return err
			}
			st := res.Metrics[loadtest.MetricE2ESendt]
			mp := res.Metrics["multipart"]
			fmt.Fprintf(&md, "| at half that rate (%.0f/s, %s): accepted→SENDT p50 / p99 | %s / %s (request p50 / p99 %s / %s) |\n",
				half, mode, ms(st.P50), ms(st.P99), ms(mp.P50), ms(mp.P99))
		}
	}
	if err := benchEndpoints(ctx, self, cfg, &md, stderr); err != nil {
		return err
	}
	if !cfg.SkipSteady && best["full"] > 0 {
		rate := math.Round(best["full"] / 2)
		res, err := benchRun(ctx, self, cfg, "full", rate, cfg.Steady, filepath.Join(cfg.Reports, "bench-steady.html"), stderr)
		if err != nil {
			return err
		}
		for _, p := range res.Resources {
			if len(p.Samples) < 2 {
				continue
			}
			// The simulators' bounded stores (10 000 DPO transfers) fill during the first minutes; from a
			// third of the run on, the line must be flat.
			third := p.Samples[len(p.Samples)/3].RSS
			var late uint64
			for _, x := range p.Samples[len(p.Samples)/3:] {
				late = max(late, x.RSS)
			}
			last := p.Samples[len(p.Samples)-1].RSS
			fmt.Fprintf(&md, "| steady %s at %.0f/s (full): RSS of the stack process (%s: IP and simulators) | %s at a third of the run, at most %s after it, %s at the end (peak %s) |\n",
				cfg.Steady, rate, strings.Join(p.Roles, ","), mib(third), mib(late), mib(last), mib(p.PeakRSS))
		}
	}
	out := filepath.Join(cfg.Reports, "bench.md")
	if err := os.WriteFile(out, []byte(md.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%s\nwritten to %s\n", md.String(), out)
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
func mib(b uint64) string       { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// benchLadder climbs the rates until one misses the bar.
func benchLadder(ctx context.Context, self string, cfg benchConfig, mode string, log io.Writer) ([]benchRung, error) {
	var rungs []benchRung
	for rate := cfg.Start; rate <= cfg.MaxRate; rate = math.Max(rate+1, math.Round(rate*cfg.Step)) {
		res, err := benchRun(ctx, self, cfg, mode, rate, cfg.Duration, filepath.Join(cfg.Reports, fmt.Sprintf("bench-%s-%.0f.html", mode, rate)), log)
		if err != nil {
			return nil, err
		}
		r := benchRung{Mode: mode, Rate: rate, Result: res, Passed: true}
		st := res.Metrics[loadtest.MetricE2ESendt]
		switch {
		case res.Failed > 0 || res.E2E.Failed() > 0:
			r.Passed, r.Why = false, fmt.Sprintf("%d errors", res.Failed+res.E2E.Failed())
		case res.Dropped > 0:
			r.Passed, r.Why = false, fmt.Sprintf("%d dropped", res.Dropped)
		case st.Count == 0 || st.P99 >= cfg.P99:
			r.Passed, r.Why = false, "p99 "+ms(st.P99)
		}
		fmt.Fprintf(log, "bench: %s %.0f/s: passed=%v %s\n", mode, rate, r.Passed, r.Why)
		rungs = append(rungs, r)
		if !r.Passed || ctx.Err() != nil {
			break
		}
	}
	return rungs, ctx.Err()
}

// benchRun starts a fresh stack process and runs dpo-small at rate for d against it.
func benchRun(ctx context.Context, self string, cfg benchConfig, mode string, rate float64, d time.Duration, html string, log io.Writer) (*loadtest.Result, error) {
	dir, err := os.MkdirTemp("", "efm-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	args := []string{"up", "--port-base", strconv.Itoa(cfg.PortBase), "--data-dir", dir, "--quiet", "--log-level", "warn"}
	if mode == "plain" {
		args = append(args, "--plain")
	}
	stop, err := startProcess(ctx, self, args, log)
	if err != nil {
		return nil, err
	}
	defer stop()
	ipURL := fmt.Sprintf("http://127.0.0.1:%d", stack.Ports(cfg.PortBase)[stack.IP])
	if err := waitHealthy(ctx, ipURL+"/manage/health", 30*time.Second); err != nil {
		return nil, err
	}
	hc := loadtest.NewHTTPClient(1000, 30*time.Second)
	defer hc.CloseIdleConnections()
	ip := &loadtest.Client{BaseURL: ipURL, HTTP: hc}
	flow, err := loadtest.NewFlow(loadtest.FlowDPOSmall, loadtest.FlowConfig{IP: ip, Population: fixtures.Default()})
	if err != nil {
		return nil, err
	}
	// Warm up for 5 s at half the rate (tokens, register answers, connections, the Go runtime), so that
	// the measured run shows the steady state rather than the first second's cold calls; then let the
	// warm-up's messages drain.
	if _, err := loadtest.Run(ctx, loadtest.Options{Schedule: loadtest.Constant(loadtest.Rate(rate/2), 5*time.Second),
		Flows: []loadtest.Weighted{{Flow: flow, Weight: 1}}, GracefulStop: 10 * time.Second}); err != nil {
		return nil, err
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(3 * time.Second):
	}
	tr, err := loadtest.NewTracker(ctx, ip, loadtest.TrackerOptions{Name: "efm-harness bench", KeepSent: true})
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	sm, err := loadtest.NewSampler(map[string]string{"ip": ipURL}, map[string]string{"ip": ipURL + "/manage/prometheus"})
	if err != nil {
		fmt.Fprintf(log, "bench: resources not sampled: %v\n", err)
	}
	fmt.Fprintf(log, "bench: %s, dpo-small at %.0f/s for %s\n", mode, rate, d)
	res, err := loadtest.Run(ctx, loadtest.Options{Schedule: loadtest.Constant(loadtest.Rate(rate), d), Flows: []loadtest.Weighted{{Flow: flow, Weight: 1}},
		Tracker: tr, Sampler: sm, Drain: 30 * time.Second, GracefulStop: 30 * time.Second,
		ControlURL: fmt.Sprintf("http://127.0.0.1:%d", stack.Ports(cfg.PortBase)[stack.Control])})
	if err != nil {
		return nil, err
	}
	res.Meta = map[string]string{"target": ipURL, "mode": mode, "machine": machine()}
	if html != "" {
		_ = loadtest.WriteHTML(html, res)
	}
	return res, nil
}

// startProcess starts self with args; stop ends it with SIGTERM (SIGKILL after 10 s).
func startProcess(ctx context.Context, self string, args []string, log io.Writer) (func(), error) {
	cmd := exec.Command(self, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	return func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}, nil
}

func waitHealthy(ctx context.Context, url string, d time.Duration) error {
	deadline := time.Now().Add(d)
	hc := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) && ctx.Err() == nil {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not come up within %s", url, d)
}

var wrkRate = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

// benchEndpoints measures the address register and a bare handler with wrk, and the load generator's
// own ceiling against the bare handler.
func benchEndpoints(ctx context.Context, self string, cfg benchConfig, md *strings.Builder, log io.Writer) error {
	srPort := stack.Ports(cfg.PortBase)[stack.SR]
	echoAddr := fmt.Sprintf("127.0.0.1:%d", cfg.PortBase+50)
	stopUp, err := startProcess(ctx, self, []string{"up", "--port-base", strconv.Itoa(cfg.PortBase), "--services", "sr,maskinporten", "--quiet", "--log-level", "warn"}, log)
	if err != nil {
		return err
	}
	defer stopUp()
	stopEcho, err := startProcess(ctx, self, []string{"echo", "--listen", echoAddr}, log)
	if err != nil {
		return err
	}
	defer stopEcho()
	srURL := fmt.Sprintf("http://127.0.0.1:%d/identifier/%s", srPort, fixtures.Default().Org(fixtures.RoleDPF).Orgnr)
	echoURL := "http://" + echoAddr + "/"
	if err := waitHealthy(ctx, srURL, 20*time.Second); err != nil {
		return err
	}
	if err := waitHealthy(ctx, echoURL, 20*time.Second); err != nil {
		return err
	}
	wrk := func(url string) string {
		path, err := exec.LookPath("wrk")
		if err != nil {
			return "wrk not installed (apt-get install wrk)"
		}
		out, err := exec.CommandContext(ctx, path, "-t2", "-c32", "-d10s", url).CombinedOutput()
		if m := wrkRate.FindSubmatch(out); err == nil && m != nil {
			v, _ := strconv.ParseFloat(string(m[1]), 64)
			return fmt.Sprintf("%.0f req/s", v)
		}
		return fmt.Sprintf("wrk failed: %v", err)
	}
	fmt.Fprintf(md, "| address register lookups (GET /identifier/{dpf org}, wrk -t2 -c32 10 s) | %s |\n", wrk(srURL))
	fmt.Fprintf(md, "| bare Go HTTP handler, same machine (wrk -t2 -c32 10 s) | %s |\n", wrk(echoURL))
	// The load generator's ceiling: the highest open-model rate on the bare handler for 10 s with nothing
	// dropped and p99 under 50 ms.
	top := 0.0
	for rate := 1000.0; rate <= 100000; rate = math.Round(rate * 1.5) {
		flow, err := loadtest.NewFlow(loadtest.FlowGet, loadtest.FlowConfig{URL: echoURL, HTTP: loadtest.NewHTTPClient(1000, 10*time.Second)})
		if err != nil {
			return err
		}
		res, err := loadtest.Run(ctx, loadtest.Options{Schedule: loadtest.Constant(loadtest.Rate(rate), 10*time.Second), Flows: []loadtest.Weighted{{Flow: flow, Weight: 1}}})
		if err != nil {
			return err
		}
		ok := res.Failed == 0 && res.Dropped == 0 && res.Metrics["get"].P99 < 50*time.Millisecond
		fmt.Fprintf(log, "bench: load generator on the bare handler at %.0f/s: ok=%v (p99 %s, dropped %d)\n", rate, ok, res.Metrics["get"].P99, res.Dropped)
		if !ok {
			break
		}
		top = rate
	}
	fmt.Fprintf(md, "| load generator's own ceiling on the bare handler (open model, 10 s, no drop, p99 < 50 ms) | %.0f req/s |\n", top)
	return nil
}
