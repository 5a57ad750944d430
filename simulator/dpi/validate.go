package dpi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

// The rules below are those of Digdir's innbyggerpost JSON schemas (sbdh, commons, digital, utskrift and
// the receipt schemas, all with additionalProperties false where the schemas set it), which the
// integration point validates against before it signs, plus a few that corner 2 needs to route the
// message (a Norwegian organisation number as sender and receiver, the standard, process and
// typeVersion of the type).

var (
	reUUID       = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	reOrgID      = regexp.MustCompile(`^0192:([0-9]{9})$`)
	reVirksomhet = regexp.MustCompile(`[0-9]{4}:\w{1,35}`) // not anchored, as the schema's pattern
	reMobil      = regexp.MustCompile(`^\+?[- _0-9]+$`)
	rePostnummer = regexp.MustCompile(`^\d{4}$`)
	reLandkode   = regexp.MustCompile(`^[a-zA-Z]{2}$`)
)

// Strict shapes of the SBD header schema (sbdh.schema.json): every level has additionalProperties false.
type (
	hdrIdent struct {
		Authority *string `json:"authority"`
		Value     *string `json:"value"`
	}
	hdrActor struct {
		Identifier *hdrIdent `json:"identifier"`
	}
	hdrDocID struct {
		Standard            *string `json:"standard"`
		TypeVersion         *string `json:"typeVersion"`
		InstanceIdentifier  *string `json:"instanceIdentifier"`
		Type                *string `json:"type"`
		CreationDateAndTime *string `json:"creationDateAndTime"`
	}
	hdrScopeInfo struct {
		ExpectedResponseDateTime *string `json:"expectedResponseDateTime"`
	}
	hdrScope struct {
		Type               *string        `json:"type"`
		InstanceIdentifier *string        `json:"instanceIdentifier"`
		Identifier         *string        `json:"identifier"`
		ScopeInformation   []hdrScopeInfo `json:"scopeInformation"`
	}
	hdrBusinessScope struct {
		Scope *[]hdrScope `json:"scope"`
	}
	hdr struct {
		HeaderVersion          *string           `json:"headerVersion"`
		Sender                 *[]hdrActor       `json:"sender"`
		Receiver               *[]hdrActor       `json:"receiver"`
		DocumentIdentification *hdrDocID         `json:"documentIdentification"`
		BusinessScope          *hdrBusinessScope `json:"businessScope"`
	}
)

const hp = "standardBusinessDocumentHeader"

// rawHeader is the header object of a DPI payload.
func rawHeader(payload []byte) (json.RawMessage, error) {
	var env struct {
		SBD map[string]json.RawMessage `json:"standardBusinessDocument"`
	}
	d := json.NewDecoder(bytes.NewReader(payload))
	d.DisallowUnknownFields()
	if err := d.Decode(&env); err != nil {
		return nil, fmt.Errorf(`the payload must be {"standardBusinessDocument": {…}} and nothing else: %w`, err)
	}
	return env.SBD[hp], nil
}

