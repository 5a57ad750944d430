// Package dpf is the reference integration point's DPF channel: arkivmelding to municipalities and others
// on KS FIKS through SvarUt's REST API, and what they send back through SvarInn, as the real IP v4 does
// (spec upstreams §6.1, §6.3–§6.5).
//
// Send maps arkivmelding.xml to an OrganisasjonForsendelse (journalpost metadata, avsender as
// svarSendesTil, ReceiverRef as svarPaForsendelseId, sikkerhetsnivaa 4 as HOYESTE), CMS-encrypts each
// document arkivmelding.xml refers to (hoveddokument first) for the certificate the address register
// gives as the DPF pemCertificate, and posts them as one multipart request with a Maskinporten token
// (scope ks:fiks) and the sender organisation's IntegrasjonId/IntegrasjonPassord. SvarUt guarantees
// delivery, so an accepted forsendelse is SENDT and LEVERT at once; Poller (poll.go) turns SvarUt's LEST
// into LEST. Receiver (svarinn.go) fetches what SvarInn holds for the integration point's organisations
// and turns each forsendelse into an incoming arkivmelding.
//
// Where the real IP is wrong this channel is not: it polls statuses with the id SvarUt returned (the
// real IP asks with its own id, spec upstreams §13 item 4), a 4xx from SvarUt fails the message at once
// instead of retrying until the time to live runs out, a retry first asks SvarUt by eksternRef whether an
// earlier attempt got through, and a forsendelse SvarInn serves that can never be read is reported with
// mottakFeilet instead of being fetched again every round.
package dpf

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/oidc"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Scope is the Maskinporten scope of SvarUt's REST API.
const Scope = "ks:fiks"

// Sikkerhetsnivå of a forsendelse.
const (
	SikkerhetsnivaBetydelig = "BETYDELIG"
	SikkerhetsnivaHoyeste   = "HOYESTE"
)

// Defaults of the real IP's difi.move.fiks properties.
const (
	DefaultFallbackSenderOrgnr = "999999999"
	DefaultForsendelseTypeTTL  = time.Hour
	// DescriptionUnknown is the FEIL description when SvarUt knows no forsendelse for the message.
	DescriptionUnknown = "forsendelseId finnes ikke i SvarUt."
	// DescriptionAvvist is the FEIL description when SvarUt reports the forsendelse AVVIST.
	DescriptionAvvist = "Forsendelsen ble avvist i SvarUt (AVVIST)."
)

// Account is an organisation's SvarUt REST account (difi.move.fiks.ut.rest.kontoid, integrasjon-id and
// integrasjon-passord; per on-behalf-of organisation under paaVegneAv).
type Account struct {
	KontoID            string
	IntegrasjonID      string
	IntegrasjonPassord string
}

// BasicAuth is a SvarInn user (difi.move.fiks.inn.username/password, per organisation).
type BasicAuth struct {
	Username string
	Password string
}

// Options configure the channel.
type Options struct {
	// SvarUtURL is SvarUt's REST base (difi.move.fiks.ut.rest.endpointUrl, https://svarut.ks.no);
	// SvarInnURL is SvarInn's base (difi.move.fiks.inn.baseUrl, …/tjenester/svarinn). An empty SvarInnURL
	// receives nothing.
	SvarUtURL  string
	SvarInnURL string
	// OrgNumber is the integration point's own organisation.
	OrgNumber string
	// Accounts are the SvarUt accounts by sender organisation: the own one and one per on-behalf-of
	// organisation. A sender without one cannot send over DPF.
	Accounts map[string]Account
	// SvarInnUsers are the SvarInn users by receiving organisation; each is polled.
	SvarInnUsers map[string]BasicAuth
	// Key and Certificate are the organisation's: SvarInn downloads are decrypted with the key, and the
	// incoming ASiC-E is signed with both.
	Key         *rsa.PrivateKey
	Certificate *x509.Certificate
	// Tokens gets Maskinporten tokens; HTTP makes every call (it must have a timeout).
	Tokens *oidc.Client
	HTTP   *http.Client
	// Info gives an organisation's name and postal address (the address register's /info), for mottaker
	// and a svarSendesTil that arkivmelding.xml does not name. Nil sends the organisation number alone.
	Info func(ctx context.Context, orgnr string) (wire.InfoRecord, error)
	// Konteringskode (difi.move.fiks.ut.konteringsKode) and KunDigitalLevering
	// (difi.move.fiks.ut.kunDigitalLevering) go into every forsendelse.
	Konteringskode     string
	KunDigitalLevering bool
	// EkskluderesFraPrint lists file extensions (or "*") that SvarUt must not print
	// (difi.move.fiks.ut.ekskluderesFraPrint); PDF is always printed.
	EkskluderesFraPrint []string
	// Process and DocumentType of incoming messages (difi.move.fiks.inn.process and .document-type;
	// administrasjon and arkivmelding by default); FallbackSenderOrgnr is their sender when SvarInn names
	// none (999999999).
	Process             string
	DocumentType        string
	FallbackSenderOrgnr string
	// DefaultTTL is the time to live of incoming messages (24 h).
	DefaultTTL time.Duration
	// MaxDownloadSize bounds one SvarInn download and the unpacked files of one forsendelse (1 GiB).
	MaxDownloadSize int64
	// ForsendelseTypeTTL is how long SvarUt's forsendelsestyper are cached (1 h).
	ForsendelseTypeTTL time.Duration
	Now                func() time.Time
	Logger             *slog.Logger
}

