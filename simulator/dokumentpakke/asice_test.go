package dokumentpakke_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
)

func TestCreateReadRoundTrip(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 200_000) // 3.2 MB, compresses well
	tests := []struct {
		name  string
		files []dokumentpakke.File
		opts  dokumentpakke.ReadOptions
	}{
		{"typical package", sampleFiles(t), dokumentpakke.ReadOptions{}},
		{"typical package, chain checked", sampleFiles(t), dokumentpakke.ReadOptions{Roots: p.roots}},
		{"one empty file", []dokumentpakke.File{{Name: "a", MimeType: "application/octet-stream", Content: []byte{}}}, dokumentpakke.ReadOptions{}},
		{"large file", []dokumentpakke.File{{Name: "big.bin", MimeType: "application/octet-stream", Content: big}}, dokumentpakke.ReadOptions{}},
		{"order is kept", []dokumentpakke.File{
			{Name: "z.xml", MimeType: "application/xml", Content: []byte("<z/>")},
			{Name: "a.xml", MimeType: "text/xml", Content: []byte("<a/>")},
			{Name: "m.json", MimeType: "application/json", Content: []byte("{}")},
		}, dokumentpakke.ReadOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			asic, err := dokumentpakke.CreateASiCE(tt.files, p.sender())
			if err != nil {
				t.Fatalf("CreateASiCE: %v", err)
			}
			c, err := dokumentpakke.ReadASiCE(asic, tt.opts)
			if err != nil {
				t.Fatalf("ReadASiCE: %v", err)
			}
			if diff := cmp.Diff(tt.files, c.Files, cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) })); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			if !c.Signed || c.SignerCertificate == nil || !c.SignerCertificate.Equal(p.signer) {
				t.Errorf("Signed = %v, signer = %v; want the test signer", c.Signed, c.SignerCertificate)
			}
			if f := c.File(tt.files[0].Name); f == nil || f.MimeType != tt.files[0].MimeType {
				t.Errorf("File(%q) = %+v", tt.files[0].Name, f)
			}
		})
	}
}

