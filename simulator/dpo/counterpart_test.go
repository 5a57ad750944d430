package dpo_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/dpo"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// adminCall sends a JSON body to the admin API.
func (e *env) adminCall(t testing.TB, method, path, body string) answer {
	t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	return e.do(t, method, "/__admin"+path, "", "application/json", b)
}

func (e *env) setBehaviour(t testing.TB, body string) {
	t.Helper()
	if a := e.adminCall(t, http.MethodPut, "/behaviour", body); a.status != http.StatusOK {
		t.Fatalf("PUT behaviour %s: %d %s", body, a.status, a.body)
	}
}

// send uploads payload from orgA to orgB as an integration point does and returns the transfer id.
func (e *env) send(t testing.TB, from, to string, payload []byte) string {
	t.Helper()
	w := e.altinnToken(t, from, dpo.ScopeWrite)
	id := e.initialize(t, w, "/broker/api/v1/filetransfer/", initBody(from, to))
	e.upload(t, w, id, payload)
	return id
}

func sbdPayload(t testing.TB, sbd *wire.StandardBusinessDocument) []byte {
	t.Helper()
	b, err := json.Marshal(sbd)
	if err != nil {
		t.Fatal(err)
	}
	return zipOf(t, "sbd.json", b)
}

// transfersFrom lists the kept transfers sent by orgnr, oldest first.
func transfersFrom(e *env, orgnr string) []dpo.TransferSummary {
	var out []dpo.TransferSummary
	for _, s := range e.srv.Transfers() {
		if s.Sender == "0192:"+orgnr {
			out = append(out, s)
		}
	}
	return out
}