// Channel sends over DPF.
type Channel struct {
	opts  Options
	mu    sync.Mutex
	types map[string]cachedTypes
}

type cachedTypes struct {
	types   []string
	fetched time.Time
}

// New makes the channel.
func New(opts Options) *Channel {
	if opts.HTTP == nil {
		opts.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Process == "" {
		opts.Process = wire.ProcessArkivmeldingAdministrasjon
	}
	if opts.DocumentType == "" {
		opts.DocumentType = wire.StandardArkivmelding
	}
	if opts.FallbackSenderOrgnr == "" {
		opts.FallbackSenderOrgnr = DefaultFallbackSenderOrgnr
	}
	if opts.DefaultTTL <= 0 {
		opts.DefaultTTL = 24 * time.Hour
	}
	if opts.MaxDownloadSize <= 0 {
		opts.MaxDownloadSize = 1 << 30
	}
	if opts.ForsendelseTypeTTL <= 0 {
		opts.ForsendelseTypeTTL = DefaultForsendelseTypeTTL
	}
	opts.SvarUtURL = strings.TrimRight(opts.SvarUtURL, "/")
	opts.SvarInnURL = strings.TrimRight(opts.SvarInnURL, "/")
	return &Channel{opts: opts, types: map[string]cachedTypes{}}
}

// Service is DPF.
func (c *Channel) Service() wire.ServiceIdentifier { return wire.ServiceDPF }

// ErrNoAccount is wrapped when a sender organisation has no SvarUt account.
var ErrNoAccount = errors.New("SvarUt credentials not configured")

// Account is the SvarUt account of a sender organisation.
func (c *Channel) Account(org string) (Account, error) {
	a, ok := c.opts.Accounts[org]
	if !ok {
		return Account{}, fmt.Errorf("%w for orgnr %s", ErrNoAccount, org)
	}
	return a, nil
}

// HasAccount reports whether the sender organisation has a SvarUt account.
func (c *Channel) HasAccount(org string) bool {
	_, ok := c.opts.Accounts[org]
	return ok
}

// senderOrg is the organisation a message is sent for: the part identifier of an on-behalf-of sender.
func senderOrg(id string) (string, error) {
	p, err := wire.ParseIdentifier(id)
	if err != nil || !p.IsOrganization() {
		return "", fmt.Errorf("DPF sender %q is not an organisation", id)
	}
	if p.PartID != "" {
		return p.PartID, nil
	}
	return p.OrgID, nil
}

// Send posts m to SvarUt. A receipt is not sent (SvarUt has no such thing): it is SENDT, LEVERT and LEST
// at once, as in the real IP.
func (c *Channel) Send(ctx context.Context, m channel.Message) (channel.Result, error) {
	if m.SBD.Type().IsReceipt() {
		return channel.Result{Then: []wire.ReceiptStatus{wire.StatusLevert, wire.StatusLest}}, nil
	}
	org, err := senderOrg(m.SBD.SenderIdentifier())
	if err != nil {
		return channel.Result{}, channel.Permanent(err, "")
	}
	acct, err := c.Account(org)
	if err != nil {
		return channel.Result{}, channel.Permanent(err, "")
	}
	sent := channel.Result{Pollable: true, Then: []wire.ReceiptStatus{wire.StatusLevert}}
	if m.Attempt > 1 {
		// An earlier attempt may have got through with its answer lost: SvarUt knows it by eksternRef.
		if ids, err := c.ByEksternRef(ctx, acct, org, m.SBD.MessageID()); err == nil && len(ids) > 0 {
			c.opts.Logger.Info("forsendelse found in SvarUt from an earlier attempt", "message_id", m.SBD.MessageID(), "forsendelse_id", ids[0])
			sent.ExternalReference = ids[0]
			return sent, nil
		}
	}
	fs, files, err := c.Build(ctx, m)
	if err != nil {
		return channel.Result{}, err
	}
	cert, err := certificate(m.Record.PEMCertificate)
	if err != nil {
		return channel.Result{}, channel.Permanent(fmt.Errorf("the DPF service record of %s: %w", m.SBD.ReceiverIdentifier(), err), "")
	}
	body, ctype, err := encode(fs, files, m, cert)
	if err != nil {
		return channel.Result{}, err
	}
	u := c.opts.SvarUtURL + "/api/v3/kontoer/" + url.PathEscape(acct.KontoID) + "/forsendelser/organisasjon"
	raw, err := c.do(ctx, acct, "", http.MethodPost, u, ctype, body)
	if err != nil {
		return channel.Result{}, err
	}
	var resp struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil || resp.ID == "" {
		return channel.Result{}, fmt.Errorf("SvarUt answered the forsendelse without an id: %s", channel.Truncate(raw))
	}
	sent.ExternalReference = resp.ID
	return sent, nil
}

func certificate(pemText string) (*x509.Certificate, error) {
	b, _ := pem.Decode([]byte(pemText))
	if b == nil {
		return nil, errors.New("no PEM certificate (pemCertificate)")
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pemCertificate: %w", err)
	}
	return cert, nil
}

// Forsendelse is SvarUt's OrganisasjonForsendelse (v3) as the channel writes it.
type Forsendelse struct {
	Mottaker                     Adressat               `json:"mottaker"`
	Tittel                       string                 `json:"tittel"`
	Konteringskode               string                 `json:"konteringskode,omitempty"`
	KunDigitalLevering           bool                   `json:"kunDigitalLevering"`
	Kryptert                     bool                   `json:"kryptert"`
	Utskriftskonfigurasjon       Utskriftskonfigurasjon `json:"utskriftskonfigurasjon"`
	Sikkerhetsniva               string                 `json:"sikkerhetsniva"`
	MetadataFraAvleverendeSystem Metadata               `json:"metadataFraAvleverendeSystem"`
	SvarSendesTil                Adressat               `json:"svarSendesTil"`
	SvarPaForsendelseID          string                 `json:"svarPaForsendelseId,omitempty"`
	Dokumenter                   []Dokument             `json:"dokumenter"`
	Forsendelsestype             string                 `json:"forsendelsestype,omitempty"`
	EksternReferanse             string                 `json:"eksternReferanse"`
}

// Adressat is a mottaker or svarSendesTil.
type Adressat struct {
	Navn                string  `json:"navn"`
	Type                string  `json:"type,omitempty"`
	Organisasjonsnummer string  `json:"organisasjonsnummer"`
	Adresse             Adresse `json:"adresse"`
}

// Adresse is a postal address.
type Adresse struct {
	Adresselinje1 string `json:"adresselinje1,omitempty"`
	Postnummer    string `json:"postnummer,omitempty"`
	Poststed      string `json:"poststed,omitempty"`
}

// Utskriftskonfigurasjon is how SvarUt prints what it cannot deliver digitally.
type Utskriftskonfigurasjon struct {
	Tosidig bool `json:"tosidig"`
}

// Metadata is metadataFraAvleverendeSystem (NoarkMetadataFraAvleverendeSakssystem).
type Metadata struct {
	Sakssekvensnummer    *int64          `json:"sakssekvensnummer,omitempty"`
	Saksaar              *int64          `json:"saksaar,omitempty"`
	Journalaar           *int64          `json:"journalaar,omitempty"`
	Journalsekvensnummer *int64          `json:"journalsekvensnummer,omitempty"`
	Journalpostnummer    *int64          `json:"journalpostnummer,omitempty"`
	Journalposttype      string          `json:"journalposttype,omitempty"`
	Journalstatus        string          `json:"journalstatus,omitempty"`
	Journaldato          string          `json:"journaldato,omitempty"`
	DokumentetsDato      string          `json:"dokumentetsDato,omitempty"`
	Tittel               string          `json:"tittel,omitempty"`
	Saksbehandler        string          `json:"saksbehandler,omitempty"`
	EkstraMetadata       []wire.KeyValue `json:"ekstraMetadata"`
}

// Dokument is one entry of dokumenter, in the order of the filer_N parts.
type Dokument struct {
	Filnavn             string `json:"filnavn"`
	MimeType            string `json:"mimeType"`
	EkskluderesFraPrint *bool  `json:"ekskluderesFraPrint,omitempty"`
}

// Build maps the message to a forsendelse and picks its files (in dokumenter order).
func (c *Channel) Build(ctx context.Context, m channel.Message) (Forsendelse, []store.File, error) {
	sbd := m.SBD
	am, ok := sbd.Message.(*wire.Arkivmelding)
	if !ok {
		return Forsendelse{}, nil, channel.Permanent(fmt.Errorf("DPF carries only arkivmelding, not %s", sbd.Type()), "")
	}
	org, err := senderOrg(sbd.SenderIdentifier())
	if err != nil {
		return Forsendelse{}, nil, channel.Permanent(err, "")
	}
	rcv, err := wire.ParseIdentifier(sbd.ReceiverIdentifier())
	if err != nil || !rcv.IsOrganization() {
		return Forsendelse{}, nil, channel.Permanent(fmt.Errorf("DPF receiver %q is not an organisation", sbd.ReceiverIdentifier()), "")
	}
	doc, err := readArkivmelding(m)
	if err != nil {
		return Forsendelse{}, nil, channel.Permanent(err, "")
	}
	jp, err := doc.Journalpost()
	if err != nil {
		return Forsendelse{}, nil, channel.Permanent(err, "")
	}
	sm := doc.Saksmappe()

	fs := Forsendelse{
		Tittel: jp.OffentligTittel, Konteringskode: c.opts.Konteringskode, KunDigitalLevering: c.opts.KunDigitalLevering,
		Kryptert: true, Utskriftskonfigurasjon: Utskriftskonfigurasjon{Tosidig: true}, Sikkerhetsniva: SikkerhetsnivaBetydelig,
		EksternReferanse: sbd.MessageID(),
	}
	if fs.Tittel == "" {
		fs.Tittel = jp.Tittel
	}
	if am.Sikkerhetsnivaa != nil && *am.Sikkerhetsnivaa == 4 {
		fs.Sikkerhetsniva = SikkerhetsnivaHoyeste
	}
	if am.DPF != nil {
		fs.Forsendelsestype = am.DPF.ForsendelseType
	}
	if ref := sbd.FindScope(wire.ScopeReceiverRef); ref != nil {
		if _, err := uuid.Parse(ref.InstanceIdentifier); err == nil {
			fs.SvarPaForsendelseID = ref.InstanceIdentifier
		}
	}
	if fs.Mottaker, err = c.adressat(ctx, rcv.OrgID, ""); err != nil {
		return Forsendelse{}, nil, err
	}
	saksbehandler := ""
	if p, ok := jp.Part(wire.KorrespondansepartAvsender); ok {
		saksbehandler = p.Saksbehandler
		fs.SvarSendesTil = Adressat{Navn: p.KorrespondansepartNavn, Type: "ORGANISASJON", Organisasjonsnummer: org,
			Adresse: Adresse{Adresselinje1: strings.Join(p.Postadresse, " "), Postnummer: p.Postnummer, Poststed: p.Poststed}}
	} else if fs.SvarSendesTil, err = c.adressat(ctx, org, "ORGANISASJON"); err != nil {
		return Forsendelse{}, nil, err
	}
	fs.MetadataFraAvleverendeSystem = Metadata{
		Sakssekvensnummer: number(sm.Sakssekvensnummer), Saksaar: number(sm.Saksaar),
		Journalaar: number(jp.Journalaar), Journalsekvensnummer: number(jp.Journalsekvensnummer),
		Journalpostnummer: number(jp.Journalpostnummer),
		Journalposttype:   orDefault(wire.JournalposttypeCode(jp.Journalposttype), "I"),
		Journalstatus:     orDefault(wire.JournalstatusCode(jp.Journalstatus), "R"),
		Journaldato:       startOfDay(jp.Journaldato), DokumentetsDato: startOfDay(jp.DokumentetsDato),
		Tittel: jp.OffentligTittel, Saksbehandler: saksbehandler, EkstraMetadata: jp.Metadata(),
	}
	if fs.MetadataFraAvleverendeSystem.EkstraMetadata == nil {
		fs.MetadataFraAvleverendeSystem.EkstraMetadata = []wire.KeyValue{}
	}

	byName := map[string]store.File{}
	for _, f := range m.Files {
		byName[f.Filename] = f
	}
	var files []store.File
	for _, d := range jp.Documents() {
		for _, o := range d.Dokumentobjekt {
			f, ok := byName[o.ReferanseDokumentfil]
			if !ok {
				return Forsendelse{}, nil, channel.Permanent(fmt.Errorf("file '%s' referenced in '%s' not found", o.ReferanseDokumentfil, sbd.MessageID()), "")
			}
			files = append(files, f)
			fs.Dokumenter = append(fs.Dokumenter, Dokument{Filnavn: f.Filename, MimeType: f.MimeType, EkskluderesFraPrint: c.excludeFromPrint(f.Filename)})
		}
	}
	if len(files) == 0 {
		return Forsendelse{}, nil, channel.Permanent(errors.New("arkivmelding.xml refers to no document"), "")
	}
	return fs, files, nil
}

// adressat is an organisation as the address register describes it.
func (c *Channel) adressat(ctx context.Context, orgnr, typ string) (Adressat, error) {
	a := Adressat{Navn: orgnr, Type: typ, Organisasjonsnummer: orgnr}
	if c.opts.Info == nil {
		return a, nil
	}
	info, err := c.opts.Info(ctx, orgnr)
	if err != nil {
		return a, fmt.Errorf("address register info of %s: %w", orgnr, err)
	}
	if info.OrganizationName != "" {
		a.Navn = info.OrganizationName
	}
	if p := info.Postadresse; p != nil {
		a.Adresse = Adresse{Adresselinje1: p.Adresse, Postnummer: p.Postnummer, Poststed: p.Poststed}
	}
	return a, nil
}

// excludeFromPrint is false for PDF, true for an extension listed in EkskluderesFraPrint (or all with
// "*"), else unset.
func (c *Channel) excludeFromPrint(name string) *bool {
	ext := "pdf"
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		ext = name[i+1:]
	}
	v := false
	if strings.EqualFold(ext, "pdf") {
		return &v
	}
	for _, e := range c.opts.EkskluderesFraPrint {
		if e == "*" || strings.EqualFold(e, ext) {
			v = true
			return &v
		}
	}
	return nil
}

