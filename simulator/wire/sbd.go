package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
)

// HeaderKey is the top-level JSON key of the SBD header.
const HeaderKey = "standardBusinessDocumentHeader"

// StandardBusinessDocument is the SBD JSON that clients post to and read from the integration point and
// that DPO/DPE carry verbatim (spec ip-api §3, upstreams §1.3.1):
//
//	{ "standardBusinessDocumentHeader": {…}, "<documentIdentification.type>": {…business message…} }
//
// Its JSON form is strict; see ParseSBD and MarshalJSON.
type StandardBusinessDocument struct {
	Header StandardBusinessDocumentHeader
	// Message is the business message, written under the key Message.MessageType().
	Message BusinessMessage
}

// StandardBusinessDocumentHeader is the SBD header. Empty strings and nil pointers count as null: they are
// omitted on output and fail NotNull in Validate. Sender and Receiver are always written, as [] when
// empty, as the real IP does.
type StandardBusinessDocumentHeader struct {
	HeaderVersion          string                  `json:"headerVersion,omitempty"`
	Sender                 []Partner               `json:"sender"`
	Receiver               []Partner               `json:"receiver"`
	DocumentIdentification *DocumentIdentification `json:"documentIdentification,omitempty"`
	Manifest               *Manifest               `json:"manifest,omitempty"`
	BusinessScope          *BusinessScope          `json:"businessScope,omitempty"`
}

// MarshalJSON writes the header, with nil Sender and Receiver as [].
func (h StandardBusinessDocumentHeader) MarshalJSON() ([]byte, error) {
	type plain StandardBusinessDocumentHeader
	p := plain(h)
	if p.Sender == nil {
		p.Sender = []Partner{}
	}
	if p.Receiver == nil {
		p.Receiver = []Partner{}
	}
	return marshalNoEscape(p)
}

// Partner is a sender or receiver.
type Partner struct {
	Identifier *PartnerIdentification `json:"identifier,omitempty"`
	// ContactInformation is omitted when empty.
	ContactInformation []ContactInformation `json:"contactInformation,omitempty"`
}

// PartnerIdentification is a party identifier as written in the SBD: Value is e.g. "0192:910077473",
// an 11-digit fødselsnummer or "her-id:123"; Authority is AuthorityISO6523 or AuthorityNHN.
type PartnerIdentification struct {
	Value     string `json:"value,omitempty"`
	Authority string `json:"authority,omitempty"`
}

// ContactInformation is one contactInformation entry of a Partner.
type ContactInformation struct {
	Contact               string `json:"contact,omitempty"`
	EmailAddress          string `json:"emailAddress,omitempty"`
	FaxNumber             string `json:"faxNumber,omitempty"`
	TelephoneNumber       string `json:"telephoneNumber,omitempty"`
	ContactTypeIdentifier string `json:"contactTypeIdentifier,omitempty"`
}

// DocumentIdentification identifies the document: Standard is the document type URN (ending in
// "::<Type>"), InstanceIdentifier the messageId, Type the message type as written.
type DocumentIdentification struct {
	Standard            string          `json:"standard,omitempty"`
	TypeVersion         string          `json:"typeVersion,omitempty"`
	InstanceIdentifier  string          `json:"instanceIdentifier,omitempty"`
	Type                string          `json:"type,omitempty"`
	MultipleType        *bool           `json:"multipleType,omitempty"`
	CreationDateAndTime *OffsetDateTime `json:"creationDateAndTime,omitempty"`
}

// Manifest is the rarely used SBD manifest. ManifestItem is always written, as [] when empty.
type Manifest struct {
	NumberOfItems *int64         `json:"numberOfItems,omitempty"`
	ManifestItem  []ManifestItem `json:"manifestItem"`
}

// MarshalJSON writes the manifest, with a nil ManifestItem as [].
func (m Manifest) MarshalJSON() ([]byte, error) {
	type plain Manifest
	p := plain(m)
	if p.ManifestItem == nil {
		p.ManifestItem = []ManifestItem{}
	}
	return marshalNoEscape(p)
}

// ManifestItem is one manifest entry.
type ManifestItem struct {
	MimeTypeQualifierCode     string `json:"mimeTypeQualifierCode,omitempty"`
	UniformResourceIdentifier string `json:"uniformResourceIdentifier,omitempty"`
	Description               string `json:"description,omitempty"`
	LanguageCode              string `json:"languageCode,omitempty"`
}

