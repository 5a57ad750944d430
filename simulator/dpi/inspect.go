package dpi

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Summary is one message in GET /__admin/messages.
type Summary struct {
	MessageID             string           `json:"messageId"`
	ConversationID        string           `json:"conversationId"`
	Kanal                 string           `json:"kanal"`
	Type                  string           `json:"type"`
	Sender                string           `json:"sender"`   // header sender: the avsender's main organisation
	Avsender              string           `json:"avsender"` // avsender.virksomhetsidentifikator.value
	Avsenderidentifikator string           `json:"avsenderidentifikator,omitempty"`
	Receiver              string           `json:"receiver"` // mailbox or print provider
	Postkasseadresse      string           `json:"postkasseadresse,omitempty"`
	Tittel                string           `json:"tittel,omitempty"` // ikkesensitivtittel, or the hoveddokument's title for utskrift
	Received              time.Time        `json:"received"`
	Status                string           `json:"status"`
	Statuses              []wire.DPIStatus `json:"statuses"`
	Documents             int              `json:"documentCount"`
	Receipts              []string         `json:"receipts"` // the types made, in order
	ReceiptsPending       int              `json:"receiptsPending"`
	ReceiptsRead          int              `json:"receiptsRead"`
	Resends               int              `json:"resends,omitempty"`
	// PackageProblems are what the provider found wrong when it opened the dokumentpakke (it does not
	// decrypt, is not an ASiC-E, its XAdES signature does not verify, its SDP manifest is missing, invalid
	// or does not match). Corner 2 accepted the message; the provider answers with a feil receipt
	// (feiltype KLIENT) instead of the leverings- or mottakskvittering. Empty for a good dokumentpakke.
	PackageProblems []Violation `json:"packageProblems"`
}

// CertificateView describes a certificate.
type CertificateView struct {
	Subject    string    `json:"subject"`
	Issuer     string    `json:"issuer"`
	Orgnr      string    `json:"orgnr,omitempty"` // the subject's serialNumber
	Serial     string    `json:"serial"`
	NotBefore  time.Time `json:"notBefore"`
	NotAfter   time.Time `json:"notAfter"`
	SelfSigned bool      `json:"selfSigned"`
}

// CallerView is what the send's token said.
type CallerView struct {
	ConsumerOrg string `json:"consumerOrg"`
	Orgnr       string `json:"orgnr,omitempty"`
	ClientID    string `json:"clientId,omitempty"`
	// MaskinportentokenIsBearer tells whether the forretningsmelding's maskinportentoken is the
	// Authorization bearer token (the integration point sends the same).
	MaskinportentokenIsBearer bool `json:"maskinportentokenIsBearer"`
}

// PackageView describes the dokumentpakke as received.
type PackageView struct {
	Size         int    `json:"size"`
	SHA256Base64 string `json:"sha256Base64"` // equals dokumentpakkefingeravtrykk.digestValue
	// Signatures are the container's XAdES signature files.
	Signatures []string `json:"signatures"`
	// SignatureVerified tells whether the XAdES signature (META-INF/signatures.xml) verified
	// (dokumentpakke.ReadXAdES, with Options.SignerRoots); when not, packageProblems says why.
	SignatureVerified bool `json:"signatureVerified"`
	// SignatureSigner is the XAdES signer's certificate (its subject, issuer, orgnr…); only when verified.
	SignatureSigner *CertificateView `json:"signatureSigner,omitempty"`
}

// DocumentView is a file of the decrypted dokumentpakke.
type DocumentView struct {
	Name    string `json:"name"`
	Mime    string `json:"mime"`
	Role    string `json:"role"` // manifest, hoveddokument, vedlegg, metadata, unlisted
	Tittel  string `json:"tittel,omitempty"`
	Lang    string `json:"lang,omitempty"`
	Size    int    `json:"size"`
	SHA256  string `json:"sha256"` // hex
	Content string `json:"content,omitempty"`
}

