package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

// senderValueMessage is the real @SenderValue message: its message key is undefined, so Hibernate
// Validator prints the template itself.
const senderValueMessage = "{no.difi.meldingsutveksling.validation.IntegrasjonspunktOrganization}"

// beanValidate is the real IP's bean validation of a posted SBD (spec ip-api §3.2, §4.7 create rule 2):
// wire's header checks, without the "standard ends with ::type" rule (the real IP checks that later, as
// MessageTypeDoesNotFitDocumentTypeException), plus the partner checks and @Future on
// expectedResponseDateTime, which need more than the document.
func beanValidate(d *wire.StandardBusinessDocument, now time.Time) []wire.FieldError {
	var out []wire.FieldError
	for _, e := range d.Validate() {
		if e.Code != "MessageTypeDoesNotFitDocumentType" {
			out = append(out, e)
		}
	}
	const hp = wire.HeaderKey + "."
	partners := func(name string, ps []wire.Partner, sender bool) {
		for _, p := range ps {
			base := hp + name + "[]."
			for _, c := range p.ContactInformation {
				if c.Contact == "" {
					out = append(out, wire.FieldError{Field: base + "contactInformation[].contact", Code: "NotNull",
						Message: "must not be null"})
				}
			}
			if p.Identifier == nil {
				out = append(out, wire.FieldError{Field: base + "identifier", Code: "NotNull", Message: "must not be null"})
				continue
			}
			if p.Identifier.Value == "" {
				out = append(out, wire.FieldError{Field: base + "identifier.value", Code: "NotNull", Message: "must not be null"})
			} else if _, err := wire.ParseIdentifier(p.Identifier.Value); sender && err != nil {
				out = append(out, wire.FieldError{Field: base + "identifier.value", Code: "SenderValue",
					Message: senderValueMessage, RejectedValue: p.Identifier.Value})
			}
			if p.Identifier.Authority == "" {
				out = append(out, wire.FieldError{Field: base + "identifier.authority", Code: "NotNull", Message: "must not be null"})
			}
		}
	}
	partners("sender", d.Header.Sender, true)
	partners("receiver", d.Header.Receiver, false)
	if m := d.Header.Manifest; m != nil {
		for i, it := range m.ManifestItem {
			base := fmt.Sprintf("%smanifest.manifestItem[%d].", hp, i)
			if it.MimeTypeQualifierCode == "" {
				out = append(out, wire.FieldError{Field: base + "mimeTypeQualifierCode", Code: "NotNull", Message: "must not be null"})
			}
			if it.UniformResourceIdentifier == "" {
				out = append(out, wire.FieldError{Field: base + "uniformResourceIdentifier", Code: "NotNull", Message: "must not be null"})
			}
		}
	}
	if bs := d.Header.BusinessScope; bs != nil {
		for _, s := range bs.Scope {
			for _, ci := range s.ScopeInformation {
				if t := ci.ExpectedResponseDateTime; t != nil && !t.After(now) {
					out = append(out, wire.FieldError{
						Field: hp + "businessScope.scope[].scopeInformation[].expectedResponseDateTime",
						Code:  "Future", Message: "must be a future date", RejectedValue: t.String()})
				}
			}
		}
	}
	return out
}

// errMethodArgumentNotValid is the create endpoint's answer to bean-validation errors (spec ip-api §2.3
// shape 1): Spring's binding errors on the object "standardBusinessDocument".
func errMethodArgumentNotValid(errs []wire.FieldError) *apiError {
	const object = "standardBusinessDocument"
	e := newError(http.StatusBadRequest, exMethodArgNotValid,
		fmt.Sprintf("Validation failed for object='%s'. Error count: %d", object, len(errs)))
	for _, fe := range errs {
		e.errors = append(e.errors, wire.ValidationError{
			Codes:          messageCodes(fe.Code, object, fe.Field),
			DefaultMessage: fe.Message,
			ObjectName:     object,
			Field:          fe.Field,
			RejectedValue:  fe.RejectedValue,
			Code:           fe.Code,
		})
	}
	return e
}

// messageCodes are Spring's DefaultMessageCodesResolver codes for a field error: code.object.field and
// code.field, each also with the collection indexes stripped, then the bare code.
func messageCodes(code, object, field string) []string {
	stripped := stripIndexes(field)
	out := []string{code + "." + object + "." + field}
	if stripped != field {
		out = append(out, code+"."+object+"."+stripped)
	}
	out = append(out, code+"."+field)
	if stripped != field {
		out = append(out, code+"."+stripped)
	}
	return append(out, code)
}

// stripIndexes removes "[…]" from a property path.
func stripIndexes(field string) string {
	var b strings.Builder
	depth := 0
	for _, c := range field {
		switch {
		case c == '[':
			depth++
		case c == ']' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// errConstraintViolation is the multipart endpoint's answer to bean-validation errors (spec ip-api §2.3
// shape 2): the method validator's violations, paths prefixed with the method and parameter name.
func errConstraintViolation(errs []wire.FieldError, prefix string) *apiError {
	msgs := make([]string, 0, len(errs))
	e := newError(http.StatusBadRequest, exConstraintViolation, "")
	for _, fe := range errs {
		path := prefix + fe.Field
		msgs = append(msgs, path+": "+fe.Message)
		object := path
		if i := strings.Index(path, ".<"); i >= 0 {
			object = path[:i]
		}
		e.errors = append(e.errors, wire.ValidationError{
			Codes: []string{fe.Code}, DefaultMessage: fe.Message, ObjectName: object, Field: path,
			RejectedValue: fe.RejectedValue, Code: fe.Code,
		})
	}
	e.message = strings.Join(msgs, ", ")
	return e
}
