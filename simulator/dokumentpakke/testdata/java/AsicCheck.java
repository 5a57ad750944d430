// AsicCheck reads an ASiC-E container the way commons-asic's AsicReader does, with the JDK only (the
// tests run it when java is on PATH): java.util.zip.ZipInputStream in stream order, the mimetype entry,
// every data object's SHA-256 against META-INF/ASiCManifest*.xml, and the detached CMS signature over the
// manifest bytes (the JDK's own PKCS#7 verifier; BouncyCastle is not available here). It prints one line
// per entry ("name method size") and exits non-zero on the first problem. TEST-ONLY tooling.
//
//   java --add-exports java.base/sun.security.pkcs=ALL-UNNAMED AsicCheck.java container.asice
import java.io.ByteArrayInputStream;
import java.io.FileInputStream;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

public class AsicCheck {
    public static void main(String[] args) throws Exception {
        Map<String, byte[]> data = new LinkedHashMap<>();
        byte[] manifest = null, signature = null;
        String sigName = null;
        boolean first = true;
        try (ZipInputStream zin = new ZipInputStream(new FileInputStream(args[0]))) {
            ZipEntry e;
            while ((e = zin.getNextEntry()) != null) {
                byte[] b = zin.readAllBytes();
                System.out.println(e.getName() + " " + e.getMethod() + " " + b.length);
                if (first) {
                    if (!e.getName().equals("mimetype") || e.getMethod() != ZipEntry.STORED
                            || !new String(b, "US-ASCII").equals("application/vnd.etsi.asic-e+zip")) {
                        throw new IllegalStateException("mimetype is not the first, stored entry");
                    }
                    first = false;
                } else if (e.getName().matches("(?i)META-INF/ASiCManifest.*\\.xml")) {
                    manifest = b;
                } else if (e.getName().matches("(?i)META-INF/signature.*\\.p7s")) {
                    signature = b;
                    sigName = e.getName();
                } else if (!e.getName().startsWith("META-INF/")) {
                    data.put(e.getName(), b);
                } else if (!e.getName().equals("META-INF/manifest.xml")) {
                    throw new IllegalStateException("unknown metadata file " + e.getName());
                }
            }
        }
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        Element root = f.newDocumentBuilder().parse(new ByteArrayInputStream(manifest)).getDocumentElement();
        Element sigRef = (Element) root.getElementsByTagNameNS("*", "SigReference").item(0);
        if (!sigRef.getAttribute("URI").equals(sigName)) {
            throw new IllegalStateException("SigReference " + sigRef.getAttribute("URI") + " is not " + sigName);
        }
        NodeList refs = root.getElementsByTagNameNS("*", "DataObjectReference");
        if (refs.getLength() != data.size()) {
            throw new IllegalStateException(refs.getLength() + " references for " + data.size() + " files");
        }
        for (int i = 0; i < refs.getLength(); i++) {
            Element r = (Element) refs.item(i);
            byte[] content = data.get(r.getAttribute("URI"));
            String want = r.getElementsByTagNameNS("*", "DigestValue").item(0).getTextContent().trim();
            String got = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(content));
            if (!want.equals(got)) {
                throw new IllegalStateException("digest mismatch for " + r.getAttribute("URI"));
            }
        }
        sun.security.pkcs.PKCS7 p7 = new sun.security.pkcs.PKCS7(signature);
        sun.security.pkcs.SignerInfo[] ok = p7.verify(manifest);
        if (ok == null || ok.length != 1) {
            throw new IllegalStateException("CMS signature over the manifest does not verify");
        }
        System.out.println("OK signer " + ok[0].getCertificate(p7).getSubjectX500Principal());
    }
}
