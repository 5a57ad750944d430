package dpo

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/sample"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// InjectRequest is the body of POST /__admin/inject: a simulated sender delivers an SBD, with files
// packed and encrypted as a real integration point does, to an organisation.
//
// Either SBD is given (used as it is, apart from a missing messageId or conversationId, which get new
// UUIDs; sender, receiver and type are taken from it), or RespondTo names a transfer to answer with a
// status or an arkivmelding_kvittering, or the SBD is built from Sender, Receiver, Type and the rest.
type InjectRequest struct {
	// Sender and Receiver are organisation numbers ("910076787" or "0192:910076787"; the sender may
	// carry a part identifier, "0192:910076787:123456789", sent on behalf of the part).
	Sender   string `json:"sender,omitempty"`
	Receiver string `json:"receiver,omitempty"`
	// Type is the message type (arkivmelding when empty); Process its process (the type's usual one).
	Type    string `json:"type,omitempty"`
	Process string `json:"process,omitempty"`
	// SBD is a full SBD JSON document.
	SBD json.RawMessage `json:"sbd,omitempty"`
	// RespondTo is the fileTransferId of a transfer to answer (type status or arkivmelding_kvittering):
	// sender and receiver are its parties swapped, and messageId, conversationId and MessageChannel
	// follow it as an integration point's answers do.
	RespondTo string `json:"respondTo,omitempty"`
	// Files are the documents. An arkivmelding without files gets a generated arkivmelding.xml and a
	// small PDF it refers to. Status and receipts carry none.
	Files []InjectFile `json:"files,omitempty"`
	// MessageChannel adds a MessageChannel scope. ExpectedResponseDateTime is the time to live (ISO 8601
	// with offset; now + 24 h when empty). MessageID and ConversationID default to new UUIDs.
	MessageChannel           string `json:"messageChannel,omitempty"`
	ExpectedResponseDateTime string `json:"expectedResponseDateTime,omitempty"`
	MessageID                string `json:"messageId,omitempty"`
	ConversationID           string `json:"conversationId,omitempty"`
	// Payload is the business message; by default {"hoveddokument":<primary file>,"sikkerhetsnivaa":3}
	// for arkivmelding, {"identifier":"efm-harness-avtalt","content":{}} for avtalt, and built from
	// the fields below for status and arkivmelding_kvittering. Other types need it.
	Payload json.RawMessage `json:"payload,omitempty"`
	// Status is the status of a status message (MOTTATT when empty).
	Status string `json:"status,omitempty"`
	// ReceiptType (OK when empty), RelatedToMessageID (required without RespondTo) and Messages make
	// an arkivmelding_kvittering.
	ReceiptType        string                         `json:"receiptType,omitempty"`
	RelatedToMessageID string                         `json:"relatedToMessageId,omitempty"`
	Messages           []wire.KvitteringStatusMessage `json:"messages,omitempty"`
	// SendersFileTransferReference overrides the transfer's reference: by default the MessageChannel of
	// a status or receipt that carries one, else a new UUID (as the integration point sends).
	SendersFileTransferReference string `json:"sendersFileTransferReference,omitempty"`
}

// InjectFile is one document of an injected message: its content as Text or as Base64.
type InjectFile struct {
	Name string `json:"name"`
	// MimeType defaults by the name's extension.
	MimeType string  `json:"mimeType,omitempty"`
	Text     *string `json:"text,omitempty"`
	Base64   *string `json:"base64,omitempty"`
	// Primary marks the primary document (hoveddokument); by default arkivmelding.xml, else the first.
	Primary bool `json:"primary,omitempty"`
}

// InjectResult is the answer of POST /__admin/inject.
type InjectResult struct {
	FileTransferID string `json:"fileTransferId"`
	MessageID      string `json:"messageId"`
	ConversationID string `json:"conversationId"`
}

// InjectError is a refused injection (400 on the admin API).
type InjectError struct{ Message string }

func (e *InjectError) Error() string { return e.Message }

