package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/efm-harness/efm-harness/simulator/stack"
)

// errHelp is returned when the user asked for help; it is not a failure.
var errHelp = flag.ErrHelp

// upConfig is the configuration of `efm-harness up`.
type upConfig struct {
	Host        string
	PortBase    int
	Ports       map[string]int
	Services    []string
	Fast        bool
	Plain       bool
	RequireAuth bool
	LogLevel    slog.Level
	Quiet       bool
	DataDir     string
	IPs         int
	LockTimeout time.Duration
	// SvarInnInterval is how often the integration points poll SvarInn.
	SvarInnInterval time.Duration
	Receipts        bool

	// IPAuth is "user:password" for HTTP Basic authentication on the integration points' API; AdminAuth
	// the same for the admin API and the control port.
	IPAuth    string
	AdminAuth string
	// Command is up, sim or ip.
	Command string
	// SimHost is where `ip` finds the simulators (on the default ports of PortBase).
	SimHost string
	// IPProperties and Keystore, for `sim`: write an integrasjonspunkt-local.properties and PKCS#12
	// keystores that point a real Java integration point of organisation IPOrg at the simulators.
	IPProperties string
	Keystore     string
	IPOrg        string
	// URLs are the base URLs by which the other services reach each simulator (--sr-url, --dpo-url, …;
	// EFM_SR_URL, …), for a stack split over several hosts such as one container per service. A simulator
	// started here advertises its own (Maskinporten's issuer, DPF's download URLs); one started elsewhere is
	// reached there (for ip, instead of --sim-host). Nil when none is given.
	URLs map[string]string
	// Join are control URLs of other efm-harness processes whose services the control port also serves.
	Join []string
	// Org is the organisation the reference integration point sends and receives as (ip and up --org;
	// the population's sender when empty).
	Org string
}

// simServices are the services `efm-harness sim` starts: every simulator, no integration point.
func simServices() []string {
	var out []string
	for _, s := range stack.Available() {
		if s != stack.IP {
			out = append(out, s)
		}
	}
	return out
}

// env reads EFM_<NAME>, so that every flag has an environment fallback.
type env func(string) string

func (e env) str(name, def string) string {
	if v := e("EFM_" + name); v != "" {
		return v
	}
	return def
}

func (e env) integer(name string, def int) (int, error) {
	v := e("EFM_" + name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("EFM_%s=%q is not a number", name, v)
	}
	return n, nil
}

func (e env) duration(name string, def time.Duration) (time.Duration, error) {
	v := e("EFM_" + name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("EFM_%s=%q is not a duration such as 90s", name, v)
	}
	return d, nil
}

func (e env) boolean(name string, def bool) (bool, error) {
	v := e("EFM_" + name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("EFM_%s=%q is not true or false", name, v)
	}
	return b, nil
}

// portFlag names the flag and environment variable of each service's port.
var portFlag = map[string]string{
	stack.Control: "control-port", stack.IP: "ip-port", stack.IP2: "ip2-port", stack.SR: "sr-port", stack.Maskinporten: "maskinporten-port",
	stack.DPO: "dpo-port", stack.DPV: "dpv-port", stack.DPF: "dpf-port", stack.DPI: "dpi-port",
}

func envName(flagName string) string { return strings.ToUpper(strings.ReplaceAll(flagName, "-", "_")) }

// loadUp parses the flags of `up` with EFM_* environment fallbacks. Flags win over the environment.
func loadUp(args []string, getenv func(string) string, out io.Writer) (upConfig, error) {
	return loadServe("up", args, getenv, out)
}

