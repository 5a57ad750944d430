package dpi

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

func TestAddress(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   wire.PostalAddress
		want wire.DPIAdresse
	}{
		{"Norwegian without land", wire.PostalAddress{Navn: "Ola", Adresselinje1: "Gate 1", Postnummer: "0468", Poststed: "OSLO"},
			wire.DPIAdresse{Navn: "Ola", Adresselinje1: "Gate 1", Postnummer: "0468", Poststed: "OSLO"}},
		{"Norge leaves land out", wire.PostalAddress{Navn: "Ola", Adresselinje1: "Gate 1", Postnummer: "0468", Poststed: "OSLO", Land: "NORGE"},
			wire.DPIAdresse{Navn: "Ola", Adresselinje1: "Gate 1", Postnummer: "0468", Poststed: "OSLO"}},
		{"foreign folds the postal code into line 2", wire.PostalAddress{Navn: "Sven", Adresselinje1: "Storgatan 1", Postnummer: "111 22", Poststed: "STOCKHOLM", Land: "Sverige"},
			wire.DPIAdresse{Navn: "Sven", Adresselinje1: "Storgatan 1", Adresselinje2: "111 22 STOCKHOLM", Land: "Sverige"}},
		{"foreign with every line used appends to line 4", wire.PostalAddress{Adresselinje1: "1", Adresselinje2: "2", Adresselinje3: "3", Adresselinje4: "4", Postnummer: "9", Poststed: "X", Land: "DK"},
			wire.DPIAdresse{Adresselinje1: "1", Adresselinje2: "2", Adresselinje3: "3", Adresselinje4: "4 9 X", Land: "DK"}},
	} {
		if d := cmp.Diff(tc.want, address(tc.in)); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, d)
		}
	}
}

func TestMapStatuses(t *testing.T) {
	t.Parallel()
	no := false
	at := time.Date(2021, 6, 29, 5, 49, 47, 0, time.UTC)
	for _, tc := range []struct {
		name string
		in   []wire.DPIStatus
		want []store.StatusChange
	}{
		{"OPPRETTET only", []wire.DPIStatus{{Status: "OPPRETTET", Timestamp: "2021-06-29T05:49:47Z"}}, nil},
		{"SENDT gives MOTTATT", []wire.DPIStatus{{Status: "OPPRETTET"}, {Status: "SENDT", Timestamp: "2021-06-29T05:49:47Z"}},
			[]store.StatusChange{{Status: wire.StatusMottatt, Description: DescriptionCorner3, At: at, Pollable: &no}}},
		{"FEILET gives FEIL", []wire.DPIStatus{{Status: "OPPRETTET"}, {Status: "FEILET", Timestamp: "2021-06-29T05:49:47Z", Beskrivelse: "ukjent mottaker"}},
			[]store.StatusChange{{Status: wire.StatusFeil, Description: DescriptionFeil, At: at, Pollable: &no}}},
	} {
		if d := cmp.Diff(tc.want, Map(tc.in)); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, d)
		}
	}
}

func TestMapReceipt(t *testing.T) {
	t.Parallel()
	at := time.Date(2021, 6, 29, 7, 12, 40, 0, time.UTC)
	for _, tc := range []struct {
		typ  string
		k    wire.DPIKvittering
		want []wire.ReceiptStatus
		desc string
	}{
		{wire.DPITypeLeveringskvittering, wire.DPIKvittering{}, []wire.ReceiptStatus{wire.StatusMottatt, wire.StatusLevert}, DescriptionLeveringskvittering},
		{wire.DPITypeMottakskvittering, wire.DPIKvittering{}, []wire.ReceiptStatus{wire.StatusMottatt, wire.StatusLevert}, DescriptionMottakskvittering},
		{wire.DPITypeAapningskvittering, wire.DPIKvittering{}, []wire.ReceiptStatus{wire.StatusLest}, DescriptionAapningskvittering},
		{wire.DPITypeVarslingfeiletkvittering, wire.DPIKvittering{Varslingskanal: "sms", Beskrivelse: "ugyldig nummer"},
			[]wire.ReceiptStatus{wire.StatusFeil}, DescriptionVarslingfeilet},
		{wire.DPITypeReturpostkvittering, wire.DPIKvittering{}, []wire.ReceiptStatus{wire.StatusFeil}, DescriptionReturpost},
		{wire.DPITypeFeil, wire.DPIKvittering{Feiltype: "KLIENT", Detaljer: "ugyldig dokumentpakke"}, []wire.ReceiptStatus{wire.StatusFeil}, DescriptionFeil},
		{wire.DPITypeFlyttet, wire.DPIKvittering{}, []wire.ReceiptStatus{wire.StatusAnnet}, DescriptionUkjent},
	} {
		k := tc.k
		k.Tidspunkt = "2021-06-29T07:12:40Z"
		msg := &wire.DPIMessage{Header: wire.StandardBusinessDocumentHeader{DocumentIdentification: &wire.DocumentIdentification{Type: tc.typ}}, Kvittering: &k}
		got := MapReceipt(msg, "raw-jws")
		var sts []wire.ReceiptStatus
		for _, g := range got {
			sts = append(sts, g.Status)
			if g.RawReceipt != "raw-jws" {
				t.Errorf("%s: rawReceipt %q", tc.typ, g.RawReceipt)
			}
		}
		last := got[len(got)-1]
		if d := cmp.Diff(tc.want, sts); d != "" || last.Description != tc.desc || !last.At.Equal(at) {
			t.Errorf("%s: statuses (-want +got):\n%s description %q at %v", tc.typ, d, last.Description, last.At)
		}
		if len(got) == 2 && !got[0].At.Equal(at.Add(-time.Second)) {
			t.Errorf("MOTTATT at %v, want a second before the receipt", got[0].At)
		}
	}
}