// checkHeader validates the SBD header of a DPI document of type typ. For an outgoing type (digital,
// utskrift) the ConversationId scope must name the type's process; a receipt's scope needs no process.
func checkHeader(raw json.RawMessage, typ string, v *violations) {
	var h hdr
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&h); err != nil {
		v.add(hp, "not a valid header: %v", err)
		return
	}
	if h.HeaderVersion == nil {
		v.add(hp+".headerVersion", "is required")
	}
	actor := func(name string, list *[]hdrActor) {
		path := hp + "." + name
		if list == nil {
			v.add(path, "is required")
			return
		}
		if len(*list) != 1 {
			v.add(path, "must hold exactly one item, has %d", len(*list))
			return
		}
		id := (*list)[0].Identifier
		path += "[0].identifier"
		switch {
		case id == nil:
			v.add(path, "is required")
		case id.Authority == nil || id.Value == nil:
			v.add(path, "needs authority and value")
		default:
			if *id.Authority != wire.AuthorityISO6523 {
				v.add(path+".authority", "must be %s, is %q", wire.AuthorityISO6523, *id.Authority)
			}
			if !reOrgID.MatchString(*id.Value) {
				v.add(path+".value", "must be 0192:<organisation number>, is %q", *id.Value)
			}
		}
	}
	actor("sender", h.Sender)
	actor("receiver", h.Receiver)

	di := h.DocumentIdentification
	dp := hp + ".documentIdentification"
	if di == nil {
		v.add(dp, "is required")
	} else {
		req := func(name string, p *string) bool {
			if p == nil {
				v.add(dp+"."+name, "is required")
				return false
			}
			return true
		}
		if req("standard", di.Standard) && *di.Standard != wire.DPIStandard(typ) {
			v.add(dp+".standard", "must be %s, is %q", wire.DPIStandard(typ), *di.Standard)
		}
		if req("typeVersion", di.TypeVersion) && *di.TypeVersion != "1.0" {
			v.add(dp+".typeVersion", "must be 1.0, is %q", *di.TypeVersion)
		}
		if req("instanceIdentifier", di.InstanceIdentifier) && !reUUID.MatchString(*di.InstanceIdentifier) {
			v.add(dp+".instanceIdentifier", "must be a UUID, is %q", *di.InstanceIdentifier)
		}
		req("type", di.Type)
		if req("creationDateAndTime", di.CreationDateAndTime) && !isDateTime(*di.CreationDateAndTime) {
			v.add(dp+".creationDateAndTime", "must be an RFC 3339 date-time, is %q", *di.CreationDateAndTime)
		}
	}

	bp := hp + ".businessScope"
	switch {
	case h.BusinessScope == nil:
		v.add(bp, "is required")
	case h.BusinessScope.Scope == nil:
		v.add(bp+".scope", "is required")
	default:
		conv := 0
		for i, sc := range *h.BusinessScope.Scope {
			sp := fmt.Sprintf("%s.scope[%d]", bp, i)
			if sc.Type == nil {
				v.add(sp+".type", "is required")
				continue
			}
			if sc.InstanceIdentifier != nil && !reUUID.MatchString(*sc.InstanceIdentifier) {
				v.add(sp+".instanceIdentifier", "must be a UUID, is %q", *sc.InstanceIdentifier)
			}
			if *sc.Type != string(wire.ScopeConversationID) && *sc.Type != "CONVERSATION_ID" {
				continue
			}
			conv++
			if sc.InstanceIdentifier == nil {
				v.add(sp+".instanceIdentifier", "is required: the conversationId")
			}
			if !wire.IsDPIReceipt(typ) {
				switch {
				case sc.Identifier == nil:
					v.add(sp+".identifier", "is required: %s", wire.DPIProcess(typ))
				case *sc.Identifier != wire.DPIProcess(typ):
					v.add(sp+".identifier", "must be %s, is %q", wire.DPIProcess(typ), *sc.Identifier)
				}
			}
		}
		if conv != 1 {
			v.add(bp+".scope", "must hold exactly one ConversationId scope, has %d", conv)
		}
	}
}

func isDateTime(s string) bool {
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

func runes(s string) int { return utf8.RuneCountInString(s) }

func checkLen(v *violations, path, s string, lo, hi int) {
	if n := runes(s); n < lo || n > hi {
		if lo > 0 && n == 0 {
			v.add(path, "is required (%d to %d characters)", lo, hi)
			return
		}
		v.add(path, "must be %d to %d characters, has %d", lo, hi, n)
	}
}

func checkMax(v *violations, path, s string, hi int) {
	if n := runes(s); n > hi {
		v.add(path, "must be at most %d characters, has %d", hi, n)
	}
}

func checkEnum(v *violations, path, s string, allowed ...string) {
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	if s == "" {
		v.add(path, "is required: one of %s", strings.Join(allowed, ", "))
		return
	}
	v.add(path, "must be one of %s, is %q", strings.Join(allowed, ", "), s)
}

func checkIdentifier(v *violations, path string, id wire.DPIIdentifier) {
	if id.Authority != wire.AuthorityISO6523 {
		v.add(path+".authority", "must be %s, is %q", wire.AuthorityISO6523, id.Authority)
	}
	if !reVirksomhet.MatchString(id.Value) {
		v.add(path+".value", "must match [0-9]{4}:\\w{1,35}, is %q", id.Value)
	}
}

func checkAvsender(v *violations, path string, a wire.DPIAvsender) {
	checkIdentifier(v, path+".virksomhetsidentifikator", a.Virksomhetsidentifikator)
	checkMax(v, path+".avsenderidentifikator", a.Avsenderidentifikator, 100)
	checkMax(v, path+".fakturaReferanse", a.FakturaReferanse, 40)
}

func checkFingeravtrykk(v *violations, path string, f wire.DPIFingeravtrykk) {
	if f.DigestMethod != wire.DPIDigestMethod {
		v.add(path+".digestMethod", "must be %s, is %q", wire.DPIDigestMethod, f.DigestMethod)
	}
	if f.DigestValue == "" {
		v.add(path+".digestValue", "is required")
	}
}

func checkRepetisjoner(v *violations, path string, r []int) {
	if len(r) < 1 || len(r) > 10 {
		v.add(path, "must hold 1 to 10 items, has %d", len(r))
	}
	for i, n := range r {
		if n < 0 || n > 25 {
			v.add(fmt.Sprintf("%s[%d]", path, i), "must be 0 to 25, is %d", n)
		}
	}
}

func isEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s && !strings.ContainsAny(s, " <>")
}

