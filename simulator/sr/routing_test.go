package sr

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

// short names a process without its URN boilerplate: "arkivmelding:administrasjon".
func short(process string) string {
	return strings.TrimSuffix(strings.TrimPrefix(process, "urn:no:difi:profile:"), ":ver1.0")
}

// summary is one line per record: "process SERVICE", DPF with "/level", DPI with "/digital" or "/print".
func summary(recs []wire.ServiceRecord) []string {
	out := []string{}
	for _, r := range recs {
		s := short(r.Process) + " " + string(r.Service.Identifier)
		switch {
		case r.Service.SecurityLevel != nil:
			s += fmt.Sprintf("/%d", *r.Service.SecurityLevel)
		case r.FysiskPost != nil && *r.FysiskPost:
			s += "/print"
		case r.FysiskPost != nil:
			s += "/digital"
		case r.Service.Identifier == wire.ServiceDPE:
			s += "/" + r.Service.EndpointURL
		}
		out = append(out, s)
	}
	return out
}

// each repeats one service for every arkivmelding process (response last), minus the skipped ones.
func each(service string, skip ...string) []string {
	var out []string
	for _, p := range append(wire.ArkivmeldingProcesses(), wire.ProcessArkivmeldingResponse) {
		if !contains(skip, p) {
			out = append(out, short(p)+" "+service)
		}
	}
	return out
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

func level(n int) *int { return &n }

func TestRouteOrganization(t *testing.T) {
	t.Parallel()
	pop := testPopulation(t)
	env := testEnv(t)
	partial := partialWith(wire.ProcessArkivmeldingAdministrasjon, wire.ProcessArkivmeldingPlanByggGeodata)
	einnsynOnlySvarUt := wire.Registration{Identifier: "910000001", Organization: &wire.OrganizationFacts{Name: "X", Certificate: testPEM(t, "x"),
		SMPProcesses: []string{wire.ProcessEinnsynJournalpost}, SvarUtLevels: []int{3}}}
	noCert := wire.Registration{Identifier: "910000002", Organization: &wire.OrganizationFacts{Name: "Y",
		SMPProcesses: []string{wire.ProcessArkivmeldingAdministrasjon}}}
	verbatim := wire.Registration{Identifier: "910000003", Organization: &wire.OrganizationFacts{Name: "Z"},
		ServiceRecords: []wire.ServiceRecord{
			{OrganisationNumber: "910000003", Process: "urn:x:one", DocumentTypes: []string{"a"}, Service: wire.Service{Identifier: wire.ServiceDPO}},
			{OrganisationNumber: "910000003", Process: "urn:x:two", DocumentTypes: []string{"b"}, Service: wire.Service{Identifier: wire.ServiceDPV}},
		}}

	tests := []struct {
		name    string
		reg     wire.Registration
		q       Query
		want    []string
		wantErr error
		errText string
	}{
		{name: "DPO org gets DPO on every arkivmelding and avtalt process", reg: pop.reg(t, orgDPO),
			want: append(each("DPO"), "avtalt:avtalt DPO")},
		{name: "mixed SMP org: DPO for registered, DPV for the rest, response implied", reg: pop.reg(t, orgPartial), want: partial},
		{name: "mixed SMP org at level 4 skips the unregistered processes", reg: pop.reg(t, orgPartial), q: Query{SecurityLevel: level(4)},
			want: []string{"arkivmelding:administrasjon DPO", "arkivmelding:planByggOgGeodata DPO", "arkivmelding:response DPO"}},
		{name: "DPF levels 3,4 asking 3", reg: pop.reg(t, orgDPF), q: Query{SecurityLevel: level(3)}, want: each("DPF/3")},
		{name: "DPF levels 3,4 asking 4", reg: pop.reg(t, orgDPF), q: Query{SecurityLevel: level(4)}, want: each("DPF/4")},
		{name: "DPF levels 3,4 asking nothing gets the highest", reg: pop.reg(t, orgDPF), want: each("DPF/4")},
		{name: "DPF level 3 asking 4 is a security level error", reg: pop.reg(t, orgDPF3), q: Query{SecurityLevel: level(4)},
			wantErr: ErrSecurityLevelNotFound,
			errText: "Organization 'OrganizationInfo(identifier=910085379, organizationName=REIPÅ OG BUGØYNES, organizationType=OrganizationType(name=KOMM))' can not receive messages with security level '4'"},
		{name: "DPF level 4 asking 3 falls back to DPV", reg: wire.Registration{Identifier: "910000004",
			Organization: &wire.OrganizationFacts{Name: "F", SvarUtLevels: []int{4}}}, q: Query{SecurityLevel: level(3)}, want: each("DPV")},
		{name: "DPV-only org", reg: pop.reg(t, orgDPV), want: each("DPV")},
		{name: "DPV-only org asking level 4", reg: pop.reg(t, orgDPV), q: Query{SecurityLevel: level(4)}, wantErr: ErrSecurityLevelNotFound},
		{name: "eInnsyn org gets DPE records with the queue suffix", reg: pop.reg(t, orgEinnsyn),
			want: append(partialWith(wire.ProcessArkivmeldingAdministrasjon),
				"einnsyn:innsynskrav DPE/innsyn", "einnsyn:journalpost DPE/data", "einnsyn:meeting DPE/meeting", "einnsyn:response DPE/data")},
		{name: "eInnsyn-only SMP org in SvarUt: no arkivmelding registration, so DPF", reg: einnsynOnlySvarUt,
			want: append(each("DPF/3"), "einnsyn:journalpost DPE/data")},
		{name: "process route: registered process", reg: pop.reg(t, orgPartial), q: Query{Process: wire.ProcessArkivmeldingPlanByggGeodata},
			want: []string{"arkivmelding:planByggOgGeodata DPO"}},
		{name: "process route: unregistered process", reg: pop.reg(t, orgPartial), q: Query{Process: wire.ProcessArkivmeldingNaering},
			want: []string{"arkivmelding:naeringsutvikling DPV"}},
		{name: "process route: unregistered process at level 4 is not found", reg: pop.reg(t, orgPartial),
			q: Query{Process: wire.ProcessArkivmeldingNaering, SecurityLevel: level(4)}, wantErr: ErrProcessNotFound,
			errText: "Process urn:no:difi:profile:arkivmelding:naeringsutvikling:ver1.0 not found for receiver 910094092"},
		{name: "process route: unknown process", reg: pop.reg(t, orgDPO), q: Query{Process: "urn:no:difi:profile:nope:ver1.0"},
			wantErr: ErrProcessNotFound, errText: "Process urn:no:difi:profile:nope:ver1.0 not found for receiver 910075918"},
		{name: "process route: avtalt not in SMP", reg: pop.reg(t, orgPartial), q: Query{Process: wire.ProcessAvtalt}, wantErr: ErrProcessNotFound},
		{name: "process route: eInnsyn", reg: pop.reg(t, orgEinnsyn), q: Query{Process: wire.ProcessEinnsynMeeting},
			want: []string{"einnsyn:meeting DPE/meeting"}},
		{name: "process route: digital post for an organisation", reg: pop.reg(t, orgDPO), q: Query{Process: wire.ProcessDigitalpostInfo},
			wantErr: ErrProcessNotFound},
		{name: "DPO without a certificate fails like VirkSert", reg: noCert, wantErr: ErrCertificateNotFound},
		{name: "verbatim records", reg: verbatim, want: []string{"urn:x:one DPO", "urn:x:two DPV"}},
		{name: "verbatim records filtered by process", reg: verbatim, q: Query{Process: "urn:x:two"}, want: []string{"urn:x:two DPV"}},
		{name: "verbatim records: process without record", reg: verbatim, q: Query{Process: wire.ProcessAvtalt}, wantErr: ErrProcessNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			recs, err := Route(tt.reg, tt.q, env)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Route error = %v, want %v", err, tt.wantErr)
				}
				if tt.errText != "" && err.Error() != tt.errText {
					t.Errorf("error text (-want +got):\n%s", cmp.Diff(tt.errText, err.Error()))
				}
				return
			}
			if err != nil {
				t.Fatalf("Route: %v", err)
			}
			if diff := cmp.Diff(tt.want, summary(recs)); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}
}