func TestCreateASiCELayout(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	files := sampleFiles(t)
	asic, err := dokumentpakke.CreateASiCE(files, p.sender())
	if err != nil {
		t.Fatal(err)
	}

	// The mimetype entry: first local header, STORED, no data descriptor, no extra field, content at 38.
	le := binary.LittleEndian
	if got := string(asic[:4]); got != "PK\x03\x04" {
		t.Fatalf("signature %q", got)
	}
	flags, method, nameLen, extraLen := le.Uint16(asic[6:]), le.Uint16(asic[8:]), le.Uint16(asic[26:]), le.Uint16(asic[28:])
	size := le.Uint32(asic[18:])
	mt := dokumentpakke.MimeTypeASiCE
	if flags&0x8 != 0 || method != 0 || nameLen != 8 || extraLen != 0 || size != uint32(len(mt)) ||
		string(asic[30:38]) != "mimetype" || string(asic[38:38+len(mt)]) != mt {
		t.Errorf("mimetype header: flags %#x method %d name %d extra %d size %d name %q content %q",
			flags, method, nameLen, extraLen, size, asic[30:38], asic[38:38+len(mt)])
	}

	entries := unzip(t, asic)
	var names []string
	for _, e := range entries {
		names = append(names, e.name)
	}
	sigName := names[len(names)-2]
	if !regexp.MustCompile(`^META-INF/signature-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.p7s$`).MatchString(sigName) {
		t.Errorf("signature entry %q", sigName)
	}
	want := []string{"mimetype"}
	for _, f := range files {
		want = append(want, f.Name)
	}
	want = append(want, "META-INF/ASiCManifest.xml", sigName, "META-INF/manifest.xml")
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	for _, e := range entries[1:] {
		if e.stored {
			t.Errorf("%s is stored, want deflated", e.name)
		}
	}

	// The ASiC manifest.
	var am struct {
		XMLName xml.Name
		Sig     struct {
			URI      string `xml:"URI,attr"`
			MimeType string `xml:"MimeType,attr"`
		} `xml:"http://uri.etsi.org/02918/v1.2.1# SigReference"`
		Refs []struct {
			URI      string `xml:"URI,attr"`
			MimeType string `xml:"MimeType,attr"`
			Method   struct {
				Algorithm string `xml:"Algorithm,attr"`
			} `xml:"http://www.w3.org/2000/09/xmldsig# DigestMethod"`
			Value string `xml:"http://www.w3.org/2000/09/xmldsig# DigestValue"`
		} `xml:"http://uri.etsi.org/02918/v1.2.1# DataObjectReference"`
	}
	manifest := entries[len(entries)-3].data
	if err := xml.Unmarshal(manifest, &am); err != nil {
		t.Fatal(err)
	}
	if am.XMLName.Space != "http://uri.etsi.org/02918/v1.2.1#" || am.XMLName.Local != "ASiCManifest" {
		t.Errorf("root %v", am.XMLName)
	}
	if am.Sig.URI != sigName || am.Sig.MimeType != "application/x-pkcs7-signature" {
		t.Errorf("SigReference %+v", am.Sig)
	}
	if len(am.Refs) != len(files) {
		t.Fatalf("%d references, want %d", len(am.Refs), len(files))
	}
	for i, f := range files {
		sum := sha256.Sum256(f.Content)
		r := am.Refs[i]
		if r.URI != f.Name || r.MimeType != f.MimeType || r.Method.Algorithm != "http://www.w3.org/2001/04/xmlenc#sha256" ||
			r.Value != base64.StdEncoding.EncodeToString(sum[:]) {
			t.Errorf("reference %d = %+v", i, r)
		}
	}
	if !strings.Contains(string(manifest), "<SigReference") || strings.Index(string(manifest), "<SigReference") > strings.Index(string(manifest), "<DataObjectReference") {
		t.Errorf("SigReference must come first:\n%s", manifest)
	}

	// The OASIS manifest.
	var om struct {
		Entries []struct {
			Path string `xml:"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0 full-path,attr"`
			Type string `xml:"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0 media-type,attr"`
		} `xml:"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0 file-entry"`
	}
	if err := xml.Unmarshal(entries[len(entries)-1].data, &om); err != nil {
		t.Fatal(err)
	}
	wantOM := []string{"/=application/vnd.etsi.asic-e+zip"}
	for _, f := range files {
		wantOM = append(wantOM, f.Name+"="+f.MimeType)
	}
	var gotOM []string
	for _, e := range om.Entries {
		gotOM = append(gotOM, e.Path+"="+e.Type)
	}
	if diff := cmp.Diff(wantOM, gotOM); diff != "" {
		t.Errorf("OASIS manifest (-want +got):\n%s", diff)
	}
}

func TestCreateASiCEInvalid(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	ok := dokumentpakke.File{Name: "a.xml", MimeType: "application/xml", Content: []byte("<a/>")}
	named := func(name string) []dokumentpakke.File {
		return []dokumentpakke.File{{Name: name, MimeType: "text/plain", Content: []byte("x")}}
	}
	tests := []struct {
		name   string
		files  []dokumentpakke.File
		signer dokumentpakke.Signer
	}{
		{"no files", nil, p.sender()},
		{"META-INF file", named("META-INF/x.xml"), p.sender()},
		{"meta-inf in lower case", named("meta-inf/x.xml"), p.sender()},
		{"mimetype", named("mimetype"), p.sender()},
		{"empty name", named(""), p.sender()},
		{"directory", named("dir/"), p.sender()},
		{"absolute", named("/etc/passwd"), p.sender()},
		{"backslash", named(`a\b`), p.sender()},
		{"duplicate", []dokumentpakke.File{ok, ok}, p.sender()},
		{"no MIME type", []dokumentpakke.File{{Name: "a", Content: []byte("x")}}, p.sender()},
		{"no key", []dokumentpakke.File{ok}, dokumentpakke.Signer{Certificate: p.signer}},
		{"no certificate", []dokumentpakke.File{ok}, dokumentpakke.Signer{Key: p.signerKey}},
		{"key does not match certificate", []dokumentpakke.File{ok}, dokumentpakke.Signer{Key: p.recipKey, Certificate: p.signer}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := dokumentpakke.CreateASiCE(tt.files, tt.signer); !errors.Is(err, dokumentpakke.ErrInvalidInput) {
				t.Errorf("err = %v, want ErrInvalidInput", err)
			}
		})
	}
}

