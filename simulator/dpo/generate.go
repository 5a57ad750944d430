package dpo

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

// ResponseTTL is the time to live the status and receipt SBDs the simulator builds carry
// (expectedResponseDateTime = now + 24 h, as SBDFactory.createStatusFrom and the IP's default TTL).
const ResponseTTL = 24 * time.Hour

// standardOf is the document standard (documentIdentification.standard) of message type t.
func standardOf(t wire.MessageType) string {
	switch t {
	case wire.TypeArkivmelding:
		return wire.StandardArkivmelding
	case wire.TypeArkivmeldingKvittering:
		return wire.StandardArkivmeldingKvittering
	case wire.TypeStatus:
		return wire.StandardStatus
	case wire.TypeAvtalt:
		return wire.StandardAvtalt
	case wire.TypeDigital:
		return wire.StandardDigital
	case wire.TypeDigitalDPV:
		return wire.StandardDigitalDPV
	case wire.TypePrint:
		return wire.StandardPrint
	case wire.TypeInnsynskrav:
		return wire.StandardInnsynskrav
	case wire.TypePublisering:
		return wire.StandardPublisering
	case wire.TypeEinnsynKvittering:
		return wire.StandardEinnsynKvittering
	case wire.TypeDialogmelding:
		return wire.StandardDialogmelding
	case wire.TypeDialogmeldingKvittering:
		return wire.StandardDialogmeldingKvittering
	}
	return ""
}

// defaultProcess is the process a message of type t goes under when none is given.
func defaultProcess(t wire.MessageType) string {
	switch t {
	case wire.TypeArkivmelding:
		return wire.ProcessArkivmeldingAdministrasjon
	case wire.TypeArkivmeldingKvittering, wire.TypeStatus:
		return wire.ProcessArkivmeldingResponse
	case wire.TypeAvtalt:
		return wire.ProcessAvtalt
	case wire.TypeDigital, wire.TypeDigitalDPV:
		return wire.ProcessDigitalpostInfo
	case wire.TypePrint:
		return wire.ProcessDigitalpostVedtak
	case wire.TypeInnsynskrav:
		return wire.ProcessEinnsynInnsynskrav
	case wire.TypePublisering:
		return wire.ProcessEinnsynJournalpost
	case wire.TypeEinnsynKvittering:
		return wire.ProcessEinnsynResponse
	case wire.TypeDialogmelding:
		return wire.ProcessHelse
	case wire.TypeDialogmeldingKvittering:
		return wire.ProcessHelseResponse
	}
	return ""
}

// typeVersion is documentIdentification.typeVersion of message type t.
func typeVersion(t wire.MessageType) string {
	if t == wire.TypeDigital || t == wire.TypePrint || t == wire.TypeDigitalDPV {
		return "1.0"
	}
	return "2.0"
}

// responseProcess is the process of the status SBDs answering orig: the response process of its process
// family (arkivmelding, einnsyn or avtalt; upstreams §1.3.1), judged by the process and else by the type.
func responseProcess(orig *wire.StandardBusinessDocument) string {
	process := orig.Process()
	switch {
	case strings.HasPrefix(process, "urn:no:difi:profile:arkivmelding:"):
		return wire.ProcessArkivmeldingResponse
	case strings.HasPrefix(process, "urn:no:difi:profile:einnsyn:"):
		return wire.ProcessEinnsynResponse
	case strings.HasPrefix(process, "urn:no:difi:profile:avtalt:"):
		return wire.ProcessAvtaltResponse
	}
	switch orig.Type() {
	case wire.TypeAvtalt:
		return wire.ProcessAvtaltResponse
	case wire.TypeInnsynskrav, wire.TypePublisering, wire.TypeEinnsynKvittering:
		return wire.ProcessEinnsynResponse
	}
	return wire.ProcessArkivmeldingResponse
}

func offsetTime(t time.Time) *wire.OffsetDateTime {
	v := wire.NewOffsetDateTime(t.In(wire.Oslo()).Truncate(time.Millisecond))
	return &v
}

// copyPartners copies a sender or receiver list.
func copyPartners(ps []wire.Partner) []wire.Partner {
	out := make([]wire.Partner, 0, len(ps))
	for _, p := range ps {
		c := wire.Partner{ContactInformation: p.ContactInformation}
		if p.Identifier != nil {
			id := *p.Identifier
			c.Identifier = &id
		}
		out = append(out, c)
	}
	return out
}

