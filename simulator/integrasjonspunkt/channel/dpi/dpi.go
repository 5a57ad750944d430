// Package dpi is the reference integration point's DPI channel: digital post and print to citizens
// through the DPI corner-2 REST API, as the real IP v4 sends it (spec upstreams §7).
//
// Send looks up KRR's print certificate (every send, as the real IP does; cached 5 minutes), builds the
// dokumentpakke — an ASiC-E with the SDP manifest.xml, the main document, the attachments and the main
// document's metadata file, XAdES-signed with the organisation's certificate and CMS-encrypted for the
// mailbox provider (digital: the register's pemCertificate) or the print provider (print: KRR's
// certificate) — and the forretningsmelding, a JWS (RS256, x5c) over the digital or utskrift business
// message with the dokumentpakke's SHA-256 fingerprint and the sender's Maskinporten token, and posts both
// to /messages/out?kanal=. Poller (poll.go) turns corner 2's statuses into MOTTATT or FEIL; Receipts
// (receipts.go) fetches the receipts of the integration point's kanal and registers LEVERT, LEST, FEIL or
// ANNET with the receipt as rawReceipt.
package dpi

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/oidc"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Defaults of the real IP's difi.move.dpi properties.
const (
	DefaultMpcID    = "no_difi_move_integrasjonspunkt"
	DefaultLanguage = "NO"
	DefaultPageSize = 100
	// MissingTitle is the manifest title of a file uploaded without one.
	MissingTitle = "Missing title"
	krrCacheTTL  = 5 * time.Minute
)

// Options configure the channel.
type Options struct {
	// URI is corner 2's base (difi.move.dpi.uri, e.g. https://…/api/v2/dpi); KRRPrintURL is KRR's print
	// certificate endpoint (difi.move.dpi.krr-print-url, …/rest/v2/printSertifikat).
	URI         string
	KRRPrintURL string
	// MpcID is the integration point's channel (difi.move.dpi.mpcId); the kanal is it with '.' as '_'.
	MpcID string
	// OrgNumber is the integration point's own organisation.
	OrgNumber string
	// Key and Certificate sign the forretningsmelding and the dokumentpakke (difi.move.dpi.keystore,
	// the organisation's by default).
	Key         *rsa.PrivateKey
	Certificate *x509.Certificate
	// Tokens gets Maskinporten tokens; HTTP makes every call (it must have a timeout).
	Tokens *oidc.Client
	HTTP   *http.Client
	// Language is the manifest language when the message and the register name none (NO).
	Language string
	// PageSize is how many receipts one poll asks for (100).
	PageSize int
	// Now is the clock; Logger the log.
	Now    func() time.Time
	Logger *slog.Logger
}

// Channel sends over DPI.
type Channel struct {
	opts Options
	mu   sync.Mutex
	krr  *wire.KRRPrintSertifikat
	krrT time.Time
}

