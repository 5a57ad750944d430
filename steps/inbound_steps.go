package steps

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"
	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

func registerInboundSteps(sc *godog.ScenarioContext) {
	sc.Step(`^archive system A sends an arkivmelding to organisation B(?: that expires in (\d+) ms)?$`, aSendsToB)
	sc.Step(`^archive system A sends an arkivmelding to "([^"]*)" that expires in (\d+) ms$`, aSendsToOrg)
	sc.Step(`^archive system ([AB]) finds the (message|kvittering|injected message) when it peeks$`, findsWhenPeeking)
	sc.Step(`^archive system ([AB]) finds nothing to peek for the (message|kvittering)$`, findsNothing)
	sc.Step(`^archive system B pops the message and gets the files A uploaded$`, popsFiles)
	sc.Step(`^archive system ([AB]) pops the (kvittering) and gets no content$`, popsNoContent)
	sc.Step(`^archive system ([AB]) deletes the (message|kvittering|injected message)$`, deletesIncoming)
	sc.Step(`^archive system ([AB]) pops the (message) without peeking first$`, popsWithoutLock)
	sc.Step(`^archive system B answers the message with an arkivmelding_kvittering "([^"]*)"$`, answersWithKvittering)
	sc.Step(`^archive system ([AB]) answers the injected message with an arkivmelding_kvittering "([^"]*)" to "([^"]*)"$`, answersInjectedWithKvittering)
	sc.Step(`^the (message|kvittering|injected message)'s statuses at ([AB]) become "([^"]*)"$`, statusesAtBecome)
	sc.Step(`^I wait (\d+) ms$`, waitMillis)
	sc.Step(`^a webhook endpoint(?: that fails the first (\d+) deliveries)? is subscribed at A with the filter "([^"]*)"$`, subscribeWebhook)
	sc.Step(`^the webhook endpoint receives exactly the statuses "([^"]*)" for the message$`, webhookReceives)
	sc.Step(`^the webhook endpoint got (\d+) failed deliveries before they succeeded$`, webhookFailures)
}

// incoming is what a scenario knows of messages flowing between A and B.
type incoming struct {
	kvitteringID string // the messageId of B's kvittering
	injectedID   string // the messageId of a message injected at the broker
	popped       []byte
}

func (w *world) party(p string) (string, error) {
	u := w.cfg.IPURL
	if p == "B" {
		u = w.cfg.IP2URL
	}
	if u == "" {
		return "", fmt.Errorf("no integration point %s under test", p)
	}
	return strings.TrimRight(u, "/"), nil
}

// orgOf reads the organisation number of integration point p from its /manage/info.
func (w *world) orgOf(ctx context.Context, p string) (string, error) {
	base, err := w.party(p)
	if err != nil {
		return "", err
	}
	r, err := w.do(ctx, http.MethodGet, base+"/manage/info", nil, nil)
	if err != nil {
		return "", err
	}
	var info struct {
		Org struct {
			Number string `json:"number"`
		} `json:"org"`
	}
	if err := json.Unmarshal(r.Body, &info); err != nil || info.Org.Number == "" {
		return "", fmt.Errorf("%s/manage/info names no org.number: %.200s", base, r.Body)
	}
	return info.Org.Number, nil
}

func (w *world) inbound() *incoming {
	if w.in == nil {
		w.in = &incoming{}
	}
	return w.in
}

