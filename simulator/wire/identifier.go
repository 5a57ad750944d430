package wire

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Authorities of party identifiers in an SBD.
const (
	AuthorityISO6523 = "iso6523-actorid-upis"
	AuthorityNHN     = "nhn-actorid"
)

// ICDNorway is the ISO 6523 ICD of Norwegian organisation numbers.
const ICDNorway = "0192"

// IdentifierKind says what a party identifier denotes.
type IdentifierKind int

// The kinds of party identifier the real parser knows, in the order it tries them.
const (
	KindOrganization IdentifierKind = iota + 1 // ISO 6523 ICD:orgnr[:part[:source]]
	KindPerson                                 // fødselsnummer or D-number
	KindFiksIO                                 // FIKS IO account (UUID)
	KindNHN                                    // her-id:<n> or fastlege-for:<fnr>
)

// String names the kind.
func (k IdentifierKind) String() string {
	switch k {
	case KindOrganization:
		return "organization"
	case KindPerson:
		return "person"
	case KindFiksIO:
		return "fiksio"
	case KindNHN:
		return "nhn"
	}
	return "unknown"
}

// knownICDs is the subset of the ISO 6523 ICD list that efm-common accepts and that occurs in Norwegian
// eFormidling traffic.
var knownICDs = map[string]bool{
	"0007": true, "0037": true, "0060": true, "0088": true, "0096": true, "0106": true, "0135": true,
	"0184": true, "0190": true, "0192": true, "0195": true, "0196": true, "0198": true, "0208": true,
	"0216": true, "9901": true, "9906": true, "9909": true, "9957": true,
}

var iso6523Pattern = regexp.MustCompile(`^(\d{4}):([^:]{1,35})(?::([^\s:]{1,35}))?(?::(\d))?$`)

// ErrInvalidIdentifier is wrapped by every identifier parse error.
var ErrInvalidIdentifier = errors.New("invalid identifier")

// IdentifierError says why a value is not a party identifier.
type IdentifierError struct {
	Value  string
	Reason string
}

// Error is the real parser's message; Reason says more.
func (e *IdentifierError) Error() string {
	return fmt.Sprintf("Unable to parse identifier = '%s'", e.Value)
}

// Unwrap makes errors.Is(err, ErrInvalidIdentifier) true.
func (e *IdentifierError) Unwrap() error { return ErrInvalidIdentifier }

// PartnerIdentifier is a parsed party identifier (spec ip-api §1.3).
type PartnerIdentifier struct {
	Kind IdentifierKind
	// ICD, OrgID, PartID and Source are set for organisations.
	ICD    string
	OrgID  string
	PartID string
	Source string
	// Value is the identifier itself for persons, FIKS IO accounts and NHN identifiers.
	Value string
}

// ParseIdentifier parses s as the real parser does: ISO 6523 (a bare 9-digit number counts as 0192:n),
// then a fødselsnummer/D-number with both check digits, then a FIKS IO UUID, then an NHN identifier.
func ParseIdentifier(s string) (PartnerIdentifier, error) {
	if s == "" {
		return PartnerIdentifier{}, &IdentifierError{Value: s, Reason: "empty"}
	}
	if len(s) == 9 && allDigits(s) {
		return PartnerIdentifier{Kind: KindOrganization, ICD: ICDNorway, OrgID: s}, nil
	}
	if m := iso6523Pattern.FindStringSubmatch(s); m != nil {
		if !knownICDs[m[1]] {
			return PartnerIdentifier{}, &IdentifierError{Value: s, Reason: "unknown ICD " + m[1]}
		}
		if m[3] == "0" && m[4] == "0" {
			return PartnerIdentifier{}, &IdentifierError{Value: s, Reason: "part identifier and source indicator 0:0 is the NHN format"}
		}
		return PartnerIdentifier{Kind: KindOrganization, ICD: m[1], OrgID: m[2], PartID: m[3], Source: m[4]}, nil
	}
	if len(s) == 11 && allDigits(s) {
		if !ValidFodselsnummer(s) {
			return PartnerIdentifier{}, &IdentifierError{Value: s, Reason: "not a valid fødselsnummer or D-number (mod-11 check failed)"}
		}
		return PartnerIdentifier{Kind: KindPerson, Value: s}, nil
	}
	if _, err := uuid.Parse(s); err == nil && len(s) == 36 {
		return PartnerIdentifier{Kind: KindFiksIO, Value: strings.ToLower(s)}, nil
	}
	if v, ok := strings.CutPrefix(s, "her-id:"); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 && allDigits(v) {
			return PartnerIdentifier{Kind: KindNHN, Value: s}, nil
		}
	}
	if v, ok := strings.CutPrefix(s, "fastlege-for:"); ok && ValidFodselsnummer(v) {
		return PartnerIdentifier{Kind: KindNHN, Value: s}, nil
	}
	return PartnerIdentifier{}, &IdentifierError{Value: s, Reason: "not an ISO 6523 organisation number, fødselsnummer, FIKS IO account or NHN identifier"}
}

