package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// sbdOpts compares documents that went through JSON: nil and empty collections are the same.
var sbdOpts = cmp.Options{cmpopts.EquateEmpty()}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "sbd", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func marshalIndent(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return append(b, '\n')
}

func TestSBDGolden(t *testing.T) {
	for _, typ := range BusinessTypes() {
		t.Run(string(typ), func(t *testing.T) {
			in := readTestdata(t, string(typ)+".json")
			sbd, err := ParseSBD(in)
			if err != nil {
				t.Fatalf("ParseSBD: %v", err)
			}
			if got := sbd.Message.MessageType(); got != typ {
				t.Errorf("Message.MessageType() = %q, want %q", got, typ)
			}
			if errs := sbd.Validate(); errs != nil {
				t.Errorf("Validate() = %v, want none", errs)
			}
			got := marshalIndent(t, sbd)
			golden := filepath.Join("testdata", "sbd", string(typ)+".golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("marshalled %s mismatch (-want +got):\n%s", typ, diff)
			}

			again, err := ParseSBD(got)
			if err != nil {
				t.Fatalf("ParseSBD(golden): %v", err)
			}
			if diff := cmp.Diff(sbd, again, sbdOpts); diff != "" {
				t.Errorf("round trip mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSBDGoldenDetails(t *testing.T) {
	tests := []struct {
		file string
		want []string // substrings the golden output must contain
		not  []string // substrings it must not contain
	}{
		{"arkivmelding.json",
			[]string{`"sender": [`, `"expectedResponseDateTime": "2019-05-10T00:31:52+01:00"`},
			[]string{"someVendorExtension", "ukjentFelt", `"manifest"`, `"scopeInformation": []`}},
		{"digital.json",
			[]string{`"creationDateAndTime": "2024-06-01T12:00:00+02:00"`, `"metadataFiler": {}`,
				`"aapningskvittering": false`, `"virkningsdato": "2024-06-03"`, `"expectedResponseDateTime": "2024-06-02T12:00:00.12+02:00"`},
			[]string{"avsenderId"}},
		{"avtalt.json", []string{`"belop": 1250.50`, `null`}, nil},
		{"print.json", []string{`"creationDateAndTime": "2024-01-15T14:05:06.000123+01:00"`}, []string{"adresselinje3"}},
		{"avtalt.json", []string{`"creationDateAndTime": "2021-09-14T08:00:00Z"`}, nil},
		{"dialogmelding.json", []string{`"issueDate": "2024-05-02T08:15:30.500Z"`}, []string{`"mellomnavn"`}},
		{"dialogmelding_kvittering.json", []string{`"messages": []`}, []string{"hoveddokument"}},
	}
	for _, tt := range tests {
		sbd, err := ParseSBD(readTestdata(t, tt.file))
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		out := string(marshalIndent(t, sbd))
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %s", tt.file, w)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(out, n) {
				t.Errorf("%s: output contains %s", tt.file, n)
			}
		}
	}
}

// unordered is the real IP's fixture StandardBusinessDocument-unordered.json: payload first, keys in
// unusual order.
const unordered = `{
  "arkivmelding": { "sikkerhetsnivaa": 3 },
  "standardBusinessDocumentHeader": {
    "businessScope": { "scope": [ {
      "scopeInformation": [ { "expectedResponseDateTime": "2003-05-10T00:31:52Z" } ],
      "identifier": "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0",
      "instanceIdentifier": "37efbd4c-413d-4e2c-bbc5-257ef4a65a45",
      "type": "ConversationId" } ] },
    "documentIdentification": {
      "creationDateAndTime": "2016-04-11T15:29:58.753+02:00",
      "instanceIdentifier": "ff88849c-e281-4809-8555-7cd54952b916",
      "standard": "urn:no:difi:arkivmelding:xsd::arkivmelding",
      "type": "arkivmelding",
      "typeVersion": "2.0" },
    "headerVersion": "1.0",
    "receiver": [ { "identifier": { "authority": "iso6523-actorid-upis", "value": "9908:910075918" } } ],
    "sender": [ { "identifier": { "authority": "iso6523-actorid-upis", "value": "9908:910077473" } } ]
  }
}`

func ptr[T any](v T) *T { return &v }

func mustTime(t *testing.T, s string) *OffsetDateTime {
	t.Helper()
	v, err := ParseOffsetDateTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return &v
}

func TestParseSBDPayloadFirst(t *testing.T) {
	got, err := ParseSBD([]byte(unordered))
	if err != nil {
		t.Fatalf("ParseSBD: %v", err)
	}
	want := &StandardBusinessDocument{
		Header: StandardBusinessDocumentHeader{
			HeaderVersion: "1.0",
			Sender:        []Partner{{Identifier: &PartnerIdentification{Value: "9908:910077473", Authority: AuthorityISO6523}}},
			Receiver:      []Partner{{Identifier: &PartnerIdentification{Value: "9908:910075918", Authority: AuthorityISO6523}}},
			DocumentIdentification: &DocumentIdentification{
				Standard:            StandardArkivmelding,
				TypeVersion:         "2.0",
				InstanceIdentifier:  "ff88849c-e281-4809-8555-7cd54952b916",
				Type:                "arkivmelding",
				CreationDateAndTime: mustTime(t, "2016-04-11T15:29:58.753+02:00"),
			},
			BusinessScope: &BusinessScope{Scope: []Scope{{
				Type:               ScopeConversationID,
				InstanceIdentifier: "37efbd4c-413d-4e2c-bbc5-257ef4a65a45",
				Identifier:         ProcessArkivmeldingAdministrasjon,
				ScopeInformation:   []CorrelationInformation{{ExpectedResponseDateTime: mustTime(t, "2003-05-10T00:31:52Z")}},
			}}},
		},
		Message: &Arkivmelding{Sikkerhetsnivaa: ptr(3)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseSBD mismatch (-want +got):\n%s", diff)
	}
	out, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, []byte(`{"standardBusinessDocumentHeader":{"headerVersion":"1.0",`)) ||
		!bytes.HasSuffix(out, []byte(`,"arkivmelding":{"sikkerhetsnivaa":3}}`)) {
		t.Errorf("output is not header first, payload last: %s", out)
	}
}

func TestSBDNullFieldsOmitted(t *testing.T) {
	in := `{
	  "standardBusinessDocumentHeader": {
	    "headerVersion": "1.0", "sender": null, "receiver": [ { "identifier": { "value": "0192:910075918", "authority": null }, "contactInformation": null } ],
	    "documentIdentification": { "standard": "urn:no:difi:digitalpost:xsd:fysisk::print", "typeVersion": "1.0",
	      "instanceIdentifier": null, "type": "print", "multipleType": null, "creationDateAndTime": null },
	    "manifest": null,
	    "businessScope": { "scope": [ { "type": "ConversationId", "instanceIdentifier": null, "identifier": "urn:no:difi:profile:digitalpost:info:ver1.0", "scopeInformation": null } ] }
	  },
	  "print": { "hoveddokument": null, "avsenderId": null, "mottaker": { "navn": "Ola", "adresselinje2": null },
	    "utskriftsfarge": null, "posttype": null, "retur": null, "printinstruksjoner": null }
	}`
	sbd, err := ParseSBD([]byte(in))
	if err != nil {
		t.Fatalf("ParseSBD: %v", err)
	}
	got, err := json.Marshal(sbd)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"standardBusinessDocumentHeader":{"headerVersion":"1.0","sender":[],` +
		`"receiver":[{"identifier":{"value":"0192:910075918"}}],` +
		`"documentIdentification":{"standard":"urn:no:difi:digitalpost:xsd:fysisk::print","typeVersion":"1.0","type":"print"},` +
		`"businessScope":{"scope":[{"type":"ConversationId","identifier":"urn:no:difi:profile:digitalpost:info:ver1.0"}]}},` +
		`"print":{"mottaker":{"navn":"Ola"}}}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("marshal mismatch (-want +got):\n%s", diff)
	}
}

func TestSBDEmptyCollectionsKept(t *testing.T) {
	in := `{"standardBusinessDocumentHeader":{"documentIdentification":{"type":"digital"},"businessScope":{}},` +
		`"digital":{"metadataFiler":{}}}`
	sbd, err := ParseSBD([]byte(in))
	if err != nil {
		t.Fatalf("ParseSBD: %v", err)
	}
	got, err := json.Marshal(sbd)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"standardBusinessDocumentHeader":{"sender":[],"receiver":[],"documentIdentification":{"type":"digital"},` +
		`"businessScope":{"scope":[]}},"digital":{"metadataFiler":{}}}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("marshal mismatch (-want +got):\n%s", diff)
	}
}

