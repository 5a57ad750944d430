package wire

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Namespaces of arkivmelding.xml (Noark 5 arkivmelding).
const (
	NoarkArkivmeldingNamespace = "http://www.arkivverket.no/standarder/noark5/arkivmelding"
	XSINamespace               = "http://www.w3.org/2001/XMLSchema-instance"
)

// Noark 5 korrespondanseparttype and tilknyttetRegistreringSom values as arkivmelding.xml spells them.
const (
	KorrespondansepartAvsender = "Avsender"
	KorrespondansepartMottaker = "Mottaker"
	TilknyttetHoveddokument    = "Hoveddokument"
	TilknyttetVedlegg          = "Vedlegg"
)

// NoarkArkivmelding is arkivmelding.xml as the channels read and write it: a mappe (saksmappe) holding a
// basisregistrering (journalpost), or a registrering at the top. Reading is lenient: elements are
// matched by local name in any namespace, unknown ones ignored.
type NoarkArkivmelding struct {
	XMLName        xml.Name           `xml:"arkivmelding"`
	Xmlns          string             `xml:"xmlns,attr,omitempty"`
	XmlnsXsi       string             `xml:"xmlns:xsi,attr,omitempty"`
	SchemaLocation string             `xml:"xsi:schemaLocation,attr,omitempty"`
	System         string             `xml:"system"`
	MeldingID      string             `xml:"meldingId"`
	Tidspunkt      string             `xml:"tidspunkt"`
	AntallFiler    int                `xml:"antallFiler"`
	Mappe          []NoarkMappe       `xml:"mappe"`
	Registrering   []NoarkJournalpost `xml:"registrering"`
}

// NoarkMappe is a mappe, usually a saksmappe.
type NoarkMappe struct {
	// Type is written as xsi:type (not read back).
	Type              string             `xml:"xsi:type,attr,omitempty"`
	SystemID          string             `xml:"systemID,omitempty"`
	Tittel            string             `xml:"tittel,omitempty"`
	OpprettetDato     string             `xml:"opprettetDato,omitempty"`
	OpprettetAv       string             `xml:"opprettetAv,omitempty"`
	Basisregistrering []NoarkJournalpost `xml:"basisregistrering"`
	Registrering      []NoarkJournalpost `xml:"registrering"`
	Saksaar           string             `xml:"saksaar,omitempty"`
	Sakssekvensnummer string             `xml:"sakssekvensnummer,omitempty"`
	Saksdato          string             `xml:"saksdato,omitempty"`
	Saksansvarlig     string             `xml:"saksansvarlig,omitempty"`
}

// NoarkJournalpost is a registrering of type journalpost.
type NoarkJournalpost struct {
	// Type is written as xsi:type (not read back).
	Type                          string                     `xml:"xsi:type,attr,omitempty"`
	SystemID                      string                     `xml:"systemID,omitempty"`
	OpprettetDato                 string                     `xml:"opprettetDato,omitempty"`
	OpprettetAv                   string                     `xml:"opprettetAv,omitempty"`
	ArkivertDato                  string                     `xml:"arkivertDato,omitempty"`
	ArkivertAv                    string                     `xml:"arkivertAv,omitempty"`
	Dokumentbeskrivelse           []NoarkDokumentbeskrivelse `xml:"dokumentbeskrivelse"`
	Tittel                        string                     `xml:"tittel,omitempty"`
	OffentligTittel               string                     `xml:"offentligTittel,omitempty"`
	VirksomhetsspesifikkeMetadata *NoarkAny                  `xml:"virksomhetsspesifikkeMetadata"`
	Journalaar                    string                     `xml:"journalaar,omitempty"`
	Journalsekvensnummer          string                     `xml:"journalsekvensnummer,omitempty"`
	Journalpostnummer             string                     `xml:"journalpostnummer,omitempty"`
	Journalposttype               string                     `xml:"journalposttype,omitempty"`
	Journalstatus                 string                     `xml:"journalstatus,omitempty"`
	Journaldato                   string                     `xml:"journaldato,omitempty"`
	DokumentetsDato               string                     `xml:"dokumentetsDato,omitempty"`
	Korrespondansepart            []NoarkKorrespondansepart  `xml:"korrespondansepart"`
}

