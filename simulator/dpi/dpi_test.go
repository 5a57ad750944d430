package dpi_test

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/efm-harness/efm-harness/fixtures"
	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/dpi"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

func statusNames(ss []wire.DPIStatus) []string {
	out := []string{}
	for _, s := range ss {
		out = append(out, s.Status)
	}
	return out
}

func TestDigitalAcceptedAndInspectable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.send(spec{aapning: true, avsenderID: "avsender910077473"}, kanal)

	v := e.message(b.messageID, true)
	want := dpi.Summary{MessageID: b.messageID, ConversationID: b.conversationID, Kanal: kanal, Type: wire.DPITypeDigital,
		Sender: senderOrg, Avsender: "0192:" + senderOrg, Avsenderidentifikator: "avsender910077473", Receiver: fixtures.DigipostOrgnr,
		Postkasseadresse: ola, Tittel: "Vedtak om byggeløyve", Status: wire.DPICorner2StatusSendt,
		Documents: 3, Receipts: []string{wire.DPITypeLeveringskvittering}, ReceiptsPending: 1, PackageProblems: []dpi.Violation{}}
	got := v.Summary
	got.Received, got.Statuses = time.Time{}, nil
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("summary (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"OPPRETTET", "SENDT"}, statusNames(v.Statuses)); d != "" {
		t.Errorf("statuses (-want +got):\n%s", d)
	}
	if v.Digital == nil || v.Digital.Sikkerhetsnivaa != 4 || !v.Digital.Aapningskvittering || v.Digital.Spraak != "NO" ||
		v.Digital.Varsler.Smsvarsel.Mobiltelefonnummer != "+4799999999" || v.Digital.Varsler.Epostvarsel.Varslingstekst != "Du har fått post" {
		t.Errorf("digital view: %+v", v.Digital)
	}
	if strings.Contains(string(must(json.Marshal(v.Digital))), b.token) {
		t.Error("the admin view shows the maskinportentoken")
	}
	if !v.Caller.MaskinportentokenIsBearer || v.Caller.ConsumerOrg != senderOrg {
		t.Errorf("caller: %+v", v.Caller)
	}
	if v.Signer.Orgnr != senderOrg {
		t.Errorf("signer: %+v", v.Signer)
	}
	if v.Manifest == nil || v.Manifest.Mottaker.Person.Postkasseadresse != ola || v.Manifest.Hoveddokument.Href != "brev.pdf" {
		t.Errorf("manifest: %+v", v.Manifest)
	}
	if v.Forretningsmelding != b.jws {
		t.Error("content=true does not show the JWS as received")
	}
	if v.Dokumentpakke.SHA256Base64 != b.msg.Digital.Dokumentpakkefingeravtrykk.DigestValue || v.Dokumentpakke.Size != len(b.cms) ||
		len(v.Dokumentpakke.Signatures) != 1 {
		t.Errorf("dokumentpakke: %+v", v.Dokumentpakke)
	}
	roles := map[string]string{}
	for _, d := range v.Documents {
		roles[d.Name] = d.Role
		for _, f := range b.files {
			if f.Name != d.Name {
				continue
			}
			content, err := base64.StdEncoding.DecodeString(d.Content)
			if err != nil || !bytes.Equal(content, f.Content) || d.Mime != f.MimeType || d.Size != len(f.Content) {
				t.Errorf("document %s: mime %s size %d, content differs: %v", d.Name, d.Mime, d.Size, !bytes.Equal(content, f.Content))
			}
		}
	}
	if d := cmp.Diff(map[string]string{"manifest.xml": "manifest", "brev.pdf": "hoveddokument", "vedlegg.txt": "vedlegg"}, roles); d != "" {
		t.Errorf("roles (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]dpi.PartView{{Name: "forretningsmelding", Filename: "sbd.jwt", ContentType: "application/jwt", Size: len(b.jws)},
		{Name: "dokumentpakke", Filename: "asic.cms", ContentType: "application/cms", Size: len(b.cms)}}, v.Parts); d != "" {
		t.Errorf("parts (-want +got):\n%s", d)
	}
	// Without content=true: no content, no JWS.
	if v := e.message(b.conversationID, false); v.Forretningsmelding != "" || v.Documents[1].Content != "" || v.MessageID != b.messageID {
		t.Error("the view without content=true shows content, or the conversationId does not find the message")
	}
}