// partialWith is DPO on the given arkivmelding processes and the response process, DPV elsewhere.
func partialWith(dpo ...string) []string {
	var out []string
	for _, p := range append(wire.ArkivmeldingProcesses(), wire.ProcessArkivmeldingResponse) {
		svc := "DPV"
		if contains(dpo, p) || p == wire.ProcessArkivmeldingResponse {
			svc = "DPO"
		}
		out = append(out, short(p)+" "+svc)
	}
	return out
}

func TestRouteCitizen(t *testing.T) {
	t.Parallel()
	pop := testPopulation(t)
	env := testEnv(t)
	reservedSecret := pop.reg(t, pop.fnrReserved)
	f := *reservedSecret.Citizen
	f.PostAddress = nil
	reservedSecret.Citizen = &f

	tests := []struct {
		name    string
		reg     wire.Registration
		q       Query
		want    []string
		wantErr error
	}{
		{name: "mailbox, active, notifiable: DPI on info and vedtak", reg: pop.reg(t, pop.fnrDigital),
			want: []string{"digitalpost:info DPI/digital", "digitalpost:vedtak DPI/digital"}},
		{name: "reserved: info DPV with print, vedtak print", reg: pop.reg(t, pop.fnrReserved),
			want: []string{"digitalpost:info DPI/print", "digitalpost:info DPV", "digitalpost:vedtak DPI/print"}},
		{name: "not notifiable: info DPI, vedtak print", reg: pop.reg(t, pop.fnrNotNotifiable),
			want: []string{"digitalpost:info DPI/digital", "digitalpost:vedtak DPI/print"}},
		{name: "no mailbox: DPV and print", reg: pop.reg(t, pop.fnrNoMailbox),
			want: []string{"digitalpost:info DPI/print", "digitalpost:info DPV", "digitalpost:vedtak DPI/print", "digitalpost:vedtak DPV"}},
		{name: "secret address: no print record", reg: pop.reg(t, pop.fnrSecret),
			want: []string{"digitalpost:info DPV", "digitalpost:vedtak DPV"}},
		{name: "print=false", reg: pop.reg(t, pop.fnrNoMailbox), q: Query{NoPrint: true},
			want: []string{"digitalpost:info DPV", "digitalpost:vedtak DPV"}},
		{name: "SLETTET with a mailbox: DPV", reg: pop.reg(t, pop.fnrDeleted),
			want: []string{"digitalpost:info DPI/print", "digitalpost:info DPV", "digitalpost:vedtak DPI/print", "digitalpost:vedtak DPV"}},
		{name: "process route vedtak", reg: pop.reg(t, pop.fnrReserved), q: Query{Process: wire.ProcessDigitalpostVedtak},
			want: []string{"digitalpost:vedtak DPI/print"}},
		{name: "reserved with a secret address has nothing on vedtak", reg: reservedSecret, q: Query{Process: wire.ProcessDigitalpostVedtak},
			wantErr: ErrProcessNotFound},
		{name: "reserved with a secret address: info DPV only", reg: reservedSecret, want: []string{"digitalpost:info DPV"}},
		{name: "arkivmelding process for a citizen", reg: pop.reg(t, pop.fnrDigital), q: Query{Process: wire.ProcessArkivmeldingAdministrasjon},
			wantErr: ErrProcessNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			recs, err := Route(tt.reg, tt.q, env)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Route error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Route: %v", err)
			}
			if diff := cmp.Diff(tt.want, summary(recs)); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}
}