// checkDigital validates a digital body (innbyggerpost_dpi_digital_1_0 + commons).
func checkDigital(v *violations, d *wire.DPIDigital) {
	const p = "digital"
	checkAvsender(v, p+".avsender", d.Avsender)
	if strings.TrimSpace(d.Mottaker.Postkasseadresse) == "" {
		v.add(p+".mottaker.postkasseadresse", "is required")
	}
	checkFingeravtrykk(v, p+".dokumentpakkefingeravtrykk", d.Dokumentpakkefingeravtrykk)
	if d.Maskinportentoken == "" {
		v.add(p+".maskinportentoken", "is required")
	}
	if d.Sikkerhetsnivaa != 3 && d.Sikkerhetsnivaa != 4 {
		v.add(p+".sikkerhetsnivaa", "must be 3 or 4, is %d", d.Sikkerhetsnivaa)
	}
	if d.Virkningsdato != "" {
		if _, err := time.Parse(time.DateOnly, d.Virkningsdato); err != nil {
			v.add(p+".virkningsdato", "must be a date (2006-01-02), is %q", d.Virkningsdato)
		}
	}
	if d.Virkningstidspunkt != "" && !isDateTime(d.Virkningstidspunkt) {
		v.add(p+".virkningstidspunkt", "must be an RFC 3339 date-time, is %q", d.Virkningstidspunkt)
	}
	checkLen(v, p+".ikkesensitivtittel", d.Ikkesensitivtittel, 1, 255)
	if n := runes(d.Spraak); n != 2 {
		v.add(p+".spraak", "must be 2 characters, is %q", d.Spraak)
	}
	if d.Varsler == nil {
		return
	}
	if e := d.Varsler.Epostvarsel; e != nil {
		ep := p + ".varsler.epostvarsel"
		if e.Mobiltelefonnummer != "" {
			v.add(ep+".mobiltelefonnummer", "is not allowed in an epostvarsel")
		}
		if !isEmail(e.Epostadresse) {
			v.add(ep+".epostadresse", "must be an e-mail address, is %q", e.Epostadresse)
		}
		checkLen(v, ep+".varslingstekst", e.Varslingstekst, 1, 500)
		checkRepetisjoner(v, ep+".repetisjoner", e.Repetisjoner)
	}
	if sms := d.Varsler.Smsvarsel; sms != nil {
		sp := p + ".varsler.smsvarsel"
		if sms.Epostadresse != "" {
			v.add(sp+".epostadresse", "is not allowed in an smsvarsel")
		}
		if n := runes(sms.Mobiltelefonnummer); n < 8 || n > 20 || !reMobil.MatchString(sms.Mobiltelefonnummer) {
			v.add(sp+".mobiltelefonnummer", "must be 8 to 20 characters matching ^\\+?[- _0-9]+$, is %q", sms.Mobiltelefonnummer)
		}
		checkLen(v, sp+".varslingstekst", sms.Varslingstekst, 1, 160)
		checkRepetisjoner(v, sp+".repetisjoner", sms.Repetisjoner)
	}
}

// checkUtskrift validates an utskrift body (innbyggerpost_dpi_utskrift_1_0 + commons). mottaker and retur
// are the raw JSON of the body's mottaker and retur.mottaker (see utskriftAddresses): the address rules
// depend on which members are present, which u (with omitempty strings) cannot tell.
func checkUtskrift(v *violations, u *wire.DPIUtskrift, mottaker, retur json.RawMessage) {
	const p = "utskrift"
	checkAvsender(v, p+".avsender", u.Avsender)
	checkAdresse(v, p+".mottaker", mottaker)
	checkFingeravtrykk(v, p+".dokumentpakkefingeravtrykk", u.Dokumentpakkefingeravtrykk)
	if u.Maskinportentoken == "" {
		v.add(p+".maskinportentoken", "is required")
	}
	checkEnum(v, p+".utskriftstype", u.Utskriftstype, wire.DPIUtskriftSortHvit, wire.DPIUtskriftFarge)
	checkAdresse(v, p+".retur.mottaker", retur)
	checkEnum(v, p+".retur.returposthaandtering", u.Retur.Returposthaandtering, wire.DPIReturDirekte, wire.DPIReturMakulering)
	if u.Posttype != "" {
		checkEnum(v, p+".posttype", u.Posttype, wire.DPIPosttypeA, wire.DPIPosttypeB)
	}
}

