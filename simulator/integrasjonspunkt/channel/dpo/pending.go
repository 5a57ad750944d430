package dpo

import (
	"context"
	"fmt"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

// PendingStore keeps, durably, the transfers whose download started and was not confirmed;
// *store.Store is one. Without it the Poller remembers them in memory only, and a process that dies
// between download and confirm never sees those transfers again: the broker no longer lists them
// under recipientStatus=Initialized.
type PendingStore interface {
	AddPendingDownload(ctx context.Context, channel, org, id string) error
	RemovePendingDownload(ctx context.Context, channel, org, id string) error
	PendingDownloads(ctx context.Context, channel, org string) ([]string, error)
}

// WithPendingStore makes p keep its unconfirmed downloads in ps as well, and take up those an earlier
// process left there; it returns p. Call it before Run.
func (p *Poller) WithPendingStore(ps PendingStore) *Poller {
	p.durable = ps
	return p
}

// setPending remembers (before a download starts) or forgets (after the confirm, or when the broker
// refuses the transfer for good) an unconfirmed transfer of org. An error remembering it means the
// download must not start.
func (p *Poller) setPending(ctx context.Context, org, id string, on bool) error {
	if on {
		if p.durable != nil {
			if err := p.durable.AddPendingDownload(ctx, string(wire.ServiceDPO), org, id); err != nil {
				return fmt.Errorf("remember the download of %s: %w", id, err)
			}
		}
		if p.pending[org] == nil {
			p.pending[org] = map[string]bool{}
		}
		p.pending[org][id] = true
		return nil
	}
	delete(p.pending[org], id)
	if p.durable != nil {
		// Forgetting fails only with the store; the transfer is then fetched once more and found a
		// duplicate.
		if err := p.durable.RemovePendingDownload(ctx, string(wire.ServiceDPO), org, id); err != nil {
			p.log.Warn("pending download not forgotten", "org", org, "file_transfer_id", id, "err", err)
		}
	}
	return nil
}

// loadPending adds to the pending transfers of org those the store holds (an earlier process's).
func (p *Poller) loadPending(ctx context.Context, org string) error {
	if p.durable == nil || p.loaded[org] {
		return nil
	}
	ids, err := p.durable.PendingDownloads(ctx, string(wire.ServiceDPO), org)
	if err != nil {
		return err
	}
	if len(ids) > 0 {
		p.log.Warn("taking up downloads an earlier process started and did not confirm", "org", org, "count", len(ids))
	}
	if p.pending[org] == nil {
		p.pending[org] = map[string]bool{}
	}
	for _, id := range ids {
		p.pending[org][id] = true
	}
	p.loaded[org] = true
	return nil
}
