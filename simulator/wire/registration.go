package wire

// Registration is what the harness address register knows about one identifier: the facts the real
// register gathers from Brønnøysund, ELMA/SMP, KS SvarUt, KRR and FREG. The register derives service
// records from these facts by the real routing rules (spec peers §1.5); it is the JSON body of
// PUT /__admin/records/{identifier} and an element of GET /__admin/records.
type Registration struct {
	// Identifier is a 9-digit organisation number or an 11-digit fødselsnummer/D-number.
	Identifier   string             `json:"identifier"`
	Organization *OrganizationFacts `json:"organization,omitempty"`
	Citizen      *CitizenFacts      `json:"citizen,omitempty"`
	// ServiceRecords, when not empty, are served as they are instead of the derived ones: an escape hatch
	// for odd cases the rules cannot produce.
	ServiceRecords []ServiceRecord `json:"serviceRecords,omitempty"`
}

// OrganizationFacts describe an organisation.
type OrganizationFacts struct {
	Name string `json:"name"`
	// OrgForm is the organisasjonsform code (ORGL, AS, KOMM, …); it becomes infoRecord.entityType.name.
	OrgForm     string       `json:"orgForm"`
	Postadresse *Postadresse `json:"postadresse,omitempty"`
	// Certificate is the business certificate (PEM) served by /virksert and used as the DPO/DPE
	// encryption certificate.
	Certificate string `json:"certificate,omitempty"`
	// SMPProcesses are the processes the organisation registered in ELMA/SMP: arkivmelding and avtalt
	// processes give DPO records, eInnsyn processes DPE records.
	SMPProcesses []string `json:"smpProcesses,omitempty"`
	// SvarUtLevels are the security levels (nivå 3, 4) of the organisation's KS SvarUt mottakersystemer;
	// any gives DPF records for arkivmelding processes not in SMP.
	SvarUtLevels []int `json:"svarUtLevels,omitempty"`
}

// KRR person statuses.
const (
	KRRActive        = "AKTIV"
	KRRDeleted       = "SLETTET"
	KRRNotRegistered = "IKKE_REGISTRERT"
)

// CitizenFacts describe a citizen as KRR and FREG know them.
type CitizenFacts struct {
	Name string `json:"name,omitempty"`
	// Status is the KRR status: AKTIV, SLETTET or IKKE_REGISTRERT (empty means AKTIV).
	Status string `json:"status,omitempty"`
	// Reserved is KRR reservasjon JA: the citizen has opted out of digital post.
	Reserved bool `json:"reserved,omitempty"`
	// Notifiable is KRR varslingsstatus KAN_VARSLES.
	Notifiable bool   `json:"notifiable"`
	Email      string `json:"email,omitempty"`
	Mobile     string `json:"mobile,omitempty"`
	Language   string `json:"language,omitempty"`
	// Mailbox is the citizen's digital mailbox (KRR digital_post and sertifikat); nil means none.
	Mailbox *Mailbox `json:"mailbox,omitempty"`
	// PostAddress is the FREG postal address; nil means a secret address or none, so no print record.
	PostAddress *PostAddress `json:"postAddress,omitempty"`
}

// Mailbox is a citizen's digital mailbox.
type Mailbox struct {
	// Address is the postkasseadresse, e.g. "ola.nordmann#9YDT".
	Address string `json:"address"`
	// ProviderOrgnr is the mailbox provider's organisation number (postkasseleverandoeradresse).
	ProviderOrgnr string `json:"providerOrgnr"`
	// Certificate is the mailbox provider's encryption certificate (PEM).
	Certificate string `json:"certificate"`
}
