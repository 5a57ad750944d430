package lifecycle

import (
	"sync"
	"testing"
	"time"
)

func TestTimers(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	ran := map[string]bool{}
	tm := New(&mu, 2)
	step := func(name string) func() { return func() { ran[name] = true } }

	mu.Lock()
	ok1 := tm.AfterLocked(5*time.Millisecond, step("first"))
	ok2 := tm.AfterLocked(time.Hour, step("stopped"))
	ok3 := tm.AfterLocked(time.Millisecond, step("over the bound"))
	mu.Unlock()
	if !ok1 || !ok2 || ok3 {
		t.Fatalf("scheduled %v %v %v, want true true false (max 2)", ok1, ok2, ok3)
	}
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	if !ran["first"] || ran["over the bound"] || tm.PendingLocked() != 1 {
		t.Fatalf("ran %v, pending %d", ran, tm.PendingLocked())
	}
	tm.StopLocked()
	if tm.PendingLocked() != 0 || !tm.AfterLocked(time.Millisecond, step("after reset")) {
		t.Fatal("a reset must forget pending steps and keep scheduling")
	}
	tm.CloseLocked()
	if tm.AfterLocked(time.Millisecond, step("after close")) || !tm.ClosedLocked() {
		t.Fatal("closed timers must refuse steps")
	}
	mu.Unlock()
	time.Sleep(30 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if ran["stopped"] || ran["after reset"] || ran["after close"] {
		t.Fatalf("a step ran after reset or close: %v", ran)
	}
}
