package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/registry"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/sr"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// scripted is a test channel whose answers are scripted per attempt.
type scripted struct {
	mu      sync.Mutex
	answers []error // the n-th Send returns answers[n]; past the end it succeeds
	sent    []string
}

func (s *scripted) Service() wire.ServiceIdentifier { return wire.ServiceDPO }

func (s *scripted) Send(_ context.Context, m channel.Message) (channel.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.sent)
	s.sent = append(s.sent, m.SBD.MessageID())
	if n < len(s.answers) && s.answers[n] != nil {
		return channel.Result{}, s.answers[n]
	}
	return channel.Result{ExternalReference: "ref"}, nil
}

func (s *scripted) attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

type env struct {
	store *store.Store
	ch    *scripted
	stop  func()
}

func start(t *testing.T, answers []error, maxAttempts int) env {
	t.Helper()
	pki := fixtures.MustLoadPKI()
	cred := pki.MustGet(fixtures.CredSR)
	reg, err := sr.New(sr.Options{Signer: cred.Key, Certificate: cred.Certificate, Registrations: fixtures.Default().Registrations(pki)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(reg.Handler())
	st, err := store.Open(context.Background(), store.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ch := &scripted{answers: answers}
	d := New(Options{
		Store: st, Registry: registry.New(registry.Options{BaseURL: srv.URL, Signed: true, CacheTTL: time.Minute}),
		Channels: []channel.Channel{ch}, Workers: 2,
		Retry:          RetryPolicy{Initial: 10 * time.Millisecond, Multiplier: 2, Max: 50 * time.Millisecond, MaxAttempts: maxAttempts},
		AttemptTimeout: 2 * time.Second, PollInterval: 5 * time.Millisecond, TTLScanInterval: 10 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done; st.Close(); srv.Close() }
	t.Cleanup(stop)
	return env{store: st, ch: ch, stop: stop}
}

// send creates and enqueues an arkivmelding to the DPO receiver with the given time to live.
func (e env) send(t *testing.T, ttl time.Duration) string {
	t.Helper()
	sbd := fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{TTL: ttl})
	b, _ := json.Marshal(sbd)
	exp, _ := sbd.ExpectedResponseDateTime()
	m := store.OutMessage{MessageID: sbd.MessageID(), ConversationID: sbd.ConversationID(), ServiceIdentifier: "DPO", SBD: b}
	c := store.Conversation{MessageID: sbd.MessageID(), ConversationID: sbd.ConversationID(), ServiceIdentifier: "DPO", Expiry: exp.Time}
	if _, err := e.store.CreateOutgoing(context.Background(), m, c, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Enqueue(context.Background(), sbd.MessageID()); err != nil {
		t.Fatal(err)
	}
	return sbd.MessageID()
}

// waitFor waits until the conversation of id is finished or has status want, and returns its statuses.
func (e env) waitFor(t *testing.T, id string, want wire.ReceiptStatus) store.Conversation {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := e.store.ConversationByMessageID(context.Background(), id, store.Outgoing)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range c.Statuses {
			if s.Status == want {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 5s; statuses %v", want, names(c))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func names(c store.Conversation) []string {
	var out []string
	for _, s := range c.Statuses {
		out = append(out, string(s.Status))
	}
	return out
}

var errUnavailable = errors.New("broker answered 503")

func TestRetriedThenDeliveredOnce(t *testing.T) {
	t.Parallel()
	e := start(t, []error{errUnavailable, errUnavailable}, 10)
	id := e.send(t, time.Hour)
	c := e.waitFor(t, id, wire.StatusSendt)
	if diff := cmp.Diff([]string{"OPPRETTET", "SENDT"}, names(c)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	time.Sleep(50 * time.Millisecond)
	if n := e.ch.attempts(); n != 3 {
		t.Errorf("%d attempts, want 2 failures and 1 success", n)
	}
	if _, err := e.store.Outgoing(context.Background(), id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delivered message still in the outbox: %v", err)
	}
}

func TestPermanentFailureIsFeilAtOnce(t *testing.T) {
	t.Parallel()
	e := start(t, []error{channel.Permanent(errors.New("broker answered 400"), `{"title":"Bad Request"}`)}, 10)
	id := e.send(t, time.Hour)
	c := e.waitFor(t, id, wire.StatusFeil)
	last := c.Statuses[len(c.Statuses)-1]
	if last.Description != DescriptionPermanent+": broker answered 400" || last.RawReceipt != `{"title":"Bad Request"}` {
		t.Errorf("FEIL status %+v", last)
	}
	time.Sleep(50 * time.Millisecond)
	if n := e.ch.attempts(); n != 1 {
		t.Errorf("%d attempts, want 1 (no retry)", n)
	}
}

func TestAttemptsUsedUpIsFeil(t *testing.T) {
	t.Parallel()
	e := start(t, []error{errUnavailable, errUnavailable, errUnavailable, errUnavailable}, 3)
	id := e.send(t, time.Hour)
	c := e.waitFor(t, id, wire.StatusFeil)
	if n := e.ch.attempts(); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
	if d := c.Statuses[len(c.Statuses)-1].Description; d != "Request to receiver '910075918' failed delivery over DPO - Moved to DLQ" {
		t.Errorf("description %q", d)
	}
}

func TestExpiresWhileRetrying(t *testing.T) {
	t.Parallel()
	answers := make([]error, 1000)
	for i := range answers {
		answers[i] = errUnavailable
	}
	e := start(t, answers, 1000)
	id := e.send(t, 300*time.Millisecond)
	c := e.waitFor(t, id, wire.StatusLevetidUtlopt)
	if !c.Finished {
		t.Error("expired conversation not finished")
	}
	// An attempt already in flight when the message expired may still end; none starts after that.
	time.Sleep(100 * time.Millisecond)
	n := e.ch.attempts()
	time.Sleep(200 * time.Millisecond)
	if e.ch.attempts() != n {
		t.Error("attempts went on after expiry")
	}
}

func TestDelay(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{Initial: 20 * time.Second, Multiplier: 3, Max: time.Hour}
	var got []time.Duration
	for a := 1; a <= 7; a++ {
		got = append(got, p.Delay(a))
	}
	want := []time.Duration{20 * time.Second, time.Minute, 3 * time.Minute, 9 * time.Minute, 27 * time.Minute, time.Hour, time.Hour}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the real IP's back-off (-want +got):\n%s", diff)
	}
}
