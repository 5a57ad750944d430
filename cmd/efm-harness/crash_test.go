package main

import (
	"bytes"
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
	"github.com/efm-harness/efm-harness/simulator/sample"
	"github.com/efm-harness/efm-harness/simulator/stack"
	"github.com/efm-harness/efm-harness/simulator/wire"
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
	bin := filepath.Join(dir, "efm-harness")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	base := freeBase(t)
	ports := stack.Ports(base)
	start := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, append(args, "--port-base", fmt.Sprint(base), "--fast", "--quiet")...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
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

// sendOne creates, uploads and sends one arkivmelding; ok is true when the send was answered 200.
func sendOne(ctx context.Context, c *http.Client, ipURL, receiver string) (string, bool) {
	sbd := fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{Receiver: receiver})
	body, _ := json.Marshal(sbd)
	do := func(method, path, ctype, disposition string, b []byte) (int, error) {
		req, err := http.NewRequestWithContext(ctx, method, ipURL+path, bytes.NewReader(b))
		if err != nil {
			return 0, err
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if disposition != "" {
			req.Header.Set("Content-Disposition", disposition)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	id := sbd.MessageID()
	am, _ := sample.BuildArkivmelding(sample.ArkivmeldingSpec{Documents: []sample.Document{{Filename: "brev.pdf", Primary: true}}})
	for _, step := range []func() (int, error){
		func() (int, error) { return do(http.MethodPost, "/api/messages/out", "application/json", "", body) },
		func() (int, error) {
			return do(http.MethodPut, "/api/messages/out/"+id, "text/xml", `attachment; name="am"; filename="arkivmelding.xml"`, am)
		},
		func() (int, error) {
			return do(http.MethodPut, "/api/messages/out/"+id, "application/pdf", `attachment; name="Brev"; filename="brev.pdf"`, sample.PDF("brev"))
		},
		func() (int, error) { return do(http.MethodPost, "/api/messages/out/"+id, "", "", nil) },
	} {
		if status, err := step(); err != nil || status != http.StatusOK {
			return id, false
		}
	}
	return id, true
}

func waitStatus(t *testing.T, c *http.Client, ipURL, id, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		resp, err := c.Get(ipURL + "/api/statuses/" + id)
		if err == nil {
			var page struct {
				Content []struct {
					Status string `json:"status"`
				} `json:"content"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			var got []string
			for _, s := range page.Content {
				got = append(got, s.Status)
				if s.Status == "FEIL" || s.Status == "LEVETID_UTLOPT" {
					t.Fatalf("message %s ended as %s", id, s.Status)
				}
				if s.Status == want {
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
