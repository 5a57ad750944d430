package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

// receive stores an incoming message id from 910075918 (optionally with a container and a reply).
func receive(t *testing.T, s *Store, c *clock, id, process string, asic []byte, reply *OutMessage) []StatusEvent {
	t.Helper()
	m := InMessage{MessageID: id, ConversationID: "conv-" + id, ProcessIdentifier: process, SenderIdentifier: "910075918",
		ReceiverIdentifier: "910077473", ServiceIdentifier: "DPO", MessageType: "arkivmelding", SBD: []byte(`{"id":"` + id + `"}`)}
	conv := Conversation{ConversationID: m.ConversationID, Sender: "0192:910075918", SenderIdentifier: "910075918",
		Receiver: "0192:910077473", ReceiverIdentifier: "910077473", ProcessIdentifier: process, ServiceIdentifier: "DPO",
		Expiry: c.now().Add(time.Hour)}
	evs, err := s.StoreIncoming(context.Background(), m, asic, conv, reply, nil)
	if err != nil {
		t.Fatalf("store incoming %s: %v", id, err)
	}
	return evs
}

func eventNames(evs []StatusEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, string(e.Status.Status))
	}
	return out
}

func TestStoreIncomingAndDuplicates(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := open(t, t.TempDir(), c)
	ctx := context.Background()
	reply := &OutMessage{MessageID: StatusKey("m1", wire.StatusMottatt), ConversationID: "conv-m1", ServiceIdentifier: "DPO",
		SBD: []byte(`{"status":"MOTTATT"}`)}
	evs := receive(t, s, c, "m1", wire.ProcessArkivmeldingAdministrasjon, []byte("asic-bytes"), reply)
	if diff := cmp.Diff([]string{"OPPRETTET", "INNKOMMENDE_MOTTATT"}, eventNames(evs)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	conv, err := s.ConversationByMessageID(ctx, "m1", Incoming)
	if err != nil {
		t.Fatal(err)
	}
	if conv.Direction != Incoming || conv.Finished || len(conv.Statuses) != 2 {
		t.Errorf("conversation: %+v", conv)
	}
	// The reply is queued for delivery but not listed to the client.
	out, err := s.Outgoing(ctx, StatusKey("m1", wire.StatusMottatt))
	if err != nil || !out.Internal || string(out.SBD) != `{"status":"MOTTATT"}` {
		t.Errorf("internal reply: %+v %v", out, err)
	}
	if page, total, err := s.OutgoingPage(ctx, Filter{}, PageRequest{Size: 10}); err != nil || total != 0 || len(page) != 0 {
		t.Errorf("outbox listing shows internal rows: %d %v", total, err)
	}
	jobs, err := s.Claim(ctx, 10, time.Minute)
	if err != nil || len(jobs) != 1 || jobs[0].MessageID != StatusKey("m1", wire.StatusMottatt) {
		t.Errorf("delivery queue: %+v %v", jobs, err)
	}
	// Finish of an internal row (no conversation of its own) removes it.
	if ev, err := s.Finish(ctx, jobs[0].MessageID, StatusChange{}, nil); err != nil || ev != nil {
		t.Errorf("finish internal: %v %v", ev, err)
	}
	counts, _ := s.Counts(ctx)
	if counts.Incoming != 1 || counts.Outgoing != 0 || counts.Queued != 0 {
		t.Errorf("counts: %+v", counts)
	}

	// A second message with the same messageId is refused and stores nothing.
	m := InMessage{MessageID: "m1", ConversationID: "other", SBD: []byte(`{}`)}
	if _, err := s.StoreIncoming(ctx, m, []byte("x"), Conversation{ConversationID: "other", Expiry: c.now()}, reply, nil); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate: %v", err)
	}
	if files, _ := os.ReadDir(filepath.Join(s.Dir(), "incoming")); len(files) != 1 {
		t.Errorf("files after the duplicate: %d, want 1", len(files))
	}
	// Even after the first was delivered, its messageId stays taken (its conversation remains).
	peeked, ok, err := s.Peek(ctx, Filter{}, time.Minute)
	if err != nil || !ok || peeked.MessageID != "m1" {
		t.Fatalf("peek: %+v %v %v", peeked, ok, err)
	}
	if _, _, err := s.DeleteIncoming(ctx, "m1", nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StoreIncoming(ctx, m, nil, Conversation{ConversationID: "other", Expiry: c.now()}, nil, nil); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate after delivery: %v", err)
	}
}

func TestPeekLocksEachMessageOnce(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := open(t, t.TempDir(), c)
	ctx := context.Background()
	const n = 12
	for i := 0; i < n; i++ {
		receive(t, s, c, fmt.Sprintf("m%02d", i), wire.ProcessArkivmeldingAdministrasjon, nil, nil)
		c.add(time.Millisecond)
	}
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				m, ok, err := s.Peek(ctx, Filter{}, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					return
				}
				mu.Lock()
				got[m.MessageID]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(got) != n {
		t.Errorf("peeked %d distinct messages, want %d", len(got), n)
	}
	for id, k := range got {
		if k != 1 {
			t.Errorf("%s locked %d times", id, k)
		}
	}
}

