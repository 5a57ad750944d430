package webhook

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Resource and event names of subscriptions and events (spec ip-api §8.1).
const (
	ResourceAll      = "all"
	ResourceMessages = "messages"
	EventAll         = "all"
	EventStatus      = "status"
	EventPing        = "ping"
)

// Event is the JSON body POSTed to a push endpoint (spec ip-api §8.3): the real IP's PingContent or
// MessageStatusContent. Fields that are empty are omitted, as the real IP omits nulls.
type Event struct {
	CreatedTs         wire.OffsetDateTime `json:"createdTs"`
	Resource          string              `json:"resource,omitempty"`
	Event             string              `json:"event"`
	MessageID         string              `json:"messageId,omitempty"`
	ConversationID    string              `json:"conversationId,omitempty"`
	Direction         string              `json:"direction,omitempty"`
	ServiceIdentifier string              `json:"serviceIdentifier,omitempty"`
	Status            string              `json:"status,omitempty"`
	Description       string              `json:"description,omitempty"`
}

// createdTs stamps an event as the real IP's clock does: Europe/Oslo offset.
func createdTs(now time.Time) wire.OffsetDateTime {
	return wire.NewOffsetDateTime(now.In(wire.Oslo()).Truncate(time.Microsecond))
}

// PingEvent is the ping sent when a subscription is created or its push endpoint changes:
// {"createdTs": …, "event": "ping"}.
func PingEvent(now time.Time) Event {
	return Event{CreatedTs: createdTs(now), Event: EventPing}
}

// StatusEventOf is the event pushed for a registered status, stamped now.
func StatusEventOf(ev store.StatusEvent, now time.Time) Event {
	return Event{
		CreatedTs:         createdTs(now),
		Resource:          ResourceMessages,
		Event:             EventStatus,
		MessageID:         ev.Conversation.MessageID,
		ConversationID:    ev.Conversation.ConversationID,
		Direction:         ev.Conversation.Direction,
		ServiceIdentifier: ev.Conversation.ServiceIdentifier,
		Status:            string(ev.Status.Status),
		Description:       ev.Status.Description,
	}
}

// JSON is the event as posted: pretty-printed, without HTML escaping and without a trailing newline.
func (e Event) JSON() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(e) // strings and a time only: cannot fail
	return bytes.TrimRight(b.Bytes(), "\n")
}

// Accepts reports whether a subscription with resource, event and filter takes e: resource and event
// are "all" or e's own, and the filter matches.
func Accepts(resource, event string, filter Filter, e Event) bool {
	return (resource == ResourceAll || resource == e.Resource) &&
		(event == EventAll || event == e.Event) &&
		filter.Matches(e)
}
