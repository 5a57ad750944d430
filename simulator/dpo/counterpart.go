package dpo

import (
	"archive/zip"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Limits of the simulated counterparts.
const (
	// MaxCounterpartDelay bounds every delay of a counterpart.
	MaxCounterpartDelay = 24 * time.Hour
	// maxPendingResponses bounds the timers pending at once; beyond it new transfers to simulated
	// organisations are not answered (and a warning is logged).
	maxPendingResponses = 10_000
	maxBehaviourBody    = 1 << 20
)

// Receipt types of an arkivmelding_kvittering.
var receiptTypes = []string{"OK", "WARNING", "ERROR", "NOTSUPPORTED"}

// Counterpart is how a simulated receiving organisation answers the transfers addressed to it, as the
// integration point of that organisation would (upstreams §12.4).
type Counterpart struct {
	// Mottatt and Levert are the delays after the transfer is Published before a status SBD with
	// MOTTATT or LEVERT is sent back; nil sends none.
	Mottatt *time.Duration
	Levert  *time.Duration
	// Kvittering is the receiptType of an arkivmelding_kvittering sent back for arkivmelding
	// originals (OK, WARNING, ERROR or NOTSUPPORTED); "" sends none. KvitteringDelay is its delay (nil:
	// that of LEVERT, else of MOTTATT, else none); Messages its messages.
	Kvittering      string
	KvitteringDelay *time.Duration
	Messages        []wire.KvitteringStatusMessage
	// Confirm makes the counterpart download and confirm the original, as a polling integration point
	// does: when MOTTATT is sent, or at once without MOTTATT.
	Confirm bool
}

// CounterpartJSON is the JSON shape of a Counterpart on /__admin/behaviour: durations as Go duration
// strings ("200ms", "1s"), null or absent for never.
type CounterpartJSON struct {
	Mottatt         *string                        `json:"mottatt,omitempty"`
	Levert          *string                        `json:"levert,omitempty"`
	Kvittering      *string                        `json:"kvittering,omitempty"`
	KvitteringDelay *string                        `json:"kvitteringDelay,omitempty"`
	Messages        []wire.KvitteringStatusMessage `json:"messages,omitempty"`
	Confirm         *bool                          `json:"confirm,omitempty"`
}

// Behaviour is the body of GET and PUT /__admin/behaviour: the simulated counterparts by organisation
// number. On PUT each organisation named replaces its counterpart, null removes it, and the others stay.
type Behaviour struct {
	Organizations map[string]*CounterpartJSON `json:"organizations"`
}

var orgnrPattern = regexp.MustCompile(`^\d{9}$`)

func durationJSON(d *time.Duration) *string {
	if d == nil {
		return nil
	}
	s := d.String()
	return &s
}

func (c Counterpart) json() *CounterpartJSON {
	out := &CounterpartJSON{Mottatt: durationJSON(c.Mottatt), Levert: durationJSON(c.Levert),
		KvitteringDelay: durationJSON(c.KvitteringDelay), Messages: c.Messages, Confirm: &c.Confirm}
	if c.Kvittering != "" {
		k := c.Kvittering
		out.Kvittering = &k
	}
	return out
}

// parseCounterpart validates one organisation's counterpart; field names the errors.
func parseCounterpart(field string, in *CounterpartJSON) (Counterpart, error) {
	c := Counterpart{Confirm: true}
	dur := func(name string, s *string) (*time.Duration, error) {
		if s == nil {
			return nil, nil
		}
		d, err := time.ParseDuration(strings.TrimSpace(*s))
		switch {
		case err != nil:
			return nil, fmt.Errorf("%s.%s: %q is not a duration such as \"200ms\", \"2s\" or \"1m\"", field, name, *s)
		case d < 0:
			return nil, fmt.Errorf("%s.%s: %q is negative", field, name, *s)
		case d > MaxCounterpartDelay:
			return nil, fmt.Errorf("%s.%s: %q is longer than %s", field, name, *s, MaxCounterpartDelay)
		}
		return &d, nil
	}
	var err error
	if c.Mottatt, err = dur("mottatt", in.Mottatt); err != nil {
		return c, err
	}
	if c.Levert, err = dur("levert", in.Levert); err != nil {
		return c, err
	}
	if c.KvitteringDelay, err = dur("kvitteringDelay", in.KvitteringDelay); err != nil {
		return c, err
	}
	if in.Kvittering != nil {
		k := strings.ToUpper(strings.TrimSpace(*in.Kvittering))
		if !slices.Contains(receiptTypes, k) {
			return c, fmt.Errorf("%s.kvittering: %q is not a receipt type (%s)", field, *in.Kvittering, strings.Join(receiptTypes, ", "))
		}
		c.Kvittering = k
	}
	if in.Kvittering == nil && (in.KvitteringDelay != nil || len(in.Messages) > 0) {
		return c, fmt.Errorf("%s: kvitteringDelay and messages need kvittering", field)
	}
	c.Messages = in.Messages
	if in.Confirm != nil {
		c.Confirm = *in.Confirm
	}
	return c, nil
}

// SetCounterpart makes orgnr a simulated counterpart (nil removes it).
func (s *Server) SetCounterpart(orgnr string, c *Counterpart) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c == nil {
		delete(s.counterparts, orgnrOf(orgnr))
		return
	}
	cp := *c
	cp.Messages = slices.Clone(c.Messages)
	s.counterparts[orgnrOf(orgnr)] = cp
}