func TestPeekOrderFiltersAndLockExpiry(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := open(t, t.TempDir(), c)
	ctx := context.Background()
	receive(t, s, c, "a", wire.ProcessArkivmeldingAdministrasjon, nil, nil)
	c.add(time.Second)
	receive(t, s, c, "b", wire.ProcessArkivmeldingResponse, nil, nil)
	c.add(time.Second)
	receive(t, s, c, "c", wire.ProcessArkivmeldingAdministrasjon, nil, nil)

	m, ok, _ := s.Peek(ctx, Filter{Equals: map[string][]string{"process": {wire.ProcessArkivmeldingResponse}}}, 5*time.Minute)
	if !ok || m.MessageID != "b" || !m.Locked(c.now()) {
		t.Fatalf("peek by process: %+v %v", m, ok)
	}
	if _, ok, _ := s.Peek(ctx, Filter{Equals: map[string][]string{"process": {wire.ProcessArkivmeldingResponse}}}, 5*time.Minute); ok {
		t.Error("the only response message was peeked twice")
	}
	m, _, _ = s.Peek(ctx, Filter{}, 5*time.Minute)
	if m.MessageID != "a" {
		t.Errorf("first unlocked by arrival: %s, want a", m.MessageID)
	}
	if _, ok, _ := s.Peek(ctx, Filter{Equals: map[string][]string{"senderIdentifier": {"999999999"}}}, time.Minute); ok {
		t.Error("peek with a sender filter nobody matches found something")
	}

	// Unlock runs only after the lock has run out.
	if n, _ := s.UnlockExpired(ctx); n != 0 {
		t.Errorf("unlocked %d before expiry", n)
	}
	c.add(5 * time.Minute)
	if _, err := s.Pop(ctx, "a"); !errors.Is(err, ErrNotLocked) {
		t.Errorf("pop after the lock ran out: %v", err)
	}
	if n, _ := s.UnlockExpired(ctx); n != 2 {
		t.Errorf("unlocked %d, want 2", n)
	}
	m, _, _ = s.Peek(ctx, Filter{}, time.Minute)
	if m.MessageID != "a" {
		t.Errorf("after unlock the oldest comes first again: %s", m.MessageID)
	}
	page, total, err := s.IncomingPage(ctx, Filter{Equals: map[string][]string{"serviceIdentifier": {"DPO"}}}, PageRequest{Size: 2})
	if err != nil || total != 3 || len(page) != 2 || page[0].MessageID != "a" {
		t.Errorf("page: %d %v %v", total, page, err)
	}
	page, _, _ = s.IncomingPage(ctx, Filter{}, PageRequest{Size: 10, Sort: []SortOrder{{Property: "messageId", Desc: true}}})
	if len(page) != 3 || page[0].MessageID != "c" {
		t.Errorf("sorted page: %v", page)
	}
}