// New makes the channel.
func New(opts Options) *Channel {
	if opts.HTTP == nil {
		opts.HTTP = &http.Client{Timeout: 60 * time.Second}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MpcID == "" {
		opts.MpcID = DefaultMpcID
	}
	if opts.Language == "" {
		opts.Language = DefaultLanguage
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	opts.URI = strings.TrimRight(opts.URI, "/")
	return &Channel{opts: opts}
}

// Service is DPI.
func (c *Channel) Service() wire.ServiceIdentifier { return wire.ServiceDPI }

// Kanal is the integration point's corner-2 channel: the mpcId with '.' replaced by '_'.
func (c *Channel) Kanal() string { return strings.ReplaceAll(c.opts.MpcID, ".", "_") }

// KRR returns KRR's print provider and certificate, cached for five minutes.
func (c *Channel) KRR(ctx context.Context) (wire.KRRPrintSertifikat, error) {
	now := c.opts.Now()
	c.mu.Lock()
	cached, at := c.krr, c.krrT
	c.mu.Unlock()
	if cached != nil && now.Sub(at) < krrCacheTTL {
		return *cached, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.opts.KRRPrintURL, nil)
	if err != nil {
		return wire.KRRPrintSertifikat{}, channel.Permanent(fmt.Errorf("KRR print URL: %w", err), "")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.opts.HTTP.Do(req)
	if err != nil {
		return wire.KRRPrintSertifikat{}, fmt.Errorf("KRR print certificate: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return wire.KRRPrintSertifikat{}, fmt.Errorf("KRR print certificate: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return wire.KRRPrintSertifikat{}, fmt.Errorf("KRR print certificate answered %d: %s", resp.StatusCode, channel.Truncate(raw))
	}
	var out wire.KRRPrintSertifikat
	if err := json.Unmarshal(raw, &out); err != nil || out.PostkasseleverandoerAdresse == "" || out.X509Sertifikat == "" {
		return wire.KRRPrintSertifikat{}, fmt.Errorf("KRR print certificate answer without provider or certificate: %s", channel.Truncate(raw))
	}
	c.mu.Lock()
	c.krr, c.krrT = &out, now
	c.mu.Unlock()
	return out, nil
}

// Send posts m to corner 2 as digital post or print.
func (c *Channel) Send(ctx context.Context, m channel.Message) (channel.Result, error) {
	krr, err := c.KRR(ctx) // every send, digital too, as the real IP
	if err != nil {
		return channel.Result{}, err
	}
	avsenderOrg, err := avsenderOrg(m.SBD.SenderIdentifier())
	if err != nil {
		return channel.Result{}, channel.Permanent(err, "")
	}
	mainOrg := mainOrg(m.SBD.SenderIdentifier(), c.opts.OrgNumber)
	p, err := c.prepare(ctx, m, krr, avsenderOrg)
	if err != nil {
		return channel.Result{}, err
	}
	u := c.opts.URI + "/messages/out?kanal=" + url.QueryEscape(c.Kanal())
	// The token goes into the signed forretningsmelding too, so a fresh token means signing again.
	build := func(token string) ([]byte, string, error) {
		if p.digital != nil {
			p.digital.Maskinportentoken = token
		} else {
			p.utskrift.Maskinportentoken = token
		}
		msg := wire.DPIMessage{Header: c.header(m.SBD, mainOrg, p.receiverOrg, p.typ), Digital: p.digital, Utskrift: p.utskrift}
		payload, err := json.Marshal(msg)
		if err != nil {
			return nil, "", channel.Permanent(fmt.Errorf("forretningsmelding: %w", err), "")
		}
		jws, err := dokumentpakke.SignJWS(payload, c.opts.Key, []*x509.Certificate{c.opts.Certificate}, "")
		if err != nil {
			return nil, "", channel.Permanent(fmt.Errorf("sign forretningsmelding: %w", err), "")
		}
		body, ctype, err := multipartBody(jws, p.cms)
		if err != nil {
			return nil, "", channel.Permanent(err, "")
		}
		return body, ctype, nil
	}
	token := func(ctx context.Context, fresh bool) (string, error) { return c.token(ctx, avsenderOrg, fresh) }
	if _, _, err := channel.Call(ctx, c.opts.HTTP, token, channel.Request{Method: http.MethodPost, URL: u, Build: build, Name: "DPI", Limit: 16 << 20}); err != nil {
		return channel.Result{}, err
	}
	return channel.Result{Pollable: true}, nil
}

// prepared is a message ready for corner 2.
type prepared struct {
	typ         string
	receiverOrg string
	digital     *wire.DPIDigital
	utskrift    *wire.DPIUtskrift
	cms         []byte
}

// prepare builds the dokumentpakke and the business message body.
func (c *Channel) prepare(ctx context.Context, m channel.Message, krr wire.KRRPrintSertifikat, avsenderOrg string) (*prepared, error) {
	avsender := wire.DPIAvsender{Virksomhetsidentifikator: wire.NewDPIIdentifier(avsenderOrg)}
	var (
		p        = &prepared{}
		certPEM  string
		mottaker *wire.SDPMottaker
		main     string
		meta     map[string]string
		lang     = m.Record.Spraak
	)
	switch b := m.SBD.Message.(type) {
	case *wire.Digital:
		p.typ, main, meta = wire.DPITypeDigital, b.Hoveddokument, b.MetadataFiler
		avsender.Avsenderidentifikator, avsender.FakturaReferanse = b.AvsenderID, b.FakturaReferanse
		if b.Spraak != "" {
			lang = b.Spraak
		}
		if m.Record.PostkasseAdresse == nil || *m.Record.PostkasseAdresse == "" || m.Record.OrgnrPostkasse == "" {
			return nil, channel.Permanent(fmt.Errorf("the DPI record of %s has no mailbox (postkasseAdresse, orgnrPostkasse)", m.SBD.ReceiverIdentifier()), "")
		}
		certPEM, p.receiverOrg = m.Record.PEMCertificate, m.Record.OrgnrPostkasse
		mottaker = &wire.SDPMottaker{Person: wire.SDPPerson{Postkasseadresse: *m.Record.PostkasseAdresse}}
		p.digital = c.digital(b, m.Record, avsender)
	case *wire.Print:
		p.typ, main = wire.DPITypeUtskrift, b.Hoveddokument
		avsender.Avsenderidentifikator, avsender.FakturaReferanse = b.AvsenderID, b.FakturaReferanse
		certPEM, p.receiverOrg = krr.X509Sertifikat, krr.PostkasseleverandoerAdresse
		u, err := utskrift(b, avsender)
		if err != nil {
			return nil, channel.Permanent(err, "")
		}
		p.utskrift = u
	default:
		return nil, channel.Permanent(fmt.Errorf("DPI carries digital and print, not %s", m.SBD.Type()), "")
	}
	if lang == "" {
		lang = c.opts.Language
	}
	cert, err := certificate(certPEM)
	if err != nil {
		return nil, channel.Permanent(fmt.Errorf("the %s provider's certificate: %w", p.typ, err), "")
	}
	files, manifest, err := c.pack(m, avsender, mottaker, main, meta, lang)
	if err != nil {
		return nil, err
	}
	mf, err := manifest.Marshal()
	if err != nil {
		return nil, channel.Permanent(err, "")
	}
	files = append([]dokumentpakke.File{{Name: "manifest.xml", MimeType: "application/xml", Content: mf}}, files...)
	asic, err := dokumentpakke.CreateASiCEXAdES(files, dokumentpakke.Signer{Key: c.opts.Key, Certificate: c.opts.Certificate}, c.opts.Now())
	if err != nil {
		return nil, channel.Permanent(fmt.Errorf("dokumentpakke: %w", err), "")
	}
	p.cms, err = dokumentpakke.Encrypt(asic, cert, dokumentpakke.RSAOAEP)
	if err != nil {
		return nil, channel.Permanent(fmt.Errorf("encrypt dokumentpakke: %w", err), "")
	}
	sum := sha256.Sum256(p.cms)
	fp := wire.DPIFingeravtrykk{DigestMethod: wire.DPIDigestMethod, DigestValue: base64.StdEncoding.EncodeToString(sum[:])}
	if p.digital != nil {
		p.digital.Dokumentpakkefingeravtrykk = fp
	} else {
		p.utskrift.Dokumentpakkefingeravtrykk = fp
	}
	return p, nil
}

// digital is the digital body (without the fingerprint and the token).
func (c *Channel) digital(b *wire.Digital, rec wire.ServiceRecord, avsender wire.DPIAvsender) *wire.DPIDigital {
	d := &wire.DPIDigital{Avsender: avsender, Mottaker: wire.DPIDigitalMottaker{Postkasseadresse: *rec.PostkasseAdresse},
		Sikkerhetsnivaa: 3, Ikkesensitivtittel: b.Tittel, Spraak: b.Spraak, Varsler: &wire.DPIVarsler{}}
	if b.Sikkerhetsnivaa != nil {
		d.Sikkerhetsnivaa = *b.Sikkerhetsnivaa
	}
	if d.Spraak == "" {
		d.Spraak = orDefault(rec.Spraak, c.opts.Language)
	}
	day := c.opts.Now()
	if info := b.DigitalPostInfo; info != nil {
		if info.Virkningsdato != nil {
			day = info.Virkningsdato.In(wire.Oslo())
		}
		d.Aapningskvittering = info.Aapningskvittering != nil && *info.Aapningskvittering
	}
	day = day.In(wire.Oslo())
	d.Virkningstidspunkt = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, wire.Oslo()).Format(time.RFC3339)
	if v := b.Varsler; v != nil {
		if v.EpostTekst != "" && rec.EpostAdresse != "" {
			d.Varsler.Epostvarsel = &wire.DPIVarsel{Epostadresse: rec.EpostAdresse, Varslingstekst: v.EpostTekst, Repetisjoner: []int{0, 7}}
		}
		if v.SmsTekst != "" && rec.Mobilnummer != "" {
			d.Varsler.Smsvarsel = &wire.DPIVarsel{Mobiltelefonnummer: rec.Mobilnummer, Varslingstekst: v.SmsTekst, Repetisjoner: []int{0, 7}}
		}
	}
	return d
}

// utskrift is the print body (without the fingerprint and the token). The API filled the address defaults
// at create.
func utskrift(b *wire.Print, avsender wire.DPIAvsender) (*wire.DPIUtskrift, error) {
	if b.Mottaker == nil || b.Retur == nil || b.Retur.Mottaker == nil {
		return nil, errors.New("a print message needs mottaker and retur.mottaker")
	}
	u := &wire.DPIUtskrift{Avsender: avsender, Mottaker: address(*b.Mottaker),
		Utskriftstype: wire.DPIUtskriftSortHvit, Posttype: wire.DPIPosttypeB,
		Retur: wire.DPIRetur{Mottaker: address(*b.Retur.Mottaker), Returposthaandtering: wire.DPIReturDirekte}}
	if b.Utskriftsfarge == wire.PrintColorFarge {
		u.Utskriftstype = wire.DPIUtskriftFarge
	}
	if b.Posttype == wire.PostalCategoryAPrioritert {
		u.Posttype = wire.DPIPosttypeA
	}
	if b.Retur.Returhaandtering == wire.ReturnHandlingMakuleringMedMelding {
		u.Retur.Returposthaandtering = wire.DPIReturMakulering
	}
	return u, nil
}

// address maps a print address: a Norwegian one (land empty, Norge or Norway) keeps postnummer and
// poststed and leaves land out; a foreign one folds "postnummer poststed" into the first free address
// line (or the fourth) and keeps land.
func address(a wire.PostalAddress) wire.DPIAdresse {
	out := wire.DPIAdresse{Navn: a.Navn, Adresselinje1: a.Adresselinje1, Adresselinje2: a.Adresselinje2,
		Adresselinje3: a.Adresselinje3, Adresselinje4: a.Adresselinje4}
	if a.Land == "" || strings.EqualFold(a.Land, "Norge") || strings.EqualFold(a.Land, "Norway") {
		out.Postnummer, out.Poststed = a.Postnummer, a.Poststed
		return out
	}
	out.Land = a.Land
	code := strings.TrimSpace(a.Postnummer + " " + a.Poststed)
	if code == "" {
		return out
	}
	switch {
	case out.Adresselinje2 == "":
		out.Adresselinje2 = code
	case out.Adresselinje3 == "":
		out.Adresselinje3 = code
	case out.Adresselinje4 == "":
		out.Adresselinje4 = code
	default:
		out.Adresselinje4 += " " + code
	}
	return out
}

// pack reads the message's files and describes them in the SDP manifest: the main document (hoveddokument,
// with its metadata document), then the attachments in upload order; metadata documents are never
// attachments, and only the main document's goes into the package (as the real IP does).
func (c *Channel) pack(m channel.Message, avsender wire.DPIAvsender, mottaker *wire.SDPMottaker, main string, meta map[string]string, lang string) ([]dokumentpakke.File, wire.SDPManifest, error) {
	manifest := wire.SDPManifest{Mottaker: mottaker, Avsender: wire.SDPAvsender{
		Organisasjon:          wire.SDPOrganisasjon{Authority: wire.AuthorityISO6523, Value: avsender.Virksomhetsidentifikator.Value},
		Avsenderidentifikator: avsender.Avsenderidentifikator, FakturaReferanse: avsender.FakturaReferanse}}
	isMeta := map[string]bool{}
	for _, v := range meta {
		isMeta[v] = true
	}
	byName := map[string]store.File{}
	for _, f := range m.Files {
		byName[f.Filename] = f
	}
	read := func(f store.File) (dokumentpakke.File, error) {
		r, err := m.Open(f)
		if err != nil {
			return dokumentpakke.File{}, fmt.Errorf("open %s: %w", f.Filename, err)
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		if err != nil {
			return dokumentpakke.File{}, fmt.Errorf("read %s: %w", f.Filename, err)
		}
		return dokumentpakke.File{Name: f.Filename, MimeType: orDefault(f.MimeType, "application/octet-stream"), Content: b}, nil
	}
	doc := func(f store.File) wire.SDPDokument {
		d := wire.SDPDokument{Href: f.Filename, Mime: orDefault(f.MimeType, "application/octet-stream"),
			Tittel: wire.SDPTittel{Lang: lang, Value: orDefault(f.Title, MissingTitle)}}
		if md, ok := byName[meta[f.Filename]]; ok && meta[f.Filename] != "" {
			d.Data = &wire.SDPData{Href: md.Filename, Mime: orDefault(md.MimeType, "application/octet-stream")}
		}
		return d
	}
	hf, ok := byName[main]
	if !ok {
		return nil, manifest, channel.Permanent(fmt.Errorf("the message has no hoveddokument %q", main), "")
	}
	var files []dokumentpakke.File
	first, err := read(hf)
	if err != nil {
		return nil, manifest, err
	}
	files = append(files, first)
	manifest.Hoveddokument = doc(hf)
	for _, f := range m.Files {
		if f.Filename == main || isMeta[f.Filename] {
			continue
		}
		v, err := read(f)
		if err != nil {
			return nil, manifest, err
		}
		files = append(files, v)
		manifest.Vedlegg = append(manifest.Vedlegg, doc(f))
	}
	if md := manifest.Hoveddokument.Data; md != nil {
		v, err := read(byName[md.Href])
		if err != nil {
			return nil, manifest, err
		}
		files = append(files, v)
	}
	return files, manifest, nil
}

// header is the business message's SBD header.
func (c *Channel) header(sbd *wire.StandardBusinessDocument, senderOrg, receiverOrg, typ string) wire.StandardBusinessDocumentHeader {
	now := wire.NewOffsetDateTime(c.opts.Now().In(wire.Oslo()))
	party := func(org string) []wire.Partner {
		return []wire.Partner{{Identifier: &wire.PartnerIdentification{Value: wire.ICDNorway + ":" + org, Authority: wire.AuthorityISO6523}}}
	}
	scope := wire.Scope{Type: wire.ScopeConversationID, InstanceIdentifier: sbd.ConversationID(), Identifier: wire.DPIProcess(typ)}
	if exp, ok := sbd.ExpectedResponseDateTime(); ok {
		scope.ScopeInformation = []wire.CorrelationInformation{{ExpectedResponseDateTime: &exp}}
	}
	return wire.StandardBusinessDocumentHeader{HeaderVersion: "1.0", Sender: party(senderOrg), Receiver: party(receiverOrg),
		DocumentIdentification: &wire.DocumentIdentification{Standard: wire.DPIStandard(typ), TypeVersion: "1.0",
			InstanceIdentifier: sbd.MessageID(), Type: typ, CreationDateAndTime: &now},
		BusinessScope: &wire.BusinessScope{Scope: []wire.Scope{scope}}}
}

func multipartBody(jws string, cms []byte) ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range []struct {
		name, filename, ctype string
		data                  []byte
	}{{"forretningsmelding", "sbd.jwt", "application/jwt", []byte(jws)}, {"dokumentpakke", "asic.cms", "application/cms", cms}} {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, p.name, p.filename))
		h.Set("Content-Type", p.ctype)
		pw, err := w.CreatePart(h)
		if err != nil {
			return nil, "", err
		}
		if _, err := pw.Write(p.data); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// avsenderOrg is the organisation the message is sent for: the part identifier of an on-behalf-of
// sender, else the sender.
func avsenderOrg(id string) (string, error) {
	p, err := wire.ParseIdentifier(id)
	if err != nil || !p.IsOrganization() {
		return "", fmt.Errorf("DPI sender %q is not an organisation", id)
	}
	if p.PartID != "" {
		return p.PartID, nil
	}
	return p.OrgID, nil
}

// mainOrg is the sender's main organisation (the SBD header's sender).
func mainOrg(id, fallback string) string {
	if p, err := wire.ParseIdentifier(id); err == nil && p.IsOrganization() {
		return p.OrgID
	}
	return fallback
}

func certificate(text string) (*x509.Certificate, error) {
	b, _ := pem.Decode([]byte(text))
	if b == nil {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(b.Bytes)
}

func orDefault(s, d string) string {
	if strings.TrimSpace(s) == "" {
		return d
	}
	return s
}

// token is a Maskinporten token with the DPI scope; consumerOrg goes into it for sends.
func (c *Channel) token(ctx context.Context, consumerOrg string, fresh bool) (string, error) {
	if c.opts.Tokens == nil {
		return "", channel.Permanent(errors.New("DPI needs Maskinporten"), "")
	}
	r := oidc.Request{Scopes: []string{wire.DPIScope}, ConsumerOrg: consumerOrg}
	if fresh {
		c.opts.Tokens.Forget(r)
	}
	tok, err := c.opts.Tokens.Token(ctx, r)
	if errors.Is(err, oidc.ErrGrant) {
		return "", channel.Permanent(fmt.Errorf("token for DPI from Maskinporten: %w", err), err.Error())
	}
	return tok, err
}

// do makes a corner-2 call and returns a 2xx answer's body. A 401 or 403 gets one fresh token; a second
// one is an authentication failure. Other 4xx are permanent, 408, 429, 5xx and network errors transient.
func (c *Channel) do(ctx context.Context, consumerOrg, method, u, contentType string, body []byte) ([]byte, error) {
	raw, _, err := c.call(ctx, consumerOrg, method, u, contentType, body)
	return raw, err
}

// call is do that also tells the HTTP status (0 when none).
func (c *Channel) call(ctx context.Context, consumerOrg, method, u, contentType string, body []byte) ([]byte, int, error) {
	return channel.Call(ctx, c.opts.HTTP, func(ctx context.Context, fresh bool) (string, error) { return c.token(ctx, consumerOrg, fresh) },
		channel.Request{Method: method, URL: u, ContentType: contentType, Body: body, Name: "DPI", Limit: 16 << 20})
}
