package dpf

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// Flex is a JSON scalar read leniently: a string, number or boolean is kept as its text; null and
// absent are "". Objects and arrays are refused.
type Flex string

// UnmarshalJSON reads any JSON scalar.
func (f *Flex) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*f = ""
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = Flex(s)
		return nil
	}
	if b[0] == '{' || b[0] == '[' {
		return &json.UnmarshalTypeError{Value: "object or array", Type: nil}
	}
	*f = Flex(b)
	return nil
}

func (f Flex) String() string { return string(f) }

// Bool is true for "true" (any case).
func (f Flex) Bool() bool { b, _ := strconv.ParseBool(string(f)); return b }

// Adresse is a SvarUt REST postal address.
type Adresse struct {
	Adresselinje1 Flex `json:"adresselinje1,omitempty"`
	Adresselinje2 Flex `json:"adresselinje2,omitempty"`
	Adresselinje3 Flex `json:"adresselinje3,omitempty"`
	Postnummer    Flex `json:"postnummer,omitempty"`
	Poststed      Flex `json:"poststed,omitempty"`
	Land          Flex `json:"land,omitempty"`
}

// Adressat is a mottaker or svarSendesTil. Both the REST shape (orgnr or organisasjonsnummer, navn,
// adresse{…}) and the SvarInn flat shape (adresse1, postnr, poststed) are read.
type Adressat struct {
	Navn                Flex     `json:"navn,omitempty"`
	Type                Flex     `json:"type,omitempty"`
	Orgnr               Flex     `json:"orgnr,omitempty"`
	Organisasjonsnummer Flex     `json:"organisasjonsnummer,omitempty"`
	Fnr                 Flex     `json:"fnr,omitempty"`
	Adresse             *Adresse `json:"adresse,omitempty"`
	Adresse1            Flex     `json:"adresse1,omitempty"`
	Postnr              Flex     `json:"postnr,omitempty"`
	Poststed            Flex     `json:"poststed,omitempty"`
	Land                Flex     `json:"land,omitempty"`
}

// OrgnrOf is the organisation number the adressat names.
func (a *Adressat) OrgnrOf() string {
	if a == nil {
		return ""
	}
	if a.Orgnr != "" {
		return string(a.Orgnr)
	}
	return string(a.Organisasjonsnummer)
}

// KeyValue is an ekstraMetadata entry.
type KeyValue struct {
	Key   Flex `json:"key"`
	Value Flex `json:"value"`
}

// Metadata is metadataFraAvleverendeSystem.
type Metadata struct {
	Saksaar              Flex       `json:"saksaar,omitempty"`
	Sakssekvensnummer    Flex       `json:"sakssekvensnummer,omitempty"`
	Journalaar           Flex       `json:"journalaar,omitempty"`
	Journalsekvensnummer Flex       `json:"journalsekvensnummer,omitempty"`
	Journalpostnummer    Flex       `json:"journalpostnummer,omitempty"`
	Journalposttype      Flex       `json:"journalposttype,omitempty"`
	Journalstatus        Flex       `json:"journalstatus,omitempty"`
	Journaldato          Flex       `json:"journaldato,omitempty"`
	DokumentetsDato      Flex       `json:"dokumentetsDato,omitempty"`
	Tittel               Flex       `json:"tittel,omitempty"`
	Saksbehandler        Flex       `json:"saksbehandler,omitempty"`
	EkstraMetadata       []KeyValue `json:"ekstraMetadata,omitempty"`
}

// Dokument is one entry of dokumenter[].
type Dokument struct {
	Filnavn             Flex `json:"filnavn"`
	MimeType            Flex `json:"mimeType"`
	EkskluderesFraPrint Flex `json:"ekskluderesFraPrint,omitempty"`
	SkalSigneres        Flex `json:"skalSigneres,omitempty"`
	DokumentType        Flex `json:"dokumentType,omitempty"`
}

