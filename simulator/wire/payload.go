package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// BusinessMessage is the payload of a StandardBusinessDocument: one of Arkivmelding,
// ArkivmeldingKvittering, Avtalt, Digital, DigitalDPV, Print, Innsynskrav, Publisering,
// EinnsynKvittering, StatusMessage, Dialogmelding and DialogmeldingKvittering. ParseSBD always stores a
// pointer (*Arkivmelding, …); values work as well when building a document.
//
// Field names follow the JSON exactly (spec ip-api §3.3). Empty strings and nil pointers are omitted on
// output, as the real integration point omits nulls. Unknown properties are ignored on input and not kept.
type BusinessMessage interface {
	// MessageType is the documentIdentification.type, and the JSON key, the payload belongs under.
	MessageType() MessageType
}

// newBusinessMessage returns a pointer to an empty payload of type t, or nil if t carries no payload.
func newBusinessMessage(t MessageType) BusinessMessage {
	switch t {
	case TypeArkivmelding:
		return &Arkivmelding{}
	case TypeArkivmeldingKvittering:
		return &ArkivmeldingKvittering{}
	case TypeAvtalt:
		return &Avtalt{}
	case TypeDigital:
		return &Digital{}
	case TypeDigitalDPV:
		return &DigitalDPV{}
	case TypePrint:
		return &Print{}
	case TypeInnsynskrav:
		return &Innsynskrav{}
	case TypePublisering:
		return &Publisering{}
	case TypeEinnsynKvittering:
		return &EinnsynKvittering{}
	case TypeStatus:
		return &StatusMessage{}
	case TypeDialogmelding:
		return &Dialogmelding{}
	case TypeDialogmeldingKvittering:
		return &DialogmeldingKvittering{}
	}
	return nil
}

// Arkivmelding is the "arkivmelding" payload (DPO, DPV, DPF).
type Arkivmelding struct {
	// Hoveddokument is the filename of the primary document.
	Hoveddokument string `json:"hoveddokument,omitempty"`
	// Sikkerhetsnivaa is the security level, 3 or 4 (DPF/SvarUt).
	Sikkerhetsnivaa *int `json:"sikkerhetsnivaa,omitempty"`
	// DPV holds the DPV notification settings.
	DPV *DPVSettings `json:"dpv,omitempty"`
	// DPF holds the FIKS/SvarUt settings.
	DPF *DPFSettings `json:"dpf,omitempty"`
}

// MessageType returns TypeArkivmelding.
func (Arkivmelding) MessageType() MessageType { return TypeArkivmelding }

// DPVSettings are the DPV notification settings of arkivmelding and digital_dpv.
type DPVSettings struct {
	VarselType                DPVVarselType          `json:"varselType,omitempty"`
	VarselTransportType       DPVVarselTransportType `json:"varselTransportType,omitempty"`
	VarselTekst               string                 `json:"varselTekst,omitempty"`
	TaushetsbelagtVarselTekst string                 `json:"taushetsbelagtVarselTekst,omitempty"`
	DagerTilSvarfrist         *int                   `json:"dagerTilSvarfrist,omitempty"`
}

// DPFSettings are the FIKS/SvarUt settings of arkivmelding.
type DPFSettings struct {
	// ForsendelseType is a SvarUt forsendelsetype of the sender.
	ForsendelseType string `json:"forsendelseType,omitempty"`
}

// ArkivmeldingKvittering is the "arkivmelding_kvittering" payload (receipt for an arkivmelding).
type ArkivmeldingKvittering struct {
	Hoveddokument string `json:"hoveddokument,omitempty"`
	// ReceiptType is OK, WARNING, ERROR or NOTSUPPORTED; the real IP does not validate it.
	ReceiptType string `json:"receiptType,omitempty"`
	// RelatedToMessageID is the messageId of the arkivmelding this receipt answers.
	RelatedToMessageID string `json:"relatedToMessageId,omitempty"`
	// Messages is written when non-nil, even if empty.
	Messages []KvitteringStatusMessage `json:"messages,omitzero"`
}

