package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// mustJSON marshals an SBD.
func mustJSON(t testing.TB, sbd *wire.StandardBusinessDocument) []byte {
	t.Helper()
	b, err := json.Marshal(sbd)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// modified builds an SBD of type typ to receiver and changes it.
func modified(typ wire.MessageType, receiver string, f func(*wire.StandardBusinessDocument)) func(testing.TB) []byte {
	return func(t testing.TB) []byte {
		sbd := sbdFor(t, typ, receiver)
		if f != nil {
			f(sbd)
		}
		return mustJSON(t, sbd)
	}
}

// raw is a literal body.
func raw(s string) func(testing.TB) []byte { return func(testing.TB) []byte { return []byte(s) } }

func printWithoutReceiver(f func(*wire.Print)) func(testing.TB) []byte {
	return modified(wire.TypePrint, reservedFnr, func(s *wire.StandardBusinessDocument) {
		s.Header.Receiver = nil
		f(s.Message.(*wire.Print))
	})
}

// TestCreateValidation is the create-time validation catalogue (spec ip-api §2.4, §3.2, §4.7 create rules),
// including the cases where the real IP answers 500 and this API 400.
func TestCreateValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	eDPI := newEnv(t, enable(wire.ServiceDPI))
	dup := e.mustCreate(sbdFor(t, wire.TypeArkivmelding, dpoOrg))
	past := wire.NewOffsetDateTime(time.Now().Add(-time.Hour).In(wire.Oslo()).Truncate(time.Second))

	tests := []struct {
		name        string
		env         *env
		contentType string
		body        func(testing.TB) []byte
		status      int
		exception   string
		message     string
		// field and code, when set, are the first validation error's.
		field, code string
		description string
	}{
		{name: "text/plain", contentType: "text/plain", body: raw(`{}`), status: 415, exception: exMediaTypeNotSupported,
			message: "Content-Type 'text/plain' is not supported"},
		{name: "no content type", contentType: "-", body: raw(`{}`), status: 415, exception: exMediaTypeNotSupported},
		{name: "empty body", body: raw(``), status: 400, exception: exNotReadable, message: "Required request body is missing"},
		{name: "malformed json", body: raw(`{"standardBusinessDocumentHeader":`), status: 400, exception: exNotReadable,
			message: "JSON parse error"},
		{name: "type strange (real 500)", body: raw(`{"standardBusinessDocumentHeader":{"documentIdentification":{"type":"strange"}},"strange":{}}`),
			status: 400, exception: exNotReadable, message: "Unknown BusinessMessageType = strange. Expecting one of status,arkivmelding"},
		{name: "missing payload (real 500)", body: raw(`{"standardBusinessDocumentHeader":{"documentIdentification":{"type":"arkivmelding"}}}`),
			status: 400, exception: exNotReadable, message: "Expected token FIELD_NAME, but found END_OBJECT"},
		{name: "extra key (real 500)", body: raw(`{"standardBusinessDocumentHeader":{"documentIdentification":{"type":"arkivmelding"}},"arkivmelding":{},"x":{}}`),
			status: 400, exception: exNotReadable, message: "Expected token END_OBJECT, but found FIELD_NAME"},
		{name: "payload key mismatch (real 500)", body: raw(`{"standardBusinessDocumentHeader":{"documentIdentification":{"type":"arkivmelding"}},"digital":{}}`),
			status: 400, exception: exNotReadable, message: "Expected to find field named arkivmelding, but found digital"},
		{name: "missing type", body: raw(`{"standardBusinessDocumentHeader":{"documentIdentification":{}},"arkivmelding":{}}`),
			status: 400, exception: exNotReadable, message: "Missing type!"},
		{name: "unknown enum", body: raw(`{"standardBusinessDocumentHeader":{"documentIdentification":{"type":"print"}},"print":{"posttype":"C"}}`),
			status: 400, exception: exNotReadable, message: "JSON parse error"},
		{name: "headerVersion null", body: modified(wire.TypeArkivmelding, dpoOrg, func(s *wire.StandardBusinessDocument) { s.Header.HeaderVersion = "" }),
			status: 400, exception: exMethodArgNotValid, message: "Validation failed for object='standardBusinessDocument'. Error count: 1",
			field: "standardBusinessDocumentHeader.headerVersion", code: "NotNull"},
		{name: "typeVersion null", body: modified(wire.TypeArkivmelding, dpoOrg, func(s *wire.StandardBusinessDocument) {
			s.Header.DocumentIdentification.TypeVersion = ""
		}), status: 400, exception: exMethodArgNotValid, field: "standardBusinessDocumentHeader.documentIdentification.typeVersion", code: "NotNull"},
		{name: "standard null", body: modified(wire.TypeArkivmelding, dpoOrg, func(s *wire.StandardBusinessDocument) {
			s.Header.DocumentIdentification.Standard = ""
		}), status: 400, exception: exMethodArgNotValid, field: "standardBusinessDocumentHeader.documentIdentification.standard", code: "NotNull"},
		{name: "messageId not a uuid", body: modified(wire.TypeArkivmelding, dpoOrg, func(s *wire.StandardBusinessDocument) {
			s.Header.DocumentIdentification.InstanceIdentifier = "x"
		}), status: 400, exception: exMethodArgNotValid, field: "standardBusinessDocumentHeader.documentIdentification.instanceIdentifier", code: "UUID"},
		{name: "conversationId not a uuid", body: modified(wire.TypeArkivmelding, dpoOrg, func(s *wire.StandardBusinessDocument) {
			s.FindScope(wire.ScopeConversationID).InstanceIdentifier = "nope"
		}), status: 400, exception: exMethodArgNotValid, field: "standardBusinessDocumentHeader.businessScope.scope[].instanceIdentifier", code: "UUID"},
		{name: "businessScope null", body: modified(wire.TypeArkivmelding, dpoOrg, func(s *wire.StandardBusinessDocument) { s.Header.BusinessScope = nil }),
			status: 400, exception: exMethodArgNotValid, field: "standardBusinessDocumentHeader.businessScope", code: "NotNull"},
		{name: "scope empty", body: modified(wire.TypeArkivmelding, dpoOrg, func(s *wire.StandardBusinessDocument) {
			s.Header.BusinessScope.Scope = []wire.Scope{}
		}), status: 400, exception: exMethodArgNotValid, field: "standardBusinessDocumentHeader.businessScope.scope", code: "Size"},
		{name: "scope type unknown", body: modified(wire.TypeArkivmelding, dpoOrg, func(s *wire.StandardBusinessDocument) {
			s.Header.BusinessScope.Scope = append(s.Header.BusinessScope.Scope, wire.Scope{Type: "Foo"})
		}), status: 400, exception: exMethodArgNotValid, field: "standardBusinessDocumentHeader.businessScope.scope[].type", code: "OneOf"},
		{name: "documentIdentification null", body: raw(`{"standardBusinessDocumentHeader":{"headerVersion":"1.0"},"arkivmelding":{}}`),
			status: 400, exception: exNotReadable, message: "Missing type!"},
		{name: "two receivers", body: modified(wire.TypeArkivmelding, dpoOrg, func(s *wire.StandardBusinessDocument) {
			s.Header.Receiver = append(s.Header.Receiver, s.Header.Receiver[0])
		}), status: 400, exception: exMethodArgNotValid, field: "standardBusinessDocumentHeader.receiver", code: "Size"},
		{name: "sender not an identifier", body: modified(wire.TypeArkivmelding, dpoOrg, func(s *wire.StandardBusinessDocument) {
			s.Header.Sender[0].Identifier.Value = "bogus"
		}), status: 400, exception: exMethodArgNotValid, field: "standardBusinessDocumentHeader.sender[].identifier.value", code: "SenderValue"},
		{name: "sender authority null", body: modified(wire.TypeArkivmelding, dpoOrg, func(s *wire.StandardBusinessDocument) {
			s.Header.Sender[0].Identifier.Authority = ""
		}), status: 400, exception: exMethodArgNotValid, field: "standardBusinessDocumentHeader.sender[].identifier.authority", code: "NotNull"},
		{name: "receiver identifier null", body: modified(wire.TypeArkivmelding, dpoOrg, func(s *wire.StandardBusinessDocument) {
			s.Header.Receiver[0].Identifier = nil
		}), status: 400, exception: exMethodArgNotValid, field: "standardBusinessDocumentHeader.receiver[].identifier", code: "NotNull"},
		{name: "expectedResponseDateTime in the past", body: modified(wire.TypeArkivmelding, dpoOrg, func(s *wire.StandardBusinessDocument) {
			s.FindScope(wire.ScopeConversationID).ScopeInformation = []wire.CorrelationInformation{{ExpectedResponseDateTime: &past}}
		}), status: 400, exception: exMethodArgNotValid,
			field: "standardBusinessDocumentHeader.businessScope.scope[].scopeInformation[].expectedResponseDateTime", code: "Future"},
		{name: "receiver not parseable (real 500)", body: modified(wire.TypeArkivmelding, dpoOrg, func(s *wire.StandardBusinessDocument) {
			s.Header.Receiver[0].Identifier.Value = "12345"
		}), status: 400, exception: exIllegalArgument, message: "Unable to parse identifier = '12345'"},
		{name: "unknown authority (real 500)", body: modified(wire.TypeArkivmelding, dpoOrg, func(s *wire.StandardBusinessDocument) {
			s.Header.Receiver[0].Identifier.Authority = "foo"
		}), status: 400, exception: exIllegalArgument, message: "Unknown authority = foo"},
		{name: "no ConversationId scope (real 500)", body: modified(wire.TypeArkivmelding, dpoOrg, func(s *wire.StandardBusinessDocument) {
			s.Header.BusinessScope.Scope = []wire.Scope{{Type: wire.ScopeSenderRef}}
		}), status: 400, exception: exIllegalState, message: "SBD missing process"},
		{name: "no process (real 500)", body: modified(wire.TypeArkivmelding, dpoOrg, func(s *wire.StandardBusinessDocument) {
			s.FindScope(wire.ScopeConversationID).Identifier = ""
		}), status: 400, exception: exIllegalArgument, message: "Cannot determine documentType with missing process parameter"},
		{name: "receiver unknown", body: modified(wire.TypeArkivmelding, unknownOrg, nil), status: 400,
			exception: exReceiverDoesNotAcceptProcess, message: "Receiver do not accept the document process " + wire.ProcessArkivmeldingAdministrasjon,
			description: "Service record not found for parameters: SRParameter(identifier=" + unknownOrg + ", process=" + wire.ProcessArkivmeldingAdministrasjon + ", securityLevel=3, print=null, infoOnly=false, conversationId="},
		{name: "process not offered", body: modified(wire.TypeInnsynskrav, dpoOrg, nil), status: 400,
			exception: exReceiverDoesNotAcceptProcess, message: "Receiver do not accept the document process " + wire.ProcessEinnsynInnsynskrav,
			description: "Service record not found for parameters"},
		{name: "document type not offered", body: modified(wire.TypeArkivmelding, dpoOrg, func(s *wire.StandardBusinessDocument) {
			s.Header.DocumentIdentification.Standard = "urn:no:difi:arkivmelding:xsd::other::arkivmelding"
		}), status: 400, exception: exReceiverDoesNotAcceptProcess,
			description: "Error looking up service record with document type 'urn:no:difi:arkivmelding:xsd::other::arkivmelding' and parameters: SRParameter(identifier=" + dpoOrg},
		{name: "register refuses the security level", body: modified(wire.TypeArkivmelding, dpfLevel3, func(s *wire.StandardBusinessDocument) {
			*s.Message.(*wire.Arkivmelding).Sikkerhetsnivaa = 4
		}), status: 400, exception: exReceiverDoesNotAcceptProcess,
			description: "Caught exception when looking up service record with parameter SRParameter(identifier=" + dpfLevel3 + ", process=" + wire.ProcessArkivmeldingAdministrasjon + ", securityLevel=4, print=null, infoOnly=false, conversationId="},
		{name: "duplicate messageId", body: func(t testing.TB) []byte { return mustJSON(t, dup) }, status: 400,
			exception: exMessageAlreadyExists, message: "Message with messageId = " + dup.MessageID() + " already exists"},
		{name: "DPV not enabled", body: modified(wire.TypeArkivmelding, dpvOrg, nil), status: 400, exception: exServiceNotEnabled,
			message: "Service DPV is not enabled"},
		{name: "DPF not enabled", body: modified(wire.TypeArkivmelding, dpfOrg, nil), status: 400, exception: exServiceNotEnabled,
			message: "Service DPF is not enabled"},
		{name: "DPI not enabled", body: modified(wire.TypeDigital, citizen, nil), status: 400, exception: exServiceNotEnabled,
			message: "Service DPI is not enabled"},
		{name: "no receiver", body: modified(wire.TypeArkivmelding, dpoOrg, func(s *wire.StandardBusinessDocument) { s.Header.Receiver = nil }),
			status: 400, exception: exServiceNotEnabled, message: "Service UNKNOWN is not enabled"},
		{name: "print without receiver goes to DPI", body: printWithoutReceiver(func(*wire.Print) {}),
			status: 400, exception: exServiceNotEnabled, message: "Service DPI is not enabled"},
		{name: "standard does not fit type", body: modified(wire.TypeAvtalt, dpoOrg, func(s *wire.StandardBusinessDocument) {
			s.Header.DocumentIdentification.Standard = wire.StandardArkivmelding
			s.FindScope(wire.ScopeConversationID).Identifier = wire.ProcessArkivmeldingAdministrasjon
		}), status: 400, exception: exMessageTypeDoesNotFit,
			message: "Message type avtalt does not match the document type urn:no:difi:arkivmelding:xsd::arkivmelding"},
		{name: "print: mottaker null", env: eDPI, body: printWithoutReceiver(func(p *wire.Print) { p.Mottaker = nil }),
			status: 400, exception: exMissingAddressInformation,
			message: "--no.difi.meldingsutveksling.exceptions.MissingAddressInformationException-- [mottaker]"},
		{name: "print: adresselinje1 blank", env: eDPI, body: printWithoutReceiver(func(p *wire.Print) { p.Mottaker.Adresselinje1 = "" }),
			status: 400, exception: exMissingAddressInformation, message: "[mottaker.postnummer/poststed/adresselinje1]"},
		{name: "print: Norwegian without postnummer", env: eDPI, body: printWithoutReceiver(func(p *wire.Print) {
			p.Mottaker.Postnummer, p.Mottaker.Land = "", "NORWAY"
		}), status: 400, exception: exMissingAddressInformation, message: "[mottaker.postnummer/poststed/adresselinje1]"},
		{name: "print: no land and no poststed", env: eDPI, body: printWithoutReceiver(func(p *wire.Print) {
			p.Mottaker.Poststed, p.Mottaker.Land = "", ""
		}), status: 400, exception: exMissingAddressInformation, message: "[mottaker.postnummer/poststed/adresselinje1]"},
		{name: "print: retur null", env: eDPI, body: printWithoutReceiver(func(p *wire.Print) { p.Retur = nil }),
			status: 400, exception: exMissingAddressInformation, message: "[retur]"},
		{name: "print: retur without poststed", env: eDPI, body: printWithoutReceiver(func(p *wire.Print) { p.Retur.Mottaker.Poststed = "" }),
			status: 400, exception: exMissingAddressInformation, message: "[retur.postnummer/poststed/adresselinje1]"},
		{name: "print: retur.mottaker null (real 500)", env: eDPI, body: printWithoutReceiver(func(p *wire.Print) { p.Retur.Mottaker = nil }),
			status: 400, exception: exMissingAddressInformation, message: "[retur.postnummer/poststed/adresselinje1]"},
		{name: "print: foreign address without postnummer", env: eDPI, body: printWithoutReceiver(func(p *wire.Print) {
			p.Mottaker.Postnummer, p.Mottaker.Poststed, p.Mottaker.Land = "", "", "Sverige"
		}), status: 200},
		{name: "print: complete", env: eDPI, body: printWithoutReceiver(func(*wire.Print) {}), status: 200},
		{name: "digital to a citizen with DPI on", env: eDPI, body: modified(wire.TypeDigital, citizen, nil), status: 200},
		{name: "unordered document", body: func(t testing.TB) []byte {
			b := mustJSON(t, sbdFor(t, wire.TypeArkivmelding, dpoOrg))
			var parts map[string]json.RawMessage
			json.Unmarshal(b, &parts)
			return []byte(`{"arkivmelding":` + string(parts["arkivmelding"]) + `,"standardBusinessDocumentHeader":` + string(parts[wire.HeaderKey]) + `}`)
		}, status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := tt.env
			if env == nil {
				env = e
			}
			h := map[string]string{"Content-Type": "application/json"}
			switch tt.contentType {
			case "":
			case "-":
				delete(h, "Content-Type")
			default:
				h["Content-Type"] = tt.contentType
			}
			r := env.do(http.MethodPost, "/api/messages/out", h, strings.NewReader(string(tt.body(t))))
			if tt.status == http.StatusOK {
				if r.status != http.StatusOK {
					t.Fatalf("status %d, want 200: %s", r.status, r.body)
				}
				return
			}
			b := expectError(t, r, tt.status, tt.exception, tt.message)
			if b.Path != "/api/messages/out" {
				t.Errorf("path = %q", b.Path)
			}
			if tt.description != "" && !strings.Contains(b.Description, tt.description) {
				t.Errorf("description = %q, want it to contain %q", b.Description, tt.description)
			}
			if tt.field != "" {
				if len(b.Errors) == 0 {
					t.Fatalf("no validation errors: %s", r.body)
				}
				got := b.Errors[0]
				if got.Field != tt.field || got.Code != tt.code || got.ObjectName != "standardBusinessDocument" ||
					got.Codes[len(got.Codes)-1] != tt.code || got.Codes[0] != tt.code+".standardBusinessDocument."+tt.field {
					t.Errorf("error = %+v, want field %s code %s", got, tt.field, tt.code)
				}
			}
		})
	}
}

