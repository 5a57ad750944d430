package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Flow is what one iteration does: the archive-system side of one kind of traffic.
type Flow interface {
	// Name is the flow's name on the command line and in reports (e.g. "dpo-small").
	Name() string
	// Run does one iteration, timing its steps with it.Step. An error fails the iteration.
	Run(ctx context.Context, it *Iteration) error
}

// Weighted is a flow with its share of the mix.
type Weighted struct {
	Flow   Flow
	Weight int
}

// Options configure Run.
type Options struct {
	// Schedule fixes the intended start of every iteration.
	Schedule Schedule
	// Flows are mixed by weight: each iteration picks one at random with probability weight/sum.
	Flows []Weighted
	// MaxVUs bounds the virtual users (concurrent iterations); an iteration due when all are busy is
	// dropped. Default 1000.
	MaxVUs int
	// GracefulStop is how long iterations still running when the schedule ends may finish before they are
	// cancelled. Default 30 s.
	GracefulStop time.Duration
	// Drain is how long to wait after the last iteration for the end-to-end statuses still outstanding.
	// Default 30 s.
	Drain time.Duration
	// Tracker, if set, follows accepted messages to SENDT and LEVERT.
	Tracker *Tracker
	// Sampler, if set, samples the resource use of the target's processes once a second.
	Sampler *Sampler
	// Live, if set, gets a line each second (rate, in flight, p50/p99, errors).
	Live io.Writer
	// Seed seeds the flow mix (0: random).
	Seed uint64
	// ControlURL, when set with a Tracker, is the harness's control port: after the run the simulators'
	// admin lists give each message's arrival (MetricE2ESimulator). AdminAuth is "user:password" for a
	// protected admin API.
	ControlURL, AdminAuth string
}

// Iteration is one run of a flow: it times steps and reports accepted messages.
type Iteration struct {
	// N counts the iterations from 0 in schedule order.
	N int
	// Intended is when the schedule meant the iteration to start.
	Intended time.Time
	shard    *Shard
	tracker  *Tracker
}

// Step times fn as metric name (from its own start: the service time) and counts its error, classified,
// under "name: kind".
func (it *Iteration) Step(name string, fn func() error) error {
	start := time.Now()
	err := fn()
	it.shard.Record(name, time.Since(start))
	if err != nil {
		it.shard.Error(name+": "+Classify(err), err.Error())
	}
	return err
}

// Sending tells the tracker that the message is about to be sent (so that a status arriving before the
// send's answer is not missed); expect says which end-to-end statuses the flow waits for.
func (it *Iteration) Sending(messageID string, expect Expect) {
	if it.tracker != nil {
		it.tracker.Sending(messageID, expect)
	}
}

// NotSent tells the tracker that the send of messageID failed, so it waits for no status.
func (it *Iteration) NotSent(messageID string) {
	if it.tracker != nil {
		it.tracker.Forget(messageID)
	}
}

// Received records the end-to-end time of a message popped at the receiving integration point, when
// this run sent it.
func (it *Iteration) Received(messageID string) {
	if it.tracker != nil {
		it.tracker.Received(messageID, it.shard)
	}
}

// Record adds a latency of metric directly (for times a step measures itself).
func (it *Iteration) Record(metric string, d time.Duration) { it.shard.Record(metric, d) }

// Result is everything a run measured.
type Result struct {
	Schedule  Schedule      `json:"schedule"`
	Flows     []string      `json:"flows"`
	Started   time.Time     `json:"started"`
	Elapsed   time.Duration `json:"elapsed"`
	Scheduled int64         `json:"scheduled"`
	// Iterations counts the iterations that started; Failed those that returned an error; Dropped the ones
	// due when every virtual user was busy.
	Iterations int64 `json:"iterations"`
	Failed     int64 `json:"failed"`
	Dropped    int64 `json:"dropped"`
	Cancelled  int64 `json:"cancelled"`
	MaxVUs     int   `json:"maxVUs"`
	PeakVUs    int64 `json:"peakVUs"`
	// PerFlow counts the iterations of each flow.
	PerFlow map[string]FlowCounts `json:"perFlow"`
	// E2E is what the tracker saw of the accepted messages.
	E2E E2ECounts `json:"e2e"`
	// Metrics are the merged histograms' summaries by metric.
	Metrics map[string]Stats `json:"metrics"`
	// Errors are by kind, most frequent first.
	Errors []ErrorCount `json:"errors"`
	// Timeline has one entry per second of the run.
	Timeline []Second `json:"timeline"`
	// Resources are the sampled processes of the target.
	Resources []ProcessSeries `json:"resources,omitempty"`
	// Thresholds are filled in by Evaluate.
	Thresholds []ThresholdResult `json:"thresholds,omitempty"`
	// Notes are what the run could not measure, in words.
	Notes []string `json:"notes,omitempty"`
	// Meta holds what the caller knows of the run (target, mode, machine).
	Meta map[string]string `json:"meta,omitempty"`
}

