package dokumentpakke

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// jwsAlgorithms are the signature algorithms VerifyJWS and ParseJWSUnverified accept.
var jwsAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512}

// MaxJWSSize bounds the compact JWS the parsers accept.
const MaxJWSSize = 16 << 20

// VerifyOptions controls VerifyJWS.
type VerifyOptions struct {
	// Key, when set, is the key the signature must verify with (for example a JWK the caller fetched for
	// the kid). When nil the leaf of the x5c header is used.
	Key *rsa.PublicKey
	// Roots, when set, requires an x5c header whose chain leads to one of these roots.
	Roots *x509.CertPool
	// CurrentTime is the time the x5c chain is checked at (now when zero).
	CurrentTime time.Time
}

// JWS is a parsed, unverified compact JWS.
type JWS struct {
	// Payload is the decoded payload.
	Payload []byte
	// Algorithm is the alg header.
	Algorithm string
	// KeyID is the kid header, if any.
	KeyID string
	// Certificates is the parsed x5c header (leaf first), if any.
	Certificates []*x509.Certificate
}

// SignJWS signs payload as a compact RS256 JWS. chain, when given, goes into the x5c header (leaf first;
// the leaf must belong to key) and kid, when not empty, into the kid header.
func SignJWS(payload []byte, key *rsa.PrivateKey, chain []*x509.Certificate, kid string) (string, error) {
	if key == nil {
		return "", fmt.Errorf("sign jws: %w: no key", ErrInvalidInput)
	}
	opts := &jose.SignerOptions{}
	if len(chain) > 0 {
		if chain[0] == nil {
			return "", fmt.Errorf("sign jws: %w: nil certificate", ErrInvalidInput)
		}
		if pub, ok := chain[0].PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
			return "", fmt.Errorf("sign jws: %w: x5c leaf does not belong to the key", ErrInvalidInput)
		}
		x5c := make([]string, 0, len(chain))
		for _, c := range chain {
			if c == nil {
				return "", fmt.Errorf("sign jws: %w: nil certificate", ErrInvalidInput)
			}
			x5c = append(x5c, base64.StdEncoding.EncodeToString(c.Raw))
		}
		opts.WithHeader("x5c", x5c)
	}
	var sk any = key
	if kid != "" {
		sk = jose.JSONWebKey{Key: key, KeyID: kid}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: sk}, opts)
	if err != nil {
		return "", fmt.Errorf("sign jws: %w", err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign jws: %w", err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("sign jws: %w", err)
	}
	return out, nil
}

// VerifyJWS verifies a compact JWS (RS256, RS384 or RS512) with opts.Key, or else with the leaf
// certificate of its x5c header; with opts.Roots the x5c chain must also lead to a root. It returns the
// payload and the x5c leaf (nil when there is no x5c header, or when opts.Key is not the leaf's key).
func VerifyJWS(compact string, opts VerifyOptions) (payload []byte, cert *x509.Certificate, err error) {
	obj, info, err := parseJWS(compact)
	if err != nil {
		return nil, nil, fmt.Errorf("verify jws: %w", err)
	}
	var leaf *x509.Certificate
	if len(info.Certificates) > 0 {
		leaf = info.Certificates[0]
	}
	if opts.Roots != nil {
		if leaf == nil {
			return nil, nil, fmt.Errorf("verify jws: %w: roots given but no x5c header", ErrNoVerificationKey)
		}
		inter := x509.NewCertPool()
		for _, c := range info.Certificates[1:] {
			inter.AddCert(c)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{
			Roots: opts.Roots, Intermediates: inter, CurrentTime: opts.CurrentTime,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		}); err != nil {
			return nil, nil, fmt.Errorf("verify jws: %w: %w", ErrUntrustedSigner, err)
		}
	}
	key := opts.Key
	if key == nil {
		if leaf == nil {
			return nil, nil, fmt.Errorf("verify jws: %w", ErrNoVerificationKey)
		}
		pub, ok := leaf.PublicKey.(*rsa.PublicKey)
		if !ok {
			return nil, nil, fmt.Errorf("verify jws: %w: x5c key is %T, not RSA", ErrBadJWS, leaf.PublicKey)
		}
		key = pub
	} else if leaf != nil {
		if pub, ok := leaf.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(key) {
			leaf = nil
		}
	}
	payload, err = obj.Verify(key)
	if err != nil {
		return nil, nil, fmt.Errorf("verify jws: %w: %w", ErrBadJWS, err)
	}
	return payload, leaf, nil
}

// ParseJWSUnverified decodes a compact JWS without verifying its signature (simulators use it to read what
// a client sent when verification is not the point).
func ParseJWSUnverified(compact string) (*JWS, error) {
	_, info, err := parseJWS(compact)
	if err != nil {
		return nil, fmt.Errorf("parse jws: %w", err)
	}
	return info, nil
}

func parseJWS(compact string) (*jose.JSONWebSignature, *JWS, error) {
	compact = strings.TrimSpace(compact)
	if len(compact) > MaxJWSSize {
		return nil, nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(compact))
	}
	obj, err := jose.ParseSignedCompact(compact, jwsAlgorithms)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrBadJWS, err)
	}
	if len(obj.Signatures) != 1 {
		return nil, nil, fmt.Errorf("%w: %d signatures", ErrBadJWS, len(obj.Signatures))
	}
	// go-jose keeps the parsed x5c private (it hands it out only after chain verification), so the
	// protected header is decoded here to get the leaf of a self-signed or unanchored chain.
	var hdr struct {
		X5C []string `json:"x5c"`
	}
	raw, err := base64.RawURLEncoding.DecodeString(compact[:strings.IndexByte(compact, '.')])
	if err != nil {
		return nil, nil, fmt.Errorf("%w: header: %w", ErrBadJWS, err)
	}
	if err := json.Unmarshal(raw, &hdr); err != nil {
		return nil, nil, fmt.Errorf("%w: header: %w", ErrBadJWS, err)
	}
	info := &JWS{
		Payload:   obj.UnsafePayloadWithoutVerification(),
		Algorithm: obj.Signatures[0].Protected.Algorithm,
		KeyID:     obj.Signatures[0].Protected.KeyID,
	}
	for i, s := range hdr.X5C {
		der, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: x5c[%d]: %w", ErrBadJWS, i, err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: x5c[%d]: %w", ErrBadJWS, i, err)
		}
		info.Certificates = append(info.Certificates, c)
	}
	return obj, info, nil
}