func TestUtskriftAcceptedAndReceipted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.admin(http.MethodPut, "/behaviour", map[string]any{"returpostAfter": "0s"})
	b := e.send(spec{typ: wire.DPITypeUtskrift, receiver: fixtures.PrintProviderOrgnr}, kanal)
	v := e.message(b.messageID, false)
	if v.Utskrift == nil || v.Utskrift.Utskriftstype != wire.DPIUtskriftFarge || v.Utskrift.Posttype != "A" ||
		v.Utskrift.Mottaker.Postnummer != "0468" || v.Utskrift.Retur.Returposthaandtering != wire.DPIReturDirekte || v.Postkasseadresse != "" {
		t.Errorf("utskrift view: %+v", v.Utskrift)
	}
	if v.Tittel != "Vedtak" || v.Manifest.Mottaker != nil {
		t.Errorf("tittel %q, manifest mottaker %+v", v.Tittel, v.Manifest.Mottaker)
	}
	in := e.poll(kanal, nil, receiveToken(t, senderOrg))
	if d := cmp.Diff([]string{wire.DPITypeMottakskvittering, wire.DPITypeReturpostkvittering}, receiptTypes(t, in)); d != "" {
		t.Errorf("receipts (-want +got):\n%s", d)
	}
}

// TestXAdESVerified: a dokumentpakke made by dokumentpakke.CreateASiCEXAdES, as the reference integration
// point makes it, is accepted, its XAdES signature verifies (with SignerRoots too), the admin view names
// the signer, and its documents come out unchanged.
func TestXAdESVerified(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *dpi.Options) { o.SignerRoots = testPKI().Pool() })
	b := e.send(spec{}, kanal)
	v := e.message(b.messageID, true)
	if d := cmp.Diff([]string{"META-INF/signatures.xml"}, v.Dokumentpakke.Signatures); d != "" {
		t.Errorf("signatures (-want +got):\n%s", d)
	}
	signer := cred(t, senderOrg).Certificate
	if !v.Dokumentpakke.SignatureVerified || v.Dokumentpakke.SignatureSigner == nil ||
		v.Dokumentpakke.SignatureSigner.Subject != signer.Subject.String() || v.Dokumentpakke.SignatureSigner.Orgnr != senderOrg {
		t.Errorf("signature: verified %v, signer %+v", v.Dokumentpakke.SignatureVerified, v.Dokumentpakke.SignatureSigner)
	}
	if len(v.PackageProblems) != 0 || !slices.Equal(v.Receipts, []string{wire.DPITypeLeveringskvittering}) {
		t.Errorf("package problems %+v, receipts %v", v.PackageProblems, v.Receipts)
	}
	for _, d := range v.Documents {
		if d.Name == "brev.pdf" && d.Content != base64.StdEncoding.EncodeToString(brevPDF) {
			t.Error("brev.pdf differs")
		}
	}
}

func TestForeignAddressAccepted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.send(spec{typ: wire.DPITypeUtskrift, receiver: fixtures.PrintProviderOrgnr, msg: func(m *wire.DPIMessage) {
		m.Utskrift.Mottaker = wire.DPIAdresse{Navn: "Kari", Adresselinje1: "Main St 1", Adresselinje2: "12345 Stockholm", Land: "Sverige"}
		m.Utskrift.Posttype = ""
	}}, kanal)
}

// TestAddressWithEmptyMembersAccepted: the schema's required lists need only the key, so "navn": "" (as
// the integration point sends for a letter without a name) and an empty poststed are present.
func TestAddressWithEmptyMembersAccepted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, c := range []struct{ name, old, new string }{
		{"empty navn", `"navn":"Ola Nordmann"`, `"navn":""`},
		{"empty retur poststed", `"poststed":"VARDØ"`, `"poststed":""`},
		{"empty navn and adresselinje1", `"navn":"Ola Nordmann","adresselinje1":"Storgata 1"`, `"navn":"","adresselinje1":""`},
	} {
		found := false
		b := build(t, utskriftSpec(spec{payload: func(p []byte) []byte {
			found = strings.Contains(string(p), c.old)
			return replaceJSON(c.old, c.new)(p)
		}}))
		if !found {
			t.Fatalf("%s: the payload has no %s", c.name, c.old)
		}
		if a := e.sendBuilt(b, kanal); a.status != http.StatusOK {
			t.Errorf("%s: %d %s", c.name, a.status, a.body)
		}
	}
}