// BusinessScope holds the scopes. Scope is always written, as [] when empty.
type BusinessScope struct {
	Scope []Scope `json:"scope"`
}

// MarshalJSON writes the business scope, with a nil Scope as [].
func (b BusinessScope) MarshalJSON() ([]byte, error) {
	type plain BusinessScope
	p := plain(b)
	if p.Scope == nil {
		p.Scope = []Scope{}
	}
	return marshalNoEscape(p)
}

// ScopeType is the type of a Scope. Any string reads; Validate checks it against ScopeTypes.
type ScopeType string

// The scope types the integration point accepts.
const (
	// ScopeConversationID carries the conversationId (instanceIdentifier), the process (identifier) and
	// the time to live (scopeInformation[0].expectedResponseDateTime).
	ScopeConversationID ScopeType = "ConversationId"
	// ScopeSenderRef is the sender's free reference, in instanceIdentifier.
	ScopeSenderRef ScopeType = "SenderRef"
	// ScopeReceiverRef is the receiver's free reference, in instanceIdentifier.
	ScopeReceiverRef ScopeType = "ReceiverRef"
	// ScopeMessageChannel names a DPO message channel, in identifier.
	ScopeMessageChannel ScopeType = "MessageChannel"
	// ScopeJournalpostID is used for logging only.
	ScopeJournalpostID ScopeType = "JournalpostId"
	// ScopeParentID refers to a parent message.
	ScopeParentID ScopeType = "ParentId"
)

// ScopeTypes returns the accepted scope types in the order the real @OneOf lists them.
func ScopeTypes() []ScopeType {
	return []ScopeType{ScopeJournalpostID, ScopeConversationID, ScopeParentID, ScopeSenderRef, ScopeReceiverRef,
		ScopeMessageChannel}
}

// Scope is one businessScope.scope entry. ScopeInformation is omitted when empty.
type Scope struct {
	Type               ScopeType                `json:"type,omitempty"`
	InstanceIdentifier string                   `json:"instanceIdentifier,omitempty"`
	Identifier         string                   `json:"identifier,omitempty"`
	ScopeInformation   []CorrelationInformation `json:"scopeInformation,omitempty"`
}

// CorrelationInformation is one scopeInformation entry.
type CorrelationInformation struct {
	RequestingDocumentCreationDateTime   *OffsetDateTime `json:"requestingDocumentCreationDateTime,omitempty"`
	RequestingDocumentInstanceIdentifier string          `json:"requestingDocumentInstanceIdentifier,omitempty"`
	// ExpectedResponseDateTime is the message's time to live (on the ConversationId scope).
	ExpectedResponseDateTime *OffsetDateTime `json:"expectedResponseDateTime,omitempty"`
}

// MessageID returns documentIdentification.instanceIdentifier, or "".
func (d *StandardBusinessDocument) MessageID() string {
	if d == nil || d.Header.DocumentIdentification == nil {
		return ""
	}
	return d.Header.DocumentIdentification.InstanceIdentifier
}

// ConversationID returns the instanceIdentifier of the ConversationId scope, or "".
func (d *StandardBusinessDocument) ConversationID() string {
	if s := d.FindScope(ScopeConversationID); s != nil {
		return s.InstanceIdentifier
	}
	return ""
}

// Process returns the identifier of the ConversationId scope (the process URN), or "".
func (d *StandardBusinessDocument) Process() string {
	if s := d.FindScope(ScopeConversationID); s != nil {
		return s.Identifier
	}
	return ""
}

// Type returns the message type: that of Message when set (after ParseSBD it matches the header's type
// case-insensitively), otherwise documentIdentification.type as written.
func (d *StandardBusinessDocument) Type() MessageType {
	if d == nil {
		return ""
	}
	if t, ok := payloadType(d.Message); ok {
		return t
	}
	if d.Header.DocumentIdentification == nil {
		return ""
	}
	return MessageType(d.Header.DocumentIdentification.Type)
}

// Standard returns documentIdentification.standard (the document type URN), or "".
func (d *StandardBusinessDocument) Standard() string {
	if d == nil || d.Header.DocumentIdentification == nil {
		return ""
	}
	return d.Header.DocumentIdentification.Standard
}

// SenderIdentifier returns sender[0].identifier.value as written, or "".
func (d *StandardBusinessDocument) SenderIdentifier() string {
	if d == nil {
		return ""
	}
	return firstPartnerValue(d.Header.Sender)
}

