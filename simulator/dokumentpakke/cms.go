package dokumentpakke

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha1" // OAEP with SHA-1 (the RFC 4055 default) when a sender asks for it
	"crypto/sha256"
	_ "crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
)

// KeyTransport is the RSA key-transport scheme that wraps the content-encryption key for the recipient.
type KeyTransport int

const (
	// RSAOAEP is RSAES-OAEP with SHA-256, MGF1 with SHA-256 and an empty label, encoded as BouncyCastle
	// encodes the integration point's CmsAlgorithm.RSAES_OAEP (DPO, DPI, DPH, SvarInn).
	RSAOAEP KeyTransport = iota
	// RSAPKCS1v15 is RSAES-PKCS1-v1_5 (rsaEncryption), used for DPE and some DPF senders.
	RSAPKCS1v15
)

// String names the scheme.
func (k KeyTransport) String() string {
	switch k {
	case RSAOAEP:
		return "RSAES-OAEP-SHA256"
	case RSAPKCS1v15:
		return "RSAES-PKCS1-v1_5"
	default:
		return fmt.Sprintf("KeyTransport(%d)", int(k))
	}
}

// MaxCMSSize bounds the input of Decrypt: the default ASiC size limit plus room for zip and CMS overhead.
const MaxCMSSize = DefaultMaxSize + 64<<20

// Object identifiers of the CMS structures and algorithms handled here.
var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEnvelopedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}
	oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidRSAESOAEP     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 7}
	oidMGF1          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidPSpecified    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 9}
	oidSHA1          = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA224        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidAES128CBC     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

// issuerAndSerialNumber identifies the recipient certificate.
type issuerAndSerialNumber struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

// keyTransRecipientInfo is KeyTransRecipientInfo (RFC 5652 §6.2.1) with an issuerAndSerialNumber (or, when
// read, any) recipient identifier.
type keyTransRecipientInfo struct {
	Version                int
	RID                    asn1.RawValue
	KeyEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedKey           []byte
}

type encryptedContentInfo struct {
	ContentType                asn1.ObjectIdentifier
	ContentEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedContent           asn1.RawValue
}

type envelopedData struct {
	Version              int
	RecipientInfos       []asn1.RawValue `asn1:"set"`
	EncryptedContentInfo encryptedContentInfo
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue
}

// rsaesOAEPParams is RSAES-OAEP-params (RFC 4055 §4.1). Absent fields take the defaults SHA-1,
// MGF1-SHA-1 and an empty label.
type rsaesOAEPParams struct {
	Hash    pkix.AlgorithmIdentifier `asn1:"optional,explicit,tag:0"`
	MGF     pkix.AlgorithmIdentifier `asn1:"optional,explicit,tag:1"`
	PSource pkix.AlgorithmIdentifier `asn1:"optional,explicit,tag:2"`
}

// oaepSHA256 is the key-encryption AlgorithmIdentifier BouncyCastle writes for the integration point's
// CmsAlgorithm.RSAES_OAEP: SHA-256 (with NULL parameters), MGF1 with SHA-256, and the default (empty)
// pSource left out as DER requires.
var oaepSHA256 = func() pkix.AlgorithmIdentifier {
	sha256ID := pkix.AlgorithmIdentifier{Algorithm: oidSHA256, Parameters: asn1.NullRawValue}
	sha256DER, err := asn1.Marshal(sha256ID)
	if err != nil {
		panic(err)
	}
	params, err := asn1.Marshal(rsaesOAEPParams{
		Hash: sha256ID,
		MGF:  pkix.AlgorithmIdentifier{Algorithm: oidMGF1, Parameters: asn1.RawValue{FullBytes: sha256DER}},
	})
	if err != nil {
		panic(err)
	}
	return pkix.AlgorithmIdentifier{Algorithm: oidRSAESOAEP, Parameters: asn1.RawValue{FullBytes: params}}
}()

