package dpi

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// timeLayout writes the receipts' tidspunkt and other times: RFC 3339 in UTC with milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// Varslingfeilet is the varslingfeiletkvittering a behaviour makes right after the leveringskvittering.
type Varslingfeilet struct {
	Varslingskanal string `json:"varslingskanal"`
	Beskrivelse    string `json:"beskrivelse,omitempty"`
}

// Feil is the feil receipt a behaviour makes instead of the leveringskvittering or mottakskvittering.
type Feil struct {
	Feiltype string `json:"feiltype"`
	Detaljer string `json:"detaljer,omitempty"`
}

// rules decide what happens to a message after corner 2 accepted it.
type rules struct {
	sendtAfter      time.Duration
	feilet          bool
	kvitteringAfter time.Duration
	aapningAfter    *time.Duration // nil: never by itself
	varslingfeilet  *Varslingfeilet
	feil            *Feil
	returpostAfter  *time.Duration // nil: never
}

// behaviour is the global rules plus the overrides by postkasseadresse or receiver organisation number,
// kept as the JSON they were given in (validated).
type behaviour struct {
	rules
	overrides map[string]map[string]json.RawMessage
}

func (s *Server) defaultBehaviour() behaviour {
	b := behaviour{rules: rules{sendtAfter: s.opts.SendtAfter, kvitteringAfter: s.opts.KvitteringAfter}}
	if s.opts.AapningAfter > 0 {
		d := s.opts.AapningAfter
		b.aapningAfter = &d
	}
	return b
}

func parseDuration(raw json.RawMessage) (*time.Duration, error) {
	if string(raw) == "null" {
		return nil, nil
	}
	var d admin.Duration
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	if d < 0 {
		return nil, fmt.Errorf("negative duration")
	}
	v := time.Duration(d)
	return &v, nil
}