const validHeader = `{"headerVersion":"1.0","documentIdentification":{"standard":"urn:no:difi:arkivmelding:xsd::arkivmelding",` +
	`"typeVersion":"2.0","type":"arkivmelding"},"businessScope":{"scope":[{"type":"ConversationId"}]}}`

func headerOfType(typ string) string {
	return strings.Replace(validHeader, `"type":"arkivmelding"`, typ, 1)
}

func TestParseSBDErrors(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		kind       error
		reason     string // substring of Error()
		java       string
		javaStatus int
	}{
		{"not json", `{"standardBusinessDocumentHeader":`, ErrMalformedJSON, "malformed json", "", 400},
		{"empty input", ``, ErrMalformedJSON, "malformed json", "", 400},
		{"top level array", `[]`, ErrTopLevelShape, "top level must be a json object, found array",
			"Unknown BusinessMessageType = null. Expecting one of status,arkivmelding,arkivmelding_kvittering,avtalt,digital,digital_dpv,print,dialogmelding,dialogmelding_kvittering,innsynskrav,publisering,einnsyn_kvittering", 500},
		{"empty object", `{}`, ErrTopLevelShape, "expected 2 top-level fields, found none", "", 500},
		{"header only", `{"standardBusinessDocumentHeader":` + validHeader + `}`, ErrTopLevelShape,
			`missing business message field "arkivmelding"`, "Expected token FIELD_NAME, but found END_OBJECT", 500},
		{"payload only", `{"arkivmelding":{}}`, ErrTopLevelShape, `missing "standardBusinessDocumentHeader"`,
			"Expected token FIELD_NAME, but found END_OBJECT", 500},
		{"extra key", `{"standardBusinessDocumentHeader":` + validHeader + `,"arkivmelding":{},"extra":1}`, ErrTopLevelShape,
			`unexpected third top-level field "extra"`, "Expected token END_OBJECT, but found FIELD_NAME", 500},
		{"header twice", `{"standardBusinessDocumentHeader":` + validHeader + `,"standardBusinessDocumentHeader":{}}`,
			ErrPayloadKeyMismatch, `expected to find field named "arkivmelding", but found "standardBusinessDocumentHeader"`,
			"Expected to find field named arkivmelding, but found standardBusinessDocumentHeader", 500},
		{"payload key mismatch", `{"standardBusinessDocumentHeader":` + validHeader + `,"digital":{}}`, ErrPayloadKeyMismatch,
			`expected to find field named "arkivmelding", but found "digital"`,
			"Expected to find field named arkivmelding, but found digital", 500},
		{"payload key differs in case", `{"standardBusinessDocumentHeader":` + validHeader + `,"Arkivmelding":{}}`,
			ErrPayloadKeyMismatch, `expected to find field named "arkivmelding", but found "Arkivmelding"`, "", 500},
		{"payload first key differs in case", `{"ARKIVMELDING":{},"standardBusinessDocumentHeader":` + validHeader + `}`,
			ErrPayloadKeyMismatch, `expected to find field named "arkivmelding", but found "ARKIVMELDING"`, "", 500},
		{"payload first type mismatch", `{"digital":{},"standardBusinessDocumentHeader":` + validHeader + `}`,
			ErrPayloadKeyMismatch, `expected to find field named "arkivmelding", but found "digital"`, "", 0},
		{"payload first then other key", `{"arkivmelding":{},"digital":{}}`, ErrTopLevelShape,
			`expected to find field named "standardBusinessDocumentHeader", but found "digital"`,
			"Expected to find field named standardBusinessDocumentHeader, but found digital", 500},
		{"type missing", `{"standardBusinessDocumentHeader":` + headerOfType(`"typo":"x"`) + `,"arkivmelding":{}}`,
			ErrMissingType, "documentIdentification.type is missing", "Missing type!", 400},
		{"documentIdentification missing", `{"standardBusinessDocumentHeader":{"headerVersion":"1.0"},"arkivmelding":{}}`,
			ErrMissingType, "documentIdentification.type is missing", "Missing type!", 400},
		{"type missing payload first", `{"arkivmelding":{},"standardBusinessDocumentHeader":{}}`,
			ErrMissingType, "documentIdentification.type is missing", "Missing type in standardBusinessDocumentHeader.", 500},
		{"type unknown", `{"standardBusinessDocumentHeader":` + headerOfType(`"type":"strange"`) + `,"strange":{}}`,
			ErrUnknownType, `unknown business message type "strange", expected one of status, arkivmelding,`,
			"Unknown BusinessMessageType = strange. Expecting one of status,arkivmelding,arkivmelding_kvittering,avtalt,digital,digital_dpv,print,dialogmelding,dialogmelding_kvittering,innsynskrav,publisering,einnsyn_kvittering", 500},
		{"type feil", `{"standardBusinessDocumentHeader":` + headerOfType(`"type":"feil"`) + `,"feil":{}}`,
			ErrUnknownType, `unknown business message type "feil"`, "", 500},
		{"unknown first key", `{"fiksio":{},"standardBusinessDocumentHeader":` + validHeader + `}`,
			ErrUnknownType, `unknown business message type "fiksio"`, "Unknown BusinessMessageType = fiksio.", 500},
		{"type unknown payload first", `{"arkivmelding":{},"standardBusinessDocumentHeader":` + headerOfType(`"type":"x"`) + `}`,
			ErrUnknownType, `unknown business message type "x"`, "", 500},
		{"header not object", `{"standardBusinessDocumentHeader":null,"arkivmelding":{}}`, ErrTopLevelShape,
			`"standardBusinessDocumentHeader" must be a json object, found null`, "Expected token START_OBJECT, but found VALUE_NULL", 500},
		{"payload not object", `{"standardBusinessDocumentHeader":` + validHeader + `,"arkivmelding":"x"}`, ErrTopLevelShape,
			`"arkivmelding" must be a json object, found string`, "Expected token START_OBJECT, but found VALUE_STRING", 500},
		{"payload array", `{"standardBusinessDocumentHeader":` + validHeader + `,"arkivmelding":[1]}`, ErrTopLevelShape,
			`found array`, "Expected token START_OBJECT, but found START_ARRAY", 500},
		{"payload first not object", `{"arkivmelding":1.5,"standardBusinessDocumentHeader":` + validHeader + `}`, ErrTopLevelShape,
			`found number`, "Expected token START_OBJECT, but found VALUE_NUMBER_FLOAT", 500},
		{"header wrong field type", `{"standardBusinessDocumentHeader":{"headerVersion":1},"arkivmelding":{}}`,
			ErrMalformedJSON, "invalid standardBusinessDocumentHeader", "", 400},
		{"bad timestamp", `{"standardBusinessDocumentHeader":` +
			headerOfType(`"type":"arkivmelding","creationDateAndTime":"2019-13-01T00:00:00Z"`) + `,"arkivmelding":{}}`,
			ErrMalformedJSON, "month 13 out of range", "", 400},
		{"payload wrong field type", `{"standardBusinessDocumentHeader":` + validHeader + `,"arkivmelding":{"sikkerhetsnivaa":"3"}}`,
			ErrMalformedJSON, `invalid "arkivmelding" message`, "", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSBD([]byte(tt.in))
			if err == nil {
				t.Fatalf("ParseSBD = %+v, want error", got)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("error %v is not %v", err, tt.kind)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not contain %q", err, tt.reason)
			}
			var se *SBDError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not *SBDError", err)
			}
			if !strings.HasPrefix(se.JavaMessage, tt.java) {
				t.Errorf("JavaMessage = %q, want prefix %q", se.JavaMessage, tt.java)
			}
			if se.JavaStatus != tt.javaStatus {
				t.Errorf("JavaStatus = %d, want %d", se.JavaStatus, tt.javaStatus)
			}
			var d StandardBusinessDocument
			if err := json.Unmarshal([]byte(tt.in), &d); err == nil {
				t.Errorf("json.Unmarshal accepted what ParseSBD rejects")
			}
		})
	}
}