// Encrypt wraps plaintext in a CMS EnvelopedData (DER) for the recipient certificate: AES-256-CBC content
// encryption with a fresh key and IV, and one KeyTransRecipientInfo (issuerAndSerialNumber) with the key
// wrapped by kt.
func Encrypt(plaintext []byte, recipient *x509.Certificate, kt KeyTransport) ([]byte, error) {
	if recipient == nil {
		return nil, fmt.Errorf("encrypt: %w: no recipient certificate", ErrInvalidInput)
	}
	pub, ok := recipient.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("encrypt: %w: recipient key is %T, not RSA", ErrUnsupportedAlgorithm, recipient.PublicKey)
	}
	key := make([]byte, 32)
	iv := make([]byte, aes.BlockSize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if _, err := rand.Read(iv); err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}

	var (
		alg     pkix.AlgorithmIdentifier
		wrapped []byte
		err     error
	)
	switch kt {
	case RSAOAEP:
		alg = oaepSHA256
		// EncryptOAEP uses the same hash for MGF1, which is what oaepSHA256 declares.
		wrapped, err = rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, key, nil)
	case RSAPKCS1v15:
		alg = pkix.AlgorithmIdentifier{Algorithm: oidRSAEncryption, Parameters: asn1.NullRawValue}
		// Deprecated in Go 1.26, but DPE and some DPF senders require RSAES-PKCS1-v1_5 key transport.
		//lint:ignore SA1019 the protocol needs PKCS#1 v1.5 key transport (above)
		wrapped, err = rsa.EncryptPKCS1v15(rand.Reader, pub, key)
	default:
		return nil, fmt.Errorf("encrypt: %w: %v", ErrUnsupportedAlgorithm, kt)
	}
	if err != nil {
		return nil, fmt.Errorf("encrypt: wrap key: %w", err)
	}

	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	ciphertext := make([]byte, len(plaintext)+pad)
	copy(ciphertext, plaintext)
	for i := len(plaintext); i < len(ciphertext); i++ {
		ciphertext[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ciphertext, ciphertext)

	ri, err := asn1.Marshal(keyTransRecipientInfo{
		Version:                0,
		RID:                    asn1.RawValue{FullBytes: mustMarshal(issuerAndSerialNumber{Issuer: asn1.RawValue{FullBytes: recipient.RawIssuer}, Serial: recipient.SerialNumber})},
		KeyEncryptionAlgorithm: alg,
		EncryptedKey:           wrapped,
	})
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	ivDER := mustMarshal(iv)
	ed, err := asn1.Marshal(envelopedData{
		Version:        0,
		RecipientInfos: []asn1.RawValue{{FullBytes: ri}},
		EncryptedContentInfo: encryptedContentInfo{
			ContentType:                oidData,
			ContentEncryptionAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidAES256CBC, Parameters: asn1.RawValue{FullBytes: ivDER}},
			EncryptedContent:           asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: ciphertext},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	out, err := asn1.Marshal(contentInfo{
		ContentType: oidEnvelopedData,
		Content:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: ed},
	})
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	return out, nil
}

func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(err) // only called with values that always marshal
	}
	return b
}

// Decrypt opens a CMS EnvelopedData, DER or BER (indefinite lengths and a chunked encrypted content, as
// BouncyCastle's CMSEnvelopedDataStreamGenerator writes it). Like the integration point it uses the first
// RecipientInfo, which must be a KeyTransRecipientInfo with RSAES-OAEP (any SHA-1/SHA-2 hash and MGF1 hash,
// any label) or RSAES-PKCS1-v1_5; the content must be AES-128/192/256-CBC. It refuses input larger than
// MaxCMSSize and returns ErrNotCMS, ErrUnsupportedAlgorithm, ErrDecrypt or ErrTooLarge, never panicking.
func Decrypt(data []byte, key *rsa.PrivateKey) ([]byte, error) {
	if key == nil {
		return nil, fmt.Errorf("decrypt: %w: no private key", ErrInvalidInput)
	}
	if int64(len(data)) > MaxCMSSize {
		return nil, fmt.Errorf("decrypt: %w: %d bytes (limit %d)", ErrTooLarge, len(data), MaxCMSSize)
	}
	env, err := parseEnvelope(data)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	keyLen, err := aesKeyLen(env.contentAlg)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	var iv []byte
	if rest, err := asn1.Unmarshal(env.contentAlg.Parameters.FullBytes, &iv); err != nil || len(rest) > 0 || len(iv) != aes.BlockSize {
		return nil, fmt.Errorf("decrypt: %w: bad AES-CBC IV", ErrNotCMS)
	}
	cek, err := unwrapKey(env.recipient, key)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	if len(cek) != keyLen {
		return nil, fmt.Errorf("decrypt: %w: content key has %d bytes, want %d", ErrDecrypt, len(cek), keyLen)
	}
	ct := env.ciphertext
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("decrypt: %w: ciphertext length %d", ErrDecrypt, len(ct))
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w: %w", ErrDecrypt, err)
	}
	// ct is a fresh buffer (see parseEnvelope), so it is decrypted in place.
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(ct, ct)
	pad := int(ct[len(ct)-1])
	if pad == 0 || pad > aes.BlockSize {
		return nil, fmt.Errorf("decrypt: %w: bad padding", ErrDecrypt)
	}
	for _, b := range ct[len(ct)-pad:] {
		if int(b) != pad {
			return nil, fmt.Errorf("decrypt: %w: bad padding", ErrDecrypt)
		}
	}
	return ct[:len(ct)-pad], nil
}

