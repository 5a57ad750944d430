package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

func TestCapabilities(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := "?process=" + wire.ProcessArkivmeldingAdministrasjon
	arkivmeldingTypes := []wire.DocumentType{{Type: wire.TypeArkivmelding, Standard: wire.StandardArkivmelding}}
	tests := []struct {
		name, path string
		want       []wire.Capability
	}{
		{name: "DPO organisation", path: dpoOrg + admin, want: []wire.Capability{{Process: wire.ProcessArkivmeldingAdministrasjon,
			ServiceIdentifier: wire.ServiceDPO, DocumentTypes: arkivmeldingTypes}}},
		{name: "qualified identifier", path: "0192:" + dpoOrg + admin, want: []wire.Capability{{Process: wire.ProcessArkivmeldingAdministrasjon,
			ServiceIdentifier: wire.ServiceDPO, DocumentTypes: arkivmeldingTypes}}},
		{name: "DPV organisation", path: dpvOrg + admin, want: []wire.Capability{{Process: wire.ProcessArkivmeldingAdministrasjon,
			ServiceIdentifier: wire.ServiceDPV, DocumentTypes: arkivmeldingTypes}}},
		{name: "DPE organisation", path: einnsynOrg + "?process=" + wire.ProcessEinnsynJournalpost, want: []wire.Capability{{
			Process: wire.ProcessEinnsynJournalpost, ServiceIdentifier: wire.ServiceDPE,
			DocumentTypes: []wire.DocumentType{{Type: wire.TypePublisering, Standard: wire.StandardPublisering}}}}},
		{name: "DPF organisation", path: dpfOrg + admin + "&securityLevel=4", want: []wire.Capability{{Process: wire.ProcessArkivmeldingAdministrasjon,
			ServiceIdentifier: wire.ServiceDPF, DocumentTypes: arkivmeldingTypes}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.get("/api/capabilities/" + tt.path)
			if r.status != http.StatusOK {
				t.Fatalf("%d %s", r.status, r.body)
			}
			var got wire.Capabilities
			decode(t, r, &got)
			if diff := cmp.Diff(tt.want, got.Capabilities); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	t.Run("every process of a DPO organisation", func(t *testing.T) {
		var got wire.Capabilities
		decode(t, e.get("/api/capabilities/"+dpoOrg), &got)
		services := map[wire.ServiceIdentifier]int{}
		for _, c := range got.Capabilities {
			services[c.ServiceIdentifier]++
		}
		if len(got.Capabilities) < 2 || services[wire.ServiceDPO] != len(got.Capabilities) {
			t.Errorf("capabilities = %+v", got.Capabilities)
		}
	})
	t.Run("citizen", func(t *testing.T) {
		r := e.get("/api/capabilities/" + citizen + "?process=" + wire.ProcessDigitalpostInfo)
		var got wire.Capabilities
		decode(t, r, &got)
		if len(got.Capabilities) == 0 {
			t.Fatalf("no capabilities: %s", r.body)
		}
		c := got.Capabilities[0]
		mb := pop.Citizen(fixtures.RoleDigital).Facts.Mailbox
		if c.ServiceIdentifier != wire.ServiceDPI || c.PostAddress == nil || c.ReturnAddress == nil ||
			c.DigitalPostAddress == nil || *c.DigitalPostAddress != (wire.DigitalPostAddress{Supplier: mb.ProviderOrgnr, Address: mb.Address}) {
			t.Errorf("capability = %+v", c)
		}
		if !strings.Contains(string(r.body), `"digitalPostAddress"`) || !strings.Contains(string(r.body), `"type": "digital"`) {
			t.Errorf("body:\n%s", r.body)
		}
	})
	t.Run("organisation has no DPI fields", func(t *testing.T) {
		r := e.get("/api/capabilities/" + dpoOrg + admin)
		if strings.Contains(string(r.body), "postAddress") || strings.Contains(string(r.body), "digitalPostAddress") {
			t.Errorf("body:\n%s", r.body)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		expectError(t, e.get("/api/capabilities/"+unknownOrg), 404, exIdentifierNotFound,
			"--no.difi.meldingsutveksling.exceptions.IdentifierNotFoundException-- [Service record not found for parameters: SRParameter(identifier="+
				unknownOrg+", process=null, securityLevel=null, print=null, infoOnly=false, conversationId=null)]")
	})
	t.Run("security level not a number", func(t *testing.T) {
		expectError(t, e.get("/api/capabilities/"+dpoOrg+"?securityLevel=high"), 400, exTypeMismatch,
			"Method parameter 'securityLevel': Failed to convert value of type 'java.lang.String' to required type 'java.lang.Integer'")
	})
	t.Run("security level refused", func(t *testing.T) {
		expectError(t, e.get("/api/capabilities/"+dpfLevel3+admin+"&securityLevel=4"), 400, exMURuntime, "can not receive messages with security level '4'")
	})
}

// statusFixture creates two messages and gives the first more statuses.
func statusFixture(t *testing.T, e *env) (first, second string) {
	t.Helper()
	first = e.mustCreate(sbdFor(t, wire.TypeArkivmelding, dpoOrg)).MessageID()
	second = e.mustCreate(sbdFor(t, wire.TypeAvtalt, dpoOrg)).MessageID()
	ctx := context.Background()
	for _, s := range []wire.ReceiptStatus{wire.StatusSendt, wire.StatusMottatt, wire.StatusLevert} {
		if _, err := e.store.RegisterStatus(ctx, first, store.Outgoing, store.StatusChange{Status: s, Description: "d-" + string(s)}, e.api.opts.StatusQueue); err != nil {
			t.Fatal(err)
		}
	}
	return first, second
}

func TestStatuses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first, second := statusFixture(t, e)

	statuses := func(t *testing.T, query string) page[messageStatusView] {
		t.Helper()
		r := e.get("/api/statuses" + query)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", query, r.status, r.body)
		}
		var p page[messageStatusView]
		decode(t, r, &p)
		return p
	}
	all := statuses(t, "")
	if len(all.Content) != 5 || !all.Sort.Sorted {
		t.Fatalf("all statuses = %+v", all)
	}
	for i := 1; i < len(all.Content); i++ {
		if all.Content[i-1].ID >= all.Content[i].ID {
			t.Errorf("default sort is not id ascending: %+v", all.Content)
		}
	}
	s := all.Content[0]
	if s.MessageID != first || s.Status != wire.StatusOpprettet || s.ConvID == 0 || s.ConversationID == "" {
		t.Errorf("status = %+v", s)
	}
	var raw []map[string]any
	rb := e.get("/api/statuses?messageId=" + second)
	var rawPage map[string]json.RawMessage
	decode(t, rb, &rawPage)
	json.Unmarshal(rawPage["content"], &raw)
	if _, has := raw[0]["description"]; has || len(raw) != 1 {
		t.Errorf("OPPRETTET without description should omit it: %s", rb.body)
	}

	now := time.Now()
	enc := func(t time.Time) string { return url.QueryEscape(wire.NewOffsetDateTime(t.In(wire.Oslo())).String()) }
	tests := []struct {
		query string
		want  int
	}{
		{"?messageId=" + first, 4},
		{"?status=LEVERT", 1},
		{"?status=levert", 0},
		{"?conversationId=" + all.Content[0].ConversationID, len(filter(all.Content, all.Content[0].ConversationID))},
		{"?id=" + jsonNumber(all.Content[2].ID), 1},
		{"?fromDateTime=" + enc(now.Add(-time.Minute)) + "&toDateTime=" + enc(now.Add(time.Minute)), 5},
		{"?fromDateTime=" + enc(now.Add(time.Minute)) + "&toDateTime=" + enc(now.Add(2*time.Minute)), 0},
		{"?fromDateTime=" + enc(now.Add(time.Minute)), 5}, // one bound alone is ignored
		{"?fromDateTime=" + strings.ReplaceAll(wire.NewOffsetDateTime(now.Add(-time.Minute).In(wire.Oslo())).String(), "+", "%20") +
			"&toDateTime=" + enc(now.Add(time.Minute)), 5},
		{"?size=2&page=2", 1},
		{"?sort=id,desc&size=1", 1},
	}
	for _, tt := range tests {
		if got := statuses(t, tt.query); len(got.Content) != tt.want {
			t.Errorf("%s: %d statuses, want %d", tt.query, len(got.Content), tt.want)
		}
	}
	if desc := statuses(t, "?sort=id,desc&size=1"); desc.Content[0].ID != all.Content[4].ID {
		t.Errorf("sort=id,desc gave %+v", desc.Content)
	}
	expectError(t, e.get("/api/statuses?id=x"), 400, exMethodArgNotValid, "Validation failed for object='messageStatusQueryInput'")
	expectError(t, e.get("/api/statuses?fromDateTime=yesterday&toDateTime=today"), 400, exMethodArgNotValid, "Error count: 1")
	expectError(t, e.get("/api/statuses?sort=rawReceipt"), 400, exPropertyReference, "No property 'rawReceipt' found for type 'MessageStatus'")

	r := e.get("/api/statuses/" + first)
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("content type = %q", ct)
	}
	var byMessage page[messageStatusView]
	decode(t, r, &byMessage)
	var names []wire.ReceiptStatus
	for _, s := range byMessage.Content {
		names = append(names, s.Status)
	}
	if diff := cmp.Diff([]wire.ReceiptStatus{wire.StatusOpprettet, wire.StatusSendt, wire.StatusMottatt, wire.StatusLevert}, names); diff != "" {
		t.Errorf("statuses of %s (-want +got):\n%s", first, diff)
	}
	var unknown page[messageStatusView]
	decode(t, e.get("/api/statuses/no-such-message"), &unknown)
	if !unknown.Empty || unknown.TotalElements != 0 {
		t.Errorf("unknown message: %+v", unknown)
	}
}

func filter(ss []messageStatusView, conversationID string) []messageStatusView {
	var out []messageStatusView
	for _, s := range ss {
		if s.ConversationID == conversationID {
			out = append(out, s)
		}
	}
	return out
}

func jsonNumber(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestStatusQueue walks the status queue: peek, delete, until 204.
func TestStatusQueue(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.StatusQueue = func(s string) bool { return s == "DPO" } })
	if r := e.get("/api/statuses/peek"); r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("empty peek: %d %q", r.status, r.body)
	}
	first, second := statusFixture(t, e)
	var seen []string
	for i := 0; ; i++ {
		r := e.get("/api/statuses/peek")
		if r.status == http.StatusNoContent {
			break
		}
		if r.status != http.StatusOK || i > 10 {
			t.Fatalf("peek: %d %s", r.status, r.body)
		}
		var s messageStatusView
		decode(t, r, &s)
		if again := e.get("/api/statuses/peek"); !strings.Contains(string(again.body), `"id": `+jsonNumber(s.ID)+",") {
			t.Errorf("peek removed the status")
		}
		seen = append(seen, s.MessageID+":"+string(s.Status))
		if d := e.do(http.MethodDelete, "/api/statuses/"+jsonNumber(s.ID), nil, nil); d.status != http.StatusOK || len(d.body) != 0 {
			t.Fatalf("delete: %d %s", d.status, d.body)
		}
		if d := e.do(http.MethodDelete, "/api/statuses/"+jsonNumber(s.ID), nil, nil); d.status != http.StatusNotFound || len(d.body) != 0 {
			t.Fatalf("second delete: %d %q", d.status, d.body)
		}
	}
	want := []string{first + ":OPPRETTET", second + ":OPPRETTET", first + ":SENDT", first + ":MOTTATT", first + ":LEVERT"}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("queue order (-want +got):\n%s", diff)
	}
	expectError(t, e.do(http.MethodDelete, "/api/statuses/peek", nil, nil), 400, exTypeMismatch,
		`Method parameter 'id': Failed to convert value of type 'java.lang.String' to required type 'java.lang.Long'; For input string: "peek"`)
}

