package dokumentpakke_test

import (
	"bytes"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
)

// TestDecryptOpenSSLVectors decrypts the EnvelopedData vectors openssl made (testdata/gen.sh): BER
// streaming form (indefinite lengths, chunked content, like BouncyCastle's stream generator) and DER,
// OAEP with SHA-256 or SHA-1 and either MGF1 hash, PKCS#1 v1.5, AES-128/192/256-CBC.
func TestDecryptOpenSSLVectors(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	plain := readFile(t, filepath.Join("testdata", "cms", "plain.bin"))
	tests := []struct {
		file string
		key  *rsa.PrivateKey
		want error
	}{
		{"oaep-sha256-aes256-stream.ber", p.recipKey, nil},
		{"oaep-sha256-aes256.der", p.recipKey, nil},
		{"oaep-sha256-aes128-stream.ber", p.recipKey, nil},
		{"oaep-sha256-mgf1sha1-aes256.der", p.recipKey, nil},
		{"oaep-sha1-aes256.der", p.recipKey, nil},
		{"pkcs1-aes256-stream.ber", p.recipKey, nil},
		{"pkcs1-aes192.der", p.recipKey, nil},
		{"pkcs1-aes128-stream.ber", p.recipKey, nil},
		{"two-recipients-signer-first-stream.ber", p.signerKey, nil},
		// The IP uses only the first RecipientInfo, so the second recipient cannot open it either.
		{"two-recipients-signer-first-stream.ber", p.recipKey, dokumentpakke.ErrDecrypt},
		{"oaep-sha256-aes256-stream.ber", p.signerKey, dokumentpakke.ErrDecrypt},
		{"pkcs1-aes256-stream.ber", p.signerKey, dokumentpakke.ErrDecrypt},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			got, err := dokumentpakke.Decrypt(readFile(t, filepath.Join("testdata", "cms", tt.file)), tt.key)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want == nil && !bytes.Equal(got, plain) {
				t.Errorf("plaintext differs: got %d bytes, want %d", len(got), len(plain))
			}
		})
	}
}

