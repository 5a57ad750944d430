package sr

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

// registrationKey is the stored form of an identifier: the bare organisation number or the fødselsnummer.
func registrationKey(identifier string) (string, error) {
	p, err := wire.ParseIdentifier(strings.TrimSpace(identifier))
	if err != nil {
		var ie *wire.IdentifierError
		if errors.As(err, &ie) {
			return "", fmt.Errorf("%w: %w: %s", ErrInvalidRegistration, err, ie.Reason)
		}
		return "", fmt.Errorf("%w: %w", ErrInvalidRegistration, err)
	}
	switch p.Kind {
	case wire.KindOrganization:
		if p.ICD != wire.ICDNorway || p.PartID != "" || p.Source != "" || len(p.OrgID) != 9 || strings.Trim(p.OrgID, "0123456789") != "" {
			return "", fmt.Errorf("%w: identifier %q: register a Norwegian organisation by its 9-digit number (or 0192:<number>)",
				ErrInvalidRegistration, identifier)
		}
		return p.OrgID, nil
	case wire.KindPerson:
		return p.Value, nil
	}
	return "", fmt.Errorf("%w: identifier %q: only organisation numbers and fødselsnumre can be registered", ErrInvalidRegistration, identifier)
}

// normalize validates reg and returns the copy the register stores.
func normalize(reg wire.Registration) (wire.Registration, error) {
	key, err := registrationKey(reg.Identifier)
	if err != nil {
		return wire.Registration{}, err
	}
	n := clone(reg)
	n.Identifier = key
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidRegistration, key, fmt.Sprintf(format, a...))
	}
	if len(key) == 9 {
		if n.Citizen != nil {
			return wire.Registration{}, bad(`an organisation number takes "organization" facts, not "citizen"`)
		}
		if n.Organization == nil {
			return wire.Registration{}, bad(`an organisation number needs "organization" facts`)
		}
		if err := checkOrganization(*n.Organization); err != nil {
			return wire.Registration{}, bad("%v", err)
		}
	} else {
		if n.Organization != nil {
			return wire.Registration{}, bad(`a fødselsnummer takes "citizen" facts, not "organization"`)
		}
		if n.Citizen == nil {
			return wire.Registration{}, bad(`a fødselsnummer needs "citizen" facts`)
		}
		if err := checkCitizen(*n.Citizen); err != nil {
			return wire.Registration{}, bad("%v", err)
		}
	}
	for i := range n.ServiceRecords {
		r := &n.ServiceRecords[i]
		if r.Process == "" {
			return wire.Registration{}, bad("serviceRecords[%d]: process is required", i)
		}
		if r.DocumentTypes == nil {
			r.DocumentTypes = []string{}
		}
		if r.OrganisationNumber == "" {
			r.OrganisationNumber = key
		}
	}
	return n, nil
}

func checkOrganization(o wire.OrganizationFacts) error {
	if err := checkPEM("organization.certificate", o.Certificate); err != nil {
		return err
	}
	for _, id := range o.SMPProcesses {
		p, ok := wire.LookupProcess(id)
		if !ok {
			return fmt.Errorf("smpProcesses: %q is not a process of the catalogue", id)
		}
		switch p.Category {
		case wire.CategoryArkivmelding, wire.CategoryAvtalt, wire.CategoryEinnsyn:
		default:
			return fmt.Errorf("smpProcesses: %q is a %s process; only arkivmelding, avtalt and eInnsyn processes are registered in SMP", id, p.Category)
		}
	}
	for _, l := range o.SvarUtLevels {
		if l < 1 || l > 4 {
			return fmt.Errorf("svarUtLevels: %d is not a security level (1-4; KS Fiks uses 3 and 4)", l)
		}
	}
	return nil
}

func checkCitizen(c wire.CitizenFacts) error {
	switch c.Status {
	case "", wire.KRRActive, wire.KRRDeleted, wire.KRRNotRegistered:
	default:
		return fmt.Errorf("status %q: expected %s, %s or %s", c.Status, wire.KRRActive, wire.KRRDeleted, wire.KRRNotRegistered)
	}
	if m := c.Mailbox; m != nil {
		if m.Address == "" || m.ProviderOrgnr == "" {
			return errors.New(`mailbox needs "address" and "providerOrgnr"`)
		}
		if err := checkPEM("mailbox.certificate", m.Certificate); err != nil {
			return err
		}
	}
	return nil
}

// checkPEM accepts "" or a PEM block holding an X.509 certificate.
func checkPEM(field, s string) error {
	if s == "" {
		return nil
	}
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return fmt.Errorf("%s is not PEM (expected -----BEGIN CERTIFICATE-----)", field)
	}
	if block.Type != "CERTIFICATE" {
		return fmt.Errorf("%s is a PEM %q block, not a CERTIFICATE", field, block.Type)
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	return nil
}
