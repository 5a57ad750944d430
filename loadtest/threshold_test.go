package loadtest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseThresholdRefusesNonsense(t *testing.T) {
	for _, bad := range []string{"", "e2e_sendt<2s", "e2e_sendt_p99<fast", "errors<lots", "e2e_sendt_p75<1s", "rate>=x", "send_p99 ~ 1s"} {
		if _, err := ParseThreshold(bad); !errors.Is(err, ErrThreshold) {
			t.Errorf("ParseThreshold(%q) error = %v, want ErrThreshold", bad, err)
		}
	}
}

func TestEvaluate(t *testing.T) {
	r := &Result{
		Schedule: Constant(100, 10*time.Second), Elapsed: 10 * time.Second, Scheduled: 1000, Iterations: 1000, Failed: 1, Dropped: 10,
		E2E: E2ECounts{Accepted: 999, Feil: 1},
		Metrics: map[string]Stats{
			MetricE2ESendt: {Count: 999, P50: 40 * time.Millisecond, P99: 900 * time.Millisecond, Max: 2 * time.Second, Mean: 60 * time.Millisecond},
			"send":         {Count: 1000, P95: 20 * time.Millisecond},
		},
	}
	var ts []Threshold
	r.Metrics["e2e_sendt.dpo-small"] = Stats{Count: 10, P99: 500 * time.Millisecond}
	for _, s := range []string{"e2e_sendt.dpo-small_p99<1s", "e2e_sendt_p99<1s", "e2e_sendt_max<1s", "errors<0.1%", "errors<=0.2%", "dropped==0", "dropped<0.02",
		"rate>=99", "send_p95<=20ms", "e2e_sendt_count>=999", "e2e_levert_p99<1s", "e2e_sendt_avg<100ms"} {
		th, err := ParseThreshold(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		ts = append(ts, th)
	}
	if Evaluate(r, ts) {
		t.Fatal("Evaluate passed with failing thresholds")
	}
	got := map[string]bool{}
	for _, tr := range r.Thresholds {
		got[tr.Threshold] = tr.Passed
	}
	want := map[string]bool{"e2e_sendt.dpo-small_p99<1s": true, "e2e_sendt_p99<1s": true, "e2e_sendt_max<1s": false, "errors<0.1%": false, "errors<=0.2%": true,
		"dropped==0": false, "dropped<0.02": true, "rate>=99": true, "send_p95<=20ms": true, "e2e_sendt_count>=999": true,
		"e2e_levert_p99<1s": false, "e2e_sendt_avg<100ms": true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if r.Thresholds[10].Actual != "not measured" {
		t.Errorf("a threshold on an unmeasured metric shows %q, want not measured", r.Thresholds[10].Actual)
	}
}
