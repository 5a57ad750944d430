package dpv_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/dpv"
)

func TestUploadEveryFieldTwoAttachments(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.altinnToken(t, sender, dpv.DefaultScope)
	files := []file{{"b-first.pdf", "%PDF first"}, {"a-second.txt", "second"}}
	id := messageID(1)
	a := e.post(t, tok, fullFields(id, files), files)
	if a.status != 200 || a.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("upload: %d %s", a.status, a.body)
	}
	var raw map[string]any
	_ = json.Unmarshal([]byte(a.body), &raw)
	var resp dpv.InitializeResponse
	_ = json.Unmarshal([]byte(a.body), &resp)
	if len(resp.Correspondences) != 1 || resp.Correspondences[0].Status != "Initialized" ||
		resp.Correspondences[0].Recipient != "urn:altinn:organization:identifier-no:"+dpvOrg || len(resp.AttachmentIDs) != 2 ||
		!strings.Contains(a.body, `"notifications":[]`) {
		t.Fatalf("response %s", a.body)
	}
	cid := resp.Correspondences[0].CorrespondenceID

	adm := e.do(t, http.MethodGet, "/__admin/messages/"+cid+"?content=true", "", "", nil)
	var v dpv.MessageView
	if adm.status != 200 || json.Unmarshal([]byte(adm.body), &v) != nil {
		t.Fatalf("admin: %d %s", adm.status, adm.body)
	}
	d := v.Correspondence
	if d.ResourceID != dpv.ResourceAdministration || d.SendersReference != id || d.Sender != "0192:"+sender ||
		d.MessageSender != "Avsender AS" || d.Content.MessageTitle != "Offentlig tittel" || d.Content.MessageBody != "Journalpost tittel" ||
		d.Content.Language != "nb" || d.PropertyList["senderOrgNumber"] != sender || d.IsConfidential ||
		d.DueDateTime == nil || !d.DueDateTime.Equal(time.Date(2026, 11, 29, 10, 0, 0, 123456000, time.UTC)) ||
		d.RequestedPublishTime == nil || d.IgnoreReservation == nil || *d.IgnoreReservation {
		t.Fatalf("details %+v", d)
	}
	n := d.Notification
	if n == nil || n.NotificationTemplate != "CustomMessage" || n.NotificationChannel != "EmailAndSms" || n.EmailSubject != "Melding mottatt i Altinn" ||
		n.SmsBody != "SMS fra Avsender AS" || !n.SendReminder || n.ReminderSmsBody != "Påminnelse SMS" || n.ReminderEmailBody != "Påminnelse e-post" ||
		n.ReminderNotificationChannel != "EmailAndSms" || n.RequestedSendTime == nil {
		t.Fatalf("notification %+v", n)
	}
	if len(v.Attachments) != 2 || len(v.OtherFields) != 0 || v.IdempotentKey != id || v.Caller != sender {
		t.Fatalf("view %+v", v)
	}
	for i, f := range files {
		at := v.Attachments[i]
		sum := sha256.Sum256([]byte(f.data))
		if at.FileName != f.name || at.PartFile != f.name || at.DisplayName != "Dokument "+f.name || at.ContentType != "application/octet-stream" ||
			at.Size != int64(len(f.data)) || at.SHA256 != hex.EncodeToString(sum[:]) || string(at.Content) != f.data ||
			at.ID != resp.AttachmentIDs[i] || at.SendersReference != "AttachmentReference_as123452" {
			t.Fatalf("attachment %d: %+v", i, at)
		}
	}
	if !strings.Contains(adm.body, base64.StdEncoding.EncodeToString([]byte("second"))) {
		t.Fatal("content not base64 in the view")
	}
	// Without ?content no bytes; the attachment itself on its own route.
	if b := e.do(t, http.MethodGet, "/__admin/messages/"+cid, "", "", nil).body; strings.Contains(b, `"content": "`) {
		t.Fatalf("content shown without ?content: %s", b)
	}
	if b := e.do(t, http.MethodGet, "/__admin/messages/"+cid+"/attachments/1", "", "", nil); b.body != "second" {
		t.Fatalf("attachment route: %d %s", b.status, b.body)
	}
	// The list.
	var l dpv.MessageList
	_ = json.Unmarshal([]byte(e.do(t, http.MethodGet, "/__admin/messages", "", "", nil).body), &l)
	if len(l.Correspondences) != 1 || l.Correspondences[0].Title != "Offentlig tittel" || l.Correspondences[0].Status != dpv.StatusPublished ||
		l.Correspondences[0].SendersReference != id || l.Correspondences[0].ResourceID != dpv.ResourceAdministration {
		t.Fatalf("list %+v", l)
	}
	// By sendersReference on the admin API too.
	if got := e.do(t, http.MethodGet, "/__admin/messages/"+id, "", "", nil); got.status != 200 || !strings.Contains(got.body, cid) {
		t.Fatalf("admin by sendersReference: %d", got.status)
	}
}

