package maskinporten

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestReplayCache(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_800_000_000, 0)
	c := newReplayCache(3)
	steps := []struct {
		key   string
		until time.Time
		now   time.Time
		want  bool
	}{
		{"a", t0.Add(time.Minute), t0, true},
		{"a", t0.Add(time.Minute), t0.Add(time.Second), false},
		{"b", t0.Add(time.Minute), t0, true},
		{"a", t0.Add(2 * time.Minute), t0.Add(time.Minute), true}, // a has expired
		{"c", t0.Add(3 * time.Minute), t0.Add(time.Minute), true},
		{"d", t0.Add(3 * time.Minute), t0.Add(time.Minute), true},
		{"e", t0.Add(3 * time.Minute), t0.Add(time.Minute), true}, // full: the oldest (a) goes
		{"a", t0.Add(3 * time.Minute), t0.Add(time.Minute), true},
	}
	for i, s := range steps {
		if got := c.use(s.key, s.until, s.now); got != s.want {
			t.Errorf("step %d: use(%q) = %v, want %v", i, s.key, got, s.want)
		}
		if n := c.len(); n > 3 {
			t.Errorf("step %d: %d entries, cap 3", i, n)
		}
	}
	for i := range 1000 {
		c.use(fmt.Sprint(i), t0.Add(time.Hour), t0)
	}
	if n, o := c.len(), len(c.order); n != 3 || o > 3 {
		t.Errorf("after 1000 uses: %d entries, %d in order", n, o)
	}
	c.reset()
	if !c.use("a", t0.Add(time.Hour), t0) {
		t.Error("reset did not forget")
	}
}

func TestIssuedLog(t *testing.T) {
	t.Parallel()
	l := newIssuedLog(3)
	for i := range 5 {
		l.add(IssuedToken{JTI: fmt.Sprint(i)})
	}
	got := l.list()
	want := IssuedTokens{Tokens: []IssuedToken{{JTI: "2"}, {JTI: "3"}, {JTI: "4"}}, Dropped: 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, ok := l.find("1"); ok {
		t.Error("found a dropped token")
	}
	if tok, ok := l.find("3"); !ok || tok.JTI != "3" {
		t.Errorf("find(3) = %v, %v", tok, ok)
	}
}