// ReceiverIdentifier returns receiver[0].identifier.value as written, or "".
func (d *StandardBusinessDocument) ReceiverIdentifier() string {
	if d == nil {
		return ""
	}
	return firstPartnerValue(d.Header.Receiver)
}

func firstPartnerValue(ps []Partner) string {
	if len(ps) == 0 || ps[0].Identifier == nil {
		return ""
	}
	return ps[0].Identifier.Value
}

// ExpectedResponseDateTime returns expectedResponseDateTime of the first scopeInformation of the
// ConversationId scope, and whether it is present.
func (d *StandardBusinessDocument) ExpectedResponseDateTime() (OffsetDateTime, bool) {
	s := d.FindScope(ScopeConversationID)
	if s == nil || len(s.ScopeInformation) == 0 || s.ScopeInformation[0].ExpectedResponseDateTime == nil {
		return OffsetDateTime{}, false
	}
	return *s.ScopeInformation[0].ExpectedResponseDateTime, true
}

// FindScope returns the first scope of type t, pointing into the document so that it can be changed,
// or nil.
func (d *StandardBusinessDocument) FindScope(t ScopeType) *Scope {
	if d == nil || d.Header.BusinessScope == nil {
		return nil
	}
	for i := range d.Header.BusinessScope.Scope {
		if d.Header.BusinessScope.Scope[i].Type == t {
			return &d.Header.BusinessScope.Scope[i]
		}
	}
	return nil
}

// MessageChannel returns the identifier of the MessageChannel scope, or "".
func (d *StandardBusinessDocument) MessageChannel() string {
	if s := d.FindScope(ScopeMessageChannel); s != nil {
		return s.Identifier
	}
	return ""
}

// Errors of ParseSBD, StandardBusinessDocument.UnmarshalJSON and MarshalJSON. Each is the Kind of an
// *SBDError; test with errors.Is.
var (
	// ErrMalformedJSON: the input is not JSON, or the header or payload has a value of the wrong JSON type
	// or an unknown enum value (wrapping ErrUnknownEnumValue or ErrInvalidTimestamp where that is the
	// cause). The real IP answers 400 (HttpMessageNotReadableException).
	ErrMalformedJSON = errors.New("malformed sbd json")
	// ErrTopLevelShape: the top level is not an object of exactly two keys, the header or payload is not
	// a JSON object, or the header key is missing. The real IP answers 500 (IllegalArgumentException).
	ErrTopLevelShape = errors.New("bad sbd top-level shape")
	// ErrMissingType: documentIdentification.type is absent. The real IP answers 400 when the header
	// comes first and 500 when the payload comes first.
	ErrMissingType = errors.New("missing sbd type")
	// ErrUnknownType: the type (or the first key, when it is not the header) is not one of the twelve
	// business types. The real IP answers 500.
	ErrUnknownType = errors.New("unknown sbd type")
	// ErrPayloadKeyMismatch: the business-message key is not the type. The real IP answers 500.
	ErrPayloadKeyMismatch = errors.New("sbd payload key does not match type")
)

// SBDError is the error (de)serialising a StandardBusinessDocument returns.
type SBDError struct {
	// Kind is one of ErrMalformedJSON, ErrTopLevelShape, ErrMissingType, ErrUnknownType and
	// ErrPayloadKeyMismatch.
	Kind error
	// Reason names the problem, e.g. `expected to find field named "arkivmelding", but found "digital"`.
	Reason string
	// JavaMessage is the message the real IP's deserializer gives for the same input, e.g. "Expected to
	// find field named arkivmelding, but found digital". For ErrMalformedJSON only its "JSON parse error: "
	// prefix is Java's. It is empty where the real IP accepts the input (this package also requires a
	// payload-first document's key to match its header type).
	JavaMessage string
	// JavaStatus is the HTTP status the real IP answers with (400 or 500), or 0 where it accepts the input.
	JavaStatus int
	// Err is the underlying cause, if any (a json error, *EnumError, …).
	Err error
}

// Error returns "sbd: <reason>[: <cause>]".
func (e *SBDError) Error() string {
	if e.Err != nil {
		return "sbd: " + e.Reason + ": " + e.Err.Error()
	}
	return "sbd: " + e.Reason
}

