// Package inbound is what the reference integration point does with a message a channel received (spec
// upstreams §1.2, ip-api §7.5–§7.7, the real NextMoveQueueImpl): an expired message is recorded as
// LEVETID_UTLOPT and dropped; a "status" SBD from the other integration point is registered on the
// outgoing conversation it answers; an arkivmelding_kvittering registers LEST or FEIL on the message it
// answers and is queued for the client like any other message; every other message is put on the
// in-queue with INNKOMMENDE_MOTTATT, and a MOTTATT status SBD goes back to the sender (DPO and DPE). When
// the client deletes a message, Acknowledge registers INNKOMMENDE_LEVERT and sends LEVERT back.
// Duplicates (a messageId received before) are discarded.
package inbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/receipt"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// DescriptionExpired is the description of LEVETID_UTLOPT on a message that arrived expired.
const DescriptionExpired = "Levetiden for meldingen er utgått. Må sendes på nytt"

// ErrRejected is wrapped by Handle's errors about a message that can never be handled (no or malformed
// messageId or conversationId, no sender or receiver): a channel confirms such a message upstream and
// discards it, as the real IP does with an IllegalArgumentException. Any other error is transient: the
// channel leaves the message upstream and tries again.
var ErrRejected = errors.New("message rejected")

// Options configure a Service.
type Options struct {
	// Store holds the in-queue, the conversations and the outbox. Required.
	Store *store.Store
	// StatusServices are the channels whose senders get MOTTATT and LEVERT status SBDs back
	// (difi.move.nextmove.status-services); nil means DPO and DPE, as in the real IP.
	StatusServices []wire.ServiceIdentifier
	// DefaultTTL is the expiry of an incoming message without expectedResponseDateTime (24 h when 0).
	DefaultTTL time.Duration
	// StatusQueue reports whether statuses of a channel go to the status queue; nil queues none.
	StatusQueue func(service string) bool
	// OnStatus is called after every status registered here (webhooks, metrics); may be nil.
	OnStatus func(store.StatusEvent)
	// Wake is called after a status SBD was put on the outbox, to nudge delivery; may be nil.
	Wake func()
	// Logger receives what is dropped and why; nil discards.
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Service handles received messages and the client's acknowledgements.
type Service struct {
	opts Options
}

// New makes a Service.
func New(opts Options) *Service {
	if opts.StatusServices == nil {
		opts.StatusServices = []wire.ServiceIdentifier{wire.ServiceDPO, wire.ServiceDPE}
	}
	if opts.DefaultTTL <= 0 {
		opts.DefaultTTL = 24 * time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{opts: opts}
}

// Handle takes a message the channel service received: sbd is its SBD, asic its decrypted ASiC-E
// container (nil when it has none). It returns nil when the message was handled (stored, registered or
// deliberately dropped: a duplicate, a status for an unknown message), an error wrapping ErrRejected when
// it can never be handled, and any other error when the channel should try again later.
func (s *Service) Handle(ctx context.Context, sbd *wire.StandardBusinessDocument, asic []byte, service wire.ServiceIdentifier) error {
	if sbd == nil {
		return fmt.Errorf("%w: no SBD", ErrRejected)
	}
	messageID, conversationID := sbd.MessageID(), sbd.ConversationID()
	if _, err := uuid.Parse(messageID); err != nil {
		return fmt.Errorf("%w: messageId %q is not a UUID", ErrRejected, messageID)
	}
	if _, err := uuid.Parse(conversationID); err != nil {
		return fmt.Errorf("%w: conversationId %q of message %s is not a UUID", ErrRejected, conversationID, messageID)
	}
	sender, err := wire.ParseIdentifier(sbd.SenderIdentifier())
	if err != nil {
		return fmt.Errorf("%w: sender of message %s: %v", ErrRejected, messageID, err)
	}
	receiver, err := wire.ParseIdentifier(sbd.ReceiverIdentifier())
	if err != nil {
		return fmt.Errorf("%w: receiver of message %s: %v", ErrRejected, messageID, err)
	}
	log := s.opts.Logger.With("message_id", messageID, "conversation_id", conversationID, "type", sbd.Type(),
		"service", service, "sender", sender.Qualified())
	now := s.opts.Now()
	conv := s.conversation(sbd, service, sender, receiver, now)

	if exp, ok := sbd.ExpectedResponseDateTime(); ok && exp.Before(now) {
		evs, err := s.opts.Store.RegisterExpiredIncoming(ctx, conv, DescriptionExpired, s.opts.StatusQueue)
		if errors.Is(err, store.ErrDuplicate) {
			log.Info("expired incoming message received again; discarded")
			return nil
		}
		if err != nil {
			return err
		}
		log.Info("incoming message arrived expired; not queued", "expected_response", exp.String())
		s.emit(evs...)
		return nil
	}

	if m, ok := sbd.Message.(*wire.StatusMessage); ok {
		return s.status(ctx, log, messageID, m)
	}

	raw, err := json.Marshal(sbd)
	if err != nil {
		return fmt.Errorf("%w: encode message %s: %v", ErrRejected, messageID, err)
	}
	in := store.InMessage{MessageID: messageID, ConversationID: conversationID, ProcessIdentifier: sbd.Process(),
		SenderIdentifier: conv.SenderIdentifier, ReceiverIdentifier: conv.ReceiverIdentifier,
		ServiceIdentifier: string(service), MessageType: string(sbd.Type()), SBD: raw}
	reply := s.reply(log, sbd, string(service), wire.StatusMottatt, now)
	evs, err := s.opts.Store.StoreIncoming(ctx, in, asic, conv, reply, s.opts.StatusQueue)
	duplicate := errors.Is(err, store.ErrDuplicate)
	if err != nil && !duplicate {
		return err
	}
	if k, ok := sbd.Message.(*wire.ArkivmeldingKvittering); ok {
		// Registered after the kvittering is queued, so that a client that sees LEST finds the
		// kvittering to peek; a retried kvittering registers it all the same.
		if err := s.kvittering(ctx, log, k); err != nil {
			return err
		}
	}
	if duplicate {
		log.Warn("duplicate incoming message discarded")
		return nil
	}
	if ch := sbd.MessageChannel(); ch != "" {
		// A receipt the archive system sends for this message takes the same channel.
		if err := s.opts.Store.RememberMessageChannel(ctx, messageID, ch); err != nil {
			log.Warn("message channel not remembered", "err", err)
		}
	}
	log.Info("incoming message queued", "asic_bytes", len(asic), "status_reply", reply != nil)
	s.emit(evs...)
	if reply != nil && s.opts.Wake != nil {
		s.opts.Wake()
	}
	return nil
}

// status registers a received status SBD on the outgoing conversation it answers (never queued).
func (s *Service) status(ctx context.Context, log *slog.Logger, messageID string, m *wire.StatusMessage) error {
	if m.Status == "" {
		log.Warn("status message without status; dropped")
		return nil
	}
	ev, err := s.opts.Store.RegisterStatus(ctx, messageID, store.Outgoing, store.StatusChange{Status: m.Status}, s.opts.StatusQueue)
	if errors.Is(err, store.ErrNotFound) {
		log.Warn("status for a message this integration point did not send; dropped", "status", m.Status)
		return nil
	}
	if err != nil {
		return err
	}
	if ev != nil {
		s.emit(*ev)
	}
	return nil
}

// kvittering registers LEST (or FEIL for ERROR and NOTSUPPORTED) on the outgoing message an
// arkivmelding_kvittering answers. It runs after the kvittering is stored, and again for a duplicate, so
// that a retry after a failure registers it all the same (each status is registered once).
func (s *Service) kvittering(ctx context.Context, log *slog.Logger, k *wire.ArkivmeldingKvittering) error {
	if k.RelatedToMessageID == "" {
		log.Warn("arkivmelding_kvittering without relatedToMessageId; no status registered")
		return nil
	}
	st := wire.StatusLest
	if k.ReceiptType == "ERROR" || k.ReceiptType == "NOTSUPPORTED" {
		st = wire.StatusFeil
	}
	raw, err := json.Marshal(k)
	if err != nil {
		return fmt.Errorf("encode kvittering: %w", err)
	}
	ev, err := s.opts.Store.RegisterStatus(ctx, k.RelatedToMessageID, store.Outgoing, store.StatusChange{Status: st,
		Description: "ArkivmeldingKvittering: " + k.ReceiptType, RawReceipt: string(raw)}, s.opts.StatusQueue)
	if errors.Is(err, store.ErrNotFound) {
		log.Warn("arkivmelding_kvittering for a message this integration point did not send", "related_to", k.RelatedToMessageID)
		return nil
	}
	if err != nil {
		return err
	}
	if ev != nil {
		s.emit(*ev)
	}
	return nil
}

// Acknowledge is the client's DELETE /api/messages/in/{messageId} of a locked message: INNKOMMENDE_LEVERT
// on its conversation, the message and its container removed, and a LEVERT status SBD put on the outbox
// (for the status services), all in one transaction. It returns the removed message; errors wrap
// store.ErrNotFound or store.ErrNotLocked for an unknown or unlocked message.
func (s *Service) Acknowledge(ctx context.Context, messageID string) (store.InMessage, error) {
	replied := false
	m, evs, err := s.opts.Store.DeleteIncoming(ctx, messageID, s.opts.StatusQueue, func(m store.InMessage) (*store.OutMessage, error) {
		sbd, err := wire.ParseSBD(m.SBD)
		if err != nil {
			s.opts.Logger.Warn("stored incoming message is unreadable; no LEVERT sent", "message_id", messageID, "err", err)
			return nil, nil
		}
		out := s.reply(s.opts.Logger.With("message_id", messageID), sbd, m.ServiceIdentifier, wire.StatusLevert, s.opts.Now())
		replied = out != nil
		return out, nil
	})
	if err != nil {
		return m, err
	}
	s.emit(evs...)
	if replied && s.opts.Wake != nil {
		s.opts.Wake()
	}
	return m, nil
}

// reply builds the outbox row of the status SBD answering sbd, or nil when service sends no statuses or
// sbd's process has no response process.
func (s *Service) reply(log *slog.Logger, sbd *wire.StandardBusinessDocument, service string, status wire.ReceiptStatus, now time.Time) *store.OutMessage {
	if !slices.Contains(s.opts.StatusServices, wire.ServiceIdentifier(service)) {
		return nil
	}
	st, err := receipt.Status(sbd, status, now)
	if err != nil {
		log.Warn("no status message sent back", "status", status, "err", err)
		return nil
	}
	raw, err := json.Marshal(st)
	if err != nil {
		log.Warn("no status message sent back", "status", status, "err", err)
		return nil
	}
	out := &store.OutMessage{MessageID: store.StatusKey(sbd.MessageID(), status), ConversationID: sbd.ConversationID(),
		ProcessIdentifier: st.Process(), ServiceIdentifier: service, SBD: raw, Internal: true}
	if p, err := wire.ParseIdentifier(st.SenderIdentifier()); err == nil {
		out.SenderIdentifier = p.Primary()
	}
	if p, err := wire.ParseIdentifier(st.ReceiverIdentifier()); err == nil {
		out.ReceiverIdentifier = p.Primary()
	}
	return out
}

// conversation is the INCOMING conversation of a received message.
func (s *Service) conversation(sbd *wire.StandardBusinessDocument, service wire.ServiceIdentifier, sender, receiver wire.PartnerIdentifier, now time.Time) store.Conversation {
	senderID := sender.Primary()
	if sender.PartID != "" {
		senderID = sender.PartID
	}
	expiry := now.Add(s.opts.DefaultTTL)
	if exp, ok := sbd.ExpectedResponseDateTime(); ok {
		expiry = exp.Time
	}
	return store.Conversation{ConversationID: sbd.ConversationID(), MessageID: sbd.MessageID(), Direction: store.Incoming,
		Sender: sender.Qualified(), SenderIdentifier: senderID, Receiver: receiver.Qualified(), ReceiverIdentifier: receiver.Primary(),
		ProcessIdentifier: sbd.Process(), DocumentIdentifier: sbd.Standard(), MessageReference: sbd.ConversationID(),
		ServiceIdentifier: string(service), Expiry: expiry}
}

// emit logs and reports registered statuses.
func (s *Service) emit(evs ...store.StatusEvent) {
	for _, ev := range evs {
		s.opts.Logger.Info("status", "status", ev.Status.Status, "message_id", ev.Conversation.MessageID,
			"conversation_id", ev.Conversation.ConversationID, "direction", ev.Conversation.Direction,
			"service", ev.Conversation.ServiceIdentifier, "description", ev.Status.Description)
		if s.opts.OnStatus != nil {
			s.opts.OnStatus(ev)
		}
	}
}

// RunLockExpiry clears peek locks that have run out every interval (the real IP: 5 s) until ctx ends.
func (s *Service) RunLockExpiry(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := s.opts.Store.UnlockExpired(ctx); err != nil {
			if ctx.Err() == nil {
				s.opts.Logger.Error("unlock expired incoming messages", "err", err)
			}
		} else if n > 0 {
			s.opts.Logger.Debug("unlocked incoming messages whose lock ran out", "count", n)
		}
	}
}
