package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// conversationStatusView is a status inside a Conversation (the Conversation JSON view).
type conversationStatusView struct {
	ID          int64               `json:"id"`
	LastUpdate  wire.OffsetDateTime `json:"lastUpdate"`
	Status      wire.ReceiptStatus  `json:"status"`
	Description string              `json:"description,omitempty"`
}

// conversationView is the Conversation JSON (spec ip-api §6.5); pollable is never written.
type conversationView struct {
	ID                      int64                    `json:"id"`
	ConversationID          string                   `json:"conversationId"`
	MessageID               string                   `json:"messageId"`
	Sender                  string                   `json:"sender,omitempty"`
	SenderIdentifier        string                   `json:"senderIdentifier,omitempty"`
	Receiver                string                   `json:"receiver,omitempty"`
	ReceiverIdentifier      string                   `json:"receiverIdentifier,omitempty"`
	ProcessIdentifier       string                   `json:"processIdentifier,omitempty"`
	DocumentIdentifier      string                   `json:"documentIdentifier,omitempty"`
	MessageReference        string                   `json:"messageReference"`
	MessageTitle            string                   `json:"messageTitle"`
	LastUpdate              wire.OffsetDateTime      `json:"lastUpdate"`
	Finished                bool                     `json:"finished"`
	Expiry                  *wire.OffsetDateTime     `json:"expiry,omitempty"`
	Direction               string                   `json:"direction"`
	ServiceIdentifier       string                   `json:"serviceIdentifier,omitempty"`
	ExternalSystemReference string                   `json:"externalSystemReference,omitempty"`
	MessageStatuses         []conversationStatusView `json:"messageStatuses"`
}

// conversationViewOf renders a stored conversation.
func conversationViewOf(c store.Conversation) conversationView {
	v := conversationView{ID: c.ID, ConversationID: c.ConversationID, MessageID: c.MessageID, Sender: c.Sender,
		SenderIdentifier: c.SenderIdentifier, Receiver: c.Receiver, ReceiverIdentifier: c.ReceiverIdentifier,
		ProcessIdentifier: c.ProcessIdentifier, DocumentIdentifier: c.DocumentIdentifier,
		MessageReference: c.MessageReference, MessageTitle: c.MessageTitle, LastUpdate: oslo(c.LastUpdate),
		Finished: c.Finished, Direction: c.Direction, ServiceIdentifier: c.ServiceIdentifier,
		ExternalSystemReference: c.ExternalSystemReference, MessageStatuses: []conversationStatusView{}}
	if !c.Expiry.IsZero() {
		e := oslo(c.Expiry)
		v.Expiry = &e
	}
	for _, s := range c.Statuses {
		v.MessageStatuses = append(v.MessageStatuses, conversationStatusView{ID: s.ID, LastUpdate: oslo(s.LastUpdate),
			Status: s.Status, Description: s.Description})
	}
	return v
}

// conversationDefaultSort is the default sort of the conversation endpoints: lastUpdate descending.
var conversationDefaultSort = []store.SortOrder{{Property: "lastUpdate", Desc: true}}

// conversationFilterKeys are the exact-match filters of GET /api/conversations.
var conversationFilterKeys = []string{"conversationId", "messageId", "receiver", "receiverIdentifier", "sender",
	"senderIdentifier", "serviceIdentifier", "messageReference", "messageTitle", "direction"}