// Unwrap returns Kind and Err, so errors.Is matches either.
func (e *SBDError) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// javaTypeList is the real IP's list of business types in its "Unknown BusinessMessageType" message.
func javaTypeList() string {
	names := make([]string, 0, 12)
	for _, t := range BusinessTypes() {
		names = append(names, string(t))
	}
	return strings.Join(names, ",")
}

func unknownTypeError(typ string) *SBDError {
	names := make([]string, 0, 12)
	for _, t := range BusinessTypes() {
		names = append(names, string(t))
	}
	return &SBDError{
		Kind:        ErrUnknownType,
		Reason:      fmt.Sprintf("unknown business message type %q, expected one of %s", typ, strings.Join(names, ", ")),
		JavaMessage: fmt.Sprintf("Unknown BusinessMessageType = %s. Expecting one of %s", typ, javaTypeList()),
		JavaStatus:  500,
	}
}

func keyMismatchError(want, got string) *SBDError {
	return &SBDError{
		Kind:        ErrPayloadKeyMismatch,
		Reason:      fmt.Sprintf("expected to find field named %q, but found %q", want, got),
		JavaMessage: fmt.Sprintf("Expected to find field named %s, but found %s", want, got),
		JavaStatus:  500,
	}
}

func shapeError(reason, java string) *SBDError {
	return &SBDError{Kind: ErrTopLevelShape, Reason: reason, JavaMessage: java, JavaStatus: 500}
}

func malformedError(reason string, err error) *SBDError {
	return &SBDError{Kind: ErrMalformedJSON, Reason: reason, JavaMessage: "JSON parse error: " + err.Error(),
		JavaStatus: 400, Err: err}
}

// businessType finds the business type t names, case-insensitively as the real IP does.
func businessType(t string) (MessageType, bool) {
	for _, b := range BusinessTypes() {
		if strings.EqualFold(string(b), t) {
			return b, true
		}
	}
	return "", false
}

// ParseSBD reads an SBD strictly, as the real IP's deserializer does (spec ip-api §3.1):
//
//   - the top level is an object with exactly two keys: standardBusinessDocumentHeader and the business
//     message, in either order;
//   - documentIdentification.type is present and names one of the twelve business types (matched
//     case-insensitively, like the real IP), and the business-message key is that type's canonical
//     spelling (e.g. "arkivmelding");
//   - both values are JSON objects.
//
// Unknown properties inside the header and payload are ignored and dropped. Unknown enum values, wrong
// JSON types and bad timestamps are errors. Every error is an *SBDError. ParseSBD never panics.
func ParseSBD(data []byte) (*StandardBusinessDocument, error) {
	var d StandardBusinessDocument
	if err := d.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return &d, nil
}

// UnmarshalJSON is ParseSBD; d is changed only on success.
func (d *StandardBusinessDocument) UnmarshalJSON(data []byte) error {
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		if err == nil { // unreachable: json.Valid and json.Unmarshal agree
			err = errors.New("invalid json")
		}
		return malformedError("malformed json", err)
	}
	if kind, _ := rawKind(data); kind != "object" {
		return shapeError(fmt.Sprintf("top level must be a json object, found %s", kind),
			fmt.Sprintf("Unknown BusinessMessageType = null. Expecting one of %s", javaTypeList()))
	}
	r := sbdReader{dec: json.NewDecoder(bytes.NewReader(data))}
	if _, err := r.dec.Token(); err != nil { // the opening brace
		return malformedError("malformed json", err)
	}
	first, ok := r.key()
	if !ok {
		return shapeError("expected 2 top-level fields, found none",
			fmt.Sprintf("Unknown BusinessMessageType = null. Expecting one of %s", javaTypeList()))
	}
	var (
		out StandardBusinessDocument
		err error
	)
	if first == HeaderKey {
		out, err = r.headerFirst()
	} else {
		out, err = r.payloadFirst(first)
	}
	if err != nil {
		return err
	}
	if extra, ok := r.key(); ok {
		return shapeError(fmt.Sprintf("unexpected third top-level field %q", extra),
			"Expected token END_OBJECT, but found FIELD_NAME")
	}
	*d = out
	return nil
}

// sbdReader walks the top level of a syntactically valid SBD.
type sbdReader struct {
	dec *json.Decoder
}

// key returns the next top-level key, or false at the end of the object.
func (r *sbdReader) key() (string, bool) {
	tok, err := r.dec.Token()
	if err != nil {
		return "", false
	}
	s, ok := tok.(string)
	return s, ok
}