// Qualified is the full form: 0192:910077473[:part[:source]] for organisations, the value itself otherwise.
func (p PartnerIdentifier) Qualified() string {
	if p.Kind != KindOrganization {
		return p.Value
	}
	s := p.ICD + ":" + p.OrgID
	if p.PartID != "" {
		s += ":" + p.PartID
	}
	if p.Source != "" {
		s += ":" + p.Source
	}
	return s
}

// Primary is the identifier without ICD prefix or part: 910077473, or the fødselsnummer.
func (p PartnerIdentifier) Primary() string {
	if p.Kind != KindOrganization {
		return p.Value
	}
	return p.OrgID
}

// Main is the organisation's own qualified identifier without a part identifier (0192:910077473).
func (p PartnerIdentifier) Main() string {
	if p.Kind != KindOrganization {
		return p.Value
	}
	return p.ICD + ":" + p.OrgID
}

// Authority is the SBD authority for this identifier.
func (p PartnerIdentifier) Authority() string {
	if p.Kind == KindNHN {
		return AuthorityNHN
	}
	return AuthorityISO6523
}

// String is the qualified form.
func (p PartnerIdentifier) String() string { return p.Qualified() }

// IsOrganization reports whether p is an ISO 6523 organisation identifier.
func (p PartnerIdentifier) IsOrganization() bool { return p.Kind == KindOrganization }

// IsPerson reports whether p is a fødselsnummer or D-number.
func (p PartnerIdentifier) IsPerson() bool { return p.Kind == KindPerson }

var (
	fnrWeights1 = []int{3, 7, 6, 1, 8, 9, 4, 5, 2}
	fnrWeights2 = []int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2}
	orgWeights  = []int{3, 2, 7, 6, 5, 4, 3, 2}
)

// mod11 returns the check digit for digits under weights, or -1 when the remainder makes it invalid (10).
func mod11(digits string, weights []int) int {
	sum := 0
	for i, w := range weights {
		sum += int(digits[i]-'0') * w
	}
	c := 11 - sum%11
	switch c {
	case 11:
		return 0
	case 10:
		return -1
	}
	return c
}

// ValidFodselsnummer reports whether s is 11 digits with both mod-11 check digits right. D-numbers (day+40)
// and synthetic test numbers (month+40, +65, +80 or +20) pass as long as their check digits are right.
func ValidFodselsnummer(s string) bool {
	if len(s) != 11 || !allDigits(s) {
		return false
	}
	k1 := mod11(s, fnrWeights1)
	if k1 < 0 || k1 != int(s[9]-'0') {
		return false
	}
	k2 := mod11(s, fnrWeights2)
	return k2 >= 0 && k2 == int(s[10]-'0')
}

// FodselsnummerCheckDigits computes the two check digits for the first nine digits of a fødselsnummer; ok
// is false when no valid number has those nine digits.
func FodselsnummerCheckDigits(first9 string) (string, bool) {
	if len(first9) != 9 || !allDigits(first9) {
		return "", false
	}
	k1 := mod11(first9, fnrWeights1)
	if k1 < 0 {
		return "", false
	}
	s10 := first9 + strconv.Itoa(k1)
	k2 := mod11(s10, fnrWeights2)
	if k2 < 0 {
		return "", false
	}
	return strconv.Itoa(k1) + strconv.Itoa(k2), true
}

// IsDNumber reports whether a (valid) fødselsnummer is a D-number: its day has 40 added.
func IsDNumber(fnr string) bool { return len(fnr) == 11 && fnr[0] >= '4' && fnr[0] <= '7' }

// IsSyntheticFodselsnummer reports whether the month carries a synthetic-test offset (+40, +65, +80, +20).
func IsSyntheticFodselsnummer(fnr string) bool {
	if len(fnr) != 11 || !allDigits(fnr) {
		return false
	}
	m, _ := strconv.Atoi(fnr[2:4])
	return m > 12
}

// ValidOrgNumber reports whether s is a 9-digit Norwegian organisation number with a right mod-11 check digit.
func ValidOrgNumber(s string) bool {
	if len(s) != 9 || !allDigits(s) {
		return false
	}
	c := mod11(s, orgWeights)
	return c >= 0 && c == int(s[8]-'0')
}

// OrgNumberCheckDigit computes the check digit for the first eight digits of an organisation number.
func OrgNumberCheckDigit(first8 string) (byte, bool) {
	if len(first8) != 8 || !allDigits(first8) {
		return 0, false
	}
	c := mod11(first8, orgWeights)
	if c < 0 {
		return 0, false
	}
	return byte('0' + c), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