func TestParseSBDTypeCaseInsensitive(t *testing.T) {
	in := `{"standardBusinessDocumentHeader":` + headerOfType(`"type":"ArkivMelding"`) + `,"arkivmelding":{}}`
	sbd, err := ParseSBD([]byte(in))
	if err != nil {
		t.Fatalf("ParseSBD: %v", err)
	}
	if got := sbd.Type(); got != TypeArkivmelding {
		t.Errorf("Type() = %q, want %q", got, TypeArkivmelding)
	}
	out, err := json.Marshal(sbd)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`"type":"ArkivMelding"`)) || !bytes.HasSuffix(out, []byte(`"arkivmelding":{}}`)) {
		t.Errorf("output = %s, want the header type kept and the canonical key", out)
	}
}

func TestParseSBDUnknownEnumValues(t *testing.T) {
	tests := []struct {
		typ, payload string
	}{
		{"print", `{"utskriftsfarge":"BLUE"}`},
		{"print", `{"posttype":"C"}`},
		{"print", `{"retur":{"returhaandtering":"KAST"}}`},
		{"print", `{"utskriftsfarge":0}`},
		{"print", `{"utskriftsfarge":"sort_hvit"}`},
		{"arkivmelding", `{"dpv":{"varselType":"Varsel"}}`},
		{"digital_dpv", `{"dpv":{"varselTransportType":"Brevdue"}}`},
		{"einnsyn_kvittering", `{"referanseType":"INNSYNSKRAV"}`},
		{"dialogmelding_kvittering", `{"status":"MAYBE"}`},
		{"status", `{"status":"KANSKJE"}`},
	}
	for _, tt := range tests {
		in := `{"standardBusinessDocumentHeader":` + headerOfType(`"type":"`+tt.typ+`"`) + `,"` + tt.typ + `":` + tt.payload + `}`
		_, err := ParseSBD([]byte(in))
		if !errors.Is(err, ErrMalformedJSON) || !errors.Is(err, ErrUnknownEnumValue) {
			t.Errorf("%s %s: error %v, want ErrMalformedJSON and ErrUnknownEnumValue", tt.typ, tt.payload, err)
		}
	}
}