func injectErr(format string, args ...any) error {
	return &InjectError{Message: fmt.Sprintf(format, args...)}
}

// adminInject serves POST /__admin/inject.
func (s *Server) adminInject(r *http.Request) admin.Response {
	limit := s.opts.MaxUploadSize/3*4 + 1<<20
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return admin.ErrorResponse(http.StatusBadRequest, "inject: the body could not be read: "+err.Error())
	}
	if int64(len(body)) > limit {
		return admin.ErrorResponse(http.StatusRequestEntityTooLarge, fmt.Sprintf("inject: the body is larger than %d bytes", limit))
	}
	var in InjectRequest
	if err := decodeStrict(body, &in); err != nil {
		return admin.ErrorResponse(http.StatusBadRequest, "inject: "+err.Error())
	}
	res, err := s.Inject(in)
	if err != nil {
		var ie *InjectError
		if errors.As(err, &ie) {
			return admin.ErrorResponse(http.StatusBadRequest, "inject: "+ie.Message)
		}
		return admin.ErrorResponse(http.StatusInternalServerError, "inject: "+err.Error())
	}
	return admin.JSON(http.StatusOK, res)
}

// Inject stores a Published transfer of the message in, packed as an integration point sends it:
// sbd.zip with sbd.json and, when there are files, asic.zip (the eFormidling manifest and the files in a
// CAdES ASiC-E signed with the sender's credentials, CMS-encrypted with RSA-OAEP to the receiver's
// certificate). Errors about in are *InjectError.
func (s *Server) Inject(in InjectRequest) (InjectResult, error) {
	s.mu.Lock()
	gen := s.gen
	s.mu.Unlock()
	files, err := injectFiles(in.Files)
	if err != nil {
		return InjectResult{}, err
	}
	sbd, err := s.injectSBD(in, files)
	if err != nil {
		return InjectResult{}, err
	}
	if errs := sbd.Validate(); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return InjectResult{}, injectErr("the SBD is not valid: %s", strings.Join(msgs, "; "))
	}
	t := sbd.Type()
	if len(files) > 0 && (t == wire.TypeStatus || t.IsReceipt()) {
		return InjectResult{}, injectErr("a %s carries no files", t)
	}
	sender, err := wire.ParseIdentifier(sbd.SenderIdentifier())
	if err != nil || !sender.IsOrganization() {
		return InjectResult{}, injectErr("the sender %q is not an organisation", sbd.SenderIdentifier())
	}
	receiver, err := wire.ParseIdentifier(sbd.ReceiverIdentifier())
	if err != nil || !receiver.IsOrganization() {
		return InjectResult{}, injectErr("the receiver %q is not an organisation", sbd.ReceiverIdentifier())
	}
	// The integration point sends on behalf of a part identifier as that organisation.
	from := sender.OrgID
	if sender.PartID != "" {
		from = sender.PartID
	}
	if t == wire.TypeArkivmelding && len(files) == 0 {
		files = s.generatedFiles(sbd)
	}
	var asic []byte
	if len(files) > 0 {
		if asic, err = s.seal(sbd, files, sender.OrgID, from, receiver.OrgID); err != nil {
			return InjectResult{}, err
		}
	}
	data, err := sbdZip(sbd, asic)
	if err != nil {
		return InjectResult{}, err
	}
	ref := in.SendersFileTransferReference
	if ch := sbd.MessageChannel(); ref == "" && ch != "" && (t == wire.TypeStatus || t.IsReceipt()) {
		ref = ch
	}
	if ref == "" {
		ref = uuid.NewString()
	}
	id, ok := s.publish(wire.ICDNorway+":"+from, wire.ICDNorway+":"+receiver.OrgID, ref, data, gen, false)
	if !ok {
		return InjectResult{}, errors.New("the simulator was reset or closed while the message was injected")
	}
	s.log.Info("dpo: message injected", "fileTransferId", id, "sender", from, "receiver", receiver.OrgID,
		"type", t, "messageId", sbd.MessageID(), "conversationId", sbd.ConversationID(), "files", len(files))
	return InjectResult{FileTransferID: id, MessageID: sbd.MessageID(), ConversationID: sbd.ConversationID()}, nil
}

