package steps

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/cucumber/godog"
	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/sample"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// outgoing is the message a scenario builds and sends through the integration point.
type outgoing struct {
	messageID string
	files     map[string][]byte
}

func registerIPSteps(sc *godog.ScenarioContext) {
	sc.Step(`^I create an? "([^"]*)" message to "([^"]*)"$`, createMessage)
	sc.Step(`^I create an arkivmelding to "([^"]*)" with (.+)$`, createMutated)
	sc.Step(`^I create an? "([^"]*)" message to "([^"]*)" that expires in (\d+) ms$`, createExpiring)
	sc.Step(`^I upload an arkivmelding\.xml referring to "([^"]*)"$`, uploadArkivmelding)
	sc.Step(`^I upload a PDF named "([^"]*)"$`, uploadPDF)
	sc.Step(`^I upload a PDF named "([^"]*)" without a Content-Disposition header$`, uploadWithoutDisposition)
	sc.Step(`^I upload a PDF named "([^"]*)" without a title$`, uploadUntitled)
	sc.Step(`^I create an? "([^"]*)" message to "([^"]*)" under the process "([^"]*)"$`, createUnderProcess)
	sc.Step(`^I send the message$`, sendMessage)
	sc.Step(`^I wait until the message has expired$`, waitExpired)
	sc.Step(`^I send an arkivmelding to "([^"]*)" with arkivmelding\.xml and a PDF in one multipart request$`, sendMultipart)
	sc.Step(`^the message's statuses become "([^"]*)"$`, statusesBecome)
	sc.Step(`^the message's last status has a description containing "([^"]*)"$`, lastStatusDescription)
	sc.Step(`^the DPO broker holds the message once, with every uploaded file decrypted byte for byte$`, brokerHoldsMessage)
	sc.Step(`^the DPO broker answers (\d+) to the next (\d+) requests?$`, brokerAnswersNext)
	sc.Step(`^the DPO broker answers (\d+) to every request$`, brokerAnswersEvery)
	sc.Step(`^I ask the integration point for the capabilities of "([^"]*)"(?: for process "([^"]*)")?$`, askCapabilities)
	sc.Step(`^the capabilities are "([^"]*)"$`, capabilitiesAre)
	sc.Step(`^the integration point answers (\d+) with "([^"]*)"$`, answersWithException)
	sc.Step(`^the integration point answers (\d+) with "([^"]*)" and a message containing "([^"]*)"$`, answersWithExceptionAndMessage)
}

func (w *world) ipURL() (string, error) {
	if w.cfg.IPURL == "" {
		return "", fmt.Errorf("no integration point under test (IPURL)")
	}
	return strings.TrimRight(w.cfg.IPURL, "/"), nil
}