// PartView is a multipart part of the send request.
type PartView struct {
	Name        string `json:"name"`
	Filename    string `json:"filename,omitempty"`
	ContentType string `json:"contentType,omitempty"`
	Size        int    `json:"size"`
}

// ReceiptView is a receipt the simulator made.
type ReceiptView struct {
	ReceiptID      string             `json:"receiptId"` // its instanceIdentifier: the id of POST …/messages/in/{id}/read
	MessageID      string             `json:"messageId"`
	ConversationID string             `json:"conversationId"`
	Kanal          string             `json:"kanal"`
	Type           string             `json:"type"`
	Created        time.Time          `json:"created"`
	By             string             `json:"by"`
	Read           bool               `json:"read"`
	ReadAt         *time.Time         `json:"readAt,omitempty"`
	ReadBy         string             `json:"readBy,omitempty"`
	Kvittering     wire.DPIKvittering `json:"kvittering"`
	// Forretningsmelding is the receipt as served: a compact JWS.
	Forretningsmelding string `json:"forretningsmelding"`
}

// MessageView is GET /__admin/messages/{id}.
type MessageView struct {
	Summary
	Header wire.StandardBusinessDocumentHeader `json:"header"`
	// Digital or Utskrift is the business message as sent, with the maskinportentoken redacted.
	Digital       *wire.DPIDigital  `json:"digital,omitempty"`
	Utskrift      *wire.DPIUtskrift `json:"utskrift,omitempty"`
	Signer        CertificateView   `json:"signer"`
	Caller        CallerView        `json:"caller"`
	Dokumentpakke PackageView       `json:"dokumentpakke"`
	Manifest      *wire.SDPManifest `json:"manifest"`
	Documents     []DocumentView    `json:"documents"`
	Parts         []PartView        `json:"parts"`
	ReceiptViews  []ReceiptView     `json:"receiptDetails"`
	// Forretningsmelding is the JWS as received (?content=true only: it carries the token).
	Forretningsmelding string `json:"forretningsmelding,omitempty"`
}

func certView(c *x509.Certificate) CertificateView {
	if c == nil {
		return CertificateView{}
	}
	return CertificateView{Subject: c.Subject.String(), Issuer: c.Issuer.String(), Orgnr: c.Subject.SerialNumber,
		Serial: c.SerialNumber.Text(16), NotBefore: c.NotBefore, NotAfter: c.NotAfter,
		SelfSigned: bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil}
}

func redact(tok string) string {
	if tok == "" {
		return ""
	}
	return fmt.Sprintf("(redacted: %d characters)", len(tok))
}

func summary(m *message) Summary {
	s := Summary{MessageID: m.id, ConversationID: m.conversationID, Kanal: m.kanal, Type: m.typ, Sender: m.sender,
		Avsender: m.avsender, Avsenderidentifikator: m.avsenderID, Receiver: m.receiver, Postkasseadresse: m.postkasse,
		Received: m.received, Status: m.lastStatus(), Statuses: append([]wire.DPIStatus{}, m.statuses...),
		Documents: len(m.docs), Receipts: []string{}, Resends: m.resends,
		PackageProblems: append([]Violation{}, m.packageProblems...)}
	if m.msg.Digital != nil {
		s.Tittel = m.msg.Digital.Ikkesensitivtittel
	} else if m.manifest != nil {
		s.Tittel = strings.TrimSpace(m.manifest.Hoveddokument.Tittel.Value)
	}
	for _, rc := range m.receipts {
		s.Receipts = append(s.Receipts, rc.typ)
		if rc.read {
			s.ReceiptsRead++
		} else {
			s.ReceiptsPending++
		}
	}
	return s
}

func receiptView(rc *receipt) ReceiptView {
	v := ReceiptView{ReceiptID: rc.id, MessageID: rc.msg.id, ConversationID: rc.msg.conversationID, Kanal: rc.msg.kanal,
		Type: rc.typ, Created: rc.created, By: rc.by, Read: rc.read, ReadBy: rc.readBy, Kvittering: rc.body,
		Forretningsmelding: rc.jws}
	if rc.read {
		t := rc.readAt
		v.ReadAt = &t
	}
	return v
}

