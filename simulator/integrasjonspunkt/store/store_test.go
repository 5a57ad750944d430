package store

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func open(t *testing.T, dir string, c *clock) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{Dir: dir, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)} }

func create(t *testing.T, s *Store, c *clock, messageID, service string) {
	t.Helper()
	m := OutMessage{MessageID: messageID, ConversationID: "conv-" + messageID, ServiceIdentifier: service, SBD: []byte(`{}`),
		ReceiverIdentifier: "910075918", SenderIdentifier: "910077473", ProcessIdentifier: wire.ProcessArkivmeldingAdministrasjon}
	conv := Conversation{ConversationID: m.ConversationID, MessageID: messageID, Sender: "0192:910077473", SenderIdentifier: "910077473",
		Receiver: "0192:910075918", ReceiverIdentifier: "910075918", ServiceIdentifier: service, Expiry: c.now().Add(24 * time.Hour)}
	ev, err := s.CreateOutgoing(context.Background(), m, conv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ev == nil || ev.Status.Status != wire.StatusOpprettet {
		t.Fatalf("create gave event %+v, want OPPRETTET", ev)
	}
}

func statusNames(c Conversation) []string {
	var out []string
	for _, s := range c.Statuses {
		out = append(out, string(s.Status))
	}
	return out
}

func TestCreateAndStatuses(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := open(t, t.TempDir(), c)
	ctx := context.Background()
	create(t, s, c, "m1", "DPO")

	if _, err := s.CreateOutgoing(ctx, OutMessage{MessageID: "m1", SBD: []byte(`{}`)}, Conversation{MessageID: "m1"}, nil); !errors.Is(err, ErrDuplicate) {
		t.Errorf("second create: %v, want ErrDuplicate", err)
	}
	for _, st := range []wire.ReceiptStatus{wire.StatusSendt, wire.StatusMottatt, wire.StatusMottatt, wire.StatusLevert, wire.StatusLest} {
		if _, err := s.RegisterStatus(ctx, "m1", Outgoing, StatusChange{Status: st}, nil); err != nil {
			t.Fatal(err)
		}
	}
	conv, err := s.ConversationByMessageID(ctx, "m1", Outgoing)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"OPPRETTET", "SENDT", "MOTTATT", "LEVERT", "LEST"}, statusNames(conv)); diff != "" {
		t.Errorf("statuses, each once (-want +got):\n%s", diff)
	}
	if !conv.Finished || conv.Pollable {
		t.Errorf("after LEST: finished %v pollable %v", conv.Finished, conv.Pollable)
	}
	if _, err := s.RegisterStatus(ctx, "nope", Outgoing, StatusChange{Status: wire.StatusSendt}, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("status on unknown message: %v", err)
	}
}

func TestPollableAndStatusQueue(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := open(t, t.TempDir(), c)
	ctx := context.Background()
	create(t, s, c, "dpv", "DPV")
	create(t, s, c, "dpo", "DPO")
	onlyDPV := func(svc string) bool { return svc == "DPV" }
	yes := true
	for _, id := range []string{"dpv", "dpo"} {
		if _, err := s.RegisterStatus(ctx, id, Outgoing, StatusChange{Status: wire.StatusSendt, Pollable: &yes}, onlyDPV); err != nil {
			t.Fatal(err)
		}
	}
	st, ok, err := s.PeekStatusQueue(ctx)
	if err != nil || !ok || st.MessageID != "dpv" || st.Status != wire.StatusSendt {
		t.Fatalf("peek: %+v %v %v", st, ok, err)
	}
	if ok, _ := s.DeleteFromStatusQueue(ctx, st.ID); !ok {
		t.Error("delete queued status: not found")
	}
	if ok, _ := s.DeleteFromStatusQueue(ctx, st.ID); ok {
		t.Error("deleting twice found it again")
	}
	if _, ok, _ := s.PeekStatusQueue(ctx); ok {
		t.Error("queue not empty: the DPO status must not be queued")
	}
	convs, total, err := s.Conversations(ctx, Filter{}, PageRequest{Size: 10}, true)
	if err != nil || total != 2 || len(convs) != 2 {
		t.Fatalf("pollable conversations: %d %d %v", len(convs), total, err)
	}
	if _, err := s.RegisterStatus(ctx, "dpv", Outgoing, StatusChange{Status: wire.StatusLevert}, nil); err != nil {
		t.Fatal(err)
	}
	conv, _ := s.ConversationByMessageID(ctx, "dpv", Outgoing)
	if !conv.Finished || !conv.Pollable {
		t.Errorf("LEVERT keeps polling (for LEST): finished %v pollable %v", conv.Finished, conv.Pollable)
	}
}

