package dpo

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

// ResponseTTL is the time to live the status and receipt SBDs the simulator builds carry
// (expectedResponseDateTime = now + 24 h, as SBDFactory.createStatusFrom and the IP's default TTL).
const ResponseTTL = 24 * time.Hour

// responseProcess is the process of the status SBDs answering orig: the response process of its process
// family (arkivmelding, einnsyn or avtalt; upstreams §1.3.1), judged by the process and else by the type.
func responseProcess(orig *wire.StandardBusinessDocument) string {
	if p, ok := wire.ResponseProcess(orig.Process()); ok {
		return p
	}
	switch orig.Type() {
	case wire.TypeAvtalt:
		return wire.ProcessAvtaltResponse
	case wire.TypeInnsynskrav, wire.TypePublisering, wire.TypeEinnsynKvittering:
		return wire.ProcessEinnsynResponse
	}
	return wire.ProcessArkivmeldingResponse
}

func offsetTime(t time.Time) *wire.OffsetDateTime {
	v := wire.NewOffsetDateTime(t.In(wire.Oslo()).Truncate(time.Millisecond))
	return &v
}

// copyPartners copies a sender or receiver list.
func copyPartners(ps []wire.Partner) []wire.Partner {
	out := make([]wire.Partner, 0, len(ps))
	for _, p := range ps {
		c := wire.Partner{ContactInformation: p.ContactInformation}
		if p.Identifier != nil {
			id := *p.Identifier
			c.Identifier = &id
		}
		out = append(out, c)
	}
	return out
}

// responseHeader is the header of an SBD answering orig: sender and receiver swapped, the given
// messageId, type and process, orig's conversationId, expectedResponseDateTime now + 24 h, and orig's
// MessageChannel scope if it has one.
func responseHeader(orig *wire.StandardBusinessDocument, messageID string, t wire.MessageType, process string, now time.Time) wire.StandardBusinessDocumentHeader {
	scopes := []wire.Scope{{Type: wire.ScopeConversationID, InstanceIdentifier: orig.ConversationID(), Identifier: process,
		ScopeInformation: []wire.CorrelationInformation{{ExpectedResponseDateTime: offsetTime(now.Add(ResponseTTL))}}}}
	if ch := orig.FindScope(wire.ScopeMessageChannel); ch != nil {
		scopes = append(scopes, *ch)
	}
	return wire.StandardBusinessDocumentHeader{
		HeaderVersion: "1.0",
		Sender:        copyPartners(orig.Header.Receiver),
		Receiver:      copyPartners(orig.Header.Sender),
		DocumentIdentification: &wire.DocumentIdentification{Standard: t.Standard(), TypeVersion: "2.0",
			InstanceIdentifier: messageID, Type: string(t), CreationDateAndTime: offsetTime(now)},
		BusinessScope: &wire.BusinessScope{Scope: scopes},
	}
}

// statusSBD is the status SBD a receiving integration point builds for orig (SBDFactory.createStatusFrom):
// the same messageId and conversationId, the response process of orig's family, and the status.
func statusSBD(orig *wire.StandardBusinessDocument, status wire.ReceiptStatus, now time.Time) *wire.StandardBusinessDocument {
	return &wire.StandardBusinessDocument{
		Header:  responseHeader(orig, orig.MessageID(), wire.TypeStatus, responseProcess(orig), now),
		Message: &wire.StatusMessage{Status: status},
	}
}

// kvitteringSBD is an arkivmelding_kvittering answering orig: a new messageId, orig's conversationId,
// the arkivmelding response process, and relatedToMessageId = orig's messageId.
func kvitteringSBD(orig *wire.StandardBusinessDocument, messageID, receiptType string, messages []wire.KvitteringStatusMessage, now time.Time) *wire.StandardBusinessDocument {
	k := &wire.ArkivmeldingKvittering{ReceiptType: receiptType, RelatedToMessageID: orig.MessageID()}
	if len(messages) > 0 {
		k.Messages = append([]wire.KvitteringStatusMessage(nil), messages...)
	}
	return &wire.StandardBusinessDocument{
		Header:  responseHeader(orig, messageID, wire.TypeArkivmeldingKvittering, wire.ProcessArkivmeldingResponse, now),
		Message: k,
	}
}

// sbdZip is sbd.zip as the integration point writes it (AltinnPackage): sbd.json and, when there is a
// document package, asic.zip.
func sbdZip(sbd *wire.StandardBusinessDocument, asic []byte) ([]byte, error) {
	sbdJSON, err := json.Marshal(sbd)
	if err != nil {
		return nil, fmt.Errorf("encode sbd.json: %w", err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	entries := []struct {
		name string
		data []byte
	}{{EntrySBD, sbdJSON}}
	if asic != nil {
		entries = append(entries, struct {
			name string
			data []byte
		}{EntryASiC, asic})
	}
	for _, e := range entries {
		w, err := zw.Create(e.name)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("write sbd.zip: %w", err)
	}
	return buf.Bytes(), nil
}