func TestCaseInsensitiveNamesAndRepeatedRecipients(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.altinnToken(t, sender, dpv.DefaultScope)
	fields := []kv{{"Recipients", dpvOrg}, {"Recipients", "urn:altinn:person:identifier-no:01010112345"},
		{"Correspondence.ResourceId", dpv.ResourceConfidential}, {"Correspondence.SendersReference", "ref"},
		{"Correspondence.Content.MessageTitle", "T"}, {"Correspondence.Content.MessageBody", "B"},
		{"Correspondence.IsConfidential", "True"}, {"Correspondence.Something", "x"}}
	resp := e.uploadOK(t, tok, fields, nil)
	if len(resp.Correspondences) != 2 || resp.Correspondences[1].Recipient != "urn:altinn:person:identifier-no:01010112345" {
		t.Fatalf("%+v", resp)
	}
	v, ok := e.srv.Message(resp.Correspondences[0].CorrespondenceID, false)
	if !ok || !v.Correspondence.IsConfidential || len(v.Siblings) != 1 || len(v.OtherFields) != 1 || v.OtherFields[0].Name != "Correspondence.Something" {
		t.Fatalf("%+v", v)
	}
}

func TestValidation(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.altinnToken(t, sender, dpv.DefaultScope)
	files := []file{{"a.pdf", "a"}}
	base := fullFields(messageID(2), files)
	cases := []struct {
		name   string
		fields []kv
		files  []file
		field  string
	}{
		{"missing title", without(base, "correspondence.content.messageTitle"), files, "correspondence.content.messageTitle"},
		{"blank body", with(base, "correspondence.content.messageBody", " "), files, "correspondence.content.messageBody"},
		{"bad date", with(base, "correspondence.dueDateTime", "next week"), files, "correspondence.dueDateTime"},
		{"no recipients", without(base, "recipients[0]"), files, "recipients"},
		{"bad recipient", with(base, "recipients[0]", "someone"), files, "recipients[0]"},
		{"unknown resource", with(base, "correspondence.resourceId", "eformidling-dpv-nope"), files, "correspondence.resourceId"},
		{"missing resource", without(base, "correspondence.resourceId"), files, "correspondence.resourceId"},
		{"bad boolean", with(base, "correspondence.isConfidential", "yes"), files, "correspondence.isConfidential"},
		{"bad channel", with(base, "correspondence.notification.notificationChannel", "Pigeon"), files, "correspondence.notification.notificationChannel"},
		{"missing sms", without(base, "correspondence.notification.smsBody"), files, "correspondence.notification.smsBody"},
		{"file without metadata", base, append(files, file{"b.pdf", "b"}), "correspondence.content.attachments"},
		{"metadata without file", base, nil, "correspondence.content.attachments"},
		{"file name mismatch", base, []file{{"other.pdf", "a"}}, "correspondence.content.attachments[0].fileName"},
		{"bad idempotent key", with(base, "idempotentKey", "not-a-uuid"), files, "idempotentKey"},
		{"bad language", with(base, "correspondence.content.language", "sv"), files, "correspondence.content.language"},
		{"index gap", with(without(base, "recipients[0]"), "recipients[1]", dpvOrg), files, "recipients[1]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := e.post(t, tok, c.fields, c.files)
			if a.status != http.StatusBadRequest {
				t.Fatalf("%d %s", a.status, a.body)
			}
			p := problemOf(t, a)
			if _, ok := p.Errors[c.field]; !ok || !strings.Contains(p.Detail, c.field) {
				t.Fatalf("field %s not named: %s", c.field, a.body)
			}
		})
	}
	if n := len(e.srv.Correspondences()); n != 0 {
		t.Fatalf("%d stored after refusals", n)
	}
	// Not multipart: 415.
	if a := e.do(t, http.MethodPost, dpv.UploadPath, tok, "application/json", []byte("{}")); a.status != 415 || problemOf(t, a).Status != 415 {
		t.Fatalf("json: %d", a.status)
	}
}