func TestParseSBDEnumValues(t *testing.T) {
	in := `{"standardBusinessDocumentHeader":` + headerOfType(`"type":"print"`) + `,"print":` +
		`{"utskriftsfarge":"FARGE","posttype":"A_PRIORITERT","retur":{"returhaandtering":"MAKULERING_MED_MELDING"}}}`
	sbd, err := ParseSBD([]byte(in))
	if err != nil {
		t.Fatalf("ParseSBD: %v", err)
	}
	want := &Print{Utskriftsfarge: PrintColorFarge, Posttype: PostalCategoryAPrioritert,
		Retur: &MailReturn{Returhaandtering: ReturnHandlingMakuleringMedMelding}, Printinstruksjoner: map[string]string{}}
	if diff := cmp.Diff(want, sbd.Message); diff != "" {
		t.Errorf("print mismatch (-want +got):\n%s", diff)
	}
}

func TestMarshalSBDErrors(t *testing.T) {
	hdr := StandardBusinessDocumentHeader{DocumentIdentification: &DocumentIdentification{Type: "arkivmelding"}}
	tests := []struct {
		name string
		sbd  StandardBusinessDocument
		kind error
	}{
		{"no message", StandardBusinessDocument{Header: hdr}, ErrTopLevelShape},
		{"typed nil message", StandardBusinessDocument{Header: hdr, Message: (*Arkivmelding)(nil)}, ErrTopLevelShape},
		{"type mismatch", StandardBusinessDocument{Header: hdr, Message: Digital{}}, ErrPayloadKeyMismatch},
		{"no type", StandardBusinessDocument{Message: Digital{}}, ErrPayloadKeyMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := json.Marshal(tt.sbd)
			if !errors.Is(err, tt.kind) {
				t.Errorf("json.Marshal error = %v, want %v", err, tt.kind)
			}
		})
	}
}