func (s *Server) adminMessages(r *http.Request) admin.Response {
	q := r.URL.Query()
	match := func(key, value string) bool { return q.Get(key) == "" || strings.EqualFold(q.Get(key), value) }
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Summary{}
	pending := 0
	for _, m := range s.order {
		for _, rc := range m.receipts {
			if !rc.read {
				pending++
			}
		}
		if !match("kanal", m.kanal) || !match("type", m.typ) || !match("receiver", m.receiver) || !match("sender", m.sender) ||
			!match("postkasseadresse", m.postkasse) || !match("conversationId", m.conversationID) ||
			!match("avsenderidentifikator", m.avsenderID) {
			continue
		}
		out = append(out, summary(m))
	}
	return admin.JSON(http.StatusOK, map[string]any{"messages": out, "evicted": s.evicted, "droppedSteps": s.dropped,
		"storedBytes": s.stored, "pendingReceipts": pending})
}

// lookupLocked finds a message by messageId, else the newest of the conversation.
func (s *Server) lookupLocked(id string) *message {
	id = strings.ToLower(id)
	if m, ok := s.byID[id]; ok {
		return m
	}
	for i := len(s.order) - 1; i >= 0; i-- {
		if strings.EqualFold(s.order[i].conversationID, id) {
			return s.order[i]
		}
	}
	return nil
}

func (s *Server) adminMessage(r *http.Request, id string) admin.Response {
	withContent := r.URL.Query().Get("content") == "true"
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.lookupLocked(id)
	if m == nil {
		return admin.ErrorResponse(http.StatusNotFound, "no message "+id)
	}
	v := MessageView{Summary: summary(m), Header: m.msg.Header, Signer: certView(m.signer),
		Caller:        CallerView{ConsumerOrg: m.caller.consumerOrg, Orgnr: m.caller.orgnr, ClientID: m.caller.clientID, MaskinportentokenIsBearer: m.tokenIsBearer},
		Dokumentpakke: PackageView{Size: m.cmsSize, SHA256Base64: m.cmsDigest, Signatures: append([]string{}, m.signatures...)},
		Manifest:      m.manifest, Documents: []DocumentView{}, Parts: []PartView{}, ReceiptViews: []ReceiptView{}}
	if m.xadesSigner != nil {
		cv := certView(m.xadesSigner)
		v.Dokumentpakke.SignatureVerified, v.Dokumentpakke.SignatureSigner = true, &cv
	}
	if d := m.msg.Digital; d != nil {
		c := *d
		c.Maskinportentoken = redact(c.Maskinportentoken)
		v.Digital = &c
	}
	if u := m.msg.Utskrift; u != nil {
		c := *u
		c.Maskinportentoken = redact(c.Maskinportentoken)
		v.Utskrift = &c
	}
	for _, d := range m.docs {
		sum := sha256.Sum256(d.content)
		dv := DocumentView{Name: d.name, Mime: d.mime, Role: d.role, Tittel: d.tittel, Lang: d.lang, Size: len(d.content), SHA256: hex.EncodeToString(sum[:])}
		if withContent {
			dv.Content = base64.StdEncoding.EncodeToString(d.content)
		}
		v.Documents = append(v.Documents, dv)
	}
	for _, p := range m.parts {
		v.Parts = append(v.Parts, PartView{Name: p.name, Filename: p.filename, ContentType: p.contentType, Size: p.size})
	}
	for _, rc := range m.receipts {
		v.ReceiptViews = append(v.ReceiptViews, receiptView(rc))
	}
	if withContent {
		v.Forretningsmelding = m.jws
	}
	return admin.JSON(http.StatusOK, v)
}

