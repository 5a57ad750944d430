package dpf_test

import (
	"archive/zip"
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/dpf"
)

// TestSvarInnHostileInjection: a given zip is served encrypted as it is, with filmetadata naming its
// entries; a given download is served as it is.
func TestSvarInnHostileInjection(t *testing.T) {
	e := newEnv(t, nil)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range []string{"../../evil.pdf", "/tmp/evil.pdf"} {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte("evil"))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	hostileZip := buf.Bytes()
	if a := e.admin(http.MethodPost, "/inject", map[string]any{"sender": dpfOrg, "receiver": ipOrg, "zip": hostileZip}); a.status != 201 {
		t.Fatalf("inject zip: %d %s", a.status, a.body)
	}
	raw := []byte("not CMS")
	if a := e.admin(http.MethodPost, "/inject", map[string]any{"sender": dpfOrg, "receiver": ipOrg, "download": raw}); a.status != 201 {
		t.Fatalf("inject download: %d %s", a.status, a.body)
	}
	if a := e.admin(http.MethodPost, "/inject", map[string]any{"receiver": ipOrg, "download": raw, "corrupt": true}); a.status != 400 ||
		!strings.Contains(string(a.body), "at most one") {
		t.Errorf("download and corrupt: %d %s", a.status, a.body)
	}

	var list svarInnList
	e.svarInn(http.MethodGet, dpf.SvarInnListPath, ipOrg, "x").json(t, &list)
	if len(list) != 2 {
		t.Fatalf("list: %+v", list)
	}
	var names []string
	for _, f := range list[0].Filmetadata {
		names = append(names, f.Filnavn)
	}
	if diff := cmp.Diff([]string{"../../evil.pdf", "/tmp/evil.pdf"}, names); diff != "" {
		t.Errorf("filmetadata (-want +got):\n%s", diff)
	}
	d := e.svarInn(http.MethodGet, list[0].DownloadURL, ipOrg, "x")
	plain, err := dokumentpakke.Decrypt(d.body, cred(t, ipOrg).Key)
	if d.status != 200 || err != nil || !bytes.Equal(plain, hostileZip) {
		t.Errorf("zip download: %d %v, same zip %v", d.status, err, bytes.Equal(plain, hostileZip))
	}
	if d := e.svarInn(http.MethodGet, list[1].DownloadURL, ipOrg, "x"); d.status != 200 || !bytes.Equal(d.body, raw) {
		t.Errorf("raw download: %d %q", d.status, d.body)
	}
}
