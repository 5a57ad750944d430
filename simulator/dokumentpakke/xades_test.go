package dokumentpakke_test

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
)

// xadesTime is a signing time with a zone offset and milliseconds, as the IP's JVM writes it.
var xadesTime = time.Date(2024, 5, 1, 12, 34, 56, 789_000_000, time.FixedZone("CEST", 2*60*60))

// dpiFiles is a DPI document package in the IP's order: the SDP manifest, the main document, attachments
// (with a space and non-ASCII characters in a name, a slash, and characters Java's URLEncoder treats
// differently from url.QueryEscape), the main document's metadata file.
func dpiFiles(t testing.TB) []dokumentpakke.File {
	t.Helper()
	files := sampleFiles(t)
	return append(files,
		dokumentpakke.File{Name: "a+b ~*(1).txt", MimeType: "text/plain", Content: []byte("plus tilde star")},
		dokumentpakke.File{Name: "metadata.xml", MimeType: "application/xml", Content: []byte("<metadata/>")},
	)
}

func createXAdES(t testing.TB, files []dokumentpakke.File, now time.Time) []byte {
	t.Helper()
	p := newPKI(t)
	asic, err := dokumentpakke.CreateASiCEXAdES(files, p.sender(), now)
	if err != nil {
		t.Fatalf("CreateASiCEXAdES: %v", err)
	}
	return asic
}

// signaturesXML returns META-INF/signatures.xml of a container.
func signaturesXML(t testing.TB, asic []byte) []byte {
	t.Helper()
	for _, e := range unzip(t, asic) {
		if e.name == dokumentpakke.XAdESSignaturesName {
			return e.data
		}
	}
	t.Fatal("no META-INF/signatures.xml")
	return nil
}

func TestCreateVerifyXAdESRoundTrip(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	tests := []struct {
		name  string
		files []dokumentpakke.File
		now   time.Time
		opts  dokumentpakke.ReadOptions
	}{
		{"DPI package", dpiFiles(t), xadesTime, dokumentpakke.ReadOptions{}},
		{"DPI package, chain checked at the signing time", dpiFiles(t), time.Now(), dokumentpakke.ReadOptions{Roots: p.roots}},
		{"one empty file", []dokumentpakke.File{{Name: "manifest.xml", MimeType: "application/xml", Content: []byte{}}}, xadesTime, dokumentpakke.ReadOptions{}},
		{"space and non-ASCII name", []dokumentpakke.File{{Name: "brev til Åse ø.pdf", MimeType: "application/pdf", Content: []byte("%PDF")}}, xadesTime, dokumentpakke.ReadOptions{}},
		{"MIME type with markup characters", []dokumentpakke.File{{Name: "x", MimeType: `text/plain; a="<&>"`, Content: []byte("x")}}, xadesTime.UTC(), dokumentpakke.ReadOptions{}},
		{"order is kept", []dokumentpakke.File{
			{Name: "z.xml", MimeType: "application/xml", Content: []byte("<z/>")},
			{Name: "a.xml", MimeType: "text/xml", Content: []byte("<a/>")},
		}, xadesTime, dokumentpakke.ReadOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			asic := createXAdES(t, tt.files, tt.now)
			c, err := dokumentpakke.ReadXAdES(asic, tt.opts)
			if err != nil {
				t.Fatalf("ReadXAdES: %v", err)
			}
			if diff := cmp.Diff(tt.files, c.Files, cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) })); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			if !c.Signed || c.SignerCertificate == nil || !c.SignerCertificate.Equal(p.signer) {
				t.Errorf("Signed = %v, signer = %v; want the test signer", c.Signed, c.SignerCertificate)
			}
			if _, err := dokumentpakke.VerifyXAdES(asic); err != nil {
				t.Errorf("VerifyXAdES: %v", err)
			}
			// The CAdES reader accepts it only as unsigned, as before.
			if _, err := dokumentpakke.ReadASiCE(asic, dokumentpakke.ReadOptions{}); !errors.Is(err, dokumentpakke.ErrUnsigned) {
				t.Errorf("ReadASiCE err = %v, want ErrUnsigned", err)
			}
		})
	}
}