func TestIdempotentKeyConflictAndSearch(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.altinnToken(t, sender, dpv.DefaultScope)
	id := messageID(3)
	first := e.uploadOK(t, tok, fullFields(id, nil), nil)
	a := e.post(t, tok, fullFields(id, nil), nil)
	if a.status != http.StatusConflict || problemOf(t, a).Status != 409 {
		t.Fatalf("reuse: %d %s", a.status, a.body)
	}
	// Upper-case key is the same UUID.
	if a := e.post(t, tok, with(fullFields(id, nil), "idempotentKey", strings.ToUpper(id)), nil); a.status != 409 {
		t.Fatalf("upper-case reuse: %d", a.status)
	}
	s := e.do(t, http.MethodGet, dpv.CorrespondencePath+"?sendersReference="+id, tok, "", nil)
	if s.status != 200 || s.body != `{"ids":["`+first.Correspondences[0].CorrespondenceID+`"]}` {
		t.Fatalf("search: %d %s", s.status, s.body)
	}
	if s := e.do(t, http.MethodGet, dpv.CorrespondencePath+"?sendersReference=none", tok, "", nil); s.body != `{"ids":[]}` {
		t.Fatalf("empty search: %s", s.body)
	}
	// Another organisation sees neither.
	other := e.altinnToken(t, dpvOrg, dpv.DefaultScope)
	if s := e.do(t, http.MethodGet, dpv.CorrespondencePath+"?sendersReference="+id, other, "", nil); s.body != `{"ids":[]}` {
		t.Fatalf("other org search: %s", s.body)
	}
	if a := e.do(t, http.MethodGet, dpv.CorrespondencePath+"/"+first.Correspondences[0].CorrespondenceID, other, "", nil); a.status != 404 {
		t.Fatalf("other org overview: %d", a.status)
	}
}

