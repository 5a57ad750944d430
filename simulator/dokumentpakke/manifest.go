package dokumentpakke

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
)

// ISO6523Authority is the authority attribute of an organisation in the eFormidling manifest.
const ISO6523Authority = "iso6523-actorid-upis"

// Manifest is the eFormidling manifest.xml, the first data object of a DPO/DPE/DPF-in document package
// (the integration point's ManifestFactory).
type Manifest struct {
	// Mottaker is the receiver: a qualified organisation identifier ("0192:910075918"; a bare
	// nine-digit number is qualified with 0192), or an eleven-digit national identity number for a person.
	Mottaker string
	// Avsender is the sender, in the same form as Mottaker.
	Avsender string
	// Hoveddokument is the primary document; nil when the message has none.
	Hoveddokument *ManifestDocument
	// Vedlegg are attachments. The integration point never writes them; they are kept for older
	// manifests and written as <vedlegg> elements shaped like <hoveddokument>.
	Vedlegg []ManifestDocument
}

// ManifestDocument is a document reference in the eFormidling manifest.
type ManifestDocument struct {
	// Href is the data object's name in the container, e.g. "arkivmelding.xml".
	Href string
	// Mime is its MIME type.
	Mime string
	// Title is the <tittel> text; BuildManifest writes "Hoveddokument" when empty, as the IP always does.
	Title string
	// Lang is the tittel's lang attribute; BuildManifest writes "no" when empty.
	Lang string
}

type manifestXML struct {
	XMLName       xml.Name      `xml:"manifest"`
	Mottaker      partyXML      `xml:"mottaker"`
	Avsender      partyXML      `xml:"avsender"`
	Hoveddokument *documentXML  `xml:"hoveddokument,omitempty"`
	Vedlegg       []documentXML `xml:"vedlegg,omitempty"`
}

type partyXML struct {
	Organisasjon *orgXML `xml:"organisasjon,omitempty"`
	Person       string  `xml:"person,omitempty"`
}

type orgXML struct {
	Authority string `xml:"authority,attr"`
	Value     string `xml:",chardata"`
}

type documentXML struct {
	Href   string    `xml:"href,attr"`
	Mime   string    `xml:"mime,attr"`
	Tittel *titleXML `xml:"tittel,omitempty"`
}

type titleXML struct {
	Lang  string `xml:"lang,attr,omitempty"`
	Value string `xml:",chardata"`
}

// BuildManifest writes the eFormidling manifest.xml as the integration point's JAXB marshaller does
// (UTF-8, four-space indentation, no namespace).
func BuildManifest(m Manifest) ([]byte, error) {
	var x manifestXML
	var err error
	if x.Mottaker, err = party(m.Mottaker); err != nil {
		return nil, fmt.Errorf("build manifest: mottaker: %w", err)
	}
	if x.Avsender, err = party(m.Avsender); err != nil {
		return nil, fmt.Errorf("build manifest: avsender: %w", err)
	}
	doc := func(d ManifestDocument) (documentXML, error) {
		if d.Href == "" || d.Mime == "" {
			return documentXML{}, fmt.Errorf("build manifest: %w: document needs href and mime", ErrInvalidInput)
		}
		t := titleXML{Lang: d.Lang, Value: d.Title}
		if t.Value == "" {
			t.Value = "Hoveddokument"
		}
		if t.Lang == "" {
			t.Lang = "no"
		}
		return documentXML{Href: d.Href, Mime: d.Mime, Tittel: &t}, nil
	}
	if m.Hoveddokument != nil {
		d, err := doc(*m.Hoveddokument)
		if err != nil {
			return nil, err
		}
		x.Hoveddokument = &d
	}
	for _, v := range m.Vedlegg {
		d, err := doc(v)
		if err != nil {
			return nil, err
		}
		x.Vedlegg = append(x.Vedlegg, d)
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	enc := xml.NewEncoder(&b)
	enc.Indent("", "    ")
	if err := enc.Encode(x); err != nil {
		return nil, fmt.Errorf("build manifest: %w", err)
	}
	b.WriteString("\n")
	return b.Bytes(), nil
}

// party encodes an identifier as <organisasjon authority="iso6523-actorid-upis"> or <person>.
func party(id string) (partyXML, error) {
	id = strings.TrimSpace(id)
	switch {
	case strings.Contains(id, ":"):
		return partyXML{Organisasjon: &orgXML{Authority: ISO6523Authority, Value: id}}, nil
	case len(id) == 9 && allDigits(id):
		return partyXML{Organisasjon: &orgXML{Authority: ISO6523Authority, Value: "0192:" + id}}, nil
	case len(id) == 11 && allDigits(id):
		return partyXML{Person: id}, nil
	default:
		return partyXML{}, fmt.Errorf("%w: identifier %q is neither 0192:<orgnr>, an orgnr nor a person number", ErrInvalidInput, id)
	}
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// ParseManifest reads an eFormidling manifest.xml. Identifiers are returned as written (organisations
// qualified, e.g. "0192:910075918").
func ParseManifest(data []byte) (*Manifest, error) {
	var x manifestXML
	if err := xml.Unmarshal(data, &x); err != nil {
		return nil, fmt.Errorf("parse manifest: %w: %w", ErrManifest, err)
	}
	m := &Manifest{Mottaker: x.Mottaker.id(), Avsender: x.Avsender.id()}
	if m.Mottaker == "" || m.Avsender == "" {
		return nil, fmt.Errorf("parse manifest: %w: mottaker and avsender are required", ErrManifest)
	}
	doc := func(d documentXML) ManifestDocument {
		md := ManifestDocument{Href: d.Href, Mime: d.Mime}
		if d.Tittel != nil {
			md.Title, md.Lang = strings.TrimSpace(d.Tittel.Value), d.Tittel.Lang
		}
		return md
	}
	if x.Hoveddokument != nil {
		d := doc(*x.Hoveddokument)
		m.Hoveddokument = &d
	}
	for _, v := range x.Vedlegg {
		m.Vedlegg = append(m.Vedlegg, doc(v))
	}
	return m, nil
}

func (p partyXML) id() string {
	if p.Organisasjon != nil {
		return strings.TrimSpace(p.Organisasjon.Value)
	}
	return strings.TrimSpace(p.Person)
}