func TestFiles(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := open(t, t.TempDir(), c)
	ctx := context.Background()
	create(t, s, c, "m1", "DPO")
	add := func(name, body string, limit int64) (File, error) {
		return s.AddFile(ctx, File{MessageID: "m1", Filename: name, MimeType: "application/pdf"}, strings.NewReader(body), limit)
	}
	if _, err := add("arkivmelding.xml", "<xml/>", 100); err != nil {
		t.Fatal(err)
	}
	f2, err := add("brev.pdf", "%PDF", 100)
	if err != nil || f2.Dokumentnummer != 2 || f2.Size != 4 {
		t.Fatalf("second file: %+v %v", f2, err)
	}
	if _, err := add("brev.pdf", "again", 100); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate filename: %v", err)
	}
	if _, err := add("big.bin", strings.Repeat("x", 11), 10); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the limit: %v", err)
	}
	if _, err := s.AddFile(ctx, File{MessageID: "nope", Filename: "x"}, strings.NewReader("x"), 10); !errors.Is(err, ErrNotFound) {
		t.Errorf("file for unknown message: %v", err)
	}
	m, err := s.Outgoing(ctx, "m1")
	if err != nil || len(m.Files) != 2 {
		t.Fatalf("message files: %+v %v", m.Files, err)
	}
	r, err := s.OpenFile(m.Files[1])
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != "%PDF" {
		t.Errorf("stored content %q", b)
	}
	if total, _ := s.TotalFileSize(ctx, "m1"); total != 10 {
		t.Errorf("total size %d, want 10", total)
	}
	if err := s.DeleteOutgoing(ctx, "m1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenFile(m.Files[1]); err == nil {
		t.Error("file content survived the message's deletion")
	}
	if _, err := s.ConversationByMessageID(ctx, "m1", Outgoing); err != nil {
		t.Errorf("the conversation must outlive the deleted message: %v", err)
	}
}

func TestQueueSurvivesRestartAndLeases(t *testing.T) {
	t.Parallel()
	c := newClock()
	dir := t.TempDir()
	s := open(t, dir, c)
	ctx := context.Background()
	create(t, s, c, "m1", "DPO")
	if err := s.Enqueue(ctx, "m1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, "m1"); err != nil { // sending twice queues once
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("enqueue unknown: %v", err)
	}
	jobs, err := s.Claim(ctx, 10, time.Minute)
	if err != nil || len(jobs) != 1 || jobs[0].Attempt != 1 {
		t.Fatalf("claim: %+v %v", jobs, err)
	}
	// "Crash": reopen the same directory. The leased job is not given out again until its lease ends.
	s.Close()
	s = open(t, dir, c)
	if jobs, _ := s.Claim(ctx, 10, time.Minute); len(jobs) != 0 {
		t.Fatalf("leased job claimed again: %+v", jobs)
	}
	c.add(61 * time.Second)
	jobs, err = s.Claim(ctx, 10, time.Minute)
	if err != nil || len(jobs) != 1 || jobs[0].Attempt != 2 {
		t.Fatalf("after the lease: %+v %v", jobs, err)
	}
	if err := s.Retry(ctx, "m1", c.now().Add(20*time.Second), "broker answered 503"); err != nil {
		t.Fatal(err)
	}
	if next, _ := s.NextDue(ctx); !next.Equal(c.now().Add(20 * time.Second)) {
		t.Errorf("next due %v", next)
	}
	c.add(20 * time.Second)
	jobs, _ = s.Claim(ctx, 10, time.Minute)
	if len(jobs) != 1 || jobs[0].LastError != "broker answered 503" || jobs[0].Attempt != 3 {
		t.Fatalf("retry: %+v", jobs)
	}
	ev, err := s.Finish(ctx, "m1", StatusChange{Status: wire.StatusSendt}, nil)
	if err != nil || ev == nil || ev.Status.Status != wire.StatusSendt {
		t.Fatalf("finish: %+v %v", ev, err)
	}
	if _, err := s.Outgoing(ctx, "m1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("sent message still in the outbox: %v", err)
	}
	c.add(time.Hour)
	if jobs, _ := s.Claim(ctx, 10, time.Minute); len(jobs) != 0 {
		t.Errorf("sent message claimed again: %+v", jobs)
	}
}

