package dokumentpakke_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
)

// FuzzReadASiCE reads arbitrary bytes as an ASiC-E container: it must never panic, and whatever it
// accepts must be consistent.
func FuzzReadASiCE(f *testing.F) {
	p := newPKI(f)
	small := []dokumentpakke.File{
		{Name: "manifest.xml", MimeType: "application/xml", Content: []byte("<manifest/>")},
		{Name: "a.txt", MimeType: "text/plain", Content: []byte("a")},
	}
	asic, err := dokumentpakke.CreateASiCE(small, p.sender())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(asic)
	f.Add(readFile(f, filepath.Join("testdata", "asic", "external.asice")))
	e := unzip(f, asic)
	f.Add(rezip(f, append(e[:3:3], e[len(e)-1]))) // unsigned
	f.Add(rezip(f, e[:1]))                        // mimetype only
	f.Add([]byte{})
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range []dokumentpakke.ReadOptions{
			{MaxEntries: 100, MaxSize: 4 << 20},
			{MaxEntries: 100, MaxSize: 4 << 20, AllowUnsigned: true, Roots: p.roots},
		} {
			c, err := dokumentpakke.ReadASiCE(data, opts)
			if err != nil {
				continue
			}
			if c.Signed != (c.SignerCertificate != nil) {
				t.Fatalf("Signed = %v with signer %v", c.Signed, c.SignerCertificate)
			}
			if !c.Signed && !opts.AllowUnsigned {
				t.Fatal("unsigned container accepted")
			}
			for _, file := range c.Files {
				if file.MimeType == "" || len(file.Name) >= 9 && file.Name[:9] == "META-INF/" {
					t.Fatalf("bad file %q (%q)", file.Name, file.MimeType)
				}
			}
		}
	})
}

// FuzzDecrypt decrypts arbitrary bytes: it must never panic.
func FuzzDecrypt(f *testing.F) {
	p := newPKI(f)
	for _, kt := range []dokumentpakke.KeyTransport{dokumentpakke.RSAOAEP, dokumentpakke.RSAPKCS1v15} {
		ct, err := dokumentpakke.Encrypt([]byte("seed plaintext of a few blocks......"), p.recipient, kt)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(ct)
	}
	vectors, err := filepath.Glob(filepath.Join("testdata", "cms", "*.*er"))
	if err != nil {
		f.Fatal(err)
	}
	for _, v := range vectors {
		b, err := os.ReadFile(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x30, 0x80, 0x00, 0x00})
	f.Add([]byte{0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03, 0xa0, 0x80, 0x30, 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := dokumentpakke.Decrypt(data, p.recipKey); err == nil && len(data) < 32 {
			t.Fatalf("decrypted %d bytes of input", len(data))
		}
	})
}

// FuzzVerifyJWS parses and verifies arbitrary compact JWS: it must never panic or verify a forgery.
func FuzzVerifyJWS(f *testing.F) {
	p := newPKI(f)
	good, err := dokumentpakke.SignJWS([]byte(`{"a":1}`), p.signerKey, nil, "k")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("eyJhbGciOiJSUzI1NiIsIng1YyI6WyJBQUFBIl19.e30.AA")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = dokumentpakke.ParseJWSUnverified(s)
		payload, _, err := dokumentpakke.VerifyJWS(s, dokumentpakke.VerifyOptions{Key: &p.signerKey.PublicKey})
		if err == nil && s != good && string(payload) != `{"a":1}` {
			t.Fatalf("verified a JWS not signed here: %q", s)
		}
	})
}

// FuzzParseManifest reads arbitrary bytes as an eFormidling manifest: it must never panic.
func FuzzParseManifest(f *testing.F) {
	f.Add(readFile(f, filepath.Join("testdata", "asic", "src", "manifest.xml")))
	f.Add([]byte("<manifest><mottaker><person>01017012345</person></mottaker></manifest>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := dokumentpakke.ParseManifest(data)
		if err == nil && (m.Mottaker == "" || m.Avsender == "") {
			t.Fatalf("accepted a manifest without parties: %+v", m)
		}
	})
}