func TestEncryptDecryptRoundTrip(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	for _, kt := range []dokumentpakke.KeyTransport{dokumentpakke.RSAOAEP, dokumentpakke.RSAPKCS1v15} {
		for _, n := range []int{0, 1, 15, 16, 17, 4096, 100_003} {
			t.Run(kt.String()+"/"+strconv.Itoa(n), func(t *testing.T) {
				t.Parallel()
				plain := bytes.Repeat([]byte{0xa5, 0x00, 0x5a}, n/3+1)[:n]
				ct, err := dokumentpakke.Encrypt(plain, p.recipient, kt)
				if err != nil {
					t.Fatal(err)
				}
				got, err := dokumentpakke.Decrypt(ct, p.recipKey)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(plain, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
				if _, err := dokumentpakke.Decrypt(ct, p.signerKey); !errors.Is(err, dokumentpakke.ErrDecrypt) {
					t.Errorf("wrong key: err = %v, want ErrDecrypt", err)
				}
			})
		}
	}
}

// TestEncryptAlgorithmIdentifiers checks the key-transport AlgorithmIdentifiers byte for byte against what
// BouncyCastle writes for the IP (CmsAlgorithm.RSAES_OAEP; rsaEncryption with NULL for DPE), and the
// content-encryption algorithm (AES-256-CBC).
func TestEncryptAlgorithmIdentifiers(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	const aes256CBC = "301d060960864801650304012a0410" // SEQUENCE { aes256-CBC, OCTET STRING (16-byte IV) }
	tests := []struct {
		kt   dokumentpakke.KeyTransport
		want string
	}{
		// SEQUENCE { rsaesOaep, SEQUENCE { [0] sha256+NULL, [1] { mgf1, sha256+NULL } } }, default pSource omitted.
		{dokumentpakke.RSAOAEP, "303c06092a864886f70d010107302fa00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500"},
		{dokumentpakke.RSAPKCS1v15, "300d06092a864886f70d0101010500"},
	}
	for _, tt := range tests {
		t.Run(tt.kt.String(), func(t *testing.T) {
			t.Parallel()
			ct, err := dokumentpakke.Encrypt([]byte("x"), p.recipient, tt.kt)
			if err != nil {
				t.Fatal(err)
			}
			h := hex.EncodeToString(ct)
			if !bytes.Contains([]byte(h), []byte(tt.want)) {
				t.Errorf("key encryption algorithm %s not in %s", tt.want, h)
			}
			if !bytes.Contains([]byte(h), []byte(aes256CBC)) {
				t.Errorf("AES-256-CBC with a 16-byte IV not in %s", h)
			}
		})
	}
}

func TestEncryptInvalid(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	if _, err := dokumentpakke.Encrypt([]byte("x"), nil, dokumentpakke.RSAOAEP); !errors.Is(err, dokumentpakke.ErrInvalidInput) {
		t.Errorf("nil recipient: err = %v", err)
	}
	if _, err := dokumentpakke.Encrypt([]byte("x"), p.recipient, dokumentpakke.KeyTransport(9)); !errors.Is(err, dokumentpakke.ErrUnsupportedAlgorithm) {
		t.Errorf("unknown key transport: err = %v", err)
	}
	if _, err := dokumentpakke.Decrypt([]byte("x"), nil); !errors.Is(err, dokumentpakke.ErrInvalidInput) {
		t.Errorf("nil key: err = %v", err)
	}
}

// TestDecryptMalformed feeds broken and foreign input to Decrypt: it must fail with the right error and
// never panic.
func TestDecryptMalformed(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	good, err := dokumentpakke.Encrypt([]byte("hello, world: three AES blocks of plaintext"), p.recipient, dokumentpakke.RSAOAEP)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1, err := dokumentpakke.Encrypt([]byte("hello, world"), p.recipient, dokumentpakke.RSAPKCS1v15)
	if err != nil {
		t.Fatal(err)
	}
	ber := readFile(t, filepath.Join("testdata", "cms", "oaep-sha256-aes256-stream.ber"))
	mutate := func(b []byte, f func([]byte)) []byte { c := bytes.Clone(b); f(c); return c }
	replace := func(b []byte, old, new string) []byte {
		o, _ := hex.DecodeString(old)
		n, _ := hex.DecodeString(new)
		if !bytes.Contains(b, o) {
			t.Fatalf("%s not found", old)
		}
		return bytes.Replace(b, o, n, 1)
	}
	nested := bytes.Repeat([]byte{0x30, 0x80}, 100)
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"nil", nil, dokumentpakke.ErrNotCMS},
		{"text", []byte("hello"), dokumentpakke.ErrNotCMS},
		{"trailing data", append(bytes.Clone(good), 0), dokumentpakke.ErrNotCMS},
		{"BER truncated", ber[:len(ber)-2], dokumentpakke.ErrNotCMS},
		{"BER truncated in a chunk", ber[:len(ber)/2], dokumentpakke.ErrNotCMS},
		{"deep nesting", nested, dokumentpakke.ErrNotCMS},
		{"signed data", readFile(t, filepath.Join("testdata", "asic", "cades-sha256.p7s")), dokumentpakke.ErrNotCMS},
		{"padding broken", mutate(good, func(b []byte) { b[len(b)-17] ^= 1 }), dokumentpakke.ErrDecrypt},
		{"unknown key transport", replace(pkcs1, "2a864886f70d0101010500", "2a864886f70d0101020500"), dokumentpakke.ErrUnsupportedAlgorithm},
		{"unknown content encryption (AES-256-GCM)", replace(good, "060960864801650304012a", "060960864801650304012e"), dokumentpakke.ErrUnsupportedAlgorithm},
		{"OAEP hash unknown", replace(good, "a00f300d06096086480165030402010500", "a00f300d06096086480165030402090500"), dokumentpakke.ErrUnsupportedAlgorithm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := dokumentpakke.Decrypt(tt.data, p.recipKey); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("every prefix", func(t *testing.T) {
		t.Parallel()
		for _, src := range [][]byte{good, ber[:600]} {
			for i := range len(src) {
				if _, err := dokumentpakke.Decrypt(src[:i], p.recipKey); err == nil {
					t.Fatalf("prefix %d decrypted", i)
				}
			}
		}
	})
}

func TestSealOpen(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	files := sampleFiles(t)
	for _, kt := range []dokumentpakke.KeyTransport{dokumentpakke.RSAOAEP, dokumentpakke.RSAPKCS1v15} {
		t.Run(kt.String(), func(t *testing.T) {
			t.Parallel()
			sealed, err := dokumentpakke.Seal(files, p.sender(), p.recipient, kt)
			if err != nil {
				t.Fatal(err)
			}
			c, err := dokumentpakke.Open(sealed, p.recipKey, dokumentpakke.ReadOptions{Roots: p.roots})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(files, c.Files, cmp.Comparer(bytes.Equal)); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			if !c.Signed || !c.SignerCertificate.Equal(p.signer) {
				t.Errorf("Signed = %v, signer %v", c.Signed, c.SignerCertificate)
			}
			if _, err := dokumentpakke.Open(sealed, p.signerKey, dokumentpakke.ReadOptions{}); !errors.Is(err, dokumentpakke.ErrDecrypt) {
				t.Errorf("wrong key: err = %v, want ErrDecrypt", err)
			}
		})
	}
	if _, err := dokumentpakke.Seal(nil, p.sender(), p.recipient, dokumentpakke.RSAOAEP); !errors.Is(err, dokumentpakke.ErrInvalidInput) {
		t.Errorf("Seal without files: err = %v", err)
	}
	plain, err := dokumentpakke.Encrypt([]byte("not a zip"), p.recipient, dokumentpakke.RSAOAEP)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dokumentpakke.Open(plain, p.recipKey, dokumentpakke.ReadOptions{}); !errors.Is(err, dokumentpakke.ErrNotASiC) {
		t.Errorf("Open of a non-ASiC: err = %v", err)
	}
}