// TestValidationErrorShape checks one MethodArgumentNotValidException body in full.
func TestValidationErrorShape(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sbd := sbdFor(t, wire.TypeArkivmelding, dpoOrg)
	sbd.Header.Sender[0].Identifier.Value = "bogus"
	r := e.create(sbd)
	b := expectError(t, r, 400, exMethodArgNotValid, "Validation failed for object='standardBusinessDocument'. Error count: 1")
	want := []wire.ValidationError{{
		Codes: []string{
			"SenderValue.standardBusinessDocument.standardBusinessDocumentHeader.sender[].identifier.value",
			"SenderValue.standardBusinessDocument.standardBusinessDocumentHeader.sender.identifier.value",
			"SenderValue.standardBusinessDocumentHeader.sender[].identifier.value",
			"SenderValue.standardBusinessDocumentHeader.sender.identifier.value",
			"SenderValue",
		},
		DefaultMessage: "{no.difi.meldingsutveksling.validation.IntegrasjonspunktOrganization}",
		ObjectName:     "standardBusinessDocument",
		Field:          "standardBusinessDocumentHeader.sender[].identifier.value",
		RejectedValue:  "bogus",
		Code:           "SenderValue",
	}}
	if diff := cmp.Diff(want, b.Errors); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	var rawBody map[string]any
	decode(t, r, &rawBody)
	if _, has := rawBody["errors"].([]any)[0].(map[string]any)["bindingFailure"]; !has {
		t.Errorf("bindingFailure missing: %s", r.body)
	}
	if _, has := rawBody["description"]; has {
		t.Errorf("description present: %s", r.body)
	}
}