func TestMarshalSBDValueMessage(t *testing.T) {
	sbd := StandardBusinessDocument{
		Header:  StandardBusinessDocumentHeader{DocumentIdentification: &DocumentIdentification{Type: "status"}},
		Message: StatusMessage{Status: StatusLevert},
	}
	got, err := json.Marshal(sbd)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"standardBusinessDocumentHeader":{"sender":[],"receiver":[],"documentIdentification":{"type":"status"}},` +
		`"status":{"status":"LEVERT"}}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("marshal mismatch (-want +got):\n%s", diff)
	}
}

func TestSBDAccessors(t *testing.T) {
	sbd, err := ParseSBD(readTestdata(t, "arkivmelding.json"))
	if err != nil {
		t.Fatal(err)
	}
	ert, ok := sbd.ExpectedResponseDateTime()
	got := map[string]any{
		"MessageID":                sbd.MessageID(),
		"ConversationID":           sbd.ConversationID(),
		"Process":                  sbd.Process(),
		"Type":                     sbd.Type(),
		"Standard":                 sbd.Standard(),
		"SenderIdentifier":         sbd.SenderIdentifier(),
		"ReceiverIdentifier":       sbd.ReceiverIdentifier(),
		"ExpectedResponseDateTime": ert.String(),
		"HasExpectedResponse":      ok,
		"MessageChannel":           sbd.MessageChannel(),
		"SenderRef":                sbd.FindScope(ScopeSenderRef).InstanceIdentifier,
		"ParentId":                 sbd.FindScope(ScopeParentID) == nil,
	}
	want := map[string]any{
		"MessageID":                "ff88849c-e281-4809-8555-7cd54952b916",
		"ConversationID":           "37efbd4c-413d-4e2c-bbc5-257ef4a65a56",
		"Process":                  ProcessArkivmeldingAdministrasjon,
		"Type":                     TypeArkivmelding,
		"Standard":                 StandardArkivmelding,
		"SenderIdentifier":         "0192:910077473",
		"ReceiverIdentifier":       "0192:910075918",
		"ExpectedResponseDateTime": "2019-05-10T00:31:52+01:00",
		"HasExpectedResponse":      true,
		"MessageChannel":           "sak_arkiv-1",
		"SenderRef":                "7d2e1c52-8b0a-4d5e-9a41-0c6f3d2b9e11",
		"ParentId":                 true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("accessors mismatch (-want +got):\n%s", diff)
	}

	sbd.FindScope(ScopeConversationID).InstanceIdentifier = "changed"
	if got := sbd.ConversationID(); got != "changed" {
		t.Errorf("FindScope does not point into the document: ConversationID() = %q", got)
	}

	var empty *StandardBusinessDocument
	_, ok = empty.ExpectedResponseDateTime()
	zero := []any{empty.MessageID(), empty.ConversationID(), empty.Process(), string(empty.Type()), empty.Standard(),
		empty.SenderIdentifier(), empty.ReceiverIdentifier(), empty.MessageChannel(), ok, empty.FindScope(ScopeSenderRef) == nil}
	if diff := cmp.Diff([]any{"", "", "", "", "", "", "", "", false, true}, zero); diff != "" {
		t.Errorf("nil document accessors mismatch (-want +got):\n%s", diff)
	}
	if got := (&StandardBusinessDocument{}).Type(); got != "" {
		t.Errorf("empty Type() = %q", got)
	}
}

