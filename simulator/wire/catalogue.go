package wire

import "strings"

// MessageType is the value of documentIdentification.type: the kind of business message an SBD carries.
type MessageType string

// The NextMove message types (spec ip-api §3.1). TypeFeil exists in capabilities but carries no payload.
const (
	TypeArkivmelding            MessageType = "arkivmelding"
	TypeArkivmeldingKvittering  MessageType = "arkivmelding_kvittering"
	TypeAvtalt                  MessageType = "avtalt"
	TypeDigital                 MessageType = "digital"
	TypeDigitalDPV              MessageType = "digital_dpv"
	TypePrint                   MessageType = "print"
	TypeInnsynskrav             MessageType = "innsynskrav"
	TypePublisering             MessageType = "publisering"
	TypeEinnsynKvittering       MessageType = "einnsyn_kvittering"
	TypeStatus                  MessageType = "status"
	TypeDialogmelding           MessageType = "dialogmelding"
	TypeDialogmeldingKvittering MessageType = "dialogmelding_kvittering"
	TypeFeil                    MessageType = "feil"
)

// BusinessTypes returns the twelve message types that carry a payload, in the order the real
// integration point lists them in its "Unknown BusinessMessageType" error.
func BusinessTypes() []MessageType {
	return []MessageType{
		TypeStatus, TypeArkivmelding, TypeArkivmeldingKvittering, TypeAvtalt, TypeDigital, TypeDigitalDPV,
		TypePrint, TypeDialogmelding, TypeDialogmeldingKvittering, TypeInnsynskrav, TypePublisering,
		TypeEinnsynKvittering,
	}
}

// IsBusinessType reports whether t is one of BusinessTypes.
func (t MessageType) IsBusinessType() bool {
	for _, b := range BusinessTypes() {
		if b == t {
			return true
		}
	}
	return false
}

// IsReceipt reports whether t is a receipt type (spec ip-api §3.1).
func (t MessageType) IsReceipt() bool {
	return t == TypeArkivmeldingKvittering || t == TypeEinnsynKvittering || t == TypeDialogmeldingKvittering
}

// RequiresFile reports whether a message of type t must have at least one attachment at send.
func (t MessageType) RequiresFile() bool {
	return t != TypeStatus && t != TypeAvtalt && !t.IsReceipt()
}

// MessageTypeOfStandard returns the message type a document standard ends with after "::", if it is known.
func MessageTypeOfStandard(standard string) (MessageType, bool) {
	i := strings.LastIndex(standard, "::")
	if i < 0 {
		return "", false
	}
	t := MessageType(standard[i+2:])
	if t.IsBusinessType() || t == TypeFeil {
		return t, true
	}
	return "", false
}

// ReceiptStatus is the status of a conversation as the integration point reports it (spec ip-api §6.1).
type ReceiptStatus string

// The ten receipt statuses.
const (
	StatusOpprettet          ReceiptStatus = "OPPRETTET"
	StatusSendt              ReceiptStatus = "SENDT"
	StatusMottatt            ReceiptStatus = "MOTTATT"
	StatusLevert             ReceiptStatus = "LEVERT"
	StatusLest               ReceiptStatus = "LEST"
	StatusFeil               ReceiptStatus = "FEIL"
	StatusAnnet              ReceiptStatus = "ANNET"
	StatusInnkommendeMottatt ReceiptStatus = "INNKOMMENDE_MOTTATT"
	StatusInnkommendeLevert  ReceiptStatus = "INNKOMMENDE_LEVERT"
	StatusLevetidUtlopt      ReceiptStatus = "LEVETID_UTLOPT"
)

// ReceiptStatuses returns all ten statuses in the order of the real enum.
func ReceiptStatuses() []ReceiptStatus {
	return []ReceiptStatus{
		StatusOpprettet, StatusSendt, StatusMottatt, StatusLevert, StatusLest, StatusFeil, StatusAnnet,
		StatusInnkommendeMottatt, StatusInnkommendeLevert, StatusLevetidUtlopt,
	}
}

// Valid reports whether s is one of the ten statuses.
func (s ReceiptStatus) Valid() bool {
	for _, v := range ReceiptStatuses() {
		if v == s {
			return true
		}
	}
	return false
}

// Finished reports whether registering s marks a conversation finished.
func (s ReceiptStatus) Finished() bool {
	switch s {
	case StatusLevert, StatusLest, StatusFeil, StatusLevetidUtlopt, StatusInnkommendeLevert:
		return true
	}
	return false
}

// ServiceIdentifier names a message service (channel).
type ServiceIdentifier string

