package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/registry"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/sample"
	"github.com/efm-harness/efm-harness/simulator/sr"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// pop is the fixtures' test population; the API's own organisation is its sender.
var pop = fixtures.Default()

var (
	ownOrg      = pop.Org(fixtures.RoleSender).Orgnr
	dpoOrg      = pop.Org(fixtures.RoleReceiver).Orgnr
	dpvOrg      = pop.Org(fixtures.RoleDPV).Orgnr
	dpfOrg      = pop.Org(fixtures.RoleDPF).Orgnr
	dpfLevel3   = pop.Org(fixtures.RoleDPFLevel3).Orgnr
	citizen     = pop.Citizen(fixtures.RoleDigital).Fnr
	unknownOrg  = pop.UnknownOrgnr
	einnsynOrg  = pop.Org(fixtures.RoleEinnsyn).Orgnr
	reservedFnr = pop.Citizen(fixtures.RoleReserved).Fnr
)

// testClock is the API's clock: real time plus an offset the test moves.
type testClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// env is an API with a real store in a temporary directory and a real address register.
type env struct {
	t      testing.TB
	api    *API
	srv    *httptest.Server
	sr     *httptest.Server
	store  *store.Store
	clock  *testClock
	mu     sync.Mutex
	events []store.StatusEvent
}

