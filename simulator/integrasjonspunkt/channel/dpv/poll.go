package dpv

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Correspondence statuses of the Altinn 3 Correspondence API.
const (
	StatusInitialized           = "Initialized"
	StatusReadyForPublish       = "ReadyForPublish"
	StatusPublished             = "Published"
	StatusFetched               = "Fetched"
	StatusAttachmentsDownloaded = "AttachmentsDownloaded"
	StatusRead                  = "Read"
	StatusPurgedByRecipient     = "PurgedByRecipient"
	StatusPurgedByAltinn        = "PurgedByAltinn"
)

// Overview is what the status polling reads of GET /correspondence/{id} (CorrespondenceOverviewExt).
type Overview struct {
	CorrespondenceID string `json:"correspondenceId"`
	Status           string `json:"status"`
	Created          string `json:"created"`
	StatusChanged    string `json:"statusChanged"`
	Published        string `json:"published"`
	Read             string `json:"read"`
}

// Poller is the DPV status polling (DpvStatusStrategy, spec upstreams §5.4), a polling.StatusPoller.
type Poller struct {
	c   *Channel
	mu  sync.Mutex
	ids map[string]string // messageId → correspondenceId, found by sendersReference
}

// Poller makes the channel's status poller.
func (c *Channel) Poller() *Poller { return &Poller{c: c, ids: map[string]string{}} }

// Poll finds the conversation's correspondence (its external reference, else by sendersReference =
// messageId) and maps its overview: published → LEVERT, read → LEST (with LEVERT first if it is
// missing), purged → ANNET and stop, a status it does not know → ANNET; Initialized, ReadyForPublish,
// Fetched and AttachmentsDownloaded say nothing. 404 or 410 → ANNET "Melding slettet i Altinn, stopper
// polling." and stop. A receipt (never uploaded) gets LEVERT and LEST at once.
func (p *Poller) Poll(ctx context.Context, conv store.Conversation) ([]store.StatusChange, error) {
	no := false
	if t, ok := wire.MessageTypeOfStandard(conv.DocumentIdentifier); ok && IsReceipt(t) {
		return []store.StatusChange{{Status: wire.StatusLevert}, {Status: wire.StatusLest, Pollable: &no}}, nil
	}
	id, err := p.correspondenceID(ctx, conv)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, fmt.Errorf("no correspondence with sendersReference %s (yet)", conv.MessageID)
	}
	raw, status, err := p.c.do(ctx, http.MethodGet, p.c.opts.CorrespondenceURL+"/correspondence/"+url.PathEscape(id), "", nil)
	if status == http.StatusNotFound || status == http.StatusGone {
		return []store.StatusChange{{Status: wire.StatusAnnet, Description: DescriptionDeleted, Pollable: &no}}, nil
	}
	if err != nil {
		return nil, err
	}
	var ov Overview
	if err := json.Unmarshal(raw, &ov); err != nil {
		return nil, fmt.Errorf("correspondence %s overview: %w", id, err)
	}
	return Map(ov), nil
}

// Map turns an overview into the statuses to register, in order.
func Map(ov Overview) []store.StatusChange {
	var out []store.StatusChange
	no := false
	if ov.Published != "" {
		out = append(out, store.StatusChange{Status: wire.StatusLevert, At: parseTime(ov.Published)})
	}
	if ov.Read != "" {
		if ov.Published == "" {
			out = append(out, store.StatusChange{Status: wire.StatusLevert, At: parseTime(ov.Read)})
		}
		out = append(out, store.StatusChange{Status: wire.StatusLest, At: parseTime(ov.Read)})
	}
	switch ov.Status {
	case StatusPurgedByRecipient, StatusPurgedByAltinn:
		out = append(out, store.StatusChange{Status: wire.StatusAnnet, Description: ov.Status, At: parseTime(ov.StatusChanged), Pollable: &no})
	case "", StatusInitialized, StatusReadyForPublish, StatusPublished, StatusFetched, StatusAttachmentsDownloaded, StatusRead:
	default:
		out = append(out, store.StatusChange{Status: wire.StatusAnnet, Description: "Unknown correspondence status: " + ov.Status,
			At: parseTime(ov.StatusChanged)})
	}
	return out
}

func (p *Poller) correspondenceID(ctx context.Context, conv store.Conversation) (string, error) {
	if conv.ExternalSystemReference != "" {
		return conv.ExternalSystemReference, nil
	}
	p.mu.Lock()
	id := p.ids[conv.MessageID]
	p.mu.Unlock()
	if id != "" {
		return id, nil
	}
	ids, err := p.c.Search(ctx, conv.MessageID)
	if err != nil || len(ids) == 0 {
		return "", err
	}
	p.mu.Lock()
	p.ids[conv.MessageID] = ids[0]
	p.mu.Unlock()
	return ids[0], nil
}

// parseTime reads an Altinn timestamp; one without offset is UTC. Unreadable is zero (now).
func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}
