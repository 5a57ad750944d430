package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/registry"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// maxSBDSize bounds a posted SBD (JSON). Real SBDs are a few kilobytes.
const maxSBDSize = 16 * mib

// createMessage serves POST /api/messages/out: step 1 of the multi-step send (spec ip-api §4.2).
func (a *API) createMessage(r *http.Request) response {
	if err := requireJSON(r); err != nil {
		return fail(err)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSBDSize+1))
	if err != nil {
		return fail(errNotReadable("I/O error while reading input message: " + err.Error()))
	}
	if len(body) > maxSBDSize {
		return fail(errNotReadable(fmt.Sprintf("I/O error while reading input message: the body is larger than %d bytes", maxSBDSize)))
	}
	sbd, perr := parseSBD(body)
	if perr != nil {
		return fail(perr)
	}
	if errs := beanValidate(sbd, a.opts.Now()); len(errs) > 0 {
		return fail(errMethodArgumentNotValid(errs))
	}
	p, err := a.prepare(r.Context(), sbd)
	if err != nil {
		return fail(err)
	}
	if err := a.commit(r.Context(), p); err != nil {
		return fail(err)
	}
	return ok(json.RawMessage(p.out.SBD))
}

// requireJSON refuses a body that is not application/json (or application/*+json), as Spring's
// consumes = application/json does.
func requireJSON(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return errUnsupportedMediaType(ct)
}

// parseSBD reads a posted SBD. Every structural error is a 400 HttpMessageNotReadableException with
// the real IP's message, also where the real IP answers 500.
func parseSBD(body []byte) (*wire.StandardBusinessDocument, *apiError) {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, errNotReadable("Required request body is missing")
	}
	sbd, err := wire.ParseSBD(body)
	if err == nil {
		return sbd, nil
	}
	var se *wire.SBDError
	if errors.As(err, &se) {
		msg := se.JavaMessage
		if msg == "" {
			msg = "JSON parse error: " + se.Reason
		}
		return nil, errNotReadable(msg).withCause(err)
	}
	return nil, errNotReadable("JSON parse error: " + err.Error()).withCause(err)
}

// prepared is a validated outgoing message with its defaults applied, ready to be stored.
type prepared struct {
	sbd     *wire.StandardBusinessDocument
	typ     wire.MessageType
	service wire.ServiceIdentifier
	out     store.OutMessage
	conv    store.Conversation
}

// prepare runs the create pipeline after bean validation (spec ip-api §4.2 steps 2–5): sender
// normalisation, channel resolution through the address register, defaults, and the create-time rules
// of §4.7. It changes sbd in place.
func (a *API) prepare(ctx context.Context, sbd *wire.StandardBusinessDocument) (*prepared, error) {
	p := &prepared{sbd: sbd, typ: sbd.Type()}
	sender, err := a.normalizeSender(sbd)
	if err != nil {
		return nil, err
	}
	receiver, err := parseReceiver(sbd)
	if err != nil {
		return nil, err
	}
	scope := sbd.FindScope(wire.ScopeConversationID)
	if scope == nil {
		return nil, newError(http.StatusBadRequest, exIllegalState,
			"SBD missing process: the businessScope has no scope of type ConversationId (its identifier is the process)")
	}
	var record *wire.ServiceRecord
	switch {
	case receiver == nil && p.typ == wire.TypePrint:
		p.service = wire.ServiceDPI
	case receiver == nil:
		p.service = wire.ServiceUnknown
	default:
		if scope.Identifier == "" {
			return nil, newError(http.StatusBadRequest, exIllegalArgument,
				"Cannot determine documentType with missing process parameter: the ConversationId scope has no identifier (the process)")
		}
		rec, err := a.resolve(ctx, sbd, *receiver)
		if err != nil {
			return nil, err
		}
		record, p.service = &rec, rec.Service.Identifier
	}
	a.applyDefaults(sbd, p.service, receiver, record)
	if err := a.carryMessageChannel(ctx, sbd); err != nil {
		return nil, err
	}
	if sender == nil { // the default sender
		s, _ := wire.ParseIdentifier(wire.ICDNorway + ":" + a.opts.OrgNumber)
		sender = &s
	}
	if err := a.validateCreate(ctx, p); err != nil {
		return nil, err
	}

	messageID, conversationID := sbd.MessageID(), sbd.ConversationID()
	erdt, _ := sbd.ExpectedResponseDateTime()
	senderID := sender.Primary()
	if sender.PartID != "" {
		senderID = sender.PartID
	}
	p.out = store.OutMessage{MessageID: messageID, ConversationID: conversationID, ProcessIdentifier: sbd.Process(),
		SenderIdentifier: senderID, ServiceIdentifier: string(p.service)}
	p.conv = store.Conversation{ConversationID: conversationID, MessageID: messageID, Sender: sender.Qualified(),
		SenderIdentifier: senderID, ProcessIdentifier: sbd.Process(), DocumentIdentifier: sbd.Standard(),
		MessageReference: conversationID, ServiceIdentifier: string(p.service), Expiry: erdt.Time}
	if receiver != nil {
		p.out.ReceiverIdentifier = receiver.Primary()
		p.conv.Receiver, p.conv.ReceiverIdentifier = receiver.Qualified(), receiver.Primary()
	}
	return p, nil
}

