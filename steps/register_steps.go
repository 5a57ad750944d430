package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/cucumber/godog"
	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
)

func registerRegisterSteps(sc *godog.ScenarioContext) {
	sc.Step(`^I look up "([^"]*)" in the address register(?: for process "([^"]*)")?(?: with security level (\d+))?( without print)?$`, lookUp)
	sc.Step(`^I look up "([^"]*)" in the address register for process "([^"]*)" asking for a signed answer$`, lookUpSigned)
	sc.Step(`^the records are "([^"]*)"$`, theRecordsAre)
	sc.Step(`^the record for process "([^"]*)" is "([^"]*)"$`, theRecordForProcessIs)
	sc.Step(`^every record carries a certificate$`, everyRecordCarriesACertificate)
	sc.Step(`^the answer is a JWS that verifies with the key from the address register's /jwk$`, answerVerifiesWithJWK)
	sc.Step(`^its payload is the plain JSON answer$`, payloadIsPlainAnswer)
	sc.Step(`^the JWS with its payload changed does not verify$`, tamperedJWSFails)
	sc.Step(`^I register in the address register:$`, registerRecord)
	sc.Step(`^I remove "([^"]*)" from the address register$`, removeRecord)
}

// kinds names the records of an address-register answer: the service identifier, or PRINT for a DPI record
// with fysiskPost, joined by commas.
func kinds(records []any) string {
	var out []string
	for _, r := range records {
		m, _ := r.(map[string]any)
		svc, _ := jsonPath(m, "service.identifier")
		k := stringOf(svc)
		if fp, ok := m["fysiskPost"].(bool); ok && fp && k == "DPI" {
			k = "PRINT"
		}
		out = append(out, k)
	}
	return strings.Join(out, ",")
}

func lookupURL(w *world, who, process, level string, noPrint bool) (string, error) {
	id, err := w.expand(who)
	if err != nil {
		return "", err
	}
	u := w.cfg.SRURL + "/identifier/" + url.PathEscape(id)
	if process != "" {
		u += "/process/" + process
	}
	q := url.Values{}
	if level != "" {
		q.Set("securityLevel", level)
	}
	if noPrint {
		q.Set("print", "false")
	}
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u, nil
}

func lookUp(ctx context.Context, who, process, level, noPrint string) error {
	w := getWorld(ctx)
	u, err := lookupURL(w, who, process, level, noPrint != "")
	if err != nil {
		return err
	}
	_, err = w.do(ctx, http.MethodGet, u, http.Header{"Accept": {"application/json"}}, nil)
	return err
}

func lookUpSigned(ctx context.Context, who, process string) error {
	w := getWorld(ctx)
	u, err := lookupURL(w, who, process, "", false)
	if err != nil {
		return err
	}
	plain, err := w.do(ctx, http.MethodGet, u, http.Header{"Accept": {"application/json"}}, nil)
	if err != nil {
		return err
	}
	w.plain = plain
	// The real IP asks exactly like this when difi.move.sign.enable=true.
	_, err = w.do(ctx, http.MethodGet, u, http.Header{"Accept": {"application/jose, application/json"}}, nil)
	return err
}

func records(w *world) ([]any, error) {
	r, err := w.lastResponse()
	if err != nil {
		return nil, err
	}
	if r.Status != http.StatusOK {
		return nil, fmt.Errorf("expected 200 from the address register, got %d: %.300s", r.Status, r.Body)
	}
	v, err := decodeJSON(r.Body)
	if err != nil {
		return nil, err
	}
	recs, err := jsonPath(v, "serviceRecords")
	if err != nil {
		return nil, err
	}
	list, ok := recs.([]any)
	if !ok {
		return nil, fmt.Errorf("serviceRecords is not an array")
	}
	return list, nil
}

func theRecordsAre(ctx context.Context, want string) error {
	recs, err := records(getWorld(ctx))
	if err != nil {
		return err
	}
	if got := kinds(recs); got != want {
		return fmt.Errorf("records are %q, want %q", got, want)
	}
	return nil
}

func theRecordForProcessIs(ctx context.Context, process, want string) error {
	recs, err := records(getWorld(ctx))
	if err != nil {
		return err
	}
	var matching []any
	for _, r := range recs {
		if m, ok := r.(map[string]any); ok && m["process"] == process {
			matching = append(matching, r)
		}
	}
	if got := kinds(matching); got != want {
		return fmt.Errorf("records for %s are %q, want %q", process, got, want)
	}
	return nil
}

func everyRecordCarriesACertificate(ctx context.Context) error {
	recs, err := records(getWorld(ctx))
	if err != nil {
		return err
	}
	for i, r := range recs {
		m, _ := r.(map[string]any)
		pem, ok := m["pemCertificate"].(string)
		if !ok || !strings.Contains(pem, "BEGIN CERTIFICATE") {
			return fmt.Errorf("record %d (%v) has pemCertificate %v", i, m["process"], m["pemCertificate"])
		}
	}
	return nil
}