// TestRegistryUnavailable answers 503 naming the address register when it cannot be reached.
func TestRegistryUnavailable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.sr.Close()
	b := expectError(t, e.create(sbdFor(t, wire.TypeArkivmelding, dpoOrg)), 503, exResourceAccess, "address register (ServiceRegistry) is unavailable")
	if b.Path != "/api/messages/out" {
		t.Errorf("path %q", b.Path)
	}
	expectError(t, e.get("/api/capabilities/"+dpoOrg), 503, exResourceAccess, "address register")
}

// TestPrintDefaults fills print options and addresses from the address register.
func TestPrintDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t, enable(wire.ServiceDPI))
	sbd := sbdFor(t, wire.TypePrint, reservedFnr)
	p := sbd.Message.(*wire.Print)
	p.Utskriftsfarge, p.Posttype = "", ""
	p.Mottaker = &wire.PostalAddress{Navn: "Overstyrt Navn"}
	got := e.mustCreate(sbd).Message.(*wire.Print)
	addr := pop.Citizen(fixtures.RoleReserved).Facts.PostAddress
	want := &wire.PostalAddress{Navn: "Overstyrt Navn", Adresselinje1: addr.Street, Postnummer: addr.PostalCode,
		Poststed: addr.PostalArea, Land: addr.Country}
	if diff := cmp.Diff(want, got.Mottaker); diff != "" {
		t.Errorf("mottaker (-want +got):\n%s", diff)
	}
	if got.Utskriftsfarge != wire.PrintColorSortHvit || got.Posttype != wire.PostalCategoryBOekonomi {
		t.Errorf("print options = %q %q", got.Utskriftsfarge, got.Posttype)
	}
}