// MessageType returns TypeArkivmeldingKvittering.
func (ArkivmeldingKvittering) MessageType() MessageType { return TypeArkivmeldingKvittering }

// KvitteringStatusMessage is one {code, text} entry of a receipt.
type KvitteringStatusMessage struct {
	Code string `json:"code,omitempty"`
	Text string `json:"text,omitempty"`
}

// Avtalt is the "avtalt" payload (bilaterally agreed message over DPO).
type Avtalt struct {
	Hoveddokument string `json:"hoveddokument,omitempty"`
	// Identifier names the agreed message kind.
	Identifier string `json:"identifier,omitempty"`
	// Content is any JSON value, kept as given apart from insignificant whitespace, which unmarshalling
	// removes. A JSON null reads as nil.
	Content json.RawMessage `json:"content,omitempty"`
}

// MessageType returns TypeAvtalt.
func (Avtalt) MessageType() MessageType { return TypeAvtalt }

// UnmarshalJSON reads an avtalt payload; "content": null becomes a nil Content, which is then omitted.
func (a *Avtalt) UnmarshalJSON(b []byte) error {
	type plain Avtalt
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	if string(p.Content) == "null" {
		p.Content = nil
	} else if p.Content != nil {
		var c bytes.Buffer
		if err := json.Compact(&c, p.Content); err != nil {
			return err
		}
		p.Content = c.Bytes()
	}
	*a = Avtalt(p)
	return nil
}

// Digital is the "digital" payload (DPI digital post to a citizen).
type Digital struct {
	Hoveddokument    string `json:"hoveddokument,omitempty"`
	Sikkerhetsnivaa  *int   `json:"sikkerhetsnivaa,omitempty"`
	AvsenderID       string `json:"avsenderId,omitempty"`
	FakturaReferanse string `json:"fakturaReferanse,omitempty"`
	Tittel           string `json:"tittel,omitempty"`
	// Spraak is an ISO-639-1 language code (NO, en, …).
	Spraak          string           `json:"spraak,omitempty"`
	DigitalPostInfo *DigitalPostInfo `json:"digitalPostInfo,omitempty"`
	Varsler         *DPINotification `json:"varsler,omitempty"`
	// MetadataFiler maps an attachment filename to the filename of its metadata document. Unmarshalling
	// defaults it to an empty map, written as {}, as the real IP does; an explicit null leaves it nil
	// and it is then omitted.
	MetadataFiler map[string]string `json:"metadataFiler,omitzero"`
}

// MessageType returns TypeDigital.
func (Digital) MessageType() MessageType { return TypeDigital }

// UnmarshalJSON reads a digital payload, defaulting MetadataFiler to an empty map.
func (d *Digital) UnmarshalJSON(b []byte) error {
	type plain Digital
	p := plain{MetadataFiler: map[string]string{}}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*d = Digital(p)
	return nil
}

// DigitalPostInfo is the digitalPostInfo of a digital payload.
type DigitalPostInfo struct {
	// Virkningsdato is the date the letter takes effect (yyyy-MM-dd).
	Virkningsdato *LocalDate `json:"virkningsdato,omitempty"`
	// Aapningskvittering asks for a receipt when the letter is opened.
	Aapningskvittering *bool `json:"aapningskvittering,omitempty"`
}

// DPINotification is the varsler of a digital payload.
type DPINotification struct {
	EpostTekst string `json:"epostTekst,omitempty"`
	SmsTekst   string `json:"smsTekst,omitempty"`
}

// DigitalDPV is the "digital_dpv" payload (DPV digital post to an organisation).
type DigitalDPV struct {
	Hoveddokument string       `json:"hoveddokument,omitempty"`
	Tittel        string       `json:"tittel,omitempty"`
	Sammendrag    string       `json:"sammendrag,omitempty"`
	Innhold       string       `json:"innhold,omitempty"`
	DPV           *DPVSettings `json:"dpv,omitempty"`
}

// MessageType returns TypeDigitalDPV.
func (DigitalDPV) MessageType() MessageType { return TypeDigitalDPV }

