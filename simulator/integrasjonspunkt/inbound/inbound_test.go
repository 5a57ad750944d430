package inbound

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// env is a Service over a real store, recording statuses and wake-ups.
type env struct {
	svc    *Service
	st     *store.Store
	mu     sync.Mutex
	events []store.StatusEvent
	wakes  int
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{st: st}
	e.svc = New(Options{Store: st,
		OnStatus: func(ev store.StatusEvent) { e.mu.Lock(); e.events = append(e.events, ev); e.mu.Unlock() },
		Wake:     func() { e.mu.Lock(); e.wakes++; e.mu.Unlock() }})
	return e
}

// take returns and forgets the recorded statuses as "DIRECTION STATUS".
func (e *env) take() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.events {
		out = append(out, ev.Conversation.Direction+" "+string(ev.Status.Status))
	}
	e.events = nil
	return out
}

// sent creates an outgoing conversation for messageID, as if this IP had sent it.
func (e *env) sent(t *testing.T, messageID string) {
	t.Helper()
	m := store.OutMessage{MessageID: messageID, ConversationID: "c-" + messageID, SBD: []byte(`{}`), ServiceIdentifier: "DPO"}
	c := store.Conversation{ConversationID: m.ConversationID, MessageID: messageID, ServiceIdentifier: "DPO", Expiry: time.Now().Add(time.Hour)}
	if _, err := e.st.CreateOutgoing(context.Background(), m, c, nil); err != nil {
		t.Fatal(err)
	}
}

func statuses(t *testing.T, st *store.Store, messageID, direction string) []string {
	t.Helper()
	c, err := st.ConversationByMessageID(context.Background(), messageID, direction)
	if err != nil {
		t.Fatalf("conversation %s %s: %v", messageID, direction, err)
	}
	var out []string
	for _, s := range c.Statuses {
		out = append(out, string(s.Status))
	}
	return out
}

func TestMessageIsQueuedAndMottattSentBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	sbd := fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{Sender: "910077473", Receiver: "910075918", TTL: time.Hour, MessageChannel: "kanal-1"})
	if err := e.svc.Handle(ctx, sbd, []byte("asic"), wire.ServiceDPO); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"INCOMING OPPRETTET", "INCOMING INNKOMMENDE_MOTTATT"}, e.take()); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	in, err := e.st.IncomingMessage(ctx, sbd.MessageID())
	if err != nil {
		t.Fatal(err)
	}
	want := store.InMessage{MessageID: sbd.MessageID(), ConversationID: sbd.ConversationID(), ProcessIdentifier: wire.ProcessArkivmeldingAdministrasjon,
		SenderIdentifier: "910077473", ReceiverIdentifier: "910075918", ServiceIdentifier: "DPO", MessageType: "arkivmelding"}
	got := store.InMessage{MessageID: in.MessageID, ConversationID: in.ConversationID, ProcessIdentifier: in.ProcessIdentifier,
		SenderIdentifier: in.SenderIdentifier, ReceiverIdentifier: in.ReceiverIdentifier, ServiceIdentifier: in.ServiceIdentifier, MessageType: in.MessageType}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(store.InMessage{})); diff != "" {
		t.Errorf("queued message (-want +got):\n%s", diff)
	}
	if !in.HasASiC {
		t.Error("container not kept")
	}
	conv, _ := e.st.ConversationByMessageID(ctx, sbd.MessageID(), store.Incoming)
	exp, _ := sbd.ExpectedResponseDateTime()
	if conv.Sender != "0192:910077473" || conv.ReceiverIdentifier != "910075918" || !conv.Expiry.Equal(exp.Time) ||
		conv.DocumentIdentifier != wire.StandardArkivmelding || conv.MessageReference != sbd.ConversationID() {
		t.Errorf("conversation: %+v", conv)
	}

	out, err := e.st.Outgoing(ctx, store.StatusKey(sbd.MessageID(), wire.StatusMottatt))
	if err != nil {
		t.Fatalf("MOTTATT not on the outbox: %v", err)
	}
	reply, err := wire.ParseSBD(out.SBD)
	if err != nil {
		t.Fatal(err)
	}
	if reply.MessageID() != sbd.MessageID() || reply.ReceiverIdentifier() != "0192:910077473" || reply.MessageChannel() != "kanal-1" ||
		reply.Message.(*wire.StatusMessage).Status != wire.StatusMottatt || out.ReceiverIdentifier != "910077473" ||
		out.ServiceIdentifier != "DPO" || !out.Internal {
		t.Errorf("reply: %+v\n%s", out, out.SBD)
	}
	if e.wakes != 1 {
		t.Errorf("delivery woken %d times, want 1", e.wakes)
	}

	// The same message again is discarded without a word.
	if err := e.svc.Handle(ctx, sbd, []byte("asic"), wire.ServiceDPO); err != nil {
		t.Errorf("duplicate: %v", err)
	}
	if got := e.take(); len(got) != 0 || e.wakes != 1 {
		t.Errorf("duplicate registered %v, woke %d", got, e.wakes)
	}
}