// responseHeader is the header of an SBD answering orig: sender and receiver swapped, the given
// messageId, type and process, orig's conversationId, expectedResponseDateTime now + 24 h, and orig's
// MessageChannel scope if it has one.
func responseHeader(orig *wire.StandardBusinessDocument, messageID string, t wire.MessageType, process string, now time.Time) wire.StandardBusinessDocumentHeader {
	scopes := []wire.Scope{{Type: wire.ScopeConversationID, InstanceIdentifier: orig.ConversationID(), Identifier: process,
		ScopeInformation: []wire.CorrelationInformation{{ExpectedResponseDateTime: offsetTime(now.Add(ResponseTTL))}}}}
	if ch := orig.FindScope(wire.ScopeMessageChannel); ch != nil {
		scopes = append(scopes, *ch)
	}
	return wire.StandardBusinessDocumentHeader{
		HeaderVersion: "1.0",
		Sender:        copyPartners(orig.Header.Receiver),
		Receiver:      copyPartners(orig.Header.Sender),
		DocumentIdentification: &wire.DocumentIdentification{Standard: standardOf(t), TypeVersion: "2.0",
			InstanceIdentifier: messageID, Type: string(t), CreationDateAndTime: offsetTime(now)},
		BusinessScope: &wire.BusinessScope{Scope: scopes},
	}
}

// statusSBD is the status SBD a receiving integration point builds for orig (SBDFactory.createStatusFrom):
// the same messageId and conversationId, the response process of orig's family, and the status.
func statusSBD(orig *wire.StandardBusinessDocument, status wire.ReceiptStatus, now time.Time) *wire.StandardBusinessDocument {
	return &wire.StandardBusinessDocument{
		Header:  responseHeader(orig, orig.MessageID(), wire.TypeStatus, responseProcess(orig), now),
		Message: &wire.StatusMessage{Status: status},
	}
}

// kvitteringSBD is an arkivmelding_kvittering answering orig: a new messageId, orig's conversationId,
// the arkivmelding response process, and relatedToMessageId = orig's messageId.
func kvitteringSBD(orig *wire.StandardBusinessDocument, messageID, receiptType string, messages []wire.KvitteringStatusMessage, now time.Time) *wire.StandardBusinessDocument {
	k := &wire.ArkivmeldingKvittering{ReceiptType: receiptType, RelatedToMessageID: orig.MessageID()}
	if len(messages) > 0 {
		k.Messages = append([]wire.KvitteringStatusMessage(nil), messages...)
	}
	return &wire.StandardBusinessDocument{
		Header:  responseHeader(orig, messageID, wire.TypeArkivmeldingKvittering, wire.ProcessArkivmeldingResponse, now),
		Message: k,
	}
}

