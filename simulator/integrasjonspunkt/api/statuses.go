package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// messageStatusView is the MessageStatus JSON of /api/statuses (spec ip-api §6.3).
type messageStatusView struct {
	ID             int64               `json:"id"`
	LastUpdate     wire.OffsetDateTime `json:"lastUpdate"`
	Status         wire.ReceiptStatus  `json:"status"`
	Description    string              `json:"description,omitempty"`
	RawReceipt     string              `json:"rawReceipt,omitempty"`
	ConvID         int64               `json:"convId"`
	ConversationID string              `json:"conversationId"`
	MessageID      string              `json:"messageId"`
}

// oslo is t as an OffsetDateTime in Europe/Oslo.
func oslo(t time.Time) wire.OffsetDateTime { return wire.NewOffsetDateTime(t.In(wire.Oslo())) }

// statusView renders a stored status.
func statusView(s store.Status) messageStatusView {
	return messageStatusView{ID: s.ID, LastUpdate: oslo(s.LastUpdate), Status: s.Status, Description: s.Description,
		RawReceipt: s.RawReceipt, ConvID: s.ConvID, ConversationID: s.ConversationID, MessageID: s.MessageID}
}

// statusDefaultSort is the default sort of the status endpoints: id ascending.
var statusDefaultSort = []store.SortOrder{{Property: "id"}}

// listStatuses serves GET /api/statuses: exact filters id, messageId, conversationId and status, and
// lastUpdate between fromDateTime and toDateTime when both are given.
func (a *API) listStatuses(r *http.Request) response {
	q := r.URL.Query()
	f := store.Filter{Equals: equalsFilter(q, "id", "messageId", "conversationId", "status")}
	if err := checkLongs("messageStatusQueryInput", "id", f.Equals["id"]); err != nil {
		return fail(err)
	}
	var bounds [2]time.Time
	for i, key := range []string{"fromDateTime", "toDateTime"} {
		v := q.Get(key)
		if v == "" {
			continue
		}
		t, err := parseQueryDateTime(v)
		if err != nil {
			return fail(errBinding("messageStatusQueryInput", key, "java.time.OffsetDateTime", v, fmt.Sprintf(
				"Failed to convert from type [java.lang.String] to type [@org.springframework.format.annotation.DateTimeFormat java.time.OffsetDateTime] for value [%s]", v)))
		}
		bounds[i] = t.Time
	}
	if !bounds[0].IsZero() && !bounds[1].IsZero() {
		f.TimeProperty, f.From, f.To = "lastUpdate", bounds[0], bounds[1]
	}
	return a.statusPage(r, f)
}

// statusesOfMessage serves GET /api/statuses/{messageId}: a page of one message's statuses (an empty page
// for an unknown messageId).
func (a *API) statusesOfMessage(r *http.Request) response {
	resp := a.statusPage(r, store.Filter{Equals: map[string][]string{"messageId": {mux.Vars(r)["messageId"]}}})
	resp.contentType = "application/json; charset=utf-8"
	return resp
}

// statusPage answers a page of statuses matching f.
func (a *API) statusPage(r *http.Request, f store.Filter) response {
	p, sorted, err := pageRequest(r.URL.Query(), statusEntity, statusDefaultSort)
	if err != nil {
		return fail(err)
	}
	sts, total, err := a.opts.Store.Statuses(r.Context(), f, p)
	if err != nil {
		return fail(errInternal(err))
	}
	content := make([]messageStatusView, 0, len(sts))
	for _, s := range sts {
		content = append(content, statusView(s))
	}
	return ok(wire.NewPage(content, p.Page, p.Size, total, sorted))
}

// peekStatus serves GET /api/statuses/peek: the oldest queued status, or 204 with no body.
func (a *API) peekStatus(r *http.Request) response {
	st, found, err := a.opts.Store.PeekStatusQueue(r.Context())
	if err != nil {
		return fail(errInternal(err))
	}
	if !found {
		return empty(http.StatusNoContent)
	}
	return ok(statusView(st))
}

// deleteQueuedStatus serves DELETE /api/statuses/{id}: 200 when the status was queued, 404 otherwise,
// both without body.
func (a *API) deleteQueuedStatus(r *http.Request) response {
	id, err := pathLong("id", mux.Vars(r)["id"])
	if err != nil {
		return fail(err)
	}
	removed, err := a.opts.Store.DeleteFromStatusQueue(r.Context(), id)
	if err != nil {
		return fail(errInternal(err))
	}
	if !removed {
		return empty(http.StatusNotFound)
	}
	return empty(http.StatusOK)
}