func TestAcknowledgeSendsLevert(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	sbd := fixtures.MustSBD(wire.TypeAvtalt, fixtures.SBDSpec{TTL: time.Hour})
	if err := e.svc.Handle(ctx, sbd, nil, wire.ServiceDPO); err != nil {
		t.Fatal(err)
	}
	e.take()
	if _, err := e.svc.Acknowledge(ctx, sbd.MessageID()); !errors.Is(err, store.ErrNotLocked) {
		t.Errorf("acknowledge without lock: %v", err)
	}
	if _, err := e.svc.Acknowledge(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("acknowledge unknown: %v", err)
	}
	if _, ok, _ := e.st.Peek(ctx, store.Filter{}, time.Minute); !ok {
		t.Fatal("nothing to peek")
	}
	m, err := e.svc.Acknowledge(ctx, sbd.MessageID())
	if err != nil {
		t.Fatal(err)
	}
	if m.MessageID != sbd.MessageID() {
		t.Errorf("acknowledged %s", m.MessageID)
	}
	if diff := cmp.Diff([]string{"INCOMING INNKOMMENDE_LEVERT"}, e.take()); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	out, err := e.st.Outgoing(ctx, store.StatusKey(sbd.MessageID(), wire.StatusLevert))
	if err != nil {
		t.Fatalf("LEVERT not on the outbox: %v", err)
	}
	reply, _ := wire.ParseSBD(out.SBD)
	if reply.Process() != wire.ProcessAvtaltResponse || reply.Message.(*wire.StatusMessage).Status != wire.StatusLevert {
		t.Errorf("reply %s", out.SBD)
	}
	if e.wakes != 2 {
		t.Errorf("wakes %d, want 2 (MOTTATT and LEVERT)", e.wakes)
	}
}

func TestExpiredOnArrivalIsNotQueued(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	sbd := fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{Now: time.Now().Add(-2 * time.Hour), TTL: time.Hour})
	if err := e.svc.Handle(ctx, sbd, []byte("asic"), wire.ServiceDPO); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"INCOMING OPPRETTET", "INCOMING LEVETID_UTLOPT"}, e.take()); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	conv, _ := e.st.ConversationByMessageID(ctx, sbd.MessageID(), store.Incoming)
	if conv.Statuses[1].Description != DescriptionExpired {
		t.Errorf("description %q", conv.Statuses[1].Description)
	}
	if c, _ := e.st.Counts(ctx); c.Incoming != 0 || c.Queued != 0 {
		t.Errorf("queued: %+v", c)
	}
	if err := e.svc.Handle(ctx, sbd, nil, wire.ServiceDPO); err != nil || len(e.take()) != 0 {
		t.Errorf("expired duplicate: %v", err)
	}
}