func TestOverviewAndLifeCycleByAdmin(t *testing.T) {
	e := newEnv(t, func(o *dpv.Options) { o.PublishAfter = time.Hour })
	tok := e.altinnToken(t, sender, dpv.DefaultScope)
	files := []file{{"a.pdf", "a"}}
	id := e.uploadOK(t, tok, fullFields(messageID(4), files), files).Correspondences[0].CorrespondenceID
	o := e.overview(t, tok, id)
	if o.Status != "Initialized" || o.Published != nil || o.Read != nil || o.SendersReference != messageID(4) ||
		o.ResourceID != dpv.ResourceAdministration || o.Recipient != "urn:altinn:organization:identifier-no:"+dpvOrg ||
		!o.Created.Equal(fixtures.ClockStart) || len(o.Content.Attachments) != 1 {
		t.Fatalf("%+v", o)
	}
	raw := e.do(t, http.MethodGet, dpv.CorrespondencePath+"/"+id, tok, "", nil).body
	if !strings.Contains(raw, `"published":null`) || !strings.Contains(raw, `"read":null`) {
		t.Fatalf("nulls: %s", raw)
	}
	e.clock.Tick()
	if a := e.do(t, http.MethodPost, "/__admin/messages/"+id+"/publish", "", "", nil); a.status != 200 {
		t.Fatalf("publish: %d %s", a.status, a.body)
	}
	if o := e.overview(t, tok, id); o.Status != "Published" || o.Published == nil || !o.Published.Equal(fixtures.ClockStart.Add(time.Second)) {
		t.Fatalf("%+v", o)
	}
	e.clock.Tick()
	if a := e.do(t, http.MethodPost, "/__admin/messages/"+messageID(4)+"/read", "", "", nil); a.status != 200 {
		t.Fatalf("read by sendersReference: %d %s", a.status, a.body)
	}
	o = e.overview(t, tok, id)
	if o.Status != "Read" || o.Read == nil || !o.StatusChanged.Equal(fixtures.ClockStart.Add(2*time.Second)) || o.Published == nil {
		t.Fatalf("%+v", o)
	}
	e.clock.Tick()
	if a := e.do(t, http.MethodPost, "/__admin/messages/"+id+"/purge?by=altinn", "", "", nil); a.status != 200 {
		t.Fatalf("purge: %d", a.status)
	}
	if o := e.overview(t, tok, id); o.Status != "PurgedByAltinn" || !o.StatusChanged.Equal(fixtures.ClockStart.Add(3*time.Second)) || o.Read == nil {
		t.Fatalf("%+v", o)
	}
	v, _ := e.srv.Message(id, false)
	if len(v.History) != 4 {
		t.Fatalf("history %+v", v.History)
	}
	if a := e.do(t, http.MethodDelete, "/__admin/messages/"+id, "", "", nil); a.status != 200 {
		t.Fatalf("delete: %d", a.status)
	}
	if a := e.do(t, http.MethodGet, dpv.CorrespondencePath+"/"+id, tok, "", nil); a.status != 404 || problemOf(t, a).Status != 404 {
		t.Fatalf("deleted: %d", a.status)
	}
	if a := e.do(t, http.MethodDelete, "/__admin/messages/"+id+"?gone=true", "", "", nil); a.status != 200 {
		t.Fatalf("delete gone: %d", a.status)
	}
	if a := e.do(t, http.MethodGet, dpv.CorrespondencePath+"/"+id, tok, "", nil); a.status != 410 {
		t.Fatalf("gone: %d", a.status)
	}
	if s := e.do(t, http.MethodGet, dpv.CorrespondencePath+"?sendersReference="+messageID(4), tok, "", nil); s.body != `{"ids":[]}` {
		t.Fatalf("deleted still listed: %s", s.body)
	}
	if a := e.do(t, http.MethodGet, dpv.CorrespondencePath+"/0198408f-0000-7000-8000-000000000000", tok, "", nil); a.status != 404 {
		t.Fatalf("unknown: %d", a.status)
	}
	if a := e.do(t, http.MethodPost, "/__admin/messages/nope/read", "", "", nil); a.status != 404 {
		t.Fatalf("unknown admin: %d", a.status)
	}
}

func TestPurgeByRecipient(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.altinnToken(t, sender, dpv.DefaultScope)
	id := e.uploadOK(t, tok, fullFields(messageID(5), nil), nil).Correspondences[0].CorrespondenceID
	e.do(t, http.MethodPost, "/__admin/messages/"+id+"/purge", "", "", nil)
	if o := e.overview(t, tok, id); o.Status != "PurgedByRecipient" {
		t.Fatalf("%+v", o)
	}
	if a := e.do(t, http.MethodPost, "/__admin/messages/"+id+"/read", "", "", nil); a.status != 409 {
		t.Fatalf("read after purge: %d", a.status)
	}
}

