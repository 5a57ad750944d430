package steps

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

// hostile is one malformed request of the catalogue: what the integration point gets and what it must
// not do with it (answer 5xx, hang, panic). {id} in the path is an outgoing message the scenario created.
type hostile struct {
	method string
	path   string
	header http.Header
	body   func() []byte
	// raw, when set, is sent as it is over a plain connection (for what net/http will not send).
	raw func(host, path string) string
}

func text(s string) func() []byte { return func() []byte { return []byte(s) } }

// hostileCatalogue names the malformed requests a feature can send.
var hostileCatalogue = map[string]hostile{
	"invalid JSON": {method: http.MethodPost, path: "/api/messages/out", header: jsonHeader(),
		body: text(`{"standardBusinessDocumentHeader": {"headerVersion": "1.0",`)},
	"invalid UTF-8": {method: http.MethodPost, path: "/api/messages/out", header: jsonHeader(),
		body: text("{\"standardBusinessDocumentHeader\": {\"headerVersion\": \"\xff\xfe\"}}")},
	"deep nesting": {method: http.MethodPost, path: "/api/messages/out", header: jsonHeader(),
		body: func() []byte {
			return []byte(`{"arkivmelding":` + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + `}`)
		}},
	"a huge field": {method: http.MethodPost, path: "/api/messages/out", header: jsonHeader(),
		body: func() []byte {
			return []byte(`{"standardBusinessDocumentHeader": {"headerVersion": "` + strings.Repeat("x", 4<<20) + `"}}`)
		}},
	"wrong types": {method: http.MethodPost, path: "/api/messages/out", header: jsonHeader(),
		body: text(`{"standardBusinessDocumentHeader": {"headerVersion": 1, "receiver": "everyone", "businessScope": []}}`)},
	"a JSON array":    {method: http.MethodPost, path: "/api/messages/out", header: jsonHeader(), body: text(`[1,2,3]`)},
	"no content type": {method: http.MethodPost, path: "/api/messages/out", body: text(`{}`)},
	"path traversal in a filename": {method: http.MethodPut, path: "/api/messages/out/{id}",
		header: http.Header{"Content-Type": {"application/pdf"}, "Content-Disposition": {`attachment; name="x"; filename="../../../../etc/passwd"`}},
		body:   text("%PDF-1.4")},
	"an absolute filename": {method: http.MethodPut, path: "/api/messages/out/{id}",
		header: http.Header{"Content-Type": {"application/pdf"}, "Content-Disposition": {`attachment; name="x"; filename="/tmp/evil.pdf"`}},
		body:   text("%PDF-1.4")},
	"control characters in a filename": {method: http.MethodPut, path: "/api/messages/out/{id}",
		header: http.Header{"Content-Type": {"application/pdf"}, "Content-Disposition": {"attachment; name=\"x\"; filename*=UTF-8''a%00b%0A.pdf"}},
		body:   text("%PDF-1.4")},
	"no Content-Disposition": {method: http.MethodPut, path: "/api/messages/out/{id}",
		header: http.Header{"Content-Type": {"application/pdf"}}, body: text("%PDF-1.4")},
	"a Content-Disposition that does not parse": {method: http.MethodPut, path: "/api/messages/out/{id}",
		header: http.Header{"Content-Type": {"application/pdf"}, "Content-Disposition": {`attachment; filename; size`}},
		body:   text("%PDF-1.4")},
	"two Content-Disposition headers": {method: http.MethodPut, path: "/api/messages/out/{id}",
		header: http.Header{"Content-Type": {"application/pdf"}, "Content-Disposition": {`attachment; filename="a.pdf"`, `attachment; filename="b.pdf"`}},
		body:   text("%PDF-1.4")},
	"an upload to an unknown message": {method: http.MethodPut, path: "/api/messages/out/00000000-0000-4000-8000-000000000000",
		header: http.Header{"Content-Type": {"application/pdf"}, "Content-Disposition": {`attachment; filename="a.pdf"`}}, body: text("%PDF-1.4")},
	"a messageId that is not a UUID": {method: http.MethodGet, path: "/api/messages/out/..%2F..%2Fetc%2Fpasswd"},
	"a multipart body without a boundary": {method: http.MethodPost, path: "/api/messages/out/multipart",
		header: http.Header{"Content-Type": {"multipart/form-data"}}, body: text("--x\r\n\r\n")},
	"a truncated multipart body": {method: http.MethodPost, path: "/api/messages/out/multipart",
		header: http.Header{"Content-Type": {"multipart/form-data; boundary=xyz"}},
		body:   text("--xyz\r\nContent-Disposition: form-data; name=\"sbd\"\r\nContent-Type: application/json\r\n\r\n{\"standardBusinessDocumentHeader\"")},
	"an oversize SBD": {method: http.MethodPost, path: "/api/messages/out", header: jsonHeader(),
		body: func() []byte { return bytes.Repeat([]byte(" "), 40<<20) }},
	"a conversation id that is not a number": {method: http.MethodGet, path: "/api/conversations/abc"},
	"a bad sort":                             {method: http.MethodGet, path: "/api/conversations?sort=nonsense,desc"},
	"a peek with a bad serviceIdentifier":    {method: http.MethodGet, path: "/api/messages/in/peek?serviceIdentifier=%00%FF"},
	"a subscription that is not JSON":        {method: http.MethodPost, path: "/api/subscriptions", header: jsonHeader(), body: text("pushEndpoint=x")},
	"a subscription with a push endpoint that is no URL": {method: http.MethodPost, path: "/api/subscriptions", header: jsonHeader(),
		body: text(`{"name": "x", "pushEndpoint": "no url at all", "resource": "all", "event": "all"}`)},
	"a chunked upload with no length": {raw: func(host, path string) string {
		return "PUT " + path + " HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/pdf\r\n" +
			"Content-Disposition: attachment; name=\"x\"; filename=\"chunked.pdf\"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
			"8\r\n%PDF-1.4\r\nzz\r\n"
	}, path: "/api/messages/out/{id}"},
}

