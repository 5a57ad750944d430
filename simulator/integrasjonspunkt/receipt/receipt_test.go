package receipt

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

func TestResponseProcess(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		wire.ProcessArkivmeldingAdministrasjon: wire.ProcessArkivmeldingResponse,
		wire.ProcessArkivmeldingTaushetsbelagt: wire.ProcessArkivmeldingResponse,
		wire.ProcessArkivmeldingResponse:       wire.ProcessArkivmeldingResponse,
		wire.ProcessEinnsynInnsynskrav:         wire.ProcessEinnsynResponse,
		wire.ProcessEinnsynJournalpost:         wire.ProcessEinnsynResponse,
		wire.ProcessAvtalt:                     wire.ProcessAvtaltResponse,
	} {
		if got, ok := ResponseProcess(in); !ok || got != want {
			t.Errorf("ResponseProcess(%s) = %s, %v; want %s", in, got, ok, want)
		}
	}
	for _, p := range []string{wire.ProcessDigitalpostInfo, wire.ProcessHelse, "", "urn:no:difi:profile:arkivmeldingX"} {
		if got, ok := ResponseProcess(p); ok {
			t.Errorf("ResponseProcess(%q) = %s, want none", p, got)
		}
	}
}

func TestStatusMirrorsTheOriginal(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	orig := fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{Sender: "910077473", Receiver: "910075918", TTL: time.Hour,
		MessageChannel: "sutB", Now: now})
	st, err := Status(orig, wire.StatusMottatt, now)
	if err != nil {
		t.Fatal(err)
	}
	// It survives the strict JSON round trip the channel and the other IP use.
	raw, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	st, err = wire.ParseSBD(raw)
	if err != nil {
		t.Fatalf("status SBD does not parse: %v\n%s", err, raw)
	}
	di := st.Header.DocumentIdentification
	checks := []struct{ name, got, want string }{
		{"sender", st.SenderIdentifier(), "0192:910075918"},
		{"receiver", st.ReceiverIdentifier(), "0192:910077473"},
		{"sender authority", st.Header.Sender[0].Identifier.Authority, wire.AuthorityISO6523},
		{"messageId", st.MessageID(), orig.MessageID()},
		{"conversationId", st.ConversationID(), orig.ConversationID()},
		{"standard", di.Standard, "urn:no:difi:eformidling:xsd::status"},
		{"type", di.Type, "status"},
		{"typeVersion", di.TypeVersion, "2.0"},
		{"headerVersion", st.Header.HeaderVersion, "1.0"},
		{"process", st.Process(), "urn:no:difi:profile:arkivmelding:response:ver1.0"},
		{"message channel", st.MessageChannel(), "sutB"},
		{"creation", di.CreationDateAndTime.String(), "2026-03-01T12:59:55+01:00"},
		{"status", string(st.Message.(*wire.StatusMessage).Status), "MOTTATT"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	exp, ok := st.ExpectedResponseDateTime()
	if !ok || !exp.Time.Equal(now.Add(24*time.Hour)) {
		t.Errorf("expectedResponseDateTime = %v %v, want now+24h", exp, ok)
	}
	if !strings.Contains(string(raw), `"status":{"status":"MOTTATT"}`) {
		t.Errorf("payload: %s", raw)
	}
	// The original is untouched.
	if orig.SenderIdentifier() != "0192:910077473" || orig.Process() != wire.ProcessArkivmeldingAdministrasjon {
		t.Error("Status changed the original")
	}
}

func TestStatusFamiliesAndRefusals(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for typ, want := range map[wire.MessageType]string{
		wire.TypeAvtalt:                 wire.ProcessAvtaltResponse,
		wire.TypeInnsynskrav:            wire.ProcessEinnsynResponse,
		wire.TypeArkivmeldingKvittering: wire.ProcessArkivmeldingResponse,
	} {
		st, err := Status(fixtures.MustSBD(typ, fixtures.SBDSpec{}), wire.StatusLevert, now)
		if err != nil || st.Process() != want || st.MessageChannel() != "" {
			t.Errorf("%s: %v %v", typ, st.Process(), err)
		}
	}
	if _, err := Status(fixtures.MustSBD(wire.TypeDigital, fixtures.SBDSpec{}), wire.StatusMottatt, now); !errors.Is(err, ErrNoResponseProcess) {
		t.Errorf("digital: %v", err)
	}
	noSender := fixtures.MustSBD(wire.TypeArkivmelding, fixtures.SBDSpec{})
	noSender.Header.Sender = nil
	if _, err := Status(noSender, wire.StatusMottatt, now); err == nil {
		t.Error("status for a message without sender")
	}
	if _, err := Status(nil, wire.StatusMottatt, now); err == nil {
		t.Error("status for nil")
	}
}