func strictDecode(raw json.RawMessage, v any) error {
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// applyRules changes dst by the members of raw (a behaviour object without overrides).
func applyRules(dst *rules, raw map[string]json.RawMessage) error {
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		val := raw[k]
		var err error
		switch k {
		case "sendtAfter", "kvitteringAfter":
			var d *time.Duration
			if d, err = parseDuration(val); err == nil {
				if d == nil {
					d = new(time.Duration)
				}
				if k == "sendtAfter" {
					dst.sendtAfter = *d
				} else {
					dst.kvitteringAfter = *d
				}
			}
		case "aapningAfter":
			dst.aapningAfter, err = parseDuration(val)
		case "returpostAfter":
			dst.returpostAfter, err = parseDuration(val)
		case "feilet":
			var b *bool
			if err = json.Unmarshal(val, &b); err == nil {
				dst.feilet = b != nil && *b
			}
		case "varslingfeilet":
			var vf *Varslingfeilet
			if err = strictDecode(val, &vf); err == nil && vf != nil {
				if vf.Varslingskanal == "" {
					vf.Varslingskanal = wire.DPIVarslingskanalEpost
				}
				if vf.Varslingskanal != wire.DPIVarslingskanalEpost && vf.Varslingskanal != wire.DPIVarslingskanalSMS {
					err = fmt.Errorf("varslingskanal must be epost or sms, is %q", vf.Varslingskanal)
				}
			}
			if err == nil {
				dst.varslingfeilet = vf
			}
		case "feil":
			var f *Feil
			if err = strictDecode(val, &f); err == nil && f != nil {
				if f.Feiltype == "" {
					f.Feiltype = wire.DPIFeiltypeServer
				}
				if f.Feiltype != wire.DPIFeiltypeKlient && f.Feiltype != wire.DPIFeiltypeServer {
					err = fmt.Errorf("feiltype must be KLIENT or SERVER, is %q", f.Feiltype)
				}
			}
			if err == nil {
				dst.feil = f
			}
		default:
			err = fmt.Errorf("unknown member")
		}
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	return nil
}

// rulesForLocked are the rules for m: the global ones, changed by the override for its
// postkasseadresse, else for its receiver's organisation number.
func (s *Server) rulesForLocked(m *message) rules {
	r := s.beh.rules
	o, ok := s.beh.overrides[m.postkasse]
	if !ok || m.postkasse == "" {
		o, ok = s.beh.overrides[m.receiver]
	}
	if ok {
		_ = applyRules(&r, o) // validated when set
	}
	return r
}

// startLocked runs m's life cycle: SENDT (or FEILET) after sendtAfter, then the receipts.
func (s *Server) startLocked(m *message) {
	r := m.rules
	s.afterLocked(r.sendtAfter, "SENDT", m.id, func() {
		if m.gone || m.hasStatus(wire.DPICorner2StatusSendt) || m.hasStatus(wire.DPICorner2StatusFeilet) {
			return
		}
		if r.feilet {
			m.addStatus(wire.DPICorner2StatusFeilet, "Simulert feil: meldingen kunne ikke formidles", s.now())
			return
		}
		m.addStatus(wire.DPICorner2StatusSendt, "", s.now())
		s.afterLocked(r.kvitteringAfter, "kvittering", m.id, func() { s.deliverLocked(m) })
	})
}

// deliverLocked makes the receipts the rules ask for.
func (s *Server) deliverLocked(m *message) {
	if m.gone {
		return
	}
	r := m.rules
	emit := func(req ReceiptRequest, by string) {
		if m.gone {
			return
		}
		if _, err := s.emitLocked(m, req, by); err != nil {
			s.log.Error("dpi: cannot make a receipt", "messageId", m.id, "type", req.Type, "err", err)
		}
	}
	if len(m.packageProblems) > 0 {
		emit(ReceiptRequest{Type: wire.DPITypeFeil, Feiltype: wire.DPIFeiltypeKlient, Detaljer: packageDetaljer(m.packageProblems)}, "package fault")
		return
	}
	if r.feil != nil {
		emit(ReceiptRequest{Type: wire.DPITypeFeil, Feiltype: r.feil.Feiltype, Detaljer: r.feil.Detaljer}, "behaviour feil")
		return
	}
	switch m.typ {
	case wire.DPITypeDigital:
		emit(ReceiptRequest{Type: wire.DPITypeLeveringskvittering}, "behaviour kvitteringAfter")
		if vf := r.varslingfeilet; vf != nil {
			emit(ReceiptRequest{Type: wire.DPITypeVarslingfeiletkvittering, Varslingskanal: vf.Varslingskanal, Beskrivelse: vf.Beskrivelse}, "behaviour varslingfeilet")
		}
		if m.msg.Digital.Aapningskvittering && r.aapningAfter != nil {
			s.afterLocked(*r.aapningAfter, wire.DPITypeAapningskvittering, m.id, func() {
				emit(ReceiptRequest{Type: wire.DPITypeAapningskvittering}, "behaviour aapningAfter")
			})
		}
	case wire.DPITypeUtskrift:
		emit(ReceiptRequest{Type: wire.DPITypeMottakskvittering}, "behaviour kvitteringAfter")
		if r.returpostAfter != nil {
			s.afterLocked(*r.returpostAfter, wire.DPITypeReturpostkvittering, m.id, func() {
				emit(ReceiptRequest{Type: wire.DPITypeReturpostkvittering}, "behaviour returpostAfter")
			})
		}
	}
}

// maxDetaljerProblems bounds the problems a package fault's feil receipt names.
const maxDetaljerProblems = 10

// packageDetaljer is the detaljer of the feil receipt for a dokumentpakke the provider cannot use: the
// problems found, at most maxDetaljerProblems of them.
func packageDetaljer(v violations) string {
	shown := v
	if len(shown) > maxDetaljerProblems {
		shown = shown[:maxDetaljerProblems]
	}
	d := "Ugyldig dokumentpakke: " + shown.String()
	if n := len(v) - len(shown); n > 0 {
		d += fmt.Sprintf("; … (%d more)", n)
	}
	return d
}

// ReceiptRequest asks for a receipt (POST /__admin/messages/{id}/receipts, POST /__admin/inject).
type ReceiptRequest struct {
	// MessageID names the message (inject only).
	MessageID string `json:"messageId,omitempty"`
	// Type is leveringskvittering, aapningskvittering, mottakskvittering, varslingfeiletkvittering,
	// returpostkvittering or feil.
	Type string `json:"type"`
	// Tidspunkt is the receipt's time (RFC 3339); now when empty.
	Tidspunkt string `json:"tidspunkt,omitempty"`
	// Varslingskanal (epost, the default, or sms) and Beskrivelse: varslingfeiletkvittering only.
	Varslingskanal string `json:"varslingskanal,omitempty"`
	Beskrivelse    string `json:"beskrivelse,omitempty"`
	// Feiltype (KLIENT or SERVER, the default) and Detaljer: feil only.
	Feiltype string `json:"feiltype,omitempty"`
	Detaljer string `json:"detaljer,omitempty"`
	// Motakeridentifikator goes into mottaker (optional).
	Motakeridentifikator string `json:"motakeridentifikator,omitempty"`
}

// emitLocked makes, checks, signs and queues a receipt for m. It never queues a receipt that would not
// parse and validate at the integration point.
func (s *Server) emitLocked(m *message, req ReceiptRequest, by string) (*receipt, error) {
	typ := req.Type
	if !wire.IsDPIReceipt(typ) {
		return nil, fmt.Errorf("type must be one of leveringskvittering, aapningskvittering, mottakskvittering, varslingfeiletkvittering, returpostkvittering, feil; is %q", typ)
	}
	now := s.now()
	k := wire.DPIKvittering{
		Avsender: wire.DPIReceiptAvsender{Virksomhetsidentifikator: wire.NewDPIIdentifier(m.receiver)},
		Mottaker: wire.DPIVirksomhetmottaker{Virksomhetsidentifikator: avsenderOf(m.msg).Virksomhetsidentifikator,
			Motakeridentifikator: req.Motakeridentifikator},
		Tidspunkt: req.Tidspunkt,
	}
	if k.Tidspunkt == "" {
		k.Tidspunkt = now.UTC().Format(timeLayout)
	}
	switch typ {
	case wire.DPITypeVarslingfeiletkvittering:
		k.Varslingskanal, k.Beskrivelse = req.Varslingskanal, req.Beskrivelse
		if k.Varslingskanal == "" {
			k.Varslingskanal = wire.DPIVarslingskanalEpost
		}
	case wire.DPITypeFeil:
		k.Feiltype, k.Detaljer = req.Feiltype, req.Detaljer
		if k.Feiltype == "" {
			k.Feiltype = wire.DPIFeiltypeServer
		}
	}
	scope := wire.Scope{Type: wire.ScopeConversationID, InstanceIdentifier: m.conversationID}
	if sc := m.msg.Header.BusinessScope; sc != nil {
		for _, x := range sc.Scope {
			if x.Type == wire.ScopeConversationID || x.Type == "CONVERSATION_ID" {
				scope.ScopeInformation = slices.Clone(x.ScopeInformation)
				break
			}
		}
	}
	created := wire.NewOffsetDateTime(now.UTC())
	id := newUUID()
	bm := wire.DPIMessage{
		Header: wire.StandardBusinessDocumentHeader{
			HeaderVersion: "1.0",
			Sender:        []wire.Partner{{Identifier: &wire.PartnerIdentification{Value: wire.ICDNorway + ":" + m.receiver, Authority: wire.AuthorityISO6523}}},
			Receiver:      []wire.Partner{{Identifier: &wire.PartnerIdentification{Value: wire.ICDNorway + ":" + m.sender, Authority: wire.AuthorityISO6523}}},
			DocumentIdentification: &wire.DocumentIdentification{Standard: wire.DPIStandard(typ), TypeVersion: "1.0",
				InstanceIdentifier: id, Type: typ, CreationDateAndTime: &created},
			BusinessScope: &wire.BusinessScope{Scope: []wire.Scope{scope}},
		},
		Kvittering: &k,
	}
	payload, err := json.Marshal(bm)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", typ, err)
	}
	var back wire.DPIMessage
	if err := json.Unmarshal(payload, &back); err != nil {
		return nil, fmt.Errorf("the %s would not parse: %w", typ, err)
	}
	hraw, err := rawHeader(payload)
	if err != nil {
		return nil, fmt.Errorf("the %s would not parse: %w", typ, err)
	}
	var v violations
	checkHeader(hraw, typ, &v)
	checkKvittering(&v, typ, back.Kvittering)
	if len(v) > 0 {
		return nil, fmt.Errorf("the %s would not validate: %s", typ, v)
	}
	jws, err := dokumentpakke.SignJWS(payload, s.receiptKey, []*x509.Certificate{s.receiptCert}, "")
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", typ, err)
	}
	rc := &receipt{id: id, typ: typ, msg: m, jws: jws, body: k, created: now, by: by}
	m.receipts = append(m.receipts, rc)
	m.bytes += int64(len(jws))
	s.stored += int64(len(jws))
	s.receipts[id] = rc
	s.inbox = append(s.inbox, rc)
	return rc, nil
}