func TestValidate(t *testing.T) {
	valid := func() StandardBusinessDocument {
		return StandardBusinessDocument{
			Header: StandardBusinessDocumentHeader{
				HeaderVersion: "1.0",
				Sender:        []Partner{{Identifier: &PartnerIdentification{Value: "0192:910077473", Authority: AuthorityISO6523}}},
				Receiver:      []Partner{{Identifier: &PartnerIdentification{Value: "0192:910075918", Authority: AuthorityISO6523}}},
				DocumentIdentification: &DocumentIdentification{
					Standard: StandardArkivmelding, TypeVersion: "2.0", Type: "arkivmelding",
					InstanceIdentifier: "ff88849c-e281-4809-8555-7cd54952b916",
				},
				BusinessScope: &BusinessScope{Scope: []Scope{{Type: ScopeConversationID,
					InstanceIdentifier: "37efbd4c-413d-4e2c-bbc5-257ef4a65a56", Identifier: ProcessArkivmeldingAdministrasjon}}},
			},
			Message: &Arkivmelding{},
		}
	}
	const h = "standardBusinessDocumentHeader."
	tests := []struct {
		name   string
		change func(d *StandardBusinessDocument)
		want   []FieldError
	}{
		{"valid", func(*StandardBusinessDocument) {}, nil},
		{"valid minimal", func(d *StandardBusinessDocument) {
			d.Header.Sender, d.Header.Receiver = nil, nil
			d.Header.DocumentIdentification.InstanceIdentifier = ""
			d.Header.BusinessScope.Scope[0].InstanceIdentifier = ""
		}, nil},
		{"lenient java uuid", func(d *StandardBusinessDocument) {
			d.Header.DocumentIdentification.InstanceIdentifier = "1-2-3-4-5"
		}, nil},
		{"headerVersion null", func(d *StandardBusinessDocument) { d.Header.HeaderVersion = "" },
			[]FieldError{{Field: h + "headerVersion", Code: "NotNull", Message: "must not be null"}}},
		{"two senders and receivers", func(d *StandardBusinessDocument) {
			d.Header.Sender = append(d.Header.Sender, Partner{})
			d.Header.Receiver = append(d.Header.Receiver, Partner{})
		}, []FieldError{
			{Field: h + "sender", Code: "Size", Message: "size must be between 0 and 1",
				RejectedValue: []Partner{{Identifier: &PartnerIdentification{Value: "0192:910077473", Authority: AuthorityISO6523}}, {}}},
			{Field: h + "receiver", Code: "Size", Message: "size must be between 0 and 1",
				RejectedValue: []Partner{{Identifier: &PartnerIdentification{Value: "0192:910075918", Authority: AuthorityISO6523}}, {}}},
		}},
		{"documentIdentification null", func(d *StandardBusinessDocument) { d.Header.DocumentIdentification = nil },
			[]FieldError{{Field: h + "documentIdentification", Code: "NotNull", Message: "must not be null"}}},
		{"documentIdentification empty", func(d *StandardBusinessDocument) {
			d.Header.DocumentIdentification = &DocumentIdentification{}
		}, []FieldError{
			{Field: h + "documentIdentification.standard", Code: "NotNull", Message: "must not be null"},
			{Field: h + "documentIdentification.typeVersion", Code: "NotNull", Message: "must not be null"},
			{Field: h + "documentIdentification.type", Code: "NotNull", Message: "must not be null"},
			{Field: h + "documentIdentification.type", Code: "MessageType", Message: "Must be a NextMove message type"},
		}},
		{"instanceIdentifier not uuid", func(d *StandardBusinessDocument) {
			d.Header.DocumentIdentification.InstanceIdentifier = "x"
		}, []FieldError{{Field: h + "documentIdentification.instanceIdentifier", Code: "UUID",
			Message: "'x' is not a UUID.", RejectedValue: "x"}}},
		{"type unknown", func(d *StandardBusinessDocument) { d.Header.DocumentIdentification.Type = "strange" },
			[]FieldError{{Field: h + "documentIdentification.type", Code: "MessageType",
				Message: "Must be a NextMove message type", RejectedValue: "strange"}}},
		{"standard does not fit type", func(d *StandardBusinessDocument) {
			d.Header.DocumentIdentification.Standard = StandardDigital
		}, []FieldError{{Field: h + "documentIdentification.standard", Code: "MessageTypeDoesNotFitDocumentType",
			Message:       "Message type arkivmelding does not match the document type urn:no:difi:digitalpost:xsd:digital::digital",
			RejectedValue: StandardDigital}}},
		{"standard suffix is not enough without ::", func(d *StandardBusinessDocument) {
			d.Header.DocumentIdentification.Standard = "urn:no:difi:arkivmelding:xsd:arkivmelding"
		}, []FieldError{{Field: h + "documentIdentification.standard", Code: "MessageTypeDoesNotFitDocumentType",
			Message:       "Message type arkivmelding does not match the document type urn:no:difi:arkivmelding:xsd:arkivmelding",
			RejectedValue: "urn:no:difi:arkivmelding:xsd:arkivmelding"}}},
		{"businessScope null", func(d *StandardBusinessDocument) { d.Header.BusinessScope = nil },
			[]FieldError{{Field: h + "businessScope", Code: "NotNull", Message: "must not be null"}}},
		{"scope null", func(d *StandardBusinessDocument) { d.Header.BusinessScope.Scope = nil },
			[]FieldError{{Field: h + "businessScope.scope", Code: "NotNull", Message: "must not be null"}}},
		{"scope empty", func(d *StandardBusinessDocument) { d.Header.BusinessScope.Scope = []Scope{} },
			[]FieldError{{Field: h + "businessScope.scope", Code: "Size", Message: "size must be between 1 and 2147483647",
				RejectedValue: []Scope{}}}},
		{"scope type null and unknown", func(d *StandardBusinessDocument) {
			d.Header.BusinessScope.Scope = append(d.Header.BusinessScope.Scope, Scope{}, Scope{Type: "Foo"})
		}, []FieldError{
			{Field: h + "businessScope.scope[].type", Code: "NotNull", Message: "must not be null"},
			{Field: h + "businessScope.scope[].type", Code: "OneOf",
				Message:       "'Foo' is not expected. Allowed values are: [JournalpostId, ConversationId, ParentId, SenderRef, ReceiverRef, MessageChannel]",
				RejectedValue: "Foo"},
		}},
		{"conversationId not uuid", func(d *StandardBusinessDocument) {
			d.Header.BusinessScope.Scope[0].InstanceIdentifier = "samtale-1"
			d.Header.BusinessScope.Scope = append(d.Header.BusinessScope.Scope,
				Scope{Type: ScopeSenderRef, InstanceIdentifier: "not-a-uuid-is-fine"})
		}, []FieldError{{Field: h + "businessScope.scope[].instanceIdentifier", Code: "UUID",
			Message: "'samtale-1' is not a UUID.", RejectedValue: "samtale-1"}}},
		{"message channel pattern", func(d *StandardBusinessDocument) {
			d.Header.BusinessScope.Scope = append(d.Header.BusinessScope.Scope,
				Scope{Type: ScopeMessageChannel, Identifier: "ok_channel-1"},
				Scope{Type: ScopeMessageChannel, Identifier: "not ok"},
				Scope{Type: ScopeMessageChannel, Identifier: strings.Repeat("a", 26)})
		}, []FieldError{
			{Field: h + "businessScope.scope[].identifier", Code: "Pattern", Message: `must match "^[a-zA-Z0-9-_]{0,25}$"`,
				RejectedValue: "not ok"},
			{Field: h + "businessScope.scope[].identifier", Code: "Pattern", Message: `must match "^[a-zA-Z0-9-_]{0,25}$"`,
				RejectedValue: strings.Repeat("a", 26)},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := valid()
			tt.change(&d)
			if diff := cmp.Diff(tt.want, d.Validate()); diff != "" {
				t.Errorf("Validate() mismatch (-want +got):\n%s", diff)
			}
		})
	}

	var nilDoc *StandardBusinessDocument
	if got := nilDoc.Validate(); len(got) != 1 || got[0].Code != "NotNull" {
		t.Errorf("nil Validate() = %v", got)
	}
}

