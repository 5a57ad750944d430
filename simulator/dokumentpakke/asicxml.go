package dokumentpakke

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"strings"
)

// XML namespaces and algorithm URIs of the ASiC manifests.
const (
	nsASiC       = "http://uri.etsi.org/02918/v1.2.1#"
	nsXMLDSig    = "http://www.w3.org/2000/09/xmldsig#"
	nsOASIS      = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
	digestSHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
)

// asicNamespaces are the ASiCManifest namespaces commons-asic accepts (it rewrites the older ones).
var asicNamespaces = map[string]bool{
	nsASiC:                              true,
	"http://uri.etsi.org/02918/v1.1.1#": true,
	"http://uri.etsi.org/2918/v1.2.1#":  true,
}

// sha256URIs are the digest-method URIs commons-asic accepts for its (SHA-256 only) reader.
var sha256URIs = map[string]bool{
	digestSHA256: true,
	"http://www.w3.org/2000/09/xmldsig#sha256": true,
}

func xmlAttr(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // writes to a strings.Builder never fail
	return b.String()
}

// buildASiCManifest writes the ETSI ASiCManifest (TS 102 918) as commons-asic's JAXB marshaller lays it
// out: SigReference first, then one DataObjectReference per file.
func buildASiCManifest(files []File, sigName string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n")
	b.WriteString(`<ASiCManifest xmlns="` + nsASiC + `" xmlns:ds="` + nsXMLDSig + `">` + "\n")
	fmt.Fprintf(&b, "    <SigReference URI=\"%s\" MimeType=\"%s\"/>\n", xmlAttr(sigName), MimeTypeCAdES)
	for _, f := range files {
		sum := sha256.Sum256(f.Content)
		fmt.Fprintf(&b, "    <DataObjectReference URI=\"%s\" MimeType=\"%s\">\n", xmlAttr(f.Name), xmlAttr(f.MimeType))
		fmt.Fprintf(&b, "        <ds:DigestMethod Algorithm=\"%s\"/>\n", digestSHA256)
		fmt.Fprintf(&b, "        <ds:DigestValue>%s</ds:DigestValue>\n", base64.StdEncoding.EncodeToString(sum[:]))
		b.WriteString("    </DataObjectReference>\n")
	}
	b.WriteString("</ASiCManifest>\n")
	return b.Bytes()
}

// buildOASISManifest writes META-INF/manifest.xml: "/" with the ASiC-E media type, then every file.
func buildOASISManifest(files []File) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n")
	b.WriteString(`<manifest:manifest xmlns:manifest="` + nsOASIS + `">` + "\n")
	entry := func(path, mediaType string) {
		fmt.Fprintf(&b, "    <manifest:file-entry manifest:full-path=\"%s\" manifest:media-type=\"%s\"/>\n",
			xmlAttr(path), xmlAttr(mediaType))
	}
	entry("/", MimeTypeASiCE)
	for _, f := range files {
		entry(f.Name, f.MimeType)
	}
	b.WriteString("</manifest:manifest>\n")
	return b.Bytes()
}

type asicManifestXML struct {
	XMLName      xml.Name
	SigReference *struct {
		URI string `xml:"URI,attr"`
	} `xml:"SigReference"`
	References []struct {
		URI          string `xml:"URI,attr"`
		MimeType     string `xml:"MimeType,attr"`
		DigestMethod struct {
			Algorithm string `xml:"Algorithm,attr"`
		} `xml:"DigestMethod"`
		DigestValue string `xml:"DigestValue"`
	} `xml:"DataObjectReference"`
}

type manifestRef struct {
	mimeType string
	digest   []byte
}

type parsedASiCManifest struct {
	sigRef string
	refs   map[string]manifestRef
}

// parseASiCManifest reads an ASiCManifest the way commons-asic does (older namespaces accepted, SHA-256
// digests only, an empty SigReference URI meaning META-INF/signature.p7s).
func parseASiCManifest(data []byte) (*parsedASiCManifest, error) {
	var m asicManifestXML
	if err := xml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrManifest, err)
	}
	if m.XMLName.Local != "ASiCManifest" || !asicNamespaces[m.XMLName.Space] {
		return nil, fmt.Errorf("%w: root element is {%s}%s", ErrManifest, m.XMLName.Space, m.XMLName.Local)
	}
	if m.SigReference == nil {
		return nil, fmt.Errorf("%w: no SigReference", ErrManifest)
	}
	p := &parsedASiCManifest{sigRef: m.SigReference.URI, refs: make(map[string]manifestRef, len(m.References))}
	if p.sigRef == "" {
		p.sigRef = defaultSigRef
	}
	for _, r := range m.References {
		if _, dup := p.refs[r.URI]; dup || r.URI == "" {
			return nil, fmt.Errorf("%w: duplicate or empty DataObjectReference %q", ErrManifest, r.URI)
		}
		if !sha256URIs[strings.TrimSpace(r.DigestMethod.Algorithm)] {
			return nil, fmt.Errorf("%w: unsupported digest method %q for %s", ErrManifest, r.DigestMethod.Algorithm, r.URI)
		}
		d, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(r.DigestValue), ""))
		if err != nil || len(d) != sha256.Size {
			return nil, fmt.Errorf("%w: bad digest value for %s", ErrManifest, r.URI)
		}
		p.refs[r.URI] = manifestRef{mimeType: r.MimeType, digest: d}
	}
	return p, nil
}

type oasisManifestXML struct {
	XMLName xml.Name `xml:"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0 manifest"`
	Entries []struct {
		FullPath  string `xml:"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0 full-path,attr"`
		MediaType string `xml:"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0 media-type,attr"`
	} `xml:"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0 file-entry"`
}

// parseOASISManifest returns the media type of every file-entry by full path.
func parseOASISManifest(data []byte) (map[string]string, error) {
	var m oasisManifestXML
	if err := xml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: META-INF/manifest.xml: %w", ErrManifest, err)
	}
	types := make(map[string]string, len(m.Entries))
	for _, e := range m.Entries {
		types[e.FullPath] = e.MediaType
	}
	return types, nil
}
