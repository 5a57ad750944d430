package wire

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strings"
)

// DPI (digital post til innbyggere, the corner-2 REST infrastructure) business messages as the real IP
// v4 signs them into the forretningsmelding JWS and as corner 2 returns receipts: an envelope
// {"standardBusinessDocument": {"standardBusinessDocumentHeader": …, "<type>": …}} whose body key is the
// document type. Field names, enums and optionality follow Digdir's innbyggerpost JSON schemas
// (additionalProperties false nearly everywhere).

// DPI document types.
const (
	DPITypeDigital                  = "digital"
	DPITypeUtskrift                 = "utskrift"
	DPITypeFlyttet                  = "flyttet"
	DPITypeLeveringskvittering      = "leveringskvittering"
	DPITypeAapningskvittering       = "aapningskvittering"
	DPITypeMottakskvittering        = "mottakskvittering"
	DPITypeVarslingfeiletkvittering = "varslingfeiletkvittering"
	DPITypeReturpostkvittering      = "returpostkvittering"
	DPITypeFeil                     = "feil"
)

// DPI constants.
const (
	// DPIDigestMethod is the dokumentpakkefingeravtrykk digest method (SHA-256 of the asic.cms bytes).
	DPIDigestMethod = "http://www.w3.org/2001/04/xmlenc#sha256"
	// DPIScope is the Maskinporten scope of every corner-2 call.
	DPIScope = "digitalpostinnbygger:send"
	// SDPNamespace is the namespace of the SDP manifest.xml in the DPI dokumentpakke.
	SDPNamespace = "http://begrep.difi.no/sdp/schema_v10"
)

// DPI enums.
const (
	DPIUtskriftSortHvit       = "SORT_HVIT"
	DPIUtskriftFarge          = "FARGE"
	DPIPosttypeA              = "A"
	DPIPosttypeB              = "B"
	DPIReturDirekte           = "DIREKTE_RETUR"
	DPIReturMakulering        = "MAKULERING_MED_MELDING"
	DPIVarslingskanalEpost    = "epost"
	DPIVarslingskanalSMS      = "sms"
	DPIFeiltypeKlient         = "KLIENT"
	DPIFeiltypeServer         = "SERVER"
	DPICorner2StatusOpprettet = "OPPRETTET"
	DPICorner2StatusSendt     = "SENDT"
	DPICorner2StatusFeilet    = "FEILET"
)

// DPIStandard is the documentIdentification.standard of a DPI document type.
func DPIStandard(typ string) string {
	return "urn:fdc:digdir.no:2020:innbyggerpost:xsd::innbyggerpost##urn:fdc:digdir.no:2020:innbyggerpost:schema:" + typ + "::1.0"
}

// DPIProcess is the ConversationId scope identifier of an outgoing DPI type (digital, utskrift, flyttet).
func DPIProcess(typ string) string {
	return "urn:fdc:digdir.no:2020:profile:egovernment:innbyggerpost:" + typ + ":ver1.0"
}

// DPIIdentifier is a virksomhetsidentifikator.
type DPIIdentifier struct {
	Authority string `json:"authority"`
	Value     string `json:"value"`
}

// NewDPIIdentifier is the virksomhetsidentifikator of an organisation number (0192:orgnr).
func NewDPIIdentifier(orgnr string) DPIIdentifier {
	return DPIIdentifier{Authority: AuthorityISO6523, Value: ICDNorway + ":" + orgnr}
}

// DPIAvsender is the avsender of every DPI message.
type DPIAvsender struct {
	Virksomhetsidentifikator DPIIdentifier `json:"virksomhetsidentifikator"`
	Avsenderidentifikator    string        `json:"avsenderidentifikator,omitempty"`
	FakturaReferanse         string        `json:"fakturaReferanse,omitempty"`
}

// DPIFingeravtrykk is the dokumentpakkefingeravtrykk.
type DPIFingeravtrykk struct {
	DigestMethod string `json:"digestMethod"`
	DigestValue  string `json:"digestValue"`
}

// DPIDigitalMottaker is the mottaker of a digital message.
type DPIDigitalMottaker struct {
	Postkasseadresse string `json:"postkasseadresse"`
}

// DPIVarsel is an epostvarsel or smsvarsel.
type DPIVarsel struct {
	Epostadresse       string `json:"epostadresse,omitempty"`
	Mobiltelefonnummer string `json:"mobiltelefonnummer,omitempty"`
	Varslingstekst     string `json:"varslingstekst"`
	Repetisjoner       []int  `json:"repetisjoner"`
}

