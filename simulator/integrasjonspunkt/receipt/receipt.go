// Package receipt builds the status messages a receiving integration point sends back to the sender
// (spec upstreams §1.3.1, ip-api §7.6, certification §3.6): the "status" SBD with MOTTATT when a message
// is put on the in-queue and LEVERT when the client deletes it, as the real IP's
// SBDFactory.createStatusFrom does. It is pure: no I/O, the time is an argument.
package receipt

import (
	"errors"
	"fmt"
	"time"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

// StatusTTL is how long a status SBD lives (its expectedResponseDateTime is now + StatusTTL).
const StatusTTL = 24 * time.Hour

// CreationSkew is how far before now the real IP dates a status SBD's creationDateAndTime.
const CreationSkew = 5 * time.Second

// ErrNoResponseProcess is wrapped when a process belongs to no family with a response process.
var ErrNoResponseProcess = errors.New("no response process")

// ResponseProcess is the response process of process's family: arkivmelding processes answer on
// urn:no:difi:profile:arkivmelding:response:ver1.0, eInnsyn on …einnsyn:response:ver1.0 and avtalt on
// …avtalt:response:ver1.0 (a response process is its own response process). ok is false for any other
// process (digital post and helse have no status messages).
func ResponseProcess(process string) (response string, ok bool) { return wire.ResponseProcess(process) }

// Status builds the status SBD answering orig with status (MOTTATT or LEVERT) at now: sender and
// receiver swapped, the same messageId (instanceIdentifier) and conversationId, standard
// urn:no:difi:eformidling:xsd::status, type status, typeVersion 2.0, the response process of orig's
// process, creationDateAndTime now − 5 s, expectedResponseDateTime now + 24 h (both in Europe/Oslo), any
// MessageChannel scope of orig copied, and the payload {"status": status}. It fails when orig has no
// sender, receiver, messageId or conversationId, or a process without response process.
func Status(orig *wire.StandardBusinessDocument, status wire.ReceiptStatus, now time.Time) (*wire.StandardBusinessDocument, error) {
	if orig == nil {
		return nil, errors.New("status for no message")
	}
	switch {
	case orig.MessageID() == "":
		return nil, errors.New("status: the message has no messageId")
	case orig.ConversationID() == "":
		return nil, fmt.Errorf("status for %s: the message has no conversationId", orig.MessageID())
	case partner(orig.Header.Sender) == nil:
		return nil, fmt.Errorf("status for %s: the message has no sender", orig.MessageID())
	case partner(orig.Header.Receiver) == nil:
		return nil, fmt.Errorf("status for %s: the message has no receiver", orig.MessageID())
	}
	process, ok := ResponseProcess(orig.Process())
	if !ok {
		return nil, fmt.Errorf("status for %s: %w for process %q", orig.MessageID(), ErrNoResponseProcess, orig.Process())
	}
	at := func(t time.Time) *wire.OffsetDateTime {
		v := wire.NewOffsetDateTime(t.In(wire.Oslo()).Truncate(time.Millisecond))
		return &v
	}
	scopes := []wire.Scope{{
		Type: wire.ScopeConversationID, InstanceIdentifier: orig.ConversationID(), Identifier: process,
		ScopeInformation: []wire.CorrelationInformation{{ExpectedResponseDateTime: at(now.Add(StatusTTL))}},
	}}
	if s := orig.FindScope(wire.ScopeMessageChannel); s != nil {
		scopes = append(scopes, wire.Scope{Type: wire.ScopeMessageChannel, InstanceIdentifier: s.InstanceIdentifier, Identifier: s.Identifier})
	}
	return &wire.StandardBusinessDocument{
		Header: wire.StandardBusinessDocumentHeader{
			HeaderVersion: "1.0",
			Sender:        []wire.Partner{*partner(orig.Header.Receiver)},
			Receiver:      []wire.Partner{*partner(orig.Header.Sender)},
			DocumentIdentification: &wire.DocumentIdentification{
				Standard: wire.StandardStatus, TypeVersion: "2.0", InstanceIdentifier: orig.MessageID(),
				Type: string(wire.TypeStatus), CreationDateAndTime: at(now.Add(-CreationSkew)),
			},
			BusinessScope: &wire.BusinessScope{Scope: scopes},
		},
		Message: &wire.StatusMessage{Status: status},
	}, nil
}

// partner returns a copy of the first partner's identifier (without contact information), or nil.
func partner(ps []wire.Partner) *wire.Partner {
	if len(ps) == 0 || ps[0].Identifier == nil || ps[0].Identifier.Value == "" {
		return nil
	}
	id := *ps[0].Identifier
	if id.Authority == "" {
		id.Authority = wire.AuthorityISO6523
	}
	return &wire.Partner{Identifier: &id}
}
