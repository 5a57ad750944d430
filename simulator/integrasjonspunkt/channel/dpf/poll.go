package dpf

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

// SvarUt forsendelse statuses the poller acts on.
const (
	StatusLest   = "LEST"
	StatusAvvist = "AVVIST"
)

// ForsendelseStatus is one element of the status search's statuser.
type ForsendelseStatus struct {
	ID                 string `json:"id"`
	Status             string `json:"status"`
	SisteStatusEndring string `json:"sisteStatusEndring"`
}

// Poller is the DPF status polling (DpfStatusStrategy, spec upstreams §6.4), a polling.StatusPoller.
type Poller struct{ c *Channel }

// Poller makes the channel's status poller.
func (c *Channel) Poller() *Poller { return &Poller{c: c} }

// Poll asks SvarUt for the status of the conversation's forsendelse — the id SvarUt returned, else the
// one it finds by eksternRef (the messageId) — and maps it: LEST → LEST (and polling stops), AVVIST →
// FEIL; every other status says nothing yet. A forsendelse SvarUt does not know → FEIL
// "forsendelseId finnes ikke i SvarUt.".
func (p *Poller) Poll(ctx context.Context, conv store.Conversation) ([]store.StatusChange, error) {
	no := false
	org := conv.SenderIdentifier
	acct, err := p.c.Account(org)
	if err != nil {
		return []store.StatusChange{{Status: wire.StatusFeil, Description: err.Error(), Pollable: &no}}, nil
	}
	unknown := []store.StatusChange{{Status: wire.StatusFeil, Description: DescriptionUnknown, Pollable: &no}}
	id := conv.ExternalSystemReference
	if id == "" {
		ids, err := p.c.ByEksternRef(ctx, acct, org, conv.MessageID)
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			return unknown, nil
		}
		id = ids[0]
	}
	statuses, err := p.c.Statuses(ctx, acct, org, []string{id})
	if err != nil {
		return nil, err
	}
	for _, s := range statuses {
		if s.ID != id {
			continue
		}
		return Map(s), nil
	}
	return unknown, nil
}

// Map turns a SvarUt status into the statuses to register.
func Map(s ForsendelseStatus) []store.StatusChange {
	no := false
	at, _ := time.Parse("2006-01-02T15:04:05.999999999Z07:00", s.SisteStatusEndring)
	switch s.Status {
	case StatusLest:
		return []store.StatusChange{{Status: wire.StatusLest, At: at, Pollable: &no}}
	case StatusAvvist:
		return []store.StatusChange{{Status: wire.StatusFeil, Description: DescriptionAvvist, At: at, Pollable: &no}}
	}
	return nil
}

// Statuses asks SvarUt for the statuses of the sender's forsendelser ids.
func (c *Channel) Statuses(ctx context.Context, acct Account, org string, ids []string) ([]ForsendelseStatus, error) {
	body, _ := json.Marshal(map[string][]string{"forsendelseIds": ids})
	u := c.opts.SvarUtURL + "/api/v3/kontoer/" + url.PathEscape(acct.KontoID) + "/forsendelser/status/sok"
	raw, err := c.do(ctx, acct, org, http.MethodPost, u, "application/json", body)
	if err != nil {
		return nil, err
	}
	var out struct {
		Statuser []ForsendelseStatus `json:"statuser"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("SvarUt status answer: %w", err)
	}
	return out.Statuser, nil
}
