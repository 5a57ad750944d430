package loadtest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		want    Rate
		wantErr bool
	}{
		{in: "200/s", want: 200},
		{in: "200", want: 200},
		{in: "60/m", want: 1},
		{in: "3600/h", want: 1},
		{in: "5/100ms", want: 50},
		{in: " 0.5/s ", want: 0.5},
		{in: "fast", wantErr: true},
		{in: "-1/s", wantErr: true},
		{in: "10/fortnight", wantErr: true},
		{in: "10/0s", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrSchedule) {
				t.Errorf("ParseRate(%q) error = %v, want ErrSchedule", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseStage(t *testing.T) {
	got, err := ParseStage("30s:200/s")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Stage{Duration: 30 * time.Second, Target: 200}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{"30s", "x:10/s", "0s:10/s", "10s:many"} {
		if _, err := ParseStage(bad); !errors.Is(err, ErrSchedule) {
			t.Errorf("ParseStage(%q) error = %v, want ErrSchedule", bad, err)
		}
	}
}

func offsets(s Schedule) []time.Duration {
	var out []time.Duration
	for n := 0; ; n++ {
		o, ok := s.Offset(n)
		if !ok {
			return out
		}
		out = append(out, o.Round(time.Millisecond))
	}
}

func TestConstantScheduleStartsEvenly(t *testing.T) {
	s := Constant(4, time.Second)
	want := []time.Duration{0, 250 * time.Millisecond, 500 * time.Millisecond, 750 * time.Millisecond}
	if diff := cmp.Diff(want, offsets(s)); diff != "" {
		t.Errorf("offsets (-want +got):\n%s", diff)
	}
	if s.Iterations() != 4 || s.Duration() != time.Second {
		t.Errorf("Iterations, Duration = %d, %s; want 4, 1s", s.Iterations(), s.Duration())
	}
}

func TestRampingScheduleFollowsTheArea(t *testing.T) {
	// 0 → 10/s over 2 s starts 10 iterations; then 10/s for 1 s starts 10 more.
	s := Schedule{Start: 0, Stages: []Stage{{Duration: 2 * time.Second, Target: 10}, {Duration: time.Second, Target: 10}}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	got := offsets(s)
	if len(got) != 20 || s.Iterations() != 20 {
		t.Fatalf("%d offsets, Iterations %d; want 20: %v", len(got), s.Iterations(), got)
	}
	// Iteration n of the ramp starts where 2.5·τ² = n: τ = sqrt(n/2.5).
	for n, want := range map[int]time.Duration{1: 632 * time.Millisecond, 4: 1265 * time.Millisecond, 9: 1897 * time.Millisecond,
		10: 2000 * time.Millisecond, 15: 2500 * time.Millisecond} {
		if d := got[n] - want; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("offset of %d = %s, want %s", n, got[n], want)
		}
	}
	for i := 1; i < len(got); i++ {
		if got[i] < got[i-1] {
			t.Fatalf("offsets go backwards at %d: %v", i, got)
		}
	}
	if r := s.RateAt(time.Second); r != 5 {
		t.Errorf("RateAt(1s) = %v, want 5", r)
	}
}

func TestScheduleValidate(t *testing.T) {
	for name, s := range map[string]Schedule{
		"no stages":      {Start: 10},
		"no duration":    {Start: 10, Stages: []Stage{{Target: 10}}},
		"nothing starts": Constant(0.5, time.Second),
		"negative":       {Start: -1, Stages: []Stage{{Duration: time.Second, Target: 10}}},
	} {
		if err := s.Validate(); !errors.Is(err, ErrSchedule) {
			t.Errorf("%s: Validate = %v, want ErrSchedule", name, err)
		}
	}
}
