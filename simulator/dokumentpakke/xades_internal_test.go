package dokumentpakke

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"testing"

	"github.com/beevik/etree"
	"github.com/google/go-cmp/cmp"
)

// TestCanonicalize checks canonicalize against known answers: every want below is what the JDK's Apache
// Santuario canonicalizer (Canonicalizer.canonicalizeSubtree, C14N 1.0 or 1.1 without comments) printed
// for the first element named sel in doc.
func TestCanonicalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		doc    string
		sel    string
		c14n11 bool
		want   string
	}{
		{"inherited namespaces, own redeclaration wins, xmlns=\"\", xml:lang, CDATA, comment, CR",
			`<a xmlns:p="urn:1" xmlns="urn:d" xml:lang="no"><b xmlns:p="urn:2" xmlns:z="urn:a" z:y="1" p:x="2" c="3"><p:c/><!-- c --><d xmlns=""><![CDATA[x<y]]> &amp; "q" &#13;</d></b></a>`,
			"b", false,
			`<b xmlns="urn:d" xmlns:p="urn:2" xmlns:z="urn:a" c="3" xml:lang="no" p:x="2" z:y="1"><p:c></p:c><d xmlns="">x&lt;y &amp; "q" &#xD;</d></b>`},
		{"attributes sorted by namespace URI, not prefix or local name",
			`<a xmlns:z="urn:a"><b xmlns:p="urn:z" p:a="1" z:b="2"/></a>`, "b", false,
			`<b xmlns:p="urn:z" xmlns:z="urn:a" z:b="2" p:a="1"></b>`},
		{"SignedProperties in QualifyingProperties context",
			`<r xmlns="urn:r" xmlns:u="urn:u"><s xmlns="urn:s"><q xmlns="urn:x" xmlns:ns2="urn:d" T="1"><sp Id="x"><a><ns2:b A="1"/></a></sp></q></s></r>`,
			"sp", false,
			`<sp xmlns="urn:x" xmlns:ns2="urn:d" xmlns:u="urn:u" Id="x"><a><ns2:b A="1"></ns2:b></a></sp>`},
		{"default namespace undeclared and declared again",
			`<a xmlns="urn:a"><b><c xmlns=""><d xmlns="urn:a"/></c></b></a>`, "b", false,
			`<b xmlns="urn:a"><c xmlns=""><d xmlns="urn:a"></d></c></b>`},
		{"escaping", `<a><b y="  z  " x="&quot;&amp;&lt;&gt;&#9;&#10;&#13;'">t&gt;&#xD;"'</b></a>`, "b", false,
			`<b x="&quot;&amp;&lt;>&#x9;&#xA;&#xD;'" y="  z  ">t&gt;&#xD;"'</b>`},
		{"processing instructions", `<a><b><?pi data?><?pi2?></b></a>`, "b", false, `<b><?pi data?><?pi2?></b>`},
		{"redundant redeclaration dropped", `<a xmlns:p="urn:p"><b><c xmlns:p="urn:p"/></b></a>`, "b", false,
			`<b xmlns:p="urn:p"><c></c></b>`},
		{"xml attributes inherited (1.0)", `<a xml:id="i" xml:space="preserve" xml:lang="en"><b xml:lang="no"/></a>`, "b", false,
			`<b xml:id="i" xml:lang="no" xml:space="preserve"></b>`},
		{"xml:id not inherited (1.1)", `<a xml:id="i" xml:space="preserve" xml:lang="en"><b xml:lang="no"/></a>`, "b", true,
			`<b xml:lang="no" xml:space="preserve"></b>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := etree.NewDocument()
			if err := doc.ReadFromString(tt.doc); err != nil {
				t.Fatal(err)
			}
			got, err := canonicalize(doc.FindElement("//"+tt.sel), tt.c14n11)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("canonical form (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCanonicalizeRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc string
		c14n11    bool
	}{
		{"undeclared element prefix", `<a><b><p:c/></b></a>`, false},
		{"undeclared attribute prefix", `<a><b p:x="1"/></a>`, false},
		{"inherited xml:base under 1.1", `<a xml:base="http://x/"><b/></a>`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := etree.NewDocument()
			if err := doc.ReadFromString(tt.doc); err != nil {
				t.Fatal(err)
			}
			if _, err := canonicalize(doc.FindElement("//b"), tt.c14n11); !errors.Is(err, ErrBadSignature) {
				t.Errorf("err = %v, want ErrBadSignature", err)
			}
		})
	}
}

// TestJavaURLEncode: the wants are java.net.URLEncoder.encode(s, UTF_8) output.
func TestJavaURLEncode(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"a+b ~*(1).txt", "a%2Bb+%7E*%281%29.txt"},
		{"særutskrift æøå.txt", "s%C3%A6rutskrift+%C3%A6%C3%B8%C3%A5.txt"},
		{"vedlegg/brev.pdf", "vedlegg%2Fbrev.pdf"},
		{"AZaz09.-*_", "AZaz09.-*_"},
		{"!\"#$%&'(),/:;<=>?@[\\]^`{|}~", "%21%22%23%24%25%26%27%28%29%2C%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E%60%7B%7C%7D%7E"},
		{"€😀", "%E2%82%AC%F0%9F%98%80"},
	}
	for _, tt := range tests {
		if got := javaURLEncode(tt.in); got != tt.want {
			t.Errorf("javaURLEncode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestJavaDN: the wants are what Java's X500Name.toString (getIssuerDN().getName()) printed for the same DER;
// the first is also the X509IssuerName of efm-asic's SDP sample signature.
func TestJavaDN(t *testing.T) {
	t.Parallel()
	oid := func(n int) asn1.ObjectIdentifier { return asn1.ObjectIdentifier{2, 5, 4, n} }
	tests := []struct {
		name pkix.RDNSequence
		want string
	}{
		{pkix.RDNSequence{
			{{Type: oid(6), Value: "NO"}}, {{Type: oid(10), Value: "Buypass AS-983163327"}}, {{Type: oid(3), Value: "Buypass Class 3 Test4 CA 3"}},
		}, "CN=Buypass Class 3 Test4 CA 3, O=Buypass AS-983163327, C=NO"},
		{pkix.RDNSequence{
			{{Type: oid(11), Value: "a, b"}}, {{Type: oid(97), Value: "NTRNO-910077473"}},
			{{Type: oid(3), Value: " lead"}, {Type: oid(5), Value: "123"}},
		}, `SERIALNUMBER=123 + CN=" lead", OID.2.5.4.97=NTRNO-910077473, OU="a, b"`},
	}
	for _, tt := range tests {
		der, err := asn1.Marshal(tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if got := javaDN(der); got != tt.want {
			t.Errorf("javaDN = %q, want %q", got, tt.want)
		}
	}
}