// loadServe parses the flags of up, sim (the simulators alone) or ip (the reference integration point
// alone, using the simulators of a `sim` on --sim-host).
func loadServe(command string, args []string, getenv func(string) string, out io.Writer) (upConfig, error) {
	e := env(getenv)
	var errs []error
	must := func(v int, err error) int { errs = append(errs, err); return v }
	mustB := func(v bool, err error) bool { errs = append(errs, err); return v }
	mustD := func(v time.Duration, err error) time.Duration { errs = append(errs, err); return v }

	cfg := upConfig{Ports: map[string]int{}, Command: command}
	defaultServices := stack.Available()
	switch command {
	case "sim":
		defaultServices = simServices()
		fs0 := e.str("IP_PROPERTIES", "")
		cfg.IPProperties, cfg.Keystore, cfg.IPOrg = fs0, e.str("KEYSTORE", "keystores"), e.str("IP_ORG", "910077473")
	case "ip":
		defaultServices = []string{stack.IP}
	}
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&cfg.Host, "host", e.str("HOST", "127.0.0.1"), "address to listen on (EFM_HOST); 0.0.0.0 listens on every interface")
	fs.IntVar(&cfg.PortBase, "port-base", must(e.integer("PORT_BASE", stack.DefaultPortBase)),
		"control port; the other default ports are fixed offsets from it, 0 picks free ports (EFM_PORT_BASE)")
	portVals := map[string]*int{}
	for name, fl := range portFlag {
		portVals[name] = fs.Int(fl, must(e.integer(envName(fl), -1)), fmt.Sprintf("port of %s, overriding --port-base (EFM_%s)", name, envName(fl)))
	}
	switch command {
	case "sim":
		fs.StringVar(&cfg.IPProperties, "ip-properties", cfg.IPProperties,
			"write an integrasjonspunkt-local.properties here that points a real Java integration point at these simulators (EFM_IP_PROPERTIES)")
		fs.StringVar(&cfg.Keystore, "keystore", cfg.Keystore, "with --ip-properties: export the TEST ONLY PKCS#12 keystores here (EFM_KEYSTORE)")
		fs.StringVar(&cfg.IPOrg, "ip-org", cfg.IPOrg, "the organisation of the integration point that uses these simulators: --ip-properties writes its properties, and the DPF simulator gives it a SvarUt account and a SvarInn user (EFM_IP_ORG)")
	case "ip", "up":
		fs.StringVar(&cfg.IPAuth, "auth", e.str("AUTH", ""),
			"user:password: the integration points' API requires HTTP Basic authentication, as the real IP with difi.security.enable (EFM_AUTH)")
		fs.StringVar(&cfg.Org, "org", e.str("ORG", ""),
			"organisation number the reference integration point sends and receives as; empty is the test population's sender, 910077473 (EFM_ORG)")
	}
	urlVals := map[string]*string{}
	for _, name := range simServices() {
		fl := name + "-url"
		urlVals[name] = fs.String(fl, e.str(envName(fl), ""), fmt.Sprintf(
			"base URL by which the other services reach %s, e.g. http://%s:%d in a container network: advertised when it runs here, used when it runs elsewhere (EFM_%s)",
			name, name, stack.Ports(stack.DefaultPortBase)[name], envName(fl)))
	}
	join := fs.String("join", e.str("JOIN", ""),
		"comma-separated control URLs of other efm-harness processes (e.g. http://dpo:9090 in a container network) whose services this control port also serves under /__admin/{service} (EFM_JOIN)")
	fs.StringVar(&cfg.AdminAuth, "admin-auth", e.str("ADMIN_AUTH", ""),
		"user:password: the admin API (/__admin on every port, and the control port) requires HTTP Basic authentication (EFM_ADMIN_AUTH)")
	switch command {
	case "ip":
		fs.StringVar(&cfg.SimHost, "sim-host", e.str("SIM_HOST", "127.0.0.1"),
			"host where `efm-harness sim` serves the simulators, on the ports of --port-base; --sr-url, --dpo-url, … name a host per service (EFM_SIM_HOST)")
	}
	services := fs.String("services", e.str("SERVICES", strings.Join(defaultServices, ",")),
		"comma-separated services to start (EFM_SERVICES); available: "+strings.Join(stack.Available(), ", "))
	fs.StringVar(services, "only", *services, "the same as --services, e.g. \"sim --only dpo\" for a container of its own")
	fs.BoolVar(&cfg.Fast, "fast", mustB(e.boolean("FAST", false)), "scale every interval to milliseconds, for tests (EFM_FAST)")
	if command != "sim" {
		fs.BoolVar(&cfg.Plain, "plain", mustB(e.boolean("PLAIN", false)),
			"DPO without signature or encryption, only to load-test the delivery core; `efm-harness load` reports it (EFM_PLAIN)")
	}
	fs.BoolVar(&cfg.RequireAuth, "require-auth", mustB(e.boolean("REQUIRE_AUTH", false)),
		"make the address register demand Maskinporten tokens like the real one (EFM_REQUIRE_AUTH)")
	level := fs.String("log-level", e.str("LOG_LEVEL", "info"), "debug, info, warn or error (EFM_LOG_LEVEL)")
	fs.IntVar(&cfg.IPs, "ips", must(e.integer("IPS", 1)),
		"reference integration points to start: 1, or 2 for a second one (ip2, port-base+5) as the receiving organisation (EFM_IPS)")
	fs.DurationVar(&cfg.LockTimeout, "lock-timeout", mustD(e.duration("LOCK_TIMEOUT", 0)),
		"how long a peek locks an incoming message; 0 means 5m, or 1m with --fast (EFM_LOCK_TIMEOUT)")
	fs.DurationVar(&cfg.SvarInnInterval, "svarinn-interval", mustD(e.duration("SVARINN_INTERVAL", 0)),
		"how often the integration points fetch from SvarInn; 0 means 15s as the real IP's dev profile (its base default is 15m), or 0.9s with --fast (EFM_SVARINN_INTERVAL)")
	fs.BoolVar(&cfg.Receipts, "generate-arkivmelding-receipts", mustB(e.boolean("GENERATE_ARKIVMELDING_RECEIPTS", false)),
		"synthesise an incoming arkivmelding_kvittering OK when a DPV arkivmelding is delivered or a DPF one read, as the real IP's base profile does (EFM_GENERATE_ARKIVMELDING_RECEIPTS)")
	fs.StringVar(&cfg.DataDir, "data-dir", e.str("DATA_DIR", "efm-data"),
		"where the reference integration point keeps its database and files; empty uses a temporary directory (EFM_DATA_DIR)")
	fs.BoolVar(&cfg.Quiet, "quiet", mustB(e.boolean("QUIET", false)), "do not log every request (EFM_QUIET)")
	fs.Usage = func() {
		switch command {
		case "sim":
			fmt.Fprintf(out, "Usage: efm-harness sim [flags]\n\nStarts the simulators (no integration point) and serves until interrupted; a\nreference integration point (efm-harness ip) or a real Java one uses them.\n\nFlags:\n")
		case "ip":
			fmt.Fprintf(out, "Usage: efm-harness ip [flags]\n\nStarts the reference integration point alone, using the simulators of an\n`efm-harness sim` on --sim-host, and serves until interrupted. Kill it and start\nit again on the same --data-dir: what was accepted is delivered once.\n\nFlags:\n")
		default:
			fmt.Fprintf(out, "Usage: efm-harness up [flags]\n\nStarts the simulated eFormidling services in this process and serves until\ninterrupted (Ctrl-C).\n\nFlags:\n")
		}
		fs.PrintDefaults()
	}
	if err := errors.Join(errs...); err != nil {
		return cfg, err
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("%s takes no arguments, got %q", command, fs.Args())
	}
	for _, u := range strings.Split(*join, ",") {
		if u = strings.TrimSpace(u); u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return cfg, fmt.Errorf("--join %q: give control URLs such as http://dpo:9090", u)
		}
		cfg.Join = append(cfg.Join, u)
	}
	if cfg.AdminAuth != "" {
		if user, _, ok := strings.Cut(cfg.AdminAuth, ":"); !ok || user == "" {
			return cfg, fmt.Errorf("--admin-auth %q: give user:password", cfg.AdminAuth)
		}
	}
	if cfg.IPAuth != "" {
		if user, _, ok := strings.Cut(cfg.IPAuth, ":"); !ok || user == "" {
			return cfg, fmt.Errorf("--auth %q: give user:password", cfg.IPAuth)
		}
	}
	if cfg.IPs < 1 || cfg.IPs > 2 {
		return cfg, fmt.Errorf("--ips %d: start 1 or 2 integration points", cfg.IPs)
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(*level)); err != nil {
		return cfg, fmt.Errorf("--log-level %q: use debug, info, warn or error", *level)
	}
	if cfg.PortBase < 0 || cfg.PortBase > 65535-20 {
		return cfg, fmt.Errorf("--port-base %d is out of range", cfg.PortBase)
	}
	cfg.Ports = stack.Ports(cfg.PortBase)
	if command == "ip" {
		cfg.Ports[stack.Control] = 0 // the simulators' process has the control port
	}
	for name, v := range portVals {
		if *v >= 0 {
			if *v > 65535 {
				return cfg, fmt.Errorf("--%s %d is out of range", portFlag[name], *v)
			}
			cfg.Ports[name] = *v
		}
	}
	if command == "ip" && len(cfg.Join) > 0 && cfg.Ports[stack.Control] == 0 {
		return cfg, fmt.Errorf("--join serves other processes' admin APIs on this process's control port, which ip opens only with --control-port")
	}
	for _, s := range strings.Split(*services, ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.Services = append(cfg.Services, s)
		}
	}
	for name, v := range urlVals {
		if *v == "" {
			continue
		}
		u, err := url.Parse(*v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return cfg, fmt.Errorf("--%s-url %q: give a base URL such as http://%s:%d", name, *v, name, stack.Ports(stack.DefaultPortBase)[name])
		}
		if cfg.URLs == nil {
			cfg.URLs = map[string]string{}
		}
		cfg.URLs[name] = strings.TrimRight(*v, "/")
	}
	return cfg, nil
}