// waitFor polls until at least n transfers from orgnr exist, for at most 5 s.
func waitFor(t testing.TB, e *env, orgnr string, n int) []dpo.TransferSummary {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := transfersFrom(e, orgnr)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited for %d transfers from %s, have %d", n, orgnr, len(got))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fetch downloads a transfer as orgnr and returns its zip entries.
func (e *env) fetch(t testing.TB, orgnr, id string) map[string][]byte {
	t.Helper()
	a := e.do(t, http.MethodGet, "/broker/api/v1/filetransfer/"+id+"/download", e.altinnToken(t, orgnr, dpo.ScopeRead), "", nil)
	if a.status != http.StatusOK {
		t.Fatalf("download %s: %d %s", id, a.status, a.body)
	}
	zr, err := zip.NewReader(bytes.NewReader([]byte(a.body)), int64(len(a.body)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = b
	}
	return out
}

func parseSBD(t testing.TB, entries map[string][]byte) *wire.StandardBusinessDocument {
	t.Helper()
	sbd, err := wire.ParseSBD(entries["sbd.json"])
	if err != nil {
		t.Fatalf("sbd.json: %v\n%s", err, entries["sbd.json"])
	}
	if errs := sbd.Validate(); len(errs) > 0 {
		t.Errorf("sbd.json is not valid: %v", errs)
	}
	return sbd
}

func TestBehaviourValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, tt := range []struct{ body, want string }{
		{`{"organizations":{"` + orgB + `":{"mottatt":"soon"}}}`, "mottatt"},
		{`{"organizations":{"` + orgB + `":{"levert":"-1s"}}}`, "levert"},
		{`{"organizations":{"` + orgB + `":{"levert":"48h"}}}`, "levert"},
		{`{"organizations":{"` + orgB + `":{"kvitteringDelay":"x","kvittering":"OK"}}}`, "kvitteringDelay"},
		{`{"organizations":{"` + orgB + `":{"kvittering":"MAYBE"}}}`, "kvittering"},
		{`{"organizations":{"` + orgB + `":{"messages":[{"code":"a"}]}}}`, "need kvittering"},
		{`{"organizations":{"` + orgB + `":{"mottat":"1s"}}}`, "mottat"},
		{`{"organizations":{"` + orgB + `":{"mottatt":200}}}`, "mottatt"},
		{`{"organizations":{"` + orgB + `":{"kvittering":"OK","messages":[{"code":"a","txt":"b"}]}}}`, "txt"},
		{`{"organisations":{}}`, "organisations"},
		{`{}`, "organizations"},
		{`{"organizations":{"12345":{}}}`, "12345"},
		{`not json`, "behaviour"},
	} {
		a := e.adminCall(t, http.MethodPut, "/behaviour", tt.body)
		if a.status != http.StatusBadRequest || !strings.Contains(a.body, tt.want) {
			t.Errorf("PUT %s: %d %s, want 400 naming %q", tt.body, a.status, a.body, tt.want)
		}
	}
	if a := e.adminCall(t, http.MethodGet, "/behaviour", ""); a.status != http.StatusOK || !strings.Contains(a.body, `"organizations": {}`) {
		t.Errorf("after refusals: %d %s", a.status, a.body)
	}

	get := func() dpo.Behaviour {
		t.Helper()
		a := e.adminCall(t, http.MethodGet, "/behaviour", "")
		var b dpo.Behaviour
		if a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &b) != nil {
			t.Fatalf("GET behaviour: %d %s", a.status, a.body)
		}
		return b
	}
	s := func(v string) *string { return &v }
	yes, no := true, false
	e.setBehaviour(t, `{"organizations":{"`+orgB+`":{"mottatt":"200ms","levert":"1s","kvittering":"ok","kvitteringDelay":"2s",
		"messages":[{"code":"Recno","text":"42"}]}}}`)
	e.setBehaviour(t, `{"organizations":{"0192:`+orgA+`":{"levert":"0s","confirm":false}}}`)
	want := dpo.Behaviour{Organizations: map[string]*dpo.CounterpartJSON{
		orgB: {Mottatt: s("200ms"), Levert: s("1s"), Kvittering: s("OK"), KvitteringDelay: s("2s"),
			Messages: []wire.KvitteringStatusMessage{{Code: "Recno", Text: "42"}}, Confirm: &yes},
		orgA: {Levert: s("0s"), Confirm: &no},
	}}
	if diff := cmp.Diff(want, get()); diff != "" {
		t.Errorf("behaviour (-want +got):\n%s", diff)
	}
	e.setBehaviour(t, `{"organizations":{"`+orgB+`":null}}`)
	if got := get(); len(got.Organizations) != 1 || got.Organizations[orgA] == nil {
		t.Errorf("after PUT null: %+v", got)
	}
	if a := e.adminCall(t, http.MethodDelete, "/behaviour/"+orgA, ""); a.status != http.StatusOK {
		t.Errorf("DELETE: %d %s", a.status, a.body)
	}
	if got := get(); len(got.Organizations) != 0 {
		t.Errorf("after DELETE: %+v", got)
	}
	e.setBehaviour(t, `{"organizations":{"`+orgB+`":{}}}`)
	if got := get(); got.Organizations[orgB] == nil || *got.Organizations[orgB].Confirm != true || got.Organizations[orgB].Mottatt != nil {
		t.Errorf("empty counterpart: %+v", got.Organizations[orgB])
	}
	if a := e.adminCall(t, http.MethodPost, "/reset", ""); a.status != http.StatusOK {
		t.Fatalf("reset: %d %s", a.status, a.body)
	}
	if got := get(); len(got.Organizations) != 0 {
		t.Errorf("after reset: %+v", got)
	}
}

