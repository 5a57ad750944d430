package polling

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

func TestBackoff(t *testing.T) {
	const day = 24 * time.Hour
	for _, c := range []struct {
		base, age, want time.Duration
	}{
		{time.Minute, 0, time.Minute},
		{time.Minute, -time.Hour, time.Minute},
		{time.Minute, 15 * day, time.Minute + 59*time.Minute/2},
		{time.Minute, 30 * day, 60 * time.Minute},
		{time.Minute, 90 * day, 60 * time.Minute},
		{time.Minute, 3 * day, time.Minute + 59*time.Minute/10},
		{time.Second, 30 * day, 60 * time.Second}, // a fast harness scales the range
	} {
		if got := Backoff(c.base, MaxFactor*c.base, DefaultThreshold, c.age); got != c.want {
			t.Errorf("Backoff(%v, age %v) = %v, want %v", c.base, c.age, got, c.want)
		}
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func setup(t *testing.T, c *clock, ids ...string) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, store.Options{Dir: t.TempDir(), Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, id := range ids {
		m := store.OutMessage{MessageID: id, ConversationID: "c-" + id, ServiceIdentifier: "DPV", SBD: []byte(`{}`),
			ReceiverIdentifier: "910075918", SenderIdentifier: "910077473", ProcessIdentifier: wire.ProcessArkivmeldingAdministrasjon}
		conv := store.Conversation{ConversationID: m.ConversationID, MessageID: id, Sender: "0192:910077473", SenderIdentifier: "910077473",
			Receiver: "0192:910075918", ReceiverIdentifier: "910075918", ServiceIdentifier: "DPV", Expiry: c.now().Add(24 * time.Hour)}
		if _, err := s.CreateOutgoing(ctx, m, conv, nil); err != nil {
			t.Fatal(err)
		}
		yes := true
		if _, err := s.Finish(ctx, id, store.StatusChange{Status: wire.StatusSendt, Pollable: &yes}, nil); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func statuses(t *testing.T, s *store.Store, id string) (string, bool) {
	t.Helper()
	c, err := s.ConversationByMessageID(context.Background(), id, store.Outgoing)
	if err != nil {
		t.Fatal(err)
	}
	out := ""
	for _, st := range c.Statuses {
		if out != "" {
			out += ","
		}
		out += string(st.Status)
	}
	return out, c.Pollable
}

// TestLevertLestStop drives one conversation through LEVERT, then LEST, after which it is never polled.
func TestLevertLestStop(t *testing.T) {
	c := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	s := setup(t, c, "m1")
	ctx := context.Background()
	upstream := []store.StatusChange{} // what the channel reports
	calls := 0
	var events []string
	p := New(Options{Store: s, Now: c.now, PageSize: 1,
		Pollers: map[wire.ServiceIdentifier]StatusPoller{wire.ServiceDPV: PollerFunc(func(_ context.Context, conv store.Conversation) ([]store.StatusChange, error) {
			calls++
			return upstream, nil
		})},
		OnStatus: func(ev store.StatusEvent) { events = append(events, string(ev.Status.Status)) }})

	tick := func() {
		t.Helper()
		if err := p.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tick() // first round polls at once; nothing new
	if calls != 1 {
		t.Fatalf("%d calls", calls)
	}
	c.add(30 * time.Second)
	tick() // back-off (1 min) not passed
	if calls != 1 {
		t.Fatalf("polled before its interval: %d calls", calls)
	}
	upstream = []store.StatusChange{{Status: wire.StatusLevert}}
	c.add(30 * time.Second)
	tick()
	if got, pollable := statuses(t, s, "m1"); got != "OPPRETTET,SENDT,LEVERT" || !pollable {
		t.Fatalf("after publish: %s pollable=%v", got, pollable)
	}
	upstream = []store.StatusChange{{Status: wire.StatusLevert}, {Status: wire.StatusLest}}
	c.add(time.Minute)
	tick()
	if got, pollable := statuses(t, s, "m1"); got != "OPPRETTET,SENDT,LEVERT,LEST" || pollable {
		t.Fatalf("after read: %s pollable=%v", got, pollable)
	}
	n := calls
	c.add(time.Hour)
	tick()
	if calls != n {
		t.Fatal("polled after LEST")
	}
	if len(events) != 2 || events[0] != "LEVERT" || events[1] != "LEST" {
		t.Errorf("events %v", events)
	}
}

// TestStopOnDuplicate stops polling on a stop whose status was registered before, and pages through
// several conversations.
func TestStopOnDuplicate(t *testing.T) {
	c := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	s := setup(t, c, "a", "b", "c")
	ctx := context.Background()
	no := false
	seen := map[string]int{}
	p := New(Options{Store: s, Now: c.now, PageSize: 2,
		Pollers: map[wire.ServiceIdentifier]StatusPoller{wire.ServiceDPV: PollerFunc(func(_ context.Context, conv store.Conversation) ([]store.StatusChange, error) {
			seen[conv.MessageID]++
			if seen[conv.MessageID] == 1 {
				return []store.StatusChange{{Status: wire.StatusAnnet, Description: "Unknown"}}, nil
			}
			return []store.StatusChange{{Status: wire.StatusAnnet, Description: "Melding slettet", Pollable: &no}}, nil
		})}})
	for i := 0; i < 3; i++ {
		if err := p.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		c.add(2 * time.Minute)
	}
	for _, id := range []string{"a", "b", "c"} {
		got, pollable := statuses(t, s, id)
		if got != "OPPRETTET,SENDT,ANNET" || pollable || seen[id] != 2 {
			t.Errorf("%s: %s pollable=%v polled %d", id, got, pollable, seen[id])
		}
	}
}

// TestRunFast runs the loop with a fast interval.
func TestRunFast(t *testing.T) {
	c := &clock{t: time.Now()}
	s := setup(t, c, "m1")
	done := make(chan struct{})
	var once sync.Once
	p := New(Options{Store: s, Interval: 10 * time.Millisecond,
		Pollers: map[wire.ServiceIdentifier]StatusPoller{wire.ServiceDPV: PollerFunc(func(context.Context, store.Conversation) ([]store.StatusChange, error) {
			return []store.StatusChange{{Status: wire.StatusLevert}, {Status: wire.StatusLest}}, nil
		})},
		OnStatus: func(ev store.StatusEvent) {
			if ev.Status.Status == wire.StatusLest {
				once.Do(func() { close(done) })
			}
		}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("no LEST")
	}
}
