package dokumentpakke

import (
	"bytes"
	"cmp"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"hash"
	"net/url"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// Limits on the shape of signatures.xml: they bound the work of canonicalization (which copies subtrees
// per level and namespace tables per element) on hostile input. Real signatures are 7 levels deep and
// declare 4 namespaces.
const (
	xadesMaxDepth        = 64
	xadesMaxNSDecls      = 64
	xadesSignatureIDAttr = "Id"
)

// xadesSignatureMethods are the SignatureMethod URIs VerifyXAdES accepts (RSA PKCS#1 v1.5 with SHA-2).
var xadesSignatureMethods = map[string]crypto.Hash{
	algRSASHA256: crypto.SHA256,
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": crypto.SHA384,
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": crypto.SHA512,
}

// xadesDigestMethods are the Reference DigestMethod URIs VerifyXAdES accepts.
var xadesDigestMethods = map[string]crypto.Hash{
	digestSHA256: crypto.SHA256,
	"http://www.w3.org/2000/09/xmldsig#sha256":      crypto.SHA256, // the URI commons-asic rewrites
	"http://www.w3.org/2001/04/xmldsig-more#sha384": crypto.SHA384,
	"http://www.w3.org/2001/04/xmlenc#sha512":       crypto.SHA512,
}

// certDigestMethods are the CertDigest DigestMethod URIs accepted in SigningCertificate.
var certDigestMethods = map[string]func() hash.Hash{
	digestSHA1:   sha1.New,
	digestSHA256: sha256.New,
	"http://www.w3.org/2001/04/xmlenc#sha512": sha512.New,
}

// VerifyXAdES opens a XAdES-signed ASiC-E container (DPI's document package, as CreateASiCEXAdES and the
// integration point write it) with the default limits and no certificate chain check: ReadXAdES with zero
// ReadOptions.
func VerifyXAdES(container []byte) (*Container, error) {
	return ReadXAdES(container, ReadOptions{})
}

// ReadXAdES opens a XAdES-signed ASiC-E container and verifies it. The zip is checked as ReadASiCE checks
// it (mimetype first and stored, no duplicate or directory entries, opts.MaxEntries and opts.MaxSize);
// META-INF/ may hold only one signatures*.xml and the OASIS manifest.xml. signatures.xml must be an ETSI
// XAdESSignatures element with one XML-DSig Signature whose
//
//   - SignedInfo uses inclusive C14N 1.0 or 1.1 (without comments) and RSA with SHA-256/384/512;
//   - file References (no transforms, URI decoded as Java's URLDecoder does, or taken literally) cover
//     every data object exactly once, each with a matching SHA-256/384/512 digest of its bytes;
//   - one Reference of Type SignedProperties points by Id to the SignedProperties of the Signature's own
//     QualifyingProperties (Target "#" + the Signature's Id), at most with a C14N 1.0/1.1 transform, and its
//     digest matches that element's inclusive canonical form in its document context;
//   - SignatureValue verifies over the canonical SignedInfo with the first KeyInfo X509Certificate;
//   - SigningCertificate names that certificate (CertDigest and serial number; the issuer name text is
//     not compared, its formatting differs between implementations).
//
// With opts.Roots, the certificates in KeyInfo must also chain to a root at the SigningTime (or now, when
// it is missing). opts.AllowUnsigned is ignored: a container without a valid XAdES signature is refused.
// The returned container lists the data objects in zip order with the MIME type of their DataObjectFormat
// (else META-INF/manifest.xml's, else application/octet-stream), the signer's certificate, and Signed set.
func ReadXAdES(data []byte, opts ReadOptions) (*Container, error) {
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	if opts.MaxSize <= 0 {
		opts.MaxSize = DefaultMaxSize
	}
	entries, err := readZip(data, opts)
	if err != nil {
		return nil, err
	}
	var (
		files                []File
		signatures, manifest *zipEntry
	)
	for i := range entries {
		e := &entries[i]
		switch {
		case !strings.HasPrefix(e.name, metaInf):
			files = append(files, File{Name: e.name, Content: e.content})
		case patXAdESSignature.MatchString(e.name):
			if signatures != nil {
				return nil, fmt.Errorf("read xades: %w: more than one XAdES signature file (%s)", ErrUnexpectedEntry, e.name)
			}
			signatures = e
		case strings.EqualFold(e.name[len(metaInf):], "manifest.xml"):
			manifest = e
		default:
			return nil, fmt.Errorf("read xades: %w: %s does not belong in a XAdES container", ErrUnexpectedEntry, e.name)
		}
	}
	if signatures == nil {
		return nil, fmt.Errorf("read xades: %w: no %s", ErrUnsigned, XAdESSignaturesName)
	}
	var oasisTypes map[string]string
	if manifest != nil {
		if oasisTypes, err = parseOASISManifest(manifest.content); err != nil {
			return nil, fmt.Errorf("read xades: %w", err)
		}
	}
	sig, err := verifyXAdESSignatures(signatures.content, files)
	if err != nil {
		return nil, fmt.Errorf("read xades: %s: %w", signatures.name, err)
	}
	if opts.Roots != nil {
		at := sig.signingTime
		if at.IsZero() {
			at = time.Now()
		}
		inter := x509.NewCertPool()
		for _, c := range sig.certs[1:] {
			inter.AddCert(c)
		}
		_, err := sig.certs[0].Verify(x509.VerifyOptions{
			Roots: opts.Roots, Intermediates: inter, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		})
		if err != nil {
			return nil, fmt.Errorf("read xades: %w: %w", ErrUntrustedSigner, err)
		}
	}
	for i := range files {
		f := &files[i]
		f.MimeType = cmp.Or(sig.mimeTypes[f.Name], oasisTypes[f.Name], "application/octet-stream")
	}
	return &Container{Files: files, SignerCertificate: sig.certs[0], Signed: true}, nil
}

// xadesResult is what a verified signatures.xml says.
type xadesResult struct {
	certs       []*x509.Certificate // KeyInfo's, the signer first
	signingTime time.Time           // zero when missing or unreadable
	mimeTypes   map[string]string   // DataObjectFormat MIME type by file name
}

// xadesRef is a parsed Reference.
type xadesRef struct {
	id, uri string
	hash    crypto.Hash
	digest  []byte
	c14n11  bool // the SignedProperties transform is C14N 1.1
}

// verifyXAdESSignatures verifies signatures.xml against the container's data objects.
func verifyXAdESSignatures(data []byte, files []File) (*xadesResult, error) {
	doc := etree.NewDocument()
	doc.ReadSettings.PreserveDuplicateAttrs = true
	doc.ReadSettings.MaxDepth = xadesMaxDepth
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	ids, err := checkXAdESTree(&doc.Element)
	if err != nil {
		return nil, err
	}
	root := doc.Root()
	if root == nil || root.Tag != "XAdESSignatures" || !asicNamespaces[root.NamespaceURI()] {
		return nil, fmt.Errorf("%w: root element is not XAdESSignatures", ErrBadSignature)
	}
	sigEl, err := onlyChild(root, nsXMLDSig, "Signature")
	if err != nil {
		return nil, err
	}
	signedInfo, err := onlyChild(sigEl, nsXMLDSig, "SignedInfo")
	if err != nil {
		return nil, err
	}
	sigValueEl, err := onlyChild(sigEl, nsXMLDSig, "SignatureValue")
	if err != nil {
		return nil, err
	}

	// SignedInfo: algorithms and references.
	c14nEl, err := onlyChild(signedInfo, nsXMLDSig, "CanonicalizationMethod")
	if err != nil {
		return nil, err
	}
	c14n11, err := c14nAlgorithm(c14nEl.SelectAttrValue("Algorithm", ""))
	if err != nil {
		return nil, err
	}
	methodEl, err := onlyChild(signedInfo, nsXMLDSig, "SignatureMethod")
	if err != nil {
		return nil, err
	}
	sigHash, ok := xadesSignatureMethods[methodEl.SelectAttrValue("Algorithm", "")]
	if !ok {
		return nil, fmt.Errorf("%w: unsupported SignatureMethod %q", ErrBadSignature, methodEl.SelectAttrValue("Algorithm", ""))
	}
	var (
		fileRefs  []xadesRef
		propsRef  *xadesRef
		fileOfRef = map[string]string{}
	)
	for _, el := range children(signedInfo, nsXMLDSig, "Reference") {
		ref, isProps, err := parseXAdESReference(el)
		if err != nil {
			return nil, err
		}
		if isProps {
			if propsRef != nil {
				return nil, fmt.Errorf("%w: more than one SignedProperties reference", ErrBadSignature)
			}
			propsRef = &ref
			continue
		}
		fileRefs = append(fileRefs, ref)
	}
	if propsRef == nil {
		return nil, fmt.Errorf("%w: no SignedProperties reference", ErrBadSignature)
	}

	// The signature value, with the first certificate.
	certs, err := keyInfoCertificates(sigEl)
	if err != nil {
		return nil, err
	}
	pub, ok := certs[0].PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: signer certificate has no RSA key", ErrBadSignature)
	}
	sigValue, err := decodeBase64(sigValueEl.Text())
	if err != nil {
		return nil, fmt.Errorf("%w: SignatureValue: %w", ErrBadSignature, err)
	}
	canonical, err := canonicalize(signedInfo, c14n11)
	if err != nil {
		return nil, fmt.Errorf("%w: SignedInfo: %w", ErrBadSignature, err)
	}
	h := sigHash.New()
	h.Write(canonical)
	if err := rsa.VerifyPKCS1v15(pub, sigHash, h.Sum(nil), sigValue); err != nil {
		return nil, fmt.Errorf("%w: SignatureValue does not verify: %w", ErrBadSignature, err)
	}

	// The signed properties.
	id := strings.TrimPrefix(propsRef.uri, "#")
	if ids[id] != 1 {
		return nil, fmt.Errorf("%w: %d elements with Id %q", ErrBadSignature, ids[id], id)
	}
	props, err := signedProperties(sigEl, id)
	if err != nil {
		return nil, err
	}
	if canonical, err = canonicalize(props, propsRef.c14n11); err != nil {
		return nil, fmt.Errorf("%w: SignedProperties: %w", ErrBadSignature, err)
	}
	h = propsRef.hash.New()
	h.Write(canonical)
	if !bytes.Equal(h.Sum(nil), propsRef.digest) {
		return nil, fmt.Errorf("%w: SignedProperties digest mismatch", ErrBadSignature)
	}
	res := &xadesResult{certs: certs, mimeTypes: map[string]string{}}
	if err := checkSigningCertificate(props, certs[0]); err != nil {
		return nil, err
	}
	if t := findPath(props, "SignedSignatureProperties", "SigningTime"); t != nil {
		res.signingTime, _ = time.Parse(time.RFC3339Nano, strings.TrimSpace(t.Text()))
	}

	// The data objects.
	content := make(map[string][]byte, len(files))
	exists := make(map[string]bool, len(files))
	for _, f := range files {
		content[f.Name], exists[f.Name] = f.Content, true
	}
	for i := range fileRefs {
		ref := &fileRefs[i]
		name, ok := "", false
		if n, err := url.QueryUnescape(ref.uri); err == nil && exists[n] {
			name, ok = n, true
		} else if exists[ref.uri] {
			name, ok = ref.uri, true
		}
		if !ok {
			return nil, fmt.Errorf("%w: referenced file %q is not in the container", ErrManifest, ref.uri)
		}
		if _, dup := fileOfRef[name]; dup {
			return nil, fmt.Errorf("%w: %s is referenced twice", ErrManifest, name)
		}
		fileOfRef[name] = ref.id
		h := ref.hash.New()
		h.Write(content[name])
		if !bytes.Equal(h.Sum(nil), ref.digest) {
			return nil, fmt.Errorf("%w: %s", ErrDigestMismatch, name)
		}
	}
	for _, f := range files {
		if _, ok := fileOfRef[f.Name]; !ok {
			return nil, fmt.Errorf("%w: %s is not signed", ErrManifest, f.Name)
		}
	}
	mimeByID := map[string]string{}
	if sdop := findPath(props, "SignedDataObjectProperties"); sdop != nil {
		for _, dof := range children(sdop, nsXAdES, "DataObjectFormat") {
			if mt := findPath(dof, "MimeType"); mt != nil {
				mimeByID[strings.TrimPrefix(dof.SelectAttrValue("ObjectReference", ""), "#")] = strings.TrimSpace(mt.Text())
			}
		}
	}
	for name, id := range fileOfRef {
		if id != "" {
			res.mimeTypes[name] = mimeByID[id]
		}
	}
	return res, nil
}