// Print is the "print" payload (DPI physical mail).
type Print struct {
	Hoveddokument    string         `json:"hoveddokument,omitempty"`
	AvsenderID       string         `json:"avsenderId,omitempty"`
	FakturaReferanse string         `json:"fakturaReferanse,omitempty"`
	Mottaker         *PostalAddress `json:"mottaker,omitempty"`
	Utskriftsfarge   PrintColor     `json:"utskriftsfarge,omitempty"`
	Posttype         PostalCategory `json:"posttype,omitempty"`
	Retur            *MailReturn    `json:"retur,omitempty"`
	// Printinstruksjoner are free key/value print instructions. Unmarshalling defaults them to an empty
	// map, written as {}; an explicit null leaves them nil and they are then omitted.
	Printinstruksjoner map[string]string `json:"printinstruksjoner,omitzero"`
}

// MessageType returns TypePrint.
func (Print) MessageType() MessageType { return TypePrint }

// UnmarshalJSON reads a print payload, defaulting Printinstruksjoner to an empty map.
func (m *Print) UnmarshalJSON(b []byte) error {
	type plain Print
	p := plain{Printinstruksjoner: map[string]string{}}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*m = Print(p)
	return nil
}

// PostalAddress is the PostAddress of a print payload (receiver and return address).
type PostalAddress struct {
	Navn          string `json:"navn,omitempty"`
	Adresselinje1 string `json:"adresselinje1,omitempty"`
	Adresselinje2 string `json:"adresselinje2,omitempty"`
	Adresselinje3 string `json:"adresselinje3,omitempty"`
	Adresselinje4 string `json:"adresselinje4,omitempty"`
	Postnummer    string `json:"postnummer,omitempty"`
	Poststed      string `json:"poststed,omitempty"`
	Land          string `json:"land,omitempty"`
}

// MailReturn is the retur of a print payload.
type MailReturn struct {
	Mottaker         *PostalAddress `json:"mottaker,omitempty"`
	Returhaandtering ReturnHandling `json:"returhaandtering,omitempty"`
}

// Innsynskrav is the "innsynskrav" payload (DPE request for access).
type Innsynskrav struct {
	Hoveddokument string `json:"hoveddokument,omitempty"`
	Orgnr         string `json:"orgnr,omitempty"`
	Epost         string `json:"epost,omitempty"`
}

// MessageType returns TypeInnsynskrav.
func (Innsynskrav) MessageType() MessageType { return TypeInnsynskrav }

// Publisering is the "publisering" payload (DPE publication to eInnsyn).
type Publisering struct {
	Hoveddokument string `json:"hoveddokument,omitempty"`
	Orgnr         string `json:"orgnr,omitempty"`
}

// MessageType returns TypePublisering.
func (Publisering) MessageType() MessageType { return TypePublisering }

// EinnsynKvittering is the "einnsyn_kvittering" payload (DPE receipt).
type EinnsynKvittering struct {
	Hoveddokument string `json:"hoveddokument,omitempty"`
	DokumentID    string `json:"dokumentId,omitempty"`
	// Status is a JSON object encoded as a string, per the eInnsyn documentation.
	Status        string      `json:"status,omitempty"`
	ReferanseType EinnsynType `json:"referanseType,omitempty"`
}

// MessageType returns TypeEinnsynKvittering.
func (EinnsynKvittering) MessageType() MessageType { return TypeEinnsynKvittering }

// StatusMessage is the "status" payload that receiving integration points send back (MOTTATT, LEVERT).
type StatusMessage struct {
	Hoveddokument string        `json:"hoveddokument,omitempty"`
	Status        ReceiptStatus `json:"status,omitempty"`
}

// MessageType returns TypeStatus.
func (StatusMessage) MessageType() MessageType { return TypeStatus }