// The service identifiers the address register hands out. Unknown values read as ServiceUnknown.
const (
	ServiceDPO     ServiceIdentifier = "DPO"
	ServiceDPV     ServiceIdentifier = "DPV"
	ServiceDPI     ServiceIdentifier = "DPI"
	ServiceDPF     ServiceIdentifier = "DPF"
	ServiceDPE     ServiceIdentifier = "DPE"
	ServiceDPH     ServiceIdentifier = "DPH"
	ServiceUnknown ServiceIdentifier = "UNKNOWN"
)

// ServiceIdentifiers returns the known service identifiers (without UNKNOWN).
func ServiceIdentifiers() []ServiceIdentifier {
	return []ServiceIdentifier{ServiceDPO, ServiceDPV, ServiceDPI, ServiceDPF, ServiceDPE, ServiceDPH}
}

// ParseServiceIdentifier maps s to a known identifier, or ServiceUnknown as the real IP's enum default does.
func ParseServiceIdentifier(s string) ServiceIdentifier {
	for _, v := range ServiceIdentifiers() {
		if string(v) == s {
			return v
		}
	}
	return ServiceUnknown
}

// UnmarshalText reads unknown identifiers as ServiceUnknown, like the real IP.
func (s *ServiceIdentifier) UnmarshalText(b []byte) error {
	*s = ParseServiceIdentifier(string(b))
	return nil
}

// ProcessCategory groups processes; the address register's routing rules depend on it (spec peers §1.5).
type ProcessCategory string

// The process categories of the address register.
const (
	CategoryArkivmelding  ProcessCategory = "ARKIVMELDING"
	CategoryAvtalt        ProcessCategory = "AVTALT"
	CategoryEinnsyn       ProcessCategory = "EINNSYN"
	CategoryDigitalpost   ProcessCategory = "DIGITALPOST"
	CategoryDialogmelding ProcessCategory = "DIALOGMELDING"
)

// Process URNs (spec ip-api §3.4, peers §1.9).
const (
	ProcessArkivmeldingAdministrasjon  = "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0"
	ProcessArkivmeldingPlanByggGeodata = "urn:no:difi:profile:arkivmelding:planByggOgGeodata:ver1.0"
	ProcessArkivmeldingHelseSosial     = "urn:no:difi:profile:arkivmelding:helseSosialOgOmsorg:ver1.0"
	ProcessArkivmeldingOppvekst        = "urn:no:difi:profile:arkivmelding:oppvekstOgUtdanning:ver1.0"
	ProcessArkivmeldingKultur          = "urn:no:difi:profile:arkivmelding:kulturIdrettOgFritid:ver1.0"
	ProcessArkivmeldingTrafikk         = "urn:no:difi:profile:arkivmelding:trafikkReiserOgSamferdsel:ver1.0"
	ProcessArkivmeldingNaturMiljoe     = "urn:no:difi:profile:arkivmelding:naturOgMiljoe:ver1.0"
	ProcessArkivmeldingNaering         = "urn:no:difi:profile:arkivmelding:naeringsutvikling:ver1.0"
	ProcessArkivmeldingSkatter         = "urn:no:difi:profile:arkivmelding:skatterOgAvgifter:ver1.0"
	ProcessArkivmeldingTekniske        = "urn:no:difi:profile:arkivmelding:tekniskeTjenester:ver1.0"
	ProcessArkivmeldingTaushetsbelagt  = "urn:no:difi:profile:arkivmelding:taushetsbelagt:ver1.0"
	ProcessArkivmeldingResponse        = "urn:no:difi:profile:arkivmelding:response:ver1.0"
	ProcessAvtalt                      = "urn:no:difi:profile:avtalt:avtalt:ver1.0"
	ProcessAvtaltResponse              = "urn:no:difi:profile:avtalt:response:ver1.0"
	ProcessEinnsynInnsynskrav          = "urn:no:difi:profile:einnsyn:innsynskrav:ver1.0"
	ProcessEinnsynJournalpost          = "urn:no:difi:profile:einnsyn:journalpost:ver1.0"
	ProcessEinnsynMeeting              = "urn:no:difi:profile:einnsyn:meeting:ver1.0"
	ProcessEinnsynResponse             = "urn:no:difi:profile:einnsyn:response:ver1.0"
	ProcessDigitalpostInfo             = "urn:no:difi:profile:digitalpost:info:ver1.0"
	ProcessDigitalpostVedtak           = "urn:no:difi:profile:digitalpost:vedtak:ver1.0"
	ProcessHelse                       = "urn:no:difi:profile:helse:helse:ver1.0"
	ProcessHelseResponse               = "urn:no:difi:profile:helse:response:ver1.0"
)