func TestReceiptShape(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.send(spec{avsenderID: "a1"}, kanal)
	in := e.poll(kanal, nil, receiveToken(t, senderOrg))
	if len(in) != 1 || in[0].Downloadurl != nil {
		t.Fatalf("incoming: %+v", in)
	}
	m, cert := openReceipt(t, in[0].Forretningsmelding)
	if cert == nil || !bytes.Equal(cert.Raw, e.srv.ReceiptCertificate().Raw) || !bytes.Equal(cert.RawIssuer, cert.RawSubject) {
		t.Fatal("the receipt's x5c is not the simulator's self-signed certificate")
	}
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		t.Errorf("not self-signed: %v", err)
	}
	jws, err := dokumentpakke.ParseJWSUnverified(in[0].Forretningsmelding)
	if err != nil || jws.Algorithm != "RS256" || jws.KeyID != "" || len(jws.Certificates) != 1 {
		t.Errorf("jws header: %+v %v", jws, err)
	}
	rawHeader, _ := base64.RawURLEncoding.DecodeString(strings.Split(in[0].Forretningsmelding, ".")[0])
	var hdr map[string]any
	_ = json.Unmarshal(rawHeader, &hdr)
	if len(hdr) != 2 {
		t.Errorf("JWS header has %v, want alg and x5c only", hdr)
	}
	h := m.Header
	if m.Type() != wire.DPITypeLeveringskvittering || h.DocumentIdentification.Standard != wire.DPIStandard(wire.DPITypeLeveringskvittering) ||
		h.DocumentIdentification.TypeVersion != "1.0" || h.HeaderVersion != "1.0" || h.DocumentIdentification.CreationDateAndTime == nil {
		t.Errorf("header: %+v", h.DocumentIdentification)
	}
	if h.Sender[0].Identifier.Value != "0192:"+fixtures.DigipostOrgnr || h.Receiver[0].Identifier.Value != "0192:"+senderOrg {
		t.Errorf("sender %v receiver %v", h.Sender[0].Identifier, h.Receiver[0].Identifier)
	}
	if m.ConversationID() != b.conversationID || m.MessageID() == b.messageID || len(h.BusinessScope.Scope) != 1 ||
		h.BusinessScope.Scope[0].Identifier != "" || len(h.BusinessScope.Scope[0].ScopeInformation) != 1 {
		t.Errorf("scope: %+v", h.BusinessScope.Scope)
	}
	k := m.Kvittering
	if k.Avsender.Virksomhetsidentifikator != wire.NewDPIIdentifier(fixtures.DigipostOrgnr) ||
		k.Mottaker.Virksomhetsidentifikator != wire.NewDPIIdentifier(senderOrg) {
		t.Errorf("kvittering: %+v", k)
	}
	if _, err := time.Parse(time.RFC3339, k.Tidspunkt); err != nil {
		t.Errorf("tidspunkt %q: %v", k.Tidspunkt, err)
	}
	// The raw payload holds exactly the envelope, the header and the body, with no null members.
	payload, _, _ := dokumentpakke.VerifyJWS(in[0].Forretningsmelding, dokumentpakke.VerifyOptions{})
	if bytes.Contains(payload, []byte("null")) || bytes.Contains(payload, []byte(`"identifier":""`)) || bytes.Contains(payload, []byte("manifest")) {
		t.Errorf("payload: %s", payload)
	}
}

func TestAapningskvitteringOnlyWhenRequested(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *dpi.Options) { o.AapningAfter = time.Millisecond })
	with := e.send(spec{aapning: true}, kanal)
	without := e.send(spec{aapning: false}, kanal)
	eventually(t, "the aapningskvittering", func() bool { return len(e.message(with.messageID, false).Receipts) == 2 })
	time.Sleep(20 * time.Millisecond)
	for _, c := range []struct {
		id   string
		want []string
	}{
		{with.messageID, []string{wire.DPITypeLeveringskvittering, wire.DPITypeAapningskvittering}},
		{without.messageID, []string{wire.DPITypeLeveringskvittering}},
	} {
		if d := cmp.Diff(c.want, e.message(c.id, false).Receipts); d != "" {
			t.Errorf("%s receipts (-want +got):\n%s", c.id, d)
		}
	}
	// The default: never by itself.
	e2 := newEnv(t, nil)
	b := e2.send(spec{aapning: true}, kanal)
	time.Sleep(20 * time.Millisecond)
	if d := cmp.Diff([]string{wire.DPITypeLeveringskvittering}, e2.message(b.messageID, false).Receipts); d != "" {
		t.Errorf("default receipts (-want +got):\n%s", d)
	}
}