func (s *Server) behaviourView() Behaviour {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Behaviour{Organizations: map[string]*CounterpartJSON{}}
	for org, c := range s.counterparts {
		out.Organizations[org] = c.json()
	}
	return out
}

// adminBehaviour serves GET and PUT /__admin/behaviour.
func (s *Server) adminBehaviour(r *http.Request) admin.Response {
	if r.Method == http.MethodGet {
		return admin.JSON(http.StatusOK, s.behaviourView())
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBehaviourBody+1))
	if err != nil {
		return admin.ErrorResponse(http.StatusBadRequest, "behaviour: the body could not be read: "+err.Error())
	}
	if len(body) > maxBehaviourBody {
		return admin.ErrorResponse(http.StatusRequestEntityTooLarge, fmt.Sprintf("behaviour: the body is larger than %d bytes", maxBehaviourBody))
	}
	var in Behaviour
	if err := decodeStrict(body, &in); err != nil {
		return admin.ErrorResponse(http.StatusBadRequest, "behaviour: "+err.Error())
	}
	if in.Organizations == nil {
		return admin.ErrorResponse(http.StatusBadRequest, `behaviour: "organizations" is required, e.g. {"organizations":{"910076787":{"mottatt":"200ms","levert":"1s"}}}`)
	}
	set := map[string]*Counterpart{}
	for key, cj := range in.Organizations {
		org := orgnrOf(strings.TrimSpace(key))
		if !orgnrPattern.MatchString(org) {
			return admin.ErrorResponse(http.StatusBadRequest, fmt.Sprintf("behaviour: organizations: %q is not an organisation number (nine digits, optionally 0192:)", key))
		}
		if cj == nil {
			set[org] = nil
			continue
		}
		c, err := parseCounterpart("organizations."+key, cj)
		if err != nil {
			return admin.ErrorResponse(http.StatusBadRequest, "behaviour: "+err.Error())
		}
		set[org] = &c
	}
	for org, c := range set {
		s.SetCounterpart(org, c)
	}
	s.log.Info("dpo: counterparts changed", "organizations", len(set))
	return admin.JSON(http.StatusOK, s.behaviourView())
}

// adminDeleteBehaviour serves DELETE /__admin/behaviour/{orgnr}.
func (s *Server) adminDeleteBehaviour(r *http.Request) admin.Response {
	s.SetCounterpart(mux.Vars(r)["orgnr"], nil)
	return admin.JSON(http.StatusOK, s.behaviourView())
}

// decodeStrict decodes one JSON value, refusing unknown fields and trailing data.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fmt.Errorf("%s: a JSON %s cannot be a %s", te.Field, te.Value, te.Type)
		}
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// The scheduler. Every pending action is a time.AfterFunc timer kept in s.timers, under s.mu, tagged with
// the generation it was scheduled in. Reset and Close bump the generation and stop every timer; a timer
// that already fired checks its generation under s.mu before it acts, and so does the insertion of what
// it built. Close also waits for the callbacks that are running.

// scheduleLocked runs f after d unless the simulator is reset or closed first. Callers hold s.mu.
func (s *Server) scheduleLocked(gen uint64, d time.Duration, f func()) bool {
	if s.closed || gen != s.gen {
		return false
	}
	if len(s.timers) >= maxPendingResponses {
		s.log.Warn("dpo: too many pending counterpart actions; one is dropped", "pending", len(s.timers))
		return false
	}
	var tm *time.Timer
	// The callback takes s.mu, which the caller holds until tm is recorded.
	tm = time.AfterFunc(d, func() {
		s.mu.Lock()
		delete(s.timers, tm)
		if s.closed || s.gen != gen {
			s.mu.Unlock()
			return
		}
		s.running.Add(1)
		s.mu.Unlock()
		defer s.running.Done()
		f()
	})
	s.timers[tm] = struct{}{}
	return true
}