// xadesDoc is signatures.xml as encoding/xml reads it (namespaces checked on the key elements).
type xadesDoc struct {
	XMLName   xml.Name
	Signature struct {
		ID         string `xml:"Id,attr"`
		SignedInfo struct {
			C14N   algorithm `xml:"http://www.w3.org/2000/09/xmldsig# CanonicalizationMethod"`
			Method algorithm `xml:"http://www.w3.org/2000/09/xmldsig# SignatureMethod"`
			Refs   []refXML  `xml:"http://www.w3.org/2000/09/xmldsig# Reference"`
		} `xml:"http://www.w3.org/2000/09/xmldsig# SignedInfo"`
		SignatureValue string   `xml:"SignatureValue"`
		Certs          []string `xml:"KeyInfo>X509Data>X509Certificate"`
		QP             struct {
			XMLName xml.Name
			Target  string `xml:"Target,attr"`
			SP      struct {
				ID               string      `xml:"Id,attr"`
				SigningTime      string      `xml:"SignedSignatureProperties>SigningTime"`
				CertDigestMethod algorithm   `xml:"SignedSignatureProperties>SigningCertificate>Cert>CertDigest>DigestMethod"`
				CertDigest       string      `xml:"SignedSignatureProperties>SigningCertificate>Cert>CertDigest>DigestValue"`
				IssuerName       string      `xml:"SignedSignatureProperties>SigningCertificate>Cert>IssuerSerial>X509IssuerName"`
				SerialNumber     string      `xml:"SignedSignatureProperties>SigningCertificate>Cert>IssuerSerial>X509SerialNumber"`
				Formats          []formatXML `xml:"SignedDataObjectProperties>DataObjectFormat"`
			} `xml:"http://uri.etsi.org/01903/v1.3.2# SignedProperties"`
		} `xml:"Object>QualifyingProperties"`
	} `xml:"http://www.w3.org/2000/09/xmldsig# Signature"`
}

type refXML struct {
	ID           string      `xml:"Id,attr"`
	URI          string      `xml:"URI,attr"`
	Type         string      `xml:"Type,attr"`
	Transforms   []algorithm `xml:"Transforms>Transform"`
	DigestMethod algorithm   `xml:"DigestMethod"`
	DigestValue  string      `xml:"DigestValue"`
}

type formatXML struct {
	ObjectReference string `xml:"ObjectReference,attr"`
	MimeType        string `xml:"MimeType"`
}

type algorithm struct {
	Algorithm string `xml:"Algorithm,attr"`
}