// startSR starts the simulated address register with the fixtures' population.
func startSR(t testing.TB) *httptest.Server {
	t.Helper()
	pki := fixtures.MustLoadPKI()
	cred := pki.MustGet(fixtures.CredSR)
	s, err := sr.New(sr.Options{
		Signer: cred.Key, Certificate: cred.Certificate,
		Registrations:     pop.Registrations(pki),
		SvarUtCertificate: pki.MustGet(fixtures.CredSvarUt).CertificatePEM(),
		PrintProvider:     sr.PrintProvider{Orgnr: fixtures.PrintProviderOrgnr, Certificate: pki.MustGet(fixtures.CredPrint).CertificatePEM()},
	})
	if err != nil {
		t.Fatalf("start sr: %v", err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// newEnv starts an API; opts adjust its Options.
func newEnv(t testing.TB, opts ...func(*Options)) *env {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, store: st, clock: &testClock{}, sr: startSR(t)}
	o := Options{
		OrgNumber: ownOrg,
		Store:     st,
		Registry:  registry.New(registry.Options{BaseURL: e.sr.URL, HTTP: &http.Client{Timeout: 10 * time.Second}}),
		Now:       e.clock.Now,
		Version:   "1.2.3-test",
		OnStatus: func(ev store.StatusEvent) {
			e.mu.Lock()
			e.events = append(e.events, ev)
			e.mu.Unlock()
		},
	}
	for _, f := range opts {
		f(&o)
	}
	a, err := New(o)
	if err != nil {
		t.Fatalf("new api: %v", err)
	}
	e.api = a
	e.srv = httptest.NewServer(a.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// enable switches channels on besides DPO.
func enable(services ...wire.ServiceIdentifier) func(*Options) {
	return func(o *Options) {
		o.EnabledServices = map[wire.ServiceIdentifier]bool{wire.ServiceDPO: true}
		for _, s := range services {
			o.EnabledServices[s] = true
		}
	}
}

// reply is an HTTP answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request to the API.
func (e *env) do(method, path string, header map[string]string, body io.Reader) reply {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("read %s %s: %v", method, path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

func (e *env) get(path string) reply { return e.do(http.MethodGet, path, nil, nil) }

// postJSON posts a JSON body.
func (e *env) postJSON(path string, body []byte) reply {
	return e.do(http.MethodPost, path, map[string]string{"Content-Type": "application/json"}, bytes.NewReader(body))
}

// create posts an SBD to /api/messages/out.
func (e *env) create(sbd *wire.StandardBusinessDocument) reply {
	e.t.Helper()
	b, err := json.Marshal(sbd)
	if err != nil {
		e.t.Fatalf("marshal sbd: %v", err)
	}
	return e.postJSON("/api/messages/out", b)
}

// mustCreate creates a message and returns the stored SBD.
func (e *env) mustCreate(sbd *wire.StandardBusinessDocument) *wire.StandardBusinessDocument {
	e.t.Helper()
	r := e.create(sbd)
	if r.status != http.StatusOK {
		e.t.Fatalf("create: %d %s", r.status, r.body)
	}
	out, err := wire.ParseSBD(r.body)
	if err != nil {
		e.t.Fatalf("parse created sbd: %v\n%s", err, r.body)
	}
	return out
}

// upload PUTs a file.
func (e *env) upload(messageID, contentType, disposition string, content []byte) reply {
	h := map[string]string{}
	if contentType != "" {
		h["Content-Type"] = contentType
	}
	if disposition != "" {
		h["Content-Disposition"] = disposition
	}
	return e.do(http.MethodPut, "/api/messages/out/"+messageID, h, bytes.NewReader(content))
}

// mustUpload uploads a file and fails the test unless it is accepted.
func (e *env) mustUpload(messageID, contentType, disposition string, content []byte) {
	e.t.Helper()
	if r := e.upload(messageID, contentType, disposition, content); r.status != http.StatusOK {
		e.t.Fatalf("upload %s: %d %s", disposition, r.status, r.body)
	}
}

func (e *env) send(messageID string) reply {
	return e.do(http.MethodPost, "/api/messages/out/"+messageID, nil, nil)
}

// part is one multipart part.
type part struct {
	name, filename, contentType string
	content                     []byte
}

// multipart posts parts to /api/messages/out/multipart.
func (e *env) multipart(parts ...part) reply {
	e.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		cd := `form-data; name="` + p.name + `"`
		if p.filename != "" {
			cd += `; filename="` + p.filename + `"`
		}
		h.Set("Content-Disposition", cd)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		pw, err := w.CreatePart(h)
		if err != nil {
			e.t.Fatalf("create part: %v", err)
		}
		pw.Write(p.content)
	}
	w.Close()
	return e.do(http.MethodPost, "/api/messages/out/multipart", map[string]string{"Content-Type": w.FormDataContentType()}, &b)
}

// statusEvents returns the statuses OnStatus saw.
func (e *env) statusEvents() []wire.ReceiptStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []wire.ReceiptStatus
	for _, ev := range e.events {
		out = append(out, ev.Status.Status)
	}
	return out
}

// errorBody decodes an error answer.
func errorBody(t testing.TB, r reply) wire.ErrorBody {
	t.Helper()
	var b wire.ErrorBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("decode error body: %v\n%s", err, r.body)
	}
	return b
}

// expectError checks an error answer: status, exception and a message substring.
func expectError(t testing.TB, r reply, status int, exception, message string) wire.ErrorBody {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	b := errorBody(t, r)
	if b.Status != status || b.Exception != exception || !strings.Contains(b.Message, message) {
		t.Fatalf("error = %d %s %q, want %d %s containing %q", b.Status, b.Exception, b.Message, status, exception, message)
	}
	if b.Error != http.StatusText(status) || b.Timestamp == "" || b.Path == "" {
		t.Fatalf("error body incomplete: %s", r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error content type = %q", ct)
	}
	return b
}

// decode decodes a JSON answer into v.
func decode(t testing.TB, r reply, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode: %v\n%s", err, r.body)
	}
}

// sbdFor builds an SBD of type t to receiver with the fixtures' defaults.
func sbdFor(t testing.TB, typ wire.MessageType, receiver string, mod ...func(*fixtures.SBDSpec)) *wire.StandardBusinessDocument {
	t.Helper()
	spec := fixtures.SBDSpec{Sender: ownOrg, Receiver: receiver}
	for _, f := range mod {
		f(&spec)
	}
	sbd, err := fixtures.NewSBD(typ, spec)
	if err != nil {
		t.Fatalf("new sbd: %v", err)
	}
	return sbd
}

// arkivmeldingXML builds an arkivmelding.xml referring to files.
func arkivmeldingXML(t testing.TB, files ...string) []byte {
	t.Helper()
	var docs []sample.Document
	for i, f := range files {
		docs = append(docs, sample.Document{Filename: f, Primary: i == 0})
	}
	b, err := sample.BuildArkivmelding(sample.ArkivmeldingSpec{Documents: docs, Title: "Bestilling av nye lysrør"})
	if err != nil {
		t.Fatalf("build arkivmelding: %v", err)
	}
	return b
}

// page is the decoded Spring page.
type page[T any] struct {
	Content          []T            `json:"content"`
	Pageable         map[string]any `json:"pageable"`
	TotalElements    int64          `json:"totalElements"`
	Last             bool           `json:"last"`
	TotalPages       int            `json:"totalPages"`
	Sort             wire.Sort      `json:"sort"`
	NumberOfElements int            `json:"numberOfElements"`
	First            bool           `json:"first"`
	Size             int            `json:"size"`
	Number           int            `json:"number"`
	Empty            bool           `json:"empty"`
}