// DPIVarsler holds the notifications of a digital message (always present, possibly empty).
type DPIVarsler struct {
	Epostvarsel *DPIVarsel `json:"epostvarsel,omitempty"`
	Smsvarsel   *DPIVarsel `json:"smsvarsel,omitempty"`
}

// DPIDigital is the digital body.
type DPIDigital struct {
	Avsender                   DPIAvsender        `json:"avsender"`
	Mottaker                   DPIDigitalMottaker `json:"mottaker"`
	Dokumentpakkefingeravtrykk DPIFingeravtrykk   `json:"dokumentpakkefingeravtrykk"`
	Maskinportentoken          string             `json:"maskinportentoken"`
	Sikkerhetsnivaa            int                `json:"sikkerhetsnivaa"`
	Virkningsdato              string             `json:"virkningsdato,omitempty"` // format date; the IP never sets it
	Virkningstidspunkt         string             `json:"virkningstidspunkt,omitempty"`
	Aapningskvittering         bool               `json:"aapningskvittering"`
	Ikkesensitivtittel         string             `json:"ikkesensitivtittel"`
	Spraak                     string             `json:"spraak"`
	Varsler                    *DPIVarsler        `json:"varsler,omitempty"`
}

// DPIAdresse is an adresseInformasjon: a Norwegian address carries postnummer and poststed and no land;
// a foreign one has land and its postal code folded into an address line.
type DPIAdresse struct {
	Navn          string `json:"navn,omitempty"`
	Adresselinje1 string `json:"adresselinje1,omitempty"`
	Adresselinje2 string `json:"adresselinje2,omitempty"`
	Adresselinje3 string `json:"adresselinje3,omitempty"`
	Adresselinje4 string `json:"adresselinje4,omitempty"`
	Postnummer    string `json:"postnummer,omitempty"`
	Poststed      string `json:"poststed,omitempty"`
	Land          string `json:"land,omitempty"`
	Landkode      string `json:"landkode,omitempty"`
}

// DPIRetur is where returned print goes and what happens to it.
type DPIRetur struct {
	Mottaker             DPIAdresse `json:"mottaker"`
	Returposthaandtering string     `json:"returposthaandtering"`
}

// DPIUtskrift is the utskrift (print) body.
type DPIUtskrift struct {
	Avsender                   DPIAvsender      `json:"avsender"`
	Mottaker                   DPIAdresse       `json:"mottaker"`
	Dokumentpakkefingeravtrykk DPIFingeravtrykk `json:"dokumentpakkefingeravtrykk"`
	Maskinportentoken          string           `json:"maskinportentoken"`
	Utskriftstype              string           `json:"utskriftstype"`
	Retur                      DPIRetur         `json:"retur"`
	Posttype                   string           `json:"posttype,omitempty"`
}

// DPIVirksomhetmottaker is the mottaker of a receipt.
type DPIVirksomhetmottaker struct {
	Virksomhetsidentifikator DPIIdentifier `json:"virksomhetsidentifikator"`
	// Motakeridentifikator is spelled with one t, as the schema spells it.
	Motakeridentifikator string `json:"motakeridentifikator,omitempty"`
}

// DPIReceiptAvsender is the avsender of a receipt (the mailbox or print provider); the schema allows the
// whole commons avsender.
type DPIReceiptAvsender struct {
	Virksomhetsidentifikator DPIIdentifier `json:"virksomhetsidentifikator"`
	Avsenderidentifikator    string        `json:"avsenderidentifikator,omitempty"`
	FakturaReferanse         string        `json:"fakturaReferanse,omitempty"`
}

// DPIKvittering is the body of every receipt type: leveringskvittering, aapningskvittering,
// mottakskvittering and returpostkvittering use the common fields only; varslingfeiletkvittering adds
// varslingskanal and beskrivelse, feil adds feiltype and detaljer.
type DPIKvittering struct {
	Avsender       DPIReceiptAvsender    `json:"avsender"`
	Mottaker       DPIVirksomhetmottaker `json:"mottaker"`
	Tidspunkt      string                `json:"tidspunkt"`
	Varslingskanal string                `json:"varslingskanal,omitempty"`
	Beskrivelse    string                `json:"beskrivelse,omitempty"`
	Feiltype       string                `json:"feiltype,omitempty"`
	Detaljer       string                `json:"detaljer,omitempty"`
}

