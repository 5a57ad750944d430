package dpo_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/dpo"
)

func (e *env) injectRaw(t testing.TB, body any) dpo.RawInjectResult {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	a := e.adminCall(t, http.MethodPost, "/inject/raw", string(b))
	var res dpo.RawInjectResult
	if a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &res) != nil || res.FileTransferID == "" {
		t.Fatalf("inject/raw %.200s: %d %s", b, a.status, a.body)
	}
	return res
}

// TestInjectRaw: a package is stored byte for byte; sbd.json and asic.zip are zipped as they are; a
// container is encrypted to the receiver's certificate and nothing else.
func TestInjectRaw(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	notJSON := []byte(`{"standardBusinessDocumentHeader":`)

	pkg := []byte("PK\x03\x04 not a zip")
	res := e.injectRaw(t, map[string]any{"sender": orgA, "receiver": "0192:" + orgB, "package": pkg})
	a := e.do(t, http.MethodGet, "/broker/api/v1/filetransfer/"+res.FileTransferID+"/download", e.altinnToken(t, orgB, dpo.ScopeRead), "", nil)
	if a.status != http.StatusOK || a.body != string(pkg) || res.Size != len(pkg) {
		t.Errorf("package: %d %q (size %d)", a.status, a.body, res.Size)
	}

	res = e.injectRaw(t, map[string]any{"sender": orgA, "receiver": orgB, "sbd": notJSON, "asic": []byte("no CMS")})
	want := map[string][]byte{"sbd.json": notJSON, "asic.zip": []byte("no CMS")}
	if diff := cmp.Diff(want, e.fetch(t, orgB, res.FileTransferID)); diff != "" {
		t.Errorf("sbd and asic (-want +got):\n%s", diff)
	}

	container := []byte("not an ASiC-E at all")
	res = e.injectRaw(t, map[string]any{"sender": orgA, "receiver": orgB, "sbd": notJSON, "container": container})
	got := e.fetch(t, orgB, res.FileTransferID)
	plain, err := dokumentpakke.Decrypt(got["asic.zip"], credential(t, orgB).Key)
	if err != nil || !bytes.Equal(plain, container) || !bytes.Equal(got["sbd.json"], notJSON) {
		t.Errorf("container: %q %v; sbd.json %q", plain, err, got["sbd.json"])
	}

	for _, tr := range e.srv.Transfers() {
		if tr.Status != "Published" || tr.Sender != "0192:"+orgA || tr.Recipients[0].Recipient != "0192:"+orgB {
			t.Errorf("transfer %+v", tr)
		}
	}
}

func TestInjectRawErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const sb = `"sbd":"e30="`
	for _, tt := range []struct {
		name, body, want string
	}{
		{"no sender", `{"receiver":"` + orgB + `",` + sb + `}`, "sender"},
		{"no receiver", `{"sender":"` + orgA + `",` + sb + `}`, "receiver"},
		{"nothing", `{"sender":"` + orgA + `","receiver":"` + orgB + `"}`, "package or sbd is required"},
		{"package and sbd", `{"sender":"` + orgA + `","receiver":"` + orgB + `","package":"UEs=",` + sb + `}`, "either package"},
		{"container and asic", `{"sender":"` + orgA + `","receiver":"` + orgB + `",` + sb + `,"asic":"eA==","container":"eA=="}`, "not both"},
		{"unknown receiver certificate", `{"sender":"` + orgA + `","receiver":"999999995",` + sb + `,"container":"eA=="}`, "no certificate"},
		{"bad base64", `{"sender":"` + orgA + `","receiver":"` + orgB + `","sbd":"***"}`, "inject/raw"},
		{"unknown field", `{"sender":"` + orgA + `","receiver":"` + orgB + `",` + sb + `,"colour":"red"}`, "colour"},
	} {
		a := e.adminCall(t, http.MethodPost, "/inject/raw", tt.body)
		if a.status != http.StatusBadRequest || !strings.Contains(a.body, tt.want) {
			t.Errorf("%s: %d %s, want 400 naming %q", tt.name, a.status, a.body, tt.want)
		}
	}
	if got := e.srv.Transfers(); len(got) != 0 {
		t.Errorf("refused injections stored transfers: %+v", got)
	}
}