// Behaviour is GET/PUT /__admin/behaviour. PUT changes only the members present; durations are Go
// duration strings ("2s") or milliseconds. It applies to messages received afterwards.
type Behaviour struct {
	// SendtAfter: OPPRETTET → SENDT.
	SendtAfter string `json:"sendtAfter"`
	// Feilet: FEILET instead of SENDT, and no receipts.
	Feilet bool `json:"feilet"`
	// KvitteringAfter: SENDT → leveringskvittering (digital) or mottakskvittering (utskrift).
	KvitteringAfter string `json:"kvitteringAfter"`
	// AapningAfter: leveringskvittering → aapningskvittering, for messages with aapningskvittering=true;
	// null: never by itself.
	AapningAfter *string `json:"aapningAfter"`
	// Varslingfeilet: a varslingfeiletkvittering right after the leveringskvittering; null: none.
	Varslingfeilet *Varslingfeilet `json:"varslingfeilet"`
	// Feil: a feil receipt instead of the leverings- or mottakskvittering; null: none.
	Feil *Feil `json:"feil"`
	// ReturpostAfter: mottakskvittering → returpostkvittering (utskrift); null: never.
	ReturpostAfter *string `json:"returpostAfter"`
	// Overrides change the members they name for the messages to a postkasseadresse, or else to a
	// receiver organisation number. PUT replaces the whole map.
	Overrides map[string]map[string]json.RawMessage `json:"overrides"`
}

func durPtr(d *time.Duration) *string {
	if d == nil {
		return nil
	}
	v := d.String()
	return &v
}

func (s *Server) behaviourLocked() Behaviour {
	b := s.beh
	out := Behaviour{SendtAfter: b.sendtAfter.String(), Feilet: b.feilet, KvitteringAfter: b.kvitteringAfter.String(),
		AapningAfter: durPtr(b.aapningAfter), Varslingfeilet: b.varslingfeilet, Feil: b.feil,
		ReturpostAfter: durPtr(b.returpostAfter), Overrides: map[string]map[string]json.RawMessage{}}
	for k, v := range b.overrides {
		out.Overrides[k] = v
	}
	return out
}

func (s *Server) adminBehaviour(r *http.Request) admin.Response {
	if r.Method == http.MethodPut {
		raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return admin.ErrorResponse(http.StatusBadRequest, err.Error())
		}
		var present map[string]json.RawMessage
		if err := json.Unmarshal(raw, &present); err != nil || present == nil {
			return admin.ErrorResponse(http.StatusBadRequest, "bad behaviour: want a JSON object")
		}
		var overrides map[string]map[string]json.RawMessage
		ovRaw, setOverrides := present["overrides"]
		delete(present, "overrides")
		if setOverrides {
			if err := json.Unmarshal(ovRaw, &overrides); err != nil {
				return admin.ErrorResponse(http.StatusBadRequest, "overrides: want an object of objects: "+err.Error())
			}
			for k, o := range overrides {
				var scratch rules
				if err := applyRules(&scratch, o); err != nil {
					return admin.ErrorResponse(http.StatusBadRequest, fmt.Sprintf("overrides[%q].%v", k, err))
				}
			}
		}
		// One critical section for the read-modify-write: concurrent PUTs of different members all apply.
		s.mu.Lock()
		defer s.mu.Unlock()
		nb := s.beh
		if err := applyRules(&nb.rules, present); err != nil {
			return admin.ErrorResponse(http.StatusBadRequest, "bad behaviour: "+err.Error())
		}
		if setOverrides {
			nb.overrides = overrides
		}
		s.beh = nb
		return admin.JSON(http.StatusOK, s.behaviourLocked())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return admin.JSON(http.StatusOK, s.behaviourLocked())
}

// StatusRequest is POST /__admin/messages/{id}/statuses.
type StatusRequest struct {
	Status      string `json:"status"`
	Beskrivelse string `json:"beskrivelse,omitempty"`
}