func number(s string) *int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return nil
	}
	return &n
}

func orDefault(s, d string) string {
	if strings.TrimSpace(s) == "" {
		return d
	}
	return s
}

// startOfDay turns an arkivmelding date (or date-time) into the start of that day in Oslo as an ISO
// offset date-time, as the real IP's DateTimeUtil does; unreadable is left out.
func startOfDay(s string) string {
	s = strings.TrimSpace(s)
	if len(s) < 10 {
		return ""
	}
	d, err := time.ParseInLocation(time.DateOnly, s[:10], wire.Oslo())
	if err != nil {
		return ""
	}
	return d.Format("2006-01-02T15:04:05.000Z07:00")
}

// readArkivmelding reads the message's arkivmelding.xml.
func readArkivmelding(m channel.Message) (*wire.NoarkArkivmelding, error) {
	for _, f := range m.Files {
		if f.Filename != "arkivmelding.xml" {
			continue
		}
		r, err := m.Open(f)
		if err != nil {
			return nil, fmt.Errorf("open arkivmelding.xml: %w", err)
		}
		defer r.Close()
		return wire.ParseArkivmelding(r, 32<<20)
	}
	return nil, errors.New(`no attachement "arkivmelding.xml" found`)
}

// encode writes the multipart body: the forsendelse JSON, then filer_0, filer_1, … each CMS-encrypted
// for cert.
func encode(fs Forsendelse, files []store.File, m channel.Message, cert *x509.Certificate) ([]byte, string, error) {
	meta, err := json.Marshal(fs)
	if err != nil {
		return nil, "", channel.Permanent(err, "")
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="forsendelse"`)
	h.Set("Content-Type", "text/plain;charset=UTF-8")
	pw, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := pw.Write(meta); err != nil {
		return nil, "", err
	}
	for i, f := range files {
		r, err := m.Open(f)
		if err != nil {
			return nil, "", fmt.Errorf("open %s: %w", f.Filename, err)
		}
		plain, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			return nil, "", fmt.Errorf("read %s: %w", f.Filename, err)
		}
		enc, err := dokumentpakke.Encrypt(plain, cert, dokumentpakke.RSAOAEP)
		if err != nil {
			return nil, "", channel.Permanent(fmt.Errorf("encrypt %s: %w", f.Filename, err), "")
		}
		mt := f.MimeType
		if mt == "" {
			mt = "application/octet-stream"
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="filer_%d"; filename="%s"`, i, channel.QuoteEscape(f.Filename)))
		h.Set("Content-Type", mt)
		pw, err := w.CreatePart(h)
		if err != nil {
			return nil, "", err
		}
		if _, err := pw.Write(enc); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// ForsendelseTyper are the forsendelsestyper SvarUt knows for the sender organisation, cached for