func TestStatuses(t *testing.T) {
	t.Parallel()
	t.Run("delayed SENDT", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, func(o *dpi.Options) { o.SendtAfter = 400 * time.Millisecond })
		b := e.send(spec{}, kanal)
		if d := cmp.Diff([]string{"OPPRETTET"}, statusNames(e.statuses(b.messageID))); d != "" {
			t.Errorf("at once (-want +got):\n%s", d)
		}
		if in := e.poll(kanal, nil, receiveToken(t, senderOrg)); len(in) != 0 {
			t.Errorf("receipts before SENDT: %d", len(in))
		}
		eventually(t, "SENDT", func() bool { return len(e.statuses(b.messageID)) == 2 })
		ss := e.statuses(b.messageID)
		if ss[1].Status != "SENDT" {
			t.Errorf("statuses %+v", ss)
		}
		for _, s := range ss {
			if _, err := time.Parse(time.RFC3339, s.Timestamp); err != nil {
				t.Errorf("timestamp %q: %v", s.Timestamp, err)
			}
		}
		eventually(t, "the leveringskvittering", func() bool { return len(e.poll(kanal, nil, receiveToken(t, senderOrg))) == 1 })
	})
	t.Run("FEILET", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		if a := e.admin(http.MethodPut, "/behaviour", map[string]any{"feilet": true}); a.status != http.StatusOK {
			t.Fatalf("behaviour: %d %s", a.status, a.body)
		}
		b := e.send(spec{}, kanal)
		if d := cmp.Diff([]string{"OPPRETTET", "FEILET"}, statusNames(e.statuses(b.messageID))); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
		if in := e.poll(kanal, nil, receiveToken(t, senderOrg)); len(in) != 0 {
			t.Errorf("receipts after FEILET: %d", len(in))
		}
	})
	t.Run("unknown, and the token", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		a := e.do(http.MethodGet, dpi.DefaultBasePath+"/messages/out/"+newID()+"/statuses", receiveToken(t, senderOrg), "", nil)
		if a.status != http.StatusNotFound || a.problem(t).Status != http.StatusNotFound {
			t.Errorf("unknown: %d %s", a.status, a.body)
		}
		a = e.do(http.MethodGet, dpi.DefaultBasePath+"/messages/out/"+newID()+"/statuses", "", "", nil)
		if a.status != http.StatusUnauthorized || a.header.Get("WWW-Authenticate") == "" {
			t.Errorf("no token: %d %s", a.status, a.body)
		}
	})
	t.Run("admin", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		b := e.send(spec{}, kanal)
		if a := e.admin(http.MethodPost, "/messages/"+b.messageID+"/statuses", map[string]string{"status": "FEILET", "beskrivelse": "x"}); a.status != http.StatusOK {
			t.Fatalf("%d %s", a.status, a.body)
		}
		if a := e.admin(http.MethodPost, "/messages/"+b.messageID+"/statuses", map[string]string{"status": "LEVERT"}); a.status != http.StatusBadRequest {
			t.Errorf("LEVERT: %d", a.status)
		}
		ss := e.statuses(b.messageID)
		if d := cmp.Diff([]string{"OPPRETTET", "SENDT", "FEILET"}, statusNames(ss)); d != "" || ss[2].Beskrivelse != "x" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
}

