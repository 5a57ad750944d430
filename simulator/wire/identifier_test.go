package wire

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseIdentifier(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in                 string
		want               PartnerIdentifier
		qualified, primary string
		wantErr            string
	}{
		{in: "910077473", want: PartnerIdentifier{Kind: KindOrganization, ICD: "0192", OrgID: "910077473"},
			qualified: "0192:910077473", primary: "910077473"},
		{in: "0192:910077473", want: PartnerIdentifier{Kind: KindOrganization, ICD: "0192", OrgID: "910077473"},
			qualified: "0192:910077473", primary: "910077473"},
		{in: "0192:910077473:OTHER", want: PartnerIdentifier{Kind: KindOrganization, ICD: "0192", OrgID: "910077473", PartID: "OTHER"},
			qualified: "0192:910077473:OTHER", primary: "910077473"},
		{in: "0192:910077473:OTHER:1", want: PartnerIdentifier{Kind: KindOrganization, ICD: "0192", OrgID: "910077473", PartID: "OTHER", Source: "1"},
			qualified: "0192:910077473:OTHER:1", primary: "910077473"},
		// A 9-digit number is not mod-11 checked, as in the real parser.
		{in: "123123123", want: PartnerIdentifier{Kind: KindOrganization, ICD: "0192", OrgID: "123123123"},
			qualified: "0192:123123123", primary: "123123123"},
		{in: "16828424401", want: PartnerIdentifier{Kind: KindPerson, Value: "16828424401"}, qualified: "16828424401", primary: "16828424401"},
		{in: "69865321724", want: PartnerIdentifier{Kind: KindPerson, Value: "69865321724"}, qualified: "69865321724", primary: "69865321724"},
		{in: "3F2504E0-4F89-11D3-9A0C-0305E82C3301", want: PartnerIdentifier{Kind: KindFiksIO, Value: "3f2504e0-4f89-11d3-9a0c-0305e82c3301"},
			qualified: "3f2504e0-4f89-11d3-9a0c-0305e82c3301", primary: "3f2504e0-4f89-11d3-9a0c-0305e82c3301"},
		{in: "her-id:8094866", want: PartnerIdentifier{Kind: KindNHN, Value: "her-id:8094866"}, qualified: "her-id:8094866", primary: "her-id:8094866"},
		{in: "fastlege-for:16828424401", want: PartnerIdentifier{Kind: KindNHN, Value: "fastlege-for:16828424401"},
			qualified: "fastlege-for:16828424401", primary: "fastlege-for:16828424401"},
		{in: "16828424402", wantErr: "mod-11"},
		{in: "9908:910077473", wantErr: "unknown ICD 9908"},
		{in: "0192:910077473:0:0", wantErr: "NHN format"},
		{in: "abc", wantErr: "not an ISO 6523"},
		{in: "", wantErr: "empty"},
		{in: "her-id:-3", wantErr: "not an ISO 6523"},
		{in: "0192:" + strings.Repeat("9", 36), wantErr: "not an ISO 6523"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseIdentifier(tt.in)
			if tt.wantErr != "" {
				var ie *IdentifierError
				if !errors.As(err, &ie) || !errors.Is(err, ErrInvalidIdentifier) || !strings.Contains(ie.Reason, tt.wantErr) {
					t.Fatalf("error %v, want an IdentifierError whose reason contains %q", err, tt.wantErr)
				}
				if want := "Unable to parse identifier = '" + tt.in + "'"; err.Error() != want {
					t.Errorf("message %q, want %q", err.Error(), want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parsed (-want +got):\n%s", diff)
			}
			if got.Qualified() != tt.qualified || got.Primary() != tt.primary {
				t.Errorf("qualified %q primary %q, want %q %q", got.Qualified(), got.Primary(), tt.qualified, tt.primary)
			}
		})
	}
}

func TestCheckDigits(t *testing.T) {
	t.Parallel()
	valid := []string{"16828424401", "20914815046", "10836017450", "69865321724", "15884143699"}
	for _, fnr := range valid {
		if !ValidFodselsnummer(fnr) {
			t.Errorf("%s should be valid", fnr)
		}
		cd, ok := FodselsnummerCheckDigits(fnr[:9])
		if !ok || cd != fnr[9:] {
			t.Errorf("check digits of %s: %q %v", fnr[:9], cd, ok)
		}
		// Any other last digit fails the second check.
		for d := byte('0'); d <= '9'; d++ {
			if d != fnr[10] && ValidFodselsnummer(fnr[:10]+string(d)) {
				t.Errorf("%s with last digit %c passed", fnr, d)
			}
		}
	}
	if !IsDNumber("69865321724") || IsDNumber("16828424401") {
		t.Error("IsDNumber is wrong")
	}
	if !IsSyntheticFodselsnummer("16828424401") {
		t.Error("month 82 is synthetic")
	}
	for _, org := range []string{"910077473", "910075918", "974760673", "991825827"} {
		if !ValidOrgNumber(org) {
			t.Errorf("%s should be a valid organisation number", org)
		}
	}
	if ValidOrgNumber("910077474") || ValidOrgNumber("91007747") || ValidOrgNumber("91007747x") {
		t.Error("an invalid organisation number passed")
	}
}

func FuzzParseIdentifier(f *testing.F) {
	for _, s := range []string{"910077473", "0192:910077473:PART:1", "16828424401", "her-id:1", "fastlege-for:16828424401",
		"3f2504e0-4f89-11d3-9a0c-0305e82c3301", "9908:1", "", ":::", "0192:a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseIdentifier(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidIdentifier) {
				t.Fatalf("error %v does not wrap ErrInvalidIdentifier", err)
			}
			return
		}
		// Whatever parses must parse again, from its qualified form, to the same identifier.
		again, err := ParseIdentifier(p.Qualified())
		if err != nil {
			t.Fatalf("%q parsed to %+v whose qualified form %q does not parse: %v", s, p, p.Qualified(), err)
		}
		if again != p {
			t.Fatalf("%q: %+v re-parsed as %+v", s, p, again)
		}
		if p.Kind == KindPerson && !ValidFodselsnummer(p.Value) {
			t.Fatalf("%q accepted as a person without valid check digits", s)
		}
	})
}