type envelope struct {
	recipient  keyTransRecipientInfo
	contentAlg pkix.AlgorithmIdentifier
	ciphertext []byte
}

// parseEnvelope walks ContentInfo → EnvelopedData and returns the first recipient, the content-encryption
// algorithm and a copy of the encrypted content.
func parseEnvelope(data []byte) (*envelope, error) {
	bad := func(what string, err error) error {
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrNotCMS, what, err)
		}
		return fmt.Errorf("%w: %s", ErrNotCMS, what)
	}
	ci, rest, err := parseBER(data, 0)
	if err != nil {
		return nil, bad("content info", err)
	}
	if len(rest) > 0 || !ci.is(classUniversal, tagSequence, true) {
		return nil, bad("content info is not a single SEQUENCE", nil)
	}
	kids, err := ci.children(0)
	if err != nil || len(kids) != 2 {
		return nil, bad("content info", err)
	}
	var ct asn1.ObjectIdentifier
	if err := unmarshalDER(kids[0], tagOID, &ct); err != nil {
		return nil, bad("content type", err)
	}
	if !ct.Equal(oidEnvelopedData) {
		return nil, bad("content type "+ct.String()+" is not enveloped-data", nil)
	}
	if !kids[1].is(classContextSpecific, 0, true) {
		return nil, bad("content is not [0]", nil)
	}
	inner, err := kids[1].children(1)
	if err != nil || len(inner) != 1 || !inner[0].is(classUniversal, tagSequence, true) {
		return nil, bad("enveloped data", err)
	}
	fields, err := inner[0].children(2)
	if err != nil {
		return nil, bad("enveloped data", err)
	}
	// EnvelopedData ::= SEQUENCE { version, originatorInfo [0] OPTIONAL, recipientInfos SET,
	//                               encryptedContentInfo SEQUENCE, unprotectedAttrs [1] OPTIONAL }
	if len(fields) < 3 || !fields[0].is(classUniversal, tagInteger, false) {
		return nil, bad("enveloped data version", nil)
	}
	fields = fields[1:]
	if fields[0].is(classContextSpecific, 0, true) {
		fields = fields[1:]
	}
	if len(fields) < 2 || !fields[0].is(classUniversal, tagSet, true) || !fields[1].is(classUniversal, tagSequence, true) {
		return nil, bad("recipient infos / encrypted content info", nil)
	}
	env := &envelope{}

	ris, err := fields[0].children(3)
	if err != nil || len(ris) == 0 {
		return nil, bad("no recipient infos", err)
	}
	if !ris[0].is(classUniversal, tagSequence, true) {
		return nil, fmt.Errorf("%w: first recipient info is [%d], not a KeyTransRecipientInfo", ErrUnsupportedAlgorithm, ris[0].tag)
	}
	if rest, err := asn1.Unmarshal(ris[0].full, &env.recipient); err != nil || len(rest) > 0 {
		return nil, bad("key transport recipient info", err)
	}

	eci, err := fields[1].children(3)
	if err != nil || len(eci) < 2 {
		return nil, bad("encrypted content info", err)
	}
	if rest, err := asn1.Unmarshal(eci[1].full, &env.contentAlg); err != nil || len(rest) > 0 {
		return nil, bad("content encryption algorithm", err)
	}
	if len(eci) < 3 || eci[2].class != classContextSpecific || eci[2].tag != 0 {
		return nil, bad("no encrypted content (detached content is not supported)", nil)
	}
	if env.ciphertext, err = eci[2].appendOctets(make([]byte, 0, len(eci[2].body)), 4); err != nil {
		return nil, bad("encrypted content", err)
	}
	return env, nil
}

// unmarshalDER decodes a (definite-length, DER) primitive element with encoding/asn1.
func unmarshalDER(e berElem, tag int, v any) error {
	if !e.is(classUniversal, tag, false) {
		return fmt.Errorf("%w: unexpected tag %d", errBER, e.tag)
	}
	rest, err := asn1.Unmarshal(e.full, v)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("%w: trailing data", errBER)
	}
	return err
}

