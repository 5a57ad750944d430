package sr

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzHandler sends arbitrary identifiers, processes, queries, Accept headers and admin bodies to the
// register: whatever comes in, the answer is never a 5xx and the handler never panics.
func FuzzHandler(f *testing.F) {
	for _, s := range [][4]string{
		{"910075918", "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0", "securityLevel=4", "application/jose"},
		{"16828424401", "urn:no:difi:profile:digitalpost:vedtak:ver1.0", "print=false", "application/json"},
		{"0192:910075918:x:1", "urn:x", "securityLevel=x", "*/*"},
		{"her-id:1", "", "conversationId=%ZZ", ""},
		{"abc", "..", "print=maybe", "application/jose, application/json"},
	} {
		f.Add(s[0], s[1], s[2], s[3], `{"organization":{"name":"x","orgForm":"AS"}}`)
	}
	s, _, _ := newTestServer(f, nil)
	h := s.Handler()
	f.Fuzz(func(t *testing.T, id, process, query, accept, body string) {
		paths := []string{
			"/identifier/" + url.PathEscape(id),
			"/identifier/" + url.PathEscape(id) + "/process/" + process,
			"/info/" + url.PathEscape(id),
			"/virksert/" + url.PathEscape(id),
		}
		for _, p := range paths {
			target := p
			if query != "" {
				target += "?" + query
			}
			req, err := http.NewRequest(http.MethodGet, "http://sr"+target, nil)
			if err != nil {
				continue // not a request a client could send
			}
			req.Header.Set("Accept", accept)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("GET %s (Accept %q) answered %d: %s", target, accept, rec.Code, rec.Body)
			}
		}
		req, err := http.NewRequest(http.MethodPut, "http://sr/__admin/records/"+url.PathEscape(id), strings.NewReader(body))
		if err != nil {
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("PUT record %q answered %d: %s", id, rec.Code, rec.Body)
		}
		s.Admin().Reset()
	})
}
