package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/inbound"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// incomingEnv is an API with messages received from dpoOrg: an arkivmelding with a container, an
// arkivmelding_kvittering and an avtalt without one. sends counts OnSend calls.
type incomingEnv struct {
	*env
	ark, kvittering, avtalt *wire.StandardBusinessDocument
	asic                    []byte
	sends                   atomic.Int32
}

func newIncomingEnv(t *testing.T, opts ...func(*Options)) *incomingEnv {
	t.Helper()
	ie := &incomingEnv{asic: []byte("PK\x03\x04 pretend this is an ASiC-E container")}
	opts = append(opts, func(o *Options) { o.OnSend = func() { ie.sends.Add(1) } })
	ie.env = newEnv(t, opts...)
	in := inbound.New(inbound.Options{Store: ie.store})
	spec := func(s *fixtures.SBDSpec) { s.Sender, s.Receiver, s.TTL = dpoOrg, ownOrg, time.Hour }
	ie.ark = sbdFor(t, wire.TypeArkivmelding, ownOrg, spec)
	ie.kvittering = sbdFor(t, wire.TypeArkivmeldingKvittering, ownOrg, spec)
	ie.avtalt = sbdFor(t, wire.TypeAvtalt, ownOrg, spec)
	ctx := context.Background()
	for _, m := range []struct {
		sbd  *wire.StandardBusinessDocument
		asic []byte
	}{{ie.ark, ie.asic}, {ie.kvittering, nil}, {ie.avtalt, nil}} {
		if err := in.Handle(ctx, m.sbd, m.asic, wire.ServiceDPO); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // distinct arrival times
	}
	return ie
}

func messageIDOf(t *testing.T, r reply) string {
	t.Helper()
	sbd, err := wire.ParseSBD(r.body)
	if err != nil {
		t.Fatalf("answer is no SBD: %v\n%s", err, r.body)
	}
	return sbd.MessageID()
}

func TestIncomingListAndFilters(t *testing.T) {
	t.Parallel()
	e := newIncomingEnv(t)
	var all page[json.RawMessage]
	r := e.get("/api/messages/in")
	if r.status != http.StatusOK {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	decode(t, r, &all)
	if all.TotalElements != 3 || len(all.Content) != 3 || all.Size != 10 {
		t.Errorf("page: total %d, %d elements, size %d", all.TotalElements, len(all.Content), all.Size)
	}
	for path, want := range map[string]int64{
		"/api/messages/in?process=" + wire.ProcessArkivmeldingResponse:             1,
		"/api/messages/in?senderIdentifier=" + dpoOrg:                              3,
		"/api/messages/in?senderIdentifier=0192:" + dpoOrg:                         0, // plain identifiers only
		"/api/messages/in?receiverIdentifier=" + ownOrg + "&serviceIdentifier=DPO": 3,
		"/api/messages/in?messageId=" + e.avtalt.MessageID():                       1,
		"/api/messages/in?conversationId=" + e.ark.ConversationID():                1,
		"/api/messages/in?serviceIdentifier=DPV":                                   0,
		"/api/messages/in?size=2&page=1":                                           3,
		"/api/messages/in?sort=lastUpdated,desc&messageID=" + e.avtalt.MessageID(): 3, // messageID is no filter
	} {
		var p page[json.RawMessage]
		r := e.get(path)
		if r.status != http.StatusOK {
			t.Errorf("%s: %d %s", path, r.status, r.body)
			continue
		}
		decode(t, r, &p)
		if p.TotalElements != want {
			t.Errorf("%s: total %d, want %d", path, p.TotalElements, want)
		}
	}
	expectError(t, e.get("/api/messages/in?serviceIdentifier=DPX"), http.StatusBadRequest, exIllegalArgument, "DPX")
	expectError(t, e.get("/api/messages/in?sort=nope"), http.StatusBadRequest, exPropertyReference, "nope")
	// The MOTTATT replies the integration point queued are not the client's outgoing messages.
	var out page[json.RawMessage]
	decode(t, e.get("/api/messages/out"), &out)
	if out.TotalElements != 0 {
		t.Errorf("outbox lists %d internal messages", out.TotalElements)
	}
}

func TestIncomingPeekPopDelete(t *testing.T) {
	t.Parallel()
	e := newIncomingEnv(t)
	id := e.ark.MessageID()

	expectError(t, e.get("/api/messages/in/pop/"+id), http.StatusBadRequest, exMessageNotLocked,
		"Message with messageId = "+id+" was not locked")
	expectError(t, e.do(http.MethodDelete, "/api/messages/in/"+id, nil, nil), http.StatusBadRequest, exMessageNotLocked,
		"Message with messageId = "+id+" was not locked")
	expectError(t, e.get("/api/messages/in/pop/nope"), http.StatusNotFound, exMessageNotFound, "Message with messageId = nope was not found")
	expectError(t, e.do(http.MethodDelete, "/api/messages/in/nope", nil, nil), http.StatusNotFound, exMessageNotFound,
		"Message with messageId = nope was not found")

	r := e.get("/api/messages/in/peek?process=" + wire.ProcessArkivmeldingAdministrasjon)
	if r.status != http.StatusOK || messageIDOf(t, r) != id || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("peek: %d %s", r.status, r.body)
	}
	for i := 0; i < 2; i++ { // pop can be repeated while locked
		r = e.get("/api/messages/in/pop/" + id)
		if r.status != http.StatusOK || !bytes.Equal(r.body, e.asic) {
			t.Fatalf("pop: %d %q", r.status, r.body)
		}
		if ct, cd := r.header.Get("Content-Type"), r.header.Get("Content-Disposition"); ct != "application/vnd.etsi.asic-e+zip" ||
			cd != "attachment; filename=asic.zip" {
			t.Errorf("pop headers: %q %q", ct, cd)
		}
	}
	r = e.do(http.MethodDelete, "/api/messages/in/"+id, nil, nil)
	if r.status != http.StatusOK || messageIDOf(t, r) != id {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if got := e.statusEvents(); !cmp.Equal(got, []wire.ReceiptStatus{wire.StatusInnkommendeLevert}) {
		t.Errorf("statuses reported: %v", got)
	}
	if e.sends.Load() != 1 {
		t.Errorf("delivery woken %d times", e.sends.Load())
	}
	if _, err := e.store.Outgoing(context.Background(), store.StatusKey(id, wire.StatusLevert)); err != nil {
		t.Errorf("no LEVERT on the outbox: %v", err)
	}
	var statuses page[messageStatusView]
	decode(t, e.get("/api/statuses/"+id), &statuses)
	var names []wire.ReceiptStatus
	for _, s := range statuses.Content {
		names = append(names, s.Status)
	}
	if diff := cmp.Diff([]wire.ReceiptStatus{wire.StatusOpprettet, wire.StatusInnkommendeMottatt, wire.StatusInnkommendeLevert}, names); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	expectError(t, e.get("/api/messages/in/pop/"+id), http.StatusNotFound, exMessageNotFound, id)

	// Each peek locks the next message; receipts and messages without container pop as 204.
	seen := map[string]bool{}
	for i := 0; i < 2; i++ {
		r := e.get("/api/messages/in/peek/") // old clients' trailing slash
		if r.status != http.StatusOK {
			t.Fatalf("peek %d: %d %s", i, r.status, r.body)
		}
		m := messageIDOf(t, r)
		seen[m] = true
		if p := e.get("/api/messages/in/pop/" + m); p.status != http.StatusNoContent || len(p.body) != 0 {
			t.Errorf("pop %s: %d %q", m, p.status, p.body)
		}
	}
	if !seen[e.kvittering.MessageID()] || !seen[e.avtalt.MessageID()] {
		t.Errorf("peeked %v", seen)
	}
	if r := e.get("/api/messages/in/peek"); r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Errorf("peek with everything locked: %d %q", r.status, r.body)
	}
}