func TestLifeCycleByDelays(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.altinnToken(t, sender, dpv.DefaultScope)
	if a := e.do(t, http.MethodPut, "/__admin/behaviour", "", "application/json", []byte(`{"publishAfter":"50ms","readAfter":"100ms"}`)); a.status != 200 {
		t.Fatalf("behaviour: %d %s", a.status, a.body)
	}
	id := e.uploadOK(t, tok, fullFields(messageID(6), nil), nil).Correspondences[0].CorrespondenceID
	if o := e.overview(t, tok, id); o.Status != "Initialized" {
		t.Fatalf("%+v", o)
	}
	deadline := time.Now().Add(5 * time.Second)
	seen := map[string]bool{}
	for time.Now().Before(deadline) {
		o := e.overview(t, tok, id)
		seen[o.Status] = true
		if o.Status == "Read" {
			if o.Published == nil || o.Read == nil {
				t.Fatalf("%+v", o)
			}
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !seen["Read"] {
		t.Fatalf("never read: %v", seen)
	}
	// Default behaviour: published at once, never read by itself.
	e.do(t, http.MethodPut, "/__admin/behaviour", "", "application/json", []byte(`{"publishAfter":"0s","readAfter":null}`))
	id2 := e.uploadOK(t, tok, fullFields(messageID(7), nil), nil).Correspondences[0].CorrespondenceID
	if o := e.overview(t, tok, id2); o.Status != "Published" {
		t.Fatalf("%+v", o)
	}
	// Reset stops pending timers and forgets everything.
	e.do(t, http.MethodPut, "/__admin/behaviour", "", "application/json", []byte(`{"publishAfter":"50ms"}`))
	e.uploadOK(t, tok, fullFields(messageID(8), nil), nil)
	if a := e.do(t, http.MethodPost, "/__admin/reset", "", "", nil); a.status >= 300 {
		t.Fatalf("reset: %d", a.status)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(e.srv.Correspondences()); n != 0 {
		t.Fatalf("%d after reset", n)
	}
	var b dpv.Behaviour
	_ = json.Unmarshal([]byte(e.do(t, http.MethodGet, "/__admin/behaviour", "", "", nil).body), &b)
	if b.PublishAfter != "0s" || b.ReadAfter != nil || b.Reject != nil {
		t.Fatalf("behaviour after reset %+v", b)
	}
}

func TestRequestedPublishTimePostpones(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.altinnToken(t, sender, dpv.DefaultScope)
	id := e.uploadOK(t, tok, with(fullFields(messageID(9), nil), "correspondence.requestedPublishTime", "2026-11-23T10:00:00Z"), nil).Correspondences[0].CorrespondenceID
	if o := e.overview(t, tok, id); o.Status != "Initialized" {
		t.Fatalf("%+v", o)
	}
}

func TestRejectBehaviour(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.altinnToken(t, sender, dpv.DefaultScope)
	if a := e.do(t, http.MethodPut, "/__admin/behaviour", "", "application/json",
		[]byte(`{"reject":{"status":400,"detail":"Recipient has no access to the resource","times":1}}`)); a.status != 200 {
		t.Fatalf("behaviour: %d %s", a.status, a.body)
	}
	a := e.post(t, tok, fullFields(messageID(10), nil), nil)
	if a.status != 400 || problemOf(t, a).Detail != "Recipient has no access to the resource" {
		t.Fatalf("%d %s", a.status, a.body)
	}
	e.uploadOK(t, tok, fullFields(messageID(10), nil), nil) // times:1 — the next one passes
	for _, bad := range []string{`{"reject":{"status":200}}`, `{"publishAfter":"soon"}`, `{"nope":1}`, `[]`} {
		if a := e.do(t, http.MethodPut, "/__admin/behaviour", "", "application/json", []byte(bad)); a.status != 400 {
			t.Fatalf("%s: %d", bad, a.status)
		}
	}
}

func TestAuth(t *testing.T) {
	e := newEnv(t, nil)
	body, ct := multipartBody(t, fullFields(messageID(11), nil), nil)
	// No token.
	if a := e.do(t, http.MethodPost, dpv.UploadPath, "", ct, body); a.status != 401 || problemOf(t, a).Status != 401 || a.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("no token: %d", a.status)
	}
	// Wrong scope.
	if a := e.do(t, http.MethodPost, dpv.UploadPath, e.altinnToken(t, sender, "altinn:broker.write"), ct, body); a.status != 403 || problemOf(t, a).Status != 403 {
		t.Fatalf("scope: %d %s", a.status, a.body)
	}
	// A Maskinporten token directly.
	if a := e.do(t, http.MethodPost, dpv.UploadPath, signMP(t, mpClaims(e, sender, "eformidling:dpv")), ct, body); a.status != 200 {
		t.Fatalf("maskinporten token: %d %s", a.status, a.body)
	}
	// A token signed by someone else.
	bad := signWith(t, credential(t, sender).Key, "mp", mpClaims(e, sender, "eformidling:dpv"))
	if a := e.do(t, http.MethodGet, dpv.CorrespondencePath+"?sendersReference=x", bad, "", nil); a.status != 401 {
		t.Fatalf("forged: %d", a.status)
	}
	// Exchange: a text/plain JWT; refused without a valid Maskinporten token.
	ex := e.do(t, http.MethodGet, dpv.ExchangePath, signMP(t, mpClaims(e, sender, "eformidling:dpv")), "", nil)
	if ex.status != 200 || !strings.HasPrefix(ex.header.Get("Content-Type"), "text/plain") || strings.Count(ex.body, ".") != 2 || strings.HasPrefix(ex.body, `"`) {
		t.Fatalf("exchange: %d %s", ex.status, ex.body)
	}
	if a := e.do(t, http.MethodGet, dpv.ExchangePath, bad, "", nil); a.status != 401 {
		t.Fatalf("exchange forged: %d", a.status)
	}
	if a := e.do(t, http.MethodGet, dpv.ExchangePath, "", "", nil); a.status != 401 {
		t.Fatalf("exchange none: %d", a.status)
	}
	// Expired Altinn token.
	tok := ex.body
	e.clock.Advance(dpv.AltinnTokenLifetime + 120*time.Second)
	if a := e.do(t, http.MethodGet, dpv.CorrespondencePath+"?sendersReference=x", tok, "", nil); a.status != 401 {
		t.Fatalf("expired: %d", a.status)
	}
}

func TestHealthAndUnknownRoutes(t *testing.T) {
	e := newEnv(t, nil)
	for _, p := range []string{"/health-probe", "/health-probe/"} {
		if a := e.do(t, http.MethodGet, p, "", "", nil); a.status != 200 {
			t.Fatalf("%s: %d", p, a.status)
		}
	}
	if a := e.do(t, http.MethodGet, "/correspondence/api/v1/nothing", "", "", nil); a.status != 404 || problemOf(t, a).Status != 404 {
		t.Fatalf("unknown: %d", a.status)
	}
	if a := e.do(t, http.MethodGet, dpv.UploadPath, "", "", nil); a.status != 405 && a.status != 401 {
		t.Fatalf("GET upload: %d", a.status)
	}
}

func TestBounds(t *testing.T) {
	e := newEnv(t, func(o *dpv.Options) { o.MaxCorrespondences = 2; o.MaxUploadSize = 16 << 10 })
	tok := e.altinnToken(t, sender, dpv.DefaultScope)
	for i := range 3 {
		e.uploadOK(t, tok, fullFields(messageID(20+i), nil), nil)
	}
	var l dpv.MessageList
	_ = json.Unmarshal([]byte(e.do(t, http.MethodGet, "/__admin/messages", "", "", nil).body), &l)
	if len(l.Correspondences) != 2 || l.Evicted != 1 || l.Correspondences[0].SendersReference != messageID(21) {
		t.Fatalf("%+v", l)
	}
	big := []file{{"big.bin", strings.Repeat("x", 32<<10)}}
	if a := e.post(t, tok, fullFields(messageID(30), big), big); a.status != 413 || problemOf(t, a).Status != 413 {
		t.Fatalf("too large: %d %s", a.status, a.body)
	}
}