// stopTimersLocked starts a new generation and stops every pending timer. Callers hold s.mu.
func (s *Server) stopTimersLocked() {
	s.gen++
	for tm := range s.timers {
		tm.Stop()
	}
	clear(s.timers)
}

// reply is one counterpart's work on one published transfer.
type reply struct {
	gen        uint64
	id         string // the original transfer
	org        string // the simulated recipient
	cp         Counterpart
	payload    []byte
	origSender string // the original transfer's sender ("0192:…")
	start      time.Time
}

// publishedLocked is called when t is Published: every recipient that is a simulated counterpart gets
// its answers scheduled. Callers hold s.mu.
func (s *Server) publishedLocked(t *transfer) {
	for _, rc := range t.recipients {
		org := orgnrOf(rc.org)
		cp, ok := s.counterparts[org]
		if !ok {
			continue
		}
		rp := &reply{gen: s.gen, id: t.id, org: org, cp: cp, payload: t.payload, origSender: t.sender, start: time.Now()}
		s.scheduleLocked(rp.gen, 0, func() { s.answer(rp) })
	}
}

type replyStep struct {
	at   time.Duration
	name string
	run  func()
}

// answer reads the original's sbd.json and runs the counterpart's steps in order of their delays.
func (s *Server) answer(rp *reply) {
	log := s.log.With("fileTransferId", rp.id, "counterpart", rp.org)
	raw, err := sbdEntry(rp.payload)
	rp.payload = nil // only sbd.json is needed; do not keep the package alive in pending timers
	if err != nil {
		// The integration point leaves what it cannot read unconfirmed (upstreams §4.4).
		log.Warn("dpo: counterpart cannot read the transfer's sbd.json; it is not answered", "err", err)
		return
	}
	var steps []replyStep
	confirmAt := time.Duration(0)
	if rp.cp.Mottatt != nil {
		confirmAt = *rp.cp.Mottatt
	}
	if rp.cp.Confirm {
		steps = append(steps, replyStep{confirmAt, "confirm", func() { s.counterpartConfirm(rp) }})
	}
	orig, err := wire.ParseSBD(raw)
	if err == nil && (!isUUID(orig.MessageID()) || !isUUID(orig.ConversationID())) {
		err = fmt.Errorf("messageId %q or conversationId %q is not a UUID", orig.MessageID(), orig.ConversationID())
	}
	switch {
	case err != nil:
		// The integration point confirms and discards what it cannot read (upstreams §4.4).
		log.Warn("dpo: counterpart cannot parse sbd.json; nothing is sent back", "err", err)
	case orig.Type() == wire.TypeStatus || orig.Type().IsReceipt():
		log.Debug("dpo: counterpart received a status or receipt; nothing is sent back", "type", orig.Type())
	default:
		if d := rp.cp.Mottatt; d != nil {
			steps = append(steps, replyStep{*d, "MOTTATT", func() { s.sendStatus(rp, orig, wire.StatusMottatt) }})
		}
		if d := rp.cp.Levert; d != nil {
			steps = append(steps, replyStep{*d, "LEVERT", func() { s.sendStatus(rp, orig, wire.StatusLevert) }})
		}
		if rp.cp.Kvittering != "" && orig.Type() == wire.TypeArkivmelding {
			d := rp.cp.KvitteringDelay
			if d == nil {
				d = cmpOr(rp.cp.Levert, rp.cp.Mottatt)
			}
			at := time.Duration(0)
			if d != nil {
				at = *d
			}
			steps = append(steps, replyStep{at, "kvittering", func() { s.sendKvittering(rp, orig) }})
		}
	}
	slices.SortStableFunc(steps, func(a, b replyStep) int { return cmp.Compare(a.at, b.at) })
	s.runSteps(rp, steps)
}

// sbdEntry reads the sbd.json entry of a DPO zip.
func sbdEntry(data []byte) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("not a zip: %w", err)
	}
	for _, f := range zr.File {
		if f.Name == EntrySBD {
			return readEntry(f, maxSBDShown)
		}
	}
	return nil, errors.New("the zip has no sbd.json")
}

