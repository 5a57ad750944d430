package dokumentpakke

import (
	"archive/zip"
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// Names, namespaces and algorithm URIs of the XAdES signature DPI's integration point writes (commons-asic
// 1.0.1 XadesAsicManifest).
const (
	// XAdESSignaturesName is the zip entry holding the XAdES signature of an ASiC-E container.
	XAdESSignaturesName = "META-INF/signatures.xml"

	nsXAdES = "http://uri.etsi.org/01903/v1.3.2#"

	algC14N10       = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
	algC14N11       = "http://www.w3.org/2006/12/xml-c14n11"
	algRSASHA256    = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	digestSHA1      = "http://www.w3.org/2000/09/xmldsig#sha1"
	typeSignedProps = "http://uri.etsi.org/01903#SignedProperties"

	xadesSignatureID   = "Signature"
	xadesSignedPropsID = "SignedProperties"
	// signingTimeLayout is how Java's XMLGregorianCalendar prints a GregorianCalendar: milliseconds, and
	// Z or a ±hh:mm offset.
	signingTimeLayout = "2006-01-02T15:04:05.000Z07:00"
)

// CreateASiCEXAdES builds a XAdES-signed ASiC-E container the way DPI's integration point does (commons-asic
// 1.0.1 XadesAsicWriter): the stored mimetype entry first (as CreateASiCE writes it), then the files in the
// given order, deflated (for DPI: the SDP manifest.xml, the main document, the attachments, the main
// document's metadata file), then META-INF/signatures.xml and the OASIS META-INF/manifest.xml.
//
// signatures.xml is an ETSI XAdESSignatures element holding one enveloping XML-DSig Signature
// (Id="Signature"): inclusive Canonical XML 1.0 and RSA-SHA256 over SignedInfo, one Reference per file
// (Id="ID_n", URI = the name encoded as Java's URLEncoder encodes it, SHA-256 of the raw bytes, no
// transforms), and a last Reference of Type SignedProperties to "#SignedProperties" (C14N 1.0 transform,
// SHA-256); KeyInfo carries the signer's certificate followed by Signer.Chain; the Object carries XAdES
// 1.3.2 QualifyingProperties with the signing time (now, in now's location, with milliseconds), the SHA-1
// digest, issuer and serial number of the signer's certificate, and one DataObjectFormat with the MIME type
// of every file. now also dates the zip entries.
func CreateASiCEXAdES(files []File, s Signer, now time.Time) ([]byte, error) {
	if err := checkSigner(s); err != nil {
		return nil, err
	}
	if err := checkFiles(files); err != nil {
		return nil, err
	}
	for _, f := range files {
		if !utf8.ValidString(f.Name) || !validXMLText(f.MimeType) {
			return nil, fmt.Errorf("create asic-e: %w: file name or MIME type of %q is not valid XML text", ErrInvalidInput, f.Name)
		}
	}
	sig, err := buildXAdESSignatures(files, s, now)
	if err != nil {
		return nil, fmt.Errorf("create asic-e: %w", err)
	}

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	if err := zw.SetComment("mimetype=" + MimeTypeASiCE); err != nil {
		return nil, fmt.Errorf("create asic-e: %w", err)
	}
	if err := writeMimetype(zw, now); err != nil {
		return nil, fmt.Errorf("create asic-e: %w", err)
	}
	for _, f := range files {
		if err := writeDeflated(zw, f.Name, f.Content, now); err != nil {
			return nil, fmt.Errorf("create asic-e: %w", err)
		}
	}
	if err := writeDeflated(zw, XAdESSignaturesName, sig, now); err != nil {
		return nil, fmt.Errorf("create asic-e: %w", err)
	}
	if err := writeDeflated(zw, OASISManifestName, buildOASISManifest(files), now); err != nil {
		return nil, fmt.Errorf("create asic-e: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("create asic-e: %w", err)
	}
	return buf.Bytes(), nil
}

// buildXAdESSignatures writes META-INF/signatures.xml. The document is laid out without whitespace between
// elements, like the JDK's DOM serializer writes it; the QualifyingProperties carry JAXB's namespace
// declarations (default XAdES namespace, ns2 for XML-DSig).
func buildXAdESSignatures(files []File, s Signer, now time.Time) ([]byte, error) {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8" standalone="no"`)
	root := doc.CreateElement("XAdESSignatures")
	root.CreateAttr("xmlns", nsASiC)
	sigEl := root.CreateElement("Signature")
	sigEl.CreateAttr("xmlns", nsXMLDSig)
	sigEl.CreateAttr("Id", xadesSignatureID)

	signedInfo := sigEl.CreateElement("SignedInfo")
	signedInfo.CreateElement("CanonicalizationMethod").CreateAttr("Algorithm", algC14N10)
	signedInfo.CreateElement("SignatureMethod").CreateAttr("Algorithm", algRSASHA256)
	for i, f := range files {
		ref := signedInfo.CreateElement("Reference")
		ref.CreateAttr("Id", "ID_"+strconv.Itoa(i))
		ref.CreateAttr("URI", javaURLEncode(f.Name))
		sum := sha256.Sum256(f.Content)
		addDigest(ref, "", digestSHA256, sum[:])
	}
	propsRef := signedInfo.CreateElement("Reference")
	propsRef.CreateAttr("Type", typeSignedProps)
	propsRef.CreateAttr("URI", "#"+xadesSignedPropsID)
	propsRef.CreateElement("Transforms").CreateElement("Transform").CreateAttr("Algorithm", algC14N10)
	propsRef.CreateElement("DigestMethod").CreateAttr("Algorithm", digestSHA256)
	propsDigest := propsRef.CreateElement("DigestValue")

	sigValue := sigEl.CreateElement("SignatureValue")
	x509Data := sigEl.CreateElement("KeyInfo").CreateElement("X509Data")
	for _, c := range append([]*x509.Certificate{s.Certificate}, s.Chain...) {
		if c != nil {
			x509Data.CreateElement("X509Certificate").SetText(wrapBase64(c.Raw))
		}
	}

	qp := sigEl.CreateElement("Object").CreateElement("QualifyingProperties")
	qp.CreateAttr("xmlns", nsXAdES)
	qp.CreateAttr("xmlns:ns2", nsXMLDSig)
	qp.CreateAttr("Target", "#"+xadesSignatureID)
	props := qp.CreateElement("SignedProperties")
	props.CreateAttr("Id", xadesSignedPropsID)
	ssp := props.CreateElement("SignedSignatureProperties")
	ssp.CreateElement("SigningTime").SetText(now.Format(signingTimeLayout))
	cert := ssp.CreateElement("SigningCertificate").CreateElement("Cert")
	certSum := sha1.Sum(s.Certificate.Raw) // SHA-1, as commons-asic writes CertDigest
	addDigest(cert.CreateElement("CertDigest"), "ns2:", digestSHA1, certSum[:])
	issuerSerial := cert.CreateElement("IssuerSerial")
	issuer := javaDN(s.Certificate.RawIssuer)
	if !validXMLText(issuer) {
		return nil, fmt.Errorf("xades: %w: the certificate's issuer name is not valid XML text", ErrInvalidInput)
	}
	issuerSerial.CreateElement("ns2:X509IssuerName").SetText(issuer)
	issuerSerial.CreateElement("ns2:X509SerialNumber").SetText(s.Certificate.SerialNumber.String())
	sdop := props.CreateElement("SignedDataObjectProperties")
	for i, f := range files {
		dof := sdop.CreateElement("DataObjectFormat")
		dof.CreateAttr("ObjectReference", "#ID_"+strconv.Itoa(i))
		dof.CreateElement("MimeType").SetText(f.MimeType)
	}

	c14n, err := canonicalize(props, false)
	if err != nil {
		return nil, fmt.Errorf("xades: canonicalize SignedProperties: %w", err)
	}
	sum := sha256.Sum256(c14n)
	propsDigest.SetText(base64.StdEncoding.EncodeToString(sum[:]))

	if c14n, err = canonicalize(signedInfo, false); err != nil {
		return nil, fmt.Errorf("xades: canonicalize SignedInfo: %w", err)
	}
	sum = sha256.Sum256(c14n)
	value, err := rsa.SignPKCS1v15(rand.Reader, s.Key, crypto.SHA256, sum[:])
	if err != nil {
		return nil, fmt.Errorf("xades: sign: %w", err)
	}
	sigValue.SetText(wrapBase64(value))

	out, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("xades: %w", err)
	}
	return out, nil
}

// addDigest appends DigestMethod and DigestValue (with the given element prefix) to el.
func addDigest(el *etree.Element, prefix, method string, digest []byte) {
	el.CreateElement(prefix+"DigestMethod").CreateAttr("Algorithm", method)
	el.CreateElement(prefix + "DigestValue").SetText(base64.StdEncoding.EncodeToString(digest))
}

// javaURLEncode encodes s as java.net.URLEncoder.encode(s, UTF-8) does: ASCII letters, digits and ".-*_"
// stay, a space becomes "+", every other byte of the UTF-8 encoding becomes %XX (upper case). Unlike
// url.QueryEscape it keeps "*" and escapes "~".
func javaURLEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '-', c == '*', c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		}
	}
	return b.String()
}

