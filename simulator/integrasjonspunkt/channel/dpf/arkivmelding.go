package dpf

import (
	"strconv"
	"strings"
	"time"

	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// System is the arkivmelding.xml system of a message converted from SvarInn.
const System = "Integrasjonspunkt"

// Arkivmelding generates the arkivmelding.xml of a SvarInn forsendelse, as the real IP's
// SvarInnNextMoveConverter does (spec certification §4.4): meldingId the forsendelse id, a saksmappe with
// saksaar and sakssekvensnummer, a journalpost with the metadata SvarUt carried (journalposttype and
// journalstatus as Noark names, I and R when missing; dates from epoch millis), the avsender from
// svarSendesTil (the title suffixed "(eDialog fra <fnr>)" when a citizen sent it) and one
// dokumentbeskrivelse per file, the first as hoveddokument. Missing metadata is left out, never refused.
func Arkivmelding(f *SvarInnForsendelse, files []dokumentpakke.File, now time.Time) ([]byte, error) {
	md := f.MetadataFraAvleverendeSystem
	title := f.Tittel
	if title == "" {
		title = md.Tittel.s()
	}
	if f.SvarSendesTil.Fnr != nil && f.SvarSendesTil.Fnr.s() != "" {
		title += " (eDialog fra " + f.SvarSendesTil.Fnr.s() + ")"
	}
	ts := now.Format("2006-01-02T15:04:05.000-07:00")
	saksbehandler := md.Saksbehandler.s()
	if saksbehandler == "" {
		saksbehandler = md.SaksbehandlerAlt.s()
	}
	avsender := wire.NoarkKorrespondansepart{Korrespondanseparttype: wire.KorrespondansepartAvsender,
		KorrespondansepartNavn: f.SvarSendesTil.Navn.s(), Postnummer: f.SvarSendesTil.Postnr.s(),
		Poststed: f.SvarSendesTil.Poststed.s(), Land: f.SvarSendesTil.Land.s(), Saksbehandler: saksbehandler}
	for _, l := range []flexString{f.SvarSendesTil.Adresse1, f.SvarSendesTil.Adresse2, f.SvarSendesTil.Adresse3} {
		if l.s() != "" {
			avsender.Postadresse = append(avsender.Postadresse, l.s())
		}
	}
	jp := wire.NoarkJournalpost{
		Type: "journalpost", OpprettetDato: ts, OpprettetAv: System, Tittel: title, OffentligTittel: title,
		Journalaar: digits(md.Journalaar), Journalsekvensnummer: digits(md.Journalsekvensnummer),
		Journalpostnummer: digits(md.Journalpostnummer),
		Journalposttype:   wire.JournalposttypeName(orDefault(md.Journalposttype.s(), "I")),
		Journalstatus:     wire.JournalstatusName(orDefault(md.Journalstatus.s(), "R")),
		Journaldato:       date(md.Journaldato), DokumentetsDato: date(md.DokumentetsDato),
		Korrespondansepart: []wire.NoarkKorrespondansepart{avsender},
	}
	for i, file := range files {
		role := wire.TilknyttetVedlegg
		if i == 0 {
			role = wire.TilknyttetHoveddokument
		}
		jp.Dokumentbeskrivelse = append(jp.Dokumentbeskrivelse, wire.NoarkDokumentbeskrivelse{
			Dokumenttype: "Brev", Dokumentstatus: "Dokumentet er ferdigstilt", Tittel: file.Name, OpprettetDato: ts,
			OpprettetAv: System, TilknyttetRegistreringSom: role, Dokumentnummer: i + 1, TilknyttetDato: ts, TilknyttetAv: System,
			Dokumentobjekt: []wire.NoarkDokumentobjekt{{Versjonsnummer: 1, Variantformat: "Produksjonsformat",
				Format: file.MimeType, OpprettetDato: ts, OpprettetAv: System, ReferanseDokumentfil: file.Name}},
		})
	}
	am := wire.NoarkArkivmelding{
		System: System, MeldingID: f.ID, Tidspunkt: ts, AntallFiler: len(files),
		Mappe: []wire.NoarkMappe{{Type: "saksmappe", Tittel: title, OpprettetDato: ts, OpprettetAv: System,
			Basisregistrering: []wire.NoarkJournalpost{jp}, Saksaar: digits(md.Saksaar),
			Sakssekvensnummer: digits(md.Sakssekvensnummer), Saksansvarlig: saksbehandler}},
	}
	return am.Marshal()
}

// digits is a number as text; anything else is left out.
func digits(f flexString) string {
	if _, err := strconv.ParseInt(f.s(), 10, 64); err != nil {
		return ""
	}
	return f.s()
}

// date reads a SvarInn date (epoch millis as number or string, or an ISO date) as an arkivmelding date
// in Oslo; unreadable or before year 1 is left out (SvarInn has sent dates "before Christ").
func date(f flexString) string {
	v := f.s()
	if v == "" {
		return ""
	}
	var t time.Time
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		t = time.UnixMilli(ms)
	} else if x, err := strconv.ParseFloat(v, 64); err == nil {
		t = time.UnixMilli(int64(x * 1000))
	} else if p, err := time.Parse(time.DateOnly, strings.TrimSpace(v[:min(len(v), 10)])); err == nil {
		return p.Format(time.DateOnly)
	} else {
		return ""
	}
	t = t.In(wire.Oslo())
	if t.Year() < 1 {
		return ""
	}
	return t.Format(time.DateOnly)
}
