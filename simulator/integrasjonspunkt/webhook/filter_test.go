package webhook

import (
	"errors"
	"testing"
	"time"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

func TestParseFilter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		def     string
		parts   int
		syntax  bool   // a *SyntaxError
		unknown string // an *UnknownFilterError for this name
	}{
		{def: "status=FEIL", parts: 1},
		{def: "status=FEIL,LEVETID_UTLOPT&direction=INCOMING&serviceIdentifier=DPO,DPI", parts: 3},
		{def: "status=INNKOMMENDE_MOTTAT", parts: 1}, // the docs' typo parses (and never matches)
		{def: "status=a=b", parts: 1},
		{def: "status=FEIL&", parts: 1},  // Java's split drops trailing empty parts
		{def: "status=FEIL&&", parts: 1}, //
		{def: "&", parts: 0},             // only empty parts: nothing to check
		{def: "status= FEIL ", parts: 1}, // the value is anything
		{def: "", syntax: true},          // one empty part
		{def: " ", syntax: true},         //
		{def: "status", syntax: true},    // no operator
		{def: "status=", syntax: true},   // no value
		{def: "=FEIL", syntax: true},     // no name
		{def: "status!=FEIL", syntax: true},
		{def: "status>FEIL", syntax: true},
		{def: "sta-tus=FEIL", syntax: true},
		{def: "status =FEIL", syntax: true},
		{def: "&status=FEIL", syntax: true}, // a leading empty part stays
		{def: "status=FEIL&&direction=INCOMING", syntax: true},
		{def: "status=FE\nIL", syntax: true},
		{def: "foo=bar", unknown: "foo"},
		{def: "Status=FEIL", unknown: "Status"}, // names are case-sensitive
		{def: "status=FEIL&messageId=x", unknown: "messageId"},
	} {
		f, err := ParseFilter(tc.def)
		var se *SyntaxError
		var ue *UnknownFilterError
		switch {
		case tc.syntax:
			if !errors.As(err, &se) {
				t.Errorf("ParseFilter(%q) = %v, want a syntax error", tc.def, err)
			}
		case tc.unknown != "":
			if !errors.As(err, &ue) || ue.Name != tc.unknown || err.Error() != "Unknown filter name: "+tc.unknown+"." {
				t.Errorf("ParseFilter(%q) = %v, want unknown filter %s", tc.def, err, tc.unknown)
			}
		case err != nil:
			t.Errorf("ParseFilter(%q): %v", tc.def, err)
		case len(f.parts) != tc.parts:
			t.Errorf("ParseFilter(%q) has %d parts, want %d", tc.def, len(f.parts), tc.parts)
		}
	}
	_, err := ParseFilter("status!=FEIL")
	if want := `The filter part "status!=FEIL", do not match the expected regexp: ^(\w+)(=)(.+)$`; err == nil || err.Error() != want {
		t.Errorf("syntax error message = %v, want %s", err, want)
	}
}

func statusEvent(status wire.ReceiptStatus, direction, service, description string) store.StatusEvent {
	return store.StatusEvent{
		Status:       store.Status{Status: status, Description: description, MessageID: "m-1", ConversationID: "c-1"},
		Conversation: store.Conversation{MessageID: "m-1", ConversationID: "c-1", Direction: direction, ServiceIdentifier: service},
	}
}