// sbdJSON builds an SBD of type mt to receiver as a generic JSON object that steps can change.
func (w *world) sbdJSON(mt, receiver string) (map[string]any, error) {
	to, err := w.expand(receiver)
	if err != nil {
		return nil, err
	}
	sbd, err := fixtures.NewSBD(wire.MessageType(mt), fixtures.SBDSpec{Receiver: to, Sender: w.cfg.Population.Org(fixtures.RoleSender).Orgnr})
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(sbd)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

func (w *world) postSBD(ctx context.Context, body []byte) error {
	base, err := w.ipURL()
	if err != nil {
		return err
	}
	r, err := w.do(ctx, http.MethodPost, base+"/api/messages/out", http.Header{"Content-Type": {"application/json"}}, bytes.NewReader(body))
	if err != nil {
		return err
	}
	w.out = &outgoing{files: map[string][]byte{}}
	if r.Status == http.StatusOK {
		var sbd wire.StandardBusinessDocument
		if err := json.Unmarshal(r.Body, &sbd); err != nil {
			return fmt.Errorf("create answered 200 with no SBD: %w", err)
		}
		w.out.messageID = sbd.MessageID()
	}
	return nil
}

// createMessage posts a valid message; whether the integration point accepts it is for a Then step.
func createMessage(ctx context.Context, mt, receiver string) error {
	w := getWorld(ctx)
	m, err := w.sbdJSON(mt, receiver)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(m)
	return w.postSBD(ctx, b)
}

func createExpiring(ctx context.Context, mt, receiver string, ms int) error {
	w := getWorld(ctx)
	m, err := w.sbdJSON(mt, receiver)
	if err != nil {
		return err
	}
	exp := time.Now().Add(time.Duration(ms) * time.Millisecond).In(wire.Oslo())
	conv := m["standardBusinessDocumentHeader"].(map[string]any)["businessScope"].(map[string]any)["scope"].([]any)[0].(map[string]any)
	conv["scopeInformation"] = []any{map[string]any{"expectedResponseDateTime": wire.NewOffsetDateTime(exp).String()}}
	b, _ := json.Marshal(m)
	if err := w.postSBD(ctx, b); err != nil {
		return err
	}
	if w.last.Status != http.StatusOK {
		return fmt.Errorf("create answered %d: %.500s", w.last.Status, w.last.Body)
	}
	return nil
}

// createMutated posts an arkivmelding changed in one way, to provoke one validation rule.
func createMutated(ctx context.Context, receiver, mutation string) error {
	w := getWorld(ctx)
	m, err := w.sbdJSON("arkivmelding", receiver)
	if err != nil {
		return err
	}
	hdr := m["standardBusinessDocumentHeader"].(map[string]any)
	docID := hdr["documentIdentification"].(map[string]any)
	scopes := hdr["businessScope"].(map[string]any)["scope"].([]any)
	conv := scopes[0].(map[string]any)
	var raw []byte
	switch mutation {
	case "malformed JSON":
		raw = []byte(`{"standardBusinessDocumentHeader": {"headerVersion": "1.0"`)
	case "an extra top-level key":
		m["extra"] = map[string]any{}
	case "the payload under another key":
		m["digital"] = m["arkivmelding"]
		delete(m, "arkivmelding")
	case "the type \"strange\"":
		docID["type"] = "strange"
		m["strange"] = m["arkivmelding"]
		delete(m, "arkivmelding")
	case "no ConversationId scope":
		conv["type"] = "SenderRef"
	case "no process":
		delete(conv, "identifier")
	case "the type avtalt under the arkivmelding standard":
		docID["type"] = "avtalt"
		m["avtalt"] = map[string]any{"identifier": "x"}
		delete(m, "arkivmelding")
	case "a messageId that is not a UUID":
		docID["instanceIdentifier"] = "not-a-uuid"
	case "no headerVersion":
		delete(hdr, "headerVersion")
	case "two receivers":
		hdr["receiver"] = []any{hdr["receiver"].([]any)[0], hdr["receiver"].([]any)[0]}
	case "an expectedResponseDateTime in the past":
		conv["scopeInformation"] = []any{map[string]any{"expectedResponseDateTime": "2020-01-01T00:00:00+01:00"}}
	case "a receiver that is no identifier":
		hdr["receiver"].([]any)[0].(map[string]any)["identifier"].(map[string]any)["value"] = "not-an-id"
	case "the messageId of the previous one":
		if w.out == nil || w.out.messageID == "" {
			return fmt.Errorf("no message was created before")
		}
		docID["instanceIdentifier"] = w.out.messageID
	case "an unknown scope type":
		scopes = append(scopes, map[string]any{"type": "Colour", "identifier": "blue"})
		hdr["businessScope"].(map[string]any)["scope"] = scopes
	default:
		return fmt.Errorf("unknown mutation %q", mutation)
	}
	if raw == nil {
		raw, _ = json.Marshal(m)
	}
	return w.postSBD(ctx, raw)
}

func (w *world) upload(ctx context.Context, name, contentType string, body []byte, disposition bool) error {
	base, err := w.ipURL()
	if err != nil {
		return err
	}
	if w.out == nil || w.out.messageID == "" {
		return fmt.Errorf("no message has been created")
	}
	h := http.Header{"Content-Type": {contentType}}
	if disposition {
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; name="%s"; filename="%s"`, name, name))
	}
	if _, err := w.do(ctx, http.MethodPut, base+"/api/messages/out/"+w.out.messageID, h, bytes.NewReader(body)); err != nil {
		return err
	}
	if w.last.Status == http.StatusOK {
		w.out.files[name] = body
	}
	return nil
}

func uploadArkivmelding(ctx context.Context, refers string) error {
	var docs []sample.Document
	for _, f := range strings.Split(refers, ",") {
		docs = append(docs, sample.Document{Filename: strings.TrimSpace(f)})
	}
	am, err := sample.BuildArkivmelding(sample.ArkivmeldingSpec{Documents: docs})
	if err != nil {
		return err
	}
	return getWorld(ctx).upload(ctx, "arkivmelding.xml", "text/xml", am, true)
}

func uploadPDF(ctx context.Context, name string) error {
	return getWorld(ctx).upload(ctx, name, "application/pdf", sample.PDF("efm-harness: "+name), true)
}

func uploadWithoutDisposition(ctx context.Context, name string) error {
	return getWorld(ctx).upload(ctx, name, "application/pdf", sample.PDF(name), false)
}

func sendMessage(ctx context.Context) error {
	w := getWorld(ctx)
	base, err := w.ipURL()
	if err != nil {
		return err
	}
	if w.out == nil || w.out.messageID == "" {
		return fmt.Errorf("no message has been created")
	}
	_, err = w.do(ctx, http.MethodPost, base+"/api/messages/out/"+w.out.messageID, nil, nil)
	return err
}

// waitExpired waits past the created message's expectedResponseDateTime.
func waitExpired(ctx context.Context) error {
	w := getWorld(ctx)
	base, err := w.ipURL()
	if err != nil {
		return err
	}
	r, err := w.do(ctx, http.MethodGet, base+"/api/messages/out/"+w.out.messageID, nil, nil)
	if err != nil {
		return err
	}
	var sbd wire.StandardBusinessDocument
	if err := json.Unmarshal(r.Body, &sbd); err != nil {
		return fmt.Errorf("stored message: %w", err)
	}
	exp, ok := sbd.ExpectedResponseDateTime()
	if !ok {
		return fmt.Errorf("the message has no expectedResponseDateTime")
	}
	wait := time.Until(exp.Time) + 50*time.Millisecond
	if wait > 30*time.Second {
		return fmt.Errorf("the message expires in %v; run the integration point with --fast", wait)
	}
	time.Sleep(wait)
	return nil
}

func sendMultipart(ctx context.Context, receiver string) error {
	w := getWorld(ctx)
	base, err := w.ipURL()
	if err != nil {
		return err
	}
	m, err := w.sbdJSON("arkivmelding", receiver)
	if err != nil {
		return err
	}
	sbd, _ := json.Marshal(m)
	am, _ := sample.BuildArkivmelding(sample.ArkivmeldingSpec{Documents: []sample.Document{{Filename: "vedtak.pdf"}}})
	files := map[string][]byte{"arkivmelding.xml": am, "vedtak.pdf": sample.PDF("vedtak")}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	sh := textproto.MIMEHeader{}
	sh.Set("Content-Disposition", `form-data; name="sbd"`)
	sh.Set("Content-Type", "application/json")
	pw, _ := mw.CreatePart(sh)
	_, _ = pw.Write(sbd)
	for _, part := range []struct{ title, name, mime string }{{"Arkivmelding", "arkivmelding.xml", "text/xml"}, {"Vedtak", "vedtak.pdf", "application/pdf"}} {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, part.title, part.name))
		h.Set("Content-Type", part.mime)
		fw, _ := mw.CreatePart(h)
		_, _ = fw.Write(files[part.name])
	}
	_ = mw.Close()
	r, err := w.do(ctx, http.MethodPost, base+"/api/messages/out/multipart", http.Header{"Content-Type": {mw.FormDataContentType()}}, &buf)
	if err != nil {
		return err
	}
	if r.Status != http.StatusOK {
		return fmt.Errorf("multipart answered %d: %.500s", r.Status, r.Body)
	}
	var out wire.StandardBusinessDocument
	if err := json.Unmarshal(r.Body, &out); err != nil {
		return err
	}
	w.out = &outgoing{messageID: out.MessageID(), files: files}
	return nil
}

// statuses reads the message's statuses from the integration point.
func (w *world) statuses(ctx context.Context) ([]map[string]any, error) {
	base, err := w.ipURL()
	if err != nil {
		return nil, err
	}
	r, err := w.do(ctx, http.MethodGet, base+"/api/statuses/"+w.out.messageID+"?size=100", nil, nil)
	if err != nil {
		return nil, err
	}
	var page struct {
		Content []map[string]any `json:"content"`
	}
	if err := json.Unmarshal(r.Body, &page); err != nil {
		return nil, fmt.Errorf("statuses page: %w", err)
	}
	return page.Content, nil
}

// statusesBecome polls the statuses until they are exactly want, in order (within the step timeout).
func statusesBecome(ctx context.Context, want string) error {
	w := getWorld(ctx)
	if w.out == nil || w.out.messageID == "" {
		return fmt.Errorf("no message has been created")
	}
	var wantList []string
	for _, s := range strings.Split(want, ",") {
		wantList = append(wantList, strings.TrimSpace(s))
	}
	deadline := time.Now().Add(w.cfg.timeout())
	var got []string
	for {
		sts, err := w.statuses(ctx)
		if err != nil {
			return err
		}
		got = got[:0]
		for _, s := range sts {
			got = append(got, stringOf(s["status"]))
		}
		if cmp.Equal(wantList, got) {
			return nil
		}
		if len(got) > len(wantList) || time.Now().After(deadline) {
			return fmt.Errorf("statuses are %v, want %v", got, wantList)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func lastStatusDescription(ctx context.Context, want string) error {
	w := getWorld(ctx)
	sts, err := w.statuses(ctx)
	if err != nil {
		return err
	}
	if len(sts) == 0 {
		return fmt.Errorf("the message has no statuses")
	}
	if d := stringOf(sts[len(sts)-1]["description"]); !strings.Contains(d, want) {
		return fmt.Errorf("last status description %q lacks %q", d, want)
	}
	return nil
}

func brokerHoldsMessage(ctx context.Context) error {
	w := getWorld(ctx)
	dpo := w.admin("dpo")
	var list struct {
		Transfers []struct {
			ID string `json:"id"`
		} `json:"transfers"`
	}
	if err := dpo.Messages(ctx, &list); err != nil {
		return err
	}
	found := 0
	var files map[string]string
	for _, t := range list.Transfers {
		var view struct {
			SBD  json.RawMessage `json:"sbd"`
			ASiC *struct {
				Signed bool `json:"signed"`
				Error  string
				Files  []struct {
					Name   string `json:"name"`
					SHA256 string `json:"sha256"`
				} `json:"files"`
			} `json:"asic"`
		}
		if err := dpo.Message(ctx, t.ID, &view); err != nil {
			return err
		}
		var sbd wire.StandardBusinessDocument
		if json.Unmarshal(view.SBD, &sbd) != nil || sbd.MessageID() != w.out.messageID || sbd.Type() == wire.TypeStatus {
			continue // a receiver's status answers carry the same messageId
		}
		found++
		if view.ASiC == nil || !view.ASiC.Signed {
			return fmt.Errorf("transfer %s: the document package is missing, unreadable or unsigned: %+v", t.ID, view.ASiC)
		}
		files = map[string]string{}
		for _, f := range view.ASiC.Files {
			if f.Name != "manifest.xml" {
				files[f.Name] = f.SHA256
			}
		}
	}
	if found != 1 {
		return fmt.Errorf("the broker holds the message %d times, want once", found)
	}
	want := map[string]string{}
	for name, b := range w.out.files {
		s := sha256.Sum256(b)
		want[name] = hex.EncodeToString(s[:])
	}
	if diff := cmp.Diff(want, files); diff != "" {
		return fmt.Errorf("decrypted files differ from the uploaded ones (-uploaded +broker):\n%s", diff)
	}
	return nil
}

func brokerAnswersNext(ctx context.Context, status, count int) error {
	w := getWorld(ctx)
	w.faulted["dpo"] = true
	return w.admin("dpo").SetFault(ctx, admin.Fault{Mode: admin.ModeStatus, Status: status, Count: count,
		Paths: []string{"/broker/"}, Methods: []string{http.MethodPost}}) // sends only: pollers keep polling
}

func brokerAnswersEvery(ctx context.Context, status int) error {
	w := getWorld(ctx)
	w.faulted["dpo"] = true
	return w.admin("dpo").SetFault(ctx, admin.Fault{Mode: admin.ModeStatus, Status: status,
		Paths: []string{"/broker/"}, Methods: []string{http.MethodPost}})
}

func askCapabilities(ctx context.Context, who, process string) error {
	w := getWorld(ctx)
	base, err := w.ipURL()
	if err != nil {
		return err
	}
	id, err := w.expand(who)
	if err != nil {
		return err
	}
	u := base + "/api/capabilities/" + id
	if process != "" {
		u += "?process=" + process
	}
	_, err = w.do(ctx, http.MethodGet, u, nil, nil)
	return err
}

func capabilitiesAre(ctx context.Context, want string) error {
	w := getWorld(ctx)
	r, err := w.lastResponse()
	if err != nil {
		return err
	}
	var caps wire.Capabilities
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &caps) != nil {
		return fmt.Errorf("capabilities answered %d: %.300s", r.Status, r.Body)
	}
	var got []string
	for _, c := range caps.Capabilities {
		got = append(got, string(c.ServiceIdentifier))
	}
	if strings.Join(got, ",") != want {
		return fmt.Errorf("capabilities are %q, want %q", strings.Join(got, ","), want)
	}
	return nil
}

func answersWithException(ctx context.Context, status int, exception string) error {
	return answersWithExceptionAndMessage(ctx, status, exception, "")
}

func answersWithExceptionAndMessage(ctx context.Context, status int, exception, message string) error {
	w := getWorld(ctx)
	r, err := w.lastResponse()
	if err != nil {
		return err
	}
	var body wire.ErrorBody
	if err := json.Unmarshal(r.Body, &body); err != nil {
		return fmt.Errorf("answer %d is not a Spring error body: %.300s", r.Status, r.Body)
	}
	if r.Status != status || body.Status != status {
		return fmt.Errorf("answered %d (body status %d), want %d: %s", r.Status, body.Status, status, body.Message)
	}
	if got := body.Exception[strings.LastIndex(body.Exception, ".")+1:]; got != exception {
		return fmt.Errorf("exception %s, want %s (message %q)", body.Exception, exception, body.Message)
	}
	if body.Timestamp == "" || body.Path == "" || body.Error == "" {
		return fmt.Errorf("error body lacks timestamp, path or error: %+v", body)
	}
	if message != "" && !strings.Contains(body.Message, message) {
		return fmt.Errorf("message %q lacks %q", body.Message, message)
	}
	return nil
}

// uploadUntitled uploads a PDF whose Content-Disposition names a filename but no title.
func uploadUntitled(ctx context.Context, name string) error {
	w := getWorld(ctx)
	base, err := w.ipURL()
	if err != nil {
		return err
	}
	if w.out == nil || w.out.messageID == "" {
		return fmt.Errorf("no message has been created")
	}
	h := http.Header{"Content-Type": {"application/pdf"}, "Content-Disposition": {fmt.Sprintf(`attachment; filename="%s"`, name)}}
	_, err = w.do(ctx, http.MethodPut, base+"/api/messages/out/"+w.out.messageID, h, bytes.NewReader(sample.PDF(name)))
	return err
}

func createUnderProcess(ctx context.Context, mt, receiver, process string) error {
	w := getWorld(ctx)
	m, err := w.sbdJSON(mt, receiver)
	if err != nil {
		return err
	}
	conv := m["standardBusinessDocumentHeader"].(map[string]any)["businessScope"].(map[string]any)["scope"].([]any)[0].(map[string]any)
	conv["identifier"] = process
	b, _ := json.Marshal(m)
	return w.postSBD(ctx, b)
}
