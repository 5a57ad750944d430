package dokumentpakke

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"

	"github.com/smallstep/pkcs7"
)

// oidSigningCertificateV2 is id-aa-signingCertificateV2 (RFC 5035), the CAdES-BES signer reference.
var oidSigningCertificateV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}

// signingCertificateV2 is SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2 }.
type signingCertificateV2 struct {
	Certs []essCertIDv2
}

// essCertIDv2 is ESSCertIDv2 with the DEFAULT hash algorithm (SHA-256) left out, as DER requires.
type essCertIDv2 struct {
	CertHash     []byte
	IssuerSerial issuerSerial
}

// issuerSerial is IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }.
type issuerSerial struct {
	Issuer []asn1.RawValue // GeneralNames holding one directoryName [4]
	Serial *big.Int
}

// signDetached makes a detached CMS SignedData over content with SHA-256 and RSA, the signed attributes
// contentType, messageDigest, signingTime and signingCertificateV2, and the signer's certificates.
func signDetached(content []byte, s Signer) ([]byte, error) {
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	certHash := sha256.Sum256(s.Certificate.Raw)
	scv2 := signingCertificateV2{Certs: []essCertIDv2{{
		CertHash: certHash[:],
		IssuerSerial: issuerSerial{
			Issuer: []asn1.RawValue{{Class: asn1.ClassContextSpecific, Tag: 4, IsCompound: true, Bytes: s.Certificate.RawIssuer}},
			Serial: s.Certificate.SerialNumber,
		},
	}}}
	err = sd.AddSigner(s.Certificate, s.Key, pkcs7.SignerInfoConfig{
		ExtraSignedAttributes: []pkcs7.Attribute{{Type: oidSigningCertificateV2, Value: scv2}},
	})
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	for _, c := range s.Chain {
		if c != nil {
			sd.AddCertificate(c)
		}
	}
	sd.Detach()
	out, err := sd.Finish()
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return out, nil
}

// verifyDetached checks a detached CMS SignedData (DER or BER) over content: one signer, whose certificate
// is in the signature, whose messageDigest matches and whose signature verifies (SHA-1 or SHA-2; commons-asic
// signs with SHA1withRSA). With roots, the signer's chain must also verify at the signing time.
func verifyDetached(sig, content []byte, roots *x509.CertPool) (cert *x509.Certificate, err error) {
	// The library is not hardened against hostile input; a panic must not take a simulator down.
	defer func() {
		if r := recover(); r != nil {
			cert, err = nil, fmt.Errorf("%w: malformed signature", ErrBadSignature)
		}
	}()
	// Normalise to DER with the bounded parser first: the library's BER converter recurses without limit
	// (a deeply nested input overflows the stack, which recover cannot catch) and rescans the rest of
	// the input for every end-of-contents check (quadratic time).
	der, err := toDER(sig)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	if len(p7.Signers) != 1 {
		return nil, fmt.Errorf("%w: %d signers, want 1", ErrBadSignature, len(p7.Signers))
	}
	cert = p7.GetOnlySigner()
	if cert == nil {
		return nil, fmt.Errorf("%w: signer certificate not included", ErrBadSignature)
	}
	p7.Content = content
	if err := p7.Verify(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	if roots != nil {
		if err := p7.VerifyWithChain(roots); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUntrustedSigner, err)
		}
	}
	return cert, nil
}