// fakeDPF answers the create-time DPF rules: an account for accountOrg only, and types (or err).
type fakeDPF struct {
	accountOrg string
	types      []string
	err        error
	asked      []string
}

func (f *fakeDPF) HasAccount(org string) bool { return org == f.accountOrg }

func (f *fakeDPF) ForsendelseTyper(_ context.Context, org string) ([]string, error) {
	f.asked = append(f.asked, org)
	return f.types, f.err
}

func TestCreateDPFRules(t *testing.T) {
	t.Parallel()
	withType := func(typ string) func(*wire.StandardBusinessDocument) {
		return func(sbd *wire.StandardBusinessDocument) {
			sbd.Message.(*wire.Arkivmelding).DPF = &wire.DPFSettings{ForsendelseType: typ}
		}
	}
	for _, tc := range []struct {
		name      string
		dpf       *fakeDPF
		mod       func(*wire.StandardBusinessDocument)
		status    int
		exception string
		message   string
	}{
		{name: "no SvarUt account for the sender", dpf: &fakeDPF{accountOrg: "999999999"}, status: 400,
			exception: "no.difi.meldingsutveksling.exceptions.MissingSvarUtCredentialsException",
			message:   "SvarUt credentials not configured for orgnr " + ownOrg},
		{name: "a forsendelse type SvarUt does not know", dpf: &fakeDPF{accountOrg: ownOrg, types: []string{"Byggesøknad", "Plansak"}},
			mod: withType("Ukjent"), status: 400, exception: "no.difi.meldingsutveksling.exceptions.ForsendelseTypeNotFoundException",
			message: "Found forsendelseType Ukjent, but valid types are [Byggesøknad, Plansak]"},
		{name: "SvarUt cannot be asked", dpf: &fakeDPF{accountOrg: ownOrg, err: errors.New("connection refused")},
			mod: withType("Byggesøknad"), status: 503, exception: "org.springframework.web.client.ResourceAccessException",
			message: "KS SvarUt is unavailable: connection refused"},
		{name: "a known forsendelse type", dpf: &fakeDPF{accountOrg: ownOrg, types: []string{"Byggesøknad"}},
			mod: withType("Byggesøknad"), status: 200},
		{name: "no forsendelse type asks SvarUt nothing", dpf: &fakeDPF{accountOrg: ownOrg, err: errors.New("not asked")}, status: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, enable(wire.ServiceDPF), func(o *Options) { o.DPF = tc.dpf })
			sbd := sbdFor(t, wire.TypeArkivmelding, dpfOrg)
			if tc.mod != nil {
				tc.mod(sbd)
			}
			r := e.create(sbd)
			if tc.status == 200 {
				if r.status != 200 {
					t.Fatalf("create answered %d: %s", r.status, r.body)
				}
				return
			}
			expectError(t, r, tc.status, tc.exception, tc.message)
		})
	}
}