// parseXAdESDoc reads signatures.xml into xadesDoc.
func parseXAdESDoc(t *testing.T, data []byte) xadesDoc {
	t.Helper()
	var d xadesDoc
	if err := xml.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestCreateASiCEXAdESLayout(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	files := dpiFiles(t)
	asic := createXAdES(t, files, xadesTime)

	// The mimetype entry exactly as CreateASiCE writes it: first, STORED, no data descriptor or extra field.
	le := binary.LittleEndian
	mt := dokumentpakke.MimeTypeASiCE
	flags, method, nameLen, extraLen := le.Uint16(asic[6:]), le.Uint16(asic[8:]), le.Uint16(asic[26:]), le.Uint16(asic[28:])
	if string(asic[:4]) != "PK\x03\x04" || flags&0x8 != 0 || method != 0 || nameLen != 8 || extraLen != 0 ||
		string(asic[30:38]) != "mimetype" || string(asic[38:38+len(mt)]) != mt {
		t.Errorf("mimetype header: flags %#x method %d name %d extra %d", flags, method, nameLen, extraLen)
	}
	if c := "mimetype=" + mt; !bytes.HasSuffix(asic, append([]byte{byte(len(c)), 0}, c...)) {
		t.Errorf("zip comment is not %q", c)
	}

	entries := unzip(t, asic)
	var names []string
	for _, e := range entries {
		names = append(names, e.name)
		if e.stored != (e.name == "mimetype") {
			t.Errorf("%s: stored = %v", e.name, e.stored)
		}
	}
	want := []string{"mimetype"}
	for _, f := range files {
		want = append(want, f.Name)
	}
	want = append(want, "META-INF/signatures.xml", "META-INF/manifest.xml")
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	oasis := string(entries[len(entries)-1].data)
	for _, s := range []string{`manifest:full-path="/" manifest:media-type="application/vnd.etsi.asic-e+zip"`,
		`manifest:full-path="særutskrift æøå.txt" manifest:media-type="text/plain; charset=UTF-8"`} {
		if !strings.Contains(oasis, s) {
			t.Errorf("META-INF/manifest.xml lacks %s:\n%s", s, oasis)
		}
	}

	raw := signaturesXML(t, asic)
	const head = `<?xml version="1.0" encoding="UTF-8" standalone="no"?><XAdESSignatures xmlns="http://uri.etsi.org/02918/v1.2.1#">` +
		`<Signature xmlns="http://www.w3.org/2000/09/xmldsig#" Id="Signature"><SignedInfo><CanonicalizationMethod`
	if !strings.HasPrefix(string(raw), head) {
		t.Errorf("signatures.xml starts %.200q, want %q", raw, head)
	}
	for _, want := range []string{
		`<CertDigest><ns2:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/><ns2:DigestValue>`,
		`<IssuerSerial><ns2:X509IssuerName>`,
	} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("signatures.xml lacks %q", want)
		}
	}
	const qp = `<Object><QualifyingProperties xmlns="http://uri.etsi.org/01903/v1.3.2#" xmlns:ns2="http://www.w3.org/2000/09/xmldsig#" Target="#Signature"><SignedProperties Id="SignedProperties">`
	if !bytes.Contains(raw, []byte(qp)) {
		t.Errorf("signatures.xml lacks %q", qp)
	}

	got := parseXAdESDoc(t, raw)
	var wantDoc xadesDoc
	wantDoc.XMLName = xml.Name{Space: "http://uri.etsi.org/02918/v1.2.1#", Local: "XAdESSignatures"}
	s := &wantDoc.Signature
	s.ID = "Signature"
	s.SignedInfo.C14N.Algorithm = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
	s.SignedInfo.Method.Algorithm = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	s.Certs = []string{wrap76(p.signer.Raw), wrap76(p.ca.Raw)}
	uris := []string{"manifest.xml", "arkivmelding.xml", "vedlegg%2Fbrev.pdf", "s%C3%A6rutskrift+%C3%A6%C3%B8%C3%A5.txt",
		"tom.txt", "a%2Bb+%7E*%281%29.txt", "metadata.xml"}
	for i, f := range files {
		sum := sha256.Sum256(f.Content)
		s.SignedInfo.Refs = append(s.SignedInfo.Refs, refXML{ID: "ID_" + strconv.Itoa(i), URI: uris[i], DigestMethod: algorithm{"http://www.w3.org/2001/04/xmlenc#sha256"},
			DigestValue: base64.StdEncoding.EncodeToString(sum[:])})
		s.QP.SP.Formats = append(s.QP.SP.Formats, formatXML{"#ID_" + strconv.Itoa(i), f.MimeType})
	}
	s.SignedInfo.Refs = append(s.SignedInfo.Refs, refXML{URI: "#SignedProperties", Type: "http://uri.etsi.org/01903#SignedProperties",
		Transforms:   []algorithm{{"http://www.w3.org/TR/2001/REC-xml-c14n-20010315"}},
		DigestMethod: algorithm{"http://www.w3.org/2001/04/xmlenc#sha256"}})
	s.QP.XMLName = xml.Name{Space: "http://uri.etsi.org/01903/v1.3.2#", Local: "QualifyingProperties"}
	s.QP.Target = "#Signature"
	s.QP.SP.ID = "SignedProperties"
	s.QP.SP.SigningTime = "2024-05-01T12:34:56.789+02:00"
	s.QP.SP.CertDigestMethod.Algorithm = "http://www.w3.org/2000/09/xmldsig#sha1"
	certSum := sha1.Sum(p.signer.Raw)
	s.QP.SP.CertDigest = base64.StdEncoding.EncodeToString(certSum[:])
	s.QP.SP.IssuerName = "CN=TEST-ONLY CA, O=TEST-ONLY efm-harness dokumentpakke, C=NO"
	s.QP.SP.SerialNumber = p.signer.SerialNumber.String()

	// The SignedProperties digest and the signature value are checked by TestXAdESIndependentC14N.
	got.Signature.SignatureValue = ""
	got.Signature.SignedInfo.Refs[len(got.Signature.SignedInfo.Refs)-1].DigestValue = ""
	if diff := cmp.Diff(wantDoc, got); diff != "" {
		t.Errorf("signatures.xml (-want +got):\n%s", diff)
	}
}

