package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/stack"
	"github.com/efm-harness/efm-harness/simulator/stack/stacktest"
)

// TestCrashLosesNothing runs `efm-harness sim` and `efm-harness ip` as separate processes, sends a
// stream of arkivmeldinger to a municipality (DPF), kills the integration point with SIGKILL in the
// middle of it and starts it again on the same data directory: every message whose send was answered
// 200 reaches LEVERT and SvarUt holds it exactly once; no message is held twice.
func TestCrashLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs processes")
	}
	dir := t.TempDir()
	base := freeBase(t)
	ports := stack.Ports(base)
	start := starter(t, buildHarness(t, dir), base)
	sim := start("sim")
	t.Cleanup(func() { _ = sim.Process.Signal(syscall.SIGTERM); _ = sim.Wait() })
	data := filepath.Join(dir, "ip-data")
	ip := start("ip", "--data-dir", data)
	ipURL := fmt.Sprintf("http://127.0.0.1:%d", ports[stack.IP])
	waitUp(t, ipURL+"/manage/health")

	municipality := fixtures.Default().Org(fixtures.RoleDPF).Orgnr
	client := &http.Client{Timeout: 5 * time.Second}
	var mu sync.Mutex
	var accepted []string
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 40 && ctx.Err() == nil; i++ {
			if id, ok := sendOne(ctx, client, ipURL, municipality); ok {
				mu.Lock()
				accepted = append(accepted, id)
				mu.Unlock()
			}
			time.Sleep(25 * time.Millisecond)
		}
	}()
	time.Sleep(400 * time.Millisecond)
	if err := ip.Process.Kill(); err != nil { // SIGKILL: no shutdown, no flush
		t.Fatal(err)
	}
	_ = ip.Wait()
	time.Sleep(200 * time.Millisecond)
	ip = start("ip", "--data-dir", data)
	t.Cleanup(func() { _ = ip.Process.Signal(syscall.SIGTERM); _ = ip.Wait() })
	waitUp(t, ipURL+"/manage/health")
	<-done
	mu.Lock()
	ids := append([]string(nil), accepted...)
	mu.Unlock()
	if len(ids) < 10 {
		t.Fatalf("only %d messages were accepted; the stream did not run", len(ids))
	}
	for _, id := range ids {
		waitStatus(t, client, ipURL, id, "LEVERT")
	}
	control := fmt.Sprintf("http://127.0.0.1:%d/__admin/dpf/messages?kind=svarut", ports[stack.Control])
	resp, err := client.Get(control)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Forsendelser []struct {
			EksternRef string `json:"eksternReferanse"`
		} `json:"forsendelser"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	held := map[string]int{}
	for _, f := range list.Forsendelser {
		held[f.EksternRef]++
	}
	for _, id := range ids {
		if held[id] != 1 {
			t.Errorf("message %s accepted before or after the crash is held %d times at SvarUt, want once", id, held[id])
		}
	}
	for id, n := range held {
		if n > 1 {
			t.Errorf("message %s is held %d times", id, n)
		}
	}
	t.Logf("%d messages accepted around a SIGKILL, each delivered once", len(ids))
}

// buildHarness builds the binary into dir and returns its path.
func buildHarness(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "efm-harness")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// starter returns a function that starts a command of bin (sim, ip) on the port base in fast mode.
func starter(t *testing.T, bin string, base int) func(args ...string) *exec.Cmd {
	return func(args ...string) *exec.Cmd {
		t.Helper()
		cmd := exec.Command(bin, append(args, "--port-base", fmt.Sprint(base), "--fast", "--quiet")...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
}

// sendOne sends one arkivmelding; ok is true when every request was answered 2xx.
func sendOne(ctx context.Context, c *http.Client, ipURL, receiver string) (string, bool) {
	id, err := stacktest.SendArkivmelding(ctx, c, ipURL, receiver)
	return id, err == nil
}

func waitStatus(t *testing.T, c *http.Client, ipURL, id, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		got, err := stacktest.Statuses(context.Background(), c, ipURL, id)
		if err == nil {
			for _, s := range got {
				if s == "FEIL" || s == "LEVETID_UTLOPT" {
					t.Fatalf("message %s ended as %s", id, s)
				}
				if s == want {
					return
				}
			}
			last = strings.Join(got, ", ")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("message %s did not reach %s: %s", id, want, last)
}

func waitUp(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not come up", url)
}

// freeBase picks a port base whose service ports are all free now.
func freeBase(t *testing.T) int {
	t.Helper()
	for range 50 {
		base := 20000 + rand.IntN(40000)
		free := true
		for _, p := range stack.Ports(base) {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				free = false
				break
			}
			l.Close()
		}
		if free {
			return base
		}
	}
	t.Fatal("no free port base")
	return 0
}