// injectFiles decodes the files of an injection.
func injectFiles(in []InjectFile) ([]dokumentpakke.File, error) {
	files := make([]dokumentpakke.File, 0, len(in))
	seen := map[string]bool{}
	primary := -1
	for i, f := range in {
		field := fmt.Sprintf("files[%d]", i)
		name := strings.TrimSpace(f.Name)
		switch {
		case name == "":
			return nil, injectErr("%s.name is required", field)
		case strings.EqualFold(name, "manifest.xml"):
			return nil, injectErr("%s.name: manifest.xml is the eFormidling manifest the simulator writes", field)
		case seen[name]:
			return nil, injectErr("%s.name: %q is given twice", field, name)
		case (f.Text == nil) == (f.Base64 == nil):
			return nil, injectErr("%s: give the content as either text or base64", field)
		}
		seen[name] = true
		var content []byte
		if f.Text != nil {
			content = []byte(*f.Text)
		} else {
			b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(*f.Base64))
			if err != nil {
				return nil, injectErr("%s.base64 is not valid base64: %v", field, err)
			}
			content = b
		}
		mt := strings.TrimSpace(f.MimeType)
		if mt == "" {
			mt = mimeTypeOf(name)
		}
		if f.Primary {
			if primary >= 0 {
				return nil, injectErr("%s: only one file can be primary", field)
			}
			primary = i
		}
		files = append(files, dokumentpakke.File{Name: name, MimeType: mt, Content: content})
	}
	if primary < 0 {
		primary = slices.IndexFunc(files, func(f dokumentpakke.File) bool { return f.Name == "arkivmelding.xml" })
	}
	if primary > 0 { // the primary document comes first
		p := files[primary]
		files = append(files[:primary], files[primary+1:]...)
		files = append([]dokumentpakke.File{p}, files...)
	}
	return files, nil
}

// mimeTypeOf guesses a file's MIME type from its name.
func mimeTypeOf(name string) string {
	switch ext := strings.ToLower(path.Ext(name)); ext {
	case ".xml":
		return "application/xml"
	case ".pdf":
		return "application/pdf"
	case ".json":
		return "application/json"
	case ".txt":
		return "text/plain"
	default:
		if mt := mime.TypeByExtension(ext); mt != "" {
			mt, _, _ = strings.Cut(mt, ";")
			return strings.TrimSpace(mt)
		}
	}
	return "application/octet-stream"
}

// injectSBD builds the SBD of an injection.
func (s *Server) injectSBD(in InjectRequest, files []dokumentpakke.File) (*wire.StandardBusinessDocument, error) {
	switch {
	case in.SBD != nil:
		return s.givenSBD(in)
	case in.RespondTo != "":
		return s.responseSBD(in)
	}
	return s.builtSBD(in, files)
}

func (s *Server) givenSBD(in InjectRequest) (*wire.StandardBusinessDocument, error) {
	if in.Sender != "" || in.Receiver != "" || in.Type != "" || in.Process != "" || in.RespondTo != "" ||
		in.MessageChannel != "" || in.ExpectedResponseDateTime != "" || in.MessageID != "" || in.ConversationID != "" ||
		in.Payload != nil || in.Status != "" || in.ReceiptType != "" || in.RelatedToMessageID != "" || in.Messages != nil {
		return nil, injectErr("with sbd, only files and sendersFileTransferReference may be given besides it: sender, receiver, type, process and the rest are taken from the SBD")
	}
	sbd, err := wire.ParseSBD(in.SBD)
	if err != nil {
		return nil, injectErr("sbd: %v", err)
	}
	if sbd.Header.DocumentIdentification != nil && sbd.Header.DocumentIdentification.InstanceIdentifier == "" {
		sbd.Header.DocumentIdentification.InstanceIdentifier = uuid.NewString()
	}
	if sc := sbd.FindScope(wire.ScopeConversationID); sc != nil && sc.InstanceIdentifier == "" {
		sc.InstanceIdentifier = uuid.NewString()
	}
	return sbd, nil
}