func TestIncomingPerKanalFilterPageAndRead(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tok := receiveToken(t, senderOrg)
	a1 := e.send(spec{avsenderID: "enhet-a"}, kanal)
	b1 := e.send(spec{avsenderID: "enhet-b"}, kanal)
	a2 := e.send(spec{avsenderID: "enhet-a"}, kanal)
	other := e.send(spec{}, "no_difi_move_integrasjonspunkt-1")

	convs := func(in []wire.DPIIncoming) []string {
		out := []string{}
		for _, x := range in {
			m, _ := openReceipt(t, x.Forretningsmelding)
			out = append(out, m.ConversationID())
		}
		return out
	}
	for _, c := range []struct {
		name  string
		kanal string
		q     url.Values
		want  []string
	}{
		{"all of the kanal, oldest first", kanal, nil, []string{a1.conversationID, b1.conversationID, a2.conversationID}},
		{"avsenderidentifikator", kanal, url.Values{"avsenderidentifikator": {"enhet-a"}}, []string{a1.conversationID, a2.conversationID}},
		{"page_size", kanal, url.Values{"page_size": {"2"}}, []string{a1.conversationID, b1.conversationID}},
		{"other kanal", "no_difi_move_integrasjonspunkt-1", nil, []string{other.conversationID}},
		{"unknown kanal", "nobody", nil, []string{}},
		{"unknown avsenderidentifikator", kanal, url.Values{"avsenderidentifikator": {"x"}}, []string{}},
	} {
		if d := cmp.Diff(c.want, convs(e.poll(c.kanal, c.q, tok))); d != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, d)
		}
	}
	// Another organisation's integration point sees none of them.
	if in := e.poll(kanal, nil, receiveToken(t, otherOrg)); len(in) != 0 {
		t.Errorf("another organisation sees %d receipts", len(in))
	}
	// Read the first: it is no longer listed; reading again is fine; unknown ids are 404.
	in := e.poll(kanal, nil, tok)
	first, _ := openReceipt(t, in[0].Forretningsmelding)
	for i, want := range []int{http.StatusOK, http.StatusOK} {
		if a := e.do(http.MethodPost, dpi.DefaultBasePath+"/messages/in/"+first.MessageID()+"/read", tok, "", nil); a.status != want {
			t.Errorf("read %d: %d %s", i, a.status, a.body)
		}
	}
	if a := e.do(http.MethodPost, dpi.DefaultBasePath+"/messages/in/"+newID()+"/read", tok, "", nil); a.status != http.StatusNotFound {
		t.Errorf("read unknown: %d", a.status)
	}
	if a := e.do(http.MethodPost, dpi.DefaultBasePath+"/messages/in/"+first.MessageID()+"/read", receiveToken(t, otherOrg), "", nil); a.status != http.StatusNotFound {
		t.Errorf("read by another organisation: %d", a.status)
	}
	if d := cmp.Diff([]string{b1.conversationID, a2.conversationID}, convs(e.poll(kanal, nil, tok))); d != "" {
		t.Errorf("after read (-want +got):\n%s", d)
	}
	if v := e.message(a1.messageID, false); v.ReceiptsRead != 1 || v.ReceiptsPending != 0 || !v.ReceiptViews[0].Read {
		t.Errorf("admin view after read: %+v", v.Summary)
	}
	for _, q := range []string{"page_size=0", "page_size=x", ""} {
		path := dpi.DefaultBasePath + "/messages/in?" + q
		if q != "" {
			path += "&kanal=" + kanal
		}
		if a := e.do(http.MethodGet, path, tok, "", nil); a.status != http.StatusBadRequest {
			t.Errorf("%q: %d", q, a.status)
		}
	}
}

func TestBehaviourReceipts(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name      string
		behaviour map[string]any
		sp        spec
		want      []string
		check     func(t *testing.T, k *wire.DPIKvittering)
	}{
		{"feil instead of leveringskvittering", map[string]any{"feil": map[string]any{"feiltype": "KLIENT", "detaljer": "ukjent postkasse"}},
			spec{}, []string{wire.DPITypeFeil}, func(t *testing.T, k *wire.DPIKvittering) {
				if k.Feiltype != "KLIENT" || k.Detaljer != "ukjent postkasse" {
					t.Errorf("feil: %+v", k)
				}
			}},
		{"varslingfeilet after leveringskvittering", map[string]any{"varslingfeilet": map[string]any{"varslingskanal": "sms", "beskrivelse": "ugyldig nummer"}},
			spec{}, []string{wire.DPITypeLeveringskvittering, wire.DPITypeVarslingfeiletkvittering}, func(t *testing.T, k *wire.DPIKvittering) {
				if k.Varslingskanal != "sms" || k.Beskrivelse != "ugyldig nummer" {
					t.Errorf("varslingfeilet: %+v", k)
				}
			}},
		{"feil for utskrift", map[string]any{"feil": map[string]any{}},
			spec{typ: wire.DPITypeUtskrift, receiver: fixtures.PrintProviderOrgnr}, []string{wire.DPITypeFeil}, func(t *testing.T, k *wire.DPIKvittering) {
				if k.Feiltype != "SERVER" {
					t.Errorf("feil: %+v", k)
				}
			}},
		{"override for a postkasseadresse", map[string]any{"overrides": map[string]any{kari: map[string]any{"feil": map[string]any{"feiltype": "SERVER"}}}},
			spec{postkasse: kari, receiver: fixtures.EboksOrgnr, recipient: cred(t, fixtures.CredEboks).Certificate}, []string{wire.DPITypeFeil}, nil},
		{"the override leaves other postkasser alone", map[string]any{"overrides": map[string]any{kari: map[string]any{"feil": map[string]any{}}}},
			spec{}, []string{wire.DPITypeLeveringskvittering}, nil},
		{"override for a receiver organisation", map[string]any{"overrides": map[string]any{fixtures.EboksOrgnr: map[string]any{"feilet": true}}},
			spec{postkasse: kari, receiver: fixtures.EboksOrgnr, recipient: cred(t, fixtures.CredEboks).Certificate}, []string{}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			if a := e.admin(http.MethodPut, "/behaviour", c.behaviour); a.status != http.StatusOK {
				t.Fatalf("behaviour: %d %s", a.status, a.body)
			}
			e.send(c.sp, kanal)
			in := e.poll(kanal, nil, receiveToken(t, senderOrg))
			if d := cmp.Diff(c.want, receiptTypes(t, in)); d != "" {
				t.Fatalf("receipts (-want +got):\n%s", d)
			}
			if c.check != nil {
				m, _ := openReceipt(t, in[len(in)-1].Forretningsmelding)
				c.check(t, m.Kvittering)
			}
		})
	}
}

func TestBehaviourAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *dpi.Options) { o.KvitteringAfter = time.Second })
	var b dpi.Behaviour
	e.admin(http.MethodGet, "/behaviour", nil).json(t, &b)
	if b.KvitteringAfter != "1s" || b.SendtAfter != "0s" || b.AapningAfter != nil || b.Feil != nil {
		t.Errorf("defaults: %+v", b)
	}
	a := e.admin(http.MethodPut, "/behaviour", map[string]any{"aapningAfter": "2s", "returpostAfter": 500, "varslingfeilet": map[string]any{}})
	a.json(t, &b)
	if a.status != http.StatusOK || *b.AapningAfter != "2s" || *b.ReturpostAfter != "500ms" || b.Varslingfeilet.Varslingskanal != "epost" || b.KvitteringAfter != "1s" {
		t.Errorf("after PUT: %d %+v", a.status, b)
	}
	e.admin(http.MethodPut, "/behaviour", map[string]any{"aapningAfter": nil}).json(t, &b)
	if b.AapningAfter != nil {
		t.Errorf("aapningAfter null: %+v", b)
	}
	for _, bad := range []map[string]any{
		{"sendtAfter": "-1s"}, {"sendtAfter": "soon"}, {"unknown": 1}, {"feil": map[string]any{"feiltype": "X"}},
		{"varslingfeilet": map[string]any{"varslingskanal": "brev"}}, {"overrides": map[string]any{"x": map[string]any{"feilet": "ja"}}},
		{"overrides": []int{1}}, {"feil": map[string]any{"extra": 1}},
	} {
		if a := e.admin(http.MethodPut, "/behaviour", bad); a.status != http.StatusBadRequest {
			t.Errorf("%v: %d %s", bad, a.status, a.body)
		}
	}
	// Reset returns to the Options.
	e.admin(http.MethodPost, "/reset", nil)
	e.admin(http.MethodGet, "/behaviour", nil).json(t, &b)
	if b.AapningAfter != nil || b.Varslingfeilet != nil || b.KvitteringAfter != "1s" {
		t.Errorf("after reset: %+v", b)
	}
}

// TestBehaviourConcurrentPUTs: PUTs of different members at the same time all apply (the read-modify-write
// is one critical section).
func TestBehaviourConcurrentPUTs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	puts := []map[string]any{
		{"sendtAfter": "1s"}, {"kvitteringAfter": "2s"}, {"aapningAfter": "3s"}, {"returpostAfter": "4s"},
		{"feilet": true}, {"varslingfeilet": map[string]any{"varslingskanal": "sms"}}, {"feil": map[string]any{"feiltype": "KLIENT"}},
	}
	for round := range 10 {
		e.admin(http.MethodPost, "/reset", nil)
		var wg sync.WaitGroup
		for _, p := range puts {
			wg.Go(func() {
				if a := e.admin(http.MethodPut, "/behaviour", p); a.status != http.StatusOK {
					t.Errorf("PUT %v: %d %s", p, a.status, a.body)
				}
			})
		}
		wg.Wait()
		var b dpi.Behaviour
		e.admin(http.MethodGet, "/behaviour", nil).json(t, &b)
		if b.SendtAfter != "1s" || b.KvitteringAfter != "2s" || b.AapningAfter == nil || *b.AapningAfter != "3s" ||
			b.ReturpostAfter == nil || *b.ReturpostAfter != "4s" || !b.Feilet || b.Varslingfeilet == nil || b.Feil == nil {
			t.Fatalf("round %d: a change was lost: %+v", round, b)
		}
	}
}

