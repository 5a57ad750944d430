// Package dokumentpakke packs and opens eFormidling document packages the way the integration point
// (IP) does (upstreams §1.3.2, §12.11): a CAdES-signed ASiC-E container encrypted in a CMS EnvelopedData,
// plus the eFormidling manifest.xml and the JWS helpers the DPI protocol needs. The reference IP uses it
// to pack what it sends and open what it receives; the simulators use it to inspect what they receive and
// to pack injected inbound messages. It imports nothing else from this module.
//
// # What is produced
//
//   - CreateASiCE: a zip whose first entry is "mimetype" (STORED, no extra field, sizes in the local
//     header and no data descriptor, so Java's ZipInputStream reads it), then the data objects in the
//     given order, META-INF/ASiCManifest.xml (ETSI TS 102 918 ASiCManifest: SigReference, then one
//     DataObjectReference per file with MimeType and a SHA-256 DigestValue), META-INF/signature-<uuid>.p7s
//     (a detached CMS SignedData over the exact manifest bytes: SHA-256 with RSA, signed attributes
//     contentType, messageDigest, signingTime and signingCertificateV2, the signer's certificate and
//     Signer.Chain included) and the OASIS META-INF/manifest.xml. This is commons-asic's
//     (felleslosninger/efm-asic) layout. Two deliberate differences: the manifest is named as current
//     commons-asic names it (ASiCManifest.xml; the spec's "asicmanifest.xml" is the pre-rename name, and
//     every reader matches it case-insensitively), and the signature uses SHA-256 where commons-asic's
//     SignatureHelper still signs SHA1withRSA (its verifier accepts either).
//   - Encrypt: DER EnvelopedData, AES-256-CBC, one KeyTransRecipientInfo (issuerAndSerialNumber) with
//     RSAES-OAEP (SHA-256, MGF1-SHA-256, empty label; parameters encoded exactly as BouncyCastle encodes
//     the IP's CmsAlgorithm.RSAES_OAEP) or RSAES-PKCS1-v1_5 (DPE). The IP writes BER with indefinite
//     lengths (CMSEnvelopedDataStreamGenerator); BouncyCastle reads DER as well.
//   - BuildManifest: the IP's ManifestFactory output; SignJWS: compact RS256 with x5c and/or kid.
//
// # What is verified when reading
//
// ReadASiCE follows commons-asic's AsicReader (which the IP uses through AsicParser): the mimetype entry
// must be first (we check the first local header, the IP's reader is laxer), stored, and hold
// application/vnd.etsi.asic-e+zip; META-INF/ may hold only the ASiC manifest, CAdES signatures, XAdES
// signatures.xml and manifest.xml (anything else is ErrUnexpectedEntry, as the IP throws "unknown metadata
// file"); the CAdES signature referenced by the manifest must verify cryptographically over the manifest
// bytes (SHA-1 and SHA-2 digests accepted, so the IP's SHA1withRSA signatures verify); every data object
// must be listed with a matching SHA-256 and every listed file must exist. Certificate chains are NOT
// checked unless ReadOptions.Roots is set (the IP does not check them either); revocation is never
// checked. ReadASiCE does not verify XAdES signatures (DPI): it accepts such containers only with
// ReadOptions.AllowUnsigned and reports them as not Signed; VerifyXAdES and ReadXAdES (xades_verify.go)
// verify them — every file's digest, the SignedProperties and the signature, with inclusive C14N 1.0 of
// our own (CreateASiCEXAdES writes them as commons-asic does). Zip-bomb limits bound the entry count and the total
// uncompressed size.
//
// Decrypt reads DER and BER (indefinite lengths, the encrypted content as a constructed OCTET STRING of
// chunks) and, like the IP's DecryptCMSDocument, uses the first RecipientInfo whatever its recipient
// identifier says. It accepts RSAES-OAEP with any SHA-1/SHA-2 hash, MGF1 hash and label, and
// RSAES-PKCS1-v1_5, over AES-128/192/256-CBC. AES-GCM (DPH) and KeyAgree/KEK/password recipients are not
// supported (ErrUnsupportedAlgorithm). Decrypt is not constant-time with respect to PKCS#1 v1.5 padding:
// it reports a wrong key as ErrDecrypt instead of hiding it, which is right for a test harness and wrong
// for a production service.
//
// VerifyJWS checks RS256/RS384/RS512 against a given key or the x5c leaf, and the x5c chain only when
// VerifyOptions.Roots is set.
//
// # Libraries, and why
//
//   - github.com/smallstep/pkcs7 v0.2.3 (the maintained fork of go.mozilla.org/pkcs7) for the CMS
//     SignedData of the CAdES signature, signing and verifying: it does detached signatures, SHA-256,
//     extra signed attributes (signingCertificateV2 goes in through SignerInfoConfig), DER-sorted
//     attribute sets, and chain verification at the signing time. Its parser is not hardened against
//     hostile input, so a signature is first normalised to DER by this package's bounded BER reader (the
//     library's own BER converter recurses without limit, and 16 MiB of nested indefinite lengths kill the
//     process with a stack overflow no recover can catch; it also rescans the rest of the input for every
//     end-of-contents check, quadratic time), and the call is wrapped in a recover.
//   - EnvelopedData is written and read here with encoding/asn1, crypto/rsa and crypto/aes, plus that
//     small bounded BER reader (ber.go), because smallstep/pkcs7 v0.2.3 cannot be used for it:
//     (1) its OAEP AlgorithmIdentifier carries only the hash and omits maskGenAlgorithm, which by RFC 4055
//     means MGF1-SHA-1, while it actually pads with MGF1-SHA-256, so OpenSSL and BouncyCastle (the IP)
//     unwrap a wrong key (`openssl cms -decrypt` of its output fails with "bad decrypt");
//     (2) it selects algorithms through package-global variables, a data race between concurrent DPO
//     (OAEP) and DPE (PKCS#1 v1.5) sends; (3) Decrypt needs the recipient certificate and cannot take the
//     first RecipientInfo as the IP does; (4) it ignores the MGF1 hash and label when decrypting; (5) its
//     CBC unpadding slices with an unchecked pad length, so a tampered ciphertext panics (17 of 20
//     single-byte changes did), besides the BER problems above. No other maintained Go CMS library with
//     EnvelopedData is available here (github.com/github/smimesign's ietf-cms does SignedData only).
//   - github.com/go-jose/go-jose/v4 for JWS. Only the x5c header is decoded by hand, because go-jose
//     exposes x5c certificates only after verifying their chain, and DPI receipts carry self-signed
//     certificates.
//   - archive/zip and encoding/xml from the standard library for the container and the manifests;
//     github.com/google/uuid for the signature file name.
//
// # Interoperability evidence
//
// testdata/gen.sh documents how the checked-in TEST-ONLY keys and vectors were made with the openssl CLI
// and Info-ZIP (the tests never run it): EnvelopedData in BER streaming form (`openssl cms -encrypt
// -stream`, structurally what BouncyCastle's stream generator writes) and in DER, with OAEP (SHA-256 or
// SHA-1, either MGF1 hash) and PKCS#1 v1.5 over AES-128/192/256-CBC, two recipients; detached SHA1withRSA
// signatures like commons-asic's (DER and BER) and a CAdES-BES one (-cades); a complete ASiC-E container
// zipped by Info-ZIP with an openssl signature, also encrypted. The tests decrypt and read all of them.
// When the tools are on PATH the tests also hand this package's output to `openssl cms -decrypt` (both key
// transports), `openssl cms -verify` (with and without the chain) and to the JDK: testdata/java/AsicCheck.java
// reads the container with java.util.zip.ZipInputStream as commons-asic does, checks the digests and
// verifies the signature with the JDK's PKCS#7 code. BouncyCastle itself is not available on this machine,
// so no vector comes from the real IP's own library.
package dokumentpakke