// ForsendelseTypeTTL.
func (c *Channel) ForsendelseTyper(ctx context.Context, org string) ([]string, error) {
	acct, err := c.Account(org)
	if err != nil {
		return nil, err
	}
	now := c.opts.Now()
	c.mu.Lock()
	t, ok := c.types[org]
	c.mu.Unlock()
	if ok && now.Sub(t.fetched) < c.opts.ForsendelseTypeTTL {
		return t.types, nil
	}
	raw, err := c.do(ctx, acct, "", http.MethodGet, c.opts.SvarUtURL+"/api/v2/forsendelsestyper", "", nil)
	if err != nil {
		return nil, err
	}
	var out struct {
		Forsendelsestyper []string `json:"forsendelsestyper"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("SvarUt forsendelsestyper: %w", err)
	}
	c.mu.Lock()
	c.types[org] = cachedTypes{types: out.Forsendelsestyper, fetched: now}
	c.mu.Unlock()
	return out.Forsendelsestyper, nil
}

// ByEksternRef returns the ids of the sender's forsendelser with eksternRef ref.
func (c *Channel) ByEksternRef(ctx context.Context, acct Account, org, ref string) ([]string, error) {
	u := c.opts.SvarUtURL + "/api/v2/kontoer/" + url.PathEscape(acct.KontoID) + "/forsendelser?eksternRef=" + url.QueryEscape(ref)
	raw, err := c.do(ctx, acct, org, http.MethodGet, u, "", nil)
	if err != nil {
		return nil, err
	}
	var out struct {
		ForsendelseIDs []string `json:"forsendelseIds"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("SvarUt eksternRef answer: %w", err)
	}
	return out.ForsendelseIDs, nil
}