func TestAdminReceiptsAndInject(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	b := e.send(spec{}, kanal)
	for _, c := range []struct {
		body map[string]any
		want int
	}{
		{map[string]any{"type": "aapningskvittering"}, http.StatusCreated},
		{map[string]any{"type": "varslingfeiletkvittering", "varslingskanal": "sms", "beskrivelse": "b"}, http.StatusCreated},
		{map[string]any{"type": "feil", "feiltype": "KLIENT", "detaljer": "d", "tidspunkt": "2026-11-22T10:00:00+01:00"}, http.StatusCreated},
		{map[string]any{"type": "returpostkvittering", "motakeridentifikator": "enhet"}, http.StatusCreated},
		{map[string]any{"type": "digital"}, http.StatusBadRequest},
		{map[string]any{"type": "feil", "feiltype": "NOEN"}, http.StatusBadRequest},
		{map[string]any{"type": "varslingfeiletkvittering", "varslingskanal": "brev"}, http.StatusBadRequest},
		{map[string]any{"type": "leveringskvittering", "tidspunkt": "i går"}, http.StatusBadRequest},
		{map[string]any{"type": "leveringskvittering", "feiltype": "KLIENT"}, http.StatusBadRequest},
		{map[string]any{"type": "leveringskvittering", "extra": 1}, http.StatusBadRequest},
	} {
		a := e.admin(http.MethodPost, "/messages/"+b.messageID+"/receipts", c.body)
		if a.status != c.want {
			t.Errorf("%v: %d %s", c.body, a.status, a.body)
			continue
		}
		if a.status == http.StatusCreated {
			var rv dpi.ReceiptView
			a.json(t, &rv)
			m, _ := openReceipt(t, rv.Forretningsmelding)
			if m.Type() != c.body["type"] || rv.By != "admin" || rv.MessageID != b.messageID || m.MessageID() != rv.ReceiptID {
				t.Errorf("%v: %+v", c.body, rv)
			}
		}
	}
	if a := e.admin(http.MethodPost, "/messages/"+newID()+"/receipts", map[string]any{"type": "feil"}); a.status != http.StatusNotFound {
		t.Errorf("unknown message: %d", a.status)
	}
	if a := e.admin(http.MethodPost, "/inject", map[string]any{"messageId": b.messageID, "type": "mottakskvittering"}); a.status != http.StatusCreated {
		t.Errorf("inject: %d %s", a.status, a.body)
	}
	want := []string{"leveringskvittering", "aapningskvittering", "varslingfeiletkvittering", "feil", "returpostkvittering", "mottakskvittering"}
	if d := cmp.Diff(want, receiptTypes(t, e.poll(kanal, nil, receiveToken(t, senderOrg)))); d != "" {
		t.Errorf("receipts (-want +got):\n%s", d)
	}
	var list struct{ Receipts []dpi.ReceiptView }
	e.admin(http.MethodGet, "/receipts?type=feil", nil).json(t, &list)
	if len(list.Receipts) != 1 || list.Receipts[0].Kvittering.Tidspunkt != "2026-11-22T10:00:00+01:00" {
		t.Errorf("admin receipts: %+v", list.Receipts)
	}
}

func TestDuplicateMessageID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	first := e.send(spec{}, kanal)
	// The integration point's retry: same messageId and conversation, new JWS and CMS.
	again := build(t, spec{messageID: first.messageID, conversationID: first.conversationID})
	if a := e.sendBuilt(again, kanal); a.status != http.StatusOK {
		t.Fatalf("resend: %d %s", a.status, a.body)
	}
	if v := e.message(first.messageID, true); v.Resends != 1 || v.Forretningsmelding != first.jws {
		t.Errorf("resend: %d, first kept %v", v.Resends, v.Forretningsmelding == first.jws)
	}
	other := build(t, spec{messageID: first.messageID})
	if a := e.sendBuilt(other, kanal); a.status != http.StatusConflict || a.problem(t).Status != http.StatusConflict {
		t.Errorf("other conversation: %d %s", a.status, a.body)
	}
	var list struct{ Messages []dpi.Summary }
	e.admin(http.MethodGet, "/messages", nil).json(t, &list)
	if len(list.Messages) != 1 {
		t.Errorf("%d messages", len(list.Messages))
	}
}

func TestKRRPrintSertifikat(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a := e.do(http.MethodGet, dpi.KRRPrintPath, "", "", nil)
	if a.status != http.StatusOK || !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
		t.Fatalf("%d %s", a.status, a.body)
	}
	var raw map[string]string
	a.json(t, &raw)
	if d := cmp.Diff([]string{"postkasseleverandoerAdresse", "x509Sertifikat"}, sortedKeys(raw)); d != "" {
		t.Errorf("keys (-want +got):\n%s", d)
	}
	var k wire.KRRPrintSertifikat
	a.json(t, &k)
	block, _ := pem.Decode([]byte(k.X509Sertifikat))
	if block == nil || block.Type != "CERTIFICATE" || k.PostkasseleverandoerAdresse != fixtures.PrintProviderOrgnr {
		t.Fatalf("answer: %+v", k)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil || !cert.Equal(cred(t, fixtures.CredPrint).Certificate) {
		t.Errorf("certificate: %v", err)
	}
	// Without a print provider: 404.
	e2 := newEnv(t, func(o *dpi.Options) { o.PrintProvider = dpi.PrintProvider{} })
	if a := e2.do(http.MethodGet, dpi.KRRPrintPath, "", "", nil); a.status != http.StatusNotFound {
		t.Errorf("no print provider: %d", a.status)
	}
}

