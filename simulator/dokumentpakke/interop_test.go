package dokumentpakke_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
)

// These tests hand this package's output to independent implementations: the openssl CLI (CMS
// EnvelopedData and SignedData) and the JDK (java.util.zip.ZipInputStream, which commons-asic reads
// containers with, and the JDK's PKCS#7 verifier). They are skipped when the tool is not on PATH.

func lookTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not on PATH: interoperability with %s not checked", name, name)
	}
	return path
}

func run(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func writeTemp(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestOpenSSLDecryptsEncrypt: `openssl cms -decrypt` opens what Encrypt wrote, for both key transports.
// A wrongly encoded OAEP parameter set (the MGF1 hash) would make openssl unwrap a garbage key and fail.
func TestOpenSSLDecryptsEncrypt(t *testing.T) {
	t.Parallel()
	openssl := lookTool(t, "openssl")
	p := newPKI(t)
	plain := readFile(t, filepath.Join("testdata", "cms", "plain.bin"))
	for _, kt := range []dokumentpakke.KeyTransport{dokumentpakke.RSAOAEP, dokumentpakke.RSAPKCS1v15} {
		t.Run(kt.String(), func(t *testing.T) {
			t.Parallel()
			ct, err := dokumentpakke.Encrypt(plain, p.recipient, kt)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			in := writeTemp(t, dir, "in.der", ct)
			out := filepath.Join(dir, "out.bin")
			if msg, err := run(t, openssl, "cms", "-decrypt", "-binary", "-inform", "DER", "-in", in,
				"-inkey", filepath.Join("testdata", "test-only-recipient-key.pem"),
				"-recip", filepath.Join("testdata", "test-only-recipient.pem"), "-out", out); err != nil {
				t.Fatalf("openssl cms -decrypt: %v\n%s", err, msg)
			}
			if got := readFile(t, out); !bytes.Equal(got, plain) {
				t.Errorf("openssl decrypted %d bytes, want the %d plaintext bytes", len(got), len(plain))
			}
			printed, err := run(t, openssl, "cms", "-cmsout", "-print", "-inform", "DER", "-in", in)
			if err != nil {
				t.Fatalf("openssl cms -cmsout -print: %v\n%s", err, printed)
			}
			for _, want := range []string{"aes-256-cbc", map[dokumentpakke.KeyTransport]string{
				dokumentpakke.RSAOAEP: "rsaesOaep", dokumentpakke.RSAPKCS1v15: "rsaEncryption"}[kt]} {
				if !strings.Contains(printed, want) {
					t.Errorf("openssl's view of the structure lacks %q:\n%s", want, printed)
				}
			}
		})
	}
}

// TestOpenSSLVerifiesSignature: `openssl cms -verify` accepts the detached CAdES signature of CreateASiCE
// over the ASiC manifest bytes (with and without the chain check), sees the CAdES-BES signed attributes,
// and refuses it over a changed manifest.
func TestOpenSSLVerifiesSignature(t *testing.T) {
	t.Parallel()
	openssl := lookTool(t, "openssl")
	p := newPKI(t)
	asic, err := dokumentpakke.CreateASiCE(sampleFiles(t), p.sender())
	if err != nil {
		t.Fatal(err)
	}
	e := unzip(t, asic)
	dir := t.TempDir()
	manifest := writeTemp(t, dir, "ASiCManifest.xml", e[len(e)-3].data)
	tampered := writeTemp(t, dir, "tampered.xml", bytes.Replace(e[len(e)-3].data, []byte("application/pdf"), []byte("application/zip"), 1))
	sig := writeTemp(t, dir, "signature.p7s", e[len(e)-2].data)
	ca := filepath.Join("testdata", "test-only-ca.pem")
	tests := []struct {
		name    string
		args    []string
		wantErr bool
	}{
		{"signature only (as the IP verifies)", []string{"-noverify", "-content", manifest}, false},
		{"with the chain to the test CA", []string{"-CAfile", ca, "-purpose", "any", "-content", manifest}, false},
		{"changed manifest", []string{"-noverify", "-content", tampered}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-out", os.DevNull}, tt.args...)
			msg, err := run(t, openssl, args...)
			if (err != nil) != tt.wantErr {
				t.Errorf("openssl cms -verify: err = %v, want error %v\n%s", err, tt.wantErr, msg)
			}
		})
	}
	t.Run("signed attributes", func(t *testing.T) {
		t.Parallel()
		printed, err := run(t, openssl, "cms", "-cmsout", "-print", "-inform", "DER", "-in", sig)
		if err != nil {
			t.Fatalf("openssl cms -cmsout -print: %v\n%s", err, printed)
		}
		for _, want := range []string{"contentType", "messageDigest", "signingTime", "signingCertificateV2", "sha256WithRSAEncryption"} {
			if !strings.Contains(printed, want) {
				t.Errorf("signature lacks %s:\n%s", want, printed)
			}
		}
	})
}

// TestJavaReadsContainer: the JDK reads CreateASiCE's container as commons-asic does (ZipInputStream in
// stream order, which refuses a STORED entry with a data descriptor), checks every digest against the ASiC
// manifest and verifies the CMS signature (testdata/java/AsicCheck.java).
func TestJavaReadsContainer(t *testing.T) {
	t.Parallel()
	java := lookTool(t, "java")
	p := newPKI(t)
	files := sampleFiles(t)
	asic, err := dokumentpakke.CreateASiCE(files, p.sender())
	if err != nil {
		t.Fatal(err)
	}
	e := unzip(t, asic)
	e[len(e)-3].data = bytes.Replace(e[len(e)-3].data, []byte("application/pdf"), []byte("application/zip"), 1)
	dir := t.TempDir()
	tests := []struct {
		name    string
		data    []byte
		wantErr bool
	}{
		{"CreateASiCE output", asic, false},
		{"manifest changed after signing", rezip(t, e), true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeTemp(t, dir, "c"+string(rune('0'+i))+".asice", tt.data)
			out, err := run(t, java, "--add-exports", "java.base/sun.security.pkcs=ALL-UNNAMED",
				filepath.Join("testdata", "java", "AsicCheck.java"), path)
			if (err != nil) != tt.wantErr {
				t.Fatalf("AsicCheck: err = %v, want error %v\n%s", err, tt.wantErr, out)
			}
			if tt.wantErr {
				return
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != len(files)+5 || lines[0] != "mimetype 0 31" || !strings.HasPrefix(lines[len(lines)-1], "OK signer CN=TEST-ONLY signer") {
				t.Errorf("unexpected AsicCheck output:\n%s", out)
			}
			for i, f := range files {
				if !strings.HasPrefix(lines[i+1], f.Name+" 8 ") {
					t.Errorf("entry %d = %q, want %s deflated", i+1, lines[i+1], f.Name)
				}
			}
		})
	}
}