// utskriftAddresses are the raw adresseInformasjon objects of an utskrift payload, mottaker and
// retur.mottaker; nil when absent. The payload has already been read strictly into a wire.DPIMessage.
func utskriftAddresses(payload []byte) (mottaker, retur json.RawMessage) {
	var env struct {
		SBD struct {
			Utskrift struct {
				Mottaker json.RawMessage `json:"mottaker"`
				Retur    struct {
					Mottaker json.RawMessage `json:"mottaker"`
				} `json:"retur"`
			} `json:"utskrift"`
		} `json:"standardBusinessDocument"`
	}
	if err := json.Unmarshal(payload, &env); err != nil {
		return nil, nil
	}
	return env.SBD.Utskrift.Mottaker, env.SBD.Utskrift.Retur.Mottaker
}

// adresseFields are the members of adresseInformasjon (additionalProperties false) in schema order, with
// their maximum length (0: none) and pattern.
var adresseFields = []struct {
	name    string
	max     int
	pattern *regexp.Regexp
	hint    string
}{
	{name: "navn"},
	{name: "adresselinje1", max: 100}, {name: "adresselinje2", max: 100},
	{name: "adresselinje3", max: 100}, {name: "adresselinje4", max: 100},
	{name: "postnummer", pattern: rePostnummer, hint: "4 digits"},
	{name: "poststed", max: 80},
	{name: "land", max: 80},
	{name: "landkode", pattern: reLandkode, hint: "2 letters"},
}

// checkAdresse validates an adresseInformasjon given as raw JSON. As in the JSON schema, a member is
// present when its key is, even with an empty string: the schema's required lists need only the key,
// and the integration point sends "navn": "" for a letter without a name. The oneOf: exactly one of
// (navn, adresselinje1, postnummer, poststed) and (navn, adresselinje1 and exactly one of land,
// landkode) must be present. So a Norwegian address has postnummer and poststed and no land; a foreign
// one has land (or landkode) and not both postnummer and poststed. Lengths are checked on every value,
// patterns on every present value (an empty postnummer or landkode does not match, as in the schema).
func checkAdresse(v *violations, path string, raw json.RawMessage) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		v.add(path, "is required")
		return
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		v.add(path, "must be an object")
		return
	}
	present := map[string]bool{}
	known := map[string]bool{}
	for _, f := range adresseFields {
		known[f.name] = true
		val, ok := members[f.name]
		if !ok {
			continue
		}
		present[f.name] = true
		var s *string
		if err := json.Unmarshal(val, &s); err != nil || s == nil {
			v.add(path+"."+f.name, "must be a string, is %s", val)
			continue
		}
		if f.max > 0 {
			checkMax(v, path+"."+f.name, *s, f.max)
		}
		if f.pattern != nil && !f.pattern.MatchString(*s) {
			v.add(path+"."+f.name, "must be %s, is %q", f.hint, *s)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(members)) {
		if !known[k] {
			v.add(path+"."+k, "is not a member of adresseInformasjon")
		}
	}
	base := present["navn"] && present["adresselinje1"]
	norsk := base && present["postnummer"] && present["poststed"]
	land, landkode := base && present["land"], base && present["landkode"]
	utland := land != landkode
	if norsk == utland {
		switch {
		case !base:
			v.add(path, "needs navn and adresselinje1")
		case norsk:
			v.add(path, "is both Norwegian (postnummer and poststed) and foreign (land or landkode): a Norwegian address has no land")
		case land && landkode:
			v.add(path, "has both land and landkode")
		default:
			v.add(path, "needs postnummer and poststed (Norwegian address) or land or landkode (foreign address)")
		}
	}
}