// checkXAdESTree refuses what a Java verifier would read differently or not at all (a DTD, duplicate
// attributes) and too many namespace declarations, and counts the Id attributes.
func checkXAdESTree(el *etree.Element) (map[string]int, error) {
	ids := map[string]int{}
	decls := 0
	var walk func(el *etree.Element) error
	walk = func(el *etree.Element) error {
		seen := make(map[string]bool, len(el.Attr))
		for _, a := range el.Attr {
			key := a.FullKey()
			if seen[key] {
				return fmt.Errorf("%w: duplicate attribute %s on %s", ErrBadSignature, key, el.FullTag())
			}
			seen[key] = true
			if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
				if decls++; decls > xadesMaxNSDecls {
					return fmt.Errorf("%w: more than %d namespace declarations", ErrBadSignature, xadesMaxNSDecls)
				}
			}
			if a.Space == "" && a.Key == xadesSignatureIDAttr {
				ids[a.Value]++
			}
		}
		for _, t := range el.Child {
			switch t := t.(type) {
			case *etree.Directive:
				return fmt.Errorf("%w: DTDs are not accepted", ErrBadSignature)
			case *etree.Element:
				if err := walk(t); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return ids, walk(el)
}

// parseXAdESReference reads a Reference: a SignedProperties reference (by Type or a "#" URI) or a file
// reference (no transforms).
func parseXAdESReference(el *etree.Element) (ref xadesRef, isProps bool, err error) {
	uriAttr := el.SelectAttr("URI")
	if uriAttr == nil {
		return ref, false, fmt.Errorf("%w: Reference without URI", ErrBadSignature)
	}
	ref.id, ref.uri = el.SelectAttrValue("Id", ""), uriAttr.Value
	dm, err := onlyChild(el, nsXMLDSig, "DigestMethod")
	if err != nil {
		return ref, false, err
	}
	if ref.hash, err = digestMethod(dm); err != nil {
		return ref, false, err
	}
	dv, err := onlyChild(el, nsXMLDSig, "DigestValue")
	if err != nil {
		return ref, false, err
	}
	if ref.digest, err = decodeBase64(dv.Text()); err != nil || len(ref.digest) != ref.hash.Size() {
		return ref, false, fmt.Errorf("%w: bad DigestValue in Reference %q", ErrBadSignature, ref.uri)
	}
	var transforms []string
	if ts := children(el, nsXMLDSig, "Transforms"); len(ts) > 0 {
		if len(ts) > 1 {
			return ref, false, fmt.Errorf("%w: more than one Transforms in Reference %q", ErrBadSignature, ref.uri)
		}
		for _, t := range children(ts[0], nsXMLDSig, "Transform") {
			transforms = append(transforms, t.SelectAttrValue("Algorithm", ""))
		}
	}
	isProps = el.SelectAttrValue("Type", "") == typeSignedProps || strings.HasPrefix(ref.uri, "#")
	if !isProps {
		if len(transforms) > 0 {
			return ref, false, fmt.Errorf("%w: transforms on file reference %q", ErrBadSignature, ref.uri)
		}
		return ref, false, nil
	}
	if el.SelectAttrValue("Type", "") != typeSignedProps || len(ref.uri) < 2 || ref.uri[0] != '#' {
		return ref, true, fmt.Errorf("%w: same-document Reference %q is not a SignedProperties reference", ErrBadSignature, ref.uri)
	}
	switch len(transforms) {
	case 0:
	case 1:
		if ref.c14n11, err = c14nAlgorithm(transforms[0]); err != nil {
			return ref, true, err
		}
	default:
		return ref, true, fmt.Errorf("%w: %d transforms on the SignedProperties reference", ErrBadSignature, len(transforms))
	}
	return ref, true, nil
}

// c14nAlgorithm accepts inclusive Canonical XML 1.0 and 1.1 without comments; it reports 1.1.
func c14nAlgorithm(alg string) (c14n11 bool, err error) {
	switch alg {
	case algC14N10:
		return false, nil
	case algC14N11:
		return true, nil
	}
	return false, fmt.Errorf("%w: unsupported canonicalization %q", ErrBadSignature, alg)
}

func digestMethod(el *etree.Element) (crypto.Hash, error) {
	alg := el.SelectAttrValue("Algorithm", "")
	h, ok := xadesDigestMethods[alg]
	if !ok {
		return 0, fmt.Errorf("%w: unsupported DigestMethod %q", ErrBadSignature, alg)
	}
	return h, nil
}

// keyInfoCertificates returns the X509Certificates of the Signature's KeyInfo, in document order.
func keyInfoCertificates(sigEl *etree.Element) ([]*x509.Certificate, error) {
	keyInfo, err := onlyChild(sigEl, nsXMLDSig, "KeyInfo")
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for _, data := range children(keyInfo, nsXMLDSig, "X509Data") {
		for _, c := range children(data, nsXMLDSig, "X509Certificate") {
			der, err := decodeBase64(c.Text())
			if err != nil {
				return nil, fmt.Errorf("%w: X509Certificate: %w", ErrBadSignature, err)
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, fmt.Errorf("%w: X509Certificate: %w", ErrBadSignature, err)
			}
			certs = append(certs, cert)
		}
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: no X509Certificate in KeyInfo", ErrBadSignature)
	}
	return certs, nil
}

// signedProperties returns the SignedProperties with the given Id, which must sit in a QualifyingProperties
// (targeting the Signature) in an Object of the Signature.
func signedProperties(sigEl *etree.Element, id string) (*etree.Element, error) {
	for _, obj := range children(sigEl, nsXMLDSig, "Object") {
		for _, qp := range children(obj, nsXAdES, "QualifyingProperties") {
			for _, sp := range children(qp, nsXAdES, "SignedProperties") {
				if sp.SelectAttrValue("Id", "") != id {
					continue
				}
				if target := qp.SelectAttrValue("Target", ""); sigEl.SelectAttr("Id") == nil || target != "#"+sigEl.SelectAttrValue("Id", "") {
					return nil, fmt.Errorf("%w: QualifyingProperties Target %q is not this Signature", ErrBadSignature, target)
				}
				return sp, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: SignedProperties %q is not in the Signature's QualifyingProperties", ErrBadSignature, id)
}

// checkSigningCertificate requires a SigningCertificate Cert whose digest and serial number are those of
// the signer's certificate.
func checkSigningCertificate(props *etree.Element, cert *x509.Certificate) error {
	sc := findPath(props, "SignedSignatureProperties", "SigningCertificate")
	if sc == nil {
		return fmt.Errorf("%w: no SigningCertificate", ErrBadSignature)
	}
	for _, c := range children(sc, nsXAdES, "Cert") {
		cd, serial := findPath(c, "CertDigest"), findPath(c, "IssuerSerial")
		if cd == nil || serial == nil {
			continue
		}
		dm, dv := children(cd, nsXMLDSig, "DigestMethod"), children(cd, nsXMLDSig, "DigestValue")
		sn := children(serial, nsXMLDSig, "X509SerialNumber")
		if len(dm) != 1 || len(dv) != 1 || len(sn) != 1 {
			continue
		}
		newHash, ok := certDigestMethods[dm[0].SelectAttrValue("Algorithm", "")]
		want, err := decodeBase64(dv[0].Text())
		if !ok || err != nil {
			continue
		}
		h := newHash()
		h.Write(cert.Raw)
		if bytes.Equal(h.Sum(nil), want) && strings.TrimSpace(sn[0].Text()) == cert.SerialNumber.String() {
			return nil
		}
	}
	return fmt.Errorf("%w: SigningCertificate does not name the signer's certificate", ErrBadSignature)
}

// children returns el's child elements with the given namespace and local name.
func children(el *etree.Element, ns, tag string) []*etree.Element {
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if c.Tag == tag && c.NamespaceURI() == ns {
			out = append(out, c)
		}
	}
	return out
}

// onlyChild returns el's only child element with the given namespace and local name.
func onlyChild(el *etree.Element, ns, tag string) (*etree.Element, error) {
	c := children(el, ns, tag)
	if len(c) != 1 {
		return nil, fmt.Errorf("%w: %d %s elements in %s, want 1", ErrBadSignature, len(c), tag, el.Tag)
	}
	return c[0], nil
}

// findPath follows first child elements in the XAdES namespace; nil when one is missing.
func findPath(el *etree.Element, path ...string) *etree.Element {
	for _, tag := range path {
		c := children(el, nsXAdES, tag)
		if len(c) == 0 {
			return nil
		}
		el = c[0]
	}
	return el
}

// decodeBase64 decodes base64 that may be line-wrapped (Java wraps at 76 characters, sometimes with
// "&#13;").
func decodeBase64(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
}
