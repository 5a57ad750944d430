package dpi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Descriptions of DPI statuses, as the real IP's MessageStatusMapper writes them.
const (
	DescriptionCorner3             = "Hjørne 3 har mottatt meldingen"
	DescriptionFeil                = "Generell melding om at det har skjedd en feil"
	DescriptionLeveringskvittering = "Kvittering på at digital post er tilgjengeliggjort eller at fysisk post er klargjort for utskrift"
	DescriptionAapningskvittering  = "Kvittering fra Innbygger for at digital post er åpnet"
	DescriptionVarslingfeilet      = "Kvittering for at en spesifisert varsling ikke har blitt sendt"
	DescriptionMottakskvittering   = "Kvittering fra utskrift og forsendelsestjenesten om at melding er mottatt og lagt til print"
	DescriptionReturpost           = "Kvittering fra utskrift og forsendelsestjenesten om at posten ikke har blitt levert til Mottaker."
	DescriptionUkjent              = "Ukjent kvittering"
)

// Poller is the DPI status polling (DpiStatusStrategy, spec upstreams §7.3), a polling.StatusPoller:
// corner 2's SENDT gives MOTTATT, FEILET gives FEIL; polling stops at either, and at LEVERT (a
// receipt may come first).
type Poller struct{ c *Channel }

// Poller makes the channel's status poller.
func (c *Channel) Poller() *Poller { return &Poller{c: c} }

// Poll asks corner 2 for the statuses of the conversation's message.
func (p *Poller) Poll(ctx context.Context, conv store.Conversation) ([]store.StatusChange, error) {
	no := false
	for _, s := range conv.Statuses {
		if s.Status == wire.StatusMottatt || s.Status == wire.StatusLevert {
			return []store.StatusChange{{Status: s.Status, Pollable: &no}}, nil
		}
	}
	raw, err := p.c.do(ctx, "", http.MethodGet, p.c.opts.URI+"/messages/out/"+url.PathEscape(conv.MessageID)+"/statuses", "", nil)
	if err != nil {
		return nil, err
	}
	var statuses []wire.DPIStatus
	if err := json.Unmarshal(raw, &statuses); err != nil {
		return nil, fmt.Errorf("DPI statuses of %s: %w", conv.MessageID, err)
	}
	return Map(statuses), nil
}

// Map turns corner 2's statuses into the statuses to register: SENDT → MOTTATT (at its timestamp) and
// stop; FEILET → FEIL and stop; OPPRETTET says what SENDT already says.
func Map(statuses []wire.DPIStatus) []store.StatusChange {
	no := false
	for _, s := range statuses {
		at, _ := time.Parse(time.RFC3339Nano, s.Timestamp)
		switch s.Status {
		case wire.DPICorner2StatusFeilet:
			return []store.StatusChange{{Status: wire.StatusFeil, Description: DescriptionFeil, At: at, Pollable: &no}}
		case wire.DPICorner2StatusSendt:
			return []store.StatusChange{{Status: wire.StatusMottatt, Description: DescriptionCorner3, At: at, Pollable: &no}}
		}
	}
	return nil
}
