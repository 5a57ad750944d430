package dpv_test

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/bearer"
	"github.com/efm-harness/efm-harness/simulator/dpv"
)

var testPKI = sync.OnceValue(fixtures.MustLoadPKI)

var (
	pop    = fixtures.Default()
	sender = pop.Org(fixtures.RoleSender).Orgnr
	dpvOrg = pop.Org(fixtures.RoleDPV).Orgnr
)

func credential(t testing.TB, name string) fixtures.Credential {
	t.Helper()
	c, ok := testPKI().Get(name)
	if !ok {
		t.Fatalf("test PKI has no credential %q", name)
	}
	return c
}

type env struct {
	srv   *dpv.Server
	ts    *httptest.Server
	clock *fixtures.Clock
}

func newEnv(t testing.TB, mutate func(*dpv.Options)) *env {
	t.Helper()
	c := &fixtures.Clock{}
	alt := credential(t, fixtures.CredAltinn)
	opts := dpv.Options{Signer: alt.Key, Certificate: alt.Certificate,
		Maskinporten: bearer.NewStaticVerifier(testPKI().MaskinportenKeySet()).WithClock(c.Now), Now: c.Now}
	if mutate != nil {
		mutate(&opts)
	}
	s, err := dpv.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() { ts.Close(); _ = s.Close() })
	return &env{srv: s, ts: ts, clock: c}
}

func mpClaims(e *env, orgnr, scope string) map[string]any {
	now := e.clock.Now()
	return map[string]any{
		"iss": "http://mp/", "client_id": "MOVE_IP_" + orgnr, "scope": scope,
		"consumer": map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:" + orgnr},
		"jti":      "jti-" + orgnr, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
	}
}

func signWith(t testing.TB, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	jws, err := signer.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func signMP(t testing.TB, claims map[string]any) string {
	return signWith(t, credential(t, fixtures.CredMaskinporten).Key, "mp", claims)
}

func (e *env) altinnToken(t testing.TB, orgnr, scope string) string {
	t.Helper()
	a := e.do(t, http.MethodGet, dpv.ExchangePath, signMP(t, mpClaims(e, orgnr, scope)), "", nil)
	if a.status != http.StatusOK {
		t.Fatalf("exchange: %d %s", a.status, a.body)
	}
	return a.body
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(t testing.TB, method, path, token, contentType string, body []byte) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// kv is one text field in order.
type kv struct{ k, v string }

type file struct {
	name, data string
}

// multipartBody builds the form as the integration point does: text/plain parts, then attachments.
func multipartBody(t testing.TB, fields []kv, files []file) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range fields {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"`, f.k))
		h.Set("Content-Type", "text/plain;charset=UTF-8")
		p, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = p.Write([]byte(f.v))
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="attachments"; filename="%s"`, f.name))
		h.Set("Content-Type", "application/octet-stream")
		p, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = p.Write([]byte(f.data))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), w.FormDataContentType()
}

// fullFields are the fields of upstreams §5.2 for a message id and files.
func fullFields(messageID string, files []file) []kv {
	f := []kv{
		{"recipients[0]", "urn:altinn:organization:identifier-no:" + dpvOrg},
		{"idempotentKey", messageID},
		{"correspondence.resourceId", dpv.ResourceAdministration},
		{"correspondence.sender", "0192:" + sender},
		{"correspondence.sendersReference", messageID},
		{"correspondence.messageSender", "Avsender AS"},
		{"correspondence.requestedPublishTime", "2026-11-22T10:00:00+01:00"},
		{"correspondence.dueDateTime", "2026-11-29T10:00:00.123456"},
		{"correspondence.isConfirmationNeeded", "false"},
		{"correspondence.isConfidential", "false"},
		{"correspondence.ignoreReservation", "false"},
		{"correspondence.propertyList.senderOrgNumber", sender},
		{"correspondence.content.language", "nb"},
		{"correspondence.content.messageTitle", "Offentlig tittel"},
		{"correspondence.content.messageSummary", "Offentlig tittel"},
		{"correspondence.content.messageBody", "Journalpost tittel"},
	}
	for i, fl := range files {
		p := fmt.Sprintf("correspondence.content.attachments[%d].", i)
		f = append(f, kv{p + "fileName", fl.name}, kv{p + "displayName", "Dokument " + fl.name},
			kv{p + "isEncrypted", "false"}, kv{p + "sendersReference", "AttachmentReference_as123452"})
	}
	n := "correspondence.notification."
	return append(f, kv{n + "notificationTemplate", "CustomMessage"}, kv{n + "notificationChannel", "EmailAndSms"},
		kv{n + "emailSubject", "Melding mottatt i Altinn"}, kv{n + "emailBody", "Du har fått en melding fra Avsender AS"},
		kv{n + "smsBody", "SMS fra Avsender AS"}, kv{n + "emailContentType", "Plain"},
		kv{n + "requestedSendTime", "2026-11-22T10:05:00+01:00"}, kv{n + "sendReminder", "true"},
		kv{n + "reminderEmailSubject", "Påminnelse"}, kv{n + "reminderEmailBody", "Påminnelse e-post"},
		kv{n + "reminderSmsBody", "Påminnelse SMS"}, kv{n + "reminderEmailContentType", "Plain"},
		kv{n + "reminderNotificationChannel", "EmailAndSms"})
}

// without drops the named fields; with replaces or adds one.
func without(fields []kv, names ...string) []kv {
	var out []kv
outer:
	for _, f := range fields {
		for _, n := range names {
			if f.k == n {
				continue outer
			}
		}
		out = append(out, f)
	}
	return out
}

func with(fields []kv, k, v string) []kv { return append(without(fields, k), kv{k, v}) }

func (e *env) post(t testing.TB, token string, fields []kv, files []file) answer {
	t.Helper()
	body, ct := multipartBody(t, fields, files)
	return e.do(t, http.MethodPost, dpv.UploadPath, token, ct, body)
}

func (e *env) uploadOK(t testing.TB, token string, fields []kv, files []file) dpv.InitializeResponse {
	t.Helper()
	a := e.post(t, token, fields, files)
	var out dpv.InitializeResponse
	if a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &out) != nil || len(out.Correspondences) == 0 {
		t.Fatalf("upload: %d %s", a.status, a.body)
	}
	return out
}

func (e *env) overview(t testing.TB, token, id string) dpv.Overview {
	t.Helper()
	a := e.do(t, http.MethodGet, dpv.CorrespondencePath+"/"+id, token, "", nil)
	var o dpv.Overview
	if a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &o) != nil {
		t.Fatalf("overview: %d %s", a.status, a.body)
	}
	return o
}

func problemOf(t testing.TB, a answer) dpv.Problem {
	t.Helper()
	var p dpv.Problem
	if !strings.HasPrefix(a.header.Get("Content-Type"), "application/problem+json") ||
		json.Unmarshal([]byte(a.body), &p) != nil || p.Status != a.status || p.Title == "" || p.Type == "" {
		t.Fatalf("not a problem: %d %s %s", a.status, a.header.Get("Content-Type"), a.body)
	}
	return p
}

func messageID(i int) string { return fmt.Sprintf("0198408f-979c-75e0-b23e-%012d", i) }
