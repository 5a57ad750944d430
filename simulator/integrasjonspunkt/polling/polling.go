// Package polling is the reference integration point's status polling (spec upstreams §1.2, the real
// IP's StatusPolling with LinearInterpolationPolling): every tick it pages through the conversations
// marked pollable, picks those whose back-off has passed — the poll interval grows linearly with the age of
// the conversation's lastUpdate, from the base interval (1 min) for one updated just now to MaxInterval
// (60 min) at Threshold (30 days) and beyond — and asks the conversation's channel for news. Each status
// the channel reports is registered; a channel that says stop turns polling off.
package polling

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// StatusPoller asks one channel's upstream for the news of a conversation. The changes are registered in
// order; one whose Pollable is false ends polling of the conversation (also when its status was
// registered before). An error is logged and the conversation is polled again after its back-off.
type StatusPoller interface {
	Poll(ctx context.Context, c store.Conversation) ([]store.StatusChange, error)
}

// PollerFunc adapts a function to StatusPoller.
type PollerFunc func(ctx context.Context, c store.Conversation) ([]store.StatusChange, error)

// Poll calls f.
func (f PollerFunc) Poll(ctx context.Context, c store.Conversation) ([]store.StatusChange, error) {
	return f(ctx, c)
}

// Defaults of the real IP (difi.move.nextmove.statusPolling*).
const (
	DefaultInterval  = time.Minute
	DefaultThreshold = 30 * 24 * time.Hour
	DefaultPageSize  = 2000
	// MaxFactor is statusPollingBackoffMaxIntervalMinutes (60) over the 1-minute base.
	MaxFactor = 60
)

// Options configure a Poller.
type Options struct {
	Store   *store.Store
	Pollers map[wire.ServiceIdentifier]StatusPoller
	// Interval is the tick and the shortest poll interval (1 min); MaxInterval the longest (60 × Interval
	// when 0, so a fast harness scales both); Threshold the lastUpdate age at which MaxInterval is reached
	// (30 days).
	Interval    time.Duration
	MaxInterval time.Duration
	Threshold   time.Duration
	// PageSize is how many pollable conversations are read at a time (2000).
	PageSize int
	// CallTimeout bounds one Poll call (30 s).
	CallTimeout time.Duration
	StatusQueue func(service string) bool
	OnStatus    func(store.StatusEvent)
	Logger      *slog.Logger
	Now         func() time.Time
}

// Poller runs status polling.
type Poller struct {
	opts Options
	mu   sync.Mutex
	last map[int64]time.Time // when each conversation was last polled
}

// New makes a Poller; Run starts it.
func New(opts Options) *Poller {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.MaxInterval <= 0 {
		opts.MaxInterval = MaxFactor * opts.Interval
	}
	if opts.Threshold <= 0 {
		opts.Threshold = DefaultThreshold
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Poller{opts: opts, last: map[int64]time.Time{}}
}

// Backoff is the poll interval of a conversation whose lastUpdate is age old: base at age 0 rising
// linearly to max at threshold, max beyond.
func Backoff(base, max, threshold, age time.Duration) time.Duration {
	if age <= 0 {
		return base
	}
	if age >= threshold {
		return max
	}
	return base + time.Duration(float64(max-base)*float64(age)/float64(threshold))
}

// Run polls every Interval until ctx ends.
func (p *Poller) Run(ctx context.Context) {
	t := time.NewTicker(p.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := p.Tick(ctx); err != nil && ctx.Err() == nil {
			p.opts.Logger.Error("status polling", "err", err)
		}
	}
}

// Tick makes one polling round: every pollable conversation of a channel with a poller whose back-off
// has passed is polled once.
func (p *Poller) Tick(ctx context.Context) error {
	// Read every page first: registering statuses changes the pollable set, which would shift the pages.
	var due []store.Conversation
	seen := map[int64]bool{}
	now := p.opts.Now()
	for page := 0; ; page++ {
		convs, total, err := p.opts.Store.Conversations(ctx, store.Filter{Equals: map[string][]string{"direction": {store.Outgoing}}},
			store.PageRequest{Page: page, Size: p.opts.PageSize, Sort: []store.SortOrder{{Property: "id"}}}, true)
		if err != nil {
			return err
		}
		for _, c := range convs {
			if _, ok := p.opts.Pollers[wire.ServiceIdentifier(c.ServiceIdentifier)]; !ok || seen[c.ID] {
				continue
			}
			seen[c.ID] = true
			if p.isDue(c, now) {
				due = append(due, c)
			}
		}
		if len(convs) == 0 || int64((page+1)*p.opts.PageSize) >= total {
			break
		}
	}
	p.mu.Lock()
	for id := range p.last { // forget conversations that are no longer pollable
		if !seen[id] {
			delete(p.last, id)
		}
	}
	p.mu.Unlock()
	for _, c := range due {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.poll(ctx, c)
	}
	return nil
}

func (p *Poller) isDue(c store.Conversation, now time.Time) bool {
	p.mu.Lock()
	last, ok := p.last[c.ID]
	p.mu.Unlock()
	if !ok {
		return true
	}
	// A little slack, so that a tick that fires a hair early does not skip a whole interval.
	slack := p.opts.Interval / 20
	return now.Sub(last)+slack >= Backoff(p.opts.Interval, p.opts.MaxInterval, p.opts.Threshold, now.Sub(c.LastUpdate))
}

// poll asks c's channel and registers what it says.
func (p *Poller) poll(ctx context.Context, c store.Conversation) {
	log := p.opts.Logger.With("message_id", c.MessageID, "service", c.ServiceIdentifier)
	p.mu.Lock()
	p.last[c.ID] = p.opts.Now()
	p.mu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, p.opts.CallTimeout)
	changes, err := p.opts.Pollers[wire.ServiceIdentifier(c.ServiceIdentifier)].Poll(cctx, c)
	cancel()
	if err != nil {
		log.Warn("status poll failed; trying again later", "err", err)
		return
	}
	for _, ch := range changes {
		stop := ch.Pollable != nil && !*ch.Pollable
		var ev *store.StatusEvent
		if ch.Status != "" {
			ev, err = p.opts.Store.RegisterStatus(ctx, c.MessageID, store.Outgoing, ch, p.opts.StatusQueue)
			if errors.Is(err, store.ErrNotFound) {
				return // deleted meanwhile
			}
			if err != nil {
				log.Error("register polled status", "status", ch.Status, "err", err)
				return
			}
		}
		if ev == nil && stop { // a status seen before (or none): stop polling all the same
			if err := p.opts.Store.SetPollable(ctx, c.MessageID, store.Outgoing, false); err != nil && !errors.Is(err, store.ErrNotFound) {
				log.Error("stop polling", "err", err)
			}
		}
		if ev != nil {
			log.Info("status", "status", ev.Status.Status, "conversation_id", c.ConversationID, "description", ev.Status.Description)
			if p.opts.OnStatus != nil {
				p.opts.OnStatus(*ev)
			}
		}
		if stop {
			return
		}
	}
}
