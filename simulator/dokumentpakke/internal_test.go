package dokumentpakke

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/smallstep/pkcs7"
)

func loadSigner(t *testing.T) Signer {
	t.Helper()
	return loadPair(t, "signer")
}

func loadPair(t *testing.T, who string) Signer {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			t.Fatalf("%s: no PEM", name)
		}
		return blk.Bytes
	}
	cert, err := x509.ParseCertificate(read("test-only-" + who + ".pem"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.ParsePKCS8PrivateKey(read("test-only-" + who + "-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return Signer{Key: k.(*rsa.PrivateKey), Certificate: cert}
}

// TestSignDetachedAttributes checks the CAdES-BES shape of the signature: SHA-256, the four signed
// attributes, and a signingCertificateV2 that names the signer certificate.
func TestSignDetachedAttributes(t *testing.T) {
	t.Parallel()
	s := loadSigner(t)
	content := []byte("<ASiCManifest/>")
	sig, err := signDetached(content, s)
	if err != nil {
		t.Fatal(err)
	}
	p7, err := pkcs7.Parse(sig)
	if err != nil {
		t.Fatal(err)
	}
	if len(p7.Content) != 0 {
		t.Errorf("signature is not detached: %d content bytes", len(p7.Content))
	}
	if len(p7.Signers) != 1 || !p7.Signers[0].DigestAlgorithm.Algorithm.Equal(pkcs7.OIDDigestAlgorithmSHA256) {
		t.Fatalf("signers %+v", p7.Signers)
	}
	var got []string
	for _, a := range p7.Signers[0].AuthenticatedAttributes {
		got = append(got, a.Type.String())
	}
	want := []string{
		"1.2.840.113549.1.9.3",       // contentType
		"1.2.840.113549.1.9.4",       // messageDigest
		"1.2.840.113549.1.9.5",       // signingTime
		"1.2.840.113549.1.9.16.2.47", // signingCertificateV2
	}
	if diff := cmp.Diff(want, got, cmp.Transformer("sort", func(s []string) map[string]bool {
		m := map[string]bool{}
		for _, v := range s {
			m[v] = true
		}
		return m
	})); diff != "" {
		t.Errorf("signed attributes (-want +got):\n%s", diff)
	}
	var scv2 signingCertificateV2
	if err := p7.UnmarshalSignedAttribute(oidSigningCertificateV2, &scv2); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(s.Certificate.Raw)
	if len(scv2.Certs) != 1 || !bytes.Equal(scv2.Certs[0].CertHash, sum[:]) ||
		scv2.Certs[0].IssuerSerial.Serial.Cmp(s.Certificate.SerialNumber) != 0 ||
		len(scv2.Certs[0].IssuerSerial.Issuer) != 1 || !bytes.Equal(scv2.Certs[0].IssuerSerial.Issuer[0].Bytes, s.Certificate.RawIssuer) {
		t.Errorf("signingCertificateV2 = %+v", scv2)
	}
	if cert, err := verifyDetached(sig, content, nil); err != nil || !cert.Equal(s.Certificate) {
		t.Errorf("verifyDetached = %v, %v", cert, err)
	}
}

// TestVerifyDetachedOpenSSL verifies openssl's CAdES-BES signature (-cades, SHA-256) from testdata.
func TestVerifyDetachedOpenSSL(t *testing.T) {
	t.Parallel()
	read := func(p ...string) []byte {
		b, err := os.ReadFile(filepath.Join(append([]string{"testdata", "asic"}, p...)...))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	sig := read("cades-sha256.p7s")
	manifest := read("src", "META-INF", "ASiCManifest.xml")
	tests := []struct {
		name    string
		sig     []byte
		content []byte
		want    error
	}{
		{"as signed", sig, manifest, nil},
		{"SHA1withRSA in BER streaming form", read("sha1-ber.p7s"), manifest, nil},
		{"content changed", sig, append(bytes.Clone(manifest), ' '), ErrBadSignature},
		{"empty signature", nil, manifest, ErrBadSignature},
		{"truncated signature", sig[:len(sig)/2], manifest, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := verifyDetached(tt.sig, tt.content, nil); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseBER(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        []byte
		wantTag   int
		wantBody  []byte
		wantRest  []byte
		wantError bool
	}{
		{"short form", []byte{0x04, 0x02, 'h', 'i', 0xff}, 4, []byte("hi"), []byte{0xff}, false},
		{"long form", append([]byte{0x04, 0x81, 0x01}, 'x'), 4, []byte("x"), []byte{}, false},
		{"high tag number", []byte{0x9f, 0x81, 0x00, 0x01, 'z'}, 128, []byte("z"), []byte{}, false},
		{"indefinite", []byte{0x30, 0x80, 0x05, 0x00, 0x00, 0x00, 0x01}, 16, []byte{0x05, 0x00}, []byte{0x01}, false},
		{"indefinite, nested", []byte{0x30, 0x80, 0x30, 0x80, 0x00, 0x00, 0x00, 0x00}, 16, []byte{0x30, 0x80, 0x00, 0x00}, []byte{}, false},
		{"indefinite primitive", []byte{0x04, 0x80, 0x00, 0x00}, 0, nil, nil, true},
		{"indefinite without end", []byte{0x30, 0x80, 0x05, 0x00}, 0, nil, nil, true},
		{"length beyond input", []byte{0x04, 0x05, 'a'}, 0, nil, nil, true},
		{"nine length octets", []byte{0x04, 0x89, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 0, nil, nil, true},
		{"huge length", []byte{0x04, 0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 0, nil, nil, true},
		{"reserved length", []byte{0x04, 0xff}, 0, nil, nil, true},
		{"high tag with leading zero", []byte{0x9f, 0x80, 0x01, 0x00}, 0, nil, nil, true},
		{"too deep", bytes.Repeat([]byte{0x30, 0x80}, maxBERDepth+2), 0, nil, nil, true},
		{"truncated", []byte{0x30}, 0, nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, rest, err := parseBER(tt.in, 0)
			if (err != nil) != tt.wantError {
				t.Fatalf("err = %v, want error %v", err, tt.wantError)
			}
			if err != nil {
				return
			}
			if e.tag != tt.wantTag || !bytes.Equal(e.body, tt.wantBody) || !bytes.Equal(rest, tt.wantRest) {
				t.Errorf("tag %d body %x rest %x", e.tag, e.body, rest)
			}
		})
	}
}

// TestOctetChunks checks that a chunked (constructed) OCTET STRING is concatenated, nested chunks too.
func TestOctetChunks(t *testing.T) {
	t.Parallel()
	in := []byte{0xa0, 0x80, 0x04, 0x02, 'a', 'b', 0x24, 0x80, 0x04, 0x01, 'c', 0x00, 0x00, 0x04, 0x00, 0x00, 0x00}
	e, _, err := parseBER(in, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.appendOctets(nil, 0)
	if err != nil || string(got) != "abc" {
		t.Errorf("appendOctets = %q, %v", got, err)
	}
	bad := []byte{0xa0, 0x80, 0x02, 0x01, 0x00, 0x00, 0x00}
	e, _, err = parseBER(bad, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.appendOctets(nil, 0); err == nil {
		t.Error("an INTEGER chunk was accepted")
	}
	var v asn1.RawValue
	if _, err := asn1.Unmarshal(oaepSHA256.Parameters.FullBytes, &v); err != nil {
		t.Errorf("OAEP parameters do not parse: %v", err)
	}
}

func TestToDER(t *testing.T) {
	t.Parallel()
	read := func(p ...string) []byte {
		b, err := os.ReadFile(filepath.Join(append([]string{"testdata"}, p...)...))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	der := read("asic", "cades-sha256.p7s")
	if got, err := toDER(der); err != nil || !bytes.Equal(got, der) {
		t.Errorf("toDER changed DER input (err %v)", err)
	}
	ber := read("cms", "oaep-sha256-aes256-stream.ber")
	got, err := toDER(ber)
	if err != nil {
		t.Fatal(err)
	}
	if got[1] == 0x80 {
		t.Errorf("toDER output still looks indefinite: % x", got[:4])
	}
	plain, err := Decrypt(got, loadPair(t, "recipient").Key)
	if err != nil || !bytes.Equal(plain, read("cms", "plain.bin")) {
		t.Errorf("the DER form does not decrypt: %v", err)
	}
	again, err := toDER(got)
	if err != nil || !bytes.Equal(again, got) {
		t.Errorf("toDER is not idempotent (err %v)", err)
	}
	if _, err := toDER(append(bytes.Clone(der), 0)); err == nil {
		t.Error("trailing data accepted")
	}
}

// TestVerifyDetachedHostile: hostile BER must be refused, not crash the process (deep nesting overflows an
// unbounded recursive parser's stack, which recover cannot catch) or take quadratic time.
func TestVerifyDetachedHostile(t *testing.T) {
	t.Parallel()
	wide := append([]byte{0x30, 0x80}, bytes.Repeat([]byte{0x04, 0x01, 0x41}, 1<<20)...)
	wide = append(wide, 0, 0)
	const levels = 100_000
	var deepDefinite []byte
	for i := levels - 1; i >= 0; i-- { // SEQUENCE { SEQUENCE { ... OCTET STRING {} } }, 6-byte headers
		n := 2 + 6*i
		deepDefinite = append(deepDefinite, 0x30, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	deepDefinite = append(deepDefinite, 0x04, 0x00)
	tests := []struct {
		name string
		sig  []byte
	}{
		{"deep indefinite nesting", bytes.Repeat([]byte{0x30, 0x80}, 1<<20)},
		{"deep definite nesting", deepDefinite},
		{"a million siblings in an indefinite element", wide},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := verifyDetached(tt.sig, []byte("x"), nil); !errors.Is(err, ErrBadSignature) {
				t.Errorf("err = %v, want ErrBadSignature", err)
			}
		})
	}
}

// FuzzVerifyDetached feeds arbitrary signatures to the CAdES verifier (the library behind it is not
// hardened): it must never panic, hang or accept a signature not made over the content.
func FuzzVerifyDetached(f *testing.F) {
	for _, name := range []string{"cades-sha256.p7s", "sha1-ber.p7s"} {
		b, err := os.ReadFile(filepath.Join("testdata", "asic", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	manifest, err := os.ReadFile(filepath.Join("testdata", "asic", "src", "META-INF", "ASiCManifest.xml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte{0x30, 0x80, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, sig []byte) {
		cert, err := verifyDetached(sig, manifest, nil)
		if (err == nil) != (cert != nil) {
			t.Fatalf("cert %v with err %v", cert, err)
		}
		if err == nil {
			if _, err := verifyDetached(sig, append(bytes.Clone(manifest), 'x'), nil); err == nil {
				t.Fatal("the signature also verifies over other content")
			}
		}
	})
}
