// Package delivery is the reference integration point's outgoing pipeline (spec ip-api §9, upstreams
// §1.2): workers take due messages from the durable queue in the store, check their time to live, look the
// receiver up in the address register, and hand them to the channel the record names. Success registers
// SENDT; a permanent failure FEIL at once; any other failure is retried with exponential back-off until the
// attempts run out (FEIL) or the time to live does (LEVETID_UTLOPT, also found by a periodic scan). Each
// outcome is written in one transaction with the removal of the message from the queue.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/registry"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// RetryPolicy is an exponential back-off.
type RetryPolicy struct {
	Initial     time.Duration
	Multiplier  float64
	Max         time.Duration
	MaxAttempts int
}

// Delay is the wait after the attempt-th failed attempt (1-based).
func (p RetryPolicy) Delay(attempt int) time.Duration {
	d := float64(p.Initial)
	for i := 1; i < attempt; i++ {
		d *= p.Multiplier
		if d >= float64(p.Max) {
			return p.Max
		}
	}
	return time.Duration(d)
}

// Descriptions of the statuses delivery registers, as the real IP words them.
const (
	DescriptionExpired   = "Levetiden for meldingen er utgått. Må sendes på nytt"
	DescriptionPermanent = "Failed to deliver message - check raw receipt"
)

// Options configure a Deliverer.
type Options struct {
	Store    *store.Store
	Registry *registry.Client
	Channels []channel.Channel
	// Workers is the number of concurrent attempts.
	Workers int
	Retry   RetryPolicy
	// AttemptTimeout bounds one whole attempt (lookup and every upstream call of the channel).
	AttemptTimeout time.Duration
	// PollInterval is how often idle workers look for due jobs; TTLScanInterval how often expired
	// conversations are found.
	PollInterval    time.Duration
	TTLScanInterval time.Duration
	StatusQueue     func(string) bool
	OnStatus        func(store.StatusEvent)
	Logger          *slog.Logger
	Now             func() time.Time
}

// Deliverer runs the outgoing pipeline.
type Deliverer struct {
	opts     Options
	channels map[wire.ServiceIdentifier]channel.Channel
	wake     chan struct{}
}

// New makes a Deliverer; Run starts it.
func New(opts Options) *Deliverer {
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.TTLScanInterval <= 0 {
		opts.TTLScanInterval = 30 * time.Second
	}
	if opts.AttemptTimeout <= 0 {
		opts.AttemptTimeout = 2 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	chs := map[wire.ServiceIdentifier]channel.Channel{}
	for _, c := range opts.Channels {
		chs[c.Service()] = c
	}
	return &Deliverer{opts: opts, channels: chs, wake: make(chan struct{}, 1)}
}

// Wake tells idle workers that a job may be due (after a send).
func (d *Deliverer) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then waits for attempts in flight to finish or time out.
func (d *Deliverer) Run(ctx context.Context) {
	jobs := make(chan store.Job)
	var wg sync.WaitGroup
	for i := 0; i < d.opts.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				d.attempt(ctx, j)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		d.scanExpired(ctx)
	}()
	d.dispatch(ctx, jobs)
	close(jobs)
	wg.Wait()
}