// listConversations serves GET /api/conversations (spec ip-api §6.5).
func (a *API) listConversations(r *http.Request) response {
	q := r.URL.Query()
	const object = "conversationQueryInput"
	f := store.Filter{Equals: equalsFilter(q, conversationFilterKeys...), Bools: map[string]bool{}}
	if err := checkServices(f.Equals["serviceIdentifier"]); err != nil {
		return fail(err)
	}
	for _, d := range f.Equals["direction"] {
		if d != store.Outgoing && d != store.Incoming {
			return fail(errBinding(object, "direction", "no.difi.meldingsutveksling.nextmove.ConversationDirection", d, fmt.Sprintf(
				"Failed to convert from type [java.lang.String] to type [no.difi.meldingsutveksling.nextmove.ConversationDirection] for value [%s]", d)))
		}
	}
	for _, key := range []string{"pollable", "finished"} {
		v := q.Get(key)
		if v == "" {
			continue
		}
		b, ok := springBool(v)
		if !ok {
			return fail(errBinding(object, key, "java.lang.Boolean", v, fmt.Sprintf(
				"Failed to convert from type [java.lang.String] to type [java.lang.Boolean] for value [%s]; Invalid boolean value [%s]", v, v)))
		}
		f.Bools[key] = b
	}
	for _, key := range []string{"lastUpdateFrom", "lastUpdateTo"} {
		v := q.Get(key)
		if v == "" {
			continue
		}
		d, err := wire.ParseLocalDate(v)
		if err != nil {
			return fail(errBinding(object, key, "java.time.LocalDate", v, fmt.Sprintf(
				"Failed to convert from type [java.lang.String] to type [@org.springframework.format.annotation.DateTimeFormat java.time.LocalDate] for value [%s]", v)))
		}
		f.TimeProperty = "lastUpdate"
		if key == "lastUpdateFrom" {
			f.From = d.In(wire.Oslo())
		} else {
			f.To = d.In(wire.Oslo()).AddDate(0, 0, 1).Add(-time.Nanosecond)
		}
	}
	return a.conversationPage(r, f, false)
}

// conversationQueue serves GET /api/conversations/queue: the conversations awaiting status polling.
func (a *API) conversationQueue(r *http.Request) response {
	return a.conversationPage(r, store.Filter{}, true)
}

// conversationPage answers a page of conversations matching f.
func (a *API) conversationPage(r *http.Request, f store.Filter, pollableOnly bool) response {
	p, sorted, err := pageRequest(r.URL.Query(), conversationEntity, conversationDefaultSort)
	if err != nil {
		return fail(err)
	}
	cs, total, err := a.opts.Store.Conversations(r.Context(), f, p, pollableOnly)
	if err != nil {
		return fail(errInternal(err))
	}
	content := make([]conversationView, 0, len(cs))
	for _, c := range cs {
		content = append(content, conversationViewOf(c))
	}
	return ok(wire.NewPage(content, p.Page, p.Size, total, sorted))
}

// conversationByID serves GET /api/conversations/{id}: outgoing conversations only.
func (a *API) conversationByID(r *http.Request) response {
	id, err := pathLong("id", mux.Vars(r)["id"])
	if err != nil {
		return fail(err)
	}
	c, err := a.opts.Store.ConversationByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || err == nil && c.Direction != store.Outgoing {
		return fail(errConversationNotFound(id))
	}
	if err != nil {
		return fail(errInternal(err))
	}
	return ok(conversationViewOf(c))
}

// conversationByMessageID serves GET /api/conversations/messageId/{messageId}: the outgoing conversation.
func (a *API) conversationByMessageID(r *http.Request) response {
	messageID := mux.Vars(r)["messageId"]
	c, err := a.opts.Store.ConversationByMessageID(r.Context(), messageID, store.Outgoing)
	if errors.Is(err, store.ErrNotFound) {
		return fail(errMessageNotFound(messageID))
	}
	if err != nil {
		return fail(errInternal(err))
	}
	return ok(conversationViewOf(c))
}

// deleteConversationByID serves DELETE /api/conversations/{id}; a missing conversation is fine.
func (a *API) deleteConversationByID(r *http.Request) response {
	id, err := pathLong("id", mux.Vars(r)["id"])
	if err != nil {
		return fail(err)
	}
	if err := a.opts.Store.DeleteConversationByID(r.Context(), id); err != nil {
		return fail(errInternal(err))
	}
	return empty(http.StatusOK)
}

// deleteConversationsByMessageID serves DELETE /api/conversations/messageId/{messageId}.
func (a *API) deleteConversationsByMessageID(r *http.Request) response {
	if err := a.opts.Store.DeleteConversationsByMessageID(r.Context(), mux.Vars(r)["messageId"]); err != nil {
		return fail(errInternal(err))
	}
	return empty(http.StatusOK)
}