// DPIMessage is a DPI business document: the SBD header and exactly one body, under the key of the
// header's documentIdentification.type.
type DPIMessage struct {
	Header     StandardBusinessDocumentHeader
	Digital    *DPIDigital
	Utskrift   *DPIUtskrift
	Kvittering *DPIKvittering
}

// Type is the header's documentIdentification.type.
func (m *DPIMessage) Type() string {
	if m.Header.DocumentIdentification == nil {
		return ""
	}
	return m.Header.DocumentIdentification.Type
}

// MessageID is the header's instanceIdentifier.
func (m *DPIMessage) MessageID() string {
	if m.Header.DocumentIdentification == nil {
		return ""
	}
	return m.Header.DocumentIdentification.InstanceIdentifier
}

// ConversationID is the ConversationId scope's instanceIdentifier.
func (m *DPIMessage) ConversationID() string {
	if m.Header.BusinessScope == nil {
		return ""
	}
	for _, s := range m.Header.BusinessScope.Scope {
		if s.Type == ScopeConversationID || s.Type == "CONVERSATION_ID" {
			return s.InstanceIdentifier
		}
	}
	return ""
}

// IsDPIReceipt reports whether typ is a receipt type.
func IsDPIReceipt(typ string) bool {
	switch typ {
	case DPITypeLeveringskvittering, DPITypeAapningskvittering, DPITypeMottakskvittering,
		DPITypeVarslingfeiletkvittering, DPITypeReturpostkvittering, DPITypeFeil:
		return true
	}
	return false
}

type dpiEnvelope struct {
	SBD map[string]json.RawMessage `json:"standardBusinessDocument"`
}

// MarshalJSON writes {"standardBusinessDocument": {"standardBusinessDocumentHeader": …, "<type>": …}}.
func (m DPIMessage) MarshalJSON() ([]byte, error) {
	var body any
	switch {
	case m.Digital != nil:
		body = m.Digital
	case m.Utskrift != nil:
		body = m.Utskrift
	case m.Kvittering != nil:
		body = m.Kvittering
	default:
		return nil, fmt.Errorf("dpi message %s has no body", m.Type())
	}
	h, err := json.Marshal(m.Header)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	typ, _ := json.Marshal(m.Type())
	out := []byte(`{"standardBusinessDocument":{"standardBusinessDocumentHeader":`)
	out = append(out, h...)
	out = append(out, ',')
	out = append(out, typ...)
	out = append(out, ':')
	out = append(out, b...)
	return append(out, "}}"...), nil
}

// UnmarshalJSON reads a DPI business document: exactly the header and one body whose key is the document
// type. digital and utskrift bodies are read strictly (no unknown fields, as the schemas say); receipts
// and flyttet leniently into Kvittering, as the integration point reads them. Any other type is an
// error.
func (m *DPIMessage) UnmarshalJSON(data []byte) error {
	var env dpiEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		return fmt.Errorf("dpi message: %w", err)
	}
	if env.SBD == nil {
		return fmt.Errorf("dpi message: no standardBusinessDocument")
	}
	rawHeader, ok := env.SBD["standardBusinessDocumentHeader"]
	if !ok {
		return fmt.Errorf("dpi message: no standardBusinessDocumentHeader")
	}
	var h StandardBusinessDocumentHeader
	if err := json.Unmarshal(rawHeader, &h); err != nil {
		return fmt.Errorf("dpi message header: %w", err)
	}
	*m = DPIMessage{Header: h}
	typ := m.Type()
	if len(env.SBD) != 2 {
		keys := make([]string, 0, len(env.SBD))
		for k := range env.SBD {
			keys = append(keys, k)
		}
		return fmt.Errorf("dpi message: want the header and one body, got keys %s", strings.Join(keys, ", "))
	}
	raw, ok := env.SBD[typ]
	if !ok {
		return fmt.Errorf("dpi message: no body under the type %q", typ)
	}
	strict := func(v any) error {
		d := json.NewDecoder(strings.NewReader(string(raw)))
		d.DisallowUnknownFields()
		if err := d.Decode(v); err != nil {
			return fmt.Errorf("dpi %s body: %w", typ, err)
		}
		return nil
	}
	switch {
	case typ == DPITypeDigital:
		m.Digital = &DPIDigital{}
		return strict(m.Digital)
	case typ == DPITypeUtskrift:
		m.Utskrift = &DPIUtskrift{}
		return strict(m.Utskrift)
	case IsDPIReceipt(typ) || typ == DPITypeFlyttet:
		m.Kvittering = &DPIKvittering{}
		if err := json.Unmarshal(raw, m.Kvittering); err != nil {
			return fmt.Errorf("dpi %s body: %w", typ, err)
		}
		return nil
	}
	return fmt.Errorf("dpi message: unknown type %q", typ)
}