// NoarkAny keeps an element's content as it is.
type NoarkAny struct {
	Inner []byte `xml:",innerxml"`
}

// NoarkKorrespondansepart is a party of the journalpost (avsender, mottaker, kopimottaker, …).
type NoarkKorrespondansepart struct {
	Korrespondanseparttype string   `xml:"korrespondanseparttype"`
	KorrespondansepartNavn string   `xml:"korrespondansepartNavn"`
	Postadresse            []string `xml:"postadresse,omitempty"`
	Postnummer             string   `xml:"postnummer,omitempty"`
	Poststed               string   `xml:"poststed,omitempty"`
	Land                   string   `xml:"land,omitempty"`
	Saksbehandler          string   `xml:"saksbehandler,omitempty"`
}

// NoarkDokumentbeskrivelse describes one document of the journalpost.
type NoarkDokumentbeskrivelse struct {
	SystemID                  string                `xml:"systemID,omitempty"`
	Dokumenttype              string                `xml:"dokumenttype,omitempty"`
	Dokumentstatus            string                `xml:"dokumentstatus,omitempty"`
	Tittel                    string                `xml:"tittel,omitempty"`
	OpprettetDato             string                `xml:"opprettetDato,omitempty"`
	OpprettetAv               string                `xml:"opprettetAv,omitempty"`
	TilknyttetRegistreringSom string                `xml:"tilknyttetRegistreringSom,omitempty"`
	Dokumentnummer            int                   `xml:"dokumentnummer,omitempty"`
	TilknyttetDato            string                `xml:"tilknyttetDato,omitempty"`
	TilknyttetAv              string                `xml:"tilknyttetAv,omitempty"`
	Dokumentobjekt            []NoarkDokumentobjekt `xml:"dokumentobjekt"`
}

// NoarkDokumentobjekt is one file of a document.
type NoarkDokumentobjekt struct {
	Versjonsnummer       int    `xml:"versjonsnummer,omitempty"`
	Variantformat        string `xml:"variantformat,omitempty"`
	Format               string `xml:"format,omitempty"`
	OpprettetDato        string `xml:"opprettetDato,omitempty"`
	OpprettetAv          string `xml:"opprettetAv,omitempty"`
	ReferanseDokumentfil string `xml:"referanseDokumentfil"`
}

// ErrNoJournalpost is returned by ParseArkivmelding for an arkivmelding without a journalpost.
var ErrNoJournalpost = errors.New("arkivmelding.xml has no journalpost (registrering)")

// ParseArkivmelding reads arkivmelding.xml (at most limit bytes).
func ParseArkivmelding(r io.Reader, limit int64) (*NoarkArkivmelding, error) {
	var am NoarkArkivmelding
	if err := xml.NewDecoder(io.LimitReader(r, limit)).Decode(&am); err != nil {
		return nil, fmt.Errorf("read arkivmelding.xml: %w", err)
	}
	return &am, nil
}

// Saksmappe is the first mappe, or an empty one.
func (a *NoarkArkivmelding) Saksmappe() NoarkMappe {
	if len(a.Mappe) > 0 {
		return a.Mappe[0]
	}
	return NoarkMappe{}
}

// Journalpost is the first registrering: under the first mappe, else at the top.
func (a *NoarkArkivmelding) Journalpost() (NoarkJournalpost, error) {
	for _, m := range a.Mappe {
		if len(m.Basisregistrering) > 0 {
			return m.Basisregistrering[0], nil
		}
		if len(m.Registrering) > 0 {
			return m.Registrering[0], nil
		}
	}
	if len(a.Registrering) > 0 {
		return a.Registrering[0], nil
	}
	return NoarkJournalpost{}, ErrNoJournalpost
}

// Documents are the journalpost's dokumentbeskrivelser, the hoveddokument first, the rest by
// dokumentnummer.
func (j NoarkJournalpost) Documents() []NoarkDokumentbeskrivelse {
	docs := append([]NoarkDokumentbeskrivelse(nil), j.Dokumentbeskrivelse...)
	sort.SliceStable(docs, func(i, k int) bool {
		hi, hk := strings.EqualFold(docs[i].TilknyttetRegistreringSom, TilknyttetHoveddokument),
			strings.EqualFold(docs[k].TilknyttetRegistreringSom, TilknyttetHoveddokument)
		if hi != hk {
			return hi
		}
		return docs[i].Dokumentnummer < docs[k].Dokumentnummer
	})
	return docs
}

