package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Expect says which end-to-end statuses a flow waits for after a send.
type Expect struct {
	// Levert is set when the channel registers LEVERT (DPV, DPF, DPI, DPO to an integration point).
	Levert bool
	// Flow names the flow; the end-to-end times are also kept per flow (e2e_sendt.dpf, …).
	Flow string
}

// E2ECounts are what the tracker saw of the messages sent.
type E2ECounts struct {
	// Accepted counts the sends answered 200.
	Accepted int64 `json:"accepted"`
	Sendt    int64 `json:"sendt"`
	Levert   int64 `json:"levert"`
	// Feil and Expired count messages that ended as FEIL or LEVETID_UTLOPT.
	Feil    int64 `json:"feil"`
	Expired int64 `json:"expired"`
	// Missing counts messages still waiting for an expected status when the drain ended; MissedHook
	// those whose status the integration point had registered but whose webhook never came.
	Missing    int64 `json:"missing"`
	MissedHook int64 `json:"missedWebhook"`
	// Outstanding counts the messages still being waited for.
	Outstanding int64 `json:"outstanding"`
	// Received counts messages this run sent that the receive flow popped.
	Received int64 `json:"received"`
}

// Failed is the number of messages that ended badly end to end.
func (c E2ECounts) Failed() int64 { return c.Feil + c.Expired + c.Missing }

type tracked struct {
	sending time.Time
	expect  Expect
	sendt   bool
	levert  bool // LEVERT came before SENDT (webhooks are pushed in no particular order)
}

// Tracker follows sent messages through the integration point's webhooks (a subscription to SENDT,
// LEVERT, FEIL and LEVETID_UTLOPT of outgoing messages) and records the end-to-end latencies. Webhooks are
// best effort in the real integration point, so at the end the tracker asks for the statuses of the
// messages it has not heard of (Drain).
type Tracker struct {
	client   *Client
	ln       net.Listener
	srv      *http.Server
	subID    int64
	url      string
	keepSent bool

	mu          sync.Mutex
	shard       *Shard
	pending     map[string]*tracked
	sent        map[string]sentInfo // with KeepSent: every message sent (up to maxSent)
	sentDropped int64               // sends beyond maxSent, not kept
	counts      E2ECounts
	errs        map[string]*ErrorCount
}

type sentInfo struct {
	at       time.Time
	flow     string
	received bool
}

// maxSent bounds the send times the tracker keeps after a message is done.
const maxSent = 2_000_000

type event struct {
	status string
	at     time.Time
	desc   string
}

// TrackerOptions configure NewTracker.
type TrackerOptions struct {
	// Listen is the address the webhook receiver listens on (default 127.0.0.1:0).
	Listen string
	// Advertise is the push endpoint's base URL as the integration point sees it (default: the listener's
	// own address), e.g. http://host.docker.internal:PORT for an integration point in a container.
	Advertise string
	// AdvertiseHost, when Advertise is empty, is the host name in the push endpoint, with the listener's
	// port (e.g. host.docker.internal with Listen ":0").
	AdvertiseHost string
	// KeepSent keeps every message's send time (up to 2 million) after it is done: the receive flow and
	// the simulators' arrivals (Options.ControlURL) need it.
	KeepSent bool
	// Name names the subscription (default "efm-harness load").
	Name string
}