// ErrorRate is the share of started iterations that failed or whose message ended badly end to end.
func (r *Result) ErrorRate() float64 {
	if r.Iterations == 0 {
		return 0
	}
	return float64(r.Failed+r.E2E.Failed()) / float64(r.Iterations)
}

// DropRate is the share of scheduled iterations that were dropped.
func (r *Result) DropRate() float64 {
	if r.Scheduled == 0 {
		return 0
	}
	return float64(r.Dropped) / float64(r.Scheduled)
}

// FlowCounts are one flow's iterations and failures.
type FlowCounts struct {
	Iterations int64 `json:"iterations"`
	Failed     int64 `json:"failed"`
}

type flowCounters struct{ iterations, failed atomic.Int64 }

// Second is one second of the timeline.
type Second struct {
	// At is the end of the second, counted from the start.
	At          time.Duration    `json:"at"`
	Intended    Rate             `json:"intendedRate"`
	Started     int64            `json:"started"`
	Completed   int64            `json:"completed"`
	Failed      int64            `json:"failed"`
	Dropped     int64            `json:"dropped"`
	InFlight    int64            `json:"inFlight"`
	Sendt       int64            `json:"sendt"`
	Metrics     map[string]Stats `json:"metrics,omitempty"`
	Processes   []ProcessSample  `json:"processes,omitempty"`
	Outstanding int64            `json:"outstanding"`
}

type counters struct {
	scheduled, started, completed, failed, dropped, cancelled atomic.Int64
	inFlight, vus, peakVUs                                    atomic.Int64
}

// ErrNoFlows is returned by Run when Options.Flows is empty or has no positive weight.
var ErrNoFlows = errors.New("no flows to run")

// Run runs the schedule until it ends (and the in-flight iterations finish or GracefulStop passes), then
// waits up to Drain for outstanding end-to-end statuses. Cancelling ctx ends it early; the result then
// covers what ran.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if err := opts.Schedule.Validate(); err != nil {
		return nil, err
	}
	total := 0
	for _, f := range opts.Flows {
		if f.Weight > 0 {
			total += f.Weight
		}
	}
	if total == 0 {
		return nil, ErrNoFlows
	}
	if opts.MaxVUs <= 0 {
		opts.MaxVUs = 1000
	}
	if opts.GracefulStop <= 0 {
		opts.GracefulStop = 30 * time.Second
	}
	if opts.Drain <= 0 {
		opts.Drain = 30 * time.Second
	}
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	pick := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	rec := NewRecorder()
	if opts.Tracker != nil {
		opts.Tracker.attach(rec.Shard())
	}
	var c counters
	res := &Result{Schedule: opts.Schedule, MaxVUs: opts.MaxVUs, Started: time.Now()}
	perFlow := make([]flowCounters, len(opts.Flows))
	for _, f := range opts.Flows {
		res.Flows = append(res.Flows, f.Flow.Name())
	}

	iterCtx, cancelIters := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelIters()
	type job struct {
		n        int
		intended time.Time
		flow     int // index into opts.Flows
	}
	work := make(chan job)
	var wg sync.WaitGroup
	runJob := func(shard *Shard, j job) {
		c.started.Add(1)
		c.inFlight.Add(1)
		it := &Iteration{N: j.n, Intended: j.intended, shard: shard, tracker: opts.Tracker}
		err := opts.Flows[j.flow].Flow.Run(iterCtx, it)
		shard.Record(MetricIteration, time.Since(j.intended))
		c.inFlight.Add(-1)
		fc := &perFlow[j.flow]
		fc.iterations.Add(1)
		if err != nil {
			fc.failed.Add(1)
		}
		switch {
		case err != nil && iterCtx.Err() != nil:
			c.cancelled.Add(1)
			c.failed.Add(1)
		case err != nil:
			c.failed.Add(1)
		default:
			c.completed.Add(1)
		}
	}
	vu := func(first job) {
		defer wg.Done()
		defer c.vus.Add(-1)
		shard := rec.Shard()
		runJob(shard, first)
		for j := range work {
			runJob(shard, j)
		}
	}

	// The live reporter and the sampler tick once a second.
	start := res.Started
	stopTicker := make(chan struct{})
	tickerDone := make(chan struct{})
	go func() {
		defer close(tickerDone)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stopTicker:
				return
			case now := <-t.C:
				res.Timeline = append(res.Timeline, second(&c, rec, opts, now.Sub(start)))
				if opts.Live != nil {
					fmt.Fprintln(opts.Live, liveLine(res.Timeline[len(res.Timeline)-1], opts.Tracker))
				}
			}
		}
	}()

	// The scheduler: intended starts from t0, handed over without blocking.
	timer := time.NewTimer(0)
	<-timer.C
