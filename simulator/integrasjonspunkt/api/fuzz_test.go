package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

// serveDirect runs a request through the API's handler without a network client, so that header values
// a client would refuse to send still reach it.
func serveDirect(a *API, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	return rec
}

// FuzzCreate posts arbitrary bodies to POST /api/messages/out: the answer is never a server error and
// every error has the Spring error shape.
func FuzzCreate(f *testing.F) {
	e := newEnv(f)
	valid, _ := json.Marshal(sbdFor(f, wire.TypeArkivmelding, dpoOrg))
	f.Add(valid)
	f.Add([]byte(`{}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"standardBusinessDocumentHeader":{"documentIdentification":{"type":"strange"}},"strange":{}}`))
	f.Add([]byte(`{"standardBusinessDocumentHeader":{"headerVersion":"1.0","documentIdentification":{"type":"print","standard":"x::print","typeVersion":"1"},"businessScope":{"scope":[{"type":"ConversationId"}]}},"print":{}}`))
	f.Add([]byte(`{"standardBusinessDocumentHeader":{"headerVersion":"1.0","receiver":[{"identifier":{"value":"0192:` + dpoOrg + `","authority":"iso6523-actorid-upis"}}],"documentIdentification":{"type":"arkivmelding","standard":"urn:no:difi:arkivmelding:xsd::arkivmelding","typeVersion":"2.0"},"businessScope":{"scope":[{"type":"ConversationId","identifier":"urn:no:difi:profile:arkivmelding:administrasjon:ver1.0","scopeInformation":[{}]}]}},"arkivmelding":{"sikkerhetsnivaa":9}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/api/messages/out", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := serveDirect(e.api, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		if rec.Code != http.StatusOK {
			var eb wire.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Status != rec.Code || eb.Exception == "" {
				t.Fatalf("error body for %q: %v %s", body, err, rec.Body)
			}
		}
	})
}

// FuzzUpload uploads with arbitrary Content-Disposition and Content-Type headers: never a server error.
func FuzzUpload(f *testing.F) {
	e := newEnv(f)
	id := e.mustCreate(sbdFor(f, wire.TypeArkivmelding, dpoOrg)).MessageID()
	for _, cd := range []string{
		`attachment; name="Before The Law"; filename="before_the_law.txt"`,
		`attachment; filename*=UTF-8''bl%C3%A5b%C3%A6r.pdf`,
		`attachment; filename*=ISO-8859-1''%E6.txt; name*=UTF-8''x`,
		"attachment; filename=\"s\xf8knad.pdf\"",
		`attachment; filename`,
		`attachment; filename="a;b"; size=12`,
		`attachment; filename*=UTF-8''%`,
		`attachment; filename=arkivmelding.xml`,
		``,
	} {
		f.Add(cd, "application/pdf", []byte("x"))
	}
	f.Add(`attachment; filename=arkivmelding.xml`, "", []byte(`<arkivmelding><mappe/></arkivmelding>`))
	f.Fuzz(func(t *testing.T, disposition, contentType string, body []byte) {
		req := httptest.NewRequest(http.MethodPut, "/api/messages/out/"+id, bytes.NewReader(body))
		req.Header["Content-Disposition"] = []string{disposition}
		req.Header["Content-Type"] = []string{contentType}
		rec := serveDirect(e.api, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q / %q: %s", rec.Code, disposition, contentType, rec.Body)
		}
	})
}

// FuzzParseContentDisposition checks the parser never panics and that what it accepts has a type.
func FuzzParseContentDisposition(f *testing.F) {
	f.Add(`attachment; name="x"; filename*=UTF-8''a%20b`)
	f.Add(`form-data; name=sbd`)
	f.Fuzz(func(t *testing.T, header string) {
		cd, err := parseContentDisposition(header)
		if err == nil && cd.Type == "" {
			t.Fatalf("accepted %q without a type", header)
		}
	})
}