// TestCounterpartAnswers: a transfer to a simulated organisation is confirmed and answered with MOTTATT,
// LEVERT and an arkivmelding_kvittering, each a Published transfer holding only sbd.json, as the
// receiving integration point would send them.
func TestCounterpartAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.setBehaviour(t, `{"organizations":{"`+orgB+`":{"mottatt":"20ms","levert":"60ms","kvittering":"OK","kvitteringDelay":"90ms",
		"messages":[{"code":"Recno","text":"315890"}]}}}`)
	orig := fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{Sender: orgA, Receiver: orgB, MessageChannel: "kanal-1",
		Process: wire.ProcessArkivmeldingPlanByggGeodata, Now: e.clock.Now()})
	id := e.send(t, orgA, orgB, sbdPayload(t, orig))

	answers := waitFor(t, e, orgB, 3)
	if len(answers) != 3 {
		t.Fatalf("answers: %+v", answers)
	}
	aRead := e.altinnToken(t, orgA, dpo.ScopeRead)
	if got := e.list(t, aRead, "&status=Published&recipientStatus=Initialized&orderAscending=true"); !cmp.Equal(got,
		[]string{answers[0].ID, answers[1].ID, answers[2].ID}) {
		t.Errorf("A's poll, oldest first = %v", got)
	}
	now := e.clock.Now()
	for i, s := range answers {
		if s.Status != "Published" || len(s.Recipients) != 1 || s.Recipients[0].Recipient != "0192:"+orgA ||
			s.ResourceID != dpo.DefaultResource || s.FileName != "sbd.zip" || s.SendersFileTransferReference == nil ||
			*s.SendersFileTransferReference != "kanal-1" {
			t.Errorf("answer %d: %+v", i, s)
		}
		if i > 0 && !s.Created.After(answers[i-1].Created) {
			t.Errorf("answer %d created %v, not after %v", i, s.Created, answers[i-1].Created)
		}
		entries := e.fetch(t, orgA, s.ID)
		if len(entries) != 1 || entries["sbd.json"] == nil {
			t.Errorf("answer %d entries: %v", i, len(entries))
		}
		sbd := parseSBD(t, entries)
		if sbd.SenderIdentifier() != "0192:"+orgB || sbd.ReceiverIdentifier() != "0192:"+orgA ||
			sbd.ConversationID() != orig.ConversationID() || sbd.Process() != wire.ProcessArkivmeldingResponse ||
			sbd.MessageChannel() != "kanal-1" || sbd.Header.DocumentIdentification.TypeVersion != "2.0" {
			t.Errorf("answer %d header: %+v", i, sbd.Header)
		}
		if exp, ok := sbd.ExpectedResponseDateTime(); !ok || !exp.Time.Equal(now.Add(24*time.Hour)) {
			t.Errorf("answer %d expectedResponseDateTime %v, want %v", i, exp, now.Add(24*time.Hour))
		}
		switch i {
		case 0, 1:
			want := []wire.ReceiptStatus{wire.StatusMottatt, wire.StatusLevert}[i]
			st, ok := sbd.Message.(*wire.StatusMessage)
			if !ok || st.Status != want || sbd.MessageID() != orig.MessageID() || sbd.Standard() != wire.StandardStatus {
				t.Errorf("answer %d: %T %+v, messageId %s, standard %s; want status %s for %s", i, sbd.Message, sbd.Message,
					sbd.MessageID(), sbd.Standard(), want, orig.MessageID())
			}
		case 2:
			k, ok := sbd.Message.(*wire.ArkivmeldingKvittering)
			if !ok || k.ReceiptType != "OK" || k.RelatedToMessageID != orig.MessageID() ||
				!cmp.Equal(k.Messages, []wire.KvitteringStatusMessage{{Code: "Recno", Text: "315890"}}) ||
				sbd.MessageID() == orig.MessageID() || uuid.Validate(sbd.MessageID()) != nil ||
				sbd.Standard() != wire.StandardArkivmeldingKvittering {
				t.Errorf("kvittering: %+v (messageId %s)", sbd.Message, sbd.MessageID())
			}
		}
	}
	o := e.overview(t, aRead, id)
	if o.FileTransferStatus != "AllConfirmedDownloaded" || o.Recipients[0].CurrentRecipientFileTransferStatusCode != "DownloadConfirmed" {
		t.Errorf("original after the counterpart: %+v", o)
	}
	// The counterpart does not answer the answers A's integration point would send back.
	time.Sleep(50 * time.Millisecond)
	if n := len(e.srv.Transfers()); n != 4 {
		t.Errorf("%d transfers, want 4", n)
	}
}