// responseSBD answers the transfer in.RespondTo with a status or an arkivmelding_kvittering.
func (s *Server) responseSBD(in InjectRequest) (*wire.StandardBusinessDocument, error) {
	if in.Sender != "" || in.Receiver != "" || in.Process != "" || in.MessageChannel != "" || in.ExpectedResponseDateTime != "" ||
		in.MessageID != "" || in.ConversationID != "" || in.Payload != nil || in.RelatedToMessageID != "" {
		return nil, injectErr("with respondTo, sender, receiver, process, messageChannel, expectedResponseDateTime, messageId, conversationId, payload and relatedToMessageId follow the transfer answered")
	}
	_, payload, _, ok := s.snapshot(in.RespondTo)
	if !ok {
		return nil, injectErr("respondTo: no file transfer %q", in.RespondTo)
	}
	raw, err := sbdEntry(payload)
	if err != nil {
		return nil, injectErr("respondTo: file transfer %s: %v", in.RespondTo, err)
	}
	orig, err := wire.ParseSBD(raw)
	if err != nil {
		return nil, injectErr("respondTo: the sbd.json of file transfer %s does not parse: %v", in.RespondTo, err)
	}
	now := s.now()
	switch t := wire.MessageType(strings.TrimSpace(in.Type)); t {
	case wire.TypeStatus, "":
		if in.ReceiptType != "" || in.Messages != nil {
			return nil, injectErr("receiptType and messages belong to type arkivmelding_kvittering")
		}
		status, err := statusOf(in.Status)
		if err != nil {
			return nil, err
		}
		return statusSBD(orig, status, now), nil
	case wire.TypeArkivmeldingKvittering:
		if in.Status != "" {
			return nil, injectErr("status belongs to type status")
		}
		rt, err := receiptTypeOf(in.ReceiptType)
		if err != nil {
			return nil, err
		}
		return kvitteringSBD(orig, uuid.NewString(), rt, in.Messages, now), nil
	default:
		return nil, injectErr("respondTo answers with type status or arkivmelding_kvittering, not %q", in.Type)
	}
}

func statusOf(s string) (wire.ReceiptStatus, error) {
	switch st := wire.ReceiptStatus(strings.ToUpper(strings.TrimSpace(s))); st {
	case "":
		return wire.StatusMottatt, nil
	case wire.StatusMottatt, wire.StatusLevert:
		return st, nil
	default:
		return "", injectErr("status: %q is not MOTTATT or LEVERT", s)
	}
}

func receiptTypeOf(s string) (string, error) {
	rt := strings.ToUpper(strings.TrimSpace(s))
	if rt == "" {
		return "OK", nil
	}
	if !slices.Contains(receiptTypes, rt) {
		return "", injectErr("receiptType: %q is not one of %s", s, strings.Join(receiptTypes, ", "))
	}
	return rt, nil
}

