package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/efm-harness/efm-harness/loadtest"
	"github.com/efm-harness/efm-harness/simulator/stack"
)

// exitThresholds is the exit status when a threshold fails, as k6 uses (errext/exitcodes).
const exitThresholds = 99

// exitInterrupted is the exit status of a run cut short by a signal (128 + SIGINT, as shells report it).
const exitInterrupted = 130

// exitError carries an exit status other than 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// loadConfig is the configuration of `efm-harness load`.
type loadConfig struct {
	IPURL, IP2URL, IPAuth  string
	URL                    string
	ControlURL, AdminAuth  string
	Flows                  string
	Rate, StartRate        string
	Duration               time.Duration
	Stages, Thresholds     multiFlag
	MaxVUs                 int
	GracefulStop, Drain    time.Duration
	Timeout                time.Duration
	LargeSize              string
	Out, HTML              string
	AllowRemote, Quiet     bool
	NoWebhooks, NoSample   bool
	WebhookListen, Webhook string
	Mode                   string
	Seed                   uint64
}

func parseLoad(args []string, getenv func(string) string, out io.Writer) (loadConfig, error) {
	e := env(getenv)
	ports := stack.Ports(stack.DefaultPortBase)
	var cfg loadConfig
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&cfg.IPURL, "ip-url", e.str("IP_URL", fmt.Sprintf("http://127.0.0.1:%d", ports[stack.IP])), "integration point to load, ours or a real one (EFM_IP_URL)")
	fs.StringVar(&cfg.IP2URL, "ip2-url", e.str("IP2_URL", ""), "receiving integration point, for the receive flow (with receive in the mix, DPO flows wait for LEVERT) (EFM_IP2_URL)")
	fs.StringVar(&cfg.IPAuth, "ip-auth", e.str("IP_AUTH", ""), "user:password when the integration points require HTTP Basic authentication (EFM_IP_AUTH)")
	fs.StringVar(&cfg.ControlURL, "control-url", e.str("CONTROL_URL", fmt.Sprintf("http://127.0.0.1:%d", ports[stack.Control])),
		"harness control port: after the run, each message's arrival at the simulators gives e2e_simulator; empty skips (EFM_CONTROL_URL)")
	fs.StringVar(&cfg.AdminAuth, "admin-auth", e.str("ADMIN_AUTH", ""), "user:password when the harness's admin API is protected (EFM_ADMIN_AUTH)")
	fs.StringVar(&cfg.URL, "url", "", "what the get flow fetches (a single endpoint, e.g. the address register's /identifier/910077473)")
	fs.StringVar(&cfg.Flows, "flow", e.str("LOAD_FLOW", loadtest.FlowDPOSmall), "flow, or a weighted mix such as dpo-small=3,dpf=1; one of "+strings.Join(loadtest.FlowNames(), ", "))
	fs.StringVar(&cfg.Rate, "rate", e.str("LOAD_RATE", "50/s"), "constant arrival rate (200/s, 600/m) for --duration")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long the constant rate runs")
	fs.Var(&cfg.Stages, "stage", "ramping stage DURATION:RATE, e.g. 10s:200/s (repeat; replaces --rate/--duration; ramps from --start-rate)")
	fs.StringVar(&cfg.StartRate, "start-rate", "0/s", "rate at the start of the first --stage")
	fs.Var(&cfg.Thresholds, "threshold", "pass condition, k6 style (repeat): e2e_sendt_p99<2s, send_p95<300ms, errors<0.1%, dropped==0, rate>=190; a failed one exits 99")
	fs.IntVar(&cfg.MaxVUs, "max-vus", 1000, "most iterations at once; an iteration due when all are busy is dropped, never queued")
	fs.DurationVar(&cfg.GracefulStop, "graceful-stop", 30*time.Second, "time iterations still running at the end get to finish")
	fs.DurationVar(&cfg.Drain, "drain", 30*time.Second, "time to wait after the last iteration for outstanding SENDT/LEVERT statuses")
	fs.DurationVar(&cfg.Timeout, "timeout", 30*time.Second, "timeout of every request")
	fs.StringVar(&cfg.LargeSize, "size", "5MiB", "attachment size of the dpo-large flow (bytes, KiB, MiB)")
	fs.StringVar(&cfg.Out, "out", "", "write the results as JSON to this file")
	fs.StringVar(&cfg.HTML, "html", "load-report.html", "write the HTML report (charts, percentiles) to this file; empty skips")
	fs.BoolVar(&cfg.AllowRemote, "allow-remote", false, "allow a target that is not on the loopback interface")
	fs.BoolVar(&cfg.Quiet, "quiet", false, "no live line each second")
	fs.BoolVar(&cfg.NoWebhooks, "no-webhooks", false, "do not subscribe to status webhooks (no end-to-end times)")
	fs.BoolVar(&cfg.NoSample, "no-resources", false, "do not sample the target processes' CPU, memory and connections")
	fs.StringVar(&cfg.WebhookListen, "webhook-listen", "127.0.0.1:0", "address the webhook receiver listens on")
	fs.StringVar(&cfg.Webhook, "webhook-url", "", "base URL of the webhook receiver as the integration point sees it (default: its listen address)")
	fs.StringVar(&cfg.Mode, "mode", "", "crypto mode to report (full or plain); default: what the integration point's /manage/info says")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "seed of the flow mix (0: random)")
	fs.Usage = func() {
		fmt.Fprintf(out, `Usage: efm-harness load [flags]

Drives messages through an integration point at a fixed arrival rate (open
model, as k6's arrival-rate executors): every iteration starts on schedule;
when --max-vus are all busy it is counted as dropped, never queued, and
latency counts from the intended start. A webhook subscription times each
message from its send to SENDT and LEVERT.

Prints a live line each second and a summary; writes an HTML report with
charts (--html) and JSON (--out); exits 99 when a --threshold fails.

Flows: dpo-small (multipart), dpo-large (create, upload --size, send), dpv,
dpf, dpi-digital, print, receive (peek/pop/delete at --ip2-url), get (one GET
of --url, for single-endpoint comparisons with wrk or hey).

Examples:
  efm-harness load --flow dpo-small --rate 200/s --duration 30s
  efm-harness load --flow dpo-small=3,dpf=1 --stage 10s:100/s --stage 30s:100/s \
      --threshold 'e2e_sendt_p99<1s' --threshold 'errors<0.1%%'

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return cfg, nil
}

// parseSize reads 5MiB, 512KiB, 1000000.
func parseSize(s string) (int, error) {
	s = strings.TrimSpace(s)
	mult := 1
	for _, u := range []struct {
		suffix string
		m      int
	}{{"MiB", 1 << 20}, {"KiB", 1 << 10}, {"MB", 1000 * 1000}, {"kB", 1000}, {"B", 1}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(v), u.m
			break
		}
	}
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil || n <= 0 {
		return 0, fmt.Errorf("--size %q: want a size such as 5MiB", s)
	}
	return n * mult, nil
}

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, err := parseLoad(args, getenv, stderr)
	if err != nil {
		return err
	}
	sched, err := loadSchedule(cfg)
	if err != nil {
		return err
	}
	var ths []loadtest.Threshold
	for _, s := range cfg.Thresholds {
		t, err := loadtest.ParseThreshold(s)
		if err != nil {
			return err
		}
		ths = append(ths, t)
	}
	mix, err := loadtest.ParseMix(cfg.Flows)
	if err != nil {
		return err
	}
	size, err := parseSize(cfg.LargeSize)
	if err != nil {
		return err
	}
	onlyGet := len(mix) == 1 && mix[loadtest.FlowGet] > 0
	var targets []string
	if !onlyGet {
		targets = append(targets, cfg.IPURL)
	}
	if cfg.IP2URL != "" {
		targets = append(targets, cfg.IP2URL)
	}
	if cfg.URL != "" {
		targets = append(targets, cfg.URL)
	}
	if !cfg.AllowRemote {
		for _, t := range targets {
			if err := loadtest.CheckLoopback(t); err != nil {
				return err
			}
		}
	}
	hc := loadtest.NewHTTPClient(cfg.MaxVUs, cfg.Timeout)
	user, pw, _ := strings.Cut(cfg.IPAuth, ":")
	ip := &loadtest.Client{BaseURL: strings.TrimSuffix(cfg.IPURL, "/"), User: user, Password: pw, HTTP: hc}
	var ip2 *loadtest.Client
	if cfg.IP2URL != "" {
		ip2 = &loadtest.Client{BaseURL: strings.TrimSuffix(cfg.IP2URL, "/"), User: user, Password: pw, HTTP: hc}
	}
	info := targetInfo{name: cfg.URL, mode: "n/a (a single endpoint)"}
	if !onlyGet {
		if info, err = ipInfo(ctx, ip); err != nil {
			return fmt.Errorf("the integration point at %s does not answer: %w (is `efm-harness up` running?)", cfg.IPURL, err)
		}
	}
	// DPO's LEVERT comes when the receiving archive system deletes the message: wait for it only when
	// this run is that archive system (the receive flow).
	fcfg := loadtest.FlowConfig{IP: ip, IP2: ip2, LargeSize: size, DPOLevert: mix[loadtest.FlowReceive] > 0, URL: cfg.URL}
	var flows []loadtest.Weighted
	for _, name := range loadtest.SortedNames(mix) {
		f, err := loadtest.NewFlow(name, fcfg)
		if err != nil {
			return err
		}
		flows = append(flows, loadtest.Weighted{Flow: f, Weight: mix[name]})
	}
	mode := cfg.Mode
	if mode == "" {
		mode = info.mode
	}
	opts := loadtest.Options{Schedule: sched, Flows: flows, MaxVUs: cfg.MaxVUs, GracefulStop: cfg.GracefulStop, Drain: cfg.Drain, Seed: cfg.Seed,
		ControlURL: cfg.ControlURL, AdminAuth: cfg.AdminAuth}
	if !cfg.Quiet {
		opts.Live = stderr
	}
	sendsMessages := len(mix) > 1 || (mix[loadtest.FlowReceive] == 0 && !onlyGet)
	if !cfg.NoWebhooks && (sendsMessages || ip2 != nil) {
		tr, err := loadtest.NewTracker(ctx, ip, loadtest.TrackerOptions{Listen: cfg.WebhookListen, Advertise: cfg.Webhook,
			KeepSent: mix[loadtest.FlowReceive] > 0 || cfg.ControlURL != ""})
		if err != nil {
			return err
		}
		defer tr.Close()
		opts.Tracker = tr
	}
	if !cfg.NoSample {
		roles := map[string]string{}
		metrics := map[string]string{}
		if !onlyGet {
			roles["ip"] = cfg.IPURL
			metrics["ip"] = ip.BaseURL + "/manage/prometheus"
		}
		if cfg.URL != "" {
			roles["target"] = cfg.URL
		}
		if cfg.IP2URL != "" {
			roles["ip2"] = cfg.IP2URL
			metrics["ip2"] = strings.TrimRight(cfg.IP2URL, "/") + "/manage/prometheus"
		}
		if cfg.ControlURL != "" && !onlyGet {
			// The simulators' process (the same as the integration point's under `up`; its own under `sim`).
			roles["simulators"] = cfg.ControlURL
			metrics["simulators"] = strings.TrimRight(cfg.ControlURL, "/") + "/metrics"
		}
		if sm, err := loadtest.NewSampler(roles, metrics); err != nil {
			fmt.Fprintf(stderr, "resources: not sampled: %v\n", err)
		} else {
			opts.Sampler = sm
		}
	}
	fmt.Fprintf(stderr, "load: %s at %s, %s (crypto: %s), up to %d VUs\n", strings.Join(loadtest.SortedNames(mix), ","), targets[0], sched, mode, cfg.MaxVUs)
	res, err := loadtest.Run(ctx, opts)
	if err != nil {
		return err
	}
	target := cfg.IPURL
	if onlyGet {
		target = cfg.URL
	}
	res.Meta = map[string]string{"target": target, "mode": mode, "machine": machine(), "ip": info.name}
	interrupted := ctx.Err() != nil
	if interrupted {
		res.Notes = append(res.Notes, "interrupted: the run ended early, so its numbers cover only part of the schedule")
	}
	passed := loadtest.Evaluate(res, ths)
	fmt.Fprintln(stdout)
	loadtest.WriteSummary(stdout, res)
	if cfg.Out != "" {
		if err := loadtest.WriteJSON(cfg.Out, res); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nresults: %s\n", cfg.Out)
	}
	if cfg.HTML != "" {
		if dir := filepath.Dir(cfg.HTML); dir != "." {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
		if err := loadtest.WriteHTML(cfg.HTML, res); err != nil {
			return err
		}
		abs, _ := filepath.Abs(cfg.HTML)
		fmt.Fprintf(stdout, "report: file://%s\n", abs)
	}
	if interrupted {
		return &exitError{code: exitInterrupted, err: errors.New("interrupted")}
	}
	if !passed {
		var failed []string
		for _, t := range res.Thresholds {
			if !t.Passed {
				failed = append(failed, fmt.Sprintf("%s (actual %s)", t.Threshold, t.Actual))
			}
		}
		return &exitError{code: exitThresholds, err: fmt.Errorf("thresholds failed: %s", strings.Join(failed, "; "))}
	}
	return nil
}

func loadSchedule(cfg loadConfig) (loadtest.Schedule, error) {
	if len(cfg.Stages) > 0 {
		start, err := loadtest.ParseRate(cfg.StartRate)
		if err != nil {
			return loadtest.Schedule{}, err
		}
		s := loadtest.Schedule{Start: start}
		for _, raw := range cfg.Stages {
			st, err := loadtest.ParseStage(raw)
			if err != nil {
				return loadtest.Schedule{}, err
			}
			s.Stages = append(s.Stages, st)
		}
		return s, s.Validate()
	}
	r, err := loadtest.ParseRate(cfg.Rate)
	if err != nil {
		return loadtest.Schedule{}, err
	}
	if cfg.Duration <= 0 {
		return loadtest.Schedule{}, errors.New("--duration must be positive")
	}
	s := loadtest.Constant(r, cfg.Duration)
	return s, s.Validate()
}

type targetInfo struct{ name, mode string }

// ipInfo reads /manage/info: the integration point's name and, for ours, its crypto mode.
func ipInfo(ctx context.Context, c *loadtest.Client) (targetInfo, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, raw, err := c.Do(cctx, http.MethodGet, "/manage/info", nil, nil)
	if err != nil {
		return targetInfo{}, err
	}
	var info struct {
		Build struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"build"`
		Harness struct {
			Crypto string `json:"crypto"`
		} `json:"efm-harness"`
	}
	_ = json.Unmarshal(raw, &info)
	t := targetInfo{name: strings.TrimSpace(info.Build.Name + " " + info.Build.Version), mode: info.Harness.Crypto}
	if t.mode == "" {
		t.mode = "full (assumed: the integration point does not say)"
	}
	return t, nil
}

// machine describes this machine for reports.
func machine() string {
	cpu := ""
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return strings.TrimSpace(fmt.Sprintf("%s/%s, %d CPUs %s, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpu, runtime.Version()))
}

// runEcho serves a bare Go HTTP handler (200 "ok") on --listen: the baseline next to which `make bench`
// puts the address register and the load generator's own ceiling.
func runEcho(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("echo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:9199", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok"))
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Fprintf(stderr, "echo: serving http://%s\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