// commit stores a prepared message and its conversation with status OPPRETTET.
func (a *API) commit(ctx context.Context, p *prepared) error {
	b, err := json.Marshal(p.sbd)
	if err != nil {
		return errInternal(fmt.Errorf("encode sbd: %w", err))
	}
	p.out.SBD = b
	ev, err := a.opts.Store.CreateOutgoing(ctx, p.out, p.conv, a.opts.StatusQueue)
	if errors.Is(err, store.ErrDuplicate) {
		return errMessageAlreadyExists(p.out.MessageID)
	}
	if err != nil {
		return errInternal(err)
	}
	a.emit(ev)
	return nil
}

// normalizeSender applies the "på vegne av" rule (spec ip-api §4.3): a sender 0192:X with X other than
// the own organisation becomes 0192:<own>:X. It returns the parsed sender, or nil when there is none.
func (a *API) normalizeSender(sbd *wire.StandardBusinessDocument) (*wire.PartnerIdentifier, error) {
	if len(sbd.Header.Sender) == 0 || sbd.Header.Sender[0].Identifier == nil {
		return nil, nil
	}
	id := sbd.Header.Sender[0].Identifier
	p, err := wire.ParseIdentifier(id.Value)
	if err != nil { // bean validation refused it already
		return nil, newError(http.StatusBadRequest, exIllegalArgument, err.Error())
	}
	if p.IsOrganization() && p.PartID == "" && p.OrgID != a.opts.OrgNumber {
		p = wire.PartnerIdentifier{Kind: wire.KindOrganization, ICD: p.ICD, OrgID: a.opts.OrgNumber, PartID: p.OrgID}
		id.Value, id.Authority = p.Qualified(), wire.AuthorityISO6523
	}
	return &p, nil
}

// parseReceiver parses receiver[0], or returns nil when the SBD has no receiver. The real IP answers an
// unparseable receiver or an unknown authority with 500; here it is a 400 with the same message.
func parseReceiver(sbd *wire.StandardBusinessDocument) (*wire.PartnerIdentifier, error) {
	if len(sbd.Header.Receiver) == 0 || sbd.Header.Receiver[0].Identifier == nil {
		return nil, nil
	}
	id := sbd.Header.Receiver[0].Identifier
	if id.Authority != wire.AuthorityISO6523 && id.Authority != wire.AuthorityNHN {
		return nil, newError(http.StatusBadRequest, exIllegalArgument, "Unknown authority = "+id.Authority)
	}
	p, err := wire.ParseIdentifier(id.Value)
	if err != nil {
		return nil, newError(http.StatusBadRequest, exIllegalArgument, err.Error()).withCause(err)
	}
	return &p, nil
}

// badSignature is the registry client's description of an answer whose JWS does not verify; the real IP
// treats it as a refusal (ReceiverDoesNotAcceptProcessException), not an outage.
const badSignature = "Bad signature in response from service registry"