func wrap76(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var lines []string
	for len(s) > 76 {
		lines = append(lines, s[:76])
		s = s[76:]
	}
	return strings.Join(append(lines, s), "\n")
}

func TestXAdESSigningTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		now  time.Time
		want string
	}{
		{"offset and milliseconds", xadesTime, "2024-05-01T12:34:56.789+02:00"},
		{"UTC", time.Date(2014, 8, 26, 10, 53, 5, 260_000_000, time.UTC), "2014-08-26T10:53:05.260Z"},
		{"whole second, negative offset", time.Date(2024, 1, 2, 3, 4, 5, 999, time.FixedZone("", -(3*60+30)*60)), "2024-01-02T03:04:05.000-03:30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw := signaturesXML(t, createXAdES(t, dpiFiles(t)[:1], tt.now))
			if want := "<SigningTime>" + tt.want + "</SigningTime>"; !bytes.Contains(raw, []byte(want)) {
				t.Errorf("signatures.xml lacks %s", want)
			}
		})
	}
}

// TestXAdESIndependentC14N checks what CreateASiCEXAdES signed with a canonicalizer that shares no code with
// the package (refC14N): the SignedProperties digest, and the signature value over SignedInfo, verified with
// crypto/rsa and the signer's public key. A wrong canonical form in the package (a missing inherited
// namespace, wrong attribute order or escaping) fails here.
func TestXAdESIndependentC14N(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	tests := []struct {
		name  string
		files []dokumentpakke.File
	}{
		{"DPI package", dpiFiles(t)},
		{"markup in MIME types", []dokumentpakke.File{
			{Name: "a&b<c>.txt", MimeType: `text/plain; x="&<>'"; y=1`, Content: []byte("x")},
			{Name: "tab", MimeType: "text/plain;\ta=b\nc", Content: []byte("y")},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw := signaturesXML(t, createXAdES(t, tt.files, xadesTime))
			is := func(local string) func(xml.StartElement) bool {
				return func(s xml.StartElement) bool { return s.Name.Local == local }
			}
			props, err := refC14N(raw, is("SignedProperties"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(props, []byte(`<SignedProperties xmlns="http://uri.etsi.org/01903/v1.3.2#" xmlns:ns2="http://www.w3.org/2000/09/xmldsig#" Id="SignedProperties">`)) {
				t.Errorf("canonical SignedProperties starts %.160q", props)
			}
			signedInfo, err := refC14N(raw, is("SignedInfo"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(signedInfo, []byte(`<SignedInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"></CanonicalizationMethod>`)) {
				t.Errorf("canonical SignedInfo starts %.160q", signedInfo)
			}
			doc := parseXAdESDoc(t, raw)
			refs := doc.Signature.SignedInfo.Refs
			sum := sha256.Sum256(props)
			if got, want := refs[len(refs)-1].DigestValue, base64.StdEncoding.EncodeToString(sum[:]); got != want {
				t.Errorf("SignedProperties DigestValue = %s, independent digest %s", got, want)
			}
			sig, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(doc.Signature.SignatureValue, "\n", ""))
			if err != nil {
				t.Fatal(err)
			}
			sum = sha256.Sum256(signedInfo)
			if err := rsa.VerifyPKCS1v15(p.signer.PublicKey.(*rsa.PublicKey), crypto.SHA256, sum[:], sig); err != nil {
				t.Errorf("SignatureValue does not verify over the independent canonical SignedInfo: %v", err)
			}
			for i, f := range tt.files {
				sum := sha256.Sum256(f.Content)
				if refs[i].DigestValue != base64.StdEncoding.EncodeToString(sum[:]) {
					t.Errorf("Reference %d digest is not the SHA-256 of %s", i, f.Name)
				}
			}
		})
	}
}

// TestVerifyXAdESChecks changes a valid container and checks that VerifyXAdES refuses it for the right
// reason, and still accepts changes outside what is signed.
func TestVerifyXAdESChecks(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	files := dpiFiles(t)
	asic := createXAdES(t, files, time.Now())
	orig := unzip(t, asic)
	iFile, iSig, iOASIS := 2, len(orig)-2, len(orig)-1
	sigXML := string(orig[iSig].data)

	edit := func(f func(e []entry) []entry) []byte {
		e := slices.Clone(orig)
		return rezip(t, f(e))
	}
	editSig := func(f func(string) string) []byte {
		return edit(func(e []entry) []entry {
			s := f(sigXML)
			if s == sigXML {
				t.Fatal("edit changed nothing")
			}
			e[iSig].data = []byte(s)
			return e
		})
	}
	replace := func(old, nw string) []byte {
		return editSig(func(s string) string { return strings.Replace(s, old, nw, 1) })
	}
	between := func(s, open, end string) (int, int) {
		i := strings.Index(s, open) + len(open)
		return i, i + strings.Index(s[i:], end)
	}
	flipSignature := editSig(func(s string) string {
		i, j := between(s, "<SignatureValue>", "</SignatureValue>")
		v, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(s[i:j], "\n", ""))
		if err != nil {
			t.Fatal(err)
		}
		v[10] ^= 1
		return s[:i] + base64.StdEncoding.EncodeToString(v) + s[j:]
	})
	otherCert := editSig(func(s string) string {
		i, j := between(s, "<X509Certificate>", "</X509Certificate>")
		return s[:i] + base64.StdEncoding.EncodeToString(p.recipient.Raw) + s[j:]
	})
	digestRecomputed := edit(func(e []entry) []entry {
		e[iFile].data = []byte("<evil/>")
		old, nw := sha256.Sum256(orig[iFile].data), sha256.Sum256(e[iFile].data)
		e[iSig].data = bytes.Replace(e[iSig].data, []byte(base64.StdEncoding.EncodeToString(old[:])), []byte(base64.StdEncoding.EncodeToString(nw[:])), 1)
		return e
	})
	i, j := between(sigXML, "<Object>", "</Object>")
	wrapped := sigXML[i:j]
	wrapped = strings.Replace(wrapped, "<MimeType>application/pdf</MimeType>", "<MimeType>application/zip</MimeType>", 1)

	tests := []struct {
		name string
		data []byte
		want error // nil: still verifies
	}{
		{"unchanged", asic, nil},
		{"whitespace outside the signed elements", replace("<KeyInfo>", "\n  <KeyInfo>"), nil},
		{"ns2 declared again on SignedProperties", replace(`<SignedProperties Id=`, `<SignedProperties xmlns:ns2="http://www.w3.org/2000/09/xmldsig#" Id=`), nil},
		{"certificate base64 unwrapped", replace(wrap76(p.signer.Raw), base64.StdEncoding.EncodeToString(p.signer.Raw)), nil},
		{"data object changed", edit(func(e []entry) []entry { e[iFile].data = []byte("<tampered/>"); return e }), dokumentpakke.ErrDigestMismatch},
		{"file digest in SignedInfo recomputed", digestRecomputed, dokumentpakke.ErrBadSignature},
		{"MIME type in SignedProperties changed", replace("<MimeType>application/pdf</MimeType>", "<MimeType>application/zip</MimeType>"), dokumentpakke.ErrBadSignature},
		{"SigningTime changed", editSig(func(s string) string {
			return regexp.MustCompile(`<SigningTime>\d{4}`).ReplaceAllString(s, "<SigningTime>1999")
		}), dokumentpakke.ErrBadSignature},
		{"whitespace inside SignedProperties", replace("<SignedSignatureProperties>", "<SignedSignatureProperties>\n"), dokumentpakke.ErrBadSignature},
		{"namespace declared on the root (inherited by inclusive C14N)", replace(`<XAdESSignatures xmlns="http://uri.etsi.org/02918/v1.2.1#"`,
			`<XAdESSignatures xmlns="http://uri.etsi.org/02918/v1.2.1#" xmlns:x="urn:x"`), dokumentpakke.ErrBadSignature},
		{"ns2 declaration renamed", replace(`xmlns:ns2="http://www.w3.org/2000/09/xmldsig#" Target`, `xmlns:ns3="http://www.w3.org/2000/09/xmldsig#" Target`), dokumentpakke.ErrBadSignature},
		{"SignatureValue changed", flipSignature, dokumentpakke.ErrBadSignature},
		{"another certificate", otherCert, dokumentpakke.ErrBadSignature},
		{"SignedInfo reference removed", editSig(func(s string) string {
			return regexp.MustCompile(`<Reference Id="ID_6".*?</Reference>`).ReplaceAllString(s, "")
		}), dokumentpakke.ErrBadSignature},
		{"SignedProperties wrapped next to the signed one", replace("</Object>", "</Object><Object>"+wrapped+"</Object>"), dokumentpakke.ErrBadSignature},
		{"QualifyingProperties targets another signature", replace(`Target="#Signature"`, `Target="#Other"`), dokumentpakke.ErrBadSignature},
		{"DOCTYPE", replace(`standalone="no"?>`, `standalone="no"?><!DOCTYPE XAdESSignatures>`), dokumentpakke.ErrBadSignature},
		{"duplicate attribute", replace(`<SignedProperties Id="SignedProperties"`, `<SignedProperties Id="SignedProperties" Id="x"`), dokumentpakke.ErrBadSignature},
		{"exclusive C14N", replace(`<CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"`,
			`<CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"`), dokumentpakke.ErrBadSignature},
		{"not XML", edit(func(e []entry) []entry { e[iSig].data = []byte("<XAdESSignatures"); return e }), dokumentpakke.ErrBadSignature},
		{"wrong root", replace("XAdESSignatures xmlns", "ASiCManifest xmlns"), dokumentpakke.ErrBadSignature},
		{"signatures.xml missing", edit(func(e []entry) []entry { return slices.Delete(e, iSig, iSig+1) }), dokumentpakke.ErrUnsigned},
		{"second signatures file", edit(func(e []entry) []entry {
			return slices.Insert(e, iOASIS, entry{name: "META-INF/signatures2.xml", data: orig[iSig].data})
		}), dokumentpakke.ErrUnexpectedEntry},
		{"CAdES entry beside", edit(func(e []entry) []entry {
			return append(e, entry{name: "META-INF/ASiCManifest.xml", data: []byte("<ASiCManifest/>")})
		}), dokumentpakke.ErrUnexpectedEntry},
		{"unsigned data object", edit(func(e []entry) []entry {
			return slices.Insert(e, iSig, entry{name: "smuggled.txt", data: []byte("x")})
		}), dokumentpakke.ErrManifest},
		{"signed data object missing", edit(func(e []entry) []entry { return slices.Delete(e, iFile, iFile+1) }), dokumentpakke.ErrManifest},
		{"mimetype missing", edit(func(e []entry) []entry { return e[1:] }), dokumentpakke.ErrNotASiC},
		{"not a zip", []byte("XAdES"), dokumentpakke.ErrNotASiC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := dokumentpakke.VerifyXAdES(tt.data)
			if tt.want == nil {
				if err != nil || !c.Signed {
					t.Fatalf("VerifyXAdES: %v, want it to verify", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestReadXAdESOptions(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	asic := createXAdES(t, dpiFiles(t), time.Now())
	tests := []struct {
		name string
		data []byte
		opts dokumentpakke.ReadOptions
		want error
	}{
		{"chain to the test CA", asic, dokumentpakke.ReadOptions{Roots: p.roots}, nil},
		{"untrusted signer", asic, dokumentpakke.ReadOptions{Roots: p.unrelatedRoots}, dokumentpakke.ErrUntrustedSigner},
		{"signed before the certificate was valid", createXAdES(t, dpiFiles(t), p.signer.NotBefore.Add(-time.Hour)), dokumentpakke.ReadOptions{Roots: p.roots}, dokumentpakke.ErrUntrustedSigner},
		{"too many entries", asic, dokumentpakke.ReadOptions{MaxEntries: 5}, dokumentpakke.ErrTooLarge},
		{"too large", asic, dokumentpakke.ReadOptions{MaxSize: 50_000}, dokumentpakke.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := dokumentpakke.ReadXAdES(tt.data, tt.opts); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCreateASiCEXAdESInvalid(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	ok := dokumentpakke.File{Name: "a.xml", MimeType: "application/xml", Content: []byte("<a/>")}
	tests := []struct {
		name   string
		files  []dokumentpakke.File
		signer dokumentpakke.Signer
	}{
		{"no files", nil, p.sender()},
		{"META-INF file", []dokumentpakke.File{{Name: "META-INF/x.xml", MimeType: "text/xml"}}, p.sender()},
		{"duplicate", []dokumentpakke.File{ok, ok}, p.sender()},
		{"invalid UTF-8 name", []dokumentpakke.File{{Name: "a\xff", MimeType: "text/plain"}}, p.sender()},
		{"control character in MIME type", []dokumentpakke.File{{Name: "a", MimeType: "text/plain\x01"}}, p.sender()},
		{"carriage return in MIME type", []dokumentpakke.File{{Name: "a", MimeType: "text/plain\r"}}, p.sender()},
		{"no key", []dokumentpakke.File{ok}, dokumentpakke.Signer{Certificate: p.signer}},
		{"key does not match certificate", []dokumentpakke.File{ok}, dokumentpakke.Signer{Key: p.recipKey, Certificate: p.signer}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := dokumentpakke.CreateASiCEXAdES(tt.files, tt.signer, xadesTime); !errors.Is(err, dokumentpakke.ErrInvalidInput) {
				t.Errorf("err = %v, want ErrInvalidInput", err)
			}
		})
	}
}

// FuzzVerifyXAdES verifies arbitrary bytes as a XAdES container: it must never panic, and it must only
// accept containers whose data objects are exactly those the test signer signed.
func FuzzVerifyXAdES(f *testing.F) {
	p := newPKI(f)
	small := []dokumentpakke.File{
		{Name: "manifest.xml", MimeType: "application/xml", Content: []byte("<manifest/>")},
		{Name: "a b.txt", MimeType: "text/plain", Content: []byte("a")},
	}
	asic, err := dokumentpakke.CreateASiCEXAdES(small, p.sender(), xadesTime)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(asic)
	e := unzip(f, asic)
	f.Add(rezip(f, e))
	f.Add(rezip(f, e[:1]))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := dokumentpakke.ReadXAdES(data, dokumentpakke.ReadOptions{MaxEntries: 100, MaxSize: 4 << 20})
		if err != nil {
			return
		}
		if !c.Signed || c.SignerCertificate == nil {
			t.Fatalf("accepted without a signer: %+v", c)
		}
		if !c.SignerCertificate.Equal(p.signer) {
			return // a container signed by some other key: fine
		}
		if len(c.Files) != len(small) {
			t.Fatalf("accepted %d files signed by the test signer, want %d", len(c.Files), len(small))
		}
		for i, file := range c.Files {
			if file.Name != small[i].Name || !bytes.Equal(file.Content, small[i].Content) {
				t.Fatalf("file %d = %q %q, not what was signed", i, file.Name, file.Content)
			}
		}
	})
}