func cmpOr(ds ...*time.Duration) *time.Duration {
	for _, d := range ds {
		if d != nil {
			return d
		}
	}
	return nil
}

func isUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}

// runSteps runs the steps that are due and schedules the rest, one timer at a time so that they keep
// their order.
func (s *Server) runSteps(rp *reply, steps []replyStep) {
	for len(steps) > 0 {
		wait := time.Until(rp.start.Add(steps[0].at))
		if wait > 0 {
			rest := steps
			s.mu.Lock()
			s.scheduleLocked(rp.gen, wait, func() { s.runSteps(rp, rest) })
			s.mu.Unlock()
			return
		}
		steps[0].run()
		steps = steps[1:]
	}
}

// counterpartConfirm downloads and confirms the original for the counterpart.
func (s *Server) counterpartConfirm(rp *reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.transfers[rp.id]
	if !ok || s.gen != rp.gen {
		return
	}
	rc := t.recipient(rp.org)
	if rc == nil || rc.status == RecipientDownloadConfirmed || t.status != StatusPublished {
		return
	}
	now := s.now()
	if rc.status != RecipientDownloadStarted {
		rc.setStatus(RecipientDownloadStarted, now)
	}
	rc.setStatus(RecipientDownloadConfirmed, now)
	if t.allConfirmed() {
		t.setStatus(StatusAllConfirmedDownloaded, now)
	}
	s.log.Info("dpo: counterpart confirmed the download", "fileTransferId", t.id, "counterpart", rp.org)
}

func (s *Server) sendStatus(rp *reply, orig *wire.StandardBusinessDocument, status wire.ReceiptStatus) {
	s.sendAnswer(rp, orig, statusSBD(orig, status, s.now()), string(status))
}

func (s *Server) sendKvittering(rp *reply, orig *wire.StandardBusinessDocument) {
	s.sendAnswer(rp, orig, kvitteringSBD(orig, uuid.NewString(), rp.cp.Kvittering, rp.cp.Messages, s.now()), "kvittering "+rp.cp.Kvittering)
}

// sendAnswer stores a Published transfer from the counterpart to the original sender holding only
// sbd.json.
func (s *Server) sendAnswer(rp *reply, orig, sbd *wire.StandardBusinessDocument, what string) {
	data, err := sbdZip(sbd, nil)
	if err != nil {
		s.log.Error("dpo: counterpart could not build its answer", "fileTransferId", rp.id, "err", err)
		return
	}
	ref := orig.MessageChannel()
	if ref == "" {
		ref = uuid.NewString()
	}
	id, ok := s.publish("0192:"+rp.org, rp.origSender, ref, data, rp.gen, true)
	if ok {
		s.log.Info("dpo: counterpart answered", "answer", what, "fileTransferId", id, "original", rp.id,
			"counterpart", rp.org, "messageId", sbd.MessageID(), "conversationId", sbd.ConversationID())
	}
}

// publish stores a new Published transfer of data from sender to recipient (both "0192:<orgnr>"), as
// an initialise and an upload would, unless the generation changed. Simulated recipients answer it.
// With distinct, its created time is made later than that of every earlier transfer, so that a poller
// sorting by created sees answers in the order they were sent.
func (s *Server) publish(sender, recipientOrg, ref string, data []byte, gen uint64, distinct bool) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || gen != s.gen {
		return "", false
	}
	now := s.now()
	if n := len(s.order); distinct && n > 0 && !now.After(s.order[n-1].created) {
		now = s.order[n-1].created.Add(time.Microsecond)
	}
	t := &transfer{
		id: uuid.NewString(), resourceID: s.opts.Resource, fileName: "sbd.zip", sendersRef: &ref,
		sender: withPrefix(sender), propertyList: map[string]string{}, useVirusScan: true,
		created: now, expiration: now.Add(FileTransferTimeToLive), statusTimes: map[string]time.Time{},
	}
	rc := &recipient{org: withPrefix(recipientOrg)}
	rc.setStatus(RecipientInitialized, now)
	t.recipients = []*recipient{rc}
	t.setStatus(StatusInitialized, now)
	s.add(t)
	t.payload = data
	s.stored += int64(len(data))
	t.setStatus(StatusUploadStarted, now)
	t.setStatus(StatusUploadProcessing, now)
	t.setStatus(StatusPublished, now)
	s.evict(t)
	s.publishedLocked(t)
	return t.id, true
}
