package sr

import (
	"fmt"
	"slices"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Default endpoint URLs of the service records: the real register's test-environment configuration (spec
// peers §1.9). The real integration point v4 ignores them and uses its own configuration; only DPE's
// endpointUrl (the queue suffix) carries meaning, and it never comes from here.
const (
	DefaultDPOEndpoint = "https://tt02.altinn.no"
	DefaultDPVEndpoint = "https://tt02.altinn.no/ServiceEngineExternal/CorrespondenceAgencyExternal.svc"
	DefaultDPFEndpoint = "https://test.svarut.ks.no/api/v2"
	DefaultDPIEndpoint = "https://qaoffentlig.meldingsformidler.digipost.no/api/ebms"
	DefaultDPHEndpoint = "https://test.nhn.no"
)

// The Altinn 2 codes of DPO records (the real register's application.yml).
const (
	DPOServiceCode        = "4192"
	DPOServiceEditionCode = "270815"
)

// DefaultEntityType is the infoRecord entity type of an organisation registered without an orgForm.
const DefaultEntityType = "ORGL"

// PrintProvider is the KRR print provider: the organisation that prints and posts letters, and the
// certificate print records carry (KRR /rest/v2/printSertifikat).
type PrintProvider struct {
	// Orgnr becomes orgnrPostkasse of print records.
	Orgnr string
	// Certificate (PEM) becomes pemCertificate of print records.
	Certificate string
}

// Env is what the routing rules need beyond the receiver's registration: the register's surroundings.
type Env struct {
	// SvarUtCertificate (PEM) is KS SvarUt's public certificate, the pemCertificate of DPF records.
	SvarUtCertificate string
	// PrintProvider supplies orgnrPostkasse and pemCertificate of print records.
	PrintProvider PrintProvider
	// Endpoints overrides the service records' endpointUrl per service (Default*Endpoint otherwise). DPE
	// records always carry their process's queue suffix instead.
	Endpoints map[wire.ServiceIdentifier]string
}

func (e Env) endpoint(si wire.ServiceIdentifier) string {
	if u, ok := e.Endpoints[si]; ok {
		return u
	}
	switch si {
	case wire.ServiceDPO:
		return DefaultDPOEndpoint
	case wire.ServiceDPV:
		return DefaultDPVEndpoint
	case wire.ServiceDPF:
		return DefaultDPFEndpoint
	case wire.ServiceDPI:
		return DefaultDPIEndpoint
	case wire.ServiceDPH:
		return DefaultDPHEndpoint
	}
	return ""
}

// Query are the parameters of one lookup.
type Query struct {
	// Process restricts the lookup to one process (the /process/{p} route); "" asks for every record.
	Process string
	// SecurityLevel is the securityLevel query parameter (KS Fiks nivå); nil when absent.
	SecurityLevel *int
	// NoPrint is print=false: no print records (the real register then skips its FREG lookup).
	NoPrint bool
	// ReturnAddress is the calling sender's postal address, the returnAddress of print records; nil
	// writes an address whose five fields are all empty.
	ReturnAddress *wire.PostAddress
}

// Route derives the service records of reg for q by the real register's rules (spec peers §1.5), or
// serves reg.ServiceRecords as they are when there are any. Records come in the real order: for an
// organisation the arkivmelding processes, then eInnsyn, then avtalt; for a citizen info, then vedtak.
// With q.Process set, an unknown process or a process that yields no record is ErrProcessNotFound. The
// other errors are ErrSecurityLevelNotFound (level 4 asked of an organisation without SMP or a level-4
// SvarUt account) and ErrCertificateNotFound (a DPO or DPE record for an organisation with no
// certificate: the real register's VirkSert lookup fails the same way). The result is never nil.
func Route(reg wire.Registration, q Query, env Env) ([]wire.ServiceRecord, error) {
	recs, err := route(reg, q, env)
	if err != nil {
		return nil, err
	}
	if q.Process != "" && len(recs) == 0 {
		return nil, processNotFound(q.Process, reg.Identifier)
	}
	if recs == nil {
		recs = []wire.ServiceRecord{}
	}
	return recs, nil
}

func route(reg wire.Registration, q Query, env Env) ([]wire.ServiceRecord, error) {
	if len(reg.ServiceRecords) > 0 {
		// The escape hatch: served as registered, whatever the catalogue says.
		var out []wire.ServiceRecord
		for _, r := range reg.ServiceRecords {
			if q.Process == "" || r.Process == q.Process {
				out = append(out, r)
			}
		}
		return out, nil
	}
	var procs []wire.Process
	if q.Process != "" {
		p, ok := wire.LookupProcess(q.Process)
		if !ok {
			return nil, processNotFound(q.Process, reg.Identifier)
		}
		procs = []wire.Process{p}
	}
	switch {
	case reg.Organization != nil:
		if procs == nil {
			procs = processesOf(wire.CategoryArkivmelding, wire.CategoryEinnsyn, wire.CategoryAvtalt)
		}
		return organizationRecords(reg.Identifier, *reg.Organization, procs, q, env)
	case reg.Citizen != nil:
		if procs == nil {
			procs = processesOf(wire.CategoryDigitalpost)
		}
		return citizenRecords(reg.Identifier, *reg.Citizen, procs, q, env), nil
	}
	return nil, nil
}

// processesOf returns the catalogue's processes of the given categories, category by category.
func processesOf(categories ...wire.ProcessCategory) []wire.Process {
	all := wire.Processes()
	var out []wire.Process
	for _, c := range categories {
		for _, p := range all {
			if p.Category == c {
				out = append(out, p)
			}
		}
	}
	return out
}

// InfoRecordOf is the infoRecord of a registration: name, postal address and organisasjonsform of an
// organisation; only the identifier and entity type "citizen" of a citizen.
func InfoRecordOf(reg wire.Registration) wire.InfoRecord {
	if o := reg.Organization; o != nil {
		form := o.OrgForm
		if form == "" {
			form = DefaultEntityType
		}
		info := wire.InfoRecord{Identifier: reg.Identifier, OrganizationName: o.Name, EntityType: wire.EntityType{Name: form}}
		if o.Postadresse != nil {
			a := *o.Postadresse
			info.Postadresse = &a
		}
		return info
	}
	return wire.InfoRecord{Identifier: reg.Identifier, EntityType: wire.EntityType{Name: wire.EntityTypeCitizen}}
}

// smpRegistrations answers the real register's ELMA lookup: the processes the organisation registered in
// SMP under any of the document types of p. The arkivmelding response process counts as registered as
// soon as any arkivmelding process is (the real integration point's SMP registration includes it).
func smpRegistrations(f wire.OrganizationFacts, p wire.Process) map[string]bool {
	registered := slices.Clone(f.SMPProcesses)
	if !slices.Contains(registered, wire.ProcessArkivmeldingResponse) {
		for _, a := range wire.ArkivmeldingProcesses() {
			if slices.Contains(f.SMPProcesses, a) {
				registered = append(registered, wire.ProcessArkivmeldingResponse)
				break
			}
		}
	}
	out := map[string]bool{}
	for _, id := range registered {
		rp, ok := wire.LookupProcess(id)
		if !ok {
			continue
		}
		for _, d := range rp.DocumentTypes {
			if slices.Contains(p.DocumentTypes, d) {
				out[id] = true
				break
			}
		}
	}
	return out
}

// svarUtLevel is KS SvarUt's answer (hasSvarUtAdressering): with a level asked for, that level if a
// mottakersystem has exactly it; without one, the highest level; ok is false when SvarUt has no match.
func svarUtLevel(levels []int, asked *int) (level int, ok bool) {
	if len(levels) == 0 {
		return 0, false
	}
	if asked != nil {
		return *asked, slices.Contains(levels, *asked)
	}
	return slices.Max(levels), true
}

func organizationRecords(orgnr string, f wire.OrganizationFacts, procs []wire.Process, q Query, env Env) ([]wire.ServiceRecord, error) {
	var out []wire.ServiceRecord
	for _, p := range procs {
		var rec *wire.ServiceRecord
		var err error
		switch p.Category {
		case wire.CategoryArkivmelding:
			rec, err = arkivmeldingRecord(orgnr, f, p, q, env)
		case wire.CategoryEinnsyn:
			if smpRegistrations(f, p)[p.Identifier] {
				rec, err = dpeRecord(orgnr, f, p)
			}
		case wire.CategoryAvtalt:
			if smpRegistrations(f, p)[p.Identifier] {
				rec, err = dpoRecord(orgnr, f, p, env)
			}
		}
		if err != nil {
			return nil, err
		}
		if rec != nil {
			out = append(out, *rec)
		}
	}
	return out, nil
}

// arkivmeldingRecord is the real createArkivmeldingServiceRecord with feature enable-dpf-dpv on: nil
// means no record (an SMP organisation asked for level 4 on a process it did not register).
func arkivmeldingRecord(orgnr string, f wire.OrganizationFacts, p wire.Process, q Query, env Env) (*wire.ServiceRecord, error) {
	level4 := q.SecurityLevel != nil && *q.SecurityLevel == 4
	registered := smpRegistrations(f, p)
	if len(registered) == 0 {
		if level, ok := svarUtLevel(f.SvarUtLevels, q.SecurityLevel); ok {
			return dpfRecord(orgnr, p, level, env), nil
		}
		if level4 {
			return nil, securityLevelNotFound(orgnr, f, *q.SecurityLevel)
		}
		return dpvRecord(orgnr, p, p, env), nil
	}
	if registered[p.Identifier] {
		return dpoRecord(orgnr, f, p, env)
	}
	if level4 {
		return nil, nil
	}
	return dpvRecord(orgnr, p, p, env), nil
}

func securityLevelNotFound(orgnr string, f wire.OrganizationFacts, level int) *Error {
	form := f.OrgForm
	if form == "" {
		form = DefaultEntityType
	}
	info := fmt.Sprintf("OrganizationInfo(identifier=%s, organizationName=%s, organizationType=OrganizationType(name=%s))",
		orgnr, f.Name, form)
	return &Error{Kind: ErrSecurityLevelNotFound, Status: 400,
		Description: fmt.Sprintf("Organization '%s' can not receive messages with security level '%d'", info, level)}
}

// strPtr is nil for "": the register writes null for absent codes.
func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func baseRecord(id string, p wire.Process, si wire.ServiceIdentifier, endpoint string) wire.ServiceRecord {
	return wire.ServiceRecord{OrganisationNumber: id, Process: p.Identifier, DocumentTypes: slices.Clone(p.DocumentTypes),
		Service: wire.Service{Identifier: si, EndpointURL: endpoint}}
}

func dpoRecord(orgnr string, f wire.OrganizationFacts, p wire.Process, env Env) (*wire.ServiceRecord, error) {
	if f.Certificate == "" {
		return nil, certificateNotFound(orgnr)
	}
	r := baseRecord(orgnr, p, wire.ServiceDPO, env.endpoint(wire.ServiceDPO))
	r.PEMCertificate = f.Certificate
	r.Service.ServiceCode = strPtr(DPOServiceCode)
	r.Service.ServiceEditionCode = strPtr(DPOServiceEditionCode)
	r.Service.Resource = strPtr(wire.ResourceDPO)
	return &r, nil
}

func dpeRecord(orgnr string, f wire.OrganizationFacts, p wire.Process) (*wire.ServiceRecord, error) {
	if f.Certificate == "" {
		return nil, certificateNotFound(orgnr)
	}
	r := baseRecord(orgnr, p, wire.ServiceDPE, p.QueueSuffix)
	r.PEMCertificate = f.Certificate
	return &r, nil
}

// dpvRecord is a DPV record under process p carrying the Altinn codes and resource of codes.
func dpvRecord(id string, p, codes wire.Process, env Env) *wire.ServiceRecord {
	r := baseRecord(id, p, wire.ServiceDPV, env.endpoint(wire.ServiceDPV))
	r.Service.ServiceCode = strPtr(codes.ServiceCode)
	r.Service.ServiceEditionCode = strPtr(codes.ServiceEditionCode)
	r.Service.Resource = strPtr(codes.Resource)
	return &r
}

func dpfRecord(orgnr string, p wire.Process, level int, env Env) *wire.ServiceRecord {
	r := baseRecord(orgnr, p, wire.ServiceDPF, env.endpoint(wire.ServiceDPF))
	r.PEMCertificate = env.SvarUtCertificate
	r.Service.SecurityLevel = &level
	return &r
}

// citizenTarget is the real DpiMessageRouter's decision for one digital-post process.
type citizenTarget int

const (
	targetDPI citizenTarget = iota + 1
	targetPrint
	targetDPV
)

// routeCitizen decides: the info process (notification not obligated) takes DPI when the citizen has a
// mailbox and is active, DPV otherwise; vedtak (obligated) takes print when the citizen is reserved or
// cannot be notified, then DPI as info does, then DPV.
func routeCitizen(f wire.CitizenFacts, obligated bool) citizenTarget {
	active := f.Status == "" || f.Status == wire.KRRActive
	digital := f.Mailbox != nil && active
	if obligated && (f.Reserved || !f.Notifiable) {
		return targetPrint
	}
	if digital {
		return targetDPI
	}
	return targetDPV
}

func citizenRecords(fnr string, f wire.CitizenFacts, procs []wire.Process, q Query, env Env) []wire.ServiceRecord {
	var out []wire.ServiceRecord
	for _, p := range procs {
		var obligated bool
		switch p.Identifier {
		case wire.ProcessDigitalpostInfo:
		case wire.ProcessDigitalpostVedtak:
			obligated = true
		default:
			continue // not a digital-post process: nothing for a citizen
		}
		switch routeCitizen(f, obligated) {
		case targetDPI:
			out = append(out, digitalRecord(fnr, f, p, env))
		case targetPrint:
			if r, ok := printRecord(fnr, f, p, q, env); ok {
				out = append(out, r)
			}
		case targetDPV:
			if r, ok := printRecord(fnr, f, p, q, env); ok {
				out = append(out, r)
			}
			out = append(out, citizenDPVRecord(fnr, p, env))
		}
	}
	return out
}

func dpiRecord(fnr string, f wire.CitizenFacts, p wire.Process, standard string, env Env) wire.ServiceRecord {
	r := baseRecord(fnr, p, wire.ServiceDPI, env.endpoint(wire.ServiceDPI))
	r.DocumentTypes = []string{standard}
	r.Mobilnummer, r.EpostAdresse, r.Spraak = f.Mobile, f.Email, f.Language
	notifiable := f.Notifiable
	r.KanVarsles = &notifiable
	return r
}

// digitalRecord is a DPI record to the citizen's mailbox. Like the real one it has no postAddress and no
// returnAddress (the real register writes null; wire omits them).
func digitalRecord(fnr string, f wire.CitizenFacts, p wire.Process, env Env) wire.ServiceRecord {
	r := dpiRecord(fnr, f, p, wire.StandardDigital, env)
	r.PEMCertificate = f.Mailbox.Certificate
	r.OrgnrPostkasse = f.Mailbox.ProviderOrgnr
	addr := f.Mailbox.Address
	r.PostkasseAdresse = &addr
	physical := false
	r.FysiskPost = &physical
	return r
}

// printRecord is a DPI record for the print provider; ok is false when print=false was asked or the
// citizen has no postal address (a secret address).
func printRecord(fnr string, f wire.CitizenFacts, p wire.Process, q Query, env Env) (wire.ServiceRecord, bool) {
	if q.NoPrint || f.PostAddress == nil {
		return wire.ServiceRecord{}, false
	}
	r := dpiRecord(fnr, f, p, wire.StandardPrint, env)
	r.PEMCertificate = env.PrintProvider.Certificate
	r.OrgnrPostkasse = env.PrintProvider.Orgnr
	physical := true
	r.FysiskPost = &physical
	post := *f.PostAddress
	if post.Name == "" {
		post.Name = f.Name
	}
	r.PostAddress = &post
	ret := wire.PostAddress{}
	if q.ReturnAddress != nil {
		ret = *q.ReturnAddress
	}
	r.ReturnAddress = &ret
	return r, true
}

// citizenDPVRecord is the digital_dpv record: DPV under the digital-post process with the Altinn codes
// and resource of the default arkivmelding process.
func citizenDPVRecord(fnr string, p wire.Process, env Env) wire.ServiceRecord {
	codes, _ := wire.LookupProcess(wire.ProcessArkivmeldingAdministrasjon)
	r := dpvRecord(fnr, p, codes, env)
	r.DocumentTypes = []string{wire.StandardDigitalDPV}
	return *r
}