func TestConversations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first, second := statusFixture(t, e)
	ctx := context.Background()
	pollable := true
	if _, err := e.store.RegisterStatus(ctx, second, store.Outgoing, store.StatusChange{Status: wire.StatusSendt, Pollable: &pollable}, nil); err != nil {
		t.Fatal(err)
	}

	list := func(t *testing.T, query string) page[conversationView] {
		t.Helper()
		r := e.get("/api/conversations" + query)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", query, r.status, r.body)
		}
		var p page[conversationView]
		decode(t, r, &p)
		return p
	}
	all := list(t, "")
	if len(all.Content) != 2 || !all.Sort.Sorted || all.Content[0].MessageID != second {
		t.Fatalf("default sort lastUpdate desc: %+v", all.Content)
	}
	today := time.Now().In(wire.Oslo()).Format("2006-01-02")
	tomorrow := time.Now().In(wire.Oslo()).AddDate(0, 0, 1).Format("2006-01-02")
	tests := []struct {
		query string
		want  []string
	}{
		{"?messageId=" + first, []string{first}},
		{"?receiver=0192:" + dpoOrg, []string{second, first}},
		{"?receiver=" + dpoOrg, nil},
		{"?receiverIdentifier=" + dpoOrg, []string{second, first}},
		{"?sender=0192:" + ownOrg + "&senderIdentifier=" + ownOrg, []string{second, first}},
		{"?finished=true", []string{first}},
		{"?finished=no", []string{second}},
		{"?pollable=1", []string{second}},
		{"?direction=INCOMING", nil},
		{"?direction=OUTGOING&serviceIdentifier=DPO", []string{second, first}},
		{"?lastUpdateFrom=" + today + "&lastUpdateTo=" + today, []string{second, first}},
		{"?lastUpdateFrom=" + tomorrow, nil},
		{"?lastUpdateTo=2000-01-01", nil},
		{"?messageReference=" + all.Content[1].ConversationID, []string{first}},
		{"?sort=id,asc", []string{first, second}},
		{"?size=1&page=1", []string{first}},
	}
	for _, tt := range tests {
		var got []string
		for _, c := range list(t, tt.query).Content {
			got = append(got, c.MessageID)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.query, diff)
		}
	}
	for _, q := range []string{"?finished=maybe", "?direction=SIDEWAYS", "?lastUpdateFrom=22.11.2026"} {
		expectError(t, e.get("/api/conversations"+q), 400, exMethodArgNotValid, "Validation failed for object='conversationQueryInput'. Error count: 1")
	}
	expectError(t, e.get("/api/conversations?serviceIdentifier=DPX"), 400, exIllegalArgument, "No enum constant")

	queue := list(t, "/queue")
	if len(queue.Content) != 1 || queue.Content[0].MessageID != second {
		t.Errorf("queue = %+v", queue.Content)
	}

	r := e.get("/api/conversations/messageId/" + first)
	if r.status != http.StatusOK {
		t.Fatalf("by messageId: %d %s", r.status, r.body)
	}
	var c conversationView
	decode(t, r, &c)
	if c.Direction != "OUTGOING" || c.ServiceIdentifier != "DPO" || len(c.MessageStatuses) != 4 || c.Expiry == nil ||
		c.Receiver != "0192:"+dpoOrg || c.DocumentIdentifier != wire.StandardArkivmelding || !c.Finished {
		t.Errorf("conversation = %+v", c)
	}
	if strings.Contains(string(r.body), "pollable") || strings.Contains(string(r.body), "rawReceipt") || strings.Contains(string(r.body), "convId") {
		t.Errorf("conversation view leaks fields:\n%s", r.body)
	}
	if byID := e.get("/api/conversations/" + jsonNumber(c.ID)); byID.status != http.StatusOK || !strings.Contains(string(byID.body), first) {
		t.Errorf("by id: %d %s", byID.status, byID.body)
	}
	expectError(t, e.get("/api/conversations/1234567"), 404, exConversationNotFound, "Conversation with id = 1,234,567 was not found")
	expectError(t, e.get("/api/conversations/abc"), 400, exTypeMismatch, "Method parameter 'id'")
	expectError(t, e.get("/api/conversations/messageId/nope"), 404, exMessageNotFound, "Message with messageId = nope was not found")

	if d := e.do(http.MethodDelete, "/api/conversations/"+jsonNumber(c.ID), nil, nil); d.status != http.StatusOK {
		t.Errorf("delete by id: %d %s", d.status, d.body)
	}
	if d := e.do(http.MethodDelete, "/api/conversations/messageId/"+second, nil, nil); d.status != http.StatusOK {
		t.Errorf("delete by messageId: %d %s", d.status, d.body)
	}
	if d := e.do(http.MethodDelete, "/api/conversations/424242", nil, nil); d.status != http.StatusOK {
		t.Errorf("delete missing: %d %s", d.status, d.body)
	}
	if p := list(t, ""); len(p.Content) != 0 {
		t.Errorf("left after delete: %+v", p.Content)
	}
}
