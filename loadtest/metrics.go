package loadtest

import (
	"sort"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Metric names besides the flows' step names (create, upload, send, multipart, peek, pop, delete).
const (
	// MetricIteration is a whole flow, from its intended start to its end (scheduler lag included).
	MetricIteration = "iteration"
	// MetricE2ESendt is from a message's send request (before it is answered, so that no status can come
	// first) to its SENDT status's webhook.
	MetricE2ESendt = "e2e_sendt"
	// MetricE2ELevert is from a message's send request to its LEVERT status, where the channel gives one.
	MetricE2ELevert = "e2e_levert"
	// MetricE2ESimulator is from a message's send to its arrival at the simulated broker (the DPO upload
	// published, the DPV correspondence, the DPF forsendelse, the DPI message), read from the simulators'
	// admin lists after the run (Arrivals).
	MetricE2ESimulator = "e2e_simulator"
	// MetricE2EReceived is from a message's send request at the sending integration point to its pop at
	// the receiving one (the receive flow).
	MetricE2EReceived = "e2e_received"
)

// Histogram bounds: microseconds from 1 µs to 10 minutes. Totals keep 3 significant figures; the
// one-second windows behind the live line keep 2, which is plenty there and much smaller.
const (
	histLowest      = 1
	histHighest     = int64(10 * time.Minute / time.Microsecond)
	totalSigFigs    = 3
	windowSigFigs   = 2
	recorderShards  = 8
	maxErrorSamples = 5
)

// Recorder collects latencies into HDR histograms and counts errors. hdrhistogram-go's histograms are not
// safe for concurrent use, so the recorder keeps a few shards, each behind its own mutex, and merges them
// when asked; virtual users record into the shard Shard gives them.
type Recorder struct {
	shards [recorderShards]*Shard
	next   int
	mu     sync.Mutex
}

// Shard is the part of a Recorder one group of virtual users records into.
type Shard struct {
	mu      sync.Mutex
	total   map[string]*hdrhistogram.Histogram
	window  map[string]*hdrhistogram.Histogram
	errors  map[string]int64
	samples map[string][]string
}

// NewRecorder makes an empty recorder.
func NewRecorder() *Recorder {
	r := &Recorder{}
	for i := range r.shards {
		r.shards[i] = &Shard{total: map[string]*hdrhistogram.Histogram{}, window: map[string]*hdrhistogram.Histogram{},
			errors: map[string]int64{}, samples: map[string][]string{}}
	}
	return r
}

// Shard hands out the shards round-robin.
func (r *Recorder) Shard() *Shard {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.shards[r.next%recorderShards]
	r.next++
	return s
}

// Record adds one latency of metric.
func (s *Shard) Record(metric string, d time.Duration) {
	us := d.Microseconds()
	if us < histLowest {
		us = histLowest
	}
	if us > histHighest {
		us = histHighest
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.total[metric]
	if h == nil {
		h = hdrhistogram.New(histLowest, histHighest, totalSigFigs)
		s.total[metric] = h
	}
	_ = h.RecordValue(us)
	w := s.window[metric]
	if w == nil {
		w = hdrhistogram.New(histLowest, histHighest, windowSigFigs)
		s.window[metric] = w
	}
	_ = w.RecordValue(us)
}

// Error counts one error of kind (e.g. "create: status 503") and keeps the first few details of each kind.
func (s *Shard) Error(kind, detail string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errors[kind]++
	if detail != "" && len(s.samples[kind]) < maxErrorSamples {
		s.samples[kind] = append(s.samples[kind], detail)
	}
}

// Stats are a histogram's summary in the units people read.
type Stats struct {
	Count int64         `json:"count"`
	Min   time.Duration `json:"min"`
	Mean  time.Duration `json:"mean"`
	P50   time.Duration `json:"p50"`
	P90   time.Duration `json:"p90"`
	P95   time.Duration `json:"p95"`
	P99   time.Duration `json:"p99"`
	P999  time.Duration `json:"p999"`
	Max   time.Duration `json:"max"`
}

func statsOf(h *hdrhistogram.Histogram) Stats {
	if h == nil || h.TotalCount() == 0 {
		return Stats{}
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	return Stats{
		Count: h.TotalCount(), Min: us(h.Min()), Mean: time.Duration(h.Mean() * float64(time.Microsecond)),
		P50: us(h.ValueAtQuantile(50)), P90: us(h.ValueAtQuantile(90)), P95: us(h.ValueAtQuantile(95)),
		P99: us(h.ValueAtQuantile(99)), P999: us(h.ValueAtQuantile(99.9)), Max: us(h.Max()),
	}
}

// Quantile is the value at q percent, for the percentiles Stats keeps (50, 90, 95, 99, 99.9); -1 for
// any other.
func (st Stats) Quantile(q float64) time.Duration {
	switch q {
	case 50:
		return st.P50
	case 90:
		return st.P90
	case 95:
		return st.P95
	case 99:
		return st.P99
	case 99.9:
		return st.P999
	}
	return -1
}

// Totals merges every shard's histograms since the start: the summary's numbers, per metric.
func (r *Recorder) Totals() map[string]Stats {
	merged := map[string]*hdrhistogram.Histogram{}
	for _, s := range r.shards {
		s.mu.Lock()
		for name, h := range s.total {
			m := merged[name]
			if m == nil {
				m = hdrhistogram.New(histLowest, histHighest, totalSigFigs)
				merged[name] = m
			}
			m.Merge(h)
		}
		s.mu.Unlock()
	}
	out := make(map[string]Stats, len(merged))
	for name, h := range merged {
		out[name] = statsOf(h)
	}
	return out
}

// TakeWindow merges and resets every shard's window histograms: the numbers since the last call.
func (r *Recorder) TakeWindow() map[string]Stats {
	merged := map[string]*hdrhistogram.Histogram{}
	for _, s := range r.shards {
		s.mu.Lock()
		for name, h := range s.window {
			if h.TotalCount() == 0 {
				continue
			}
			m := merged[name]
			if m == nil {
				m = hdrhistogram.New(histLowest, histHighest, windowSigFigs)
				merged[name] = m
			}
			m.Merge(h)
			h.Reset()
		}
		s.mu.Unlock()
	}
	out := make(map[string]Stats, len(merged))
	for name, h := range merged {
		out[name] = statsOf(h)
	}
	return out
}

// ErrorCount is one kind of error and how often it happened, with the first few details.
type ErrorCount struct {
	Kind    string   `json:"kind"`
	Count   int64    `json:"count"`
	Samples []string `json:"samples,omitempty"`
}

// Errors lists the errors by kind, most frequent first.
func (r *Recorder) Errors() []ErrorCount {
	byKind := map[string]*ErrorCount{}
	for _, s := range r.shards {
		s.mu.Lock()
		for kind, n := range s.errors {
			e := byKind[kind]
			if e == nil {
				e = &ErrorCount{Kind: kind}
				byKind[kind] = e
			}
			e.Count += n
			for _, d := range s.samples[kind] {
				if len(e.Samples) < maxErrorSamples {
					e.Samples = append(e.Samples, d)
				}
			}
		}
		s.mu.Unlock()
	}
	out := make([]ErrorCount, 0, len(byKind))
	for _, e := range byKind {
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}
