package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/stack"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadUp(t *testing.T) {
	t.Parallel()
	defaults := stack.Ports(stack.DefaultPortBase)
	with := func(changes map[string]int) map[string]int {
		m := stack.Ports(stack.DefaultPortBase)
		for k, v := range changes {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    upConfig
		wantErr string
	}{
		{name: "defaults", want: upConfig{Host: "127.0.0.1", PortBase: 9090, Ports: defaults, Services: stack.Available(), LogLevel: slog.LevelInfo, DataDir: "efm-data", IPs: 1}},
		{name: "port base from flag", args: []string{"--port-base", "19090"},
			want: upConfig{Host: "127.0.0.1", PortBase: 19090, Ports: stack.Ports(19090), Services: stack.Available(), LogLevel: slog.LevelInfo, DataDir: "efm-data", IPs: 1}},
		{name: "environment fallbacks", env: map[string]string{"EFM_PORT_BASE": "0", "EFM_SR_PORT": "7777", "EFM_FAST": "true", "EFM_SERVICES": "sr", "EFM_LOG_LEVEL": "debug"},
			want: upConfig{Host: "127.0.0.1", PortBase: 0, Ports: func() map[string]int { m := stack.Ports(0); m[stack.SR] = 7777; return m }(),
				Services: []string{"sr"}, Fast: true, LogLevel: slog.LevelDebug, DataDir: "efm-data", IPs: 1}},
		{name: "flag wins over environment", args: []string{"--sr-port", "8888"}, env: map[string]string{"EFM_SR_PORT": "7777"},
			want: upConfig{Host: "127.0.0.1", PortBase: 9090, Ports: with(map[string]int{stack.SR: 8888}), Services: stack.Available(), LogLevel: slog.LevelInfo, DataDir: "efm-data", IPs: 1}},
		{name: "bad environment number", env: map[string]string{"EFM_PORT_BASE": "ninety"}, wantErr: `EFM_PORT_BASE="ninety" is not a number`},
		{name: "bad boolean", env: map[string]string{"EFM_FAST": "maybe"}, wantErr: `EFM_FAST="maybe" is not true or false`},
		{name: "bad log level", args: []string{"--log-level", "loud"}, wantErr: `--log-level "loud"`},
		{name: "stray argument", args: []string{"now"}, wantErr: "up takes no arguments"},
		{name: "port out of range", args: []string{"--sr-port", "70000"}, wantErr: "--sr-port 70000 is out of range"},
		{name: "unknown flag", args: []string{"--colour"}, wantErr: "flag provided but not defined: -colour"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := loadUp(tt.args, envOf(tt.env), io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Command = "up"
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		wantOut string
		wantErr string
	}{
		{name: "version", args: []string{"version"}, wantOut: "efm-harness dev"},
		{name: "help", args: []string{"help"}, wantOut: "Commands:"},
		{name: "no command", wantErr: "no command given"},
		{name: "unknown command", args: []string{"launch"}, wantErr: `unknown command "launch"`},
		{name: "unknown service", args: []string{"up", "--services", "ftp", "--port-base", "0"}, wantErr: `unknown service "ftp"`},
		{name: "test needs all urls", args: []string{"test", "--sr-url", "http://x"}, wantErr: "give all of --sr-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.args, &out, &errOut, envOf(nil))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("output %q lacks %q", out.String(), tt.wantOut)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for a writer goroutine and a reading test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestUpServesUntilCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"up", "--port-base", "0", "--quiet", "--data-dir", t.TempDir()}, &out, io.Discard, envOf(nil))
	}()

	srURL := regexp.MustCompile(`(?m)^sr\s+(http://\S+)`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := srURL.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("up printed no address register URL: %q", out.String())
	}
	resp, err := http.Get(base + "/identifier/910075918/process/urn:no:difi:profile:arkivmelding:administrasjon:ver1.0")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("address register answered %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("up returned %v after cancel", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("up did not stop after its context was cancelled")
	}
	if _, err := http.Get(base + "/jwk"); err == nil {
		t.Error("address register still answers after shutdown")
	}
}

func TestCertsExport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"certs", "--p12", dir, "--password", "pw"}, &out, io.Discard, envOf(nil)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"910077473.p12", "910075918.p12", "truststore.p12"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	if !strings.Contains(out.String(), "difi.move.org.keystore.path=file:"+filepath.Join(dir, "910077473.p12")) {
		t.Errorf("output lacks the keystore properties: %s", out.String())
	}
	err := run(context.Background(), []string{"certs", "--password", ""}, io.Discard, io.Discard, envOf(nil))
	if err == nil || !strings.Contains(err.Error(), "--password must not be empty") {
		t.Errorf("empty password: %v", err)
	}
	if err := run(context.Background(), []string{"certs", "-h"}, io.Discard, io.Discard, envOf(nil)); !errors.Is(err, errHelp) {
		t.Errorf("certs -h: %v", err)
	}
}
