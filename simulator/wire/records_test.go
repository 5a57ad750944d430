package wire

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func ptrTo[T any](v T) *T { return &v }

// goldenRoundTrip marshals v, compares it with testdata/records/<name>.golden.json (rewritten with
// -update), and decodes the golden file into a fresh value that must equal v.
func goldenRoundTrip[T any](t *testing.T, name string, v T) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "records", name+".golden.json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(bytes.TrimSpace(want)), string(got)); diff != "" {
		t.Errorf("%s (-golden +got):\n%s", name, diff)
	}
	var back T
	if err := json.Unmarshal(want, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(v, back); diff != "" {
		t.Errorf("%s does not round-trip (-want +got):\n%s", name, diff)
	}
}

func dpiRecord() ServiceRecord {
	return ServiceRecord{
		OrganisationNumber: "16828424401", PEMCertificate: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
		Process: ProcessDigitalpostInfo, DocumentTypes: []string{StandardDigital},
		Service:        Service{Identifier: ServiceDPI, EndpointURL: "https://example.test/dpi", ServiceCode: ptrTo("4255"), ServiceEditionCode: ptrTo("4")},
		OrgnrPostkasse: "984661185", PostkasseAdresse: ptrTo("ola.nordmann#9YDT"), EpostAdresse: "ola@example.test",
		Mobilnummer: "+4799999999", KanVarsles: ptrTo(true), FysiskPost: ptrTo(false), Spraak: "NB",
	}
}

func TestIdentifierResourceGolden(t *testing.T) {
	t.Parallel()
	goldenRoundTrip(t, "identifier-resource-dpo", IdentifierResource{
		InfoRecord: InfoRecord{Identifier: "910075918", OrganizationName: "BIRISTRAND OG TJØTTA",
			Postadresse: &Postadresse{Adresse: "Storgata 1", Postnummer: "0468", Poststed: "OSLO", Land: "Norge"}, EntityType: EntityType{Name: "ORGL"}},
		ServiceRecords: []ServiceRecord{{
			OrganisationNumber: "910075918", PEMCertificate: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
			Process: ProcessArkivmeldingAdministrasjon, DocumentTypes: []string{StandardArkivmelding},
			Service: Service{Identifier: ServiceDPO, EndpointURL: "https://tt02.altinn.no", ServiceCode: ptrTo("4192"),
				ServiceEditionCode: ptrTo("270815"), Resource: ptrTo(ResourceDPO)},
		}},
	})
	goldenRoundTrip(t, "identifier-resource-citizen", IdentifierResource{
		InfoRecord:     InfoRecord{Identifier: "16828424401", EntityType: EntityType{Name: EntityTypeCitizen}},
		ServiceRecords: []ServiceRecord{dpiRecord()},
	})
}

func TestCapabilitiesGolden(t *testing.T) {
	t.Parallel()
	dpo := ServiceRecord{Process: ProcessArkivmeldingResponse, Service: Service{Identifier: ServiceDPO},
		DocumentTypes: []string{StandardArkivmeldingKvittering, StandardStatus, "urn:no:difi:unknown:xsd::strange"}}
	goldenRoundTrip(t, "capabilities", Capabilities{Capabilities: []Capability{CapabilityOf(dpo), CapabilityOf(dpiRecord())}})
}

func TestErrorBodyGolden(t *testing.T) {
	t.Parallel()
	at := time.Date(2019, 3, 25, 11, 38, 23, 0, time.UTC)
	body := NewErrorBody(at, 400, "jakarta.validation.ConstraintViolationException",
		"standardBusinessDocumentHeader.documentIdentification.type: Must be a NextMove message type", "/api/messages/out")
	body.Errors = []ValidationError{{Codes: []string{"MessageType"}, DefaultMessage: "Must be a NextMove message type",
		ObjectName: "standardBusinessDocumentHeader.documentIdentification.type", Field: "standardBusinessDocumentHeader.documentIdentification.type",
		RejectedValue: "strange", Code: "MessageType"}}
	if body.Timestamp != "2019-03-25T12:38:23+01:00" {
		t.Errorf("timestamp %q, want Europe/Oslo 2019-03-25T12:38:23+01:00", body.Timestamp)
	}
	goldenRoundTrip(t, "error-body", body)
}

func TestPageGolden(t *testing.T) {
	t.Parallel()
	goldenRoundTrip(t, "page", NewPage([]string{"a", "b"}, 0, 10, 2, false))
	p := NewPage([]int{21, 22}, 2, 10, 22, true)
	if !p.Last || p.First || p.TotalPages != 3 || p.Pageable.Offset != 20 || p.Empty {
		t.Errorf("third page of 22: %+v", p)
	}
	if e := NewPage[int](nil, 0, 10, 0, false); e.Content == nil || !e.Empty || !e.Last {
		t.Errorf("empty page: %+v", e)
	}
}

func TestRegistrationGolden(t *testing.T) {
	t.Parallel()
	goldenRoundTrip(t, "registration", []Registration{
		{Identifier: "910229028", Organization: &OrganizationFacts{Name: "SØMÅDALEN OG BESSAKER REVISJON", OrgForm: "KOMM", SvarUtLevels: []int{3, 4}}},
		{Identifier: "16828424401", Citizen: &CitizenFacts{Name: "Sigrid Bakken", Status: KRRActive, Notifiable: true,
			Mailbox: &Mailbox{Address: "ola.nordmann#9YDT", ProviderOrgnr: "984661185", Certificate: "PEM"}}},
	})
}

func TestCatalogue(t *testing.T) {
	t.Parallel()
	if len(BusinessTypes()) != 12 || len(ReceiptStatuses()) != 10 {
		t.Fatalf("%d business types, %d statuses", len(BusinessTypes()), len(ReceiptStatuses()))
	}
	for _, p := range Processes() {
		for _, d := range p.DocumentTypes {
			if _, ok := MessageTypeOfStandard(d); !ok {
				t.Errorf("process %s: standard %s names no message type", p.Identifier, d)
			}
		}
	}
	if mt, ok := MessageTypeOfStandard(StandardDigitalDPV); !ok || mt != TypeDigitalDPV {
		t.Errorf("MessageTypeOfStandard(%s) = %q %v", StandardDigitalDPV, mt, ok)
	}
	var s ServiceIdentifier
	if err := json.Unmarshal([]byte(`"DPFIO"`), &s); err != nil || s != ServiceUnknown {
		t.Errorf("unknown service identifier read as %q, %v", s, err)
	}
	if !StatusLevert.Finished() || StatusMottatt.Finished() || !StatusLevetidUtlopt.Valid() || ReceiptStatus("DONE").Valid() {
		t.Error("status predicates are wrong")
	}
	if TypeArkivmelding.RequiresFile() == false || TypeStatus.RequiresFile() || TypeArkivmeldingKvittering.RequiresFile() {
		t.Error("RequiresFile is wrong")
	}
}