// certsConfig is the configuration of `efm-harness certs`.
type certsConfig struct {
	Regenerate bool
	Out        string
	P12        string
	Password   string
}

func loadCerts(args []string, getenv func(string) string, out io.Writer) (certsConfig, error) {
	e := env(getenv)
	var cfg certsConfig
	fs := flag.NewFlagSet("certs", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.BoolVar(&cfg.Regenerate, "regenerate", false, "issue a new test CA and credentials instead of using the checked-in ones")
	fs.StringVar(&cfg.Out, "out", e.str("CERTS_OUT", ""), "write the PKI as PEM files here (with --regenerate: default fixtures/pki) (EFM_CERTS_OUT)")
	fs.StringVar(&cfg.P12, "p12", e.str("CERTS_P12", "keystores"), "export PKCS#12 keystores and a truststore here; empty skips (EFM_CERTS_P12)")
	fs.StringVar(&cfg.Password, "password", e.str("CERTS_PASSWORD", "changeit"), "password of the exported keystores (EFM_CERTS_PASSWORD)")
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: efm-harness certs [flags]\n\nExports the TEST ONLY PKI as PKCS#12 keystores for a real Java integration\npoint (difi.move.org.keystore.*), or regenerates it.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("certs takes no arguments, got %q", fs.Args())
	}
	if cfg.Regenerate && cfg.Out == "" {
		cfg.Out = "fixtures/pki"
	}
	if cfg.P12 != "" && cfg.Password == "" {
		return cfg, errors.New("--password must not be empty when exporting keystores")
	}
	return cfg, nil
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