func TestExpireDue(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := open(t, t.TempDir(), c)
	ctx := context.Background()
	create(t, s, c, "open", "DPO")
	create(t, s, c, "done", "DPO")
	if err := s.Enqueue(ctx, "open"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RegisterStatus(ctx, "done", Outgoing, StatusChange{Status: wire.StatusLevert}, nil); err != nil {
		t.Fatal(err)
	}
	if evs, _ := s.ExpireDue(ctx, 100, nil); len(evs) != 0 {
		t.Fatalf("expired before the time: %+v", evs)
	}
	c.add(25 * time.Hour)
	evs, err := s.ExpireDue(ctx, 100, nil)
	if err != nil || len(evs) != 1 || evs[0].Conversation.MessageID != "open" || evs[0].Status.Description != "" {
		t.Fatalf("expire: %+v %v", evs, err)
	}
	if jobs, _ := s.Claim(ctx, 10, time.Minute); len(jobs) != 0 {
		t.Errorf("expired message still queued: %+v", jobs)
	}
	if evs, _ := s.ExpireDue(ctx, 100, nil); len(evs) != 0 {
		t.Errorf("expired twice: %+v", evs)
	}
	if _, err := s.Outgoing(ctx, "open"); !errors.Is(err, ErrNotFound) {
		t.Errorf("an expired queued message stays in the outbox: %v", err)
	}
	// A message that was never sent stays in the outbox (the real IP's scan only marks the conversation).
	create(t, s, c, "unsent", "DPO")
	c.add(25 * time.Hour)
	if evs, _ := s.ExpireDue(ctx, 100, nil); len(evs) != 1 {
		t.Fatalf("unsent message not expired: %+v", evs)
	}
	if _, err := s.Outgoing(ctx, "unsent"); err != nil {
		t.Errorf("the unsent message left the outbox: %v", err)
	}
}

func TestQueries(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := open(t, t.TempDir(), c)
	ctx := context.Background()
	for _, id := range []string{"a", "b", "c"} {
		create(t, s, c, id, "DPO")
		c.add(time.Minute)
	}
	convs, total, err := s.Conversations(ctx, Filter{}, PageRequest{Size: 2}, false)
	if err != nil || total != 3 || len(convs) != 2 || convs[0].MessageID != "c" {
		t.Fatalf("default sort lastUpdate desc: %d %d %v %v", total, len(convs), err, convs)
	}
	convs, _, _ = s.Conversations(ctx, Filter{Equals: map[string][]string{"messageId": {"a", "b"}}}, PageRequest{Size: 10, Sort: []SortOrder{{Property: "messageId"}}}, false)
	if len(convs) != 2 || convs[0].MessageID != "a" {
		t.Errorf("IN filter with sort: %v", convs)
	}
	if _, _, err := s.Conversations(ctx, Filter{Equals: map[string][]string{"colour": {"x"}}}, PageRequest{Size: 1}, false); !errors.Is(err, ErrBadQuery) {
		t.Errorf("unknown filter: %v", err)
	}
	if _, _, err := s.Statuses(ctx, Filter{}, PageRequest{Size: 1, Sort: []SortOrder{{Property: "colour"}}}); !errors.Is(err, ErrBadQuery) {
		t.Errorf("unknown sort: %v", err)
	}
	sts, total, err := s.Statuses(ctx, Filter{Equals: map[string][]string{"status": {"OPPRETTET"}}}, PageRequest{Size: 10})
	if err != nil || total != 3 || sts[0].MessageID != "a" {
		t.Errorf("statuses: %v %d %v", sts, total, err)
	}
	from := time.Date(2026, 11, 22, 10, 0, 30, 0, time.UTC)
	sts, total, _ = s.Statuses(ctx, Filter{TimeProperty: "lastUpdate", From: from, To: from.Add(time.Minute)}, PageRequest{Size: 10})
	if total != 1 || sts[0].MessageID != "b" {
		t.Errorf("time range: %v", sts)
	}
	page, total, err := s.OutgoingPage(ctx, Filter{Equals: map[string][]string{"receiverIdentifier": {"910075918"}}}, PageRequest{Page: 1, Size: 2})
	if err != nil || total != 3 || len(page) != 1 || page[0].MessageID != "c" {
		t.Errorf("outbox page 2: %v %d %v", page, total, err)
	}
}

func TestQueueKeepsStatusMessagesInOrder(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := open(t, t.TempDir(), c)
	ctx := context.Background()
	// Two status messages of one conversation (a receiver's MOTTATT and LEVERT) and two ordinary
	// messages of another conversation.
	for _, st := range []string{"MOTTATT", "LEVERT"} {
		m := OutMessage{MessageID: StatusKey("orig", wire.ReceiptStatus(st)), ConversationID: "same", ServiceIdentifier: "DPO",
			SBD: []byte(`{}`), Internal: true}
		if err := s.EnqueueInternal(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"plain1", "plain2"} {
		m := OutMessage{MessageID: id, ConversationID: "other", SBD: []byte(`{}`)}
		if _, err := s.CreateOutgoing(ctx, m, Conversation{MessageID: id, ConversationID: "other", Expiry: c.now().Add(time.Hour)}, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.Enqueue(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := s.Claim(ctx, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range jobs {
		got = append(got, j.MessageID)
	}
	want := []string{StatusKey("orig", wire.StatusMottatt), "plain1", "plain2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claimed (-want +got):\n%s", diff)
	}
	// LEVERT waits even after MOTTATT fails and is scheduled again.
	if err := s.Retry(ctx, StatusKey("orig", wire.StatusMottatt), c.now(), "503"); err != nil {
		t.Fatal(err)
	}
	jobs, _ = s.Claim(ctx, 10, time.Minute)
	if len(jobs) != 1 || jobs[0].MessageID != StatusKey("orig", wire.StatusMottatt) {
		t.Fatalf("after a retry: %+v", jobs)
	}
	if _, err := s.Finish(ctx, StatusKey("orig", wire.StatusMottatt), StatusChange{}, nil); err != nil {
		t.Fatal(err)
	}
	jobs, _ = s.Claim(ctx, 10, time.Minute)
	if len(jobs) != 1 || jobs[0].MessageID != StatusKey("orig", wire.StatusLevert) {
		t.Fatalf("after MOTTATT was delivered: %+v", jobs)
	}
}

func TestReleaseLeasesAfterACrash(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := open(t, t.TempDir(), c)
	ctx := context.Background()
	create(t, s, c, "m1", "DPF")
	if err := s.Enqueue(ctx, "m1"); err != nil {
		t.Fatal(err)
	}
	if jobs, err := s.Claim(ctx, 10, time.Hour); err != nil || len(jobs) != 1 {
		t.Fatalf("claim: %v %v", jobs, err)
	}
	if jobs, _ := s.Claim(ctx, 10, time.Hour); len(jobs) != 0 {
		t.Fatalf("a leased job was claimed again: %v", jobs)
	}
	if n, err := s.ReleaseLeases(ctx); err != nil || n != 1 {
		t.Fatalf("released %d, %v; want 1", n, err)
	}
	if jobs, err := s.Claim(ctx, 10, time.Hour); err != nil || len(jobs) != 1 || jobs[0].Attempt != 2 {
		t.Fatalf("after release: %+v %v; want the job again, as its second attempt", jobs, err)
	}
}

// TestFinishWith checks that SENDT and the statuses a channel knows at once are registered together with
// the removal from the outbox, in order, and that a status-less change registers nothing.
func TestFinishWith(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := open(t, t.TempDir(), c)
	ctx := context.Background()
	create(t, s, c, "m1", "DPF")
	if err := s.Enqueue(ctx, "m1"); err != nil {
		t.Fatal(err)
	}
	evs, err := s.FinishWith(ctx, "m1", []StatusChange{{Status: wire.StatusSendt}, {}, {Status: wire.StatusLevert}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []wire.ReceiptStatus
	for _, ev := range evs {
		got = append(got, ev.Status.Status)
	}
	if diff := cmp.Diff([]wire.ReceiptStatus{wire.StatusSendt, wire.StatusLevert}, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	conv, err := s.ConversationByMessageID(ctx, "m1", Outgoing)
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, st := range conv.Statuses {
		got = append(got, st.Status)
	}
	if diff := cmp.Diff([]wire.ReceiptStatus{wire.StatusOpprettet, wire.StatusSendt, wire.StatusLevert}, got); diff != "" {
		t.Errorf("stored statuses (-want +got):\n%s", diff)
	}
	if _, err := s.Outgoing(ctx, "m1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("finished message still in the outbox: %v", err)
	}
}

func TestFilesInlineAndOnDisk(t *testing.T) {
	t.Parallel()
	c := newClock()
	dir := t.TempDir()
	s := open(t, dir, c)
	ctx := context.Background()
	create(t, s, c, "m1", "DPO")
	big := strings.Repeat("b", InlineLimit+1)
	tests := []struct {
		name, body string
		onDisk     bool
	}{
		{name: "empty.txt", body: ""},
		{name: "small.pdf", body: "%PDF small"},
		{name: "edge.bin", body: strings.Repeat("e", InlineLimit)},
		{name: "big.bin", body: big, onDisk: true},
	}
	for _, tt := range tests {
		f, err := s.AddFile(ctx, File{MessageID: "m1", Filename: tt.name}, strings.NewReader(tt.body), 1<<30)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if f.Size != int64(len(tt.body)) {
			t.Errorf("%s: size %d, want %d", tt.name, f.Size, len(tt.body))
		}
		_, statErr := os.Stat(filepath.Join(dir, "files", "m1", f.Identifier))
		if onDisk := statErr == nil; onDisk != tt.onDisk {
			t.Errorf("%s: on disk %v, want %v", tt.name, onDisk, tt.onDisk)
		}
		r, err := s.OpenFile(f)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got, _ := io.ReadAll(r)
		r.Close()
		if string(got) != tt.body {
			t.Errorf("%s: read back %d bytes, want %d", tt.name, len(got), len(tt.body))
		}
	}
}
