package containers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/dpo"
	"github.com/efm-harness/efm-harness/simulator/stack"
	"github.com/efm-harness/efm-harness/simulator/stack/containers"
	"github.com/efm-harness/efm-harness/simulator/stack/stacktest"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Bad options are refused before anything is started.
func TestRunRefusesBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []containers.Option
		want error
	}{
		{"unknown service", []containers.Option{containers.WithServices(stack.SR, "dpe")}, containers.ErrUnknownService},
		{"no services", []containers.Option{containers.WithServices()}, containers.ErrOption},
		{"integration point without the register", []containers.Option{containers.WithServices(stack.Maskinporten, stack.DPO, stack.IP)}, containers.ErrOption},
		{"organisation of a simulator", []containers.Option{containers.WithOrganisation(stack.DPO, "910077473")}, containers.ErrOption},
		{"short organisation number", []containers.Option{containers.WithOrganisation(stack.IP, "9100")}, containers.ErrOption},
		{"args of an unknown service", []containers.Option{containers.WithArgs("control", "--quiet")}, containers.ErrUnknownService},
		{"no startup time", []containers.Option{containers.WithStartupTimeout(0)}, containers.ErrOption},
		{"empty image", []containers.Option{containers.WithImage("")}, containers.ErrOption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st, err := containers.Run(context.Background(), tt.opts...)
			if st != nil {
				t.Errorf("Run returned a stack for bad options")
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRunWithoutTheImage(t *testing.T) {
	requireContainers(t)
	st, err := containers.Run(context.Background(), containers.WithImage("efm-harness:no-such-tag"))
	containers.CleanupStack(t, st)
	if !errors.Is(err, containers.ErrImageNotFound) || !strings.Contains(err.Error(), "make image") {
		t.Fatalf("error %v, want ErrImageNotFound naming make image", err)
	}
}

// dpoStack starts the address register, Maskinporten, DPO and one integration point in fast mode.
func dpoStack(t *testing.T) *containers.Stack {
	t.Helper()
	requireContainers(t)
	start := time.Now()
	logs := &syncBuffer{}
	st, err := containers.Run(context.Background(), containers.WithImage(testImage()), containers.WithFast(),
		containers.WithServices(stack.SR, stack.Maskinporten, stack.DPO, stack.IP), containers.WithLogs(logs))
	containers.CleanupStack(t, st)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the containers' output:\n%s", logs.tail(200))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stack up in %v", time.Since(start).Round(time.Millisecond))
	return st
}

// messages is how many arkivmeldinger each stream sends.
const messages = 100

// stream sends n arkivmeldinger over DPO to the population's receiver through the integration point at
// ipURL() (asked again for every message, since it changes when the container starts again), two at a
// time, one every `every`. It returns the ids of the messages the integration point accepted (every
// request answered 2xx) and how many it did not.
func stream(ctx context.Context, n int, every time.Duration, ipURL func() string) (accepted []string, refused int) {
	receiver := fixtures.Default().Org(fixtures.RoleReceiver).Orgnr
	client := &http.Client{Timeout: 5 * time.Second}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for range n {
		select {
		case <-ctx.Done():
			wg.Wait()
			return accepted, refused + 1
		case <-tick.C:
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			id, err := stacktest.SendArkivmelding(ctx, client, ipURL(), receiver)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				refused++
				return
			}
			accepted = append(accepted, id)
		}()
	}
	wg.Wait()
	return accepted, refused
}

// waitSent waits until every message has the status SENDT at the integration point, and fails the test
// on FEIL or LEVETID_UTLOPT.
func waitSent(t *testing.T, ipURL func() string, ids []string, within time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(within)
	pending := slices.Clone(ids)
	var last string
	for len(pending) > 0 && time.Now().Before(deadline) {
		var still []string
		for _, id := range pending {
			got, err := stacktest.Statuses(context.Background(), client, ipURL(), id)
			if err != nil {
				still, last = append(still, id), err.Error()
				continue
			}
			if slices.Contains(got, "FEIL") || slices.Contains(got, "LEVETID_UTLOPT") {
				t.Fatalf("message %s ended as %v", id, got)
			}
			if !slices.Contains(got, "SENDT") {
				still, last = append(still, id), fmt.Sprintf("%s: %v", id, got)
			}
		}
		pending = still
		if len(pending) > 0 {
			time.Sleep(250 * time.Millisecond)
		}
	}
	if len(pending) > 0 {
		t.Fatalf("%d of %d messages did not reach SENDT within %v (last: %s)", len(pending), len(ids), within, last)
	}
}

// transfersByMessage reads every transfer the DPO simulator holds from the integration point's
// organisation and counts the uploaded ones by the messageId of their SBD; initialised transfers that
// were never uploaded (an attempt cut off before its upload) are counted apart, since no receiver ever
// sees them.
func transfersByMessage(t *testing.T, st *containers.Stack) (uploaded map[string]int, notUploaded int) {
	t.Helper()
	ctx := context.Background()
	adm := st.Admin(stack.DPO)
	var list dpo.TransferList
	if err := adm.Do(ctx, http.MethodGet, "/messages?sender="+st.IPOrg(stack.IP), nil, &list); err != nil {
		t.Fatal(err)
	}
	if list.Evicted > 0 {
		t.Fatalf("the DPO simulator evicted %d transfers; the count would be incomplete", list.Evicted)
	}
	uploaded = map[string]int{}
	for _, tr := range list.Transfers {
		if tr.Status == dpo.StatusInitialized || tr.Size == 0 {
			notUploaded++
			continue
		}
		var view dpo.MessageView
		if err := adm.Message(ctx, tr.ID, &view); err != nil {
			t.Fatal(err)
		}
		sbd, err := wire.ParseSBD(view.SBD)
		if err != nil {
			t.Fatalf("transfer %s: sbd.json: %v (%s)", tr.ID, err, view.SBDError)
		}
		uploaded[sbd.MessageID()]++
	}
	return uploaded, notUploaded
}

// checkExactlyOnce fails the test unless every accepted message is held exactly once at the DPO
// simulator and nothing is held twice.
func checkExactlyOnce(t *testing.T, st *containers.Stack, accepted []string) {
	t.Helper()
	held, orphans := transfersByMessage(t, st)
	for _, id := range accepted {
		if held[id] != 1 {
			t.Errorf("accepted message %s is held %d times at DPO, want once", id, held[id])
		}
	}
	for id, n := range held {
		if n > 1 {
			t.Errorf("message %s is held %d times at DPO", id, n)
		}
	}
	t.Logf("%d accepted messages, %d distinct uploaded transfers at DPO, %d initialised but never uploaded", len(accepted), len(held), orphans)
}

// streamResult is what a stream of messages got: the ids accepted, and how many were refused.
type streamResult struct {
	accepted []string
	refused  int
}

// streamAsync sends the stream of messages in the background, one every interval; the channel gives
// the outcome when it is done.
func streamAsync(ctx context.Context, interval time.Duration, ipURL func() string) <-chan streamResult {
	done := make(chan streamResult, 1)
	go func() {
		a, r := stream(ctx, messages, interval, ipURL)
		done <- streamResult{a, r}
	}()
	return done
}

// outage runs a stream of messages while fault(ctx) cuts DPO off from after a second until `down` has
// passed, then heal(ctx); every message is delivered exactly once after.
func outage(t *testing.T, fault, heal func(context.Context, *containers.Stack) error, down time.Duration) {
	st := dpoStack(t)
	ipURL := func() string { return st.URL(stack.IP) }
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := streamAsync(ctx, 40*time.Millisecond, ipURL)
	time.Sleep(time.Second)
	if err := fault(ctx, st); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	time.Sleep(down)
	if err := heal(ctx, st); err != nil {
		t.Fatal(err)
	}
	t.Logf("DPO cut off for %v", time.Since(cut).Round(time.Millisecond))
	res := <-done
	if res.refused > 0 || len(res.accepted) != messages {
		t.Fatalf("the integration point accepted %d of %d messages (%d refused) while only DPO was cut off", len(res.accepted), messages, res.refused)
	}
	waitSent(t, ipURL, res.accepted, 90*time.Second)
	checkExactlyOnce(t, st, res.accepted)
	held, _ := transfersByMessage(t, st)
	if len(held) != messages {
		t.Errorf("%d distinct transfers at DPO, want %d", len(held), messages)
	}
}

// A firewall drops DPO's traffic for five seconds in the middle of a stream of 100 messages: the
// integration point keeps accepting, and after the network is back every message reaches the broker
// exactly once (100 distinct transfers).
func TestDPODisconnectedDuringStream(t *testing.T) {
	outage(t,
		func(ctx context.Context, st *containers.Stack) error { return st.Disconnect(ctx, stack.DPO) },
		func(ctx context.Context, st *containers.Stack) error { return st.Connect(ctx, stack.DPO) },
		5*time.Second)
}

// The DPO host hangs (its container paused) for five seconds in the middle of a stream: requests in
// flight are never answered and time out; after it runs again every message is held exactly once.
func TestDPOPausedDuringStream(t *testing.T) {
	outage(t,
		func(ctx context.Context, st *containers.Stack) error { return st.Pause(ctx, stack.DPO) },
		func(ctx context.Context, st *containers.Stack) error { return st.Unpause(ctx, stack.DPO) },
		5*time.Second)
}

// The integration point's container is killed with SIGKILL in the middle of a stream and started again
// on its volume: every message it accepted before or after reaches the broker exactly once, and no
// message is held twice.
func TestIPKilledMidStreamAndRestartedOnItsVolume(t *testing.T) {
	st := dpoStack(t)
	ipURL := func() string { return st.URL(stack.IP) }
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := streamAsync(ctx, 60*time.Millisecond, ipURL)
	time.Sleep(1500 * time.Millisecond)
	killed := time.Now()
	if err := st.Restart(ctx, stack.IP); err != nil {
		t.Fatal(err)
	}
	t.Logf("integration point killed and back in %v", time.Since(killed).Round(time.Millisecond))
	res := <-done
	if len(res.accepted) < messages/3 {
		t.Fatalf("only %d of %d messages were accepted (%d refused); the stream did not run", len(res.accepted), messages, res.refused)
	}
	t.Logf("%d accepted, %d refused or cut off by the kill", len(res.accepted), res.refused)
	waitSent(t, ipURL, res.accepted, 90*time.Second)
	checkExactlyOnce(t, st, res.accepted)
}

// Admin clients reach each container's control plane, and InternalURL names the service hostnames.
func TestURLsAndAdmin(t *testing.T) {
	requireContainers(t)
	ctx := context.Background()
	st, err := containers.Run(ctx, containers.WithImage(testImage()), containers.WithFast(),
		containers.WithServices(stack.SR, stack.Maskinporten, stack.DPO, stack.IP, stack.IP2))
	containers.CleanupStack(t, st)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{stack.SR, stack.Maskinporten, stack.DPO, stack.IP, stack.IP2}
	if diff := cmp.Diff(want, st.Services()); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}
	if got := st.InternalURL(stack.DPO); got != "http://dpo:9101" {
		t.Errorf("InternalURL(dpo) = %q", got)
	}
	if got := st.InternalURL(stack.DPV); got != "" {
		t.Errorf("InternalURL of a service not started = %q, want empty", got)
	}
	for _, name := range want {
		h, err := st.Admin(name).Health(ctx)
		if err != nil {
			t.Errorf("admin health of %s: %v", name, err)
			continue
		}
		// The second integration point is "ip" in its own process.
		if wantSvc := map[string]string{stack.IP2: stack.IP}[name]; h.Service != name && h.Service != wantSvc {
			t.Errorf("admin health of %s names %q", name, h.Service)
		}
	}
	// The register's control plane is the stack's.
	for _, name := range []string{stack.Maskinporten, stack.DPO, stack.IP} {
		if h, err := admin.ControlClient(st.ControlURL(stack.SR), name).Health(ctx); err != nil || h.Service != name {
			t.Errorf("admin health of %s through the register's control plane: %+v, %v", name, h, err)
		}
	}
	// Maskinporten advertises its service hostname, which the integration points' tokens name as audience.
	resp, err := http.Get(st.URL(stack.Maskinporten) + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var meta struct {
		Issuer string `json:"issuer"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&meta); err != nil || meta.Issuer != "http://maskinporten:9100/" {
		t.Errorf("issuer %q (%v), want http://maskinporten:9100/", meta.Issuer, err)
	}
	// The second integration point receives what the first sends it over DPO.
	client := &http.Client{Timeout: 5 * time.Second}
	id, err := stacktest.SendArkivmelding(ctx, client, st.URL(stack.IP), st.IPOrg(stack.IP2))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		m, ok, err := stacktest.TakeIncoming(ctx, client, st.URL(stack.IP2))
		if err != nil {
			t.Fatal(err)
		}
		if ok && m.MessageID == id {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("ip2 (%s) did not receive message %s from ip", st.IPOrg(stack.IP2), id)
}

// syncBuffer collects the containers' output for a failing test.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// tail is the last n lines.
func (b *syncBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	lines := strings.Split(b.buf.String(), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