// TestReadASiCEChecks changes a valid container and checks that ReadASiCE refuses it for the right reason.
func TestReadASiCEChecks(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	asic, err := dokumentpakke.CreateASiCE(sampleFiles(t), p.sender())
	if err != nil {
		t.Fatal(err)
	}
	orig := unzip(t, asic)
	const (
		iMimetype = 0
		iFirst    = 1
	)
	iManifest, iSig, iOASIS := len(orig)-3, len(orig)-2, len(orig)-1
	otherSig, err := dokumentpakke.CreateASiCE([]dokumentpakke.File{{Name: "x", MimeType: "text/plain", Content: []byte("x")}}, p.sender())
	if err != nil {
		t.Fatal(err)
	}
	foreignSig := unzip(t, otherSig)[3].data // a valid signature over another manifest

	edit := func(f func(e []entry) []entry) []byte {
		e := slices.Clone(orig)
		return rezip(t, f(e))
	}
	set := func(i int, data []byte) func([]entry) []entry {
		return func(e []entry) []entry { e[i].data = data; return e }
	}
	tests := []struct {
		name string
		data []byte
		opts dokumentpakke.ReadOptions
		want error
	}{
		{"data object changed", edit(set(iFirst+1, []byte("<tampered/>"))), dokumentpakke.ReadOptions{}, dokumentpakke.ErrDigestMismatch},
		{"manifest changed", edit(set(iManifest, bytes.Replace(orig[iManifest].data, []byte("application/pdf"), []byte("application/zip"), 1))), dokumentpakke.ReadOptions{}, dokumentpakke.ErrBadSignature},
		{"manifest digests recomputed", edit(func(e []entry) []entry {
			e[iFirst+1].data = []byte("<evil/>")
			old, nw := sha256.Sum256(orig[iFirst+1].data), sha256.Sum256(e[iFirst+1].data)
			e[iManifest].data = bytes.Replace(e[iManifest].data, []byte(base64.StdEncoding.EncodeToString(old[:])), []byte(base64.StdEncoding.EncodeToString(nw[:])), 1)
			return e
		}), dokumentpakke.ReadOptions{}, dokumentpakke.ErrBadSignature},
		{"signature of another manifest", edit(set(iSig, foreignSig)), dokumentpakke.ReadOptions{}, dokumentpakke.ErrBadSignature},
		{"signature garbage", edit(set(iSig, []byte("not CMS"))), dokumentpakke.ReadOptions{}, dokumentpakke.ErrBadSignature},
		{"signature missing", edit(func(e []entry) []entry { return slices.Delete(e, iSig, iSig+1) }), dokumentpakke.ReadOptions{}, dokumentpakke.ErrBadSignature},
		{"signature renamed", edit(func(e []entry) []entry { e[iSig].name = "META-INF/signature.p7s"; return e }), dokumentpakke.ReadOptions{}, dokumentpakke.ErrBadSignature},
		{"extra signature", edit(func(e []entry) []entry {
			return slices.Insert(e, iOASIS, entry{name: "META-INF/signature-2.p7s", data: orig[iSig].data})
		}), dokumentpakke.ReadOptions{}, dokumentpakke.ErrBadSignature},
		{"unsigned", edit(func(e []entry) []entry { return slices.Delete(e, iManifest, iSig+1) }), dokumentpakke.ReadOptions{}, dokumentpakke.ErrUnsigned},
		{"XAdES only, not allowed", edit(func(e []entry) []entry {
			e = slices.Delete(e, iManifest, iSig+1)
			return slices.Insert(e, 1, entry{name: "META-INF/signatures.xml", data: []byte("<XAdESSignatures/>")})
		}), dokumentpakke.ReadOptions{}, dokumentpakke.ErrUnsigned},
		{"unknown META-INF file", edit(func(e []entry) []entry {
			return append(e, entry{name: "META-INF/extra.txt", data: []byte("x")})
		}), dokumentpakke.ReadOptions{}, dokumentpakke.ErrUnexpectedEntry},
		{"unknown META-INF file, unsigned allowed", edit(func(e []entry) []entry {
			return append(e, entry{name: "META-INF/container.xml", data: []byte("x")})
		}), dokumentpakke.ReadOptions{AllowUnsigned: true}, dokumentpakke.ErrUnexpectedEntry},
		{"META-INF directory entry", edit(func(e []entry) []entry {
			return slices.Insert(e, iManifest, entry{name: "META-INF/"})
		}), dokumentpakke.ReadOptions{}, dokumentpakke.ErrUnexpectedEntry},
		{"second ASiC manifest", edit(func(e []entry) []entry {
			return append(e, entry{name: "META-INF/ASiCManifest2.xml", data: orig[iManifest].data})
		}), dokumentpakke.ReadOptions{}, dokumentpakke.ErrUnexpectedEntry},
		{"duplicate entry", edit(func(e []entry) []entry { return slices.Insert(e, 2, orig[iFirst]) }), dokumentpakke.ReadOptions{}, dokumentpakke.ErrUnexpectedEntry},
		{"second mimetype", edit(func(e []entry) []entry { return append(e, orig[iMimetype]) }), dokumentpakke.ReadOptions{}, dokumentpakke.ErrUnexpectedEntry},
		{"unlisted data object", edit(func(e []entry) []entry {
			return slices.Insert(e, 2, entry{name: "smuggled.txt", data: []byte("x")})
		}), dokumentpakke.ReadOptions{}, dokumentpakke.ErrManifest},
		{"listed data object missing", edit(func(e []entry) []entry { return slices.Delete(e, iFirst, iFirst+1) }), dokumentpakke.ReadOptions{}, dokumentpakke.ErrManifest},
		{"OASIS manifest malformed", edit(set(iOASIS, []byte("<manifest"))), dokumentpakke.ReadOptions{}, dokumentpakke.ErrManifest},
		{"mimetype not first", edit(func(e []entry) []entry { e[0], e[1] = e[1], e[0]; return e }), dokumentpakke.ReadOptions{}, dokumentpakke.ErrNotASiC},
		{"mimetype missing", edit(func(e []entry) []entry { return e[1:] }), dokumentpakke.ReadOptions{}, dokumentpakke.ErrNotASiC},
		{"mimetype wrong", edit(set(iMimetype, []byte("application/vnd.etsi.asic-s+zip"))), dokumentpakke.ReadOptions{}, dokumentpakke.ErrNotASiC},
		{"mimetype deflated", edit(func(e []entry) []entry { e[0].stored = false; return e }), dokumentpakke.ReadOptions{}, dokumentpakke.ErrNotASiC},
		{"not a zip", []byte("PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x08\x00\x00\x00mimetype"), dokumentpakke.ReadOptions{}, dokumentpakke.ErrNotASiC},
		{"empty", nil, dokumentpakke.ReadOptions{}, dokumentpakke.ErrNotASiC},
		{"untrusted signer", asic, dokumentpakke.ReadOptions{Roots: p.unrelatedRoots}, dokumentpakke.ErrUntrustedSigner},
		{"too many entries", asic, dokumentpakke.ReadOptions{MaxEntries: 5}, dokumentpakke.ErrTooLarge},
		{"too large", asic, dokumentpakke.ReadOptions{MaxSize: 50_000}, dokumentpakke.ErrTooLarge},
		{"zip bomb", rezip(t, []entry{orig[0], {name: "bomb", data: make([]byte, 20<<20)}}), dokumentpakke.ReadOptions{MaxSize: 1 << 20}, dokumentpakke.ErrTooLarge},
		{"metadata file too large", edit(func(e []entry) []entry {
			return slices.Insert(e, iManifest, entry{name: "META-INF/manifest.xml", data: make([]byte, dokumentpakke.MaxMetadataSize+1)})
		}), dokumentpakke.ReadOptions{}, dokumentpakke.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := dokumentpakke.ReadASiCE(tt.data, tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v (container %+v)", err, tt.want, c)
			}
		})
	}
}

