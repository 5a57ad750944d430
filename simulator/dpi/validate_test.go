package dpi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/dpi"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

func digital(f func(d *wire.DPIDigital)) func(*wire.DPIMessage) {
	return func(m *wire.DPIMessage) { f(m.Digital) }
}

func utskrift(f func(u *wire.DPIUtskrift)) func(*wire.DPIMessage) {
	return func(m *wire.DPIMessage) { f(m.Utskrift) }
}

func utskriftSpec(sp spec) spec {
	sp.typ = wire.DPITypeUtskrift
	sp.receiver = fixtures.PrintProviderOrgnr
	return sp
}

// TestRefused: every rule corner 2 can check (the forretningsmelding, the receiver and the dokumentpakke's
// fingerprint) is refused with 400 and a problem naming it. What is inside the dokumentpakke is not:
// see TestPackageFaults.
func TestRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	long := strings.Repeat("x", 256)
	for _, c := range []struct {
		name string
		sp   spec
		// path is the violation's path (for a 400 with errors); else detail must contain it.
		path   string
		detail string
		status int
	}{
		// The envelope and the header.
		{name: "unknown type", sp: spec{msg: func(m *wire.DPIMessage) { m.Header.DocumentIdentification.Type = "flyttet" }}, detail: "flyttet"},
		{name: "extra envelope key", sp: spec{payload: replaceJSON(`{"standardBusinessDocument":{`, `{"x":1,"standardBusinessDocument":{`)}, detail: "and nothing else"},
		{name: "unknown body field", sp: spec{payload: replaceJSON(`"postkasseadresse":`, `"idnummer":"1","postkasseadresse":`)}, detail: "unknown field"},
		{name: "standard", sp: spec{msg: func(m *wire.DPIMessage) { m.Header.DocumentIdentification.Standard = "urn:x" }}, path: "standardBusinessDocumentHeader.documentIdentification.standard"},
		{name: "typeVersion", sp: spec{msg: func(m *wire.DPIMessage) { m.Header.DocumentIdentification.TypeVersion = "2.0" }}, path: "standardBusinessDocumentHeader.documentIdentification.typeVersion"},
		{name: "messageId not a UUID", sp: spec{messageID: "message-1"}, path: "standardBusinessDocumentHeader.documentIdentification.instanceIdentifier"},
		{name: "no creationDateAndTime", sp: spec{msg: func(m *wire.DPIMessage) { m.Header.DocumentIdentification.CreationDateAndTime = nil }}, path: "standardBusinessDocumentHeader.documentIdentification.creationDateAndTime"},
		{name: "no headerVersion", sp: spec{msg: func(m *wire.DPIMessage) { m.Header.HeaderVersion = "" }}, path: "standardBusinessDocumentHeader.headerVersion"},
		{name: "two senders", sp: spec{msg: func(m *wire.DPIMessage) { m.Header.Sender = append(m.Header.Sender, m.Header.Sender[0]) }}, path: "standardBusinessDocumentHeader.sender"},
		{name: "receiver not 0192", sp: spec{msg: func(m *wire.DPIMessage) { m.Header.Receiver[0].Identifier.Value = "9908:" + fixtures.DigipostOrgnr }}, path: "standardBusinessDocumentHeader.receiver[0].identifier.value"},
		{name: "sender authority", sp: spec{msg: func(m *wire.DPIMessage) { m.Header.Sender[0].Identifier.Authority = "iso3166-1" }}, path: "standardBusinessDocumentHeader.sender[0].identifier.authority"},
		{name: "header manifest", sp: spec{msg: func(m *wire.DPIMessage) { m.Header.Manifest = &wire.Manifest{} }}, path: "standardBusinessDocumentHeader"},
		{name: "process", sp: spec{msg: func(m *wire.DPIMessage) {
			m.Header.BusinessScope.Scope[0].Identifier = "urn:no:difi:profile:digitalpost:info:ver1.0"
		}}, path: "standardBusinessDocumentHeader.businessScope.scope[0].identifier"},
		{name: "conversationId not a UUID", sp: spec{conversationID: "c-1"}, path: "standardBusinessDocumentHeader.businessScope.scope[0].instanceIdentifier"},
		{name: "no ConversationId scope", sp: spec{msg: func(m *wire.DPIMessage) { m.Header.BusinessScope.Scope[0].Type = "SenderRef" }}, path: "standardBusinessDocumentHeader.businessScope.scope"},
		{name: "no businessScope", sp: spec{msg: func(m *wire.DPIMessage) { m.Header.BusinessScope = nil }}, path: "standardBusinessDocumentHeader.businessScope"},

		// avsender
		{name: "avsender authority", sp: spec{msg: digital(func(d *wire.DPIDigital) { d.Avsender.Virksomhetsidentifikator.Authority = "x" })}, path: "digital.avsender.virksomhetsidentifikator.authority"},
		{name: "avsender value", sp: spec{msg: digital(func(d *wire.DPIDigital) { d.Avsender.Virksomhetsidentifikator.Value = senderOrg })}, path: "digital.avsender.virksomhetsidentifikator.value"},
		{name: "avsenderidentifikator", sp: spec{avsenderID: long[:101]}, path: "digital.avsender.avsenderidentifikator"},
		{name: "fakturaReferanse", sp: spec{msg: digital(func(d *wire.DPIDigital) { d.Avsender.FakturaReferanse = long[:41] })}, path: "digital.avsender.fakturaReferanse"},

		// digital
		{name: "no postkasseadresse", sp: spec{msg: digital(func(d *wire.DPIDigital) { d.Mottaker.Postkasseadresse = "" })}, path: "digital.mottaker.postkasseadresse"},
		{name: "digestMethod", sp: spec{msg: digital(func(d *wire.DPIDigital) {
			d.Dokumentpakkefingeravtrykk.DigestMethod = "http://www.w3.org/2000/09/xmldsig#sha1"
		})}, path: "digital.dokumentpakkefingeravtrykk.digestMethod"},
		{name: "no maskinportentoken", sp: spec{msg: digital(func(d *wire.DPIDigital) { d.Maskinportentoken = "" })}, path: "digital.maskinportentoken"},
		{name: "sikkerhetsnivaa", sp: spec{msg: digital(func(d *wire.DPIDigital) { d.Sikkerhetsnivaa = 2 })}, path: "digital.sikkerhetsnivaa"},
		{name: "sikkerhetsnivaa as a string", sp: spec{payload: replaceJSON(`"sikkerhetsnivaa":4`, `"sikkerhetsnivaa":"4"`)}, detail: "sikkerhetsnivaa"},
		{name: "virkningstidspunkt", sp: spec{msg: digital(func(d *wire.DPIDigital) { d.Virkningstidspunkt = "2026-11-22" })}, path: "digital.virkningstidspunkt"},
		{name: "virkningsdato", sp: spec{msg: digital(func(d *wire.DPIDigital) { d.Virkningsdato = "22.11.2026" })}, path: "digital.virkningsdato"},
		{name: "no ikkesensitivtittel", sp: spec{msg: digital(func(d *wire.DPIDigital) { d.Ikkesensitivtittel = "" })}, path: "digital.ikkesensitivtittel"},
		{name: "long ikkesensitivtittel", sp: spec{msg: digital(func(d *wire.DPIDigital) { d.Ikkesensitivtittel = long })}, path: "digital.ikkesensitivtittel"},
		{name: "spraak", sp: spec{msg: digital(func(d *wire.DPIDigital) { d.Spraak = "NOR" })}, path: "digital.spraak"},
		{name: "epostadresse", sp: spec{msg: digital(func(d *wire.DPIDigital) { d.Varsler.Epostvarsel.Epostadresse = "ola(at)example.com" })}, path: "digital.varsler.epostvarsel.epostadresse"},
		{name: "epost varslingstekst", sp: spec{msg: digital(func(d *wire.DPIDigital) { d.Varsler.Epostvarsel.Varslingstekst = strings.Repeat("x", 501) })}, path: "digital.varsler.epostvarsel.varslingstekst"},
		{name: "epost repetisjoner empty", sp: spec{msg: digital(func(d *wire.DPIDigital) { d.Varsler.Epostvarsel.Repetisjoner = nil })}, path: "digital.varsler.epostvarsel.repetisjoner"},
		{name: "epost repetisjoner 11", sp: spec{msg: digital(func(d *wire.DPIDigital) { d.Varsler.Epostvarsel.Repetisjoner = make([]int, 11) })}, path: "digital.varsler.epostvarsel.repetisjoner"},
		{name: "repetisjon 26", sp: spec{msg: digital(func(d *wire.DPIDigital) { d.Varsler.Smsvarsel.Repetisjoner = []int{0, 26} })}, path: "digital.varsler.smsvarsel.repetisjoner[1]"},
		{name: "epostvarsel with a phone number", sp: spec{msg: digital(func(d *wire.DPIDigital) { d.Varsler.Epostvarsel.Mobiltelefonnummer = "99999999" })}, path: "digital.varsler.epostvarsel.mobiltelefonnummer"},
		{name: "mobiltelefonnummer letters", sp: spec{msg: digital(func(d *wire.DPIDigital) { d.Varsler.Smsvarsel.Mobiltelefonnummer = "nine nine nine" })}, path: "digital.varsler.smsvarsel.mobiltelefonnummer"},
		{name: "mobiltelefonnummer short", sp: spec{msg: digital(func(d *wire.DPIDigital) { d.Varsler.Smsvarsel.Mobiltelefonnummer = "1234567" })}, path: "digital.varsler.smsvarsel.mobiltelefonnummer"},
		{name: "sms varslingstekst", sp: spec{msg: digital(func(d *wire.DPIDigital) { d.Varsler.Smsvarsel.Varslingstekst = strings.Repeat("x", 161) })}, path: "digital.varsler.smsvarsel.varslingstekst"},
		{name: "smsvarsel with an e-mail address", sp: spec{msg: digital(func(d *wire.DPIDigital) { d.Varsler.Smsvarsel.Epostadresse = "a@b.no" })}, path: "digital.varsler.smsvarsel.epostadresse"},

		// utskrift
		{name: "utskriftstype", sp: utskriftSpec(spec{msg: utskrift(func(u *wire.DPIUtskrift) { u.Utskriftstype = "GRAA" })}), path: "utskrift.utskriftstype"},
		{name: "posttype", sp: utskriftSpec(spec{msg: utskrift(func(u *wire.DPIUtskrift) { u.Posttype = "A_PRIORITERT" })}), path: "utskrift.posttype"},
		{name: "returposthaandtering", sp: utskriftSpec(spec{msg: utskrift(func(u *wire.DPIUtskrift) { u.Retur.Returposthaandtering = "RETUR" })}), path: "utskrift.retur.returposthaandtering"},
		{name: "Norwegian address with land", sp: utskriftSpec(spec{msg: utskrift(func(u *wire.DPIUtskrift) { u.Mottaker.Land = "Norge" })}), path: "utskrift.mottaker"},
		{name: "address without postnummer or land", sp: utskriftSpec(spec{msg: utskrift(func(u *wire.DPIUtskrift) { u.Mottaker.Postnummer = "" })}), path: "utskrift.mottaker"},
		{name: "address without navn", sp: utskriftSpec(spec{msg: utskrift(func(u *wire.DPIUtskrift) { u.Retur.Mottaker.Navn = "" })}), path: "utskrift.retur.mottaker"},
		{name: "land and landkode", sp: utskriftSpec(spec{msg: utskrift(func(u *wire.DPIUtskrift) {
			u.Mottaker = wire.DPIAdresse{Navn: "K", Adresselinje1: "Main St", Land: "Sverige", Landkode: "SE"}
		})}), path: "utskrift.mottaker"},
		{name: "postnummer", sp: utskriftSpec(spec{msg: utskrift(func(u *wire.DPIUtskrift) { u.Mottaker.Postnummer = "123" })}), path: "utskrift.mottaker.postnummer"},
		{name: "landkode", sp: utskriftSpec(spec{msg: utskrift(func(u *wire.DPIUtskrift) {
			u.Mottaker = wire.DPIAdresse{Navn: "K", Adresselinje1: "Main St", Landkode: "SWE"}
		})}), path: "utskrift.mottaker.landkode"},
		{name: "adresselinje", sp: utskriftSpec(spec{msg: utskrift(func(u *wire.DPIUtskrift) { u.Mottaker.Adresselinje2 = long[:101] })}), path: "utskrift.mottaker.adresselinje2"},
		{name: "empty land with a Norwegian address", sp: utskriftSpec(spec{payload: replaceJSON(`"poststed":"OSLO"`, `"poststed":"OSLO","land":""`)}), path: "utskrift.mottaker"},
		{name: "empty postnummer", sp: utskriftSpec(spec{payload: replaceJSON(`"postnummer":"0468"`, `"postnummer":""`)}), path: "utskrift.mottaker.postnummer"},
		{name: "null navn", sp: utskriftSpec(spec{payload: replaceJSON(`"navn":"Ola Nordmann"`, `"navn":null`)}), path: "utskrift.mottaker.navn"},
		{name: "address member in another case", sp: utskriftSpec(spec{payload: replaceJSON(`"navn":"Ola Nordmann"`, `"Navn":"Ola Nordmann"`)}), path: "utskrift.mottaker.Navn"},

		// The receiver and the dokumentpakke.
		{name: "unknown receiver", sp: spec{receiver: fixtures.Default().UnknownOrgnr}, path: "standardBusinessDocumentHeader.receiver"},
		{name: "fingerprint", sp: spec{msg: digital(func(d *wire.DPIDigital) { d.Dokumentpakkefingeravtrykk.DigestValue = "AAAA" })}, path: "digital.dokumentpakkefingeravtrykk.digestValue"},
		{name: "fingerprint of a broken dokumentpakke", sp: spec{recipient: cred(t, fixtures.CredEboks).Certificate,
			msg: digital(func(d *wire.DPIDigital) { d.Dokumentpakkefingeravtrykk.DigestValue = "AAAA" })}, path: "digital.dokumentpakkefingeravtrykk.digestValue"},

		// The JWS.
		{name: "JWS signature", sp: spec{jws: func(s string) string { return s[:len(s)-6] + "AAAAAA" }}, detail: "does not verify"},
		{name: "JWS without x5c", sp: spec{jws: func(string) string {
			s, _ := dokumentpakke.SignJWS([]byte(`{}`), cred(t, senderOrg).Key, nil, "")
			return s
		}}, detail: "no x5c"},
		{name: "not a JWS", sp: spec{jws: func(string) string { return "hei" }}, detail: "not a compact JWS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := build(t, c.sp)
			a := e.sendBuilt(b, kanal)
			want := c.status
			if want == 0 {
				want = http.StatusBadRequest
			}
			if a.status != want {
				t.Fatalf("status %d, want %d: %s", a.status, want, a.body)
			}
			p := a.problem(t)
			if c.detail != "" && !strings.Contains(p.Detail, c.detail) {
				t.Errorf("detail %q does not contain %q", p.Detail, c.detail)
			}
			if c.path != "" {
				found := false
				for _, v := range p.Errors {
					found = found || v.Path == c.path
				}
				if !found {
					t.Errorf("no violation at %s: %+v", c.path, p.Errors)
				}
			}
		})
	}
}