// sendFromA creates, uploads and sends an arkivmelding from A to receiver, with an optional time to live.
func (w *world) sendFromA(ctx context.Context, receiver string, ttlMs int) error {
	var err error
	if ttlMs > 0 {
		err = createExpiring(ctx, "arkivmelding", receiver, ttlMs)
	} else {
		err = createMessage(ctx, "arkivmelding", receiver)
	}
	if err != nil {
		return err
	}
	if w.last.Status != http.StatusOK {
		return fmt.Errorf("create at A answered %d: %.300s", w.last.Status, w.last.Body)
	}
	for _, step := range []func(context.Context) error{
		func(ctx context.Context) error { return uploadArkivmelding(ctx, "brev.pdf") },
		func(ctx context.Context) error { return uploadPDF(ctx, "brev.pdf") },
		sendMessage,
	} {
		if err := step(ctx); err != nil {
			return err
		}
		if w.last.Status != http.StatusOK {
			return fmt.Errorf("integration point A answered %d: %.300s", w.last.Status, w.last.Body)
		}
	}
	return nil
}

func aSendsToB(ctx context.Context, ttl string) error {
	w := getWorld(ctx)
	org, err := w.orgOf(ctx, "B")
	if err != nil {
		return err
	}
	ms := 0
	if ttl != "" {
		fmt.Sscan(ttl, &ms)
	}
	return w.sendFromA(ctx, org, ms)
}

func aSendsToOrg(ctx context.Context, receiver string, ms int) error {
	return getWorld(ctx).sendFromA(ctx, receiver, ms)
}

// idOf is the messageId a step refers to.
func (w *world) idOf(what string) (string, error) {
	var id string
	switch what {
	case "message":
		if w.out != nil {
			id = w.out.messageID
		}
	case "kvittering":
		id = w.inbound().kvitteringID
	case "injected message":
		id = w.inbound().injectedID
	}
	if id == "" {
		return "", fmt.Errorf("the scenario has no %s yet", what)
	}
	return id, nil
}

// peek asks p's in-queue for id; found reports a 200 with that message.
func (w *world) peek(ctx context.Context, p, id string) (bool, error) {
	base, err := w.party(p)
	if err != nil {
		return false, err
	}
	r, err := w.do(ctx, http.MethodGet, base+"/api/messages/in/peek?messageId="+id, nil, nil)
	if err != nil {
		return false, err
	}
	switch r.Status {
	case http.StatusNoContent:
		if len(r.Body) != 0 {
			return false, fmt.Errorf("peek answered 204 with a body: %.200s", r.Body)
		}
		return false, nil
	case http.StatusOK:
		var sbd wire.StandardBusinessDocument
		if err := json.Unmarshal(r.Body, &sbd); err != nil {
			return false, fmt.Errorf("peek answered 200 without an SBD: %w", err)
		}
		return sbd.MessageID() == id, nil
	}
	return false, fmt.Errorf("peek answered %d: %.300s", r.Status, r.Body)
}

