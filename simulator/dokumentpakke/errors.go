package dokumentpakke

import "errors"

// Errors returned (wrapped, with context) by this package. Test them with errors.Is.
var (
	// ErrNotASiC means the input is not an ASiC-E container: not a zip, or the first entry is not a stored
	// "mimetype" entry holding application/vnd.etsi.asic-e+zip.
	ErrNotASiC = errors.New("dokumentpakke: not an ASiC-E container")
	// ErrUnexpectedEntry means the container holds an entry the real reader refuses: an unknown META-INF/*
	// file, a directory entry, a second mimetype, a duplicate name.
	ErrUnexpectedEntry = errors.New("dokumentpakke: unexpected container entry")
	// ErrManifest means META-INF/ASiCManifest.xml or META-INF/manifest.xml is missing, malformed or
	// inconsistent with the container (a data object not listed, a listed file missing, an unsupported
	// digest method).
	ErrManifest = errors.New("dokumentpakke: bad ASiC manifest")
	// ErrDigestMismatch means a data object's SHA-256 differs from the digest in the ASiC manifest.
	ErrDigestMismatch = errors.New("dokumentpakke: digest mismatch")
	// ErrBadSignature means the CAdES signature over the ASiC manifest, or the XAdES signature of a DPI
	// container, is missing or does not verify cryptographically.
	ErrBadSignature = errors.New("dokumentpakke: bad signature")
	// ErrUntrustedSigner means the signature verifies but the signer's chain does not lead to
	// ReadOptions.Roots.
	ErrUntrustedSigner = errors.New("dokumentpakke: untrusted signer")
	// ErrUnsigned means the container has no CAdES signature and ReadOptions.AllowUnsigned is false.
	ErrUnsigned = errors.New("dokumentpakke: container is not signed")
	// ErrTooLarge means a size or count limit was exceeded (zip-bomb protection).
	ErrTooLarge = errors.New("dokumentpakke: too large")
	// ErrInvalidInput means the caller passed something CreateASiCE, Encrypt or the JWS helpers cannot use:
	// an illegal or duplicate file name, an empty MIME type, a missing or mismatching key or certificate.
	ErrInvalidInput = errors.New("dokumentpakke: invalid input")
	// ErrNotCMS means the input is not a CMS ContentInfo holding EnvelopedData (or it is malformed).
	ErrNotCMS = errors.New("dokumentpakke: not CMS EnvelopedData")
	// ErrUnsupportedAlgorithm means the EnvelopedData uses a recipient type, key transport or content
	// encryption algorithm this package does not implement.
	ErrUnsupportedAlgorithm = errors.New("dokumentpakke: unsupported algorithm")
	// ErrDecrypt means the content key could not be unwrapped with the given private key (wrong key), or
	// the content did not decrypt (bad padding, truncated ciphertext).
	ErrDecrypt = errors.New("dokumentpakke: decryption failed")
	// ErrBadJWS means a JWS is malformed, uses an algorithm other than RS256/RS384/RS512, or its signature
	// does not verify.
	ErrBadJWS = errors.New("dokumentpakke: bad JWS")
	// ErrNoVerificationKey means a JWS carries no x5c header and VerifyOptions.Key is nil.
	ErrNoVerificationKey = errors.New("dokumentpakke: no key to verify JWS")
)
