package dpi

import (
	"crypto/x509"
	"time"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Document roles in the dokumentpakke, after the SDP manifest.
const (
	RoleManifest      = "manifest"
	RoleHoveddokument = "hoveddokument"
	RoleVedlegg       = "vedlegg"
	RoleMetadata      = "metadata" // a data element's file
	RoleUnlisted      = "unlisted" // in the container, not named by the manifest
)

// document is a file of the decrypted dokumentpakke.
type document struct {
	name, mime, role, tittel, lang string
	content                        []byte
}

// part is a multipart part as received.
type part struct {
	name, filename, contentType string
	size                        int
}

// message is a forretningsmelding corner 2 accepted.
type message struct {
	seq            uint64
	id             string // the messageId, lower case
	conversationID string // as sent (receipts carry it unchanged)
	kanal          string
	typ            string
	msg            *wire.DPIMessage
	jws            string
	received       time.Time
	sender         string // header sender orgnr (the avsender's main organisation)
	receiver       string // header receiver orgnr (mailbox or print provider)
	avsender       string // avsender.virksomhetsidentifikator.value
	avsenderID     string // avsender.avsenderidentifikator
	postkasse      string // digital mottaker.postkasseadresse
	caller         caller
	tokenIsBearer  bool
	signer         *x509.Certificate
	manifest       *wire.SDPManifest // nil when the dokumentpakke has no readable SDP manifest
	docs           []document
	signatures     []string          // META-INF/signatures*.xml entries
	xadesSigner    *x509.Certificate // the XAdES signer; nil unless the signature verified
	// packageProblems are what the provider finds wrong when it opens the dokumentpakke: corner 2
	// accepted the message, and the provider answers with a feil receipt instead of delivering it.
	packageProblems violations
	parts           []part
	cmsSize         int
	cmsDigest       string // base64 SHA-256 of asic.cms
	statuses        []wire.DPIStatus
	receipts        []*receipt
	rules           rules
	bytes           int64
	resends         int
	gone            bool // forgotten (reset or evicted): timers do nothing
}

func (m *message) lastStatus() string {
	if len(m.statuses) == 0 {
		return ""
	}
	return m.statuses[len(m.statuses)-1].Status
}

func (m *message) hasStatus(st string) bool {
	for _, x := range m.statuses {
		if x.Status == st {
			return true
		}
	}
	return false
}

func (m *message) addStatus(st, beskrivelse string, at time.Time) {
	m.statuses = append(m.statuses, wire.DPIStatus{Status: st, Timestamp: at.UTC().Format(time.RFC3339Nano), Beskrivelse: beskrivelse})
}

// receipt is a receipt made for a message, pending until the integration point reads it.
type receipt struct {
	id      string
	typ     string
	msg     *message
	jws     string
	body    wire.DPIKvittering
	created time.Time
	by      string // behaviour rule or "admin"
	read    bool
	readAt  time.Time
	readBy  string
}

func (r *receipt) pending() bool { return !r.read && !r.msg.gone }