// builtSBD builds the SBD from the request's fields.
func (s *Server) builtSBD(in InjectRequest, files []dokumentpakke.File) (*wire.StandardBusinessDocument, error) {
	party := func(field, v string) (string, error) {
		v = strings.TrimSpace(v)
		if v == "" {
			return "", injectErr("%s is required (an organisation number)", field)
		}
		p, err := wire.ParseIdentifier(v)
		if err != nil || !p.IsOrganization() {
			return "", injectErr("%s: %q is not an organisation number", field, v)
		}
		return p.Qualified(), nil
	}
	sender, err := party("sender", in.Sender)
	if err != nil {
		return nil, err
	}
	receiver, err := party("receiver", in.Receiver)
	if err != nil {
		return nil, err
	}
	t := wire.TypeArkivmelding
	if in.Type != "" {
		t = wire.MessageType(strings.ToLower(strings.TrimSpace(in.Type)))
		if !t.IsBusinessType() {
			return nil, injectErr("type: %q is not a message type", in.Type)
		}
	}
	if in.Status != "" && t != wire.TypeStatus {
		return nil, injectErr("status belongs to type status")
	}
	if t != wire.TypeArkivmeldingKvittering && (in.ReceiptType != "" || in.RelatedToMessageID != "" || in.Messages != nil) {
		return nil, injectErr("receiptType, relatedToMessageId and messages belong to type arkivmelding_kvittering")
	}
	now := s.now()
	process := strings.TrimSpace(in.Process)
	if process == "" {
		process = t.DefaultProcess()
	}
	messageID, conversationID := in.MessageID, in.ConversationID
	if messageID == "" {
		messageID = uuid.NewString()
	}
	if conversationID == "" {
		conversationID = uuid.NewString()
	}
	ttl := offsetTime(now.Add(ResponseTTL))
	if in.ExpectedResponseDateTime != "" {
		v, err := wire.ParseOffsetDateTime(in.ExpectedResponseDateTime)
		if err != nil {
			return nil, injectErr("expectedResponseDateTime: %q is not an ISO 8601 time with offset: %v", in.ExpectedResponseDateTime, err)
		}
		ttl = &v
	}
	scopes := []wire.Scope{{Type: wire.ScopeConversationID, InstanceIdentifier: conversationID, Identifier: process,
		ScopeInformation: []wire.CorrelationInformation{{ExpectedResponseDateTime: ttl}}}}
	if in.MessageChannel != "" {
		scopes = append(scopes, wire.Scope{Type: wire.ScopeMessageChannel, Identifier: in.MessageChannel})
	}
	hdr := wire.StandardBusinessDocumentHeader{
		HeaderVersion: "1.0",
		Sender:        []wire.Partner{{Identifier: &wire.PartnerIdentification{Value: sender, Authority: wire.AuthorityISO6523}}},
		Receiver:      []wire.Partner{{Identifier: &wire.PartnerIdentification{Value: receiver, Authority: wire.AuthorityISO6523}}},
		DocumentIdentification: &wire.DocumentIdentification{Standard: t.Standard(), TypeVersion: t.TypeVersion(),
			InstanceIdentifier: messageID, Type: string(t), CreationDateAndTime: offsetTime(now)},
		BusinessScope: &wire.BusinessScope{Scope: scopes},
	}
	payload := in.Payload
	if payload == nil {
		var v any
		switch t {
		case wire.TypeArkivmelding:
			main := "arkivmelding.xml"
			if len(files) > 0 {
				main = files[0].Name
			}
			v = &wire.Arkivmelding{Hoveddokument: main, Sikkerhetsnivaa: ptr(3)}
		case wire.TypeAvtalt:
			v = &wire.Avtalt{Identifier: "efm-harness-avtalt", Content: json.RawMessage(`{}`)}
		case wire.TypeStatus:
			st, err := statusOf(in.Status)
			if err != nil {
				return nil, err
			}
			v = &wire.StatusMessage{Status: st}
		case wire.TypeArkivmeldingKvittering:
			rt, err := receiptTypeOf(in.ReceiptType)
			if err != nil {
				return nil, err
			}
			if in.RelatedToMessageID == "" {
				return nil, injectErr("relatedToMessageId is required for an arkivmelding_kvittering (or answer a transfer with respondTo)")
			}
			v = &wire.ArkivmeldingKvittering{ReceiptType: rt, RelatedToMessageID: in.RelatedToMessageID, Messages: in.Messages}
		default:
			return nil, injectErr("payload is required for type %s", t)
		}
		if payload, err = json.Marshal(v); err != nil {
			return nil, err
		}
	} else if in.Status != "" || in.ReceiptType != "" || in.RelatedToMessageID != "" || in.Messages != nil {
		return nil, injectErr("give status, receiptType, relatedToMessageId and messages inside payload when payload is given")
	}
	hdrJSON, err := json.Marshal(hdr)
	if err != nil {
		return nil, err
	}
	var doc bytes.Buffer
	doc.WriteString(`{"` + wire.HeaderKey + `":`)
	doc.Write(hdrJSON)
	doc.WriteString(`,"` + string(t) + `":`)
	doc.Write(payload)
	doc.WriteString(`}`)
	sbd, err := wire.ParseSBD(doc.Bytes())
	if err != nil {
		return nil, injectErr("payload: %v", err)
	}
	return sbd, nil
}

