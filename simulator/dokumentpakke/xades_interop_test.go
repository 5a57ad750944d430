package dokumentpakke_test

import (
	"bytes"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
)

// These tests hand CreateASiCEXAdES's output to independent XML-DSig implementations, the JDK's (JSR 105,
// Apache Santuario inside) and xmlsec1 (libxmlsec1 with OpenSSL), and read a signatures.xml the JDK wrote
// the way commons-asic 1.0.1 writes it. They are skipped when the tool is not on PATH.

// TestJavaVerifiesXAdES: the JDK's XMLSignature.validate accepts the signature (every file reference, the
// SignedProperties reference through the JDK's own same-document dereferencer and C14N, the signature
// value), and refuses it once the SignedProperties changed.
func TestJavaVerifiesXAdES(t *testing.T) {
	t.Parallel()
	java := lookTool(t, "java")
	files := dpiFiles(t)
	asic := createXAdES(t, files, xadesTime)
	e := unzip(t, asic)
	iSig := len(e) - 2
	e[iSig].data = bytes.Replace(e[iSig].data, []byte("<MimeType>application/pdf<"), []byte("<MimeType>application/zip<"), 1)
	dir := t.TempDir()
	src := writeTemp(t, dir, "XadesCheck.java", []byte(javaXadesCheck))
	tests := []struct {
		name    string
		data    []byte
		wantErr bool
	}{
		{"CreateASiCEXAdES output", asic, false},
		{"SignedProperties changed after signing", rezip(t, e), true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeTemp(t, dir, "c"+strconv.Itoa(i)+".asice", tt.data)
			out, err := run(t, java, src, path)
			if (err != nil) != tt.wantErr {
				t.Fatalf("XadesCheck: err = %v, want error %v\n%s", err, tt.wantErr, out)
			}
			if tt.wantErr {
				if !strings.Contains(out, "Reference #SignedProperties false") {
					t.Errorf("XadesCheck did not fail on the SignedProperties:\n%s", out)
				}
				return
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != len(files)+3 || lines[0] != "SignatureValue true" || !strings.HasPrefix(lines[len(lines)-1], "OK CN=TEST-ONLY signer") {
				t.Errorf("unexpected XadesCheck output:\n%s", out)
			}
			for _, l := range lines[1 : len(lines)-1] {
				if !strings.HasSuffix(l, " true") {
					t.Errorf("XadesCheck: %s", l)
				}
			}
		})
	}
}

// TestVerifyXAdESFromJava: VerifyXAdES reads a signatures.xml the JDK signed as commons-asic 1.0.1 does
// (the SignedProperties digested as a node set of their own JAXB-like document), and the file references
// and MIME types in it.
func TestVerifyXAdESFromJava(t *testing.T) {
	t.Parallel()
	java := lookTool(t, "java")
	p := newPKI(t)
	files := dpiFiles(t)
	dir := t.TempDir()
	args := []string{writeTemp(t, dir, "XadesSign.java", []byte(javaXadesSign)),
		filepath.Join("testdata", "test-only-signer-key.pem"), filepath.Join("testdata", "test-only-signer.pem"),
		filepath.Join(dir, "signatures.xml")}
	for i, f := range files {
		args = append(args, f.Name, writeTemp(t, dir, "f"+strconv.Itoa(i), f.Content), f.MimeType)
	}
	if out, err := run(t, java, args...); err != nil {
		t.Fatalf("XadesSign: %v\n%s", err, out)
	}
	e := unzip(t, createXAdES(t, files, xadesTime))
	e[len(e)-2].data = readFile(t, filepath.Join(dir, "signatures.xml"))
	c, err := dokumentpakke.VerifyXAdES(rezip(t, e))
	if err != nil {
		t.Fatalf("VerifyXAdES of the JDK's signature: %v\n%s", err, e[len(e)-2].data)
	}
	if diff := cmp.Diff(files, c.Files, cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) })); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if !c.SignerCertificate.Equal(p.signer) {
		t.Errorf("signer = %v", c.SignerCertificate.Subject)
	}
	e[2].data = []byte("changed")
	if _, err := dokumentpakke.VerifyXAdES(rezip(t, e)); !errors.Is(err, dokumentpakke.ErrDigestMismatch) {
		t.Errorf("changed file: err = %v, want ErrDigestMismatch", err)
	}
}