// wrapBase64 encodes b as Java's MIME base64 encoder does for XML-DSig: lines of 76 characters separated
// by "\n".
func wrapBase64(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	for len(s) > 76 {
		out.WriteString(s[:76])
		out.WriteByte('\n')
		s = s[76:]
	}
	out.WriteString(s)
	return out.String()
}

// javaDNKeywords are the attribute keywords of Java's X500Name.toString (sun.security.x509.AVAKeyword).
var javaDNKeywords = map[string]string{
	"2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU",
	"2.5.4.12": "T", "2.5.4.9": "STREET", "0.9.2342.19200300.100.1.25": "DC", "2.5.4.46": "DNQ",
	"2.5.4.4": "SURNAME", "2.5.4.42": "GIVENNAME", "2.5.4.43": "INITIALS", "2.5.4.44": "GENERATION",
	"1.2.840.113549.1.9.1": "EMAILADDRESS", "0.9.2342.19200300.100.1.1": "UID", "2.5.4.5": "SERIALNUMBER",
}

// javaDN renders a DER Name as Java's X509Certificate.getIssuerDN().getName() does (what commons-asic puts
// in X509IssuerName): RDNs from the last to the first joined by ", ", keywords as above, "OID.n.n" for
// others, and values quoted when they hold special characters. Non-string values are written as #hex.
// It is a close approximation: nobody in the chain compares this text.
func javaDN(der []byte) string {
	var rdns pkix.RDNSequence
	if rest, err := asn1.Unmarshal(der, &rdns); err != nil || len(rest) > 0 {
		return ""
	}
	parts := make([]string, 0, len(rdns))
	for i := len(rdns) - 1; i >= 0; i-- {
		avas := make([]string, 0, len(rdns[i]))
		for _, ava := range rdns[i] {
			kw, ok := javaDNKeywords[ava.Type.String()]
			if !ok {
				kw = "OID." + ava.Type.String()
			}
			var v string
			if s, ok := ava.Value.(string); ok {
				v = javaDNValue(s)
			} else if raw, err := asn1.Marshal(ava.Value); err == nil {
				v = fmt.Sprintf("#%x", raw)
			}
			avas = append(avas, kw+"="+v)
		}
		parts = append(parts, strings.Join(avas, " + "))
	}
	return strings.Join(parts, ", ")
}

// javaDNValue quotes a DN attribute value the way Java's AVA.toString does when it needs quoting.
func javaDNValue(s string) string {
	if s == "" || !strings.ContainsAny(s, ",+=\n<>#;\\\"") && strings.TrimSpace(s) == s {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// validXMLText reports whether s is UTF-8 made only of characters XML 1.0 allows (and no carriage return,
// which a parser would turn into a line feed and so change what was signed).
func validXMLText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n':
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, 0xD800 <= r && r <= 0xDFFF:
			return false
		}
	}
	return true
}
