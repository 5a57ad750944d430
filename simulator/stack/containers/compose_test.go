package containers_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/efm-harness/efm-harness/simulator/stack/stacktest"
)

// composeBind is the host address the compose test publishes its ports on: a loopback address of its
// own, so that the documented ports do not collide with a `make run` or another test on 127.0.0.1.
const composeBind = "127.0.0.77"

// composeCommand is the Compose tool: `docker compose` (v2) or docker-compose (v1, as on these machines).
func composeCommand() ([]string, error) {
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("the docker command reaches no engine: %v: %s", err, bytes.TrimSpace(out))
	}
	if err := exec.Command("docker", "compose", "version").Run(); err == nil {
		return []string{"docker", "compose"}, nil
	}
	if p, err := exec.LookPath("docker-compose"); err == nil {
		return []string{p}, nil
	}
	return nil, fmt.Errorf("neither `docker compose` nor docker-compose is installed")
}

// The repository's docker-compose.yml brings up every service healthy, and an arkivmelding sent through
// its integration point reaches SENDT and arrives at the second organisation's. Then the harness's own
// scenarios run against the stack through its published ports and the ip container's control port
// (which joins the others'): those of faults, outages, crashes (docker kill and start of the ip
// container), wrong credentials, hostile input and two integration points (EFM_COMPOSE_TAGS changes the
// selection; "-" skips them).
func TestComposeStackComesUpHealthy(t *testing.T) {
	requireContainers(t)
	compose, err := composeCommand()
	if err != nil {
		if inCI() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	file, err := filepath.Abs(filepath.Join("..", "..", "..", "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	project := "efmtest" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	env := append(harnessFreeEnv(), "EFM_IMAGE="+testImage(), "EFM_BIND="+composeBind, "EFM_FAST=true", "EFM_LOCK_TIMEOUT=2s")
	// run runs a compose command and returns its standard output, with its standard error on failure.
	run := func(ctx context.Context, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, compose[0], append(append(compose[1:], "-p", project, "-f", file), args...)...)
		cmd.Env = env
		cmd.WaitDelay = 5 * time.Second
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			return out.String() + errOut.String(), err
		}
		return out.String(), nil
	}
	removeStaleProjects(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if out, err := run(ctx, "down", "-v", "--remove-orphans", "-t", "2"); err != nil {
			t.Errorf("compose down: %v\n%s", err, out)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	if out, err := run(ctx, "up", "-d"); err != nil {
		t.Fatalf("compose up: %v\n%s", err, out)
	}
	services := []string{"sr", "maskinporten", "dpo", "dpv", "dpf", "dpi", "ip", "ip2"}
	var health map[string]string
	for {
		health = map[string]string{}
		for _, s := range services {
			id, err := run(ctx, "ps", "-q", s)
			if err != nil || strings.TrimSpace(id) == "" {
				health[s] = "no container"
				continue
			}
			out, err := exec.CommandContext(ctx, "docker", "inspect", "--format", "{{.State.Health.Status}}", strings.TrimSpace(id)).Output()
			if err != nil {
				health[s] = err.Error()
				continue
			}
			health[s] = strings.TrimSpace(string(out))
		}
		healthy := !slices.ContainsFunc(services, func(s string) bool { return health[s] != "healthy" })
		if healthy {
			break
		}
		if ctx.Err() != nil || time.Since(start) > 2*time.Minute {
			logs, _ := run(context.Background(), "logs", "--tail", "20")
			t.Fatalf("the compose stack is not healthy: %v\n%s", health, logs)
		}
		time.Sleep(time.Second)
	}
	t.Logf("every service healthy in %v", time.Since(start).Round(time.Millisecond))

	ip, ip2 := "http://"+composeBind+":9093", "http://"+composeBind+":9095"
	client := &http.Client{Timeout: 5 * time.Second}
	id, err := stacktest.SendArkivmelding(ctx, client, ip, "910075918")
	if err != nil {
		t.Fatal(err)
	}
	waitSent(t, func() string { return ip }, []string{id}, time.Minute)
	for {
		m, ok, err := stacktest.TakeIncoming(ctx, client, ip2)
		if err != nil {
			t.Fatal(err)
		}
		if ok && m.MessageID == id {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the second integration point did not receive message %s", id)
		}
		time.Sleep(200 * time.Millisecond)
	}

	tags := os.Getenv("EFM_COMPOSE_TAGS")
	if tags == "" {
		tags = "@resilience,@two-ips"
	}
	if tags == "-" {
		return
	}
	pctx, pcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer pcancel()
	ipID, err := run(pctx, "ps", "-q", "ip")
	ipID = strings.TrimSpace(ipID)
	if err != nil || !isHex(ipID) {
		t.Fatalf("the ip container's id: %q, %v", ipID, err)
	}
	bin := harnessBinary(t)
	budget := 10 * time.Minute
	if d, ok := t.Deadline(); ok && time.Until(d)-3*time.Minute < budget {
		budget = time.Until(d) - 3*time.Minute // leave the cleanup its time
	}
	sctx, scancel := context.WithTimeout(context.Background(), budget)
	defer scancel()
	scenarios := func() (out string, failed []string, err error) {
		cmd := exec.CommandContext(sctx, bin, "test", "--ip-url", ip, "--ip2-url", ip2, "--sim-host", composeBind,
			"--callback-host", "host.docker.internal", "--tags", tags, "--format", "progress", "--reports", t.TempDir(),
			"--ip-restart-cmd", fmt.Sprintf("docker kill %[1]s >/dev/null && docker start %[1]s >/dev/null", ipID))
		cmd.Env = harnessFreeEnv()
		cmd.WaitDelay = 10 * time.Second
		var b bytes.Buffer
		cmd.Stdout, cmd.Stderr = &b, &b
		err = cmd.Run()
		// The failed steps with their errors, which the progress format prints after the dots.
		lines := strings.Split(b.String(), "\n")
		for i, l := range lines {
			if strings.Contains(l, "Scenario") && i+2 < len(lines) && strings.Contains(lines[i+2], "Error:") {
				failed = append(failed, lines[i:i+3]...)
			}
		}
		return b.String(), failed, err
	}
	summary := func(out string) string {
		if i := strings.LastIndex(out, "\n\n"); i >= 0 {
			return out[i:]
		}
		return out
	}
	started := time.Now()
	out, failed, err := scenarios()
	if err != nil && len(failed) > 0 && len(failed) <= 3*2 && sctx.Err() == nil {
		// One or two failed scenarios get one more run of the whole selection; the failures stay in the log.
		t.Logf("FLAKY? the first run against the compose stack failed; running the selection once more. First run:\n%s\n%s",
			strings.Join(failed, "\n"), summary(out))
		out, failed, err = scenarios()
	}
	if err != nil {
		t.Fatalf("efm-harness test --tags %q against the compose stack: %v\n%s\n%s", tags, err, strings.Join(failed, "\n"), summary(out))
	}
	if strings.Contains(out, "skipped ") {
		t.Errorf("scenarios were skipped against the compose stack:\n%s", summary(out))
	}
	t.Logf("scenarios %s against the compose stack passed in %v:%s", tags, time.Since(started).Round(time.Second), summary(out))
}

// harnessBinary is the efm-harness binary the scenarios run from: EFM_BIN (make test passes the one the
// image was built from), else one built here.
func harnessBinary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("EFM_BIN"); b != "" {
		abs, err := filepath.Abs(b)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	bin := filepath.Join(t.TempDir(), "efm-harness")
	cmd := exec.Command("go", "build", "-o", bin, "../../../cmd/efm-harness")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build efm-harness: %v\n%s", err, out)
	}
	return bin
}

// harnessFreeEnv is this process's environment without EFM_ variables, which would otherwise point the
// compose stack or the scenarios elsewhere (EFM_SR_URL, EFM_CONTROL_URL, …).
func harnessFreeEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "EFM_") })
}

// removeStaleProjects takes down the compose projects of earlier runs of this test that a timeout killed
// before their cleanup: they hold its ports.
func removeStaleProjects(t *testing.T) {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-a", "--filter", "label=com.docker.compose.project",
		"--format", `{{.ID}} {{.Label "com.docker.compose.project"}}`).Output()
	if err != nil {
		return
	}
	var stale []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		id, project, ok := strings.Cut(line, " ")
		if ok && strings.HasPrefix(project, "efmtest") {
			stale = append(stale, id)
		}
	}
	if len(stale) > 0 {
		t.Logf("removing %d containers that an earlier run left", len(stale))
		_ = exec.Command("docker", append([]string{"rm", "-f", "-v"}, stale...)...).Run()
	}
}

func isHex(s string) bool {
	return s != "" && strings.Trim(s, "0123456789abcdef") == ""
}
