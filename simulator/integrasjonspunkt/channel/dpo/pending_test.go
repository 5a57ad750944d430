package dpo

import (
	"context"
	"errors"
	"testing"

	dposim "github.com/efm-harness/efm-harness/simulator/dpo"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// dies is a handler of a process that dies while it takes a message: before storing it, or after
// storing it but before the download is confirmed.
type dies struct {
	afterStoring bool
	next         Handler
}

func (d *dies) Handle(ctx context.Context, sbd *wire.StandardBusinessDocument, asic []byte, s wire.ServiceIdentifier) error {
	if d.afterStoring {
		if err := d.next.Handle(ctx, sbd, asic, s); err != nil {
			return err
		}
	}
	return errors.New("killed")
}

// TestDownloadsADeadProcessStartedAreTakenUp: a process that dies between a transfer's download and its
// confirm leaves it DownloadStarted at the broker, which then no longer lists it; the next process on the
// same store takes it up by id, stores it once and confirms it.
func TestDownloadsADeadProcessStartedAreTakenUp(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name         string
		afterStoring bool
	}{
		{"dies before storing", false},
		{"dies after storing", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			a, b := w.channel(orgA), w.ip(orgB)
			ctx := context.Background()
			msg, files := arkivmelding(t)
			id := w.send(a, msg, files, orgB)

			dead := NewPoller(b.ch, &dies{afterStoring: tt.afterStoring, next: b.inbound}).WithPendingStore(b.store)
			if n, err := dead.Poll(ctx); err == nil || n != 0 {
				t.Fatalf("poll of the dying process: %d %v", n, err)
			}
			if s := w.recipientStatus(id, orgB); s != dposim.RecipientDownloadStarted {
				t.Fatalf("recipient status after the crash %q, want %q", s, dposim.RecipientDownloadStarted)
			}
			if n, err := NewPoller(b.ch, b.inbound).Poll(ctx); err != nil || n != 0 {
				t.Fatalf("a poller without the store: %d %v, want nothing listed", n, err)
			}
			restarted := NewPoller(b.ch, b.inbound).WithPendingStore(b.store)
			if n, err := restarted.Poll(ctx); err != nil || n != 1 {
				t.Fatalf("poll after the restart: %d %v, want the transfer", n, err)
			}
			if s := w.recipientStatus(id, orgB); s != dposim.RecipientDownloadConfirmed {
				t.Errorf("recipient status %q, want %q", s, dposim.RecipientDownloadConfirmed)
			}
			page, total, err := b.store.IncomingPage(ctx, store.Filter{}, store.PageRequest{Size: 10})
			if err != nil || total != 1 || page[0].MessageID != msg.MessageID() || !page[0].HasASiC {
				t.Errorf("in-queue %+v (%d, %v), want the message once with its container", page, total, err)
			}
			if ids, err := b.store.PendingDownloads(ctx, string(wire.ServiceDPO), orgB); err != nil || len(ids) != 0 {
				t.Errorf("pending downloads after the confirm: %v %v, want none", ids, err)
			}
			if n, err := restarted.Poll(ctx); err != nil || n != 0 {
				t.Errorf("next round: %d %v, want nothing", n, err)
			}
		})
	}
}
