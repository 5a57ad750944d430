package loadtest

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// sleepFlow takes d per iteration and fails every failEvery-th one.
type sleepFlow struct {
	d         time.Duration
	failEvery int64
	n         atomic.Int64
}

func (f *sleepFlow) Name() string { return "sleep" }

func (f *sleepFlow) Run(ctx context.Context, it *Iteration) error {
	n := f.n.Add(1)
	return it.Step("nap", func() error {
		select {
		case <-time.After(f.d):
		case <-ctx.Done():
			return ctx.Err()
		}
		if f.failEvery > 0 && n%f.failEvery == 0 {
			return &StatusError{Method: "POST", Path: "/nap", Status: 503}
		}
		return nil
	})
}

func TestRunKeepsTheScheduleAndCountsFailures(t *testing.T) {
	f := &sleepFlow{d: 5 * time.Millisecond, failEvery: 10}
	res, err := Run(context.Background(), Options{Schedule: Constant(100, 500*time.Millisecond), Flows: []Weighted{{Flow: f, Weight: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Scheduled != 50 || res.Iterations != 50 || res.Dropped != 0 {
		t.Fatalf("scheduled %d, started %d, dropped %d; want 50, 50, 0", res.Scheduled, res.Iterations, res.Dropped)
	}
	if res.Failed != 5 {
		t.Errorf("failed %d, want 5", res.Failed)
	}
	if got := res.Metrics["nap"].Count; got != 50 {
		t.Errorf("nap count %d, want 50", got)
	}
	if len(res.Errors) != 1 || res.Errors[0].Kind != "nap: status 503" || res.Errors[0].Count != 5 {
		t.Errorf("errors %+v, want 5 of nap: status 503", res.Errors)
	}
	if p50 := res.Metrics["nap"].P50; p50 < 5*time.Millisecond || p50 > 100*time.Millisecond {
		t.Errorf("nap p50 %s, want about 5ms", p50)
	}
	if r := res.ErrorRate(); r != 0.1 {
		t.Errorf("error rate %v, want 0.1", r)
	}
}

func TestRunDropsWhatNoVirtualUserCanTake(t *testing.T) {
	// 2 VUs, each iteration 300 ms, 20/s for 0.5 s: the first two start, the rest find no free VU.
	f := &sleepFlow{d: 300 * time.Millisecond}
	res, err := Run(context.Background(), Options{Schedule: Constant(20, 500*time.Millisecond), MaxVUs: 2,
		Flows: []Weighted{{Flow: f, Weight: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Scheduled != 10 {
		t.Fatalf("scheduled %d, want 10", res.Scheduled)
	}
	if res.Iterations+res.Dropped != res.Scheduled || res.Dropped < 6 || res.PeakVUs != 2 {
		t.Errorf("started %d, dropped %d, peak VUs %d; want about 2–4 started, the rest dropped, 2 VUs", res.Iterations, res.Dropped, res.PeakVUs)
	}
}

func TestLatencyCountsFromTheIntendedStart(t *testing.T) {
	// A flow that waits 50 ms before a quick step (as behind a client-side queue): the wait shows in the
	// iteration's latency, which counts from the intended start, and not in the step's service time.
	slow := flowFunc(func(ctx context.Context, it *Iteration) error {
		time.Sleep(50 * time.Millisecond) // e.g. a client-side queue
		return it.Step("quick", func() error { return nil })
	})
	res, err := Run(context.Background(), Options{Schedule: Constant(20, 250*time.Millisecond), Flows: []Weighted{{Flow: slow, Weight: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if it, q := res.Metrics[MetricIteration].P50, res.Metrics["quick"].P50; it < 50*time.Millisecond || q > 10*time.Millisecond {
		t.Errorf("iteration p50 %s (want ≥ 50ms), quick p50 %s (want small)", it, q)
	}
}

type flowFunc func(ctx context.Context, it *Iteration) error

func (f flowFunc) Name() string                                 { return "func" }
func (f flowFunc) Run(ctx context.Context, it *Iteration) error { return f(ctx, it) }

func TestRunCancelsIterationsAfterTheGracefulStop(t *testing.T) {
	f := &sleepFlow{d: time.Minute}
	start := time.Now()
	res, err := Run(context.Background(), Options{Schedule: Constant(10, 200*time.Millisecond), GracefulStop: 100 * time.Millisecond,
		Flows: []Weighted{{Flow: f, Weight: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("run took %s: the graceful stop did not cancel", time.Since(start))
	}
	if res.Cancelled != res.Iterations || res.Iterations != 2 {
		t.Errorf("cancelled %d of %d, want 2 of 2", res.Cancelled, res.Iterations)
	}
}

func TestRunMixesFlowsByWeight(t *testing.T) {
	var a, b atomic.Int64
	fa := flowFunc(func(context.Context, *Iteration) error { a.Add(1); return nil })
	fb := flowFunc(func(context.Context, *Iteration) error { b.Add(1); return nil })
	_, err := Run(context.Background(), Options{Schedule: Constant(1000, 400*time.Millisecond), Seed: 7,
		Flows: []Weighted{{Flow: fa, Weight: 3}, {Flow: fb, Weight: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if total := a.Load() + b.Load(); total != 400 || a.Load() < 250 || a.Load() > 350 {
		t.Errorf("a %d, b %d; want 400 in about 3:1", a.Load(), b.Load())
	}
}

func TestRunRefusesNoFlows(t *testing.T) {
	if _, err := Run(context.Background(), Options{Schedule: Constant(1, time.Second)}); !errors.Is(err, ErrNoFlows) {
		t.Errorf("error %v, want ErrNoFlows", err)
	}
}

func TestLiveLineNamesTheNumbers(t *testing.T) {
	line := liveLine(Second{At: 3 * time.Second, Intended: 200, Started: 600, InFlight: 12, Dropped: 1, Failed: 2,
		Metrics: map[string]Stats{MetricIteration: {P50: 3 * time.Millisecond, P99: 40 * time.Millisecond}}}, nil)
	for _, want := range []string{"3s", "200.0/s", "started    600", "in-flight   12", "dropped 1", "failed 2", "p50 3ms", "p99 40ms"} {
		if !strings.Contains(line, want) {
			t.Errorf("live line %q lacks %q", line, want)
		}
	}
}
