package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseSBD checks that ParseSBD never panics, returns only *SBDError, and that whatever parses
// survives a round trip: marshal and parse again gives an equal document, and a second round trip gives
// the same bytes.
func FuzzParseSBD(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "sbd", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(unordered))
	f.Add([]byte(`{"standardBusinessDocumentHeader":{"documentIdentification":{"type":"avtalt"}},"avtalt":{"content":null}}`))
	f.Add([]byte(`{"standardBusinessDocumentHeader":{"documentIdentification":{"type":"Print"}},"print":{"printinstruksjoner":null}}`))
	f.Add([]byte(`{"digital":{},"standardBusinessDocumentHeader":{"documentIdentification":{"type":"digital","creationDateAndTime":"2024-10-27T02:30:00"}}}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		sbd, err := ParseSBD(data)
		if err != nil {
			var se *SBDError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not *SBDError: %v", err, err)
			}
			return
		}
		_ = sbd.Validate()
		if _, err := json.Marshal(sbd); err != nil {
			t.Fatalf("json.Marshal parsed document: %v", err)
		}
		// Compare without HTML escaping: json.Marshal rewrites '<' in Avtalt.Content as \u003c, which is
		// the same JSON but not the same bytes.
		out, err := encodeNoEscape(sbd)
		if err != nil {
			t.Fatalf("marshal parsed document: %v", err)
		}
		again, err := ParseSBD(out)
		if err != nil {
			t.Fatalf("parse marshalled document: %v\n%s", err, out)
		}
		if diff := cmp.Diff(sbd, again, sbdOpts); diff != "" {
			t.Fatalf("round trip mismatch (-want +got):\n%s\ninput: %s\noutput: %s", diff, data, out)
		}
		out2, err := encodeNoEscape(again)
		if err != nil {
			t.Fatalf("marshal re-parsed document: %v", err)
		}
		third, err := ParseSBD(out2)
		if err != nil {
			t.Fatalf("parse second output: %v", err)
		}
		out3, err := encodeNoEscape(third)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out2, out3) {
			t.Fatalf("output is not a fixed point:\n%s\n%s", out2, out3)
		}
	})
}

func encodeNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return b.Bytes(), err
}