// NewTracker starts the webhook receiver and subscribes it at the integration point.
func NewTracker(ctx context.Context, c *Client, opts TrackerOptions) (*Tracker, error) {
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	if opts.Name == "" {
		opts.Name = "efm-harness load"
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("webhook receiver: %w", err)
	}
	t := &Tracker{client: c, ln: ln, keepSent: opts.KeepSent, pending: map[string]*tracked{},
		sent: map[string]sentInfo{}, errs: map[string]*ErrorCount{}}
	base := opts.Advertise
	if base == "" {
		base = "http://" + ln.Addr().String()
		if opts.AdvertiseHost != "" {
			_, port, _ := net.SplitHostPort(ln.Addr().String())
			base = "http://" + net.JoinHostPort(opts.AdvertiseHost, port)
		}
	}
	t.url = base + "/efm-load/statuses"
	t.srv = &http.Server{Handler: http.HandlerFunc(t.serve), ReadHeaderTimeout: 5 * time.Second, ErrorLog: slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)}
	go func() { _ = t.srv.Serve(ln) }()
	sub, err := json.Marshal(map[string]string{"name": fmt.Sprintf("%s %d", opts.Name, time.Now().UnixNano()), "pushEndpoint": t.url,
		"resource": "messages", "event": "status", "filter": "status=SENDT,LEVERT,FEIL,LEVETID_UTLOPT&direction=OUTGOING"})
	if err != nil {
		t.Close()
		return nil, err
	}
	_, raw, err := c.Do(ctx, http.MethodPost, "/api/subscriptions", http.Header{"Content-Type": {"application/json"}}, sub)
	if err != nil {
		t.Close()
		return nil, fmt.Errorf("subscribe to status webhooks: %w", err)
	}
	var created struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(raw, &created); err != nil {
		t.Close()
		return nil, fmt.Errorf("subscribe to status webhooks: answer %.200s: %w", raw, err)
	}
	t.subID = created.ID
	return t, nil
}

// Close deletes the subscription and stops the receiver.
func (t *Tracker) Close() {
	if t.subID != 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _, _ = t.client.Do(ctx, http.MethodDelete, fmt.Sprintf("/api/subscriptions/%d", t.subID), nil, nil)
		cancel()
		t.subID = 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = t.srv.Shutdown(ctx)
}

func (t *Tracker) attach(s *Shard) {
	t.mu.Lock()
	t.shard = s
	t.mu.Unlock()
}