func fetchJWKS(ctx context.Context, w *world, base string) (*jose.JSONWebKeySet, error) {
	r, err := w.do(ctx, http.MethodGet, base+"/jwk", nil, nil)
	if err != nil {
		return nil, err
	}
	if r.Status != http.StatusOK {
		return nil, fmt.Errorf("GET /jwk: %d", r.Status)
	}
	var ks jose.JSONWebKeySet
	if err := json.Unmarshal(r.Body, &ks); err != nil {
		return nil, fmt.Errorf("GET /jwk: %w", err)
	}
	if len(ks.Keys) == 0 {
		return nil, fmt.Errorf("GET /jwk: no keys")
	}
	return &ks, nil
}

// verifyLikeTheIP verifies a compact JWS as the real IP does: with the first RSA key of the JWK set.
func verifyLikeTheIP(compact string, ks *jose.JSONWebKeySet) ([]byte, error) {
	obj, err := jose.ParseSigned(compact, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, fmt.Errorf("not a compact RS256 JWS: %w", err)
	}
	for _, k := range ks.Keys {
		if k.Algorithm == "" || k.Algorithm == string(jose.RS256) {
			return obj.Verify(k.Key)
		}
	}
	return nil, fmt.Errorf("no RSA key in the JWK set")
}

func answerVerifiesWithJWK(ctx context.Context) error {
	w := getWorld(ctx)
	signed, err := w.lastResponse()
	if err != nil {
		return err
	}
	if signed.Status != http.StatusOK {
		return fmt.Errorf("signed lookup answered %d: %.300s", signed.Status, signed.Body)
	}
	if ct := signed.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/jose") {
		return fmt.Errorf("Content-Type is %q, want application/jose", ct)
	}
	ks, err := fetchJWKS(ctx, w, w.cfg.SRURL)
	if err != nil {
		return err
	}
	payload, err := verifyLikeTheIP(string(signed.Body), ks)
	if err != nil {
		return err
	}
	w.last = &response{Status: signed.Status, Header: signed.Header, Body: signed.Body}
	w.resolved = map[string]string{"payload": string(payload)}
	return nil
}

func payloadIsPlainAnswer(ctx context.Context) error {
	w := getWorld(ctx)
	if w.plain == nil {
		return fmt.Errorf("no plain answer to compare with")
	}
	payload := w.resolved["payload"]
	if !bytes.Equal([]byte(payload), bytes.TrimSpace(w.plain.Body)) && payload != string(w.plain.Body) {
		a, errA := decodeJSON([]byte(payload))
		b, errB := decodeJSON(w.plain.Body)
		if errA != nil || errB != nil {
			return fmt.Errorf("payload or plain answer is not JSON: %v %v", errA, errB)
		}
		if diff := cmp.Diff(b, a); diff != "" {
			return fmt.Errorf("signed payload differs from the plain answer (-plain +signed):\n%s", diff)
		}
	}
	return nil
}

func tamperedJWSFails(ctx context.Context) error {
	w := getWorld(ctx)
	parts := strings.Split(string(w.last.Body), ".")
	if len(parts) != 3 {
		return fmt.Errorf("last answer is not a compact JWS")
	}
	payload := []byte(w.resolved["payload"])
	changed := bytes.Replace(payload, []byte(`"DP`), []byte(`"XP`), 1)
	if bytes.Equal(changed, payload) {
		changed = append(payload, ' ')
	}
	forged := parts[0] + "." + b64(changed) + "." + parts[2]
	ks, err := fetchJWKS(ctx, w, w.cfg.SRURL)
	if err != nil {
		return err
	}
	if _, err := verifyLikeTheIP(forged, ks); err == nil {
		return fmt.Errorf("a JWS with a changed payload verified")
	}
	return nil
}

func registerRecord(ctx context.Context, doc *godog.DocString) error {
	w := getWorld(ctx)
	body, err := w.expand(doc.Content)
	if err != nil {
		return err
	}
	var reg struct {
		Identifier string `json:"identifier"`
	}
	if err := json.Unmarshal([]byte(body), &reg); err != nil || reg.Identifier == "" {
		return fmt.Errorf("registration must be JSON with an identifier: %v", err)
	}
	w.faulted["sr-records"] = true
	return w.admin("sr").PutRecord(ctx, reg.Identifier, json.RawMessage(body))
}

func removeRecord(ctx context.Context, who string) error {
	w := getWorld(ctx)
	id, err := w.expand(who)
	if err != nil {
		return err
	}
	w.faulted["sr-records"] = true
	return w.admin("sr").DeleteRecord(ctx, id)
}
