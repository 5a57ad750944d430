package loadtest

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrSchedule is wrapped by every error about a rate, a stage or a schedule.
var ErrSchedule = errors.New("bad schedule")

// Rate is an arrival rate in iterations per second.
type Rate float64

// ParseRate reads a rate as k6 and vegeta write it: "200/s", "50/m", "3/h", "10/100ms" or a bare number
// (per second).
func ParseRate(s string) (Rate, error) {
	num, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, fmt.Errorf("%w: rate %q: want a number of iterations such as 200/s", ErrSchedule, s)
	}
	if !ok {
		return Rate(n), nil
	}
	per = strings.TrimSpace(per)
	unit := time.Duration(0)
	switch per {
	case "s":
		unit = time.Second
	case "m":
		unit = time.Minute
	case "h":
		unit = time.Hour
	default:
		d, err := time.ParseDuration(per)
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("%w: rate %q: the unit after / must be s, m, h or a duration such as 100ms", ErrSchedule, s)
		}
		unit = d
	}
	return Rate(n / unit.Seconds()), nil
}

// String writes the rate per second.
func (r Rate) String() string { return strconv.FormatFloat(float64(r), 'f', -1, 64) + "/s" }

// Stage is one step of a ramping schedule: the rate moves linearly from the previous stage's Target (or
// the schedule's start rate) to Target over Duration, as k6's ramping-arrival-rate does.
type Stage struct {
	Duration time.Duration `json:"duration"`
	Target   Rate          `json:"target"`
}

// ParseStage reads a stage as "DURATION:RATE", e.g. "30s:200/s".
func ParseStage(s string) (Stage, error) {
	d, r, ok := strings.Cut(s, ":")
	if !ok {
		return Stage{}, fmt.Errorf("%w: stage %q: want DURATION:RATE such as 30s:200/s", ErrSchedule, s)
	}
	dur, err := time.ParseDuration(strings.TrimSpace(d))
	if err != nil || dur <= 0 {
		return Stage{}, fmt.Errorf("%w: stage %q: %q is not a positive duration", ErrSchedule, s, d)
	}
	rate, err := ParseRate(r)
	if err != nil {
		return Stage{}, fmt.Errorf("stage %q: %w", s, err)
	}
	return Stage{Duration: dur, Target: rate}, nil
}

// Schedule fixes when each iteration is meant to start, counted from the start of the run.
type Schedule struct {
	// Start is the rate at the beginning of the first stage.
	Start Rate `json:"start"`
	// Stages are run one after the other. A constant rate is one stage whose Target equals Start.
	Stages []Stage `json:"stages"`
}

// Constant is a schedule of rate for d.
func Constant(rate Rate, d time.Duration) Schedule {
	return Schedule{Start: rate, Stages: []Stage{{Duration: d, Target: rate}}}
}

// Validate reports a schedule that cannot run.
func (s Schedule) Validate() error {
	if len(s.Stages) == 0 {
		return fmt.Errorf("%w: no stages", ErrSchedule)
	}
	if s.Start < 0 {
		return fmt.Errorf("%w: negative start rate", ErrSchedule)
	}
	total := 0.0
	for i, st := range s.Stages {
		if st.Duration <= 0 {
			return fmt.Errorf("%w: stage %d has no duration", ErrSchedule, i+1)
		}
		if st.Target < 0 {
			return fmt.Errorf("%w: stage %d has a negative rate", ErrSchedule, i+1)
		}
		total += s.iterationsIn(i)
	}
	if total < 1 {
		return fmt.Errorf("%w: the schedule starts no iteration (rate × duration < 1)", ErrSchedule)
	}
	return nil
}

// Duration is the length of the whole schedule.
func (s Schedule) Duration() time.Duration {
	var d time.Duration
	for _, st := range s.Stages {
		d += st.Duration
	}
	return d
}

// Iterations is how many iterations the schedule starts.
func (s Schedule) Iterations() int {
	total := 0.0
	for i := range s.Stages {
		total += s.iterationsIn(i)
	}
	return int(math.Floor(total + 1e-9))
}

// from is the rate at the start of stage i.
func (s Schedule) from(i int) float64 {
	if i == 0 {
		return float64(s.Start)
	}
	return float64(s.Stages[i-1].Target)
}

// iterationsIn is the area under the rate curve of stage i.
func (s Schedule) iterationsIn(i int) float64 {
	st := s.Stages[i]
	return (s.from(i) + float64(st.Target)) / 2 * st.Duration.Seconds()
}

// RateAt is the intended arrival rate at offset t.
func (s Schedule) RateAt(t time.Duration) Rate {
	var begin time.Duration
	for i, st := range s.Stages {
		if t < begin+st.Duration {
			frac := (t - begin).Seconds() / st.Duration.Seconds()
			return Rate(s.from(i) + (float64(st.Target)-s.from(i))*frac)
		}
		begin += st.Duration
	}
	return 0
}

// Offset is the intended start of iteration n (counted from 0) after the run's start; ok is false when
// the schedule has ended before it. Iteration n starts when the area under the rate curve reaches n, so a
// constant rate r starts iteration n at n/r.
func (s Schedule) Offset(n int) (time.Duration, bool) {
	want := float64(n)
	var begin time.Duration
	for i, st := range s.Stages {
		area := s.iterationsIn(i)
		if want < area-1e-9 {
			a, b, d := s.from(i), float64(st.Target), st.Duration.Seconds()
			// Solve a·τ + (b−a)·τ²/(2d) = want for τ in [0, d].
			k := (b - a) / (2 * d)
			var tau float64
			if math.Abs(k) < 1e-12 {
				tau = want / a
			} else {
				disc := a*a + 4*k*want
				if disc < 0 {
					disc = 0
				}
				tau = (-a + math.Sqrt(disc)) / (2 * k)
			}
			tau = math.Max(0, math.Min(tau, d))
			return begin + time.Duration(tau*float64(time.Second)), true
		}
		want -= area
		begin += st.Duration
	}
	return 0, false
}

// String describes the schedule: "200/s for 30s", or the start rate and each stage's target and length.
func (s Schedule) String() string {
	if len(s.Stages) == 1 && s.Stages[0].Target == s.Start {
		return fmt.Sprintf("%s for %s", s.Start, s.Stages[0].Duration)
	}
	parts := []string{s.Start.String()}
	for _, st := range s.Stages {
		parts = append(parts, fmt.Sprintf("→%s in %s", st.Target, st.Duration))
	}
	return strings.Join(parts, " ")
}
