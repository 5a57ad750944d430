package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/efm-harness/efm-harness/features"
	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/stack"
	"github.com/efm-harness/efm-harness/steps"
	"github.com/efm-harness/efm-harness/steps/report"
)

// testConfig is the configuration of `efm-harness test`.
type testConfig struct {
	SRURL, MaskinportenURL, ControlURL            string
	IPURL, IP2URL, DPOURL, DPVURL, DPFURL, DPIURL string
	IPAuth, AdminAuth                             string
	SimHost                                       string
	PortBase                                      int
	IPRestartCmd                                  string
	CallbackHost                                  string
	Tags                                          string
	Format                                        string
	Reports                                       string
	Seed                                          int64
	Timeout                                       time.Duration
	Paths                                         []string
}

func loadTest(args []string, getenv func(string) string, out io.Writer) (testConfig, error) {
	e := env(getenv)
	var cfg testConfig
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&cfg.SRURL, "sr-url", e.str("SR_URL", ""), "address register under test (EFM_SR_URL)")
	fs.StringVar(&cfg.MaskinportenURL, "maskinporten-url", e.str("MASKINPORTEN_URL", ""), "Maskinporten under test (EFM_MASKINPORTEN_URL)")
	fs.StringVar(&cfg.ControlURL, "control-url", e.str("CONTROL_URL", ""), "harness control port of that stack (EFM_CONTROL_URL)")
	fs.StringVar(&cfg.SimHost, "sim-host", e.str("SIM_HOST", ""),
		"host of a running `efm-harness sim` (or up): fills every simulator URL and --control-url not given, at the ports of --port-base (EFM_SIM_HOST)")
	base, err := e.integer("PORT_BASE", stack.DefaultPortBase)
	if err != nil {
		return cfg, err
	}
	fs.IntVar(&cfg.PortBase, "port-base", base, "port base of --sim-host (EFM_PORT_BASE)")
	fs.StringVar(&cfg.IPURL, "ip-url", e.str("IP_URL", ""), "integration point under test, ours or a real one (EFM_IP_URL)")
	fs.StringVar(&cfg.DPOURL, "dpo-url", e.str("DPO_URL", ""), "DPO broker simulator of that stack (EFM_DPO_URL)")
	fs.StringVar(&cfg.DPVURL, "dpv-url", e.str("DPV_URL", ""), "DPV correspondence simulator of that stack (EFM_DPV_URL)")
	fs.StringVar(&cfg.DPFURL, "dpf-url", e.str("DPF_URL", ""), "DPF SvarUt/SvarInn simulator of that stack (EFM_DPF_URL)")
	fs.StringVar(&cfg.AdminAuth, "admin-auth", e.str("ADMIN_AUTH", ""), "user:password when the harness's admin API under test is protected (EFM_ADMIN_AUTH)")
	fs.StringVar(&cfg.IPAuth, "ip-auth", e.str("IP_AUTH", ""), "user:password when the integration points under test require HTTP Basic authentication (EFM_IP_AUTH)")
	fs.StringVar(&cfg.DPIURL, "dpi-url", e.str("DPI_URL", ""), "DPI corner-2/KRR simulator of that stack (EFM_DPI_URL)")
	fs.StringVar(&cfg.IPRestartCmd, "ip-restart-cmd", e.str("IP_RESTART_CMD", ""),
		`shell command that kills the integration point under test at once and starts it again on the same data, e.g. "docker kill ip && docker start ip"; enables the @crash scenarios (EFM_IP_RESTART_CMD)`)
	fs.StringVar(&cfg.CallbackHost, "callback-host", e.str("CALLBACK_HOST", ""),
		"host name by which the integration points under test reach this machine for the scenarios' webhooks, e.g. host.docker.internal for a compose stack; the endpoints then listen on every interface (EFM_CALLBACK_HOST)")
	fs.StringVar(&cfg.IP2URL, "ip2-url", e.str("IP2_URL", ""), "a second integration point, receiving what the first sends (EFM_IP2_URL)")
	fs.StringVar(&cfg.Tags, "tags", e.str("TAGS", ""), `run scenarios matching a tag expression, e.g. "@routing && ~@slow" (EFM_TAGS)`)
	fs.StringVar(&cfg.Format, "format", e.str("FORMAT", "pretty"), "pretty, progress or cucumber on the terminal (EFM_FORMAT)")
	fs.StringVar(&cfg.Reports, "reports", e.str("REPORTS", "reports"), "directory for JUnit XML and cucumber JSON; empty skips (EFM_REPORTS)")
	fs.Int64Var(&cfg.Seed, "seed", -1, "scenario order: -1 random (the seed is printed), 0 file order, N reproduces an order")
	fs.DurationVar(&cfg.Timeout, "timeout", 10*time.Second, "timeout of every request a step makes")
	fs.Usage = func() {
		fmt.Fprintf(out, `Usage: efm-harness test [flags] [feature paths...]

Runs the harness's scenarios (embedded in this binary) against a running stack
given by its URLs, or, without URLs, against a fresh in-process stack. The stack
under test must serve the default test population. Feature paths select files or
directories of the embedded set, e.g. "routing" or "auth/maskinporten.feature".

Scenarios tagged @crash kill the integration point and start it again. Against a
running stack they need --ip-restart-cmd, a shell command (run with sh -c) that
kills it without a graceful shutdown and starts it on the same data directory,
e.g. --ip-restart-cmd 'docker kill ip && docker start ip' or a script that sends
SIGKILL to "efm-harness ip" and starts it again; without it they are skipped.
The in-process stack emulates the crash within its process.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if h := cfg.CallbackHost; h != "" && (strings.ContainsAny(h, "/:@ ") || strings.Contains(h, "..")) {
		return cfg, fmt.Errorf("--callback-host %q: give a bare host name or IPv4 address, such as host.docker.internal", h)
	}
	cfg.Paths = fs.Args()
	if cfg.SimHost != "" {
		ports := stack.Ports(cfg.PortBase)
		fill := func(u *string, service string) {
			if *u == "" {
				*u = fmt.Sprintf("http://%s:%d", cfg.SimHost, ports[service])
			}
		}
		fill(&cfg.SRURL, stack.SR)
		fill(&cfg.MaskinportenURL, stack.Maskinporten)
		fill(&cfg.ControlURL, stack.Control)
		fill(&cfg.DPOURL, stack.DPO)
		fill(&cfg.DPVURL, stack.DPV)
		fill(&cfg.DPFURL, stack.DPF)
		fill(&cfg.DPIURL, stack.DPI)
	}
	given := 0
	for _, u := range []string{cfg.SRURL, cfg.MaskinportenURL, cfg.ControlURL} {
		if u != "" {
			given++
		}
	}
	if given != 0 && given != 3 {
		return cfg, errors.New("give all of --sr-url, --maskinporten-url and --control-url, or none to test an in-process stack")
	}
	return cfg, nil
}

func runTest(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, err := loadTest(args, getenv, stderr)
	if err != nil {
		return err
	}
	sc := steps.Config{SRURL: cfg.SRURL, MaskinportenURL: cfg.MaskinportenURL, ControlURL: cfg.ControlURL,
		IPURL: cfg.IPURL, IP2URL: cfg.IP2URL, DPOURL: cfg.DPOURL, DPVURL: cfg.DPVURL, DPFURL: cfg.DPFURL, DPIURL: cfg.DPIURL, IPAuth: cfg.IPAuth, AdminAuth: cfg.AdminAuth,
		Population: fixtures.Default(), PKI: fixtures.MustLoadPKI(), Timeout: cfg.Timeout,
		CallbackHost: cfg.CallbackHost}
	if cfg.SRURL == "" {
		st, err := stack.Start(ctx, stack.Config{Ports: stack.Ports(0), Fast: true, IPs: 2, LockTimeout: 2 * time.Second})
		if err != nil {
			return err
		}
		defer st.Close()
		sc.SRURL, sc.MaskinportenURL, sc.ControlURL = st.URL(stack.SR), st.URL(stack.Maskinporten), st.ControlURL()
		sc.IPURL, sc.IP2URL, sc.DPOURL, sc.DPVURL = st.URL(stack.IP), st.URL(stack.IP2), st.URL(stack.DPO), st.URL(stack.DPV)
		sc.DPFURL, sc.DPIURL = st.URL(stack.DPF), st.URL(stack.DPI)
		sc.RestartIP = st.RestartIP // an emulated crash (stack.RestartIP)
		fmt.Fprintf(stderr, "testing an in-process stack (control %s)\n", sc.ControlURL)
	}
	sc.ReferenceIP = isReferenceIP(ctx, sc.IPURL, sc.IPAuth)
	if cfg.IPRestartCmd != "" && sc.RestartIP == nil {
		sc.RestartIP = shellRestart(cfg.IPRestartCmd, stderr)
	}
	skipped := map[string]int{} // reason → scenarios; godog runs scenarios one at a time
	sc.OnSkip = func(_, reason string) { skipped[reason]++ }
	format := cfg.Format
	if cfg.Reports != "" {
		if err := os.MkdirAll(cfg.Reports, 0o755); err != nil {
			return err
		}
		format += ",junit:" + filepath.Join(cfg.Reports, "features-junit.xml") + ",cucumber:" + filepath.Join(cfg.Reports, "features-cucumber.json")
	}
	paths := cfg.Paths
	if len(paths) == 0 {
		paths = []string{"."}
	}
	for i, p := range paths {
		paths[i] = strings.TrimPrefix(strings.TrimPrefix(p, "features/"), "./")
	}
	suite := godog.TestSuite{
		Name:                "efm-harness",
		ScenarioInitializer: steps.Initialize(sc),
		Options: &godog.Options{FS: features.FS, Paths: paths, Strict: true, Randomize: cfg.Seed, Tags: cfg.Tags,
			Format: format, Output: stdout, NoColors: getenv("NO_COLOR") != "", DefaultContext: ctx},
	}
	status := suite.Run()
	for _, reason := range slices.Sorted(maps.Keys(skipped)) {
		fmt.Fprintf(stderr, "skipped %d scenarios: %s\n", skipped[reason], reason)
	}
	if cfg.Reports != "" && status != 2 {
		html := filepath.Join(cfg.Reports, "features.html")
		if s, err := report.WriteFile(filepath.Join(cfg.Reports, "features-cucumber.json"), html, "efm-harness scenarios"); err != nil {
			fmt.Fprintf(stderr, "HTML report not written: %v\n", err)
		} else {
			fmt.Fprintf(stderr, "%d scenarios: %d passed, %d failed, %d skipped; report: %s\n", s.Scenarios, s.Passed, s.Failed, s.Skipped, html)
		}
	}
	switch status {
	case 0:
		return nil
	case 2:
		return errors.New("bad feature options or paths")
	}
	return errors.New("some scenarios failed")
}

// shellRestart is a Config.RestartIP that runs command with sh -c (its output to out) and fails when it
// exits non-zero.
func shellRestart(command string, out io.Writer) func(context.Context) error {
	return func(ctx context.Context) error {
		cmd := exec.CommandContext(ctx, "sh", "-c", command)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("--ip-restart-cmd %q: %w", command, err)
		}
		return nil
	}
}

// isReferenceIP reports whether the integration point at url is the harness's own: its /manage/info has
// an efm-harness section, which the real IP's does not. An integration point that does not answer yet is
// asked again for up to 10 s.
func isReferenceIP(ctx context.Context, url, auth string) bool {
	if url == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var resp *http.Response
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(url, "/")+"/manage/info", nil)
		if err != nil {
			return false
		}
		if user, pw, ok := strings.Cut(auth, ":"); ok {
			req.SetBasicAuth(user, pw)
		}
		if resp, err = http.DefaultClient.Do(req); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(500 * time.Millisecond):
		}
	}
	defer resp.Body.Close()
	var info map[string]json.RawMessage
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&info) != nil {
		return false
	}
	_, ok := info["efm-harness"]
	return ok
}
