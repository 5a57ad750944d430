package sample

import (
	"bytes"
	"regexp"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestArkivmeldingRoundTrip(t *testing.T) {
	t.Parallel()
	b, err := BuildArkivmelding(ArkivmeldingSpec{Documents: []Document{
		{Filename: "vedlegg.pdf"}, {Filename: "brev.pdf", Primary: true}, {Filename: "kart.pdf"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReferencedFiles(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"brev.pdf", "vedlegg.pdf", "kart.pdf"}, got); diff != "" {
		t.Errorf("referenced files (-want +got):\n%s", diff)
	}
	for _, want := range []string{`xmlns="` + ArkivmeldingNamespace + `"`, `xsi:type="saksmappe"`, `xsi:type="journalpost"`, "<antallFiler>3</antallFiler>"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("arkivmelding lacks %s", want)
		}
	}
	if _, err := BuildArkivmelding(ArkivmeldingSpec{}); err == nil {
		t.Error("an arkivmelding without documents was built")
	}
}

func TestPDF(t *testing.T) {
	t.Parallel()
	b := PDF("Hei (verden) æøå")
	if !bytes.HasPrefix(b, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(b, []byte("%%EOF\n")) {
		t.Fatalf("not a PDF: %q", b[:20])
	}
	// Every xref offset must point at "N 0 obj".
	xref := bytes.Index(b, []byte("\nxref\n")) + 1
	m := regexp.MustCompile(`(\d{10}) 00000 n `).FindAllSubmatch(b[xref:], -1)
	if len(m) != 5 {
		t.Fatalf("xref has %d entries, want 5", len(m))
	}
	for i, e := range m {
		off, _ := strconv.Atoi(string(e[1]))
		if want := strconv.Itoa(i+1) + " 0 obj"; !bytes.HasPrefix(b[off:], []byte(want)) {
			t.Errorf("xref entry %d points at %q, want %q", i+1, b[off:off+8], want)
		}
	}
	if !bytes.Contains(b, []byte(`(Hei \(verden\) ???) Tj`)) {
		t.Errorf("text not escaped as expected")
	}
}