// object reads the value of key and requires a JSON object.
func (r *sbdReader) object(key string) (json.RawMessage, error) {
	var raw json.RawMessage
	if err := r.dec.Decode(&raw); err != nil {
		return nil, malformedError("malformed json", err)
	}
	if kind, tok := rawKind(raw); kind != "object" {
		return nil, shapeError(fmt.Sprintf("%q must be a json object, found %s", key, kind),
			fmt.Sprintf("Expected token START_OBJECT, but found %s", tok))
	}
	return raw, nil
}

func (r *sbdReader) header() (StandardBusinessDocumentHeader, error) {
	var h StandardBusinessDocumentHeader
	raw, err := r.object(HeaderKey)
	if err != nil {
		return h, err
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return h, malformedError("invalid "+HeaderKey, err)
	}
	return h, nil
}

func (r *sbdReader) payload(t MessageType) (BusinessMessage, error) {
	raw, err := r.object(string(t))
	if err != nil {
		return nil, err
	}
	m := newBusinessMessage(t)
	if err := json.Unmarshal(raw, m); err != nil {
		return nil, malformedError(fmt.Sprintf("invalid %q message", t), err)
	}
	return m, nil
}

func headerType(h StandardBusinessDocumentHeader) string {
	if h.DocumentIdentification == nil {
		return ""
	}
	return h.DocumentIdentification.Type
}

func (r *sbdReader) headerFirst() (StandardBusinessDocument, error) {
	h, err := r.header()
	if err != nil {
		return StandardBusinessDocument{}, err
	}
	typ := headerType(h)
	if typ == "" {
		return StandardBusinessDocument{}, &SBDError{Kind: ErrMissingType,
			Reason: HeaderKey + ".documentIdentification.type is missing", JavaMessage: "Missing type!", JavaStatus: 400}
	}
	t, ok := businessType(typ)
	if !ok {
		return StandardBusinessDocument{}, unknownTypeError(typ)
	}
	key, ok := r.key()
	if !ok {
		return StandardBusinessDocument{}, shapeError(fmt.Sprintf("missing business message field %q", t),
			"Expected token FIELD_NAME, but found END_OBJECT")
	}
	if key != string(t) {
		return StandardBusinessDocument{}, keyMismatchError(string(t), key)
	}
	m, err := r.payload(t)
	if err != nil {
		return StandardBusinessDocument{}, err
	}
	return StandardBusinessDocument{Header: h, Message: m}, nil
}

func (r *sbdReader) payloadFirst(key string) (StandardBusinessDocument, error) {
	t, ok := businessType(key)
	if !ok {
		return StandardBusinessDocument{}, unknownTypeError(key)
	}
	if key != string(t) {
		return StandardBusinessDocument{}, keyMismatchError(string(t), key)
	}
	m, err := r.payload(t)
	if err != nil {
		return StandardBusinessDocument{}, err
	}
	next, ok := r.key()
	if !ok {
		return StandardBusinessDocument{}, shapeError(fmt.Sprintf("missing %q", HeaderKey),
			"Expected token FIELD_NAME, but found END_OBJECT")
	}
	if next != HeaderKey {
		return StandardBusinessDocument{}, shapeError(
			fmt.Sprintf("expected to find field named %q, but found %q", HeaderKey, next),
			fmt.Sprintf("Expected to find field named %s, but found %s", HeaderKey, next))
	}
	h, err := r.header()
	if err != nil {
		return StandardBusinessDocument{}, err
	}
	typ := headerType(h)
	if typ == "" {
		return StandardBusinessDocument{}, &SBDError{Kind: ErrMissingType,
			Reason:      HeaderKey + ".documentIdentification.type is missing",
			JavaMessage: "Missing type in standardBusinessDocumentHeader.", JavaStatus: 500}
	}
	ht, ok := businessType(typ)
	if !ok {
		return StandardBusinessDocument{}, unknownTypeError(typ)
	}
	if ht != t {
		// The real IP does not compare the two in this order; a document whose payload is not its type
		// would not survive a round trip, so it is refused here.
		e := keyMismatchError(string(ht), key)
		e.JavaMessage, e.JavaStatus = "", 0
		return StandardBusinessDocument{}, e
	}
	return StandardBusinessDocument{Header: h, Message: m}, nil
}

