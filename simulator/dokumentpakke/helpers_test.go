package dokumentpakke_test

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"hash/crc32"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
)

// testPKI is the TEST-ONLY PKI checked in under testdata (see testdata/gen.sh).
type testPKI struct {
	ca, signer, recipient      *x509.Certificate
	caKey, signerKey, recipKey *rsa.PrivateKey
	roots                      *x509.CertPool
	selfSigned                 *x509.Certificate // the recipient key in a self-signed certificate
	unrelatedRoots             *x509.CertPool
}

var pkiOnce = sync.OnceValues(loadPKI)

func newPKI(t testing.TB) *testPKI {
	t.Helper()
	p, err := pkiOnce()
	if err != nil {
		t.Fatalf("test PKI: %v", err)
	}
	return p
}

func loadPKI() (*testPKI, error) {
	p := &testPKI{}
	var err error
	for _, c := range []struct {
		file string
		dst  **x509.Certificate
	}{{"test-only-ca.pem", &p.ca}, {"test-only-signer.pem", &p.signer}, {"test-only-recipient.pem", &p.recipient}} {
		if *c.dst, err = readCert(filepath.Join("testdata", c.file)); err != nil {
			return nil, err
		}
	}
	for _, k := range []struct {
		file string
		dst  **rsa.PrivateKey
	}{{"test-only-ca-key.pem", &p.caKey}, {"test-only-signer-key.pem", &p.signerKey}, {"test-only-recipient-key.pem", &p.recipKey}} {
		if *k.dst, err = readKey(filepath.Join("testdata", k.file)); err != nil {
			return nil, err
		}
	}
	p.roots = x509.NewCertPool()
	p.roots.AddCert(p.ca)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42),
		Subject:      pkix.Name{CommonName: "TEST-ONLY self-signed"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &p.recipKey.PublicKey, p.recipKey)
	if err != nil {
		return nil, err
	}
	if p.selfSigned, err = x509.ParseCertificate(der); err != nil {
		return nil, err
	}
	p.unrelatedRoots = x509.NewCertPool()
	p.unrelatedRoots.AddCert(p.selfSigned)
	return p, nil
}

func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s: no PEM", path)
	}
	return x509.ParseCertificate(blk.Bytes)
}

func readKey(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s: no PEM", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: %T", path, k)
	}
	return rk, nil
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (p *testPKI) sender() dokumentpakke.Signer {
	return dokumentpakke.Signer{Key: p.signerKey, Certificate: p.signer, Chain: []*x509.Certificate{p.ca}}
}

// sampleFiles is a typical DPO document package: the eFormidling manifest, the primary document and
// attachments (one binary, one with a non-ASCII name, one empty).
func sampleFiles(t testing.TB) []dokumentpakke.File {
	t.Helper()
	manifest, err := dokumentpakke.BuildManifest(dokumentpakke.Manifest{
		Mottaker: "0192:910075918", Avsender: "0192:910077473",
		Hoveddokument: &dokumentpakke.ManifestDocument{Href: "arkivmelding.xml", Mime: "application/xml"},
	})
	if err != nil {
		t.Fatal(err)
	}
	bin := make([]byte, 70_000)
	for i := range bin {
		bin[i] = byte(i * 7 % 251)
	}
	return []dokumentpakke.File{
		{Name: "manifest.xml", MimeType: "application/xml", Content: manifest},
		{Name: "arkivmelding.xml", MimeType: "application/xml", Content: []byte(`<arkivmelding xmlns="http://www.arkivverket.no/standarder/noark5/arkivmelding"/>`)},
		{Name: "vedlegg/brev.pdf", MimeType: "application/pdf", Content: bin},
		{Name: "særutskrift æøå.txt", MimeType: "text/plain; charset=UTF-8", Content: []byte("hei & <hå>\n")},
		{Name: "tom.txt", MimeType: "text/plain", Content: []byte{}},
	}
}

// entry is a zip entry for rezip.
type entry struct {
	name   string
	data   []byte
	stored bool
}

// unzip returns the entries of a zip in order.
func unzip(t testing.TB, data []byte) []entry {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out []entry
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, entry{name: f.Name, data: b, stored: f.Method == zip.Store})
	}
	return out
}

// rezip writes entries in order; stored entries get their sizes in the local header.
func rezip(t testing.TB, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		var w io.Writer
		var err error
		if e.stored {
			w, err = zw.CreateRaw(&zip.FileHeader{Name: e.name, Method: zip.Store, CRC32: crc32.ChecksumIEEE(e.data),
				CompressedSize64: uint64(len(e.data)), UncompressedSize64: uint64(len(e.data))})
		} else {
			w, err = zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Deflate})
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