func TestPopAndDeleteNeedALock(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := open(t, t.TempDir(), c)
	ctx := context.Background()
	receive(t, s, c, "m", wire.ProcessArkivmeldingAdministrasjon, []byte("container"), nil)

	if _, err := s.Pop(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("pop unknown: %v", err)
	}
	if _, err := s.Pop(ctx, "m"); !errors.Is(err, ErrNotLocked) {
		t.Errorf("pop unlocked: %v", err)
	}
	if _, _, err := s.DeleteIncoming(ctx, "m", nil, nil); !errors.Is(err, ErrNotLocked) {
		t.Errorf("delete unlocked: %v", err)
	}
	if _, _, err := s.DeleteIncoming(ctx, "nope", nil, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete unknown: %v", err)
	}
	if _, ok, _ := s.Peek(ctx, Filter{}, time.Minute); !ok {
		t.Fatal("nothing to peek")
	}
	m, err := s.Pop(ctx, "m")
	if err != nil || !m.HasASiC || m.ASiCSize != int64(len("container")) {
		t.Fatalf("pop: %+v %v", m, err)
	}
	rc, err := s.OpenASiC(m)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "container" {
		t.Errorf("container: %q", b)
	}

	var seen InMessage
	reply := func(in InMessage) (*OutMessage, error) {
		seen = in
		return &OutMessage{MessageID: StatusKey(in.MessageID, wire.StatusLevert), SBD: []byte(`{"status":"LEVERT"}`)}, nil
	}
	deleted, evs, err := s.DeleteIncoming(ctx, "m", nil, reply)
	if err != nil {
		t.Fatal(err)
	}
	if deleted.MessageID != "m" || seen.MessageID != "m" || string(deleted.SBD) != `{"id":"m"}` {
		t.Errorf("deleted %+v, reply saw %+v", deleted, seen)
	}
	if diff := cmp.Diff([]string{"INNKOMMENDE_LEVERT"}, eventNames(evs)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	conv, _ := s.ConversationByMessageID(ctx, "m", Incoming)
	if !conv.Finished {
		t.Error("conversation not finished after INNKOMMENDE_LEVERT")
	}
	if _, err := s.Outgoing(ctx, StatusKey("m", wire.StatusLevert)); err != nil {
		t.Errorf("LEVERT reply not on the outbox: %v", err)
	}
	if _, err := s.IncomingMessage(ctx, "m"); !errors.Is(err, ErrNotFound) {
		t.Errorf("message still there: %v", err)
	}
	if files, _ := os.ReadDir(filepath.Join(s.Dir(), "incoming")); len(files) != 0 {
		t.Errorf("container file left behind: %d", len(files))
	}

	// A failing reply rolls the whole delete back.
	receive(t, s, c, "n", wire.ProcessArkivmeldingAdministrasjon, nil, nil)
	s.Peek(ctx, Filter{}, time.Minute)
	if _, _, err := s.DeleteIncoming(ctx, "n", nil, func(InMessage) (*OutMessage, error) { return nil, errors.New("boom") }); err == nil {
		t.Fatal("delete with a failing reply succeeded")
	}
	if _, err := s.IncomingMessage(ctx, "n"); err != nil {
		t.Errorf("message gone after a rolled-back delete: %v", err)
	}
	conv, _ = s.ConversationByMessageID(ctx, "n", Incoming)
	if conv.Finished {
		t.Error("INNKOMMENDE_LEVERT survived the rollback")
	}
}

func TestIncomingExpiry(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := open(t, t.TempDir(), c)
	ctx := context.Background()
	receive(t, s, c, "late", wire.ProcessArkivmeldingAdministrasjon, []byte("zip"), nil)
	receive(t, s, c, "done", wire.ProcessArkivmeldingAdministrasjon, nil, nil)
	s.Peek(ctx, Filter{Equals: map[string][]string{"messageId": {"done"}}}, time.Minute)
	if _, _, err := s.DeleteIncoming(ctx, "done", nil, nil); err != nil {
		t.Fatal(err)
	}
	c.add(2 * time.Hour)
	evs, err := s.ExpireDue(ctx, 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Conversation.MessageID != "late" || evs[0].Status.Status != wire.StatusLevetidUtlopt ||
		evs[0].Conversation.Direction != Incoming {
		t.Fatalf("expired: %+v", evs)
	}
	if _, err := s.IncomingMessage(ctx, "late"); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired message still queued: %v", err)
	}
	if files, _ := os.ReadDir(filepath.Join(s.Dir(), "incoming")); len(files) != 0 {
		t.Errorf("container of the expired message left behind")
	}

	// A message that arrived expired is recorded, not queued.
	evs, err = s.RegisterExpiredIncoming(ctx, Conversation{ConversationID: "cx", MessageID: "x", ServiceIdentifier: "DPO", Expiry: c.now().Add(-time.Hour)},
		"Levetiden for meldingen er utgått. Må sendes på nytt", nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"OPPRETTET", "LEVETID_UTLOPT"}, eventNames(evs)); diff != "" {
		t.Errorf("expired on arrival (-want +got):\n%s", diff)
	}
	if evs[1].Status.Description == "" || !evs[1].Conversation.Finished {
		t.Errorf("LEVETID_UTLOPT: %+v", evs[1])
	}
	if _, err := s.RegisterExpiredIncoming(ctx, Conversation{ConversationID: "cx", MessageID: "x", Expiry: c.now()}, "", nil); !errors.Is(err, ErrDuplicate) {
		t.Errorf("expired again: %v", err)
	}
	if counts, _ := s.Counts(ctx); counts.Incoming != 0 {
		t.Errorf("in-queue: %d", counts.Incoming)
	}
}

func TestDiscardIncoming(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := open(t, t.TempDir(), c)
	ctx := context.Background()
	receive(t, s, c, "m", wire.ProcessArkivmeldingAdministrasjon, []byte("zip"), nil)
	evs, err := s.DiscardIncoming(ctx, "m", StatusChange{Status: wire.StatusFeil, Description: "unreadable"}, nil)
	if err != nil || len(evs) != 1 || evs[0].Status.Status != wire.StatusFeil {
		t.Fatalf("discard: %+v %v", evs, err)
	}
	if _, err := s.DiscardIncoming(ctx, "m", StatusChange{}, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("discard twice: %v", err)
	}
}

func TestEnqueueInternalIsIdempotent(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := open(t, t.TempDir(), c)
	ctx := context.Background()
	m := OutMessage{MessageID: StatusKey("x", wire.StatusMottatt), SBD: []byte(`{}`), ServiceIdentifier: "DPO"}
	for i := 0; i < 2; i++ {
		if err := s.EnqueueInternal(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if counts, _ := s.Counts(ctx); counts.Queued != 1 || counts.Outgoing != 0 {
		t.Errorf("counts: %+v", counts)
	}
	if err := s.EnqueueInternal(ctx, OutMessage{}); err == nil {
		t.Error("internal message without key accepted")
	}
}