// TestCounterpartAvtalt: an avtalt original gets statuses on the avtalt response process, no kvittering,
// and a fresh UUID as reference without a MessageChannel; a status or receipt to a simulated
// organisation is confirmed but not answered.
func TestCounterpartAvtalt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.setBehaviour(t, `{"organizations":{"`+orgB+`":{"levert":"0s","kvittering":"ERROR"}}}`)
	orig := fixtures.MustSBD(wire.TypeAvtalt, fixtures.SBDSpec{Sender: orgA, Receiver: orgB})
	id := e.send(t, orgA, orgB, sbdPayload(t, orig))
	answers := waitFor(t, e, orgB, 1)
	sbd := parseSBD(t, e.fetch(t, orgA, answers[0].ID))
	if st, ok := sbd.Message.(*wire.StatusMessage); !ok || st.Status != wire.StatusLevert ||
		sbd.Process() != wire.ProcessAvtaltResponse || sbd.MessageID() != orig.MessageID() || sbd.MessageChannel() != "" {
		t.Errorf("status for avtalt: %+v %+v", sbd.Header, sbd.Message)
	}
	if ref := answers[0].SendersFileTransferReference; ref == nil || uuid.Validate(*ref) != nil {
		t.Errorf("reference %v, want a UUID", ref)
	}
	if o := e.overview(t, e.altinnToken(t, orgA, dpo.ScopeRead), id); o.Recipients[0].CurrentRecipientFileTransferStatusCode != "DownloadConfirmed" {
		t.Errorf("original: %+v", o.Recipients)
	}

	status := fixtures.MustSBD(wire.TypeStatus, fixtures.SBDSpec{Sender: orgA, Receiver: orgB})
	sid := e.send(t, orgA, orgB, sbdPayload(t, status))
	broken := e.send(t, orgA, orgB, zipOf(t, "sbd.json", []byte(`{"standardBusinessDocumentHeader":{}}`)))
	noSBD := e.send(t, orgA, orgB, zipOf(t, "other.json", []byte(`{}`)))
	time.Sleep(100 * time.Millisecond)
	if got := transfersFrom(e, orgB); len(got) != 1 {
		t.Errorf("answers: %+v", got)
	}
	aRead := e.altinnToken(t, orgA, dpo.ScopeRead)
	for id, want := range map[string]string{sid: "DownloadConfirmed", broken: "DownloadConfirmed", noSBD: "Initialized"} {
		if o := e.overview(t, aRead, id); o.Recipients[0].CurrentRecipientFileTransferStatusCode != want {
			t.Errorf("transfer %s: recipient %s, want %s", id, o.Recipients[0].CurrentRecipientFileTransferStatusCode, want)
		}
	}
}

func TestCounterpartNoConfirm(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.setBehaviour(t, `{"organizations":{"`+orgB+`":{"mottatt":"0s","confirm":false}}}`)
	id := e.send(t, orgA, orgB, sbdPayload(t, fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{Sender: orgA, Receiver: orgB})))
	waitFor(t, e, orgB, 1)
	o := e.overview(t, e.altinnToken(t, orgA, dpo.ScopeRead), id)
	if o.FileTransferStatus != "Published" || o.Recipients[0].CurrentRecipientFileTransferStatusCode != "Initialized" {
		t.Errorf("original: %+v", o)
	}
	// B's own integration point can still fetch it.
	if got := e.list(t, e.altinnToken(t, orgB, dpo.ScopeRead), "&status=Published&recipientStatus=Initialized"); !cmp.Equal(got, []string{id}) {
		t.Errorf("B's poll: %v", got)
	}
}

func TestNoCounterpart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.setBehaviour(t, `{"organizations":{"`+orgOutside+`":{"mottatt":"0s","levert":"0s"}}}`)
	id := e.send(t, orgA, orgB, sbdPayload(t, fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{Sender: orgA, Receiver: orgB})))
	time.Sleep(100 * time.Millisecond)
	if got := e.srv.Transfers(); len(got) != 1 || got[0].ID != id || got[0].Recipients[0].Status != "Initialized" {
		t.Errorf("transfers: %+v", got)
	}
}

// TestCounterpartStops: Reset and Close stop pending answers; nothing arrives later.
func TestCounterpartStops(t *testing.T) {
	t.Parallel()
	msg := func(t *testing.T) []byte {
		return sbdPayload(t, fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{Sender: orgA, Receiver: orgB}))
	}
	t.Run("reset", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		e.setBehaviour(t, `{"organizations":{"`+orgB+`":{"mottatt":"100ms","levert":"150ms","kvittering":"OK"}}}`)
		e.send(t, orgA, orgB, msg(t))
		if a := e.adminCall(t, http.MethodPost, "/reset", ""); a.status != http.StatusOK {
			t.Fatalf("reset: %d %s", a.status, a.body)
		}
		time.Sleep(300 * time.Millisecond)
		if got := e.srv.Transfers(); len(got) != 0 {
			t.Errorf("after reset: %+v", got)
		}
	})
	t.Run("close", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		e.setBehaviour(t, `{"organizations":{"`+orgB+`":{"mottatt":"0s","levert":"100ms"}}}`)
		e.send(t, orgA, orgB, msg(t))
		waitFor(t, e, orgB, 1) // MOTTATT came, LEVERT is pending
		if err := e.srv.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(250 * time.Millisecond)
		if got := transfersFrom(e, orgB); len(got) != 1 {
			t.Errorf("after close: %+v", got)
		}
		// A transfer after Close is not answered either.
		e.send(t, orgA, orgB, msg(t))
		time.Sleep(50 * time.Millisecond)
		if got := transfersFrom(e, orgB); len(got) != 1 {
			t.Errorf("after close: %+v", got)
		}
	})
}