func jsonHeader() http.Header { return http.Header{"Content-Type": {"application/json"}} }

func registerHostileSteps(sc *godog.ScenarioContext) {
	sc.Step(`^I send the integration point (.+)$`, sendHostile)
	sc.Step(`^the integration point answers with a 4xx and a Spring error body$`, answersClientError)
}

// sendHostile sends the catalogue entry name to the integration point; a message is created first when
// its path needs one.
func sendHostile(ctx context.Context, name string) error {
	w := getWorld(ctx)
	h, ok := hostileCatalogue[name]
	if !ok {
		return fmt.Errorf("no hostile request %q in the catalogue", name)
	}
	base, err := w.ipURL()
	if err != nil {
		return err
	}
	path := h.path
	if strings.Contains(path, "{id}") {
		if err := createMessage(ctx, "arkivmelding", "{org:receiver}"); err != nil {
			return err
		}
		if w.out == nil || w.out.messageID == "" {
			return fmt.Errorf("could not create the message to upload to")
		}
		path = strings.ReplaceAll(path, "{id}", w.out.messageID)
	}
	if h.raw != nil {
		return w.sendRaw(ctx, base, h.raw, path)
	}
	var body io.Reader
	if h.body != nil {
		body = bytes.NewReader(h.body())
	}
	_, err = w.do(ctx, h.method, base+path, h.header, body)
	return err
}

// sendRaw writes a request over a plain connection and keeps the answer as the last response.
func (w *world) sendRaw(ctx context.Context, base string, raw func(host, path string) string, path string) error {
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(w.cfg.timeout()))
	req := raw(u.Host, path)
	if user, pw, ok := strings.Cut(w.cfg.IPAuth, ":"); ok {
		r, _ := http.NewRequest(http.MethodGet, base, nil)
		r.SetBasicAuth(user, pw)
		req = strings.Replace(req, "\r\n", "\r\nAuthorization: "+r.Header.Get("Authorization")+"\r\n", 1)
	}
	if _, err := io.WriteString(conn, req); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return fmt.Errorf("no HTTP answer to the raw request: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	w.last = &response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	return nil
}

// answersClientError checks the last answer: a 4xx with a Spring error body whose status agrees.
func answersClientError(ctx context.Context) error {
	w := getWorld(ctx)
	r, err := w.lastResponse()
	if err != nil {
		return err
	}
	if r.Status < 400 || r.Status > 499 {
		return fmt.Errorf("answered %d, want a 4xx: %.300s", r.Status, r.Body)
	}
	var body wire.ErrorBody
	if err := json.Unmarshal(r.Body, &body); err != nil {
		return fmt.Errorf("answer %d is not a Spring error body: %.300s", r.Status, r.Body)
	}
	if body.Status != r.Status || body.Error == "" || body.Timestamp == "" || body.Message == "" {
		return fmt.Errorf("error body %+v does not describe the %d", body, r.Status)
	}
	return nil
}