func strp(s string) *string { return &s }
func boolp(b bool) *bool    { return &b }

// TestRouteRecordFields checks every field of one record of each kind.
func TestRouteRecordFields(t *testing.T) {
	t.Parallel()
	pop := testPopulation(t)
	env := testEnv(t)
	env.Endpoints = map[wire.ServiceIdentifier]string{wire.ServiceDPI: "http://dpi.test/as4"}
	ret := &wire.PostAddress{Name: "LOTE OG ÅRVIKSAND", Street: "Skrivarvegen 42", PostalCode: "0468", PostalArea: "OSLO", Country: "Norge"}
	digital := pop.reg(t, pop.fnrDigital)
	noMailbox := pop.reg(t, pop.fnrNoMailbox)
	reserved := pop.reg(t, pop.fnrReserved)
	infoDocs := []string{wire.StandardDigital}

	tests := []struct {
		name string
		reg  wire.Registration
		q    Query
		want []wire.ServiceRecord
	}{
		{name: "DPO", reg: pop.reg(t, orgPartial), q: Query{Process: wire.ProcessArkivmeldingAdministrasjon}, want: []wire.ServiceRecord{{
			OrganisationNumber: orgPartial, PEMCertificate: testPEM(t, orgPartial), Process: wire.ProcessArkivmeldingAdministrasjon,
			DocumentTypes: []string{wire.StandardArkivmelding},
			Service: wire.Service{Identifier: wire.ServiceDPO, EndpointURL: DefaultDPOEndpoint, ServiceCode: strp("4192"),
				ServiceEditionCode: strp("270815"), Resource: strp("eformidling-dpo-meldingsutveksling")}}}},
		{name: "DPV", reg: pop.reg(t, orgPartial), q: Query{Process: wire.ProcessArkivmeldingTaushetsbelagt}, want: []wire.ServiceRecord{{
			OrganisationNumber: orgPartial, Process: wire.ProcessArkivmeldingTaushetsbelagt, DocumentTypes: []string{wire.StandardArkivmelding},
			Service: wire.Service{Identifier: wire.ServiceDPV, EndpointURL: DefaultDPVEndpoint, ServiceCode: strp("4255"),
				ServiceEditionCode: strp("10"), Resource: strp("eformidling-dpv-taushetsbelagt")}}}},
		{name: "DPF", reg: pop.reg(t, orgDPF), q: Query{Process: wire.ProcessArkivmeldingAdministrasjon, SecurityLevel: level(3)},
			want: []wire.ServiceRecord{{OrganisationNumber: orgDPF, PEMCertificate: testPEM(t, "svarut"), Process: wire.ProcessArkivmeldingAdministrasjon,
				DocumentTypes: []string{wire.StandardArkivmelding}, Service: wire.Service{Identifier: wire.ServiceDPF, EndpointURL: DefaultDPFEndpoint, SecurityLevel: level(3)}}}},
		{name: "DPE", reg: pop.reg(t, orgEinnsyn), q: Query{Process: wire.ProcessEinnsynInnsynskrav}, want: []wire.ServiceRecord{{
			OrganisationNumber: orgEinnsyn, PEMCertificate: testPEM(t, orgEinnsyn), Process: wire.ProcessEinnsynInnsynskrav,
			DocumentTypes: []string{wire.StandardInnsynskrav}, Service: wire.Service{Identifier: wire.ServiceDPE, EndpointURL: "innsyn"}}}},
		{name: "DPI digital", reg: digital, q: Query{Process: wire.ProcessDigitalpostInfo}, want: []wire.ServiceRecord{{
			OrganisationNumber: pop.fnrDigital, PEMCertificate: testPEM(t, "digipost"), Process: wire.ProcessDigitalpostInfo, DocumentTypes: infoDocs,
			Service: wire.Service{Identifier: wire.ServiceDPI, EndpointURL: "http://dpi.test/as4"}, OrgnrPostkasse: "984661185",
			PostkasseAdresse: strp("ola.nordmann#9YDT"), Mobilnummer: "+4799999999", EpostAdresse: pop.fnrDigital + "@example.test",
			KanVarsles: boolp(true), FysiskPost: boolp(false), Spraak: "NB"}}},
		{name: "print and DPV", reg: noMailbox, q: Query{Process: wire.ProcessDigitalpostVedtak, ReturnAddress: ret}, want: []wire.ServiceRecord{{
			OrganisationNumber: pop.fnrNoMailbox, PEMCertificate: testPEM(t, "print"), Process: wire.ProcessDigitalpostVedtak,
			DocumentTypes: []string{wire.StandardPrint}, Service: wire.Service{Identifier: wire.ServiceDPI, EndpointURL: "http://dpi.test/as4"},
			OrgnrPostkasse: printOrgnr, Mobilnummer: "+4799999999", EpostAdresse: pop.fnrNoMailbox + "@example.test", KanVarsles: boolp(true),
			FysiskPost:    boolp(true),
			PostAddress:   &wire.PostAddress{Name: "PER UTENKASSE", Street: "Storgata 1", PostalCode: "0468", PostalArea: "OSLO", Country: "Norway"},
			ReturnAddress: ret, Spraak: "NB",
		}, {
			OrganisationNumber: pop.fnrNoMailbox, Process: wire.ProcessDigitalpostVedtak, DocumentTypes: []string{wire.StandardDigitalDPV},
			Service: wire.Service{Identifier: wire.ServiceDPV, EndpointURL: DefaultDPVEndpoint, ServiceCode: strp("4255"),
				ServiceEditionCode: strp("10"), Resource: strp("eformidling-dpv-administrasjon")},
		}}},
		{name: "print without a known sender: empty return address, name from the citizen", reg: reserved,
			q: Query{Process: wire.ProcessDigitalpostVedtak}, want: []wire.ServiceRecord{{
				OrganisationNumber: pop.fnrReserved, PEMCertificate: testPEM(t, "print"), Process: wire.ProcessDigitalpostVedtak,
				DocumentTypes: []string{wire.StandardPrint}, Service: wire.Service{Identifier: wire.ServiceDPI, EndpointURL: "http://dpi.test/as4"},
				OrgnrPostkasse: printOrgnr, Mobilnummer: "+4799999999", EpostAdresse: pop.fnrReserved + "@example.test", KanVarsles: boolp(true),
				FysiskPost:    boolp(true),
				PostAddress:   &wire.PostAddress{Name: "KARI RESERVERT", Street: "Storgata 1", PostalCode: "0468", PostalArea: "OSLO", Country: "Norway"},
				ReturnAddress: &wire.PostAddress{}, Spraak: "NB",
			}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Route(tt.reg, tt.q, env)
			if err != nil {
				t.Fatalf("Route: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInfoRecordOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		reg  wire.Registration
		want wire.InfoRecord
	}{
		{name: "organisation", reg: wire.Registration{Identifier: "910229028", Organization: &wire.OrganizationFacts{Name: "S", OrgForm: "KOMM",
			Postadresse: &wire.Postadresse{Adresse: "Portveien 2", Postnummer: "0468", Poststed: "Oslo", Land: "Norge"}}},
			want: wire.InfoRecord{Identifier: "910229028", OrganizationName: "S", EntityType: wire.EntityType{Name: "KOMM"},
				Postadresse: &wire.Postadresse{Adresse: "Portveien 2", Postnummer: "0468", Poststed: "Oslo", Land: "Norge"}}},
		{name: "organisation without form", reg: wire.Registration{Identifier: "910229028", Organization: &wire.OrganizationFacts{Name: "S"}},
			want: wire.InfoRecord{Identifier: "910229028", OrganizationName: "S", EntityType: wire.EntityType{Name: "ORGL"}}},
		{name: "citizen", reg: wire.Registration{Identifier: "01019012345", Citizen: &wire.CitizenFacts{Name: "hidden"}},
			want: wire.InfoRecord{Identifier: "01019012345", EntityType: wire.EntityType{Name: "citizen"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, InfoRecordOf(tt.reg)); diff != "" {
				t.Errorf("info record (-want +got):\n%s", diff)
			}
		})
	}
}
