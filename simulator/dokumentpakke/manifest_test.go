package dokumentpakke_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
)

func TestBuildManifest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		m    dokumentpakke.Manifest
		want string
	}{
		{
			name: "as the IP writes it",
			m: dokumentpakke.Manifest{Mottaker: "0192:910075918", Avsender: "0192:910077473",
				Hoveddokument: &dokumentpakke.ManifestDocument{Href: "arkivmelding.xml", Mime: "application/xml"}},
			want: `<?xml version="1.0" encoding="UTF-8"?>
<manifest>
    <mottaker>
        <organisasjon authority="iso6523-actorid-upis">0192:910075918</organisasjon>
    </mottaker>
    <avsender>
        <organisasjon authority="iso6523-actorid-upis">0192:910077473</organisasjon>
    </avsender>
    <hoveddokument href="arkivmelding.xml" mime="application/xml">
        <tittel lang="no">Hoveddokument</tittel>
    </hoveddokument>
</manifest>
`,
		},
		{
			name: "bare orgnr, person receiver, no primary document",
			m:    dokumentpakke.Manifest{Mottaker: "01017012345", Avsender: "910077473"},
			want: `<?xml version="1.0" encoding="UTF-8"?>
<manifest>
    <mottaker>
        <person>01017012345</person>
    </mottaker>
    <avsender>
        <organisasjon authority="iso6523-actorid-upis">0192:910077473</organisasjon>
    </avsender>
</manifest>
`,
		},
		{
			name: "attachments, escaping",
			m: dokumentpakke.Manifest{Mottaker: "0192:910075918:part", Avsender: "0192:910077473",
				Hoveddokument: &dokumentpakke.ManifestDocument{Href: "a&b.pdf", Mime: "application/pdf", Title: "Brev <1>", Lang: "nn"},
				Vedlegg:       []dokumentpakke.ManifestDocument{{Href: "v.txt", Mime: "text/plain", Title: "Vedlegg", Lang: "no"}}},
			want: `<?xml version="1.0" encoding="UTF-8"?>
<manifest>
    <mottaker>
        <organisasjon authority="iso6523-actorid-upis">0192:910075918:part</organisasjon>
    </mottaker>
    <avsender>
        <organisasjon authority="iso6523-actorid-upis">0192:910077473</organisasjon>
    </avsender>
    <hoveddokument href="a&amp;b.pdf" mime="application/pdf">
        <tittel lang="nn">Brev &lt;1&gt;</tittel>
    </hoveddokument>
    <vedlegg href="v.txt" mime="text/plain">
        <tittel lang="no">Vedlegg</tittel>
    </vedlegg>
</manifest>
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := dokumentpakke.BuildManifest(tt.m)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			back, err := dokumentpakke.ParseManifest(got)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.m
			if len(want.Mottaker) == 9 {
				want.Mottaker = "0192:" + want.Mottaker
			}
			if len(want.Avsender) == 9 {
				want.Avsender = "0192:" + want.Avsender
			}
			if h := want.Hoveddokument; h != nil && h.Title == "" {
				want.Hoveddokument = &dokumentpakke.ManifestDocument{Href: h.Href, Mime: h.Mime, Title: "Hoveddokument", Lang: "no"}
			}
			if diff := cmp.Diff(&want, back); diff != "" {
				t.Errorf("ParseManifest (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildManifestInvalid(t *testing.T) {
	t.Parallel()
	doc := &dokumentpakke.ManifestDocument{Href: "a.xml", Mime: "application/xml"}
	tests := []struct {
		name string
		m    dokumentpakke.Manifest
	}{
		{"no mottaker", dokumentpakke.Manifest{Avsender: "0192:910077473", Hoveddokument: doc}},
		{"no avsender", dokumentpakke.Manifest{Mottaker: "0192:910075918", Hoveddokument: doc}},
		{"junk identifier", dokumentpakke.Manifest{Mottaker: "abc", Avsender: "0192:910077473"}},
		{"document without href", dokumentpakke.Manifest{Mottaker: "0192:910075918", Avsender: "0192:910077473",
			Hoveddokument: &dokumentpakke.ManifestDocument{Mime: "application/xml"}}},
		{"attachment without mime", dokumentpakke.Manifest{Mottaker: "0192:910075918", Avsender: "0192:910077473",
			Vedlegg: []dokumentpakke.ManifestDocument{{Href: "a"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := dokumentpakke.BuildManifest(tt.m); !errors.Is(err, dokumentpakke.ErrInvalidInput) {
				t.Errorf("err = %v, want ErrInvalidInput", err)
			}
		})
	}
}

func TestParseManifest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data []byte
		want *dokumentpakke.Manifest
		err  error
	}{
		{
			name: "JAXB output (testdata)",
			data: readFile(t, filepath.Join("testdata", "asic", "src", "manifest.xml")),
			want: &dokumentpakke.Manifest{Mottaker: "0192:910075918", Avsender: "0192:910077473",
				Hoveddokument: &dokumentpakke.ManifestDocument{Href: "arkivmelding.xml", Mime: "application/xml", Title: "Hoveddokument", Lang: "no"}},
		},
		{name: "not XML", data: []byte("{}"), err: dokumentpakke.ErrManifest},
		{name: "no parties", data: []byte("<manifest/>"), err: dokumentpakke.ErrManifest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := dokumentpakke.ParseManifest(tt.data)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
