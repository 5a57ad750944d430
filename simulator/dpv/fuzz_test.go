package dpv_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/efm-harness/efm-harness/simulator/dpv"
)

// FuzzUpload posts arbitrary multipart bodies (and content types) to the upload endpoint: never a 5xx or
// a panic, every refusal a ProblemDetails body, every success an InitializeCorrespondencesResponseExt
// whose correspondences the admin API shows.
func FuzzUpload(f *testing.F) {
	e := newEnv(f, func(o *dpv.Options) { o.MaxCorrespondences = 50; o.MaxUploadSize = 1 << 20; o.MaxStoredBytes = 1 << 20 })
	tok := e.altinnToken(f, sender, dpv.DefaultScope)
	h := e.srv.Handler()
	files := []file{{"a.pdf", "a"}, {"b.txt", "b"}}
	full, ct := multipartBody(f, fullFields(messageID(1), files), files)
	f.Add(full, ct)
	minimal, ct2 := multipartBody(f, []kv{{"recipients", dpvOrg}, {"correspondence.resourceId", dpv.ResourceAdministration},
		{"correspondence.sendersReference", "r"}, {"correspondence.content.messageTitle", "t"}, {"correspondence.content.messageBody", "b"}}, nil)
	f.Add(minimal, ct2)
	odd, ct3 := multipartBody(f, []kv{{"recipients[999999999999999999999]", "x"}, {"correspondence.content.attachments[2].fileName", "a"},
		{"correspondence.propertyList[", "x"}, {"", "y"}, {"correspondence.notification.sendReminder", "maybe"}}, []file{{"", ""}})
	f.Add(odd, ct3)
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"recipients\"\r\n\r\n"), "multipart/form-data; boundary=b")
	f.Add([]byte("x"), "multipart/form-data; boundary=")
	f.Add([]byte{}, "")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		req := httptest.NewRequest(http.MethodPost, dpv.UploadPath, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var p dpv.Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != rec.Code || p.Title == "" ||
				rec.Header().Get("Content-Type") != dpv.ContentTypeProblem {
				t.Fatalf("status %d without a problem body: %s", rec.Code, rec.Body)
			}
			return
		}
		var resp dpv.InitializeResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || len(resp.Correspondences) == 0 {
			t.Fatalf("status %d without correspondences: %s", rec.Code, rec.Body)
		}
		for _, c := range resp.Correspondences {
			for _, q := range []string{"", "?content=true"} {
				r := httptest.NewRecorder()
				h.ServeHTTP(r, httptest.NewRequest(http.MethodGet, "/__admin/messages/"+c.CorrespondenceID+q, nil))
				if r.Code >= 500 {
					t.Fatalf("admin view: %d %s", r.Code, r.Body)
				}
			}
		}
	})
}