func TestFilterMatches(t *testing.T) {
	t.Parallel()
	now := time.Now()
	feil := StatusEventOf(statusEvent(wire.StatusFeil, store.Incoming, "DPO", ""), now)
	noService := StatusEventOf(statusEvent(wire.StatusFeil, store.Incoming, "", ""), now)
	for _, tc := range []struct {
		def  string
		e    Event
		want bool
	}{
		{"status=FEIL", feil, true},
		{"status=feil", feil, true}, // values ignore case
		{"status=LEST,FEIL", feil, true},
		{"status=LEST", feil, false},
		{"status=FEIL,", feil, true},
		{"status=FEILX", feil, false},
		{"direction=incoming", feil, true},
		{"direction=OUTGOING", feil, false},
		{"serviceIdentifier=dpi,dpo", feil, true},
		{"serviceIdentifier=DPV", feil, false},
		{"status=FEIL&direction=INCOMING&serviceIdentifier=DPO", feil, true},
		{"status=FEIL&direction=OUTGOING", feil, false},
		{"status=FEIL&status=LEST", feil, false}, // AND across parts
		{"&", feil, true},
		{"serviceIdentifier=DPO", noService, false},
		{"status=LEST", PingEvent(now), true}, // filters apply to status events only
	} {
		f, err := ParseFilter(tc.def)
		if err != nil {
			t.Fatalf("ParseFilter(%q): %v", tc.def, err)
		}
		if got := f.Matches(tc.e); got != tc.want {
			t.Errorf("%q matches %s/%s/%s = %v, want %v", tc.def, tc.e.Status, tc.e.Direction, tc.e.ServiceIdentifier, got, tc.want)
		}
	}
	if !(Filter{}).Matches(feil) {
		t.Error("the zero filter does not match")
	}
	f, _ := ParseFilter("status=FEIL")
	for _, tc := range []struct {
		resource, event string
		want            bool
	}{
		{"all", "all", true}, {"messages", "status", true}, {"messages", "all", true}, {"all", "status", true},
		{"other", "all", false}, {"all", "ping", false},
	} {
		if got := Accepts(tc.resource, tc.event, f, feil); got != tc.want {
			t.Errorf("Accepts(%s, %s) = %v, want %v", tc.resource, tc.event, got, tc.want)
		}
	}
}

func TestEventJSON(t *testing.T) {
	t.Parallel()
	at := time.Date(2019, 3, 25, 11, 38, 23, 0, time.UTC)
	got := string(StatusEventOf(statusEvent(wire.StatusLevetidUtlopt, store.Incoming, "DPO",
		"Levetiden for meldingen er utgått. Må sendes på nytt"), at).JSON())
	want := `{
  "createdTs": "2019-03-25T12:38:23+01:00",
  "resource": "messages",
  "event": "status",
  "messageId": "m-1",
  "conversationId": "c-1",
  "direction": "INCOMING",
  "serviceIdentifier": "DPO",
  "status": "LEVETID_UTLOPT",
  "description": "Levetiden for meldingen er utgått. Må sendes på nytt"
}`
	if got != want {
		t.Errorf("status event JSON:\n%s\nwant\n%s", got, want)
	}
	got = string(StatusEventOf(statusEvent(wire.StatusOpprettet, store.Outgoing, "DPO", ""), at).JSON())
	if want := `"status": "OPPRETTET"` + "\n}"; got[len(got)-len(want):] != want {
		t.Errorf("event without description:\n%s", got)
	}
	got = string(PingEvent(at.Add(625 * time.Millisecond)).JSON())
	want = `{
  "createdTs": "2019-03-25T12:38:23.625+01:00",
  "event": "ping"
}`
	if got != want {
		t.Errorf("ping JSON:\n%s\nwant\n%s", got, want)
	}
}

func TestRingDropsOldest(t *testing.T) {
	t.Parallel()
	r := newRing[int](3)
	for i := 1; i <= 3; i++ {
		if _, dropped := r.push(i); dropped {
			t.Fatalf("push %d dropped", i)
		}
	}
	if old, dropped := r.push(4); !dropped || old != 1 {
		t.Fatalf("push 4 into a full ring dropped %d, %v; want 1", old, dropped)
	}
	if v, _ := r.pop(); v != 2 {
		t.Fatalf("pop = %d, want 2", v)
	}
	r.push(5)
	if got := r.drain(); len(got) != 3 || got[0] != 3 || got[1] != 4 || got[2] != 5 {
		t.Fatalf("drain = %v, want [3 4 5]", got)
	}
	if _, ok := r.pop(); ok {
		t.Fatal("pop from an empty ring")
	}
}