func TestStatusMessagesUpdateOutgoingConversations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	orig := fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{Sender: "910077473", Receiver: "910075918", TTL: time.Hour})
	e.sent(t, orig.MessageID())
	e.take()
	for _, s := range []wire.ReceiptStatus{wire.StatusMottatt, wire.StatusLevert} {
		st := statusSBD(t, orig, s)
		if err := e.svc.Handle(ctx, st, nil, wire.ServiceDPO); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]string{"OUTGOING MOTTATT", "OUTGOING LEVERT"}, e.take()); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"OPPRETTET", "MOTTATT", "LEVERT"}, statuses(t, e.st, orig.MessageID(), store.Outgoing)); diff != "" {
		t.Errorf("outgoing conversation (-want +got):\n%s", diff)
	}
	if c, _ := e.st.Counts(ctx); c.Incoming != 0 || c.Queued != 0 {
		t.Errorf("a status was queued or answered: %+v", c)
	}
	// A status for a message this IP never sent is dropped.
	unknown := fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{TTL: time.Hour})
	if err := e.svc.Handle(ctx, statusSBD(t, unknown, wire.StatusMottatt), nil, wire.ServiceDPO); err != nil {
		t.Errorf("unknown status: %v", err)
	}
	if len(e.take()) != 0 {
		t.Error("unknown status registered something")
	}
}

// statusSBD is the status the receiving IP sends back for orig (built independently of package receipt).
func statusSBD(t *testing.T, orig *wire.StandardBusinessDocument, s wire.ReceiptStatus) *wire.StandardBusinessDocument {
	t.Helper()
	st := fixtures.MustSBD(wire.TypeStatus, fixtures.SBDSpec{Sender: orig.ReceiverIdentifier(), Receiver: orig.SenderIdentifier(),
		MessageID: orig.MessageID(), ConversationID: orig.ConversationID(), TTL: 24 * time.Hour})
	st.Message = &wire.StatusMessage{Status: s}
	return st
}

func TestKvitteringRegistersLestAndIsQueued(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for receiptType, want := range map[string]wire.ReceiptStatus{"OK": wire.StatusLest, "WARNING": wire.StatusLest,
		"ERROR": wire.StatusFeil, "NOTSUPPORTED": wire.StatusFeil} {
		orig := fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{TTL: time.Hour})
		e.sent(t, orig.MessageID())
		k := fixtures.MustSBD(wire.TypeArkivmeldingKvittering, fixtures.SBDSpec{RelatedTo: orig.MessageID(), TTL: time.Hour})
		k.Message.(*wire.ArkivmeldingKvittering).ReceiptType = receiptType
		e.take()
		if err := e.svc.Handle(ctx, k, nil, wire.ServiceDPO); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"OUTGOING " + string(want), "INCOMING OPPRETTET", "INCOMING INNKOMMENDE_MOTTATT"}, e.take()); diff != "" {
			t.Errorf("%s: statuses (-want +got):\n%s", receiptType, diff)
		}
		conv, _ := e.st.ConversationByMessageID(ctx, orig.MessageID(), store.Outgoing)
		last := conv.Statuses[len(conv.Statuses)-1]
		var raw wire.ArkivmeldingKvittering
		if err := json.Unmarshal([]byte(last.RawReceipt), &raw); err != nil || raw.ReceiptType != receiptType || raw.RelatedToMessageID != orig.MessageID() {
			t.Errorf("%s: raw receipt %q (%v)", receiptType, last.RawReceipt, err)
		}
		if last.Description != "ArkivmeldingKvittering: "+receiptType {
			t.Errorf("%s: description %q", receiptType, last.Description)
		}
		in, err := e.st.IncomingMessage(ctx, k.MessageID())
		if err != nil || in.HasASiC || in.ProcessIdentifier != wire.ProcessArkivmeldingResponse {
			t.Errorf("%s: kvittering not queued for the client: %+v %v", receiptType, in, err)
		}
		if _, err := e.st.Outgoing(ctx, store.StatusKey(k.MessageID(), wire.StatusMottatt)); err != nil {
			t.Errorf("%s: no MOTTATT for the kvittering itself: %v", receiptType, err)
		}
	}
	// A kvittering for a message this IP never sent is still queued.
	k := fixtures.MustSBD(wire.TypeArkivmeldingKvittering, fixtures.SBDSpec{TTL: time.Hour})
	if err := e.svc.Handle(ctx, k, nil, wire.ServiceDPO); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.IncomingMessage(ctx, k.MessageID()); err != nil {
		t.Errorf("stray kvittering: %v", err)
	}
}

