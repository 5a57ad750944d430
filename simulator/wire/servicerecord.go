package wire

// IdentifierResource is the address register's answer to /identifier/{id}[/process/{p}] and /info/{id}
// (spec peers §1.4). ServiceRecords is always present, possibly empty.
type IdentifierResource struct {
	InfoRecord     InfoRecord      `json:"infoRecord"`
	ServiceRecords []ServiceRecord `json:"serviceRecords"`
}

// EntityType is the infoRecord's entity type: an organisasjonsform code (ORGL, AS, KOMM, …), "citizen" or
// "NorskHelsenett".
type EntityType struct {
	Name    string  `json:"name"`
	Acronym *string `json:"acronym,omitempty"`
}

// Entity type names that are not organisasjonsform codes.
const (
	EntityTypeCitizen = "citizen"
	EntityTypeNHN     = "NorskHelsenett"
)

// Postadresse is an organisation's postal address as Brønnøysund gives it.
type Postadresse struct {
	Adresse    string `json:"adresse,omitempty"`
	Postnummer string `json:"postnummer,omitempty"`
	Poststed   string `json:"poststed,omitempty"`
	Land       string `json:"land,omitempty"`
}

// InfoRecord describes the receiver. A citizen's record has only identifier and entityType.
type InfoRecord struct {
	Identifier             string       `json:"identifier"`
	OrganizationName       string       `json:"organizationName,omitempty"`
	OrganizationNumber     string       `json:"organizationNumber,omitempty"`
	HerID                  string       `json:"herId,omitempty"`
	ParentHerID            string       `json:"parentHerId,omitempty"`
	ParentOrganizationName string       `json:"parentOrganizationName,omitempty"`
	Postadresse            *Postadresse `json:"postadresse,omitempty"`
	EntityType             EntityType   `json:"entityType"`
}

// Service is the service part of a service record. Null fields are written as null, as the real register does.
type Service struct {
	Identifier         ServiceIdentifier `json:"identifier"`
	EndpointURL        string            `json:"endpointUrl"`
	ServiceCode        *string           `json:"serviceCode"`
	ServiceEditionCode *string           `json:"serviceEditionCode"`
	SecurityLevel      *int              `json:"securityLevel"`
	Resource           *string           `json:"resource"`
}

// PostAddress is a DPI record's postal address (also the IP capabilities' postAddress/returnAddress).
type PostAddress struct {
	Name       string `json:"name"`
	Street     string `json:"street"`
	PostalCode string `json:"postalCode"`
	PostalArea string `json:"postalArea"`
	Country    string `json:"country"`
}

// Patient is the DPH record's patient.
type Patient struct {
	Fnr        string `json:"fnr"`
	FirstName  string `json:"firstName"`
	MiddleName string `json:"middleName"`
	LastName   string `json:"lastName"`
}

// ServiceRecord is one way to reach a receiver under one process. PEMCertificate is omitted rather than
// null when absent, because the real IP fails on a null certificate (spec upstreams §13 item 14). The DPI
// and DPH fields appear only on records of those services.
type ServiceRecord struct {
	OrganisationNumber string   `json:"organisationNumber"`
	PEMCertificate     string   `json:"pemCertificate,omitempty"`
	Process            string   `json:"process"`
	DocumentTypes      []string `json:"documentTypes"`
	Service            Service  `json:"service"`

	// DPI (digital and print).
	OrgnrPostkasse   string       `json:"orgnrPostkasse,omitempty"`
	PostkasseAdresse *string      `json:"postkasseAdresse,omitempty"`
	Mobilnummer      string       `json:"mobilnummer,omitempty"`
	EpostAdresse     string       `json:"epostAdresse,omitempty"`
	KanVarsles       *bool        `json:"kanVarsles,omitempty"`
	FysiskPost       *bool        `json:"fysiskPost,omitempty"`
	PostAddress      *PostAddress `json:"postAddress,omitempty"`
	ReturnAddress    *PostAddress `json:"returnAddress,omitempty"`
	Spraak           string       `json:"spraak,omitempty"`

	// DPH.
	HerID   *int     `json:"herId,omitempty"`
	Patient *Patient `json:"patient,omitempty"`
}

// HasDocumentType reports whether the record accepts the document standard.
func (r ServiceRecord) HasDocumentType(standard string) bool {
	for _, d := range r.DocumentTypes {
		if d == standard {
			return true
		}
	}
	return false
}

// Capabilities is the IP's GET /api/capabilities/{id} answer (spec ip-api §5).
type Capabilities struct {
	Capabilities []Capability `json:"capabilities"`
}

// Capability is one service record reshaped for the archive system.
type Capability struct {
	Process            string              `json:"process"`
	ServiceIdentifier  ServiceIdentifier   `json:"serviceIdentifier"`
	PostAddress        *PostAddress        `json:"postAddress,omitempty"`
	ReturnAddress      *PostAddress        `json:"returnAddress,omitempty"`
	DocumentTypes      []DocumentType      `json:"documentTypes"`
	DigitalPostAddress *DigitalPostAddress `json:"digitalPostAddress,omitempty"`
}

// DocumentType pairs a message type with its standard; Type is omitted when no message type matches.
type DocumentType struct {
	Type     MessageType `json:"type,omitempty"`
	Standard string      `json:"standard"`
}

// DigitalPostAddress is a citizen's digital mailbox: the provider's orgnr and the mailbox address.
type DigitalPostAddress struct {
	Supplier string `json:"supplier"`
	Address  string `json:"address"`
}

// CapabilityOf reshapes a service record the way the real IP's capabilities API does.
func CapabilityOf(r ServiceRecord) Capability {
	c := Capability{Process: r.Process, ServiceIdentifier: r.Service.Identifier, DocumentTypes: []DocumentType{}}
	for _, s := range r.DocumentTypes {
		t, _ := MessageTypeOfStandard(s)
		c.DocumentTypes = append(c.DocumentTypes, DocumentType{Type: t, Standard: s})
	}
	if r.Service.Identifier == ServiceDPI {
		empty := PostAddress{}
		c.PostAddress, c.ReturnAddress = &empty, &empty
		if r.PostAddress != nil {
			c.PostAddress = r.PostAddress
		}
		if r.ReturnAddress != nil {
			c.ReturnAddress = r.ReturnAddress
		}
		addr := ""
		if r.PostkasseAdresse != nil {
			addr = *r.PostkasseAdresse
		}
		c.DigitalPostAddress = &DigitalPostAddress{Supplier: r.OrgnrPostkasse, Address: addr}
	}
	return c
}

// RegisterError is the address register's error body (spec peers §1.6).
type RegisterError struct {
	ErrorCode        string `json:"error_code"`
	ErrorDescription string `json:"error_description"`
}
