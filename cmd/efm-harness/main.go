// Command efm-harness is the eFormidling test harness: simulated address register, Maskinporten and
// message brokers, and (in later versions) a reference integration point, scenarios and a load generator.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/stack"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `efm-harness: test harness and simulator for eFormidling.

Usage:
  efm-harness <command> [flags]

Commands:
  up        start the simulated services and serve until interrupted
  sim       start the simulators alone (for "ip" or a real Java integration point)
  ip        start the reference integration point alone, using the simulators of "sim"
  test      run the scenarios against a running stack (or an in-process one)
  load      drive messages through an integration point at a fixed rate and report
  bench     measure the stack's ceilings and write reports/bench.md (make bench)
  certs     export the TEST ONLY PKI as PKCS#12 keystores, or regenerate it
  health    exit 0 when URLs answer 2xx (the container image's health check)
  version   print the version
  help      show this help, or "help <command>" for a command's flags

Every flag has an EFM_* environment fallback (for example --port-base and
EFM_PORT_BASE). Run "efm-harness <command> -h" for its flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil && !errors.Is(err, errHelp) {
		fmt.Fprintln(os.Stderr, "efm-harness:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}

// run executes one command; it returns when the command is done or ctx is cancelled.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "up", "sim", "ip":
		return runServe(ctx, cmd, rest, stdout, stderr, getenv)
	case "certs":
		return runCerts(rest, stdout, stderr, getenv)
	case "health":
		return runHealth(ctx, rest, stdout, stderr)
	case "test":
		return runTest(ctx, rest, stdout, stderr, getenv)
	case "load":
		return runLoad(ctx, rest, stdout, stderr, getenv)
	case "bench":
		return runBench(ctx, rest, stdout, stderr)
	case "echo": // a bare handler for benchmarks; not in the usage
		return runEcho(ctx, rest, stderr)
	case "version", "--version", "-version":
		return runVersion(stdout)
	case "help", "-h", "--help", "-help":
		if len(rest) > 0 {
			return run(ctx, []string{rest[0], "-h"}, stdout, stderr, getenv)
		}
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func runServe(ctx context.Context, command string, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, err := loadServe(command, args, getenv, stderr)
	if err != nil {
		return err
	}
	logger := newLogger(stderr, cfg.LogLevel)
	sc := stack.Config{Host: cfg.Host, Ports: cfg.Ports, Services: cfg.Services, Fast: cfg.Fast, Plain: cfg.Plain, RequireAuth: cfg.RequireAuth,
		DataDir: cfg.DataDir, IPs: cfg.IPs, LockTimeout: cfg.LockTimeout, GenerateArkivmeldingReceipts: cfg.Receipts,
		SvarInnInterval: cfg.SvarInnInterval, IPAuth: cfg.IPAuth, AdminAuth: cfg.AdminAuth, IPOrg: cfg.Org, Join: cfg.Join}
	if command == "sim" {
		sc.IPOrg = cfg.IPOrg // the DPF simulator gives that organisation a SvarUt account and a SvarInn user
	}
	if command == "ip" {
		sc.Remote = map[string]string{}
		for _, s := range simServices() {
			sc.Remote[s] = fmt.Sprintf("http://%s:%d", cfg.SimHost, stack.Ports(cfg.PortBase)[s])
		}
	}
	// --sr-url, --dpo-url, …: a service started here advertises its URL, one started elsewhere is
	// reached there.
	for name, u := range cfg.URLs {
		if slices.Contains(cfg.Services, name) {
			if sc.Advertise == nil {
				sc.Advertise = map[string]string{}
			}
			sc.Advertise[name] = u
			continue
		}
		if sc.Remote == nil {
			sc.Remote = map[string]string{}
		}
		sc.Remote[name] = u
	}
	if !cfg.Quiet {
		sc.Logger = logger
	}
	start := time.Now()
	st, err := stack.Start(ctx, sc)
	if err != nil {
		return err
	}
	printServices(stdout, st, time.Since(start))
	if cfg.IPProperties != "" {
		if err := writeIPProperties(st, cfg, stdout); err != nil {
			_ = st.Close()
			return err
		}
	}
	logger.Info("serving; press Ctrl-C to stop")
	<-ctx.Done()
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return st.Shutdown(shutdownCtx)
}

var serviceTitles = map[string]string{
	stack.Control:      "harness control (/__admin/{service}/…)",
	stack.SR:           "address register (ServiceRegistry)",
	stack.Maskinporten: "Maskinporten (token endpoint)",
	stack.DPO:          "DPO: Altinn 3 Broker (/broker/api/v1) + token exchange",
	stack.DPV:          "DPV: Altinn 3 Correspondence (/correspondence/api/v1) + token exchange",
	stack.DPF:          "DPF: KS SvarUt REST (/api/v3/kontoer/…) + SvarInn (/tjenester/svarinn)",
	stack.DPI:          "DPI: corner 2 (/api/v2/dpi/messages/…) + KRR print certificate (/rest/v2/printSertifikat)",
	stack.IP:           "reference integration point (/api/…, /manage/…)",
	stack.IP2:          "second reference integration point",
}

func printServices(w io.Writer, st *stack.Stack, took time.Duration) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "SERVICE\tURL\tWHAT\n")
	for _, s := range st.Services() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, s.URL, serviceTitles[s.Name])
	}
	_ = tw.Flush()
	pop := st.Population()
	fmt.Fprintf(w, "\nstarted in %v. Try:\n  curl %s/identifier/%s/process/urn:no:difi:profile:arkivmelding:administrasjon:ver1.0\n",
		took.Round(time.Millisecond), st.URL(stack.SR), pop.Org(fixtures.RoleReceiver).Orgnr)
	if u := st.URL(stack.IP); u != "" {
		fmt.Fprintf(w, "  curl %s/api/capabilities/%s\n", u, pop.Org(fixtures.RoleReceiver).Orgnr)
	}
	for _, ip := range []string{stack.IP, stack.IP2} {
		if u := st.URL(ip); u != "" {
			fmt.Fprintf(w, "  curl %s/manage/info      # %s sends and receives as organisation %s\n", u, ip, st.IPOrg(ip))
		}
	}
	fmt.Fprintln(w)
}