// Forsendelse is the SvarUt REST OrganisasjonForsendelse as the simulator reads it (leniently; field
// names matched case-insensitively, so forsendelsesType and forsendelsestype both work).
type Forsendelse struct {
	Tittel                       Flex       `json:"tittel"`
	EksternReferanse             Flex       `json:"eksternReferanse"`
	Mottaker                     *Adressat  `json:"mottaker,omitempty"`
	SvarSendesTil                *Adressat  `json:"svarSendesTil,omitempty"`
	AvgivendeSystem              Flex       `json:"avgivendeSystem,omitempty"`
	KrevNiva4Innlogging          Flex       `json:"krevNiva4Innlogging,omitempty"`
	Sikkerhetsniva               Flex       `json:"sikkerhetsniva,omitempty"`
	Sikkerhetsnivaa              Flex       `json:"sikkerhetsnivaa,omitempty"`
	SvarPaForsendelse            Flex       `json:"svarPaForsendelse,omitempty"`
	SvarPaForsendelseID          Flex       `json:"svarPaForsendelseId,omitempty"`
	Forsendelsestype             Flex       `json:"forsendelsestype,omitempty"`
	Konteringskode               Flex       `json:"konteringskode,omitempty"`
	Kryptert                     Flex       `json:"kryptert,omitempty"`
	KunDigitalLevering           Flex       `json:"kunDigitalLevering,omitempty"`
	MetadataFraAvleverendeSystem *Metadata  `json:"metadataFraAvleverendeSystem,omitempty"`
	Dokumenter                   []Dokument `json:"dokumenter,omitempty"`
}

// svarPa is the id the forsendelse answers.
func (f *Forsendelse) svarPa() string {
	if f.SvarPaForsendelseID != "" {
		return string(f.SvarPaForsendelseID)
	}
	return string(f.SvarPaForsendelse)
}

// SvarInn wire types (GET /mottaker/hentNyeForsendelser).

// SvarInnAdresse is svarSendesTil / mottaker in SvarInn's flat shape.
type SvarInnAdresse struct {
	Adresse1 string  `json:"adresse1"`
	Adresse2 string  `json:"adresse2"`
	Adresse3 string  `json:"adresse3"`
	Postnr   string  `json:"postnr"`
	Poststed string  `json:"poststed"`
	Navn     string  `json:"navn"`
	Land     string  `json:"land"`
	Orgnr    string  `json:"orgnr"`
	Fnr      *string `json:"fnr"`
}

// SvarInnMetadata is metadataFraAvleverendeSystem in SvarInn: numbers, dates in epoch millis.
type SvarInnMetadata struct {
	Sakssekvensnummer    int64      `json:"sakssekvensnummer"`
	Saksaar              int64      `json:"saksaar"`
	Journalaar           int64      `json:"journalaar"`
	Journalsekvensnummer int64      `json:"journalsekvensnummer"`
	Journalpostnummer    int64      `json:"journalpostnummer"`
	Journalposttype      string     `json:"journalposttype"`
	Journalstatus        string     `json:"journalstatus"`
	Journaldato          *int64     `json:"journaldato"`
	DokumentetsDato      *int64     `json:"dokumentetsDato"`
	Tittel               string     `json:"tittel"`
	Saksbehandler        *string    `json:"saksBehandler"`
	EkstraMetadata       []KeyValue `json:"ekstraMetadata"`
}

// SvarInnFil is one filmetadata entry.
type SvarInnFil struct {
	Filnavn      string  `json:"filnavn"`
	Mimetype     string  `json:"mimetype"`
	Sha256hash   string  `json:"sha256hash"`
	DokumentType *string `json:"dokumentType"`
	Size         int64   `json:"size"`
}

// SvarInnForsendelse is one element of the hentNyeForsendelser array.
type SvarInnForsendelse struct {
	ID                           string          `json:"id"`
	Tittel                       string          `json:"tittel"`
	Date                         int64           `json:"date"`
	Mottaker                     SvarInnAdresse  `json:"mottaker"`
	SvarSendesTil                SvarInnAdresse  `json:"svarSendesTil"`
	SvarPaForsendelse            *string         `json:"svarPaForsendelse"`
	Forsendelsestype             *string         `json:"forsendelseType"`
	EksternRef                   *string         `json:"eksternRef"`
	MetadataFraAvleverendeSystem SvarInnMetadata `json:"metadataFraAvleverendeSystem"`
	Filmetadata                  []SvarInnFil    `json:"filmetadata"`
	DownloadURL                  string          `json:"downloadUrl"`
	Niva                         string          `json:"niva,omitempty"`
}
