package dpf

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

func zipOf(t testing.TB, entries ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.Create(e[0])
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(e[1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// bombOf is a zip of one entry that declares size bytes and holds garbage compressed data.
func bombOf(t testing.TB, name string, size uint64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	junk := bytes.Repeat([]byte{0xff}, 64)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CompressedSize64: uint64(len(junk)), UncompressedSize64: size})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(junk)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestUnzip(t *testing.T) {
	t.Parallel()
	meta := []SvarInnFil{{Filnavn: "b.pdf", Mimetype: "application/pdf"}, {Filnavn: "a.txt", Mimetype: "text/plain"}}
	files, err := unzip(zipOf(t, [2]string{"a.txt", "A"}, [2]string{"extra.bin", "X"}, [2]string{"b.pdf", "B"}), meta, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	want := []dokumentpakke.File{{Name: "b.pdf", MimeType: "application/pdf", Content: []byte("B")},
		{Name: "a.txt", MimeType: "text/plain", Content: []byte("A")},
		{Name: "extra.bin", MimeType: "application/octet-stream", Content: []byte("X")}}
	if d := cmp.Diff(want, files); d != "" {
		t.Fatalf("files in filmetadata order (-want +got):\n%s", d)
	}
}

func TestUnzipRefuses(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("0", 4096)
	for _, tc := range []struct {
		name string
		data []byte
		meta []SvarInnFil
		want string
	}{
		{"not a zip", []byte("PK? no"), nil, "not a ZIP"},
		{"path traversal", zipOf(t, [2]string{"../../etc/passwd", "x"}), nil, "not a plain file name"},
		{"directory in name", zipOf(t, [2]string{"dir/a.pdf", "x"}), nil, "not a plain file name"},
		{"backslash", zipOf(t, [2]string{`..\a.pdf`, "x"}), nil, "not a plain file name"},
		{"control character", zipOf(t, [2]string{"a\x00.pdf", "x"}), nil, "not a plain file name"},
		{"an arkivmelding.xml of its own", zipOf(t, [2]string{"arkivmelding.xml", "x"}), nil, "not a plain file name"},
		{"twice the same name", zipOf(t, [2]string{"a.pdf", "x"}, [2]string{"a.pdf", "y"}), nil, "twice"},
		{"a file filmetadata names is missing", zipOf(t, [2]string{"a.pdf", "x"}), []SvarInnFil{{Filnavn: "b.pdf"}}, "does not hold"},
		{"unpacks beyond the limit (zip bomb)", zipOf(t, [2]string{"a.pdf", big}), nil, "more than 1024 bytes"},
		// Garbage compressed bytes: only a refusal before inflating gives this error.
		{"declares more than the limit (zip bomb, not inflated)", bombOf(t, "a.pdf", 2<<30), nil, "declare more than 1024 bytes"},
		{"empty", zipOf(t), nil, "no files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := unzip(tc.data, tc.meta, 1024)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestArkivmeldingFromSparseAndOddForsendelser(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, wire.Oslo())
	files := []dokumentpakke.File{{Name: "a.pdf", MimeType: "application/pdf"}}
	for _, tc := range []struct {
		name, json string
		want       []string // offentligTittel, journalposttype, journalstatus, journaldato, journalaar, saksaar
	}{
		{"everything null", `{"id":"x","tittel":null,"metadataFraAvleverendeSystem":{"saksaar":null,"journaldato":null}}`,
			[]string{"", "Inngående dokument", "Reservert dokument", "", "", ""}},
		{"numbers as strings, dates as epoch millis", `{"id":"x","tittel":"T","metadataFraAvleverendeSystem":{"saksaar":"2016",
			"journalaar":2016,"journalposttype":"U","journalstatus":"F","journaldato":"1458514800000"}}`,
			[]string{"T", "Utgående dokument", "Ferdigstilt fra saksbehandler", "2016-03-21", "2016", "2016"}},
		{"a date before Christ and junk numbers", `{"id":"x","tittel":"T","metadataFraAvleverendeSystem":{"saksaar":"tjue",
			"journaldato":-62198755200000}}`,
			[]string{"T", "Inngående dokument", "Reservert dokument", "", "", ""}},
		{"from a citizen (eDialog)", `{"id":"x","tittel":"Klage","svarSendesTil":{"fnr":"01017012345"}}`,
			[]string{"Klage (eDialog fra 01017012345)", "Inngående dokument", "Reservert dokument", "", "", ""}},
		{"title from metadata", `{"id":"x","metadataFraAvleverendeSystem":{"tittel":"Fra metadata"}}`,
			[]string{"Fra metadata", "Inngående dokument", "Reservert dokument", "", "", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f SvarInnForsendelse
			if err := json.Unmarshal([]byte(tc.json), &f); err != nil {
				t.Fatal(err)
			}
			raw, err := Arkivmelding(&f, files, now)
			if err != nil {
				t.Fatal(err)
			}
			am, err := wire.ParseArkivmelding(bytes.NewReader(raw), 1<<20)
			if err != nil {
				t.Fatalf("the generated arkivmelding.xml does not read back: %v\n%s", err, raw)
			}
			jp, err := am.Journalpost()
			if err != nil {
				t.Fatal(err)
			}
			got := []string{jp.OffentligTittel, jp.Journalposttype, jp.Journalstatus, jp.Journaldato, jp.Journalaar, am.Saksmappe().Saksaar}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestSBDFallsBackWhenSvarInnNamesNoSender(t *testing.T) {
	t.Parallel()
	r := New(Options{}).Receiver(nil)
	var f SvarInnForsendelse
	_ = json.Unmarshal([]byte(`{"id":"81264cfa-1ba5-4fb5-a95d-48c824ed3bbb","svarSendesTil":{"orgnr":null},"mottaker":{"orgnr":"123"}}`), &f)
	sbd := r.sbd(&f, ipOrg, time.Now())
	if got := []string{sbd.SenderIdentifier(), sbd.ReceiverIdentifier()}; !cmp.Equal(got, []string{"0192:" + DefaultFallbackSenderOrgnr, "0192:" + ipOrg}) {
		t.Fatalf("sender, receiver = %v", got)
	}
}

func TestDownloadURLStaysOnSvarInn(t *testing.T) {
	t.Parallel()
	r := New(Options{SvarInnURL: "http://svarinn.test/tjenester/svarinn"}).Receiver(nil)
	for raw, want := range map[string]string{
		"":                                   "http://svarinn.test/tjenester/svarinn/mottaker/forsendelse/id1",
		"mottaker/forsendelse/id1":           "http://svarinn.test/tjenester/svarinn/mottaker/forsendelse/id1",
		"http://svarinn.test/x/forsendelse/": "http://svarinn.test/x/forsendelse/",
		"http://evil.test/steal":             "error",
		"//evil.test/steal":                  "error",
	} {
		got, err := r.downloadURL(raw, "id1")
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("downloadURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

// FuzzUnzip feeds SvarInn downloads (after decryption) to unzip: it must never panic and never accept
// a name that is not a plain file name.
func FuzzUnzip(f *testing.F) {
	f.Add(zipOf(f, [2]string{"a.pdf", "x"}), "a.pdf")
	f.Add(zipOf(f, [2]string{"../a.pdf", "x"}), "")
	f.Add([]byte("PK\x03\x04junk"), "b")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		files, err := unzip(data, []SvarInnFil{{Filnavn: name}}, 1<<16)
		if err != nil {
			return
		}
		for _, file := range files {
			if !plainName(file.Name) {
				t.Fatalf("accepted %q", file.Name)
			}
		}
	})
}

// FuzzSvarInnForsendelse feeds hentNyeForsendelser elements to the conversion: it must never panic, and
// what it writes must read back.
func FuzzSvarInnForsendelse(f *testing.F) {
	f.Add(`{"id":"81264cfa-1ba5-4fb5-a95d-48c824ed3bbb","tittel":"Test4","date":1553183240681,"svarSendesTil":{"orgnr":"910229028"},
		"metadataFraAvleverendeSystem":{"sakssekvensnummer":1,"journaldato":"1458514800000","ekstraMetadata":[{"key":"k","value":"v"}]}}`)
	f.Add(`{"id":1,"tittel":{"a":1}}`)
	f.Add(`{"metadataFraAvleverendeSystem":{"journaldato":"9999999999999999999999"}}`)
	f.Fuzz(func(t *testing.T, s string) {
		var sf SvarInnForsendelse
		if json.Unmarshal([]byte(s), &sf) != nil {
			return
		}
		raw, err := Arkivmelding(&sf, []dokumentpakke.File{{Name: "a.pdf"}}, time.Unix(0, 0))
		if err != nil {
			return
		}
		if _, err := wire.ParseArkivmelding(bytes.NewReader(raw), 1<<20); err != nil {
			t.Fatalf("generated arkivmelding.xml does not read back: %v\n%s", err, raw)
		}
	})
}