func TestIncomingLockRunsOut(t *testing.T) {
	t.Parallel()
	e := newIncomingEnv(t, func(o *Options) { o.LockTimeout = 50 * time.Millisecond })
	r := e.get("/api/messages/in/peek?messageId=" + e.avtalt.MessageID())
	if r.status != http.StatusOK {
		t.Fatalf("peek: %d", r.status)
	}
	time.Sleep(400 * time.Millisecond) // the store's clock is the real one; a wide margin for loaded CI machines
	expectError(t, e.get("/api/messages/in/pop/"+e.avtalt.MessageID()), http.StatusBadRequest, exMessageNotLocked, "was not locked")
	r = e.get("/api/messages/in/peek?messageId=" + e.avtalt.MessageID())
	if r.status != http.StatusOK {
		t.Errorf("peek after the lock ran out: %d", r.status)
	}
}

func TestIncomingPopOfALostContainer(t *testing.T) {
	t.Parallel()
	e := newIncomingEnv(t)
	id := e.ark.MessageID()
	if r := e.get("/api/messages/in/peek?messageId=" + id); r.status != http.StatusOK {
		t.Fatalf("peek: %d", r.status)
	}
	files, _ := filepath.Glob(filepath.Join(e.store.Dir(), "incoming", "*"))
	for _, f := range files {
		os.Remove(f)
	}
	expectError(t, e.get("/api/messages/in/pop/"+id), http.StatusNotFound, exFileNotFound, "File(s) named asic.zip was not found")
	conv, err := e.store.ConversationByMessageID(context.Background(), id, store.Incoming)
	if err != nil {
		t.Fatal(err)
	}
	last := conv.Statuses[len(conv.Statuses)-1]
	if last.Status != wire.StatusFeil || last.Description != `Can not read file "asic.zip" for message [messageId=`+id+`, sender=0192:`+dpoOrg+`], removing from queue.` {
		t.Errorf("last status %s %q", last.Status, last.Description)
	}
	expectError(t, e.get("/api/messages/in/pop/"+id), http.StatusNotFound, exMessageNotFound, id)
}

func TestIncomingMethodsAndEmptyQueue(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if r := e.get("/api/messages/in/peek"); r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Errorf("empty peek: %d %q", r.status, r.body)
	}
	var p page[json.RawMessage]
	decode(t, e.get("/api/messages/in"), &p)
	if p.TotalElements != 0 || p.Content == nil || !p.Empty {
		t.Errorf("empty list: %+v", p)
	}
	if r := e.do(http.MethodPost, "/api/messages/in/peek", nil, nil); r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST peek: %d", r.status)
	}
}
