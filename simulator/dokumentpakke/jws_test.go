package dokumentpakke_test

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
)

func TestJWSRoundTrip(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	payload := []byte(`{"standardBusinessDocument":{"standardBusinessDocumentHeader":{"headerVersion":"1.0"}}}`)
	tests := []struct {
		name     string
		key      func() (string, error)
		opts     dokumentpakke.VerifyOptions
		wantCert *x509.Certificate
		wantKID  string
		wantX5C  int
	}{
		{"x5c chain, roots", func() (string, error) {
			return dokumentpakke.SignJWS(payload, p.signerKey, []*x509.Certificate{p.signer, p.ca}, "")
		}, dokumentpakke.VerifyOptions{Roots: p.roots}, p.signer, "", 2},
		{"self-signed x5c, no roots (DPI receipts)", func() (string, error) {
			return dokumentpakke.SignJWS(payload, p.recipKey, []*x509.Certificate{p.selfSigned}, "")
		}, dokumentpakke.VerifyOptions{}, p.selfSigned, "", 1},
		{"kid and key", func() (string, error) {
			return dokumentpakke.SignJWS(payload, p.signerKey, nil, "sr-key-1")
		}, dokumentpakke.VerifyOptions{Key: &p.signerKey.PublicKey}, nil, "sr-key-1", 0},
		{"kid, x5c and key", func() (string, error) {
			return dokumentpakke.SignJWS(payload, p.signerKey, []*x509.Certificate{p.signer}, "k")
		}, dokumentpakke.VerifyOptions{Key: &p.signerKey.PublicKey}, p.signer, "k", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			jws, err := tt.key()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Count(jws, ".") != 2 {
				t.Fatalf("not compact: %s", jws)
			}
			got, cert, err := dokumentpakke.VerifyJWS(jws, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(payload, got); diff != "" {
				t.Errorf("payload (-want +got):\n%s", diff)
			}
			if (tt.wantCert == nil) != (cert == nil) || (cert != nil && !cert.Equal(tt.wantCert)) {
				t.Errorf("cert = %v, want %v", cert, tt.wantCert)
			}
			u, err := dokumentpakke.ParseJWSUnverified(jws)
			if err != nil {
				t.Fatal(err)
			}
			if u.Algorithm != "RS256" || u.KeyID != tt.wantKID || len(u.Certificates) != tt.wantX5C || string(u.Payload) != string(payload) {
				t.Errorf("ParseJWSUnverified = alg %q kid %q %d certs payload %q", u.Algorithm, u.KeyID, len(u.Certificates), u.Payload)
			}
		})
	}
}

func TestVerifyJWSRefuses(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	payload := []byte(`{"a":1}`)
	withX5C, err := dokumentpakke.SignJWS(payload, p.signerKey, []*x509.Certificate{p.signer}, "")
	if err != nil {
		t.Fatal(err)
	}
	bare, err := dokumentpakke.SignJWS(payload, p.signerKey, nil, "kid")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(withX5C, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		name string
		jws  string
		opts dokumentpakke.VerifyOptions
		want error
	}{
		{"payload changed", parts[0] + "." + b64([]byte(`{"a":2}`)) + "." + parts[2], dokumentpakke.VerifyOptions{}, dokumentpakke.ErrBadJWS},
		{"wrong key", withX5C, dokumentpakke.VerifyOptions{Key: &p.recipKey.PublicKey}, dokumentpakke.ErrBadJWS},
		{"no x5c, no key", bare, dokumentpakke.VerifyOptions{}, dokumentpakke.ErrNoVerificationKey},
		{"roots but no x5c", bare, dokumentpakke.VerifyOptions{Roots: p.roots}, dokumentpakke.ErrNoVerificationKey},
		{"untrusted chain", withX5C, dokumentpakke.VerifyOptions{Roots: p.unrelatedRoots}, dokumentpakke.ErrUntrustedSigner},
		{"alg none", b64([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".", dokumentpakke.VerifyOptions{Key: &p.signerKey.PublicKey}, dokumentpakke.ErrBadJWS},
		{"HS256", b64([]byte(`{"alg":"HS256"}`)) + "." + parts[1] + ".AAAA", dokumentpakke.VerifyOptions{Key: &p.signerKey.PublicKey}, dokumentpakke.ErrBadJWS},
		{"bad x5c", b64([]byte(`{"alg":"RS256","x5c":["AAAA"]}`)) + "." + parts[1] + "." + parts[2], dokumentpakke.VerifyOptions{}, dokumentpakke.ErrBadJWS},
		{"garbage", "a.b.c", dokumentpakke.VerifyOptions{}, dokumentpakke.ErrBadJWS},
		{"JSON serialization", `{"payload":"e30","signatures":[]}`, dokumentpakke.VerifyOptions{}, dokumentpakke.ErrBadJWS},
		{"empty", "", dokumentpakke.VerifyOptions{}, dokumentpakke.ErrBadJWS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, _, err := dokumentpakke.VerifyJWS(tt.jws, tt.opts); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSignJWSInvalid(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	tests := []struct {
		name string
		call func() error
	}{
		{"no key", func() error { _, err := dokumentpakke.SignJWS(nil, nil, nil, ""); return err }},
		{"leaf of another key", func() error {
			_, err := dokumentpakke.SignJWS(nil, p.signerKey, []*x509.Certificate{p.recipient}, "")
			return err
		}},
		{"nil certificate", func() error {
			_, err := dokumentpakke.SignJWS(nil, p.signerKey, []*x509.Certificate{p.signer, nil}, "")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.call(); !errors.Is(err, dokumentpakke.ErrInvalidInput) {
				t.Errorf("err = %v, want ErrInvalidInput", err)
			}
		})
	}
}
