package dpo_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/efm-harness/efm-harness/simulator/dpo"
)

// TestErrors: every refusal is a ProblemDetails body as ASP.NET Core writes it; a few are checked byte
// for byte.
func TestErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *dpo.Options) { o.MaxUploadSize = 16 })
	aWrite := e.altinnToken(t, orgA, dpo.ScopeWrite)
	bRead := e.altinnToken(t, orgB, dpo.ScopeRead)
	initialized := e.initialize(t, aWrite, "/broker/api/v1/filetransfer", initBody(orgA, orgB))
	published := e.initialize(t, aWrite, "/broker/api/v1/filetransfer", initBody(orgA, orgB))
	e.upload(t, aWrite, published, []byte("data"))
	withChecksum := e.initialize(t, aWrite, "/broker/api/v1/filetransfer",
		[]byte(`{"fileName":"f","resourceId":"`+dpo.DefaultResource+`","sender":"0192:`+orgA+`","recipients":["0192:`+orgB+`"],"checksum":"7c4f29407893c334a6cb7a87bf045c0d"}`))
	const unknown = "/broker/api/v1/filetransfer/5f0c7d2e-8a4e-4a57-9a43-2f7a2b3c4d5e"
	base := "/broker/api/v1/filetransfer"
	init := func(body string) []byte { return []byte(body) }
	validInit := `"fileName":"sbd.zip","resourceId":"` + dpo.DefaultResource + `","sender":"0192:` + orgA + `"`

	tests := []struct {
		name, method, path, token, contentType string
		body                                   []byte
		wantStatus                             int
		wantBody                               string // exact, when set
		wantInDetail                           string
	}{
		{name: "unknown id", method: http.MethodGet, path: unknown, token: bRead, wantStatus: 404,
			wantBody: `{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.5","title":"Not Found","status":404,"detail":"The requested file transfer was not found","code":"BRO-00001"}`},
		{name: "missing recipients", method: http.MethodPost, path: base, token: aWrite, contentType: "application/json",
			body: init(`{` + validInit + `}`), wantStatus: 400,
			wantBody: `{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"One or more validation errors occurred.","status":400,"detail":"Recipients: One or more recipients are required","errors":{"Recipients":["One or more recipients are required"]}}`},
		{name: "upload twice", method: http.MethodPost, path: base + "/" + published + "/upload", token: aWrite,
			contentType: "application/octet-stream", body: []byte("again"), wantStatus: 409,
			wantBody: `{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.10","title":"Conflict","status":409,"detail":"A file transfer has already been, or attempted to be, created. Create a new file transfer resource to try again.","code":"BRO-00004"}`},
		{name: "empty upload", method: http.MethodPost, path: base + "/" + initialized + "/upload", token: aWrite,
			contentType: "application/octet-stream", body: []byte{}, wantStatus: 400,
			wantBody: `{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"Bad Request","status":400,"detail":"The uploaded file is empty"}`},
		{name: "wrong resource", method: http.MethodPost, path: base, token: aWrite, contentType: "application/json",
			body: init(`{"fileName":"f","resourceId":"other","sender":"0192:` + orgA + `","recipients":["0192:` + orgB + `"]}`), wantStatus: 400,
			wantBody: `{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"Bad Request","status":400,"detail":"The resource has not been configured.","code":"BRO-00025"}`},
		{name: "malformed JSON", method: http.MethodPost, path: base, token: aWrite, contentType: "application/json",
			body: init(`{"fileName":`), wantStatus: 400, wantInDetail: "initializeExt: The initializeExt field is required."},
		{name: "wrong JSON type", method: http.MethodPost, path: base, token: aWrite, contentType: "application/json",
			body: init(`{"fileName":7}`), wantStatus: 400, wantInDetail: "$.fileName: The JSON value could not be converted to string"},
		{name: "recipients not an array", method: http.MethodPost, path: base, token: aWrite, contentType: "application/json",
			body: init(`{` + validInit + `,"recipients":"0192:` + orgB + `"}`), wantStatus: 400, wantInDetail: "$.recipients"},
		{name: "empty body", method: http.MethodPost, path: base, token: aWrite, contentType: "application/json",
			body: []byte{}, wantStatus: 400, wantInDetail: "A non-empty request body is required."},
		{name: "null recipients", method: http.MethodPost, path: base, token: aWrite, contentType: "application/json",
			body: init(`{` + validInit + `,"recipients":null}`), wantStatus: 400, wantInDetail: "The Recipients field is required."},
		{name: "bad recipient", method: http.MethodPost, path: base, token: aWrite, contentType: "application/json",
			body: init(`{` + validInit + `,"recipients":["` + orgB + `"]}`), wantStatus: 400, wantInDetail: "Each recipient should be on the form"},
		{name: "bad sender", method: http.MethodPost, path: base, token: aWrite, contentType: "application/json",
			body: init(`{"fileName":"f","resourceId":"r","sender":"` + orgA + `","recipients":["0192:` + orgB + `"]}`), wantStatus: 400,
			wantInDetail: "Sender: Organization numbers should be on the form"},
		{name: "everything missing", method: http.MethodPost, path: base, token: aWrite, contentType: "application/json",
			body: init(`{"fileName":""}`), wantStatus: 400,
			wantInDetail: "FileName: The FileName field is required.; Recipients: One or more recipients are required; ResourceId: The ResourceId field is required.; Sender: The Sender field is required."},
		{name: "long reference", method: http.MethodPost, path: base, token: aWrite, contentType: "application/json",
			body:       init(`{` + validInit + `,"recipients":["0192:` + orgB + `"],"sendersFileTransferReference":"` + strings.Repeat("r", 4097) + `"}`),
			wantStatus: 400, wantInDetail: "The field SendersFileTransferReference must be a string with a minimum length of 1 and a maximum length of 4096."},
		{name: "bad checksum", method: http.MethodPost, path: base, token: aWrite, contentType: "application/json",
			body: init(`{` + validInit + `,"recipients":["0192:` + orgB + `"],"checksum":"ABC"}`), wantStatus: 400, wantInDetail: "length of 32"},
		{name: "too many properties", method: http.MethodPost, path: base, token: aWrite, contentType: "application/json",
			body:       init(`{` + validInit + `,"recipients":["0192:` + orgB + `"],"propertyList":{"1":"","2":"","3":"","4":"","5":"","6":"","7":"","8":"","9":"","10":"","11":""}}`),
			wantStatus: 400, wantInDetail: "at most 10 properties"},
		{name: "init as XML", method: http.MethodPost, path: base, token: aWrite, contentType: "application/xml",
			body: initBody(orgA, orgB), wantStatus: 415},
		{name: "upload as JSON", method: http.MethodPost, path: base + "/" + initialized + "/upload", token: aWrite,
			contentType: "application/json", body: []byte("{}"), wantStatus: 415},
		{name: "upload too large", method: http.MethodPost, path: base + "/" + initialized + "/upload", token: aWrite,
			contentType: "application/octet-stream", body: []byte(strings.Repeat("x", 17)), wantStatus: 400,
			wantInDetail: "File size exceeds maximum"},
		{name: "checksum mismatch", method: http.MethodPost, path: base + "/" + withChecksum + "/upload", token: aWrite,
			contentType: "application/octet-stream", body: []byte("not it"), wantStatus: 400, wantInDetail: "did not match the checksum"},
		{name: "upload to an unknown id", method: http.MethodPost, path: unknown + "/upload", token: aWrite,
			contentType: "application/octet-stream", body: []byte("x"), wantStatus: 404},
		{name: "not a GUID", method: http.MethodGet, path: base + "/abc", token: bRead, wantStatus: 400,
			wantBody: `{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"One or more validation errors occurred.","status":400,"detail":"fileTransferId: The value 'abc' is not valid.","errors":{"fileTransferId":["The value 'abc' is not valid."]}}`},
		{name: "download before upload", method: http.MethodGet, path: base + "/" + initialized + "/download", token: bRead, wantStatus: 403,
			wantInDetail: "not ready for download"},
		{name: "confirm before upload", method: http.MethodPost, path: base + "/" + initialized + "/confirmdownload", token: bRead,
			wantStatus: 400, wantInDetail: "No file uploaded yet"},
		{name: "confirm before download", method: http.MethodPost, path: base + "/" + published + "/confirmdownload", token: bRead,
			wantStatus: 400, wantInDetail: "Cannot confirm before the files have been downloaded"},
		{name: "list without resourceId", method: http.MethodGet, path: base, token: bRead, wantStatus: 400,
			wantInDetail: "resourceId: The resourceId field is required."},
		{name: "list with another resource", method: http.MethodGet, path: base + "?resourceId=other", token: bRead, wantStatus: 400,
			wantInDetail: "The resource has not been configured."},
		{name: "list with a bad status", method: http.MethodGet, path: base + "?resourceId=" + dpo.DefaultResource + "&status=Sent&recipientStatus=x&from=y&orderAscending=1&role=z",
			token: bRead, wantStatus: 400,
			wantInDetail: "from: The value 'y' is not valid.; orderAscending: The value '1' is not valid.; recipientStatus: The value 'x' is not valid.; role: The value 'z' is not valid.; status: The value 'Sent' is not valid."},
		{name: "no such endpoint", method: http.MethodGet, path: "/broker/api/v1/nothing", token: bRead, wantStatus: 404},
		{name: "wrong method", method: http.MethodDelete, path: base + "/" + published, token: bRead, wantStatus: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.do(t, tt.method, tt.path, tt.token, tt.contentType, tt.body)
			if a.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", a.status, tt.wantStatus, a.body)
			}
			if !isProblem(a) || a.header.Get("Content-Type") != dpo.ContentTypeProblem {
				t.Errorf("not a problem: %s %s", a.header.Get("Content-Type"), a.body)
			}
			if tt.wantBody != "" && a.body != tt.wantBody {
				t.Errorf("body\n got %s\nwant %s", a.body, tt.wantBody)
			}
			if tt.wantInDetail != "" && !strings.Contains(a.body, tt.wantInDetail) {
				t.Errorf("body %s does not say %q", a.body, tt.wantInDetail)
			}
		})
	}
	// The empty and refused uploads left the transfer ready for a proper one.
	e.upload(t, aWrite, initialized, []byte("now"))
	if a := e.do(t, http.MethodPost, base+"/"+withChecksum+"/upload", aWrite, "application/octet-stream", []byte("right")); a.status != http.StatusOK {
		t.Errorf("upload with the right checksum: %d %s", a.status, a.body)
	}
}

func TestStatusFault(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	token := e.altinnToken(t, orgA, dpo.ScopeWrite)
	if a := e.do(t, http.MethodPut, "/__admin/faults", "", "application/json", []byte(`{"mode":"status","status":503,"count":1}`)); a.status != http.StatusOK {
		t.Fatalf("set fault: %d %s", a.status, a.body)
	}
	a := e.do(t, http.MethodPost, "/broker/api/v1/filetransfer/", token, "application/json", initBody(orgA, orgB))
	want := `{"type":"https://tools.ietf.org/html/rfc9110#section-15.6.4","title":"Service Unavailable","status":503,"detail":"Injected fault: 503 Service Unavailable"}`
	if a.status != http.StatusServiceUnavailable || a.body != want || a.header.Get("Content-Type") != dpo.ContentTypeProblem {
		t.Errorf("faulted: %d %s %s", a.status, a.header.Get("Content-Type"), a.body)
	}
}