func decodeAdmin(r *http.Request, v any) error {
	d := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

func (s *Server) emitFor(id string, req ReceiptRequest) admin.Response {
	if req.Type != wire.DPITypeFeil && (req.Feiltype != "" || req.Detaljer != "") {
		return admin.ErrorResponse(http.StatusBadRequest, "feiltype and detaljer belong to a feil receipt only")
	}
	if req.Type != wire.DPITypeVarslingfeiletkvittering && (req.Varslingskanal != "" || req.Beskrivelse != "") {
		return admin.ErrorResponse(http.StatusBadRequest, "varslingskanal and beskrivelse belong to a varslingfeiletkvittering only")
	}
	if req.Tidspunkt != "" && !isDateTime(req.Tidspunkt) {
		return admin.ErrorResponse(http.StatusBadRequest, fmt.Sprintf("tidspunkt must be an RFC 3339 date-time, is %q", req.Tidspunkt))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.lookupLocked(id)
	if m == nil {
		return admin.ErrorResponse(http.StatusNotFound, "no message "+id)
	}
	rc, err := s.emitLocked(m, req, "admin")
	if err != nil {
		return admin.ErrorResponse(http.StatusBadRequest, err.Error())
	}
	return admin.JSON(http.StatusCreated, receiptView(rc))
}

func (s *Server) adminInject(r *http.Request) admin.Response {
	var req ReceiptRequest
	if err := decodeAdmin(r, &req); err != nil {
		return admin.ErrorResponse(http.StatusBadRequest, "bad receipt request: "+err.Error())
	}
	if req.MessageID == "" {
		return admin.ErrorResponse(http.StatusBadRequest, "messageId is required")
	}
	return s.emitFor(req.MessageID, req)
}

func (s *Server) adminRoutes(r *mux.Router) {
	r.Handle("/messages/{id}/receipts", admin.Handler(func(r *http.Request) admin.Response {
		var req ReceiptRequest
		if err := decodeAdmin(r, &req); err != nil {
			return admin.ErrorResponse(http.StatusBadRequest, "bad receipt request: "+err.Error())
		}
		return s.emitFor(mux.Vars(r)["id"], req)
	})).Methods(http.MethodPost).Name(Name + ".admin.receipts.emit")

	r.Handle("/messages/{id}/statuses", admin.Handler(func(r *http.Request) admin.Response {
		var req StatusRequest
		if err := decodeAdmin(r, &req); err != nil {
			return admin.ErrorResponse(http.StatusBadRequest, "bad status request: "+err.Error())
		}
		switch req.Status {
		case wire.DPICorner2StatusOpprettet, wire.DPICorner2StatusSendt, wire.DPICorner2StatusFeilet:
		default:
			return admin.ErrorResponse(http.StatusBadRequest, fmt.Sprintf("status must be OPPRETTET, SENDT or FEILET, is %q", req.Status))
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		m := s.lookupLocked(mux.Vars(r)["id"])
		if m == nil {
			return admin.ErrorResponse(http.StatusNotFound, "no message "+mux.Vars(r)["id"])
		}
		m.addStatus(req.Status, req.Beskrivelse, s.now())
		return admin.JSON(http.StatusOK, summary(m))
	})).Methods(http.MethodPost).Name(Name + ".admin.statuses.add")

	r.Handle("/receipts", admin.Handler(func(r *http.Request) admin.Response {
		q := r.URL.Query()
		s.mu.Lock()
		defer s.mu.Unlock()
		out := []ReceiptView{}
		for _, m := range s.order {
			for _, rc := range m.receipts {
				if (q.Get("kanal") != "" && q.Get("kanal") != m.kanal) || (q.Get("type") != "" && q.Get("type") != rc.typ) ||
					(q.Get("pending") == "true" && rc.read) || (q.Get("pending") == "false" && !rc.read) {
					continue
				}
				out = append(out, receiptView(rc))
			}
		}
		return admin.JSON(http.StatusOK, map[string]any{"receipts": out})
	})).Methods(http.MethodGet).Name(Name + ".admin.receipts")
}