func runCerts(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, err := loadCerts(args, getenv, stderr)
	if err != nil {
		return err
	}
	var pki *fixtures.PKI
	if cfg.Regenerate {
		pki, err = fixtures.GeneratePKI(fixtures.Subjects(fixtures.Default()), time.Date(time.Now().Year(), 1, 1, 0, 0, 0, 0, time.UTC))
	} else {
		pki, err = fixtures.LoadPKI()
	}
	if err != nil {
		return err
	}
	if cfg.Out != "" {
		if err := fixtures.WritePKI(pki, cfg.Out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote the TEST ONLY PKI (%d credentials and the CA) to %s\n", len(pki.Names()), cfg.Out)
		if cfg.Regenerate {
			fmt.Fprintln(stdout, "rebuild the binary for the embedded copy to change (the PEM files under fixtures/pki are embedded)")
		}
	}
	if cfg.P12 == "" {
		return nil
	}
	files, err := fixtures.ExportPKCS12(pki, cfg.P12, cfg.Password)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %d PKCS#12 files to %s (password %q; TEST ONLY):\n", len(files), cfg.P12, cfg.Password)
	for _, f := range files {
		fmt.Fprintf(stdout, "  %s\n", filepath.Base(f))
	}
	org := fixtures.Default().Org(fixtures.RoleSender).Orgnr
	fmt.Fprintf(stdout, "\nFor a real integration point as %s:\n  difi.move.org.keystore.type=PKCS12\n  difi.move.org.keystore.path=file:%s\n  difi.move.org.keystore.password=%s\n  difi.move.org.keystore.alias=1\n(the key entry's alias is 1: PKCS#12 key bags written here carry no friendlyName)\n",
		org, filepath.Join(cfg.P12, org+".p12"), cfg.Password)
	return nil
}

func runVersion(w io.Writer) error {
	rev := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 7 {
				rev = " (" + s.Value[:7] + ")"
			}
		}
	}
	fmt.Fprintf(w, "efm-harness %s%s %s %s/%s\n", version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
