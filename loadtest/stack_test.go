package loadtest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/efm-harness/efm-harness/simulator/stack"
)

// TestEveryFlowAgainstTheStack drives every flow for a moment through a real in-process stack (two
// integration points, every simulator, full cryptography) and checks that nothing failed, every message
// reached SENDT and, where the channel gives it, LEVERT, and that the DPO messages arrived at the second
// integration point exactly once (popped by the receive flow, or drained here after the run).
func TestEveryFlowAgainstTheStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack")
	}
	st, err := stack.Start(context.Background(), stack.Config{Ports: stack.Ports(0), Fast: true, IPs: 2, IPAuth: "arkiv:hemmelig"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	hc := NewHTTPClient(64, 30*time.Second)
	ip := &Client{BaseURL: st.URL(stack.IP), User: "arkiv", Password: "hemmelig", HTTP: hc}
	ip2 := &Client{BaseURL: st.URL(stack.IP2), User: "arkiv", Password: "hemmelig", HTTP: hc}
	// DPO's LEVERT comes when the receiving archive system deletes the message, which the receive flow
	// does only as fast as it is scheduled; the DPO flows wait for SENDT here.
	cfg := FlowConfig{IP: ip, IP2: ip2, LargeSize: 256 << 10}
	var flows []Weighted
	for _, name := range FlowNames() {
		if name == FlowGet {
			continue // a single endpoint, not a flow through the stack
		}
		f, err := NewFlow(name, cfg)
		if err != nil {
			t.Fatal(err)
		}
		flows = append(flows, Weighted{Flow: f, Weight: 1})
	}
	tr, err := NewTracker(context.Background(), ip, TrackerOptions{KeepSent: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	res, err := Run(context.Background(), Options{Schedule: Constant(28, 2*time.Second), Flows: flows, Tracker: tr, Drain: 60 * time.Second, Seed: 3,
		ControlURL: st.ControlURL()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 0 || res.Dropped != 0 || len(res.Errors) != 0 {
		t.Fatalf("failed %d, dropped %d, errors %+v", res.Failed, res.Dropped, res.Errors)
	}
	e := res.E2E
	if e.Accepted == 0 || e.Sendt != e.Accepted || e.Missing != 0 || e.Feil != 0 || e.Outstanding != 0 {
		t.Errorf("end to end %+v: every accepted message should reach SENDT", e)
	}
	// DPV, DPF, DPI digital and print wait for LEVERT: all came.
	dpo := res.PerFlow[FlowDPOSmall].Iterations + res.PerFlow[FlowDPOLarge].Iterations
	nonDPO := e.Accepted - dpo
	if e.Levert+e.MissedHook < nonDPO {
		t.Errorf("LEVERT %d (+%d without webhook) of %d non-DPO messages", e.Levert, e.MissedHook, nonDPO)
	}
	// Every message that went to a simulator arrived there, and the arrival was timed.
	if got := res.Metrics[MetricE2ESimulator].Count; got != e.Accepted || len(res.Notes) != 0 {
		t.Errorf("e2e_simulator counted %d of %d accepted messages; notes %q", got, e.Accepted, res.Notes)
	}
	for _, m := range []string{"create", "upload", "send", "multipart", "peek", MetricIteration, MetricE2ESendt, MetricE2ELevert} {
		if res.Metrics[m].Count == 0 {
			t.Errorf("metric %s was not measured", m)
		}
	}
	// Every DPO message reaches ip2 once: what the receive flow did not pop is drained here.
	want := dpo
	seen := map[string]bool{}
	deadline := time.Now().Add(30 * time.Second)
	for int64(len(seen))+e.Received < want && time.Now().Before(deadline) {
		status, raw, err := ip2.Do(context.Background(), http.MethodGet, "/api/messages/in/peek", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if status == http.StatusNoContent {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		var sbd struct {
			Header struct {
				DocumentIdentification struct {
					InstanceIdentifier string `json:"instanceIdentifier"`
				} `json:"documentIdentification"`
			} `json:"standardBusinessDocumentHeader"`
		}
		if err := json.Unmarshal(raw, &sbd); err != nil {
			t.Fatal(err)
		}
		id := sbd.Header.DocumentIdentification.InstanceIdentifier
		if seen[id] {
			t.Fatalf("message %s arrived twice", id)
		}
		seen[id] = true
		if _, _, err := ip2.Do(context.Background(), http.MethodDelete, "/api/messages/in/"+id, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := int64(len(seen)) + e.Received; got != want {
		t.Errorf("ip2 got %d DPO messages (%d popped by the receive flow), want %d", got, e.Received, want)
	}
}

// TestPlainDPOAgainstTheStack runs dpo-small through two integration points in --plain mode: the
// messages reach SENDT, arrive at the second integration point and read back there.
func TestPlainDPOAgainstTheStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack")
	}
	st, err := stack.Start(context.Background(), stack.Config{Ports: stack.Ports(0), Fast: true, IPs: 2, Plain: true,
		Services: []string{stack.SR, stack.Maskinporten, stack.IP, stack.DPO}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	hc := NewHTTPClient(16, 30*time.Second)
	ip := &Client{BaseURL: st.URL(stack.IP), HTTP: hc}
	ip2 := &Client{BaseURL: st.URL(stack.IP2), HTTP: hc}
	_, info, err := ip.Do(context.Background(), http.MethodGet, "/manage/info", nil, nil)
	if err != nil || !strings.Contains(string(info), "plain (no signature") {
		t.Fatalf("/manage/info does not say plain: %v %s", err, info)
	}
	small, err := NewFlow(FlowDPOSmall, FlowConfig{IP: ip, IP2: ip2})
	if err != nil {
		t.Fatal(err)
	}
	receive, err := NewFlow(FlowReceive, FlowConfig{IP: ip, IP2: ip2})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTracker(context.Background(), ip, TrackerOptions{KeepSent: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	// Send for a second, then receive: every message is popped and deleted at ip2.
	res, err := Run(context.Background(), Options{Schedule: Schedule{Start: 30, Stages: []Stage{{Duration: time.Second, Target: 30}}},
		Flows: []Weighted{{Flow: small, Weight: 1}}, Tracker: tr, Drain: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// Receive in rounds of two seconds until everything came (the race detector slows delivery down).
	var failed int64
	for round := 0; round < 8 && tr.Counts().Received < res.Iterations; round++ {
		rres, err := Run(context.Background(), Options{Schedule: Constant(30, 2*time.Second), Flows: []Weighted{{Flow: receive, Weight: 1}},
			Tracker: tr, Drain: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		failed += rres.Failed
		if len(rres.Errors) != 0 {
			t.Fatalf("receive errors: %+v", rres.Errors)
		}
	}
	if res.Failed+failed != 0 || len(res.Errors) != 0 {
		t.Fatalf("failed %d + %d: %+v", res.Failed, failed, res.Errors)
	}
	if c := tr.Counts(); c.Sendt != res.Iterations || c.Received != res.Iterations {
		t.Errorf("of %d sent: SENDT %d, received %d", res.Iterations, c.Sendt, c.Received)
	}
}