// Part is the first korrespondansepart of the type (case-insensitive), if any.
func (j NoarkJournalpost) Part(typ string) (NoarkKorrespondansepart, bool) {
	for _, k := range j.Korrespondansepart {
		if strings.EqualFold(strings.TrimSpace(k.Korrespondanseparttype), typ) {
			return k, true
		}
	}
	return NoarkKorrespondansepart{}, false
}

// KeyValue is one virksomhetsspesifikkeMetadata child as key (element name) and value (its text).
type KeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Metadata lists the children of virksomhetsspesifikkeMetadata as key/value pairs (element local name,
// trimmed text). Unreadable content gives none.
func (j NoarkJournalpost) Metadata() []KeyValue {
	if j.VirksomhetsspesifikkeMetadata == nil {
		return nil
	}
	d := xml.NewDecoder(bytes.NewReader(j.VirksomhetsspesifikkeMetadata.Inner))
	var out []KeyValue
	depth := 0
	var key string
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			return out
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				key = t.Name.Local
				text.Reset()
			}
		case xml.CharData:
			if depth >= 1 {
				text.Write(t)
			}
		case xml.EndElement:
			if depth == 1 {
				out = append(out, KeyValue{Key: key, Value: strings.TrimSpace(text.String())})
			}
			depth--
		}
	}
}

// Marshal renders the arkivmelding with the XML header and the Noark namespaces.
func (a NoarkArkivmelding) Marshal() ([]byte, error) {
	a.Xmlns, a.XmlnsXsi = NoarkArkivmeldingNamespace, XSINamespace
	out, err := xml.MarshalIndent(a, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("write arkivmelding.xml: %w", err)
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

// Noark 5 journalposttype and journalstatus: the names arkivmelding.xml uses and the one-letter codes
// KS SvarUt uses.
var (
	journalposttyper = [][2]string{{"I", "Inngående dokument"}, {"U", "Utgående dokument"},
		{"N", "Organinternt dokument for oppfølging"}, {"X", "Organinternt dokument uten oppfølging"}, {"S", "Saksframlegg"}}
	journalstatuser = [][2]string{{"J", "Journalført"}, {"F", "Ferdigstilt fra saksbehandler"}, {"G", "Godkjent av leder"},
		{"E", "Ekspedert"}, {"A", "Arkivert"}, {"U", "Utgår"}, {"M", "Midlertidig registrering av innkommet dokument"},
		{"S", "Registrert av saksbehandler"}, {"R", "Reservert dokument"}}
)

func noarkCode(table [][2]string, v string) string {
	v = strings.TrimSpace(v)
	for _, e := range table {
		if strings.EqualFold(v, e[0]) || strings.EqualFold(v, e[1]) {
			return e[0]
		}
	}
	return v
}

func noarkName(table [][2]string, v string) string {
	v = strings.TrimSpace(v)
	for _, e := range table {
		if strings.EqualFold(v, e[0]) || strings.EqualFold(v, e[1]) {
			return e[1]
		}
	}
	return v
}

// JournalposttypeCode is the one-letter code of a journalposttype name or code ("Utgående dokument" → U);
// an unknown value is returned as it is.
func JournalposttypeCode(v string) string { return noarkCode(journalposttyper, v) }

// JournalposttypeName is the arkivmelding name of a journalposttype code or name (U → "Utgående dokument").
func JournalposttypeName(v string) string { return noarkName(journalposttyper, v) }

// JournalstatusCode is the one-letter code of a journalstatus name or code ("Journalført" → J).
func JournalstatusCode(v string) string { return noarkCode(journalstatuser, v) }

// JournalstatusName is the arkivmelding name of a journalstatus code or name (F → "Ferdigstilt fra saksbehandler").
func JournalstatusName(v string) string { return noarkName(journalstatuser, v) }