func findsWhenPeeking(ctx context.Context, p, what string) error {
	w := getWorld(ctx)
	id, err := w.idOf(what)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(w.cfg.timeout())
	for {
		found, err := w.peek(ctx, p, id)
		if err != nil || found {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the %s %s did not arrive in %s's in-queue within %v", what, id, p, w.cfg.timeout())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func findsNothing(ctx context.Context, p, what string) error {
	w := getWorld(ctx)
	id, err := w.idOf(what)
	if err != nil {
		return err
	}
	found, err := w.peek(ctx, p, id)
	if err != nil {
		return err
	}
	if found {
		return fmt.Errorf("%s could peek the %s", p, what)
	}
	return nil
}

func popsFiles(ctx context.Context) error {
	w := getWorld(ctx)
	base, err := w.party("B")
	if err != nil {
		return err
	}
	r, err := w.do(ctx, http.MethodGet, base+"/api/messages/in/pop/"+w.out.messageID, nil, nil)
	if err != nil {
		return err
	}
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/vnd.etsi.asic-e+zip" {
		return fmt.Errorf("pop answered %d %s: %.200s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	zr, err := zip.NewReader(bytes.NewReader(r.Body), int64(len(r.Body)))
	if err != nil {
		return fmt.Errorf("popped content is not a zip: %w", err)
	}
	got := map[string][]byte{}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Name == "mimetype" || f.Name == "manifest.xml" || strings.HasPrefix(f.Name, "META-INF/") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		got[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	if len(names) == 0 || names[0] != "mimetype" || !slices.Contains(names, "manifest.xml") {
		return fmt.Errorf("popped ASiC-E entries %v: want mimetype first and manifest.xml", names)
	}
	if diff := cmp.Diff(w.out.files, got); diff != "" {
		return fmt.Errorf("popped files differ from what A uploaded (-uploaded +popped):\n%s", diff)
	}
	w.inbound().popped = r.Body
	return nil
}

// aboutMessage makes a request to p's integration point on path+the id of the scenario's message named what.
func aboutMessage(ctx context.Context, p, what, method, path string) (*response, error) {
	w := getWorld(ctx)
	base, err := w.party(p)
	if err != nil {
		return nil, err
	}
	id, err := w.idOf(what)
	if err != nil {
		return nil, err
	}
	return w.do(ctx, method, base+path+id, nil, nil)
}

func popsNoContent(ctx context.Context, p, what string) error {
	r, err := aboutMessage(ctx, p, what, http.MethodGet, "/api/messages/in/pop/")
	if err != nil {
		return err
	}
	if r.Status != http.StatusNoContent || len(r.Body) != 0 {
		return fmt.Errorf("pop of the %s answered %d with %d bytes, want 204 and no body", what, r.Status, len(r.Body))
	}
	return nil
}

func popsWithoutLock(ctx context.Context, p, what string) error {
	_, err := aboutMessage(ctx, p, what, http.MethodGet, "/api/messages/in/pop/")
	return err
}

func deletesIncoming(ctx context.Context, p, what string) error {
	r, err := aboutMessage(ctx, p, what, http.MethodDelete, "/api/messages/in/")
	if err != nil {
		return err
	}
	if r.Status != http.StatusOK {
		return fmt.Errorf("delete answered %d: %.300s", r.Status, r.Body)
	}
	return nil
}

// answersWithKvittering makes B post an arkivmelding_kvittering for A's message back to A (spec ip-api §7.7).
func answersWithKvittering(ctx context.Context, receiptType string) error {
	w := getWorld(ctx)
	orgA, err := w.orgOf(ctx, "A")
	if err != nil {
		return err
	}
	return w.postKvittering(ctx, "B", orgA, w.out.messageID, receiptType)
}

// answersInjectedWithKvittering answers the injected message at p with a kvittering to the organisation
// that sent it.
func answersInjectedWithKvittering(ctx context.Context, p, receiptType, to string) error {
	w := getWorld(ctx)
	org, err := w.expand(to)
	if err != nil {
		return err
	}
	return w.postKvittering(ctx, p, org, w.inbound().injectedID, receiptType)
}

// postKvittering creates and sends, at integration point p, an arkivmelding_kvittering to org for the
// message relatedTo, and keeps its messageId as the scenario's kvittering.
func (w *world) postKvittering(ctx context.Context, p, org, relatedTo, receiptType string) error {
	base, err := w.party(p)
	if err != nil {
		return err
	}
	body := fmt.Sprintf(`{"standardBusinessDocumentHeader": {"headerVersion": "1.0",
	  "receiver": [{"identifier": {"authority": "iso6523-actorid-upis", "value": "0192:%s"}}],
	  "documentIdentification": {"standard": "%s", "type": "arkivmelding_kvittering", "typeVersion": "2.0"},
	  "businessScope": {"scope": [{"type": "ConversationId", "identifier": "%s"}]}},
	 "arkivmelding_kvittering": {"receiptType": %q, "relatedToMessageId": %q, "messages": [{"code": "Recno", "text": "315890"}]}}`,
		org, wire.StandardArkivmeldingKvittering, wire.ProcessArkivmeldingResponse, receiptType, relatedTo)
	r, err := w.do(ctx, http.MethodPost, base+"/api/messages/out", http.Header{"Content-Type": {"application/json"}}, strings.NewReader(body))
	if err != nil {
		return err
	}
	if r.Status != http.StatusOK {
		return fmt.Errorf("the kvittering from %s: create answered %d: %.400s", p, r.Status, r.Body)
	}
	var sbd wire.StandardBusinessDocument
	if err := json.Unmarshal(r.Body, &sbd); err != nil {
		return err
	}
	w.inbound().kvitteringID = sbd.MessageID()
	r, err = w.do(ctx, http.MethodPost, base+"/api/messages/out/"+sbd.MessageID(), nil, nil)
	if err != nil {
		return err
	}
	if r.Status != http.StatusOK {
		return fmt.Errorf("the kvittering from %s: send answered %d: %.400s", p, r.Status, r.Body)
	}
	return nil
}

// statusesAtBecome polls p's statuses of a message until they are exactly want, in order.
func statusesAtBecome(ctx context.Context, what, p, want string) error {
	w := getWorld(ctx)
	base, err := w.party(p)
	if err != nil {
		return err
	}
	id, err := w.idOf(what)
	if err != nil {
		return err
	}
	var wantList []string
	for _, s := range strings.Split(want, ",") {
		wantList = append(wantList, strings.TrimSpace(s))
	}
	deadline := time.Now().Add(w.cfg.timeout())
	for {
		r, err := w.do(ctx, http.MethodGet, base+"/api/statuses/"+id+"?size=100", nil, nil)
		if err != nil {
			return err
		}
		var page struct {
			Content []struct {
				Status string `json:"status"`
			} `json:"content"`
		}
		if err := json.Unmarshal(r.Body, &page); err != nil {
			return fmt.Errorf("statuses at %s: %w", p, err)
		}
		var got []string
		for _, s := range page.Content {
			got = append(got, s.Status)
		}
		if cmp.Equal(wantList, got) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("statuses of the %s at %s are %v, want %v", what, p, got, wantList)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func waitMillis(ms int) { time.Sleep(time.Duration(ms) * time.Millisecond) }

// hook is a webhook endpoint the scenario runs on its own listener.
type hook struct {
	mu       sync.Mutex
	srv      *httptest.Server
	failures int // deliveries still to fail
	failed   int
	events   []map[string]any
}

func subscribeWebhook(ctx context.Context, fail, filter string) error {
	w := getWorld(ctx)
	base, err := w.party("A")
	if err != nil {
		return err
	}
	h := &hook{}
	if fail != "" {
		fmt.Sscan(fail, &h.failures)
	}
	listen, advertise := w.cfg.callback()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("webhook endpoint: %w", err)
	}
	h.srv = &httptest.Server{Listener: ln, Config: &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var ev map[string]any
		_ = json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&ev)
		h.mu.Lock()
		defer h.mu.Unlock()
		if ev["event"] != "ping" && h.failures > 0 {
			h.failures--
			h.failed++
			rw.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		h.events = append(h.events, ev)
	})}}
	h.srv.Start()
	w.hook = h
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	body := fmt.Sprintf(`{"name": "efm-harness scenario %d", "pushEndpoint": %q, "resource": "all", "event": "all", "filter": %q}`,
		time.Now().UnixNano(), advertise(port)+"/events", filter)
	r, err := w.do(ctx, http.MethodPost, base+"/api/subscriptions", http.Header{"Content-Type": {"application/json"}}, strings.NewReader(body))
	if err != nil {
		return err
	}
	if r.Status != http.StatusOK {
		return fmt.Errorf("subscribe answered %d: %.400s", r.Status, r.Body)
	}
	var sub struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(r.Body, &sub); err != nil || sub.ID == 0 {
		return fmt.Errorf("subscription answer has no id: %.300s", r.Body)
	}
	w.subscriptionID = sub.ID
	return nil
}

func (h *hook) statusesOf(messageID string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, ev := range h.events {
		if ev["event"] == "status" && ev["messageId"] == messageID {
			out = append(out, stringOf(ev["status"]))
		}
	}
	return out
}

func webhookReceives(ctx context.Context, want string) error {
	w := getWorld(ctx)
	if w.hook == nil {
		return fmt.Errorf("no webhook endpoint is subscribed")
	}
	var wantList []string
	for _, s := range strings.Split(want, ",") {
		wantList = append(wantList, strings.TrimSpace(s))
	}
	deadline := time.Now().Add(w.cfg.timeout())
	for {
		got := w.hook.statusesOf(w.out.messageID)
		if len(got) > len(wantList) {
			return fmt.Errorf("webhook got %v, want exactly %v", got, wantList)
		}
		if cmp.Equal(wantList, got) {
			time.Sleep(200 * time.Millisecond) // nothing more may come
			if again := w.hook.statusesOf(w.out.messageID); !cmp.Equal(wantList, again) {
				return fmt.Errorf("webhook got %v, want exactly %v", again, wantList)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("webhook got %v, want %v", got, wantList)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func webhookFailures(ctx context.Context, n int) error {
	w := getWorld(ctx)
	if w.hook == nil {
		return fmt.Errorf("no webhook endpoint is subscribed")
	}
	w.hook.mu.Lock()
	defer w.hook.mu.Unlock()
	if w.hook.failed != n {
		return fmt.Errorf("the endpoint failed %d deliveries, want %d", w.hook.failed, n)
	}
	return nil
}

func registerCounterpartSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the DPO simulator answers for "([^"]*)" with:$`, counterpartAnswers)
	sc.Step(`^the DPO simulator delivers an arkivmelding from "([^"]*)" to organisation ([AB])$`, injectArkivmelding)
}

func counterpartAnswers(ctx context.Context, who string, doc *godog.DocString) error {
	w := getWorld(ctx)
	org, err := w.expand(who)
	if err != nil {
		return err
	}
	var behaviour json.RawMessage
	if err := json.Unmarshal([]byte(doc.Content), &behaviour); err != nil {
		return fmt.Errorf("behaviour JSON: %w", err)
	}
	w.faulted["dpo"] = true // reset after the scenario
	return w.admin("dpo").SetBehaviour(ctx, map[string]any{"organizations": map[string]any{org: behaviour}})
}

// parties expands from (a population placeholder or an organisation number) and finds party p's
// organisation: the sender and the receiver of a message a broker is to offer p.
func (w *world) parties(ctx context.Context, from, p string) (sender, receiver string, err error) {
	if sender, err = w.expand(from); err != nil {
		return "", "", err
	}
	receiver, err = w.orgOf(ctx, p)
	return sender, receiver, err
}

// dpoInjected is the DPO simulator's answer to an inject.
type dpoInjected struct {
	FileTransferID string `json:"fileTransferId"`
	MessageID      string `json:"messageId"`
}

// injectDPO has the DPO simulator offer an arkivmelding from sender to receiver, with extra fields of
// the inject request (e.g. "files") when given.
func (w *world) injectDPO(ctx context.Context, sender, receiver string, extra map[string]any) (dpoInjected, error) {
	req := map[string]any{"sender": sender, "receiver": receiver, "type": "arkivmelding"}
	for k, v := range extra {
		req[k] = v
	}
	var out dpoInjected
	err := w.admin("dpo").Inject(ctx, req, &out)
	return out, err
}

func injectArkivmelding(ctx context.Context, from, to string) error {
	w := getWorld(ctx)
	sender, receiver, err := w.parties(ctx, from, to)
	if err != nil {
		return err
	}
	out, err := w.injectDPO(ctx, sender, receiver, nil)
	if err != nil {
		return err
	}
	if out.MessageID == "" {
		return fmt.Errorf("inject answered no messageId")
	}
	w.inbound().injectedID = out.MessageID
	return nil
}