// sbdZip is sbd.zip as the integration point writes it (AltinnPackage): sbd.json and, when there is a
// document package, asic.zip.
func sbdZip(sbd *wire.StandardBusinessDocument, asic []byte) ([]byte, error) {
	sbdJSON, err := json.Marshal(sbd)
	if err != nil {
		return nil, fmt.Errorf("encode sbd.json: %w", err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	entries := []struct {
		name string
		data []byte
	}{{EntrySBD, sbdJSON}}
	if asic != nil {
		entries = append(entries, struct {
			name string
			data []byte
		}{EntryASiC, asic})
	}
	for _, e := range entries {
		w, err := zw.Create(e.name)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("write sbd.zip: %w", err)
	}
	return buf.Bytes(), nil
}

// tinyPDF renders a small, valid one-page PDF 1.4 document showing text (ASCII; other characters become
// '?'), with exact cross-reference offsets.
func tinyPDF(text string) []byte {
	var clean strings.Builder
	for _, r := range text {
		switch {
		case r == '(' || r == ')' || r == '\\':
			clean.WriteByte('\\')
			clean.WriteRune(r)
		case r >= 32 && r < 127:
			clean.WriteRune(r)
		default:
			clean.WriteByte('?')
		}
	}
	stream := fmt.Sprintf("BT /F1 14 Tf 72 760 Td (%s) Tj ET", clean.String())
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(stream), stream),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return b.Bytes()
}

// arkivmeldingNamespace is the XML namespace of arkivmelding.xml (Noark 5 arkivmelding).
const arkivmeldingNamespace = "http://www.arkivverket.no/standarder/noark5/arkivmelding"

// minimalArkivmelding renders a small arkivmelding.xml valid against arkivmelding.xsd: a saksmappe with
// one journalpost whose dokumentbeskrivelser refer to files (the first is the hoveddokument). ids are
// fresh UUIDs: the mappe's, the journalpost's, and one per document.
func minimalArkivmelding(messageID string, now time.Time, files []string, ids func() string) []byte {
	esc := func(s string) string {
		var b strings.Builder
		_ = xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	ts := now.In(wire.Oslo()).Format("2006-01-02T15:04:05.000-07:00")
	day := now.In(wire.Oslo()).Format("2006-01-02")
	mappe := ids()
	var b strings.Builder
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, `<arkivmelding xmlns="%s" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`+"\n", arkivmeldingNamespace)
	fmt.Fprintf(&b, "  <system>efm-harness dpo simulator</system>\n  <meldingId>%s</meldingId>\n  <tidspunkt>%s</tidspunkt>\n  <antallFiler>%d</antallFiler>\n",
		esc(messageID), ts, len(files))
	fmt.Fprintf(&b, "  <mappe xsi:type=\"saksmappe\">\n    <systemID>%s</systemID>\n    <tittel>Simulert sak</tittel>\n    <opprettetDato>%s</opprettetDato>\n    <opprettetAv>DPO-simulator</opprettetAv>\n", mappe, ts)
	fmt.Fprintf(&b, "    <basisregistrering xsi:type=\"journalpost\">\n      <systemID>%s</systemID>\n      <opprettetDato>%s</opprettetDato>\n      <opprettetAv>DPO-simulator</opprettetAv>\n      <arkivertDato>%s</arkivertDato>\n      <arkivertAv>DPO-simulator</arkivertAv>\n      <referanseForelderMappe>%s</referanseForelderMappe>\n",
		ids(), ts, ts, mappe)
	for i, f := range files {
		role := "Vedlegg"
		if i == 0 {
			role = "Hoveddokument"
		}
		fmt.Fprintf(&b, "      <dokumentbeskrivelse>\n        <systemID>%s</systemID>\n        <dokumenttype>Brev</dokumenttype>\n        <dokumentstatus>Dokumentet er ferdigstilt</dokumentstatus>\n        <tittel>%s</tittel>\n        <opprettetDato>%s</opprettetDato>\n        <opprettetAv>DPO-simulator</opprettetAv>\n        <tilknyttetRegistreringSom>%s</tilknyttetRegistreringSom>\n        <dokumentnummer>%d</dokumentnummer>\n        <tilknyttetDato>%s</tilknyttetDato>\n        <tilknyttetAv>DPO-simulator</tilknyttetAv>\n",
			ids(), esc(f), ts, role, i+1, ts)
		fmt.Fprintf(&b, "        <dokumentobjekt>\n          <versjonsnummer>1</versjonsnummer>\n          <variantformat>Produksjonsformat</variantformat>\n          <opprettetDato>%s</opprettetDato>\n          <opprettetAv>DPO-simulator</opprettetAv>\n          <referanseDokumentfil>%s</referanseDokumentfil>\n        </dokumentobjekt>\n      </dokumentbeskrivelse>\n",
			ts, esc(f))
	}
	fmt.Fprintf(&b, "      <tittel>Simulert journalpost</tittel>\n      <offentligTittel>Simulert journalpost</offentligTittel>\n      <journalaar>%d</journalaar>\n      <journalsekvensnummer>1</journalsekvensnummer>\n      <journalpostnummer>1</journalpostnummer>\n      <journalposttype>Utgående dokument</journalposttype>\n      <journalstatus>Journalført</journalstatus>\n      <journaldato>%s</journaldato>\n      <korrespondansepart>\n        <korrespondanseparttype>Mottaker</korrespondanseparttype>\n        <korrespondansepartNavn>Mottaker</korrespondansepartNavn>\n      </korrespondansepart>\n    </basisregistrering>\n",
		now.In(wire.Oslo()).Year(), day)
	fmt.Fprintf(&b, "    <saksaar>%d</saksaar>\n    <sakssekvensnummer>1</sakssekvensnummer>\n    <saksdato>%s</saksdato>\n    <administrativEnhet>Simulert enhet</administrativEnhet>\n    <saksansvarlig>DPO-simulator</saksansvarlig>\n    <saksstatus>Under behandling</saksstatus>\n  </mappe>\n</arkivmelding>\n",
		now.In(wire.Oslo()).Year(), day)
	return []byte(b.String())
}