// TestXmlsec1VerifiesXAdES: `xmlsec1 --verify` accepts the signature with the test CA as trust anchor, and
// refuses it once the SignedProperties changed. xmlsec1 resolves a reference URI as a path after
// %-decoding (a "+" stays a "+"), so the files are laid out under those names.
func TestXmlsec1VerifiesXAdES(t *testing.T) {
	t.Parallel()
	xmlsec1 := lookTool(t, "xmlsec1")
	files := dpiFiles(t)
	raw := signaturesXML(t, createXAdES(t, files, xadesTime))
	refs := parseXAdESDoc(t, raw).Signature.SignedInfo.Refs
	ca, err := filepath.Abs(filepath.Join("testdata", "test-only-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i, f := range files {
		name, err := url.PathUnescape(refs[i].URI)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700); err != nil {
			t.Fatal(err)
		}
		writeTemp(t, dir, name, f.Content)
	}
	tests := []struct {
		name    string
		xml     []byte
		wantErr bool
	}{
		{"CreateASiCEXAdES output", raw, false},
		{"SignedProperties changed after signing", bytes.Replace(raw, []byte("<MimeType>application/pdf<"), []byte("<MimeType>application/zip<"), 1), true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sig := writeTemp(t, dir, "signatures"+strconv.Itoa(i)+".xml", tt.xml)
			cmd := exec.Command(xmlsec1, "--verify", "--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
				"--trusted-pem", ca, sig)
			cmd.Dir = dir // xmlsec1 resolves the references against its working directory
			outb, err := cmd.CombinedOutput()
			out := string(outb)
			if (err != nil) != tt.wantErr {
				t.Fatalf("xmlsec1 --verify: err = %v, want error %v\n%s", err, tt.wantErr, out)
			}
			want := "SignedInfo References (ok/all): " + strconv.Itoa(len(files)+1) + "/" + strconv.Itoa(len(files)+1)
			if !tt.wantErr && (!strings.HasPrefix(out, "OK") || !strings.Contains(out, want)) {
				t.Errorf("xmlsec1 output lacks OK and %q:\n%s", want, out)
			}
		})
	}
}

// javaXadesCheck verifies META-INF/signatures.xml of a container with the JDK.
const javaXadesCheck = `import java.io.ByteArrayInputStream;
import java.io.FileInputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import javax.xml.crypto.OctetStreamData;
import javax.xml.crypto.URIDereferencer;
import javax.xml.crypto.URIReferenceException;
import javax.xml.crypto.dsig.Reference;
import javax.xml.crypto.dsig.XMLSignature;
import javax.xml.crypto.dsig.XMLSignatureFactory;
import javax.xml.crypto.dsig.dom.DOMValidateContext;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

// Verifies META-INF/signatures.xml of an ASiC-E container with the JDK's XML-DSig (JSR 105) implementation:
// file references resolve through URLDecoder to the zip entries, #SignedProperties through the JDK's own
// same-document dereferencer (SignedProperties' Id registered as an ID).
public class XadesCheck {
    public static void main(String[] args) throws Exception {
        Map<String, byte[]> files = new LinkedHashMap<>();
        byte[] xml = null;
        try (ZipInputStream zin = new ZipInputStream(new FileInputStream(args[0]))) {
            for (ZipEntry e; (e = zin.getNextEntry()) != null; ) {
                byte[] b = zin.readAllBytes();
                if (e.getName().equals("META-INF/signatures.xml")) {
                    xml = b;
                } else if (!e.getName().startsWith("META-INF/") && !e.getName().equals("mimetype")) {
                    files.put(e.getName(), b);
                }
            }
        }
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
        dbf.setNamespaceAware(true);
        Document doc = dbf.newDocumentBuilder().parse(new ByteArrayInputStream(xml));
        Element props = (Element) doc.getElementsByTagNameNS("http://uri.etsi.org/01903/v1.3.2#", "SignedProperties").item(0);
        props.setIdAttributeNS(null, "Id", true);
        Element certEl = (Element) doc.getElementsByTagNameNS(XMLSignature.XMLNS, "X509Certificate").item(0);
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(Base64.getMimeDecoder().decode(certEl.getTextContent())));

        XMLSignatureFactory fac = XMLSignatureFactory.getInstance("DOM");
        DOMValidateContext ctx = new DOMValidateContext(cert.getPublicKey(),
                doc.getElementsByTagNameNS(XMLSignature.XMLNS, "Signature").item(0));
        URIDereferencer standard = fac.getURIDereferencer();
        Set<String> referenced = new HashSet<>();
        ctx.setURIDereferencer((ref, c) -> {
            if (ref.getURI().startsWith("#")) {
                return standard.dereference(ref, c);
            }
            String name = URLDecoder.decode(ref.getURI(), StandardCharsets.UTF_8);
            byte[] b = files.get(name);
            if (b == null) {
                throw new URIReferenceException("no entry " + name);
            }
            referenced.add(name);
            return new OctetStreamData(new ByteArrayInputStream(b), ref.getURI(), null);
        });
        XMLSignature sig = fac.unmarshalXMLSignature(ctx);
        boolean valid = sig.validate(ctx);
        System.out.println("SignatureValue " + sig.getSignatureValue().validate(ctx));
        for (Object o : sig.getSignedInfo().getReferences()) {
            Reference r = (Reference) o;
            System.out.println("Reference " + r.getURI() + " " + r.validate(ctx));
        }
        if (!valid || !referenced.equals(files.keySet())) {
            System.out.println("INVALID");
            System.exit(1);
        }
        System.out.println("OK " + cert.getSubjectX500Principal().getName());
    }
}
`

