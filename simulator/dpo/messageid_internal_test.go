package dpo

import (
	"archive/zip"
	"bytes"
	"testing"
)

func TestPackageMessageID(t *testing.T) {
	pkg := func(name, body string) []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		w, _ := zw.Create(name)
		_, _ = w.Write([]byte(body))
		_ = zw.Close()
		return b.Bytes()
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"an sbd.zip", pkg("sbd.json", `{"standardBusinessDocumentHeader":{"documentIdentification":{"instanceIdentifier":"6b6c7d21-3b4e-457f-afb7-5ac126ab8cda"}}}`),
			"6b6c7d21-3b4e-457f-afb7-5ac126ab8cda"},
		{"no sbd.json", pkg("other.json", `{}`), ""},
		{"sbd.json not JSON", pkg("sbd.json", `<xml/>`), ""},
		{"not a zip", []byte("plain bytes"), ""},
	}
	for _, tt := range tests {
		if got := packageMessageID(tt.data); got != tt.want {
			t.Errorf("%s: packageMessageID = %q, want %q", tt.name, got, tt.want)
		}
	}
}
