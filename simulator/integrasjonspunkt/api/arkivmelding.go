package api

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// arkivmeldingFile is the filename whose upload is parsed as a Noark 5 arkivmelding.
const arkivmeldingFile = "arkivmelding.xml"

// Exceptions of the real ArkivmeldingUtil (a 500 in the real IP, a 400 here).
const (
	exNextMoveRuntime     = "no.difi.meldingsutveksling.nextmove.NextMoveRuntimeException"
	exArkivmeldingRuntime = "no.difi.meldingsutveksling.arkivmelding.ArkivmeldingRuntimeException"
)

// xsiNamespace is the XML Schema instance namespace; xsi:type tells a saksmappe from other mapper.
const xsiNamespace = "http://www.w3.org/2001/XMLSchema-instance"

// arkivmelding is what the integration point reads from arkivmelding.xml: the first saksmappe's
// systemID and its first journalpost.
type arkivmelding struct {
	SaksmappeSystemID string
	OffentligTittel   string
	// Journalpostnummer is empty when the journalpost has none.
	Journalpostnummer string
	// Files are the referanseDokumentfil names of the journalpost's dokumentbeskrivelser, in
	// dokumentnummer order.
	Files []string
}

// Reference is the conversation's messageReference: "<saksmappe.systemID>-<journalpostnummer>", or ""
// without a journalpostnummer.
func (a arkivmelding) Reference() string {
	if a.Journalpostnummer == "" {
		return ""
	}
	return a.SaksmappeSystemID + "-" + a.Journalpostnummer
}

// xmlArkivmelding is the part of arkivmelding.xml the integration point reads.
type xmlArkivmelding struct {
	Mapper []xmlMappe `xml:"mappe"`
}

// xmlMappe is a mappe; its xsi:type says whether it is a saksmappe.
type xmlMappe struct {
	Attrs             []xml.Attr        `xml:",any,attr"`
	SystemID          string            `xml:"systemID"`
	Basisregistrering []xmlRegistrering `xml:"basisregistrering"`
}

// xmlRegistrering is a basisregistrering; its xsi:type says whether it is a journalpost.
type xmlRegistrering struct {
	Attrs               []xml.Attr               `xml:",any,attr"`
	OffentligTittel     string                   `xml:"offentligTittel"`
	Journalpostnummer   *string                  `xml:"journalpostnummer"`
	Dokumentbeskrivelse []xmlDokumentbeskrivelse `xml:"dokumentbeskrivelse"`
}

// xmlDokumentbeskrivelse is a document description with its files.
type xmlDokumentbeskrivelse struct {
	Dokumentnummer string `xml:"dokumentnummer"`
	Dokumentobjekt []struct {
		ReferanseDokumentfil string `xml:"referanseDokumentfil"`
	} `xml:"dokumentobjekt"`
}

// xsiType is the local part of an element's xsi:type ("saksmappe" for xsi:type="a:saksmappe").
func xsiType(attrs []xml.Attr) string {
	for _, a := range attrs {
		if a.Name.Local == "type" && (a.Name.Space == xsiNamespace || a.Name.Space == "xsi") {
			v := strings.TrimSpace(a.Value)
			if i := strings.LastIndexByte(v, ':'); i >= 0 {
				v = v[i+1:]
			}
			return v
		}
	}
	return ""
}

// parseArkivmelding reads arkivmelding.xml as the real ArkivmeldingUtil does: the first mappe of type
// saksmappe, and its first basisregistrering of type journalpost. The error is the 400 to answer.
func parseArkivmelding(data []byte) (arkivmelding, *apiError) {
	var doc xmlArkivmelding
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	if err := dec.Decode(&doc); err != nil {
		return arkivmelding{}, newError(http.StatusBadRequest, exNextMoveRuntime,
			"Failed to get Arkivmelding: "+arkivmeldingFile+" is not well-formed XML: "+err.Error()).withCause(err)
	}
	var mappe *xmlMappe
	for i := range doc.Mapper {
		if xsiType(doc.Mapper[i].Attrs) == "saksmappe" {
			mappe = &doc.Mapper[i]
			break
		}
	}
	if mappe == nil {
		return arkivmelding{}, newError(http.StatusBadRequest, exArkivmeldingRuntime, `No "Saksmappe" found in Arkivmelding`)
	}
	var jp *xmlRegistrering
	for i := range mappe.Basisregistrering {
		if xsiType(mappe.Basisregistrering[i].Attrs) == "journalpost" {
			jp = &mappe.Basisregistrering[i]
			break
		}
	}
	if jp == nil {
		return arkivmelding{}, newError(http.StatusBadRequest, exArkivmeldingRuntime, `No "Journalpost" found in Arkivmelding`)
	}
	am := arkivmelding{SaksmappeSystemID: strings.TrimSpace(mappe.SystemID), OffentligTittel: jp.OffentligTittel}
	if jp.Journalpostnummer != nil {
		n, err := strconv.ParseInt(strings.TrimSpace(*jp.Journalpostnummer), 10, 64)
		if err != nil {
			return arkivmelding{}, newError(http.StatusBadRequest, exNextMoveRuntime, fmt.Sprintf(
				"Failed to get Arkivmelding: journalpostnummer %q is not an integer", *jp.Journalpostnummer))
		}
		am.Journalpostnummer = strconv.FormatInt(n, 10)
	}
	type doc2 struct {
		nr    int64
		files []string
	}
	docs := make([]doc2, 0, len(jp.Dokumentbeskrivelse))
	for _, d := range jp.Dokumentbeskrivelse {
		n, err := strconv.ParseInt(strings.TrimSpace(d.Dokumentnummer), 10, 64)
		if err != nil {
			return arkivmelding{}, newError(http.StatusBadRequest, exNextMoveRuntime, fmt.Sprintf(
				"Failed to get Arkivmelding: dokumentnummer %q is not an integer", d.Dokumentnummer))
		}
		var files []string
		for _, o := range d.Dokumentobjekt {
			files = append(files, strings.TrimSpace(o.ReferanseDokumentfil))
		}
		docs = append(docs, doc2{n, files})
	}
	sort.SliceStable(docs, func(i, j int) bool { return docs[i].nr < docs[j].nr })
	for _, d := range docs {
		am.Files = append(am.Files, d.files...)
	}
	return am, nil
}
