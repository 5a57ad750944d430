package dpf_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/efm-harness/efm-harness/fixtures"
)

func jsonBytes(v any) ([]byte, error) { return json.Marshal(v) }

// FuzzSend: the send endpoint never answers 5xx, whatever the multipart body.
func FuzzSend(f *testing.F) {
	e := newEnv(f, nil)
	tok := token(f, ipOrg, "ks:fiks")
	ct, body := multipartSend(f, forsendelseJSON("f", dpfOrg, twoFiles), twoFiles, cred(f, fixtures.CredSvarUt).Certificate)
	f.Add(ct, body)
	f.Add(ct, []byte("--x\r\nContent-Disposition: form-data; name=\"forsendelse\"\r\n\r\n{\"mottaker\":{\"orgnr\":[1]}}\r\n--x--"))
	f.Add("multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"filer_0\"\r\n\r\nabc\r\n--x--"))
	f.Add("multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"forsendelse\"\r\n\r\n{\"tittel\":1,\"mottaker\":{\"orgnr\":\"1\"},\"kryptert\":false}\r\n--x\r\nContent-Disposition: form-data; name=\"filer_0\"\r\n\r\nabc\r\n--x--"))
	client := e.ts.Client()
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		req, err := http.NewRequest(http.MethodPost, e.ts.URL+"/api/v3/kontoer/k/forsendelser/organisasjon", bytes.NewReader(body))
		if err != nil {
			t.Skip()
		}
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("IntegrasjonId", integID)
		req.Header.Set("IntegrasjonPassord", integPwd)
		resp, err := client.Do(req)
		if err != nil {
			t.Skip() // e.g. a content type that is not a valid header value
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
	})
}
