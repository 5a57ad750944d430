// Package stacktest holds what tests that drive a running integration point over HTTP share: sending an
// arkivmelding the way an archive system does, reading a message's statuses and taking incoming messages.
package stacktest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/sample"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// SendArkivmelding creates, uploads (arkivmelding.xml and a one-page PDF) and sends one arkivmelding to
// receiver through the integration point at ipURL. It returns the messageId, also when a step failed,
// and an error naming the first request that was not answered 2xx.
func SendArkivmelding(ctx context.Context, c *http.Client, ipURL, receiver string) (string, error) {
	sbd := fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{Receiver: receiver})
	id := sbd.MessageID()
	body, err := json.Marshal(sbd)
	if err != nil {
		return id, err
	}
	am, err := sample.BuildArkivmelding(sample.ArkivmeldingSpec{Documents: []sample.Document{{Filename: "brev.pdf", Primary: true}}})
	if err != nil {
		return id, err
	}
	for _, r := range []struct {
		method, path, ctype, disposition string
		body                             []byte
	}{
		{http.MethodPost, "/api/messages/out", "application/json", "", body},
		{http.MethodPut, "/api/messages/out/" + id, "text/xml", `attachment; name="am"; filename="arkivmelding.xml"`, am},
		{http.MethodPut, "/api/messages/out/" + id, "application/pdf", `attachment; name="Brev"; filename="brev.pdf"`, sample.PDF("brev")},
		{http.MethodPost, "/api/messages/out/" + id, "", "", nil},
	} {
		req, err := http.NewRequestWithContext(ctx, r.method, ipURL+r.path, bytes.NewReader(r.body))
		if err != nil {
			return id, err
		}
		if r.ctype != "" {
			req.Header.Set("Content-Type", r.ctype)
		}
		if r.disposition != "" {
			req.Header.Set("Content-Disposition", r.disposition)
		}
		resp, err := c.Do(req)
		if err != nil {
			return id, fmt.Errorf("%s %s: %w", r.method, r.path, err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			return id, fmt.Errorf("%s %s: status %d", r.method, r.path, resp.StatusCode)
		}
	}
	return id, nil
}

// Statuses lists the statuses of the message (GET /api/statuses/{messageId}), oldest first.
func Statuses(ctx context.Context, c *http.Client, ipURL, messageID string) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ipURL+"/api/statuses/"+messageID, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("statuses of %s: status %d", messageID, resp.StatusCode)
	}
	var page struct {
		Content []struct {
			Status string `json:"status"`
		} `json:"content"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return nil, fmt.Errorf("statuses of %s: %w", messageID, err)
	}
	out := make([]string, 0, len(page.Content))
	for _, s := range page.Content {
		out = append(out, s.Status)
	}
	return out, nil
}

// Taken is one incoming message an archive system took from the in-queue.
type Taken struct {
	MessageID string
	Type      string
	// ASiC is what pop answered: the ASiC-E container, or nil when pop answered 204 (a receipt).
	ASiC []byte
}

// TakeIncoming takes the next incoming message the way an archive system does (spec ip-api §7.3–§7.5):
// peek (which locks it), pop, then delete. ok is false when peek found nothing (204). An error names
// the first request that was not answered as the spec says.
func TakeIncoming(ctx context.Context, c *http.Client, ipURL string) (m Taken, ok bool, err error) {
	do := func(method, path string) (int, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, method, ipURL+path, nil)
		if err != nil {
			return 0, nil, err
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
		}
		return resp.StatusCode, body, nil
	}
	status, body, err := do(http.MethodGet, "/api/messages/in/peek")
	if err != nil {
		return m, false, err
	}
	switch status {
	case http.StatusNoContent:
		return m, false, nil
	case http.StatusOK:
	default:
		return m, false, fmt.Errorf("peek: status %d: %.300s", status, body)
	}
	sbd, err := wire.ParseSBD(body)
	if err != nil {
		return m, false, fmt.Errorf("peek answered no SBD: %w", err)
	}
	m.MessageID, m.Type = sbd.MessageID(), string(sbd.Type())
	status, body, err = do(http.MethodGet, "/api/messages/in/pop/"+m.MessageID)
	if err != nil {
		return m, true, err
	}
	switch status {
	case http.StatusOK:
		m.ASiC = body
	case http.StatusNoContent:
	default:
		return m, true, fmt.Errorf("pop %s: status %d: %.300s", m.MessageID, status, body)
	}
	status, body, err = do(http.MethodDelete, "/api/messages/in/"+m.MessageID)
	if err != nil {
		return m, true, err
	}
	if status != http.StatusOK {
		return m, true, fmt.Errorf("delete %s: status %d: %.300s", m.MessageID, status, body)
	}
	return m, true, nil
}