// Document-type (standard) URNs.
const (
	StandardArkivmelding            = "urn:no:difi:arkivmelding:xsd::arkivmelding"
	StandardArkivmeldingKvittering  = "urn:no:difi:arkivmelding:xsd::arkivmelding_kvittering"
	StandardArkivmeldingStatus      = "urn:no:difi:arkivmelding:xsd::status"
	StandardArkivmeldingFeil        = "urn:no:difi:arkivmelding:xsd::feil"
	StandardStatus                  = "urn:no:difi:eformidling:xsd::status"
	StandardFeil                    = "urn:no:difi:eformidling:xsd::feil"
	StandardAvtalt                  = "urn:no:difi:avtalt:xsd::avtalt"
	StandardDigital                 = "urn:no:difi:digitalpost:xsd:digital::digital"
	StandardDigitalDPV              = "urn:no:difi:digitalpost:xsd:digital::digital_dpv"
	StandardPrint                   = "urn:no:difi:digitalpost:xsd:fysisk::print"
	StandardInnsynskrav             = "urn:no:difi:einnsyn:xsd::innsynskrav"
	StandardPublisering             = "urn:no:difi:einnsyn:xsd::publisering"
	StandardEinnsynKvittering       = "urn:no:difi:einnsyn:xsd::einnsyn_kvittering"
	StandardDialogmelding           = "urn:no:difi:helse:xsd:schema::dialogmelding"
	StandardDialogmeldingKvittering = "urn:no:difi:helse:xsd::dialogmelding_kvittering"
)

// Process is one row of the address register's process table.
type Process struct {
	Identifier string          `json:"identifier"`
	Category   ProcessCategory `json:"category"`
	// DocumentTypes are the standards accepted under this process.
	DocumentTypes []string `json:"documentTypes"`
	// ServiceCode and ServiceEditionCode are the Altinn 2 codes copied into DPV records.
	ServiceCode        string `json:"serviceCode,omitempty"`
	ServiceEditionCode string `json:"serviceEditionCode,omitempty"`
	// Resource is the Altinn 3 correspondence resource used for DPV records of this process.
	Resource string `json:"resource,omitempty"`
	// QueueSuffix is the DPE Service Bus queue suffix (innsyn, data, meeting) for eInnsyn processes.
	QueueSuffix string `json:"queueSuffix,omitempty"`
}

// ArkivmeldingProcesses returns the arkivmelding processes an organisation can be addressed on.
func ArkivmeldingProcesses() []string {
	return []string{
		ProcessArkivmeldingAdministrasjon, ProcessArkivmeldingPlanByggGeodata, ProcessArkivmeldingHelseSosial,
		ProcessArkivmeldingOppvekst, ProcessArkivmeldingKultur, ProcessArkivmeldingTrafikk,
		ProcessArkivmeldingNaturMiljoe, ProcessArkivmeldingNaering, ProcessArkivmeldingSkatter,
		ProcessArkivmeldingTekniske, ProcessArkivmeldingTaushetsbelagt,
	}
}

// DPV resources of the Altinn 3 correspondence service.
const (
	ResourceDPVAdministrasjon = "eformidling-dpv-administrasjon"
	ResourceDPVTaushetsbelagt = "eformidling-dpv-taushetsbelagt"
	ResourceDPO               = "eformidling-dpo-meldingsutveksling"
)

