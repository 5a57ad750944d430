package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/inbound"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// The incoming-message endpoints (spec ip-api §7): list, peek (lock), pop (download the ASiC-E) and
// delete (acknowledge) of the in-queue the channel pollers fill.

const (
	exMessageNotLocked = exPrefix + "MessageNotLockedException"

	// asicContentType is the media type of a popped container.
	asicContentType = "application/vnd.etsi.asic-e+zip"
	// defaultLockTimeout is difi.move.nextmove.lockTimeoutMinutes.
	defaultLockTimeout = 5 * time.Minute
)

// inFilterKeys are the filters of GET /api/messages/in and /peek (§7.1).
var inFilterKeys = []string{"conversationId", "messageId", "receiverIdentifier", "senderIdentifier", "serviceIdentifier", "process"}

// inMessageEntity is NextMoveInMessage for paging and sorting.
var inMessageEntity = entity{name: "NextMoveInMessage", sortable: props("id", "messageId", "conversationId",
	"processIdentifier", "receiverIdentifier", "senderIdentifier", "serviceIdentifier", "lastUpdated", "created", "lockTimeout")}

// errMessageNotLocked is 400 MessageNotLockedException: pop or delete of a message that is not locked.
func errMessageNotLocked(messageID string) *apiError {
	return newError(http.StatusBadRequest, exMessageNotLocked, "Message with messageId = "+messageID+" was not locked")
}

// incomingRoutes adds the incoming-message routes to r (trailing-slash variants such as
// /api/messages/in/peek/ are served by the middleware dropping the slash).
func (a *API) incomingRoutes(r *mux.Router, h func(handlerFunc) http.Handler, get []string) {
	in := inbound.New(inbound.Options{Store: a.opts.Store, StatusServices: a.opts.StatusServices,
		StatusQueue: a.opts.StatusQueue, OnStatus: func(ev store.StatusEvent) { a.emit(&ev) }, Wake: a.opts.OnSend,
		Logger: a.log, Now: a.opts.Now})
	r.Handle("/api/messages/in", h(a.listIncoming)).Methods(get...).Name("messages.in.list")
	r.Handle("/api/messages/in/peek", h(a.peekIncoming)).Methods(get...).Name("messages.in.peek")
	r.Handle("/api/messages/in/pop/{messageId}", asicDisposition(h(a.popIncoming))).Methods(get...).Name("messages.in.pop")
	r.Handle("/api/messages/in/{messageId}", h(func(r *http.Request) response { return a.deleteIncoming(r, in) })).
		Methods(http.MethodDelete).Name("messages.in.delete")
}

// inFilter reads the §7.1 filters.
func inFilter(r *http.Request) (store.Filter, error) {
	f := store.Filter{Equals: equalsFilter(r.URL.Query(), inFilterKeys...)}
	return f, checkServices(f.Equals["serviceIdentifier"])
}

// listIncoming serves GET /api/messages/in: a page of the in-queue, locked and unlocked (§7.2).
func (a *API) listIncoming(r *http.Request) response {
	f, err := inFilter(r)
	if err != nil {
		return fail(err)
	}
	p, sorted, err := pageRequest(r.URL.Query(), inMessageEntity, nil)
	if err != nil {
		return fail(err)
	}
	msgs, total, err := a.opts.Store.IncomingPage(r.Context(), f, p)
	if err != nil {
		return fail(errInternal(err))
	}
	content := make([]json.RawMessage, 0, len(msgs))
	for _, m := range msgs {
		content = append(content, json.RawMessage(m.SBD))
	}
	return ok(wire.NewPage(content, p.Page, p.Size, total, sorted))
}

// peekIncoming serves GET /api/messages/in/peek: lock the oldest unlocked message matching the filters
// and answer its SBD, or 204 with no body (§7.3).
func (a *API) peekIncoming(r *http.Request) response {
	f, err := inFilter(r)
	if err != nil {
		return fail(err)
	}
	lock := a.opts.LockTimeout
	if lock <= 0 {
		lock = defaultLockTimeout
	}
	m, found, err := a.opts.Store.Peek(r.Context(), f, lock)
	if err != nil {
		return fail(errInternal(err))
	}
	if !found {
		return empty(http.StatusNoContent)
	}
	return ok(json.RawMessage(m.SBD))
}

// popIncoming serves GET /api/messages/in/pop/{messageId}: the decrypted ASiC-E of a locked message;
// 204 for a receipt or a message without container (§7.4). A container that has gone missing removes the
// message with FEIL and answers 404, as the real IP does.
func (a *API) popIncoming(r *http.Request) response {
	ctx := r.Context()
	id := mux.Vars(r)["messageId"]
	m, err := a.opts.Store.Pop(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fail(errMessageNotFound(id))
	case errors.Is(err, store.ErrNotLocked):
		return fail(errMessageNotLocked(id))
	case err != nil:
		return fail(errInternal(err))
	}
	if wire.MessageType(m.MessageType).IsReceipt() || !m.HasASiC {
		return empty(http.StatusNoContent)
	}
	rc, err := a.opts.Store.OpenASiC(m)
	if errors.Is(err, store.ErrNotFound) {
		sender := m.SenderIdentifier
		if sbd, perr := wire.ParseSBD(m.SBD); perr == nil {
			sender = sbd.SenderIdentifier()
		}
		evs, derr := a.opts.Store.DiscardIncoming(ctx, id, store.StatusChange{Status: wire.StatusFeil, Description: fmt.Sprintf(
			`Can not read file "asic.zip" for message [messageId=%s, sender=%s], removing from queue.`, id, sender)}, a.opts.StatusQueue)
		if derr != nil && !errors.Is(derr, store.ErrNotFound) {
			return fail(errInternal(derr))
		}
		for i := range evs {
			a.emit(&evs[i])
		}
		return fail(errFileNotFound([]string{"asic.zip"}).withCause(err))
	}
	if err != nil {
		return fail(errInternal(err))
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return fail(errInternal(fmt.Errorf("read asic.zip of %s: %w", id, err)))
	}
	return response{status: http.StatusOK, raw: b, contentType: asicContentType}
}

// deleteIncoming serves DELETE /api/messages/in/{messageId}: acknowledge a locked message
// (INNKOMMENDE_LEVERT, LEVERT back to the sender) and answer its SBD (§7.5).
func (a *API) deleteIncoming(r *http.Request, in *inbound.Service) response {
	id := mux.Vars(r)["messageId"]
	m, err := in.Acknowledge(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fail(errMessageNotFound(id))
	case errors.Is(err, store.ErrNotLocked):
		return fail(errMessageNotLocked(id))
	case err != nil:
		return fail(errInternal(err))
	}
	return ok(json.RawMessage(m.SBD))
}

// asicDisposition adds "Content-Disposition: attachment; filename=asic.zip" to a popped container.
func asicDisposition(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&dispositionWriter{ResponseWriter: w}, r)
	})
}

// dispositionWriter sets the attachment header when a 200 with the ASiC-E media type is written.
type dispositionWriter struct {
	http.ResponseWriter
}

// WriteHeader adds the header before passing the status on.
func (w *dispositionWriter) WriteHeader(status int) {
	if status == http.StatusOK && w.Header().Get("Content-Type") == asicContentType {
		w.Header().Set("Content-Disposition", "attachment; filename=asic.zip")
	}
	w.ResponseWriter.WriteHeader(status)
}