// javaXadesSign writes signatures.xml as commons-asic 1.0.1 does, with the JDK.
const javaXadesSign = `import java.io.ByteArrayInputStream;
import java.io.FileOutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.GregorianCalendar;
import java.util.List;
import javax.xml.crypto.NodeSetData;
import javax.xml.crypto.URIDereferencer;
import javax.xml.crypto.dom.DOMStructure;
import javax.xml.crypto.dsig.CanonicalizationMethod;
import javax.xml.crypto.dsig.DigestMethod;
import javax.xml.crypto.dsig.Reference;
import javax.xml.crypto.dsig.SignedInfo;
import javax.xml.crypto.dsig.XMLSignature;
import javax.xml.crypto.dsig.XMLSignatureFactory;
import javax.xml.crypto.dsig.dom.DOMSignContext;
import javax.xml.crypto.dsig.keyinfo.KeyInfoFactory;
import javax.xml.crypto.dsig.spec.C14NMethodParameterSpec;
import javax.xml.crypto.dsig.spec.TransformParameterSpec;
import javax.xml.datatype.DatatypeFactory;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

// Writes signatures.xml as commons-asic 1.0.1 (XadesAsicManifest, CreateXadesArtifacts) does: the
// QualifyingProperties built in a document of their own, the SignedProperties reference digested through a
// dereferencer that hands the JDK the node set ". | .//node() | .//@*" of that document's SignedProperties,
// inclusive C14N, RSA-SHA256, the JDK's serializer.
// Usage: XadesSign key.pem cert.pem out.xml (name file mime)...
public class XadesSign {
    static final String X = "http://uri.etsi.org/01903/v1.3.2#", DS = XMLSignature.XMLNS;

    static byte[] pem(String file) throws Exception {
        String s = Files.readString(Path.of(file)).replaceAll("-----[A-Z ]+-----", "");
        return Base64.getMimeDecoder().decode(s);
    }

    static Element child(Element parent, String ns, String name) {
        return (Element) parent.appendChild(parent.getOwnerDocument().createElementNS(ns, name));
    }

    static void text(Element e, String s) {
        e.appendChild(e.getOwnerDocument().createTextNode(s));
    }

    public static void main(String[] a) throws Exception {
        PrivateKey key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(pem(a[0])));
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem(a[1])));
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
        dbf.setNamespaceAware(true);

        Document qpDoc = dbf.newDocumentBuilder().newDocument();
        Element qp = (Element) qpDoc.appendChild(qpDoc.createElementNS(X, "QualifyingProperties"));
        qp.setAttributeNS("http://www.w3.org/2000/xmlns/", "xmlns", X);
        qp.setAttributeNS("http://www.w3.org/2000/xmlns/", "xmlns:ns2", DS);
        qp.setAttribute("Target", "#Signature");
        Element sp = child(qp, X, "SignedProperties");
        sp.setAttribute("Id", "SignedProperties");
        Element ssp = child(sp, X, "SignedSignatureProperties");
        text(child(ssp, X, "SigningTime"),
                DatatypeFactory.newInstance().newXMLGregorianCalendar(new GregorianCalendar()).toXMLFormat());
        Element cert0 = child(child(ssp, X, "SigningCertificate"), X, "Cert");
        Element cd = child(cert0, X, "CertDigest");
        child(cd, DS, "ns2:DigestMethod").setAttribute("Algorithm", DigestMethod.SHA1);
        text(child(cd, DS, "ns2:DigestValue"),
                Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1").digest(cert.getEncoded())));
        Element is = child(cert0, X, "IssuerSerial");
        text(child(is, DS, "ns2:X509IssuerName"), cert.getIssuerX500Principal().getName());
        text(child(is, DS, "ns2:X509SerialNumber"), cert.getSerialNumber().toString());
        Element sdop = child(sp, X, "SignedDataObjectProperties");

        XMLSignatureFactory fac = XMLSignatureFactory.getInstance("DOM");
        DigestMethod sha256 = fac.newDigestMethod(DigestMethod.SHA256, null);
        List<Reference> refs = new ArrayList<>();
        for (int i = 3; i + 2 < a.length; i += 3) {
            String id = "ID_" + refs.size();
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(Path.of(a[i + 1])));
            refs.add(fac.newReference(URLEncoder.encode(a[i], StandardCharsets.UTF_8), sha256, null, null, id, digest));
            Element dof = child(sdop, X, "DataObjectFormat");
            dof.setAttribute("ObjectReference", "#" + id);
            text(child(dof, X, "MimeType"), a[i + 2]);
        }
        refs.add(fac.newReference("#SignedProperties", sha256,
                List.of(fac.newTransform(CanonicalizationMethod.INCLUSIVE, (TransformParameterSpec) null)),
                "http://uri.etsi.org/01903#SignedProperties", null));
        SignedInfo si = fac.newSignedInfo(
                fac.newCanonicalizationMethod(CanonicalizationMethod.INCLUSIVE, (C14NMethodParameterSpec) null),
                fac.newSignatureMethod("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", null), refs);
        KeyInfoFactory kif = fac.getKeyInfoFactory();
        XMLSignature sig = fac.newXMLSignature(si, kif.newKeyInfo(List.of(kif.newX509Data(List.of(cert)))),
                List.of(fac.newXMLObject(List.of(new DOMStructure(qp)), null, null, null)), "Signature", null);

        Document out = dbf.newDocumentBuilder().newDocument();
        Element root = (Element) out.appendChild(out.createElementNS("http://uri.etsi.org/02918/v1.2.1#", "XAdESSignatures"));
        DOMSignContext ctx = new DOMSignContext(key, root);
        URIDereferencer standard = fac.getURIDereferencer();
        ctx.setURIDereferencer((ref, c) -> {
            if (!"#SignedProperties".equals(ref.getURI())) {
                return standard.dereference(ref, c);
            }
            try {
                NodeList nl = (NodeList) XPathFactory.newInstance().newXPath()
                        .evaluate(". | .//node() | .//@*", sp, XPathConstants.NODESET);
                List<Node> nodes = new ArrayList<>();
                for (int i = 0; i < nl.getLength(); i++) {
                    nodes.add(nl.item(i));
                }
                return (NodeSetData) nodes::iterator;
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        sig.sign(ctx);
        try (FileOutputStream os = new FileOutputStream(a[2])) {
            TransformerFactory.newInstance().newTransformer().transform(new DOMSource(out), new StreamResult(os));
        }
    }
}
`
