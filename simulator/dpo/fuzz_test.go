package dpo_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/efm-harness/efm-harness/simulator/dpo"
)

// serve runs one request through the handler in-process.
func serve(h http.Handler, method, path, token, contentType string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// checkAnswer fails on a 5xx, and on a refusal that is not a ProblemDetails body of its status.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, input any) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("status %d for %q: %s", rec.Code, input, rec.Body)
	}
	if rec.Code >= 400 {
		var p dpo.Problem
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != rec.Code || p.Title == "" ||
			rec.Header().Get("Content-Type") != dpo.ContentTypeProblem {
			t.Fatalf("status %d for %q without a problem body: %s", rec.Code, input, rec.Body)
		}
		return
	}
	var id dpo.FileTransferID
	if err := json.Unmarshal(rec.Body.Bytes(), &id); err != nil || id.FileTransferID == "" {
		t.Fatalf("status %d for %q without a fileTransferId: %s", rec.Code, input, rec.Body)
	}
}

// FuzzInitialize posts arbitrary bodies and content types to the initialise endpoint: never a 5xx or a
// panic, every refusal a ProblemDetails body.
func FuzzInitialize(f *testing.F) {
	e := newEnv(f, func(o *dpo.Options) { o.MaxTransfers = 50 })
	token := e.altinnToken(f, orgA, dpo.ScopeWrite)
	h := e.srv.Handler()
	f.Add(initBody(orgA, orgB), "application/json")
	f.Add([]byte(`{"fileName":"sbd.zip","resourceId":"urn:altinn:resource:eformidling-dpo-meldingsutveksling","sender":"urn:altinn:organization:identifier-no:`+orgA+`","recipients":["0192:`+orgB+`"],"propertyList":{"k":"v"},"checksum":"7c4f29407893c334a6cb7a87bf045c0d","disableVirusScan":true}`), "application/json; charset=utf-8")
	f.Add([]byte(`{"fileName":null,"recipients":[null,7],"propertyList":{"":""},"checksum":"`+"\u00e6"+`"}`), "text/json")
	f.Add([]byte(`[]`), "")
	f.Add([]byte(`{"sendersFileTransferReference":""}`), "application/*+json")
	f.Add([]byte("\x00\xff"), "application/json; charset")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		checkAnswer(t, serve(h, http.MethodPost, "/broker/api/v1/filetransfer/", token, contentType, body), body)
	})
}

// FuzzUpload uploads arbitrary bodies with arbitrary content types to fresh transfers.
func FuzzUpload(f *testing.F) {
	e := newEnv(f, func(o *dpo.Options) { o.MaxTransfers = 50; o.MaxUploadSize = 1 << 16; o.MaxStoredBytes = 1 << 20 })
	token := e.altinnToken(f, orgA, dpo.ScopeWrite)
	h := e.srv.Handler()
	f.Add([]byte("PK\x03\x04"), "application/octet-stream")
	f.Add([]byte{}, "application/octet-stream")
	f.Add([]byte("x"), "")
	f.Add([]byte("x"), "multipart/form-data; boundary=")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		rec := serve(h, http.MethodPost, "/broker/api/v1/filetransfer", token, "application/json", initBody(orgA, orgB))
		var id dpo.FileTransferID
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &id) != nil {
			t.Fatalf("initialize: %d %s", rec.Code, rec.Body)
		}
		checkAnswer(t, serve(h, http.MethodPost, "/broker/api/v1/filetransfer/"+id.FileTransferID+"/upload", token, contentType, body), body)
	})
}

// FuzzInspect uploads arbitrary files and decodes them on the admin API: never a panic or a 5xx.
func FuzzInspect(f *testing.F) {
	e := newEnv(f, func(o *dpo.Options) { o.MaxTransfers = 20; o.MaxStoredBytes = 1 << 20 })
	token := e.altinnToken(f, orgA, dpo.ScopeWrite)
	h := e.srv.Handler()
	f.Add(zipOf(f, "sbd.json", []byte(`{}`), "asic.zip", []byte("x")))
	f.Add(zipOf(f, "sbd.json", initBody(orgA, orgB)))
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18))))
	f.Fuzz(func(t *testing.T, payload []byte) {
		if len(payload) == 0 {
			return
		}
		rec := serve(h, http.MethodPost, "/broker/api/v1/filetransfer", token, "application/json", initBody(orgA, orgB))
		var id dpo.FileTransferID
		if json.Unmarshal(rec.Body.Bytes(), &id) != nil {
			t.Fatalf("initialize: %d %s", rec.Code, rec.Body)
		}
		if rec := serve(h, http.MethodPost, "/broker/api/v1/filetransfer/"+id.FileTransferID+"/upload", token, "", payload); rec.Code != http.StatusOK {
			t.Fatalf("upload: %d %s", rec.Code, rec.Body)
		}
		for _, p := range []string{"", "?content=true", "/files/sbd.json", "/files/a.xml"} {
			if rec := serve(h, http.MethodGet, "/__admin/messages/"+id.FileTransferID+p, "", "", nil); rec.Code >= 500 {
				t.Fatalf("inspect %s: %d %s", p, rec.Code, rec.Body)
			}
		}
	})
}