func TestFieldErrorJSON(t *testing.T) {
	fe := FieldError{Field: "standardBusinessDocumentHeader.headerVersion", Code: "NotNull", Message: "must not be null"}
	got, err := json.Marshal(fe)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"field":"standardBusinessDocumentHeader.headerVersion","code":"NotNull","defaultMessage":"must not be null","rejectedValue":null}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("FieldError JSON mismatch (-want +got):\n%s", diff)
	}
	if got, want := fe.Error(), "standardBusinessDocumentHeader.headerVersion: must not be null"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestIsJavaUUID(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"ff88849c-e281-4809-8555-7cd54952b916", true},
		{"FF88849C-E281-4809-8555-7CD54952B916", true},
		{"1-2-3-4-5", true},
		{"+1-2-3-4-5", true},
		{"ffffffffffffffff-0-0-0-0", false}, // overflows a signed long
		{"7fffffffffffffff-0-0-0-0", true},
		{"", false},
		{"x", false},
		{"ff88849ce281480985557cd54952b916", false},
		{"ff88849c-e281-4809-8555-7cd54952b916-1", false},
		{"ff88849c-e281-4809-8555-7cd54952b9160", false}, // 37 characters
		{"-1-2-3-4", false},
		{"1-2-3-4-", false},
		{"g-2-3-4-5", false},
		{"{ff88849c-e281-4809-8555-7cd54952b916}", false},
	}
	for _, tt := range tests {
		if got := isJavaUUID(tt.in); got != tt.want {
			t.Errorf("isJavaUUID(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestAvtaltContentKept(t *testing.T) {
	tests := []struct {
		payload string
		want    json.RawMessage
	}{
		{`{"content":{"b":1.50,"a":[true,null]}}`, json.RawMessage(`{"b":1.50,"a":[true,null]}`)},
		{`{"content":"tekst"}`, json.RawMessage(`"tekst"`)},
		{`{"content":null}`, nil},
		{`{}`, nil},
	}
	for _, tt := range tests {
		var a Avtalt
		if err := json.Unmarshal([]byte(tt.payload), &a); err != nil {
			t.Fatalf("%s: %v", tt.payload, err)
		}
		if diff := cmp.Diff(tt.want, a.Content); diff != "" {
			t.Errorf("%s: content mismatch (-want +got):\n%s", tt.payload, diff)
		}
		out, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if tt.want == nil && bytes.Contains(out, []byte("content")) {
			t.Errorf("%s: null content written: %s", tt.payload, out)
		}
	}
}

func TestPayloadMapDefaults(t *testing.T) {
	tests := []struct {
		name    string
		msg     BusinessMessage
		in      string
		wantOut string
	}{
		{"digital absent", &Digital{}, `{}`, `{"metadataFiler":{}}`},
		{"digital null", &Digital{}, `{"metadataFiler":null}`, `{}`},
		{"digital values", &Digital{}, `{"metadataFiler":{"a.pdf":"a.xml"}}`, `{"metadataFiler":{"a.pdf":"a.xml"}}`},
		{"print absent", &Print{}, `{}`, `{"printinstruksjoner":{}}`},
		{"dialogmelding absent", &Dialogmelding{}, `{}`, `{"metadataFiler":{}}`},
		{"dialogmelding null entry", &Dialogmelding{}, `{"metadataFiler":{"a":null}}`, `{"metadataFiler":{"a":null}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := json.Unmarshal([]byte(tt.in), tt.msg); err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantOut, string(got)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
	// A document built in Go without the map omits it.
	got, err := json.Marshal(Digital{Tittel: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(`{"tittel":"t"}`, string(got)); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestScopeTypeConstants(t *testing.T) {
	got := []ScopeType{ScopeConversationID, ScopeSenderRef, ScopeReceiverRef, ScopeMessageChannel, ScopeJournalpostID, ScopeParentID}
	want := []ScopeType{"ConversationId", "SenderRef", "ReceiverRef", "MessageChannel", "JournalpostId", "ParentId"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestMarshalSBDEscapeHTMLFollowsEncoder(t *testing.T) {
	sbd, err := ParseSBD(readTestdata(t, "dialogmelding_kvittering.json"))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(sbd); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"rawReceipt":"<AppRec xmlns=\"http://www.kith.no/xmlstds/apprec/2012-02-15\">`) {
		t.Errorf("SetEscapeHTML(false) not honoured: %s", b.String())
	}
	escaped, err := json.Marshal(sbd)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(escaped), `"rawReceipt":"\u003cAppRec`) {
		t.Errorf("json.Marshal does not escape HTML: %s", escaped)
	}
}