// UnmarshalJSON reads a status payload; a status that is not a ReceiptStatus is an error, as it is for
// the real IP's enum.
func (m *StatusMessage) UnmarshalJSON(b []byte) error {
	type plain StatusMessage
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	if p.Status != "" && !p.Status.Valid() {
		names := make([]string, 0, len(ReceiptStatuses()))
		for _, s := range ReceiptStatuses() {
			names = append(names, string(s))
		}
		return &EnumError{Enum: "ReceiptStatus", Value: fmt.Sprintf("%q", p.Status), Allowed: names}
	}
	*m = StatusMessage(p)
	return nil
}

// Dialogmelding is the "dialogmelding" payload (DPH, helse).
type Dialogmelding struct {
	Hoveddokument string   `json:"hoveddokument,omitempty"`
	Pasient       *Pasient `json:"pasient,omitempty"`
	// MetadataFiler maps a filename to its metadata. Unmarshalling defaults it to an empty map, written
	// as {}; an explicit null leaves it nil and it is then omitted. A null entry reads as a nil pointer.
	MetadataFiler map[string]*DialogmeldingMetadata `json:"metadataFiler,omitzero"`
}

// MessageType returns TypeDialogmelding.
func (Dialogmelding) MessageType() MessageType { return TypeDialogmelding }

// UnmarshalJSON reads a dialogmelding payload, defaulting MetadataFiler to an empty map.
func (m *Dialogmelding) UnmarshalJSON(b []byte) error {
	type plain Dialogmelding
	p := plain{MetadataFiler: map[string]*DialogmeldingMetadata{}}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*m = Dialogmelding(p)
	return nil
}

// Pasient is the patient of a dialogmelding.
type Pasient struct {
	Fnr        string `json:"fnr,omitempty"`
	Fornavn    string `json:"fornavn,omitempty"`
	Mellomnavn string `json:"mellomnavn,omitempty"`
	Etternavn  string `json:"etternavn,omitempty"`
}

// DialogmeldingMetadata describes one file of a dialogmelding.
type DialogmeldingMetadata struct {
	IssueDate   *Instant `json:"issueDate,omitempty"`
	Description string   `json:"description,omitempty"`
}

// DialogmeldingKvittering is the "dialogmelding_kvittering" payload (DPH application receipt). Unlike
// every other payload it has no hoveddokument.
type DialogmeldingKvittering struct {
	RelatedToMessageID string                        `json:"relatedToMessageId,omitempty"`
	Status             DialogmeldingKvitteringStatus `json:"status,omitempty"`
	// Messages is written when non-nil, even if empty.
	Messages   []KvitteringStatusMessage `json:"messages,omitzero"`
	RawReceipt string                    `json:"rawReceipt,omitempty"`
}

// MessageType returns TypeDialogmeldingKvittering.
func (DialogmeldingKvittering) MessageType() MessageType { return TypeDialogmeldingKvittering }

// ErrUnknownEnumValue is wrapped by the error an enum-valued field returns for a value outside its set.
// The real IP answers such input with 400 (a JSON error).
var ErrUnknownEnumValue = errors.New("unknown enum value")

// EnumError reports a JSON value that is not one of an enum's values.
type EnumError struct {
	// Enum is the Go type name, e.g. "PrintColor".
	Enum string
	// Value is the rejected JSON text (a quoted string, or another JSON value).
	Value string
	// Allowed are the accepted values.
	Allowed []string
}

// Error names the value and the accepted ones.
func (e *EnumError) Error() string {
	return fmt.Sprintf("%s: %s is not one of [%s]", e.Enum, e.Value, strings.Join(e.Allowed, ", "))
}

// Unwrap returns ErrUnknownEnumValue.
func (e *EnumError) Unwrap() error { return ErrUnknownEnumValue }

// unmarshalEnum reads a JSON string that must be one of allowed; null leaves *dst unchanged.
func unmarshalEnum[T ~string](b []byte, dst *T, enum string, allowed ...T) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		for _, a := range allowed {
			if string(a) == s {
				*dst = a
				return nil
			}
		}
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	v := string(b)
	if len(v) > 64 {
		v = v[:64] + "…"
	}
	return &EnumError{Enum: enum, Value: v, Allowed: names}
}

// PrintColor is the utskriftsfarge of a print payload.
type PrintColor string

