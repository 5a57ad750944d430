package dpi_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/efm-harness/efm-harness/simulator/dpi"
)

// FuzzSend: the send endpoint never answers 5xx (nor panics), whatever the multipart body.
func FuzzSend(f *testing.F) {
	e := newEnv(f, nil)
	b := build(f, spec{})
	ct, body := multipartBody(b.jws, b.cms)
	f.Add(ct, body)
	f.Add(ct, body[:len(body)/3])
	f.Add("multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"forretningsmelding\"\r\n\r\na.b.c\r\n--x\r\nContent-Disposition: form-data; name=\"dokumentpakke\"\r\n\r\nabc\r\n--x--"))
	f.Add("multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"forretningsmelding\"\r\n\r\n\r\n--x\r\nContent-Disposition: form-data; name=\"forretningsmelding\"\r\n\r\n\r\n--x--"))
	f.Add("multipart/mixed; boundary=\"", []byte("--"))
	client := e.ts.Client()
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		req, err := http.NewRequest(http.MethodPost, e.ts.URL+dpi.DefaultBasePath+"/messages/out?kanal=k", bytes.NewReader(body))
		if err != nil {
			t.Skip()
		}
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", "Bearer "+b.token)
		resp, err := client.Do(req)
		if err != nil {
			t.Skip() // e.g. a content type that is not a valid header value
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%d %s", resp.StatusCode, out)
		}
	})
}

// FuzzForretningsmelding: whatever the forretningsmelding part holds (a JWS of any payload, or not a
// JWS), corner 2 answers 4xx or 200 and never 5xx.
func FuzzForretningsmelding(f *testing.F) {
	e := newEnv(f, nil)
	b := build(f, spec{})
	f.Add([]byte(b.jws), false)
	f.Add([]byte(`{"standardBusinessDocument":{"standardBusinessDocumentHeader":{},"digital":{}}}`), true)
	f.Add([]byte(`{"standardBusinessDocument":{"standardBusinessDocumentHeader":{"documentIdentification":{"type":"utskrift"}},"utskrift":{"mottaker":{}}}}`), true)
	f.Add([]byte(`{"standardBusinessDocument":{"standardBusinessDocumentHeader":{"sender":[{}],"receiver":[null],"businessScope":{"scope":[{"type":"ConversationId"}]},"documentIdentification":{"type":"digital"}},"digital":{"varsler":{"epostvarsel":{}}}}}`), true)
	f.Add([]byte("eyJhbGciOiJSUzI1NiJ9.e30.AAAA"), false)
	sc := cred(f, senderOrg)
	client := e.ts.Client()
	f.Fuzz(func(t *testing.T, data []byte, sign bool) {
		jws := string(data)
		if sign {
			var err error
			if jws, err = signPayload(data, sc); err != nil {
				t.Skip()
			}
		}
		ct, body := multipartBody(jws, b.cms)
		req, _ := http.NewRequest(http.MethodPost, e.ts.URL+dpi.DefaultBasePath+"/messages/out?kanal=k", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+b.token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%d %s", resp.StatusCode, out)
		}
	})
}
