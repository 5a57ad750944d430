package loadtest

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ErrThreshold is wrapped by ParseThreshold's errors.
var ErrThreshold = errors.New("bad threshold")

// Threshold is a k6-style pass condition on a run, such as "e2e_sendt_p99<2s" or "errors<0.1%".
//
// The left side is one of:
//   - METRIC_AGG, where METRIC is a step (create, upload, send, multipart, peek, pop, delete), iteration,
//     e2e_sendt, e2e_levert or e2e_received, or one of the e2e metrics of one flow (e2e_sendt.dpf), and AGG is p50, p90, p95, p99, p99.9, avg, med, min, max or
//     count; durations are compared with Go durations ("250ms", "2s");
//   - errors: the share of iterations that failed or whose message ended as FEIL, LEVETID_UTLOPT or
//     never reached its status; dropped: the share of scheduled iterations dropped (both as "0.1%" or
//     a fraction such as 0.001);
//   - rate: the iterations started per second over the run.
//
// Operators: < <= > >= == !=.
type Threshold struct {
	Source string
	metric string
	agg    string
	op     string
	value  float64 // seconds for durations, a fraction for shares, a plain number otherwise
	kind   string  // "duration", "share" or "number"
}

// ThresholdResult is a threshold's outcome.
type ThresholdResult struct {
	Threshold string `json:"threshold"`
	Actual    string `json:"actual"`
	Passed    bool   `json:"passed"`
}

var thresholdRE = regexp.MustCompile(`^\s*([a-z0-9_.\-]+)\s*(<=|>=|==|!=|<|>)\s*([^\s]+)\s*$`)
var aggRE = regexp.MustCompile(`^(.+)_(p\d+(?:\.\d+)?|avg|med|min|max|count)$`)

// ParseThreshold reads one threshold.
func ParseThreshold(s string) (Threshold, error) {
	m := thresholdRE.FindStringSubmatch(s)
	if m == nil {
		return Threshold{}, fmt.Errorf("%w: %q: want NAME OP VALUE, e.g. e2e_sendt_p99<2s or errors<0.1%%", ErrThreshold, s)
	}
	t := Threshold{Source: strings.TrimSpace(s), op: m[2]}
	left, right := m[1], m[3]
	switch left {
	case "errors", "dropped":
		t.metric, t.kind = left, "share"
		if v, ok := strings.CutSuffix(right, "%"); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return Threshold{}, fmt.Errorf("%w: %q: %q is not a percentage", ErrThreshold, s, right)
			}
			t.value = f / 100
		} else {
			f, err := strconv.ParseFloat(right, 64)
			if err != nil {
				return Threshold{}, fmt.Errorf("%w: %q: %q is not a share (0.001 or 0.1%%)", ErrThreshold, s, right)
			}
			t.value = f
		}
		return t, nil
	case "rate":
		t.metric, t.kind = left, "number"
		f, err := strconv.ParseFloat(strings.TrimSuffix(right, "/s"), 64)
		if err != nil {
			return Threshold{}, fmt.Errorf("%w: %q: %q is not a rate", ErrThreshold, s, right)
		}
		t.value = f
		return t, nil
	}
	am := aggRE.FindStringSubmatch(left)
	if am == nil {
		return Threshold{}, fmt.Errorf("%w: %q: %q names no aggregate (…_p99, …_avg, …_max, …_count), nor errors, dropped or rate", ErrThreshold, s, left)
	}
	t.metric, t.agg = am[1], am[2]
	if t.agg == "count" {
		t.kind = "number"
		f, err := strconv.ParseFloat(right, 64)
		if err != nil {
			return Threshold{}, fmt.Errorf("%w: %q: %q is not a number", ErrThreshold, s, right)
		}
		t.value = f
		return t, nil
	}
	if strings.HasPrefix(t.agg, "p") {
		if q, _ := strconv.ParseFloat(t.agg[1:], 64); (Stats{}).Quantile(q) < 0 {
			return Threshold{}, fmt.Errorf("%w: %q: percentile %s is not kept; use p50, p90, p95, p99 or p99.9", ErrThreshold, s, t.agg)
		}
	}
	d, err := time.ParseDuration(right)
	if err != nil {
		return Threshold{}, fmt.Errorf("%w: %q: %q is not a duration such as 500ms or 2s", ErrThreshold, s, right)
	}
	t.kind, t.value = "duration", d.Seconds()
	return t, nil
}

// Evaluate checks the thresholds against r, stores the outcomes in r.Thresholds, and reports whether all
// passed. A threshold on a metric the run did not measure fails (it could not be shown to hold).
func Evaluate(r *Result, ts []Threshold) bool {
	all := true
	r.Thresholds = nil
	for _, t := range ts {
		actual, shown, ok := t.actual(r)
		passed := ok && compare(actual, t.op, t.value)
		if !ok {
			shown = "not measured"
		}
		all = all && passed
		r.Thresholds = append(r.Thresholds, ThresholdResult{Threshold: t.Source, Actual: shown, Passed: passed})
	}
	return all
}

func (t Threshold) actual(r *Result) (float64, string, bool) {
	switch t.metric {
	case "errors":
		v := r.ErrorRate()
		return v, fmt.Sprintf("%.3f%%", v*100), r.Iterations > 0
	case "dropped":
		v := r.DropRate()
		return v, fmt.Sprintf("%.3f%%", v*100), r.Scheduled > 0
	case "rate":
		if r.Elapsed <= 0 {
			return 0, "", false
		}
		v := float64(r.Iterations) / r.Schedule.Duration().Seconds()
		return v, fmt.Sprintf("%.1f/s", v), true
	}
	st, ok := r.Metrics[t.metric]
	if !ok || st.Count == 0 {
		return 0, "", false
	}
	if t.agg == "count" {
		return float64(st.Count), strconv.FormatInt(st.Count, 10), true
	}
	var d time.Duration
	switch t.agg {
	case "avg":
		d = st.Mean
	case "med":
		d = st.P50
	case "min":
		d = st.Min
	case "max":
		d = st.Max
	default:
		q, _ := strconv.ParseFloat(t.agg[1:], 64)
		if d = st.Quantile(q); d < 0 {
			return 0, "", false
		}
	}
	return d.Seconds(), short(d), true
}

func compare(a float64, op string, b float64) bool {
	switch op {
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	case ">=":
		return a >= b
	case "==":
		return a == b
	case "!=":
		return a != b
	}
	return false
}