// serve takes one webhook POST.
func (t *Tracker) serve(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	var ev struct {
		Event       string `json:"event"`
		MessageID   string `json:"messageId"`
		Status      string `json:"status"`
		Description string `json:"description"`
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || json.Unmarshal(raw, &ev) != nil {
		http.Error(w, "not a webhook event", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
	if ev.Event != "status" || ev.MessageID == "" {
		return // a ping
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.pending[ev.MessageID]
	if m == nil {
		// A status of a message that is done (e.g. DPO's LEVERT when the flow waits for SENDT only) or
		// not ours. None can come before Sending, which is called before the send request.
		return
	}
	t.apply(ev.MessageID, m, event{ev.Status, now, ev.Description})
}

// apply records one status of a pending message; t.mu is held.
func (t *Tracker) apply(id string, m *tracked, ev event) {
	elapsed := ev.at.Sub(m.sending)
	switch ev.status {
	case "SENDT":
		if !m.sendt {
			m.sendt = true
			t.counts.Sendt++
			t.record(MetricE2ESendt, m.expect.Flow, elapsed)
		}
		if !m.expect.Levert || m.levert {
			t.done(id)
		}
	case "LEVERT":
		if m.levert {
			return
		}
		m.levert = true
		t.counts.Levert++
		t.record(MetricE2ELevert, m.expect.Flow, elapsed)
		if m.sendt {
			t.done(id)
		}
	case "FEIL", "LEVETID_UTLOPT":
		if ev.status == "FEIL" {
			t.counts.Feil++
		} else {
			t.counts.Expired++
		}
		t.errorLocked("e2e: "+ev.status, id+": "+ev.desc)
		t.done(id)
	}
}

// record adds an end-to-end time under metric and, when the flow is known, under metric.flow; t.mu is
// held.
func (t *Tracker) record(metric, flow string, d time.Duration) {
	if t.shard == nil {
		return
	}
	t.shard.Record(metric, d)
	if flow != "" {
		t.shard.Record(metric+"."+flow, d)
	}
}

func (t *Tracker) done(id string) {
	delete(t.pending, id)
}

func (t *Tracker) errorLocked(kind, detail string) {
	e := t.errs[kind]
	if e == nil {
		e = &ErrorCount{Kind: kind}
		t.errs[kind] = e
	}
	e.Count++
	if len(e.Samples) < maxErrorSamples {
		e.Samples = append(e.Samples, detail)
	}
}

// Sending starts waiting for the statuses of messageID; its latencies count from now.
func (t *Tracker) Sending(messageID string, expect Expect) {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := &tracked{sending: time.Now(), expect: expect}
	t.pending[messageID] = m
	if t.keepSent && len(t.sent) < maxSent {
		t.sent[messageID] = sentInfo{at: m.sending, flow: expect.Flow}
	} else if t.keepSent {
		t.sentDropped++
	}
	t.counts.Accepted++
}

// Forget stops waiting for messageID (its send failed).
func (t *Tracker) Forget(messageID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.pending[messageID]; ok {
		delete(t.pending, messageID)
		delete(t.sent, messageID)
		t.counts.Accepted--
	}
}

// Received records the time from the send of messageID to now, if this run sent it.
func (t *Tracker) Received(messageID string, shard *Shard) {
	t.mu.Lock()
	info, ok := t.sent[messageID]
	if ok && !info.received {
		info.received = true
		t.sent[messageID] = info
		t.counts.Received++
	} else {
		ok = false
	}
	t.mu.Unlock()
	if ok {
		shard.Record(MetricE2EReceived, time.Since(info.at))
	}
}

// Counts is a snapshot of the counters.
func (t *Tracker) Counts() E2ECounts {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.counts
	c.Outstanding = int64(len(t.pending))
	return c
}

func (t *Tracker) errors() []ErrorCount {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]ErrorCount, 0, len(t.errs))
	for _, e := range t.errs {
		out = append(out, *e)
	}
	return out
}

// Drain waits up to d for the outstanding messages, then asks the integration point for the statuses of
// those still outstanding: one that reached its expected status counts as a missed webhook, the rest as
// missing (an error).
func (t *Tracker) Drain(ctx context.Context, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if t.Counts().Outstanding == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.mu.Lock()
	ids := make([]string, 0, len(t.pending))
	for id := range t.pending {
		ids = append(ids, id)
	}
	t.mu.Unlock()
	// Ask for the statuses of at most maxChecks of them, within checkTime altogether; an interrupted run
	// asks for none. The rest count as missing, unchecked.
	const maxChecks, checkTime = 2000, time.Minute
	cctx, cancel := context.WithTimeout(ctx, checkTime)
	defer cancel()
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, id := range ids {
		if i >= maxChecks || cctx.Err() != nil {
			t.mu.Lock()
			t.counts.Missing++
			t.errorLocked("e2e: no final status within the drain (not checked)", id)
			delete(t.pending, id)
			t.mu.Unlock()
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t.check(cctx, id)
		}()
	}
	wg.Wait()
}

// check asks for one outstanding message's statuses.
func (t *Tracker) check(ctx context.Context, id string) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, raw, err := t.client.Do(cctx, http.MethodGet, "/api/statuses/"+id+"?size=50", nil, nil)
	var page struct {
		Content []struct {
			Status string `json:"status"`
		} `json:"content"`
	}
	if err == nil {
		err = json.Unmarshal(raw, &page)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.pending[id]
	if m == nil {
		return
	}
	last := "none"
	reached := false
	for _, s := range page.Content {
		last = s.Status
		if s.Status == "LEVERT" || (s.Status == "SENDT" && !m.expect.Levert) {
			reached = true
		}
	}
	switch {
	case err != nil:
		t.counts.Missing++
		t.errorLocked("e2e: statuses could not be read", id+": "+err.Error())
	case reached:
		t.counts.MissedHook++
	default:
		t.counts.Missing++
		t.errorLocked("e2e: no final status within the drain (last "+last+")", id)
	}
	delete(t.pending, id)
}

// RecordArrivals adds, for every message this run sent with a flow that goes to a simulator and that
// arrived there (by messageId), the time from its send to its arrival (MetricE2ESimulator, and per flow),
// into shard. It returns how many it found of how many it looked for.
func (t *Tracker) RecordArrivals(arrivals map[string]time.Time, shard *Shard) (found, wanted int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, info := range t.sent {
		if len(SimulatorsOf([]string{info.flow})) == 0 {
			continue
		}
		wanted++
		at, ok := arrivals[id]
		if !ok {
			continue
		}
		found++
		d := at.Sub(info.at)
		if d < 0 {
			d = 0
		}
		shard.Record(MetricE2ESimulator, d)
		if info.flow != "" {
			shard.Record(MetricE2ESimulator+"."+info.flow, d)
		}
	}
	return found, wanted
}
