package wire

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDPIMessageRoundTrip(t *testing.T) {
	t.Parallel()
	exp := *mustTime(t, "2026-12-01T10:00:00+01:00")
	m := DPIMessage{
		Header: StandardBusinessDocumentHeader{HeaderVersion: "1.0",
			Sender:   []Partner{{Identifier: &PartnerIdentification{Value: "0192:910077473", Authority: AuthorityISO6523}}},
			Receiver: []Partner{{Identifier: &PartnerIdentification{Value: "0192:984661185", Authority: AuthorityISO6523}}},
			DocumentIdentification: &DocumentIdentification{Standard: DPIStandard(DPITypeDigital), TypeVersion: "1.0",
				InstanceIdentifier: "5e1c9a5e-0f0c-4b2a-9d55-0d8f0b7e6a11", Type: DPITypeDigital, CreationDateAndTime: &exp},
			BusinessScope: &BusinessScope{Scope: []Scope{{Type: ScopeConversationID, InstanceIdentifier: "c1c9a5e0-0f0c-4b2a-9d55-0d8f0b7e6a11",
				Identifier: DPIProcess(DPITypeDigital), ScopeInformation: []CorrelationInformation{{ExpectedResponseDateTime: &exp}}}}}},
		Digital: &DPIDigital{Avsender: DPIAvsender{Virksomhetsidentifikator: NewDPIIdentifier("910077473")},
			Mottaker: DPIDigitalMottaker{Postkasseadresse: "ola#1"}, Dokumentpakkefingeravtrykk: DPIFingeravtrykk{DigestMethod: DPIDigestMethod, DigestValue: "x"},
			Maskinportentoken: "tok", Sikkerhetsnivaa: 3, Ikkesensitivtittel: "Brev", Spraak: "NO", Varsler: &DPIVarsler{}},
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), `{"standardBusinessDocument":{"standardBusinessDocumentHeader":`) || !strings.Contains(string(b), `"digital":{`) {
		t.Fatalf("envelope: %s", b)
	}
	var back DPIMessage
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(m.Digital, back.Digital); d != "" || back.ConversationID() != "c1c9a5e0-0f0c-4b2a-9d55-0d8f0b7e6a11" || back.MessageID() != m.MessageID() {
		t.Fatalf("round trip (-want +got):\n%s", d)
	}
}

func TestDPIMessageRefuses(t *testing.T) {
	t.Parallel()
	header := `"standardBusinessDocumentHeader":{"headerVersion":"1.0","documentIdentification":{"type":"%s","instanceIdentifier":"x"}}`
	for name, body := range map[string]string{
		"no envelope":            `{}`,
		"body under another key": `{"standardBusinessDocument":{` + strings.Replace(header, "%s", "digital", 1) + `,"utskrift":{}}}`,
		"an extra key":           `{"standardBusinessDocument":{` + strings.Replace(header, "%s", "digital", 1) + `,"digital":{},"x":{}}}`,
		"an unknown field":       `{"standardBusinessDocument":{` + strings.Replace(header, "%s", "digital", 1) + `,"digital":{"extra":1}}}`,
		"an unknown type":        `{"standardBusinessDocument":{` + strings.Replace(header, "%s", "brev", 1) + `,"brev":{}}}`,
	} {
		var m DPIMessage
		if err := json.Unmarshal([]byte(body), &m); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSDPManifestRoundTrip(t *testing.T) {
	t.Parallel()
	m := SDPManifest{Mottaker: &SDPMottaker{Person: SDPPerson{Postkasseadresse: "ola#1"}},
		Avsender:      SDPAvsender{Organisasjon: SDPOrganisasjon{Authority: AuthorityISO6523, Value: "0192:910077473"}, Avsenderidentifikator: "a1"},
		Hoveddokument: SDPDokument{Href: "brev.pdf", Mime: "application/pdf", Tittel: SDPTittel{Lang: "NO", Value: "Brev"}, Data: &SDPData{Href: "meta.xml", Mime: "application/xml"}},
		Vedlegg:       []SDPDokument{{Href: "v.pdf", Mime: "application/pdf", Tittel: SDPTittel{Lang: "NO", Value: "Vedlegg"}}}}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `<manifest xmlns="http://begrep.difi.no/sdp/schema_v10"><mottaker><person><postkasseadresse>ola#1</postkasseadresse>`) {
		t.Fatalf("manifest: %s", b)
	}
	back, err := ParseSDPManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	back.XMLName = m.XMLName
	if d := cmp.Diff(m, *back); d != "" {
		t.Fatalf("round trip (-want +got):\n%s", d)
	}
}

func TestDPIReceiptsReadLeniently(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{DPITypeLeveringskvittering, DPITypeFlyttet} {
		body := `{"standardBusinessDocument":{"standardBusinessDocumentHeader":{"headerVersion":"1.0","documentIdentification":{"type":"` + typ +
			`","instanceIdentifier":"x"}},"` + typ + `":{"avsender":{"virksomhetsidentifikator":{"authority":"iso6523-actorid-upis","value":"0192:984661185"},` +
			`"avsenderidentifikator":"a"},"mottaker":{"virksomhetsidentifikator":{"authority":"iso6523-actorid-upis","value":"0192:910077473"},"annet":1},` +
			`"tidspunkt":"2026-12-01T10:00:00Z","ukjent":true}}}`
		var m DPIMessage
		if err := json.Unmarshal([]byte(body), &m); err != nil || m.Kvittering == nil || m.Kvittering.Avsender.Avsenderidentifikator != "a" {
			t.Errorf("%s: %v %+v", typ, err, m.Kvittering)
		}
	}
}