// statuses is GET {base}/messages/out/{messageId}/statuses.
func (s *Server) statuses(r *http.Request, _ caller) admin.Response {
	id := strings.ToLower(mux.Vars(r)["messageId"])
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.byID[id]
	if m == nil {
		return problem(http.StatusNotFound, "No message with messageId "+id)
	}
	return admin.JSON(http.StatusOK, slices.Clone(m.statuses))
}

// mine reports whether the caller may see m's receipts: a token that names an organisation sees those
// of the messages whose sender or avsender it is.
func (c caller) mine(m *message) bool {
	return c.orgnr == "" || c.orgnr == m.sender || c.orgnr == orgOf(m.avsender)
}

// incoming is GET {base}/messages/in?kanal=&avsenderidentifikator=&page_size=.
func (s *Server) incoming(r *http.Request, c caller) admin.Response {
	q := r.URL.Query()
	kanal := q.Get("kanal")
	if kanal == "" {
		return problem(http.StatusBadRequest, "The query parameter kanal is required")
	}
	avsID := q.Get("avsenderidentifikator")
	size := DefaultPageSize
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return problem(http.StatusBadRequest, fmt.Sprintf("page_size must be a positive number, is %q", v))
		}
		size = min(n, MaxPageSize)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []wire.DPIIncoming{}
	for _, rc := range s.inbox {
		if len(out) >= size {
			break
		}
		m := rc.msg
		if !rc.pending() || m.kanal != kanal || (avsID != "" && m.avsenderID != avsID) || !c.mine(m) {
			continue
		}
		out = append(out, wire.DPIIncoming{Forretningsmelding: rc.jws})
	}
	return admin.JSON(http.StatusOK, out)
}

// read is POST {base}/messages/in/{messageId}/read.
func (s *Server) read(r *http.Request, c caller) admin.Response {
	id := strings.ToLower(mux.Vars(r)["messageId"])
	s.mu.Lock()
	defer s.mu.Unlock()
	rc := s.receipts[id]
	if rc == nil || rc.msg.gone || !c.mine(rc.msg) {
		return problem(http.StatusNotFound, "No receipt with messageId "+id)
	}
	if !rc.read {
		rc.read, rc.readAt, rc.readBy = true, s.now(), c.clientID
		s.dead++
		s.compactInboxLocked()
	}
	return admin.NoContent(http.StatusOK)
}

// printSertifikat is KRR's GET /rest/v2/printSertifikat.
func (s *Server) printSertifikat(*http.Request) admin.Response {
	pp := s.opts.PrintProvider
	if pp.Certificate == nil || pp.Orgnr == "" {
		return problem(http.StatusNotFound, "No print provider is configured (Options.PrintProvider)")
	}
	cert := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pp.Certificate.Raw}))
	return admin.JSON(http.StatusOK, wire.KRRPrintSertifikat{PostkasseleverandoerAdresse: pp.Orgnr, X509Sertifikat: cert})
}