// resolve finds the channel of a message as the real ServiceRecordProvider does: the receiver's records
// for the process (with the security level of the payload and the conversationId) and the first whose
// document types hold the standard.
func (a *API) resolve(ctx context.Context, sbd *wire.StandardBusinessDocument, receiver wire.PartnerIdentifier) (wire.ServiceRecord, error) {
	q := registry.Query{Identifier: receiver.Primary(), Process: sbd.Process(), SecurityLevel: securityLevel(sbd.Message),
		ConversationID: sbd.ConversationID()}
	param := srParameter(q.Identifier, q.Process, q.SecurityLevel, q.ConversationID)
	if !pathSafe(q.Process) {
		// No register has a process by that name; the real IP would send it encoded and get a 404.
		return wire.ServiceRecord{}, errReceiverDoesNotAcceptProcess(q.Process, "Service record not found for parameters: "+param)
	}
	res, err := a.opts.Registry.Lookup(ctx, q)
	if err != nil {
		var re *registry.Error
		switch {
		case errors.Is(err, registry.ErrNotFound):
			return wire.ServiceRecord{}, errReceiverDoesNotAcceptProcess(q.Process, "Service record not found for parameters: "+param).withCause(err)
		case errors.Is(err, registry.ErrRefused) && errors.As(err, &re):
			return wire.ServiceRecord{}, errReceiverDoesNotAcceptProcess(q.Process, fmt.Sprintf(
				"Caught exception when looking up service record with parameter %s, http status %s: %s",
				param, javaHTTPStatus(re.Status), re.Description)).withCause(err)
		case errors.As(err, &re) && re.Description == badSignature:
			return wire.ServiceRecord{}, errReceiverDoesNotAcceptProcess(q.Process, badSignature).withCause(err)
		}
		return wire.ServiceRecord{}, errRegistryUnavailable(err)
	}
	for _, rec := range res.ServiceRecords {
		if rec.HasDocumentType(sbd.Standard()) {
			return rec, nil
		}
	}
	return wire.ServiceRecord{}, errReceiverDoesNotAcceptProcess(q.Process, fmt.Sprintf(
		"Error looking up service record with document type '%s' and parameters: %s", sbd.Standard(), param))
}

// pathSafe reports whether s can go into a URL path segment as it is (the registry client does not
// encode the process).
func pathSafe(s string) bool { return url.PathEscape(s) == s }

// errRegistryUnavailable is the answer when the address register cannot be asked: a 503 naming it (the
// real IP answers 500).
func errRegistryUnavailable(err error) *apiError {
	ex := exResourceAccess
	var re *registry.Error
	if errors.As(err, &re) && re.Status >= 500 {
		ex = exHTTPServerError
	}
	return newError(http.StatusServiceUnavailable, ex,
		"The address register (ServiceRegistry) is unavailable: "+err.Error()).withCause(err)
}

// srParameter renders the real IP's SRParameter as Lombok's toString does; it appears in error texts.
func srParameter(identifier, process string, level *int, conversationID string) string {
	orNull := func(s string) string {
		if s == "" {
			return "null"
		}
		return s
	}
	lvl := "null"
	if level != nil {
		lvl = strconv.Itoa(*level)
	}
	return fmt.Sprintf("SRParameter(identifier=%s, process=%s, securityLevel=%s, print=null, infoOnly=false, conversationId=%s)",
		identifier, orNull(process), lvl, orNull(conversationID))
}

// javaHTTPStatus renders a status like Spring's HttpStatusCode and status text: "400 BAD_REQUEST (Bad Request)".
func javaHTTPStatus(status int) string {
	text := http.StatusText(status)
	name := strings.ToUpper(strings.NewReplacer(" ", "_", "-", "_", "'", "").Replace(text))
	return fmt.Sprintf("%d %s (%s)", status, name, text)
}

// securityLevel is the payload's sikkerhetsnivaa (arkivmelding and digital carry one).
func securityLevel(m wire.BusinessMessage) *int {
	switch v := m.(type) {
	case *wire.Arkivmelding:
		return v.Sikkerhetsnivaa
	case *wire.Digital:
		return v.Sikkerhetsnivaa
	}
	return nil
}

// hoveddokument is the payload's primary-document filename.
func hoveddokument(m wire.BusinessMessage) string {
	switch v := m.(type) {
	case *wire.Arkivmelding:
		return v.Hoveddokument
	case *wire.ArkivmeldingKvittering:
		return v.Hoveddokument
	case *wire.Avtalt:
		return v.Hoveddokument
	case *wire.Digital:
		return v.Hoveddokument
	case *wire.DigitalDPV:
		return v.Hoveddokument
	case *wire.Print:
		return v.Hoveddokument
	case *wire.Innsynskrav:
		return v.Hoveddokument
	case *wire.Publisering:
		return v.Hoveddokument
	case *wire.EinnsynKvittering:
		return v.Hoveddokument
	case *wire.StatusMessage:
		return v.Hoveddokument
	case *wire.Dialogmelding:
		return v.Hoveddokument
	}
	return ""
}