// The print colours.
const (
	PrintColorSortHvit PrintColor = "SORT_HVIT"
	PrintColorFarge    PrintColor = "FARGE"
)

// UnmarshalJSON accepts only SORT_HVIT and FARGE.
func (v *PrintColor) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, v, "PrintColor", PrintColorSortHvit, PrintColorFarge)
}

// PostalCategory is the posttype of a print payload.
type PostalCategory string

// The postal categories.
const (
	PostalCategoryAPrioritert PostalCategory = "A_PRIORITERT"
	PostalCategoryBOekonomi   PostalCategory = "B_OEKONOMI"
)

// UnmarshalJSON accepts only A_PRIORITERT and B_OEKONOMI.
func (v *PostalCategory) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, v, "PostalCategory", PostalCategoryAPrioritert, PostalCategoryBOekonomi)
}

// ReturnHandling is the returhaandtering of a print payload's retur.
type ReturnHandling string

// The return handlings.
const (
	ReturnHandlingDirekteRetur         ReturnHandling = "DIREKTE_RETUR"
	ReturnHandlingMakuleringMedMelding ReturnHandling = "MAKULERING_MED_MELDING"
)

// UnmarshalJSON accepts only DIREKTE_RETUR and MAKULERING_MED_MELDING.
func (v *ReturnHandling) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, v, "ReturnHandling", ReturnHandlingDirekteRetur, ReturnHandlingMakuleringMedMelding)
}

// DPVVarselType is the dpv.varselType.
type DPVVarselType string

// The DPV notification types.
const (
	DPVVarselUtenRevarsel DPVVarselType = "VarselDPVUtenRevarsel"
	DPVVarselMedRevarsel  DPVVarselType = "VarselDPVMedRevarsel"
)

// UnmarshalJSON accepts only VarselDPVUtenRevarsel and VarselDPVMedRevarsel.
func (v *DPVVarselType) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, v, "DPVVarselType", DPVVarselUtenRevarsel, DPVVarselMedRevarsel)
}

// DPVVarselTransportType is the dpv.varselTransportType.
type DPVVarselTransportType string

// The DPV notification channels.
const (
	DPVTransportEpost      DPVVarselTransportType = "Epost"
	DPVTransportSMS        DPVVarselTransportType = "SMS"
	DPVTransportEpostOgSMS DPVVarselTransportType = "EpostOgSMS"
)

// UnmarshalJSON accepts only Epost, SMS and EpostOgSMS.
func (v *DPVVarselTransportType) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, v, "DPVVarselTransportType", DPVTransportEpost, DPVTransportSMS, DPVTransportEpostOgSMS)
}

// EinnsynType is the referanseType of an einnsyn_kvittering (lower-case on the wire).
type EinnsynType string

// The eInnsyn reference types.
const (
	EinnsynTypeInnsynskrav EinnsynType = "innsynskrav"
	EinnsynTypePublisering EinnsynType = "publisering"
)

// UnmarshalJSON accepts only innsynskrav and publisering.
func (v *EinnsynType) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, v, "EinnsynType", EinnsynTypeInnsynskrav, EinnsynTypePublisering)
}

// DialogmeldingKvitteringStatus is the status of a dialogmelding_kvittering.
type DialogmeldingKvitteringStatus string

// The application receipt statuses.
const (
	DialogmeldingKvitteringOK                   DialogmeldingKvitteringStatus = "OK"
	DialogmeldingKvitteringRejected             DialogmeldingKvitteringStatus = "REJECTED"
	DialogmeldingKvitteringOKErrorInMessagePart DialogmeldingKvitteringStatus = "OK_ERROR_IN_MESSAGE_PART"
)

// UnmarshalJSON accepts only OK, REJECTED and OK_ERROR_IN_MESSAGE_PART.
func (v *DialogmeldingKvitteringStatus) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(b, v, "DialogmeldingKvitteringStatus",
		DialogmeldingKvitteringOK, DialogmeldingKvitteringRejected, DialogmeldingKvitteringOKErrorInMessagePart)
}