func TestReadASiCEUnsignedAllowed(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	files := sampleFiles(t)
	asic, err := dokumentpakke.CreateASiCE(files, p.sender())
	if err != nil {
		t.Fatal(err)
	}
	e := unzip(t, asic)
	n := len(e)
	withXAdES := slices.Concat(e[:n-3], []entry{{name: "META-INF/signatures.xml", data: []byte("<XAdESSignatures/>")}}, e[n-1:])
	noOASIS := e[:n-3]
	tests := []struct {
		name      string
		data      []byte
		wantTypes []string
	}{
		{"XAdES, types from META-INF/manifest.xml", rezip(t, withXAdES), nil},
		{"no metadata at all", rezip(t, noOASIS), []string{"application/octet-stream"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := dokumentpakke.ReadASiCE(tt.data, dokumentpakke.ReadOptions{AllowUnsigned: true})
			if err != nil {
				t.Fatal(err)
			}
			if c.Signed || c.SignerCertificate != nil {
				t.Errorf("Signed = %v, signer %v; want unsigned", c.Signed, c.SignerCertificate)
			}
			want := slices.Clone(files)
			for i := range want {
				if tt.wantTypes != nil {
					want[i].MimeType = tt.wantTypes[0]
				}
			}
			if diff := cmp.Diff(want, c.Files, cmp.Comparer(bytes.Equal)); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadExternalASiCE reads a container made without this package: Info-ZIP, an openssl SHA1withRSA
// signature like commons-asic's, a JAXB-style manifest (testdata/gen.sh).
func TestReadExternalASiCE(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	src := filepath.Join("testdata", "asic", "src")
	want := []dokumentpakke.File{
		{Name: "manifest.xml", MimeType: "application/xml", Content: readFile(t, filepath.Join(src, "manifest.xml"))},
		{Name: "arkivmelding.xml", MimeType: "application/xml", Content: readFile(t, filepath.Join(src, "arkivmelding.xml"))},
		{Name: "vedlegg.txt", MimeType: "text/plain", Content: readFile(t, filepath.Join(src, "vedlegg.txt"))},
	}
	asic := readFile(t, filepath.Join("testdata", "asic", "external.asice"))
	cms := readFile(t, filepath.Join("testdata", "asic", "external.asice.cms"))
	tests := []struct {
		name string
		open func() (*dokumentpakke.Container, error)
	}{
		{"ReadASiCE", func() (*dokumentpakke.Container, error) {
			return dokumentpakke.ReadASiCE(asic, dokumentpakke.ReadOptions{})
		}},
		{"ReadASiCE with roots", func() (*dokumentpakke.Container, error) {
			return dokumentpakke.ReadASiCE(asic, dokumentpakke.ReadOptions{Roots: p.roots})
		}},
		{"Open (openssl BER OAEP envelope)", func() (*dokumentpakke.Container, error) {
			return dokumentpakke.Open(cms, p.recipKey, dokumentpakke.ReadOptions{Roots: p.roots})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := tt.open()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, c.Files, cmp.Comparer(bytes.Equal)); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			if !c.Signed || !c.SignerCertificate.Equal(p.signer) {
				t.Errorf("Signed = %v, signer = %v", c.Signed, c.SignerCertificate.Subject)
			}
		})
	}
}

func TestPlainASiCEReadsBackUnsigned(t *testing.T) {
	files := []dokumentpakke.File{{Name: "manifest.xml", MimeType: "application/xml", Content: []byte("<m/>")},
		{Name: "brev.pdf", MimeType: "application/pdf", Content: []byte("%PDF-1.4 brev")}}
	raw, err := dokumentpakke.CreatePlainASiCE(files)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dokumentpakke.ReadASiCE(raw, dokumentpakke.ReadOptions{}); err == nil {
		t.Error("a plain container passed as signed")
	}
	c, err := dokumentpakke.ReadASiCE(raw, dokumentpakke.ReadOptions{AllowUnsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.Signed || len(c.Files) != 2 || string(c.File("brev.pdf").Content) != "%PDF-1.4 brev" {
		t.Errorf("read back signed=%v files=%d", c.Signed, len(c.Files))
	}
}