// applyDefaults fills what the client left out, as the real NextMoveOutMessageFactory does (spec ip-api
// §4.4): sender, messageId, creationDateAndTime, expectedResponseDateTime (now + DefaultTTL on the
// ConversationId scope's first scopeInformation), every scope's instanceIdentifier, and for DPI print the
// print options and the addresses from the address register.
func (a *API) applyDefaults(sbd *wire.StandardBusinessDocument, service wire.ServiceIdentifier, receiver *wire.PartnerIdentifier, record *wire.ServiceRecord) {
	now := a.opts.Now().In(wire.Oslo()).Truncate(time.Microsecond)
	h := &sbd.Header
	if len(h.Sender) == 0 {
		h.Sender = []wire.Partner{{Identifier: &wire.PartnerIdentification{
			Value: wire.ICDNorway + ":" + a.opts.OrgNumber, Authority: wire.AuthorityISO6523}}}
	}
	di := h.DocumentIdentification
	if di.InstanceIdentifier == "" {
		di.InstanceIdentifier = uuid.NewString()
	}
	if di.CreationDateAndTime == nil {
		t := wire.NewOffsetDateTime(now)
		di.CreationDateAndTime = &t
	}
	if _, has := sbd.ExpectedResponseDateTime(); !has {
		ttl := wire.NewOffsetDateTime(now.Add(a.opts.DefaultTTL))
		if s := sbd.FindScope(wire.ScopeConversationID); s != nil {
			if len(s.ScopeInformation) == 0 {
				s.ScopeInformation = []wire.CorrelationInformation{{}}
			}
			s.ScopeInformation[0].ExpectedResponseDateTime = &ttl
		}
	}
	if service == wire.ServiceDPH {
		if s := sbd.FindScope(wire.ScopeConversationID); s != nil && s.InstanceIdentifier == "" {
			s.InstanceIdentifier = di.InstanceIdentifier
		}
	}
	for i := range h.BusinessScope.Scope {
		if h.BusinessScope.Scope[i].InstanceIdentifier == "" {
			h.BusinessScope.Scope[i].InstanceIdentifier = uuid.NewString()
		}
	}
	if pm, isPrint := sbd.Message.(*wire.Print); isPrint && service == wire.ServiceDPI {
		if pm.Utskriftsfarge == "" {
			pm.Utskriftsfarge = wire.PrintColorSortHvit
		}
		if pm.Posttype == "" {
			pm.Posttype = wire.PostalCategoryBOekonomi
		}
		if receiver != nil {
			if pm.Mottaker == nil {
				pm.Mottaker = &wire.PostalAddress{}
			}
			if pm.Retur == nil {
				pm.Retur = &wire.MailReturn{Mottaker: &wire.PostalAddress{}, Returhaandtering: wire.ReturnHandlingDirekteRetur}
			}
			if record != nil {
				fillAddress(pm.Mottaker, record.PostAddress)
				if pm.Retur.Mottaker != nil {
					fillAddress(pm.Retur.Mottaker, record.ReturnAddress)
				}
			}
		}
	}
}

// fillAddress fills the blank fields of a print address from the address register's (the street is split
// on ";" into adresselinje1..4).
func fillAddress(dst *wire.PostalAddress, src *wire.PostAddress) {
	if src == nil {
		return
	}
	if strings.TrimSpace(dst.Navn) == "" {
		dst.Navn = src.Name
	}
	if dst.Adresselinje1 == "" {
		lines := []*string{&dst.Adresselinje1, &dst.Adresselinje2, &dst.Adresselinje3, &dst.Adresselinje4}
		for i, l := range strings.Split(src.Street, ";") {
			if i < len(lines) {
				*lines[i] = l
			}
		}
	}
	if strings.TrimSpace(dst.Postnummer) == "" {
		dst.Postnummer = src.PostalCode
	}
	if strings.TrimSpace(dst.Poststed) == "" {
		dst.Poststed = src.PostalArea
	}
	if strings.TrimSpace(dst.Land) == "" {
		dst.Land = src.Country
	}
}