// do makes a SvarUt REST call and returns a 200 answer's body. consumerOrg goes into the token (status
// and eksternRef calls). A 401 or 403 gets one fresh token; a second one is an authentication failure.
// Other 4xx are permanent (the SvarUt error body is the raw receipt), 408, 429, 5xx and network errors
// transient.
func (c *Channel) do(ctx context.Context, acct Account, consumerOrg, method, u, contentType string, body []byte) ([]byte, error) {
	if c.opts.Tokens == nil {
		return nil, channel.Permanent(errors.New("DPF needs Maskinporten"), "")
	}
	treq := oidc.Request{Scopes: []string{Scope}, ConsumerOrg: consumerOrg}
	token := func(ctx context.Context, fresh bool) (string, error) {
		if fresh {
			c.opts.Tokens.Forget(treq)
		}
		tok, err := c.opts.Tokens.Token(ctx, treq)
		if errors.Is(err, oidc.ErrGrant) {
			return "", channel.Permanent(fmt.Errorf("token for SvarUt from Maskinporten: %w", err), err.Error())
		}
		return tok, err
	}
	raw, _, err := channel.Call(ctx, c.opts.HTTP, token, channel.Request{Method: method, URL: u, ContentType: contentType, Body: body,
		Header: http.Header{"Integrasjonid": {acct.IntegrasjonID}, "Integrasjonpassord": {acct.IntegrasjonPassord}},
		Name:   "SvarUt", Detail: svarUtMessage})
	return raw, err
}

// svarUtMessage is the message of a SvarUt error body, else the body itself (shortened).
func svarUtMessage(raw []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &e) == nil && e.Message != "" {
		return e.Message
	}
	return channel.Truncate(raw)
}