// dispatch claims due jobs (never more than there are idle workers) and hands them out.
func (d *Deliverer) dispatch(ctx context.Context, jobs chan<- store.Job) {
	t := time.NewTicker(d.opts.PollInterval)
	defer t.Stop()
	lease := d.opts.AttemptTimeout + d.opts.AttemptTimeout/2
	for {
		claimed, err := d.opts.Store.Claim(ctx, 1, lease)
		if err != nil && ctx.Err() == nil {
			d.opts.Logger.Error("claim delivery jobs", "err", err)
		}
		if len(claimed) == 1 {
			select {
			case jobs <- claimed[0]: // blocks until a worker is free
				continue
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.wake:
		}
	}
}

func (d *Deliverer) scanExpired(ctx context.Context) {
	t := time.NewTicker(d.opts.TTLScanInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for {
			evs, err := d.opts.Store.ExpireDue(ctx, 500, d.opts.StatusQueue)
			if err != nil {
				if ctx.Err() == nil {
					d.opts.Logger.Error("expire conversations", "err", err)
				}
				break
			}
			for _, ev := range evs {
				d.emit(&ev)
			}
			if len(evs) < 500 {
				break
			}
		}
	}
}

func (d *Deliverer) emit(ev *store.StatusEvent) {
	if ev == nil {
		return
	}
	d.opts.Logger.Info("status", "status", ev.Status.Status, "message_id", ev.Conversation.MessageID,
		"conversation_id", ev.Conversation.ConversationID, "service", ev.Conversation.ServiceIdentifier, "description", ev.Status.Description)
	if d.opts.OnStatus != nil {
		d.opts.OnStatus(*ev)
	}
}

// finish ends a job with a status (or none) and reports it.
func (d *Deliverer) finish(messageID string, ch store.StatusChange) {
	// The outcome is recorded even if the run is stopping: a status lost here would mean a resend.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev, err := d.opts.Store.Finish(ctx, messageID, ch, d.opts.StatusQueue)
	if err != nil {
		d.opts.Logger.Error("record delivery outcome", "message_id", messageID, "status", ch.Status, "err", err)
		return
	}
	if ev == nil && (ch.Status == wire.StatusFeil || ch.Status == wire.StatusLevetidUtlopt) {
		// No conversation to carry the status: a status message the IP sent by itself. Say so.
		d.opts.Logger.Warn("message without a conversation given up", "message_id", messageID, "status", ch.Status,
			"description", ch.Description, "raw_receipt", ch.RawReceipt)
	}
	d.emit(ev)
}

// attempt makes one delivery attempt of j.
func (d *Deliverer) attempt(ctx context.Context, j store.Job) {
	log := d.opts.Logger.With("message_id", j.MessageID, "attempt", j.Attempt)
	actx, cancel := context.WithTimeout(ctx, d.opts.AttemptTimeout)
	defer cancel()
	m, err := d.opts.Store.Outgoing(actx, j.MessageID)
	if errors.Is(err, store.ErrNotFound) {
		return // deleted by the client meanwhile
	}
	if err != nil {
		d.retry(ctx, j, log, fmt.Errorf("load message: %w", err), nil, "")
		return
	}
	sbd, err := wire.ParseSBD(m.SBD)
	if err != nil {
		d.finish(j.MessageID, store.StatusChange{Status: wire.StatusFeil, Description: "stored message is unreadable: " + err.Error()})
		return
	}
	log = log.With("conversation_id", sbd.ConversationID())
	if exp, ok := sbd.ExpectedResponseDateTime(); ok && exp.Before(d.opts.Now()) {
		d.finish(j.MessageID, store.StatusChange{Status: wire.StatusLevetidUtlopt, Description: DescriptionExpired})
		return
	}
	var rec wire.ServiceRecord
	if m.Internal || sbd.Type() == wire.TypeStatus {
		// A status message goes back on the channel its message came in on, without an address lookup
		// (spec upstreams §1.2, §12.2); it carries no files, so no certificate is needed.
		rec.Service.Identifier = wire.ParseServiceIdentifier(m.ServiceIdentifier)
	} else if sbd.Type() == wire.TypePrint && sbd.ReceiverIdentifier() == "" {
		// Print without a receiver: nobody to look up; the DPI channel takes the print provider from KRR.
		rec.Service.Identifier = wire.ServiceDPI
	} else if rec, err = d.opts.Registry.Record(actx, lookupOf(sbd), sbd.Standard()); err != nil {
		var re *registry.Error
		if errors.As(err, &re) && (errors.Is(err, registry.ErrNotFound) || errors.Is(err, registry.ErrRefused)) {
			d.finish(j.MessageID, store.StatusChange{Status: wire.StatusFeil,
				Description: fmt.Sprintf("Receiver %s does not accept the process %s", sbd.ReceiverIdentifier(), sbd.Process()), RawReceipt: err.Error()})
			return
		}
		d.retry(ctx, j, log, err, sbd, m.ServiceIdentifier)
		return
	}
	ch, ok := d.channels[rec.Service.Identifier]
	if !ok {
		d.finish(j.MessageID, store.StatusChange{Status: wire.StatusFeil, Description: fmt.Sprintf("Service %s is not enabled", rec.Service.Identifier)})
		return
	}
	start := d.opts.Now()
	res, err := ch.Send(actx, channel.Message{SBD: sbd, Files: m.Files, Open: d.opts.Store.OpenFile, Record: rec, Attempt: j.Attempt})
	if err != nil {
		if p, ok := channel.AsPermanent(err); ok {
			log.Warn("delivery failed for good", "service", rec.Service.Identifier, "err", err)
			// The real IP's text, then what failed (an authentication failure, the upstream's 4xx), so that
			// the archive system sees why without reading the raw receipt.
			d.finish(j.MessageID, store.StatusChange{Status: wire.StatusFeil, Description: DescriptionPermanent + ": " + truncate(p.Err.Error(), 300),
				RawReceipt: p.RawReceipt})
			return
		}
		d.retry(ctx, j, log, err, sbd, string(rec.Service.Identifier))
		return
	}
	log.Info("delivered", "service", rec.Service.Identifier, "took", d.opts.Now().Sub(start), "reference", res.ExternalReference)
	ch2 := store.StatusChange{Status: wire.StatusSendt}
	if sbd.Type() == wire.TypeStatus {
		ch2.Status = "" // the real IP registers no SENDT for status messages
	}
	if res.Pollable {
		yes := true
		ch2.Pollable = &yes
	}
	if len(res.Then) == 0 {
		d.finish(j.MessageID, ch2)
		return
	}
	// SENDT and what the channel knows at once (LEVERT) in one transaction: a crash between them would
	// leave a message at SENDT for good.
	chs := []store.StatusChange{ch2}
	for _, st := range res.Then {
		chs = append(chs, store.StatusChange{Status: st})
	}
	rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	evs, err := d.opts.Store.FinishWith(rctx, j.MessageID, chs, d.opts.StatusQueue)
	if err != nil {
		log.Error("record delivery outcome", "statuses", res.Then, "err", err)
		return
	}
	for _, ev := range evs {
		d.emit(ev)
	}
}

// retry schedules the next attempt, or ends the message as FEIL when the attempts are used up.
func (d *Deliverer) retry(ctx context.Context, j store.Job, log *slog.Logger, cause error, sbd *wire.StandardBusinessDocument, service string) {
	if j.Attempt >= d.opts.Retry.MaxAttempts {
		log.Warn("delivery attempts used up", "err", cause)
		receiver := ""
		if sbd != nil {
			receiver = sbd.ReceiverIdentifier()
			if p, err := wire.ParseIdentifier(receiver); err == nil {
				receiver = p.Primary()
			}
		}
		d.finish(j.MessageID, store.StatusChange{Status: wire.StatusFeil,
			Description: fmt.Sprintf("Request to receiver '%s' failed delivery over %s - Moved to DLQ", receiver, service), RawReceipt: cause.Error()})
		return
	}
	wait := d.opts.Retry.Delay(j.Attempt)
	log.Info("delivery attempt failed; retrying", "err", cause, "retry_in", wait)
	rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.opts.Store.Retry(rctx, j.MessageID, d.opts.Now().Add(wait), cause.Error()); err != nil {
		log.Error("schedule retry", "err", err) // the lease runs out and the job comes back anyway
	}
}

// lookupOf is the address-register query the real IP makes at send time.
func lookupOf(sbd *wire.StandardBusinessDocument) registry.Query {
	q := registry.Query{Process: sbd.Process(), ConversationID: sbd.ConversationID()}
	if p, err := wire.ParseIdentifier(sbd.ReceiverIdentifier()); err == nil {
		q.Identifier = p.Primary()
	} else {
		q.Identifier = sbd.ReceiverIdentifier()
	}
	switch m := sbd.Message.(type) {
	case *wire.Arkivmelding:
		q.SecurityLevel = m.Sikkerhetsnivaa
	case *wire.Digital:
		q.SecurityLevel = m.Sikkerhetsnivaa
	}
	return q
}

// truncate shortens s to at most n bytes (on a rune boundary), marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