func sortedKeys(m map[string]string) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	if len(out) == 2 && out[0] > out[1] {
		out[0], out[1] = out[1], out[0]
	}
	return out
}

func TestAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, c := range []struct {
		name string
		sp   spec
		tok  string
		want int
	}{
		{"no token", spec{}, "none", http.StatusUnauthorized},
		{"forged token", spec{}, "forged", http.StatusUnauthorized},
		{"wrong scope", spec{scope: "eformidling:dpo"}, "", http.StatusForbidden},
		{"consumer_org of another organisation", spec{tokenOrg: otherOrg}, "", http.StatusForbidden},
		{"no consumer_org", spec{tokenOrg: "-"}, "", http.StatusForbidden},
	} {
		b := build(t, c.sp)
		switch c.tok {
		case "none":
			b.token = ""
		case "forged":
			b.token = b.token[:len(b.token)-4] + "AAAA"
		}
		a := e.sendBuilt(b, kanal)
		if a.status != c.want || a.problem(t).Status != c.want {
			t.Errorf("%s: %d %s", c.name, a.status, a.body)
		}
	}
}

func TestResetAndEviction(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *dpi.Options) { o.MaxMessages = 2 })
	first := e.send(spec{}, kanal)
	e.send(spec{}, kanal)
	e.send(spec{}, kanal)
	var list struct {
		Messages        []dpi.Summary
		Evicted         int
		PendingReceipts int
	}
	e.admin(http.MethodGet, "/messages", nil).json(t, &list)
	if len(list.Messages) != 2 || list.Evicted != 1 || list.PendingReceipts != 2 {
		t.Errorf("after eviction: %d messages, %d evicted, %d pending", len(list.Messages), list.Evicted, list.PendingReceipts)
	}
	if a := e.admin(http.MethodGet, "/messages/"+first.messageID, nil); a.status != http.StatusNotFound {
		t.Errorf("evicted message: %d", a.status)
	}
	if in := e.poll(kanal, nil, receiveToken(t, senderOrg)); len(in) != 2 {
		t.Errorf("the evicted message's receipt is still served: %d", len(in))
	}
	e.admin(http.MethodPost, "/reset", nil)
	e.admin(http.MethodGet, "/messages", nil).json(t, &list)
	if len(list.Messages) != 0 || len(e.poll(kanal, nil, receiveToken(t, senderOrg))) != 0 {
		t.Errorf("after reset: %d messages", len(list.Messages))
	}
}

func TestBasePathAndUnknownRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *dpi.Options) { o.BasePath = "/corner2/" })
	b := build(t, spec{})
	ct, body := multipartBody(b.jws, b.cms)
	if a := e.do(http.MethodPost, "/corner2/messages/out?kanal=k", b.token, ct, body); a.status != http.StatusOK {
		t.Errorf("base path: %d %s", a.status, a.body)
	}
	if a := e.do(http.MethodGet, "/api/v2/dpi/nothing", "", "", nil); a.status != http.StatusNotFound || a.problem(t).Status != 404 {
		t.Errorf("unknown route: %d", a.status)
	}
	if a := e.do(http.MethodGet, "/corner2/messages/out", b.token, "", nil); a.status != http.StatusMethodNotAllowed {
		t.Errorf("GET send: %d", a.status)
	}
	if _, err := dpi.New(dpi.Options{BasePath: "x"}); err == nil {
		t.Error("a base path without / is accepted")
	}
}

func TestStatusFaultBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	if a := e.admin(http.MethodPut, "/faults", map[string]any{"mode": "status", "status": 503}); a.status != http.StatusOK {
		t.Fatalf("%d %s", a.status, a.body)
	}
	a := e.do(http.MethodGet, dpi.DefaultBasePath+"/messages/in?kanal=k", receiveToken(t, senderOrg), "", nil)
	if a.status != http.StatusServiceUnavailable || a.problem(t).Status != 503 {
		t.Errorf("%d %s", a.status, a.body)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