// SDPManifest is the manifest.xml of a DPI dokumentpakke (namespace SDPNamespace). Mottaker is nil for
// utskrift.
type SDPManifest struct {
	XMLName       xml.Name      `xml:"http://begrep.difi.no/sdp/schema_v10 manifest" json:"-"`
	Mottaker      *SDPMottaker  `xml:"mottaker,omitempty" json:"mottaker,omitempty"`
	Avsender      SDPAvsender   `xml:"avsender" json:"avsender"`
	Hoveddokument SDPDokument   `xml:"hoveddokument" json:"hoveddokument"`
	Vedlegg       []SDPDokument `xml:"vedlegg" json:"vedlegg,omitempty"`
}

// SDPMottaker is the manifest's mottaker (digital only).
type SDPMottaker struct {
	Person SDPPerson `xml:"person" json:"person"`
}

// SDPPerson is the person the digital post is for.
type SDPPerson struct {
	Postkasseadresse string `xml:"postkasseadresse" json:"postkasseadresse"`
}

// SDPAvsender is the manifest's avsender.
type SDPAvsender struct {
	Organisasjon          SDPOrganisasjon `xml:"organisasjon" json:"organisasjon"`
	Avsenderidentifikator string          `xml:"avsenderidentifikator,omitempty" json:"avsenderidentifikator,omitempty"`
	FakturaReferanse      string          `xml:"fakturaReferanse,omitempty" json:"fakturaReferanse,omitempty"`
}

// SDPOrganisasjon is an ISO 6523 organisation identifier (0192:orgnr).
type SDPOrganisasjon struct {
	Authority string `xml:"authority,attr" json:"authority"`
	Value     string `xml:",chardata" json:"value"`
}

// SDPDokument is the hoveddokument or a vedlegg.
type SDPDokument struct {
	Href   string    `xml:"href,attr" json:"href"`
	Mime   string    `xml:"mime,attr" json:"mime"`
	Tittel SDPTittel `xml:"tittel" json:"tittel"`
	Data   *SDPData  `xml:"data,omitempty" json:"data,omitempty"`
}

// SDPTittel is a document title with its language.
type SDPTittel struct {
	Lang  string `xml:"lang,attr" json:"lang"`
	Value string `xml:",chardata" json:"value"`
}

// SDPData names a document's metadata document.
type SDPData struct {
	Href string `xml:"href,attr" json:"href"`
	Mime string `xml:"mime,attr" json:"mime"`
}

// Marshal renders the manifest with an XML declaration, as JAXB writes it.
func (m SDPManifest) Marshal() ([]byte, error) {
	out, err := xml.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("write sdp manifest: %w", err)
	}
	return append([]byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n"), out...), nil
}

// ParseSDPManifest reads a manifest.xml.
func ParseSDPManifest(data []byte) (*SDPManifest, error) {
	var m SDPManifest
	if err := xml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("read sdp manifest: %w", err)
	}
	return &m, nil
}

// KRRPrintSertifikat is the answer of KRR's GET /rest/v2/printSertifikat: the print provider's
// organisation number and its certificate (PEM).
type KRRPrintSertifikat struct {
	PostkasseleverandoerAdresse string `json:"postkasseleverandoerAdresse"`
	X509Sertifikat              string `json:"x509Sertifikat"`
}

// DPIStatus is one element of GET /messages/out/{messageId}/statuses.
type DPIStatus struct {
	Status      string `json:"status"`
	Timestamp   string `json:"timestamp"`
	Beskrivelse string `json:"beskrivelse,omitempty"`
}

// DPIIncoming is one element of GET /messages/in.
type DPIIncoming struct {
	Forretningsmelding string  `json:"forretningsmelding"`
	Downloadurl        *string `json:"downloadurl"`
}