// TestPackageFaults: corner 2 cannot read the encrypted dokumentpakke, so what is wrong inside it does not
// refuse the message: it is accepted (200, OPPRETTET then SENDT), the problem is shown in the admin view,
// and the provider answers with a feil receipt (feiltype KLIENT, detaljer naming the problem) instead of
// the leverings- or mottakskvittering, whatever the behaviour asks for besides.
func TestPackageFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	if a := e.admin(http.MethodPut, "/behaviour", map[string]any{"aapningAfter": "0s", "returpostAfter": "0s",
		"varslingfeilet": map[string]any{"varslingskanal": "sms"}, "feil": map[string]any{"feiltype": "SERVER", "detaljer": "behaviour"}}); a.status != http.StatusOK {
		t.Fatalf("behaviour: %d %s", a.status, a.body)
	}
	self := selfSignedSigner(t)
	for _, c := range []struct {
		name string
		sp   spec
		path string // the problem's path
		text string // in the problem's message
		env  *env   // default e
	}{
		{name: "encrypted for another provider", sp: spec{recipient: cred(t, fixtures.CredEboks).Certificate}, path: "dokumentpakke", text: "cannot be decrypted"},
		{name: "utskrift encrypted for Digipost", sp: utskriftSpec(spec{recipient: cred(t, fixtures.CredEboks).Certificate}), path: "dokumentpakke", text: "cannot be decrypted"},
		{name: "not a zip", sp: spec{container: func([]byte) []byte { return []byte("not a zip") }}, path: "dokumentpakke", text: "not a valid ASiC-E"},
		{name: "no XAdES signature", sp: spec{xades: xadesNone}, path: "META-INF/signatures.xml", text: "is missing"},
		{name: "empty XAdES signature", sp: spec{xades: xadesPlaceholder}, path: "META-INF/signatures.xml", text: "does not verify"},
		{name: "XAdES signature over other content", sp: spec{xades: xadesTampered}, path: "META-INF/signatures.xml", text: "does not verify"},
		{name: "XAdES signer outside SignerRoots", sp: spec{xadesSigner: &self}, path: "META-INF/signatures.xml", text: "does not verify",
			env: newEnv(t, func(o *dpi.Options) { o.SignerRoots = testPKI().Pool() })},
		{name: "no manifest", sp: spec{noManifest: true}, path: "manifest.xml", text: "not in the dokumentpakke"},
		{name: "manifest namespace", sp: spec{manifestXML: func(b []byte) []byte {
			return []byte(strings.Replace(string(b), wire.SDPNamespace, "urn:x", 1))
		}}, path: "manifest.xml", text: "cannot be read"},
		{name: "manifest postkasseadresse", sp: spec{manifest: func(m *wire.SDPManifest) { m.Mottaker.Person.Postkasseadresse = kari }}, path: "manifest.xml/mottaker/person/postkasseadresse"},
		{name: "manifest without mottaker", sp: spec{manifest: func(m *wire.SDPManifest) { m.Mottaker = nil }}, path: "manifest.xml/mottaker"},
		{name: "utskrift manifest with mottaker", sp: utskriftSpec(spec{manifest: func(m *wire.SDPManifest) {
			m.Mottaker = &wire.SDPMottaker{Person: wire.SDPPerson{Postkasseadresse: ola}}
		}}), path: "manifest.xml/mottaker"},
		{name: "manifest avsender", sp: spec{manifest: func(m *wire.SDPManifest) { m.Avsender.Organisasjon.Value = "0192:" + otherOrg }}, path: "manifest.xml/avsender/organisasjon"},
		{name: "manifest avsenderidentifikator", sp: spec{manifest: func(m *wire.SDPManifest) { m.Avsender.Avsenderidentifikator = "annen" }}, path: "manifest.xml/avsender/avsenderidentifikator"},
		{name: "manifest hoveddokument missing", sp: spec{manifest: func(m *wire.SDPManifest) { m.Hoveddokument.Href = "mangler.pdf" }}, path: "manifest.xml/hoveddokument/@href", text: "not in the dokumentpakke"},
		{name: "manifest vedlegg missing", sp: spec{manifest: func(m *wire.SDPManifest) { m.Vedlegg[0].Href = "mangler.txt" }}, path: "manifest.xml/vedlegg[1]/@href"},
		{name: "manifest data missing", sp: spec{manifest: func(m *wire.SDPManifest) {
			m.Hoveddokument.Data = &wire.SDPData{Href: "meta.xml", Mime: "application/xml"}
		}}, path: "manifest.xml/hoveddokument/data/@href"},
		{name: "manifest lang", sp: spec{manifest: func(m *wire.SDPManifest) { m.Hoveddokument.Tittel.Lang = "" }}, path: "manifest.xml/hoveddokument/tittel/@lang"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := e
			if c.env != nil {
				e = c.env
			}
			b := build(t, c.sp)
			if a := e.sendBuilt(b, kanal); a.status != http.StatusOK {
				t.Fatalf("send: %d %s", a.status, a.body)
			}
			v := e.message(b.messageID, false)
			found := false
			for _, p := range v.PackageProblems {
				found = found || p.Path == c.path && strings.Contains(p.Message, c.text)
			}
			if !found {
				t.Fatalf("no package problem at %s containing %q: %+v", c.path, c.text, v.PackageProblems)
			}
			if d := cmp.Diff([]string{"OPPRETTET", "SENDT"}, statusNames(e.statuses(b.messageID))); d != "" {
				t.Errorf("statuses (-want +got):\n%s", d)
			}
			if len(v.ReceiptViews) != 1 {
				t.Fatalf("receipts %v, want one feil", v.Receipts)
			}
			rv := v.ReceiptViews[0]
			m, _ := openReceipt(t, rv.Forretningsmelding)
			k := m.Kvittering
			if m.Type() != wire.DPITypeFeil || k.Feiltype != wire.DPIFeiltypeKlient || !strings.Contains(k.Detaljer, c.path+": ") ||
				!strings.Contains(k.Detaljer, c.text) || rv.By != "package fault" || m.ConversationID() != b.conversationID {
				t.Errorf("receipt %s by %q: %+v", m.Type(), rv.By, k)
			}
			if v.Dokumentpakke.SignatureVerified != (c.sp.xades == "" && c.env == nil && !strings.Contains(c.path, "dokumentpakke")) {
				t.Errorf("signatureVerified %v", v.Dokumentpakke.SignatureVerified)
			}
		})
	}
}

