package stack_test

import (
	"context"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/dpo"
	"github.com/efm-harness/efm-harness/simulator/stack"
	"github.com/efm-harness/efm-harness/simulator/stack/stacktest"
)

// TestRestartIPKeepsItsData: RestartIP crashes the integration point while it fetches DPO messages and
// starts it on the same data directory and port. A message sent before the restart keeps its statuses and
// is delivered, every injected message is taken once, and the temporary data directory is gone after
// Close.
func TestRestartIPKeepsItsData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := stack.Start(ctx, stack.Config{Ports: stack.Ports(0), Fast: true,
		Services: []string{stack.SR, stack.Maskinporten, stack.DPO, stack.DPF, stack.IP}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pop := fixtures.Default()
	ipURL, dir := st.URL(stack.IP), st.IPServer(stack.IP).DataDir()
	client := &http.Client{Timeout: 5 * time.Second}
	sent, err := stacktest.SendArkivmelding(ctx, client, ipURL, pop.Org(fixtures.RoleDPF).Orgnr)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for range 20 {
		var out dpo.InjectResult
		if err := st.Admin(stack.DPO).Inject(ctx, dpo.InjectRequest{Sender: pop.Org(fixtures.RoleReceiver).Orgnr,
			Receiver: st.IPOrg(stack.IP), Type: "arkivmelding"}, &out); err != nil {
			t.Fatal(err)
		}
		want[out.MessageID] = true
	}
	before := st.IPServer(stack.IP)
	if err := st.RestartIP(ctx); err != nil {
		t.Fatal(err)
	}
	if after := st.IPServer(stack.IP); after == before || after.DataDir() != dir || st.URL(stack.IP) != ipURL {
		t.Fatalf("after the restart: a new server %v, data directory %s (want %s), URL %s (want %s)",
			after != before, after.DataDir(), dir, st.URL(stack.IP), ipURL)
	}
	taken := map[string]int{}
	for deadline := time.Now().Add(15 * time.Second); len(taken) < len(want) && time.Now().Before(deadline); {
		m, ok, err := stacktest.TakeIncoming(ctx, client, ipURL)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		taken[m.MessageID]++
	}
	for id := range want {
		if taken[id] != 1 {
			t.Errorf("injected message %s taken %d times, want once", id, taken[id])
		}
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		got, err := stacktest.Statuses(ctx, client, ipURL, sent)
		if err == nil && slices.Contains(got, "LEVERT") {
			if got[0] != "OPPRETTET" {
				t.Errorf("statuses of the message sent before the restart: %v, want OPPRETTET first", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the message sent before the restart did not reach LEVERT: %v %v", got, err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the stack's temporary data directory %s is left after Close: %v", dir, err)
	}
}