// Processes returns the process catalogue: every process the address register knows, with its category
// and document types (spec peers §1.9, upstreams §3.4).
func Processes() []Process {
	var ps []Process
	for _, p := range ArkivmeldingProcesses() {
		res := ResourceDPVAdministrasjon
		if p == ProcessArkivmeldingTaushetsbelagt {
			res = ResourceDPVTaushetsbelagt
		}
		ps = append(ps, Process{Identifier: p, Category: CategoryArkivmelding,
			DocumentTypes: []string{StandardArkivmelding}, ServiceCode: "4255", ServiceEditionCode: "10", Resource: res})
	}
	ps = append(ps,
		Process{Identifier: ProcessArkivmeldingResponse, Category: CategoryArkivmelding,
			DocumentTypes: []string{StandardArkivmeldingKvittering, StandardStatus, StandardArkivmeldingFeil}},
		Process{Identifier: ProcessAvtalt, Category: CategoryAvtalt, DocumentTypes: []string{StandardAvtalt}},
		Process{Identifier: ProcessAvtaltResponse, Category: CategoryAvtalt, DocumentTypes: []string{StandardStatus, StandardFeil}},
		Process{Identifier: ProcessEinnsynInnsynskrav, Category: CategoryEinnsyn, DocumentTypes: []string{StandardInnsynskrav}, QueueSuffix: "innsyn"},
		Process{Identifier: ProcessEinnsynJournalpost, Category: CategoryEinnsyn, DocumentTypes: []string{StandardPublisering}, QueueSuffix: "data"},
		Process{Identifier: ProcessEinnsynMeeting, Category: CategoryEinnsyn, DocumentTypes: []string{StandardPublisering}, QueueSuffix: "meeting"},
		Process{Identifier: ProcessEinnsynResponse, Category: CategoryEinnsyn,
			DocumentTypes: []string{StandardEinnsynKvittering, StandardStatus, StandardFeil}, QueueSuffix: "data"},
		Process{Identifier: ProcessDigitalpostInfo, Category: CategoryDigitalpost,
			DocumentTypes: []string{StandardDigital, StandardPrint, StandardDigitalDPV}},
		Process{Identifier: ProcessDigitalpostVedtak, Category: CategoryDigitalpost,
			DocumentTypes: []string{StandardDigital, StandardPrint, StandardDigitalDPV}},
		Process{Identifier: ProcessHelse, Category: CategoryDialogmelding, DocumentTypes: []string{StandardDialogmelding}},
		Process{Identifier: ProcessHelseResponse, Category: CategoryDialogmelding, DocumentTypes: []string{StandardDialogmeldingKvittering}},
	)
	return ps
}

// LookupProcess finds a process of the catalogue by its URN.
func LookupProcess(identifier string) (Process, bool) {
	for _, p := range Processes() {
		if p.Identifier == identifier {
			return p, true
		}
	}
	return Process{}, false
}

// Standard is the document standard (documentIdentification.standard) of message type t; "" for feil.
func (t MessageType) Standard() string {
	switch t {
	case TypeArkivmelding:
		return StandardArkivmelding
	case TypeArkivmeldingKvittering:
		return StandardArkivmeldingKvittering
	case TypeStatus:
		return StandardStatus
	case TypeAvtalt:
		return StandardAvtalt
	case TypeDigital:
		return StandardDigital
	case TypeDigitalDPV:
		return StandardDigitalDPV
	case TypePrint:
		return StandardPrint
	case TypeInnsynskrav:
		return StandardInnsynskrav
	case TypePublisering:
		return StandardPublisering
	case TypeEinnsynKvittering:
		return StandardEinnsynKvittering
	case TypeDialogmelding:
		return StandardDialogmelding
	case TypeDialogmeldingKvittering:
		return StandardDialogmeldingKvittering
	}
	return ""
}

// DefaultProcess is the process a message of type t usually goes under.
func (t MessageType) DefaultProcess() string {
	switch t {
	case TypeArkivmelding:
		return ProcessArkivmeldingAdministrasjon
	case TypeArkivmeldingKvittering, TypeStatus:
		return ProcessArkivmeldingResponse
	case TypeAvtalt:
		return ProcessAvtalt
	case TypeDigital, TypeDigitalDPV:
		return ProcessDigitalpostInfo
	case TypePrint:
		return ProcessDigitalpostVedtak
	case TypeInnsynskrav:
		return ProcessEinnsynInnsynskrav
	case TypePublisering:
		return ProcessEinnsynJournalpost
	case TypeEinnsynKvittering:
		return ProcessEinnsynResponse
	case TypeDialogmelding:
		return ProcessHelse
	case TypeDialogmeldingKvittering:
		return ProcessHelseResponse
	}
	return ""
}

// TypeVersion is the usual documentIdentification.typeVersion of message type t.
func (t MessageType) TypeVersion() string {
	if t == TypeDigital || t == TypePrint || t == TypeDigitalDPV {
		return "1.0"
	}
	return "2.0"
}

// ResponseProcess is the process of receipts and status messages answering a message under process: the
// response process of its family (arkivmelding, einnsyn or avtalt; spec upstreams §1.3.1).
func ResponseProcess(process string) (string, bool) {
	switch {
	case strings.HasPrefix(process, "urn:no:difi:profile:arkivmelding:"):
		return ProcessArkivmeldingResponse, true
	case strings.HasPrefix(process, "urn:no:difi:profile:einnsyn:"):
		return ProcessEinnsynResponse, true
	case strings.HasPrefix(process, "urn:no:difi:profile:avtalt:"):
		return ProcessAvtaltResponse, true
	}
	return "", false
}
