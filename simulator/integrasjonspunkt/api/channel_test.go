package api

import (
	"context"
	"testing"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// A kvittering the archive system sends takes the message channel of the message it answers.
func TestKvitteringTakesTheMessageChannel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	answered := "0d7e7d0c-6a53-4a57-9a77-2c1a1f2a6b01"
	if err := e.store.RememberMessageChannel(context.Background(), answered, "kanal-7"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		related, want string
	}{{answered, "kanal-7"}, {"11111111-2222-3333-4444-555555555555", ""}} {
		sbd := fixtures.MustSBD(wire.TypeArkivmeldingKvittering, fixtures.SBDSpec{Receiver: dpoOrg, RelatedTo: tt.related})
		got := e.mustCreate(sbd)
		if ch := got.MessageChannel(); ch != tt.want {
			t.Errorf("kvittering for %s: message channel %q, want %q", tt.related, ch, tt.want)
		}
	}
}