// selfSignedSigner is a XAdES signer whose certificate is outside the test PKI.
func selfSignedSigner(t *testing.T) dokumentpakke.Signer {
	t.Helper()
	cert, err := dpi.SelfSignedCertificate(receiptKy(), "efm-harness stranger", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return dokumentpakke.Signer{Key: receiptKy(), Certificate: cert}
}

func TestRefusedRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := build(t, spec{})
	ct, body := multipartBody(b.jws, b.cms)
	onlyJWS, onlyJWSBody := multipartBody(b.jws, nil)
	for _, c := range []struct {
		name, path, ct string
		body           []byte
		want           int
	}{
		{"no kanal", dpi.DefaultBasePath + "/messages/out", ct, body, http.StatusBadRequest},
		{"empty kanal", dpi.DefaultBasePath + "/messages/out?kanal=", ct, body, http.StatusBadRequest},
		{"not multipart", dpi.DefaultBasePath + "/messages/out?kanal=k", "application/json", []byte(`{}`), http.StatusUnsupportedMediaType},
		{"no dokumentpakke", dpi.DefaultBasePath + "/messages/out?kanal=k", onlyJWS, onlyJWSBody, http.StatusBadRequest},
		{"broken multipart", dpi.DefaultBasePath + "/messages/out?kanal=k", ct, body[:len(body)/2], http.StatusBadRequest},
	} {
		a := e.do(http.MethodPost, c.path, b.token, c.ct, c.body)
		if a.status != c.want || a.problem(t).Status != c.want {
			t.Errorf("%s: %d %s", c.name, a.status, a.body)
		}
	}
	small := newEnv(t, func(o *dpi.Options) { o.MaxUploadSize = 1024 })
	if a := small.do(http.MethodPost, dpi.DefaultBasePath+"/messages/out?kanal=k", b.token, ct, body); a.status != http.StatusRequestEntityTooLarge {
		t.Errorf("too large: %d %s", a.status, a.body)
	}
}
