package dokumentpakke

import (
	"crypto/rsa"
	"crypto/x509"
	"fmt"
)

// Seal builds a signed ASiC-E container of files (CreateASiCE) and encrypts it for the recipient
// (Encrypt): the "dokumentpakke" the integration point sends.
func Seal(files []File, s Signer, recipient *x509.Certificate, kt KeyTransport) ([]byte, error) {
	asic, err := CreateASiCE(files, s)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	out, err := Encrypt(asic, recipient, kt)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return out, nil
}

// Open decrypts a document package (Decrypt) and reads the ASiC-E container inside it (ReadASiCE).
func Open(data []byte, key *rsa.PrivateKey, opts ReadOptions) (*Container, error) {
	asic, err := Decrypt(data, key)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	c, err := ReadASiCE(asic, opts)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	return c, nil
}