// rawKind names the JSON kind of a raw value, in Go terms ("string") and as a Jackson token
// ("VALUE_STRING").
func rawKind(raw []byte) (kind, javaToken string) {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return "nothing", "null"
	}
	switch raw[0] {
	case '{':
		return "object", "START_OBJECT"
	case '[':
		return "array", "START_ARRAY"
	case '"':
		return "string", "VALUE_STRING"
	case 'n':
		return "null", "VALUE_NULL"
	case 't':
		return "boolean", "VALUE_TRUE"
	case 'f':
		return "boolean", "VALUE_FALSE"
	}
	if bytes.ContainsAny(raw, ".eE") {
		return "number", "VALUE_NUMBER_FLOAT"
	}
	return "number", "VALUE_NUMBER_INT"
}

// payloadType returns m's type, or false if m is nil or a nil pointer.
func payloadType(m BusinessMessage) (MessageType, bool) {
	if v := reflect.ValueOf(m); !v.IsValid() || v.Kind() == reflect.Pointer && v.IsNil() {
		return "", false
	}
	return m.MessageType(), true
}

// MarshalJSON writes the header first and then Message under the key Message.MessageType(). Message must
// be set, and documentIdentification.type must name the same type (case-insensitively), so that the
// output parses again; otherwise an *SBDError is returned.
func (d StandardBusinessDocument) MarshalJSON() ([]byte, error) {
	t, ok := payloadType(d.Message)
	if !ok {
		return nil, shapeError("business message is missing", "")
	}
	if ht, ok := businessType(headerType(d.Header)); !ok || ht != t {
		return nil, &SBDError{Kind: ErrPayloadKeyMismatch,
			Reason: fmt.Sprintf("documentIdentification.type %q does not match business message type %q", headerType(d.Header), t)}
	}
	h, err := marshalNoEscape(d.Header)
	if err != nil {
		return nil, err
	}
	m, err := marshalNoEscape(d.Message)
	if err != nil {
		return nil, err
	}
	if len(m) == 0 || m[0] != '{' {
		return nil, shapeError(fmt.Sprintf("business message %q is not a json object", t), "")
	}
	key, _ := json.Marshal(string(t))
	var b bytes.Buffer
	b.Grow(len(h) + len(m) + len(HeaderKey) + len(key) + 8)
	b.WriteString(`{"` + HeaderKey + `":`)
	b.Write(h)
	b.WriteByte(',')
	b.Write(key)
	b.WriteByte(':')
	b.Write(m)
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshalNoEscape is json.Marshal without HTML escaping: the encoder that calls a MarshalJSON method
// escapes its output itself when it is set to, so json.Encoder.SetEscapeHTML(false) (Jackson writes '<'
// as is) reaches nested values.
func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// FieldError is one bean-validation failure of Validate, in the shape the real IP reports it (spec
// ip-api §2.3). Field is the property path as Hibernate Validator prints it: set-valued properties
// (sender, receiver, scope, scopeInformation) have no index, e.g.
// "standardBusinessDocumentHeader.businessScope.scope[].type".
type FieldError struct {
	Field string `json:"field"`
	// Code is the constraint name: NotNull, Size, UUID, MessageType, OneOf, Pattern or
	// MessageTypeDoesNotFitDocumentType.
	Code string `json:"code"`
	// Message is the default (English) message, e.g. "must not be null".
	Message       string `json:"defaultMessage"`
	RejectedValue any    `json:"rejectedValue"`
}

// Error returns "<field>: <message>", as the real IP's ConstraintViolationException message does.
func (e FieldError) Error() string { return e.Field + ": " + e.Message }

var messageChannelPattern = regexp.MustCompile(`^[a-zA-Z0-9-_]{0,25}$`)

// Validate checks the header's shape as the real IP's bean validation does on create (spec ip-api §3.2),
// plus the rule that documentIdentification.standard ends with "::<type>". Empty strings count as null.
// Checks that need outside state are left to the caller: the sender identifier (@SenderValue),
// expectedResponseDateTime in the future (@Future), and the receiver's capabilities. It returns nil
// when the document is valid.
func (d *StandardBusinessDocument) Validate() []FieldError {
	if d == nil {
		return []FieldError{{Field: HeaderKey, Code: "NotNull", Message: "must not be null"}}
	}
	const hp = HeaderKey + "."
	var errs []FieldError
	add := func(field, code, msg string, rejected any) {
		errs = append(errs, FieldError{Field: hp + field, Code: code, Message: msg, RejectedValue: rejected})
	}
	notNull := func(field, v string) {
		if v == "" {
			add(field, "NotNull", "must not be null", nil)
		}
	}
	h := d.Header
	notNull("headerVersion", h.HeaderVersion)
	if len(h.Sender) > 1 {
		add("sender", "Size", "size must be between 0 and 1", h.Sender)
	}
	if len(h.Receiver) > 1 {
		add("receiver", "Size", "size must be between 0 and 1", h.Receiver)
	}

	if di := h.DocumentIdentification; di == nil {
		add("documentIdentification", "NotNull", "must not be null", nil)
	} else {
		notNull("documentIdentification.standard", di.Standard)
		notNull("documentIdentification.typeVersion", di.TypeVersion)
		if di.InstanceIdentifier != "" && !isJavaUUID(di.InstanceIdentifier) {
			add("documentIdentification.instanceIdentifier", "UUID",
				fmt.Sprintf("'%s' is not a UUID.", di.InstanceIdentifier), di.InstanceIdentifier)
		}
		notNull("documentIdentification.type", di.Type)
		t, known := messageType(di.Type)
		if !known {
			var rejected any
			if di.Type != "" {
				rejected = di.Type
			}
			add("documentIdentification.type", "MessageType", "Must be a NextMove message type", rejected)
		}
		if known && di.Standard != "" && !strings.HasSuffix(di.Standard, "::"+string(t)) {
			add("documentIdentification.standard", "MessageTypeDoesNotFitDocumentType",
				fmt.Sprintf("Message type %s does not match the document type %s", t, di.Standard), di.Standard)
		}
	}

	bs := h.BusinessScope
	switch {
	case bs == nil:
		add("businessScope", "NotNull", "must not be null", nil)
	case bs.Scope == nil:
		add("businessScope.scope", "NotNull", "must not be null", nil)
	case len(bs.Scope) == 0:
		add("businessScope.scope", "Size", "size must be between 1 and 2147483647", bs.Scope)
	}
	if bs != nil {
		allowed := ScopeTypes()
		names := make([]string, len(allowed))
		for i, a := range allowed {
			names[i] = string(a)
		}
		for _, s := range bs.Scope {
			const sp = "businessScope.scope[]."
			switch {
			case s.Type == "":
				add(sp+"type", "NotNull", "must not be null", nil)
			case !isScopeType(s.Type):
				add(sp+"type", "OneOf", fmt.Sprintf("'%s' is not expected. Allowed values are: [%s]", s.Type,
					strings.Join(names, ", ")), string(s.Type))
			}
			if s.Type == ScopeConversationID && s.InstanceIdentifier != "" && !isJavaUUID(s.InstanceIdentifier) {
				add(sp+"instanceIdentifier", "UUID", fmt.Sprintf("'%s' is not a UUID.", s.InstanceIdentifier),
					s.InstanceIdentifier)
			}
			if s.Type == ScopeMessageChannel && !messageChannelPattern.MatchString(s.Identifier) {
				add(sp+"identifier", "Pattern", `must match "^[a-zA-Z0-9-_]{0,25}$"`, s.Identifier)
			}
		}
	}
	return errs
}

// messageType finds the message type (including feil) t names, case-insensitively as the real
// @MessageType validator does.
func messageType(t string) (MessageType, bool) {
	if bt, ok := businessType(t); ok {
		return bt, true
	}
	if strings.EqualFold(t, string(TypeFeil)) {
		return TypeFeil, true
	}
	return "", false
}

func isScopeType(t ScopeType) bool {
	for _, a := range ScopeTypes() {
		if a == t {
			return true
		}
	}
	return false
}

// isJavaUUID reports whether java.util.UUID.fromString accepts s: at most 36 characters, five
// dash-separated groups of hex digits (an optional '+' sign each), each fitting a signed 64-bit long.
// Java is more lenient than the canonical 8-4-4-4-12 form (it accepts "1-1-1-1-1").
func isJavaUUID(s string) bool {
	if len(s) > 36 {
		return false
	}
	parts := strings.Split(s, "-")
	if len(parts) != 5 {
		return false
	}
	for _, p := range parts {
		p = strings.TrimPrefix(p, "+")
		if p == "" {
			return false
		}
		for i := 0; i < len(p); i++ {
			c := p[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
		p = strings.TrimLeft(p, "0")
		if len(p) > 16 || len(p) == 16 && p[0] > '7' {
			return false
		}
	}
	return true
}