schedule:
	for n := 0; ; n++ {
		off, ok := opts.Schedule.Offset(n)
		if !ok {
			break
		}
		due := start.Add(off)
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				timer.Stop()
				break schedule
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			break
		}
		c.scheduled.Add(1)
		j := job{n: n, intended: due, flow: pickFlow(pick, opts.Flows, total)}
		select {
		case work <- j:
		default:
			if int(c.vus.Load()) < opts.MaxVUs {
				v := c.vus.Add(1)
				if v > c.peakVUs.Load() {
					c.peakVUs.Store(v)
				}
				wg.Add(1)
				go vu(j)
			} else {
				c.dropped.Add(1)
			}
		}
	}
	close(work)

	// Graceful stop: let running iterations finish, then cancel them.
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(opts.GracefulStop):
		cancelIters()
		<-finished
	case <-ctx.Done():
		cancelIters()
		<-finished
	}
	if opts.Tracker != nil {
		opts.Tracker.Drain(ctx, opts.Drain)
	}
	close(stopTicker)
	<-tickerDone

	res.Elapsed = time.Since(start)
	res.Scheduled = c.scheduled.Load()
	res.Iterations = c.started.Load()
	res.Failed = c.failed.Load()
	res.Dropped = c.dropped.Load()
	res.Cancelled = c.cancelled.Load()
	res.PeakVUs = c.peakVUs.Load()
	if opts.Tracker != nil && opts.ControlURL != "" {
		if sims := SimulatorsOf(res.Flows); len(sims) > 0 {
			arrivals, err := Arrivals(ctx, opts.ControlURL, opts.AdminAuth, sims)
			found, wanted := opts.Tracker.RecordArrivals(arrivals, rec.Shard())
			if err != nil {
				res.Notes = append(res.Notes, err.Error())
			}
			if found < wanted {
				res.Notes = append(res.Notes, fmt.Sprintf("e2e_simulator covers %d of the %d messages sent to simulators "+
					"(the simulators keep bounded lists, so a long run's first messages may be gone)", found, wanted))
			}
		}
	}
	res.Metrics = rec.Totals()
	res.PerFlow = map[string]FlowCounts{}
	for i := range perFlow {
		name := opts.Flows[i].Flow.Name()
		old := res.PerFlow[name]
		res.PerFlow[name] = FlowCounts{Iterations: old.Iterations + perFlow[i].iterations.Load(), Failed: old.Failed + perFlow[i].failed.Load()}
	}
	res.Errors = rec.Errors()
	if opts.Tracker != nil {
		res.E2E = opts.Tracker.Counts()
		res.Errors = mergeErrors(res.Errors, opts.Tracker.errors())
	}
	if opts.Sampler != nil {
		res.Resources = opts.Sampler.Series()
	}
	return res, nil
}

// pickFlow picks a flow's index with probability weight/total.
func pickFlow(r *rand.Rand, flows []Weighted, total int) int {
	if len(flows) == 1 {
		return 0
	}
	n := r.IntN(total)
	for i, f := range flows {
		if f.Weight <= 0 {
			continue
		}
		if n < f.Weight {
			return i
		}
		n -= f.Weight
	}
	return len(flows) - 1
}

// second builds the timeline entry for the second ending at at.
func second(c *counters, rec *Recorder, opts Options, at time.Duration) Second {
	s := Second{
		At: at.Round(time.Second), Intended: opts.Schedule.RateAt(at - time.Second/2),
		Started: c.started.Load(), Completed: c.completed.Load(), Failed: c.failed.Load(),
		Dropped: c.dropped.Load(), InFlight: c.inFlight.Load(), Metrics: rec.TakeWindow(),
	}
	if opts.Tracker != nil {
		counts := opts.Tracker.Counts()
		s.Sendt = counts.Sendt
		s.Outstanding = counts.Outstanding
	}
	if opts.Sampler != nil {
		s.Processes = opts.Sampler.Sample()
	}
	return s
}

// liveLine is the line printed each second.
func liveLine(s Second, tr *Tracker) string {
	line := fmt.Sprintf("%5s  rate %6.1f/s  started %6d  in-flight %4d  dropped %d  failed %d",
		s.At, float64(s.Intended), s.Started, s.InFlight, s.Dropped, s.Failed)
	if st, ok := s.Metrics[MetricIteration]; ok {
		line += fmt.Sprintf("  iteration p50 %s p99 %s", short(st.P50), short(st.P99))
	}
	if tr != nil {
		line += fmt.Sprintf("  SENDT %d (outstanding %d)", s.Sendt, s.Outstanding)
		if st, ok := s.Metrics[MetricE2ESendt]; ok {
			line += fmt.Sprintf("  e2e_sendt p50 %s p99 %s", short(st.P50), short(st.P99))
		}
	}
	return line
}

// short writes a duration with three significant figures.
func short(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.3gs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.3gms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%dµs", d.Microseconds())
	}
}

func mergeErrors(a, b []ErrorCount) []ErrorCount {
	out := append(append([]ErrorCount{}, a...), b...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Count > out[j-1].Count; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