func TestNoStatusBackOutsideTheStatusServices(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	dpf := fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{TTL: time.Hour})
	if err := e.svc.Handle(ctx, dpf, []byte("asic"), wire.ServiceDPF); err != nil {
		t.Fatal(err)
	}
	// A process family without a response process is queued without answer too.
	digital := fixtures.MustSBD(wire.TypeDigital, fixtures.SBDSpec{Receiver: "910075918", TTL: time.Hour})
	if err := e.svc.Handle(ctx, digital, []byte("asic"), wire.ServiceDPO); err != nil {
		t.Fatal(err)
	}
	if c, _ := e.st.Counts(ctx); c.Incoming != 2 || c.Queued != 0 || e.wakes != 0 {
		t.Errorf("counts %+v, wakes %d", c, e.wakes)
	}
	if _, ok, _ := e.st.Peek(ctx, store.Filter{Equals: map[string][]string{"messageId": {dpf.MessageID()}}}, time.Minute); !ok {
		t.Fatal("peek")
	}
	if _, err := e.svc.Acknowledge(ctx, dpf.MessageID()); err != nil {
		t.Fatal(err)
	}
	if c, _ := e.st.Counts(ctx); c.Queued != 0 || e.wakes != 0 {
		t.Errorf("LEVERT sent for DPF: %+v", c)
	}
}

func TestUnhandleableMessagesAreRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	bad := []func(*wire.StandardBusinessDocument){
		func(s *wire.StandardBusinessDocument) {
			s.Header.DocumentIdentification.InstanceIdentifier = "not-a-uuid"
		},
		func(s *wire.StandardBusinessDocument) { s.FindScope(wire.ScopeConversationID).InstanceIdentifier = "" },
		func(s *wire.StandardBusinessDocument) { s.Header.Sender = nil },
		func(s *wire.StandardBusinessDocument) { s.Header.Receiver[0].Identifier.Value = "hello" },
	}
	for i, f := range bad {
		sbd := fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{TTL: time.Hour})
		f(sbd)
		if err := e.svc.Handle(ctx, sbd, nil, wire.ServiceDPO); !errors.Is(err, ErrRejected) {
			t.Errorf("case %d: %v, want ErrRejected", i, err)
		}
	}
	if err := e.svc.Handle(ctx, nil, nil, wire.ServiceDPO); !errors.Is(err, ErrRejected) {
		t.Errorf("nil: %v", err)
	}
	if c, _ := e.st.Counts(ctx); c.Incoming != 0 || len(e.take()) != 0 {
		t.Error("a rejected message left traces")
	}
}

func TestRunLockExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sbd := fixtures.MustSBD(wire.TypeAvtalt, fixtures.SBDSpec{TTL: time.Hour})
	if err := e.svc.Handle(ctx, sbd, nil, wire.ServiceDPO); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := e.st.Peek(ctx, store.Filter{}, 20*time.Millisecond); !ok {
		t.Fatal("peek")
	}
	go e.svc.RunLockExpiry(ctx, 10*time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for {
		m, err := e.st.IncomingMessage(ctx, sbd.MessageID())
		if err != nil {
			t.Fatal(err)
		}
		if m.LockTimeout.IsZero() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("lock never cleared")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
