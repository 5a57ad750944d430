package dpo

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel"
)

// referenceSpace is the name space of the sendersFileTransferReference of an ordinary message.
var referenceSpace = uuid.MustParse("5d3c4b1e-6a43-4d0e-9f0a-2f4d8f0e6c21")

// transferReference is the sendersFileTransferReference of the message messageID: a UUID, as the real
// IP sends (a fresh random one there), but the same one on every attempt, so that a later attempt can
// find the transfer of an earlier one whose answer was lost.
func transferReference(messageID string) string {
	return uuid.NewSHA1(referenceSpace, []byte("dpo-transfer:"+messageID)).String()
}

// earlierTransfer is a file transfer an earlier attempt of a message made.
type earlierTransfer struct {
	ID      string
	Status  string
	ref     string
	created time.Time
}

// uploaded reports whether the transfer holds its file already (Published or later).
func (t earlierTransfer) uploaded() bool {
	switch t.Status {
	case "Initialized", "UploadStarted", "":
		return false
	}
	return true
}

// lookbackSlack is how far before the message's creation the lookup of an earlier attempt's transfer
// starts: room for clocks that disagree.
const lookbackSlack = time.Minute

// maxLookupPages bounds the pages of the broker's list that a lookup reads, and listCap is the most ids
// Altinn lists at once.
const (
	maxLookupPages = 20
	listCap        = 100
)

// findEarlier asks the broker for a transfer that sender made with the reference ref since the message
// was created: GET /filetransfer?resourceId=&role=Sender&from=&orderAscending=true, then each overview
// until one has ref, paging on from while the broker answers full pages. Found is false when there is
// none.
func (c *Channel) findEarlier(ctx context.Context, sender, ref string, created time.Time) (earlierTransfer, bool, error) {
	from := created.Add(-lookbackSlack)
	seen := map[string]bool{}
	for range maxLookupPages {
		q := url.Values{"resourceId": {c.opts.Resource}, "role": {"Sender"}, "orderAscending": {"true"},
			"from": {from.UTC().Format(time.RFC3339Nano)}}
		var ids []string
		if err := c.call(ctx, sender, ScopeRead, http.MethodGet, c.opts.BrokerURL+"/filetransfer?"+q.Encode(), "", nil, &ids); err != nil {
			return earlierTransfer{}, false, err
		}
		fresh := 0
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id], fresh = true, fresh+1
			t, err := c.overview(ctx, sender, id)
			if err != nil {
				return earlierTransfer{}, false, err
			}
			if t.ref == ref {
				return t, true, nil
			}
			if t.created.After(from) {
				from = t.created
			}
		}
		if fresh == 0 || len(ids) < listCap {
			break
		}
	}
	return earlierTransfer{}, false, nil
}

// overview reads a transfer's overview (GET /filetransfer/{id}).
func (c *Channel) overview(ctx context.Context, sender, id string) (earlierTransfer, error) {
	var ov struct {
		SendersFileTransferReference *string   `json:"sendersFileTransferReference"`
		FileTransferStatus           string    `json:"fileTransferStatus"`
		Created                      time.Time `json:"created"`
	}
	if err := c.call(ctx, sender, ScopeRead, http.MethodGet, c.opts.BrokerURL+"/filetransfer/"+url.PathEscape(id), "", nil, &ov); err != nil {
		return earlierTransfer{}, err
	}
	t := earlierTransfer{ID: id, Status: ov.FileTransferStatus, created: ov.Created}
	if ov.SendersFileTransferReference != nil {
		t.ref = *ov.SendersFileTransferReference
	}
	return t, nil
}

// isConflict reports whether err is the broker's 409 (a second upload to a transfer, BRO-00004).
func isConflict(err error) bool {
	var p *channel.PermanentError
	return errors.As(err, &p) && errors.Is(err, errConflict)
}

// errConflict is wrapped by the permanent error of a 409 answer.
var errConflict = errors.New("conflict")
