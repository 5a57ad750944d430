package dpi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Sink registers a receipt's statuses on the outgoing DPI conversation with conversationID; found is
// false when there is none.
type Sink interface {
	Receipt(ctx context.Context, conversationID string, changes []store.StatusChange) (found bool, err error)
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(ctx context.Context, conversationID string, changes []store.StatusChange) (bool, error)

// Receipt calls f.
func (f SinkFunc) Receipt(ctx context.Context, conversationID string, changes []store.StatusChange) (bool, error) {
	return f(ctx, conversationID, changes)
}

// Receipts polls corner 2 for the receipts of the integration point's kanal (DpiStatusPolling, spec
// upstreams §7.4).
type Receipts struct {
	c    *Channel
	sink Sink
	log  *slog.Logger
	mu   sync.Mutex
}

// Receipts makes the channel's receipt poller, registering what it finds through sink.
func (c *Channel) Receipts(sink Sink) *Receipts {
	return &Receipts{c: c, sink: sink, log: c.opts.Logger.With("component", "dpi-receipts")}
}

// Run polls at once and then with a fixed delay of interval after each round (the real IP: 10 s).
func (r *Receipts) Run(ctx context.Context, interval time.Duration) {
	channel.PollEvery(ctx, interval, r.log, "DPI receipt poll", r.Poll)
}

// Poll fetches one page of the kanal's receipts and takes each in turn: verify the JWS (RS256 with the
// self-signed, unexpired certificate of its x5c, the real IP's SELF_SIGNED mode) and parse the business
// message, register its statuses on the conversation it names, then mark it read. A receipt that does
// not verify or parse is left unread (as the real IP leaves it); one for no known conversation is read
// and dropped; a store failure leaves it for the next round. Unlike the real IP, which marks a receipt
// read before it stores the status, the status is stored first, so a crash between the two loses
// nothing (the receipt comes again and its status is a duplicate). handled counts the receipts read.
func (r *Receipts) Poll(ctx context.Context) (handled int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := url.Values{"kanal": {r.c.Kanal()}, "page_size": {strconv.Itoa(r.c.opts.PageSize)}}
	raw, err := r.c.do(ctx, "", http.MethodGet, r.c.opts.URI+"/messages/in?"+q.Encode(), "", nil)
	if err != nil {
		return 0, err
	}
	var list []wire.DPIIncoming
	if err := json.Unmarshal(raw, &list); err != nil {
		var one wire.DPIIncoming
		if json.Unmarshal(raw, &one) != nil {
			return 0, fmt.Errorf("DPI incoming answer: %w", err)
		}
		list = []wire.DPIIncoming{one}
	}
	var errs []error
	waiting := map[string]bool{} // conversations with a receipt left for the next round
	for _, in := range list {
		if ctx.Err() != nil {
			break
		}
		msg, err := r.c.OpenReceipt(in.Forretningsmelding)
		if err != nil {
			r.log.Warn("DPI receipt does not verify or parse; left unread", "err", err)
			continue
		}
		log := r.log.With("receipt_id", msg.MessageID(), "conversation_id", msg.ConversationID(), "type", msg.Type())
		if waiting[msg.ConversationID()] {
			continue // a receipt of the same conversation waits: the later ones wait too, to keep their order
		}
		found, err := r.sink.Receipt(ctx, msg.ConversationID(), MapReceipt(msg, in.Forretningsmelding))
		if err != nil {
			waiting[msg.ConversationID()] = true
			errs = append(errs, fmt.Errorf("receipt %s: %w", msg.MessageID(), err))
			continue
		}
		if !found {
			log.Warn("DPI receipt for no known conversation; marked read and dropped")
		}
		if err := r.read(ctx, msg.MessageID()); err != nil {
			errs = append(errs, err)
			continue
		}
		handled++
		log.Info("DPI receipt registered")
	}
	return handled, errors.Join(errs...)
}

func (r *Receipts) read(ctx context.Context, id string) error {
	_, status, err := r.c.call(ctx, "", http.MethodPost, r.c.opts.URI+"/messages/in/"+url.PathEscape(id)+"/read", "", nil)
	if err != nil && status != http.StatusNotFound {
		return fmt.Errorf("mark receipt %s read: %w", id, err)
	}
	return nil
}

// OpenReceipt verifies a receipt's JWS against the self-signed, unexpired certificate in its x5c and
// parses the business message it carries.
func (c *Channel) OpenReceipt(jws string) (*wire.DPIMessage, error) {
	payload, cert, err := dokumentpakke.VerifyJWS(jws, dokumentpakke.VerifyOptions{})
	if err != nil {
		return nil, err
	}
	if cert == nil {
		return nil, errors.New("the receipt JWS has no x5c certificate")
	}
	now := c.opts.Now()
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return nil, fmt.Errorf("the receipt certificate is not valid at %s", now.Format(time.RFC3339))
	}
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		return nil, fmt.Errorf("the receipt certificate is not self-signed: %w", err)
	}
	var msg wire.DPIMessage
	if err := json.NewDecoder(bytes.NewReader(payload)).Decode(&msg); err != nil {
		return nil, err
	}
	if msg.Kvittering == nil {
		return nil, fmt.Errorf("a %s is not a receipt", msg.Type())
	}
	if msg.ConversationID() == "" || msg.MessageID() == "" {
		return nil, errors.New("the receipt names no conversation or has no id")
	}
	return &msg, nil
}

// MapReceipt turns a receipt into the statuses to register, each with the receipt as rawReceipt and the
// real IP's description: leveringskvittering and mottakskvittering → MOTTATT (a second earlier, when it
// is missing) and LEVERT; aapningskvittering → LEST; varslingfeiletkvittering, returpostkvittering and
// feil → FEIL; anything else (flyttet) → ANNET.
func MapReceipt(msg *wire.DPIMessage, raw string) []store.StatusChange {
	no := false
	k := msg.Kvittering
	at, _ := time.Parse(time.RFC3339Nano, k.Tidspunkt)
	one := func(st wire.ReceiptStatus, desc string) store.StatusChange {
		ch := store.StatusChange{Status: st, Description: desc, RawReceipt: raw, At: at}
		if st != wire.StatusLest && st != wire.StatusAnnet {
			ch.Pollable = &no
		}
		return ch
	}
	mottatt := store.StatusChange{Status: wire.StatusMottatt, RawReceipt: raw, At: at, Pollable: &no}
	if !at.IsZero() {
		mottatt.At = at.Add(-time.Second)
	}
	switch msg.Type() {
	case wire.DPITypeLeveringskvittering:
		return []store.StatusChange{mottatt, one(wire.StatusLevert, DescriptionLeveringskvittering)}
	case wire.DPITypeMottakskvittering:
		return []store.StatusChange{mottatt, one(wire.StatusLevert, DescriptionMottakskvittering)}
	case wire.DPITypeAapningskvittering:
		return []store.StatusChange{one(wire.StatusLest, DescriptionAapningskvittering)}
	case wire.DPITypeVarslingfeiletkvittering:
		return []store.StatusChange{one(wire.StatusFeil, DescriptionVarslingfeilet)}
	case wire.DPITypeReturpostkvittering:
		return []store.StatusChange{one(wire.StatusFeil, DescriptionReturpost)}
	case wire.DPITypeFeil:
		return []store.StatusChange{one(wire.StatusFeil, DescriptionFeil)}
	}
	return []store.StatusChange{one(wire.StatusAnnet, DescriptionUkjent)}
}