// validateCreate runs the real NextMoveValidator's create-time rules in its order (spec ip-api §4.7
// create rules 6–10 and 12): messageId reuse, channel enabled, print addresses, standard fits the type,
// DPF credentials and forsendelseType. The certificate (7), DPO message channel (11) and DPH (13) rules
// do not apply: the reference IP's certificate is always valid, no message channel is configured, and
// DPH is not enabled.
func (a *API) validateCreate(ctx context.Context, p *prepared) error {
	id := p.sbd.MessageID()
	if exists, err := a.opts.Store.OutgoingExists(ctx, id); err != nil {
		return errInternal(err)
	} else if exists {
		return errMessageAlreadyExists(id)
	}
	if p.typ != wire.TypeStatus {
		exists, err := a.opts.Store.ConversationExists(ctx, id)
		if err != nil {
			return errInternal(err)
		}
		if exists {
			return errMessageAlreadyExists(id)
		}
	}
	if !a.opts.EnabledServices[p.service] {
		return errServiceNotEnabled(p.service)
	}
	if pm, isPrint := p.sbd.Message.(*wire.Print); isPrint {
		if err := validatePrint(pm); err != nil {
			return err
		}
	}
	if std := p.sbd.Standard(); !strings.HasSuffix(std, "::"+string(p.typ)) {
		return errMessageTypeDoesNotFit(p.typ, std)
	}
	if p.service == wire.ServiceDPF && a.opts.DPF != nil {
		return a.validateDPF(ctx, p)
	}
	return nil
}

// validateDPF is create rule 12: the sender organisation (the part identifier of an on-behalf-of
// sender) needs SvarUt credentials, and arkivmelding.dpf.forsendelseType, when given, must be one of
// SvarUt's forsendelsestyper. Receipts are never sent to SvarUt and are not checked.
func (a *API) validateDPF(ctx context.Context, p *prepared) error {
	if p.typ.IsReceipt() {
		return nil
	}
	snd, err := wire.ParseIdentifier(p.sbd.SenderIdentifier())
	if err != nil {
		return nil // the sender was checked before; nothing more to say here
	}
	org := snd.OrgID
	if snd.PartID != "" {
		org = snd.PartID
	}
	if !a.opts.DPF.HasAccount(org) {
		return errMissingSvarUtCredentials(org)
	}
	am, ok := p.sbd.Message.(*wire.Arkivmelding)
	if !ok || am.DPF == nil || strings.TrimSpace(am.DPF.ForsendelseType) == "" {
		return nil
	}
	valid, err := a.opts.DPF.ForsendelseTyper(ctx, org)
	if err != nil {
		return errSvarUtUnavailable(err)
	}
	if !slices.Contains(valid, am.DPF.ForsendelseType) {
		return errForsendelseTypeNotFound(am.DPF.ForsendelseType, valid)
	}
	return nil
}

// validatePrint checks the print addresses as the real IP does, including its precedence slip: an
// address counts as Norwegian when land is absent, "Norge" or "Norway" (any case).
func validatePrint(pm *wire.Print) error {
	norwegian := func(a *wire.PostalAddress) bool {
		return a.Land == "" || strings.EqualFold(a.Land, "Norge") || strings.EqualFold(a.Land, "Norway")
	}
	incomplete := func(a *wire.PostalAddress) bool {
		return a.Adresselinje1 == "" || norwegian(a) && (a.Postnummer == "" || a.Poststed == "")
	}
	if pm.Mottaker == nil {
		return errMissingAddressInformation("mottaker")
	}
	if incomplete(pm.Mottaker) {
		return errMissingAddressInformation("mottaker.postnummer/poststed/adresselinje1")
	}
	if pm.Retur == nil {
		return errMissingAddressInformation("retur")
	}
	// The real IP fails with a NullPointerException (500) when retur.mottaker is absent.
	if pm.Retur.Mottaker == nil || incomplete(pm.Retur.Mottaker) {
		return errMissingAddressInformation("retur.postnummer/poststed/adresselinje1")
	}
	return nil
}

// carryMessageChannel gives a receipt the message channel of the message it answers, as the real IP does
// with its message_channel_entry table (spec upstreams §4.3), unless the client set one.
func (a *API) carryMessageChannel(ctx context.Context, sbd *wire.StandardBusinessDocument) error {
	k, ok := sbd.Message.(*wire.ArkivmeldingKvittering)
	if !ok || k.RelatedToMessageID == "" || sbd.MessageChannel() != "" || sbd.Header.BusinessScope == nil {
		return nil
	}
	ch, err := a.opts.Store.MessageChannelOf(ctx, k.RelatedToMessageID)
	if err != nil {
		return errInternal(err)
	}
	if ch != "" {
		sbd.Header.BusinessScope.Scope = append(sbd.Header.BusinessScope.Scope,
			wire.Scope{Type: wire.ScopeMessageChannel, InstanceIdentifier: uuid.NewString(), Identifier: ch})
	}
	return nil
}