func aesKeyLen(alg pkix.AlgorithmIdentifier) (int, error) {
	switch {
	case alg.Algorithm.Equal(oidAES128CBC):
		return 16, nil
	case alg.Algorithm.Equal(oidAES192CBC):
		return 24, nil
	case alg.Algorithm.Equal(oidAES256CBC):
		return 32, nil
	default:
		return 0, fmt.Errorf("%w: content encryption %s", ErrUnsupportedAlgorithm, alg.Algorithm)
	}
}

// unwrapKey decrypts the content-encryption key with the recipient's private key.
func unwrapKey(ri keyTransRecipientInfo, key *rsa.PrivateKey) ([]byte, error) {
	var opts crypto.DecrypterOpts
	switch alg := ri.KeyEncryptionAlgorithm; {
	case alg.Algorithm.Equal(oidRSAEncryption):
		// Not the constant-time session-key variant on purpose: a wrong key must be reported as ErrDecrypt
		// (a test harness is no padding oracle worth protecting).
		//lint:ignore SA1019 PKCS#1 v1.5 key transport is what such senders use (above)
		opts = &rsa.PKCS1v15DecryptOptions{}
	case alg.Algorithm.Equal(oidRSAESOAEP):
		o, err := oaepOptions(alg.Parameters.FullBytes)
		if err != nil {
			return nil, err
		}
		opts = o
	default:
		return nil, fmt.Errorf("%w: key transport %s", ErrUnsupportedAlgorithm, alg.Algorithm)
	}
	cek, err := key.Decrypt(nil, ri.EncryptedKey, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: unwrap content key: %w", ErrDecrypt, err)
	}
	return cek, nil
}

// oaepOptions reads RSAES-OAEP-params, applying the RFC 4055 defaults for absent fields.
func oaepOptions(der []byte) (*rsa.OAEPOptions, error) {
	o := &rsa.OAEPOptions{Hash: crypto.SHA1, MGFHash: crypto.SHA1}
	if len(der) == 0 {
		return o, nil
	}
	var p rsaesOAEPParams
	if rest, err := asn1.Unmarshal(der, &p); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("%w: bad RSAES-OAEP parameters", ErrNotCMS)
	}
	if len(p.Hash.Algorithm) > 0 {
		h, err := hashFor(p.Hash.Algorithm)
		if err != nil {
			return nil, err
		}
		o.Hash = h
	}
	if len(p.MGF.Algorithm) > 0 {
		if !p.MGF.Algorithm.Equal(oidMGF1) {
			return nil, fmt.Errorf("%w: mask generation %s", ErrUnsupportedAlgorithm, p.MGF.Algorithm)
		}
		var mh pkix.AlgorithmIdentifier
		if rest, err := asn1.Unmarshal(p.MGF.Parameters.FullBytes, &mh); err != nil || len(rest) > 0 {
			return nil, fmt.Errorf("%w: bad MGF1 parameters", ErrNotCMS)
		}
		h, err := hashFor(mh.Algorithm)
		if err != nil {
			return nil, err
		}
		o.MGFHash = h
	}
	if len(p.PSource.Algorithm) > 0 {
		if !p.PSource.Algorithm.Equal(oidPSpecified) {
			return nil, fmt.Errorf("%w: OAEP pSource %s", ErrUnsupportedAlgorithm, p.PSource.Algorithm)
		}
		if rest, err := asn1.Unmarshal(p.PSource.Parameters.FullBytes, &o.Label); err != nil || len(rest) > 0 {
			return nil, fmt.Errorf("%w: bad OAEP label", ErrNotCMS)
		}
	}
	return o, nil
}

func hashFor(oid asn1.ObjectIdentifier) (crypto.Hash, error) {
	switch {
	case oid.Equal(oidSHA1):
		return crypto.SHA1, nil
	case oid.Equal(oidSHA224):
		return crypto.SHA224, nil
	case oid.Equal(oidSHA256):
		return crypto.SHA256, nil
	case oid.Equal(oidSHA384):
		return crypto.SHA384, nil
	case oid.Equal(oidSHA512):
		return crypto.SHA512, nil
	default:
		return 0, fmt.Errorf("%w: OAEP hash %s", ErrUnsupportedAlgorithm, oid)
	}
}