// checkKvittering validates a receipt body of type typ (commons kvittering, varslingfeiletkvittering,
// feil).
func checkKvittering(v *violations, typ string, k *wire.DPIKvittering) {
	checkIdentifier(v, typ+".avsender.virksomhetsidentifikator", k.Avsender.Virksomhetsidentifikator)
	checkIdentifier(v, typ+".mottaker.virksomhetsidentifikator", k.Mottaker.Virksomhetsidentifikator)
	checkMax(v, typ+".mottaker.motakeridentifikator", k.Mottaker.Motakeridentifikator, 100)
	if !isDateTime(k.Tidspunkt) {
		v.add(typ+".tidspunkt", "must be an RFC 3339 date-time, is %q", k.Tidspunkt)
	}
	extra := func(name, value string) {
		if value != "" {
			v.add(typ+"."+name, "is not allowed in a %s", typ)
		}
	}
	switch typ {
	case wire.DPITypeVarslingfeiletkvittering:
		checkEnum(v, typ+".varslingskanal", k.Varslingskanal, wire.DPIVarslingskanalEpost, wire.DPIVarslingskanalSMS)
		extra("feiltype", k.Feiltype)
		extra("detaljer", k.Detaljer)
	case wire.DPITypeFeil:
		checkEnum(v, typ+".feiltype", k.Feiltype, wire.DPIFeiltypeKlient, wire.DPIFeiltypeServer)
		extra("varslingskanal", k.Varslingskanal)
		extra("beskrivelse", k.Beskrivelse)
	default:
		extra("varslingskanal", k.Varslingskanal)
		extra("beskrivelse", k.Beskrivelse)
		extra("feiltype", k.Feiltype)
		extra("detaljer", k.Detaljer)
	}
}

// checkManifest validates the SDP manifest against the forretningsmelding and the container: the
// avsender is the forretningsmelding's, digital names the same postkasseadresse and utskrift no
// mottaker, and every href is a file of the container.
func checkManifest(v *violations, m *wire.SDPManifest, bm *wire.DPIMessage, files map[string]bool) {
	const p = "manifest.xml"
	var av wire.DPIAvsender
	switch {
	case bm.Digital != nil:
		av = bm.Digital.Avsender
		switch {
		case m.Mottaker == nil:
			v.add(p+"/mottaker", "is required for digital post")
		case m.Mottaker.Person.Postkasseadresse != bm.Digital.Mottaker.Postkasseadresse:
			v.add(p+"/mottaker/person/postkasseadresse", "is %q, the forretningsmelding says %q",
				m.Mottaker.Person.Postkasseadresse, bm.Digital.Mottaker.Postkasseadresse)
		}
	case bm.Utskrift != nil:
		av = bm.Utskrift.Avsender
		if m.Mottaker != nil {
			v.add(p+"/mottaker", "is not allowed for utskrift")
		}
	}
	org := m.Avsender.Organisasjon
	if org.Authority != "" && org.Authority != wire.AuthorityISO6523 {
		v.add(p+"/avsender/organisasjon/@authority", "must be %s, is %q", wire.AuthorityISO6523, org.Authority)
	}
	if strings.TrimSpace(org.Value) != av.Virksomhetsidentifikator.Value {
		v.add(p+"/avsender/organisasjon", "is %q, the forretningsmelding's avsender is %q", org.Value, av.Virksomhetsidentifikator.Value)
	}
	if m.Avsender.Avsenderidentifikator != av.Avsenderidentifikator {
		v.add(p+"/avsender/avsenderidentifikator", "is %q, the forretningsmelding says %q", m.Avsender.Avsenderidentifikator, av.Avsenderidentifikator)
	}
	doc := func(path string, d wire.SDPDokument) {
		if n := runes(d.Href); n < 4 || n > 100 {
			v.add(path+"/@href", "must be 4 to 100 characters, is %q", d.Href)
		}
		if n := runes(d.Mime); n < 1 || n > 100 {
			v.add(path+"/@mime", "must be 1 to 100 characters, is %q", d.Mime)
		}
		if runes(d.Tittel.Lang) != 2 {
			v.add(path+"/tittel/@lang", "must be 2 characters, is %q", d.Tittel.Lang)
		}
		if d.Href != "" && !files[d.Href] {
			v.add(path+"/@href", "%q is not in the dokumentpakke", d.Href)
		}
		if d.Data != nil {
			if d.Data.Href == "" || d.Data.Mime == "" {
				v.add(path+"/data", "needs href and mime")
			} else if !files[d.Data.Href] {
				v.add(path+"/data/@href", "%q is not in the dokumentpakke", d.Data.Href)
			}
		}
	}
	doc(p+"/hoveddokument", m.Hoveddokument)
	if len(m.Vedlegg) > 200 {
		v.add(p+"/vedlegg", "at most 200, has %d", len(m.Vedlegg))
	}
	for i, d := range m.Vedlegg {
		doc(fmt.Sprintf("%s/vedlegg[%d]", p, i+1), d)
	}
}
