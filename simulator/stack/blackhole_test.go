package stack_test

import (
	"context"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/stack"
	"github.com/efm-harness/efm-harness/simulator/stack/stacktest"
)

// TestBlackholeStaysBounded sends a stream to a municipality while SvarUt is blackholed: the goroutines
// the integration point spends on hanging calls stay bounded by its delivery workers however many
// messages wait, every message is delivered once the opening is back, and nothing is left running.
func TestBlackholeStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a blackhole for several upstream timeouts")
	}
	// Not parallel: it counts the process's goroutines.
	ctx := context.Background()
	st, err := stack.Start(ctx, stack.Config{Ports: stack.Ports(0), Fast: true,
		Services: []string{stack.SR, stack.Maskinporten, stack.IP, stack.DPF}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ip := st.URL(stack.IP)
	municipality := fixtures.Default().Org(fixtures.RoleDPF).Orgnr
	client := &http.Client{Timeout: 10 * time.Second}

	// Warm up (tokens, keep-alive connections), then take the baseline.
	waitLevert(t, client, ip, []string{send(t, client, ip, municipality)})
	client.CloseIdleConnections()
	baseline := settle(0)

	if err := st.Admin(stack.DPF).SetFault(ctx, admin.Fault{Mode: admin.ModeBlackhole}); err != nil {
		t.Fatal(err)
	}
	const n = 100
	var ids []string
	for range n {
		ids = append(ids, send(t, client, ip, municipality))
	}
	client.CloseIdleConnections()
	time.Sleep(5 * time.Second) // two upstream timeouts (2 s under --fast): attempts end and are retried
	during := runtime.NumGoroutine()
	// Ten workers, each with one hanging call (its connection's reader and writer, the listener's side):
	// some tens of goroutines. One per waiting message or per timed-out attempt would be hundreds.
	if grown := during - baseline; grown > 80 {
		t.Errorf("goroutines grew by %d (from %d) with %d messages waiting on a blackhole", grown, baseline, n)
	}
	t.Logf("goroutines: %d before, %d during the blackhole with %d messages waiting", baseline, during, n)

	if err := st.Admin(stack.DPF).ClearFault(ctx); err != nil {
		t.Fatal(err)
	}
	waitLevert(t, client, ip, ids)
	client.CloseIdleConnections()
	if after := settle(baseline + 20); after > baseline+20 {
		t.Errorf("goroutines after delivery: %d, baseline %d: something is left running", after, baseline)
	}
}

// settle waits up to 15 s for the goroutine count to come down to at most target and returns it.
func settle(target int) int {
	deadline := time.Now().Add(15 * time.Second)
	for {
		time.Sleep(200 * time.Millisecond)
		n := runtime.NumGoroutine()
		if n <= target || time.Now().After(deadline) || target == 0 {
			return n
		}
	}
}

// send sends one arkivmelding and returns its messageId.
func send(t *testing.T, c *http.Client, ip, receiver string) string {
	t.Helper()
	id, err := stacktest.SendArkivmelding(context.Background(), c, ip, receiver)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// waitLevert waits up to a minute for every message to be LEVERT; FEIL or LEVETID_UTLOPT fail the test.
func waitLevert(t *testing.T, c *http.Client, ip string, ids []string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for _, id := range ids {
		for {
			got, err := stacktest.Statuses(context.Background(), c, ip, id)
			if err == nil && contains(got, "FEIL", "LEVETID_UTLOPT") {
				t.Fatalf("message %s ended as %v", id, got)
			}
			if err == nil && contains(got, "LEVERT") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("message %s not LEVERT within a minute: %v %v", id, got, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

func contains(have []string, any ...string) bool {
	for _, h := range have {
		for _, a := range any {
			if h == a {
				return true
			}
		}
	}
	return false
}