func ptr[T any](v T) *T { return &v }

// generatedFiles are the documents of an arkivmelding injected without files: arkivmelding.xml and the
// small PDF it refers to.
func (s *Server) generatedFiles(sbd *wire.StandardBusinessDocument) []dokumentpakke.File {
	const pdfName = "dokument.pdf"
	am, err := sample.BuildArkivmelding(sample.ArkivmeldingSpec{System: "efm-harness DPO simulator", MessageID: sbd.MessageID(),
		Time: s.now(), Documents: []sample.Document{{Filename: pdfName, Title: "Simulert dokument", Primary: true}}})
	if err != nil { // cannot happen: there is a document
		panic(err)
	}
	return []dokumentpakke.File{
		{Name: "arkivmelding.xml", MimeType: "application/xml", Content: am},
		{Name: pdfName, MimeType: "application/pdf", Content: sample.PDF("Simulert dokument " + sbd.MessageID())},
	}
}

// seal builds asic.zip: the eFormidling manifest, then the files (the primary document first), in a
// CAdES ASiC-E signed with signerOrg's credentials and encrypted (RSA-OAEP) to receiverOrg's certificate.
func (s *Server) seal(sbd *wire.StandardBusinessDocument, files []dokumentpakke.File, signerOrg, from, receiverOrg string) ([]byte, error) {
	if s.opts.Credentials == nil {
		return nil, injectErr("the simulator has no credentials (Options.Credentials) to sign and encrypt files with")
	}
	key, cert, ok := s.opts.Credentials(signerOrg)
	if !ok || key == nil || cert == nil {
		return nil, injectErr("sender: no credentials for organisation %s to sign the document package with", signerOrg)
	}
	_, rcert, ok := s.opts.Credentials(receiverOrg)
	if !ok || rcert == nil {
		return nil, injectErr("receiver: no certificate for organisation %s to encrypt the document package to", receiverOrg)
	}
	primary := files[0]
	if a, ok := sbd.Message.(*wire.Arkivmelding); ok && a.Hoveddokument != "" {
		if i := slices.IndexFunc(files, func(f dokumentpakke.File) bool { return f.Name == a.Hoveddokument }); i > 0 {
			primary = files[i]
			files = append([]dokumentpakke.File{primary}, slices.Delete(slices.Clone(files), i, i+1)...)
		}
	}
	manifest, err := dokumentpakke.BuildManifest(dokumentpakke.Manifest{
		Mottaker: wire.ICDNorway + ":" + receiverOrg, Avsender: wire.ICDNorway + ":" + from,
		Hoveddokument: &dokumentpakke.ManifestDocument{Href: primary.Name, Mime: primary.MimeType}})
	if err != nil {
		return nil, injectErr("manifest: %v", err)
	}
	all := append([]dokumentpakke.File{{Name: "manifest.xml", MimeType: "application/xml", Content: manifest}}, files...)
	out, err := dokumentpakke.Seal(all, dokumentpakke.Signer{Key: key, Certificate: cert}, rcert, dokumentpakke.RSAOAEP)
	if err != nil {
		if errors.Is(err, dokumentpakke.ErrInvalidInput) {
			return nil, injectErr("files: %v", err)
		}
		return nil, fmt.Errorf("seal the document package: %w", err)
	}
	return out, nil
}
