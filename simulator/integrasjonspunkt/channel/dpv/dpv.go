// Package dpv is the reference integration point's DPV channel: digital post to an organisation's (or,
// for digital_dpv, a citizen's) Altinn inbox through the Altinn 3 Correspondence API as the real IP v4
// does (spec upstreams §5). A Maskinporten token with scope eformidling:dpv is exchanged for an Altinn
// token (cached 25 minutes); the correspondence is uploaded as one multipart request whose text parts are
// the dot-notation fields of §5.2 and whose file parts ("attachments") are the message's files; a 409
// (idempotentKey used before, e.g. after a lost answer) is resolved by searching by sendersReference.
// Unlike the real IP, a 4xx other than 409 fails the message at once (spec peers §4 item 1 is the bug
// not copied). Poller (poll.go) is the channel's status polling (§5.4).
package dpv

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel/altinn"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/oidc"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Scope is the Maskinporten scope of the DPV proxy.
const Scope = "eformidling:dpv"

// Defaults of the real IP's difi.move.dpv properties.
const (
	DefaultSensitiveResource = wire.ResourceDPVTaushetsbelagt
	DefaultDaysToReply       = 7
	DefaultEmailSubject      = "Melding mottatt i Altinn"
	DefaultNotificationText  = "$correspondenceRecipientName$: Du har mottatt en melding fra $reporterName$."
	// DefaultSensitiveNotificationText paraphrases the real default, which tells the recipient that access
	// to the confidential resource is needed.
	DefaultSensitiveNotificationText = "$correspondenceRecipientName$: Du har mottatt en taushetsbelagt melding fra $reporterName$. " +
		"For å lese den må du ha tilgang til ressursen eformidling-dpv-taushetsbelagt i Altinn."
	// AttachmentSendersReference is the constant sendersReference of every attachment.
	AttachmentSendersReference = "AttachmentReference_as123452"
	// DescriptionDeleted is the ANNET description for a correspondence Altinn no longer has.
	DescriptionDeleted = "Melding slettet i Altinn, stopper polling."
)

// Notification channels of the correspondence API.
const (
	NotifyEmail       = "Email"
	NotifySms         = "Sms"
	NotifyEmailAndSms = "EmailAndSms"
)

// Options configure the channel.
type Options struct {
	// CorrespondenceURL is the proxy's correspondence API base (…/correspondence/api/v1); TokenExchangeURL
	// the Altinn token exchange.
	CorrespondenceURL string
	TokenExchangeURL  string
	// Tokens gets Maskinporten tokens; HTTP makes every call (it must have a timeout).
	Tokens *oidc.Client
	HTTP   *http.Client
	// OrgNumber is the integration point's own organisation.
	OrgNumber string
	// SensitiveResource is the resource whose correspondences are confidential
	// (difi.move.dpv.sensitiveResource, eformidling-dpv-taushetsbelagt).
	SensitiveResource string
	// DaysToReply (7) gives the due date when the message names no dagerTilSvarfrist, unless
	// DisableDueDate (difi.move.dpv.enableDueDate=false).
	DaysToReply    int
	DisableDueDate bool
	// NotificationChannel is Email, Sms or EmailAndSms (from difi.move.dpv.notifyEmail/notifySms;
	// EmailAndSms when empty), used when the message names no varselTransportType.
	NotificationChannel string
	// EmailSubject, NotificationText and SensitiveNotificationText default to the real IP's texts.
	EmailSubject              string
	NotificationText          string
	SensitiveNotificationText string
	// SenderName gives an organisation's name (the address register's /info organizationName) for
	// messageSender and $reporterName$; nil or an empty answer uses the organisation number.
	SenderName func(ctx context.Context, orgnr string) (string, error)
	Now        func() time.Time
	Logger     *slog.Logger
}

// Channel sends over DPV.
type Channel struct {
	opts     Options
	exchange *altinn.Exchange
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
	if opts.SensitiveResource == "" {
		opts.SensitiveResource = DefaultSensitiveResource
	}
	if opts.DaysToReply <= 0 {
		opts.DaysToReply = DefaultDaysToReply
	}
	if opts.NotificationChannel == "" {
		opts.NotificationChannel = NotifyEmailAndSms
	}
	if opts.EmailSubject == "" {
		opts.EmailSubject = DefaultEmailSubject
	}
	if opts.NotificationText == "" {
		opts.NotificationText = DefaultNotificationText
	}
	if opts.SensitiveNotificationText == "" {
		opts.SensitiveNotificationText = DefaultSensitiveNotificationText
	}
	opts.CorrespondenceURL = strings.TrimRight(opts.CorrespondenceURL, "/")
	return &Channel{opts: opts, exchange: altinn.NewExchange(opts.TokenExchangeURL, opts.Tokens, opts.HTTP, opts.Now)}
}

// Service is DPV.
func (c *Channel) Service() wire.ServiceIdentifier { return wire.ServiceDPV }

// IsReceipt reports whether a message of type t is a receipt, which the real IP never uploads to a DPV
// receiver: it registers SENDT, LEVERT and LEST at once (spec upstreams §5.2).
func IsReceipt(t wire.MessageType) bool { return t.IsReceipt() }

// Send uploads m as a correspondence. A receipt is not uploaded: the result is pollable with no
// external reference, and the Poller then registers LEVERT and LEST for it on its first round.
func (c *Channel) Send(ctx context.Context, m channel.Message) (channel.Result, error) {
	if IsReceipt(m.SBD.Type()) {
		// Not uploaded: the real IP registers SENDT, LEVERT and LEST at once (spec ip-api §6.2).
		return channel.Result{Then: []wire.ReceiptStatus{wire.StatusLevert, wire.StatusLest}}, nil
	}
	fields, files, err := c.Build(ctx, m)
	if err != nil {
		return channel.Result{}, err
	}
	body, ctype, err := encode(fields, files, m)
	if err != nil {
		return channel.Result{}, channel.Permanent(err, "")
	}
	raw, status, err := c.do(ctx, http.MethodPost, c.opts.CorrespondenceURL+"/correspondence/upload", ctype, body)
	if status == http.StatusConflict {
		return c.resolveConflict(ctx, m.SBD.MessageID())
	}
	if err != nil {
		return channel.Result{}, err
	}
	var resp struct {
		Correspondences []struct {
			CorrespondenceID string `json:"correspondenceId"`
		} `json:"correspondences"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil || len(resp.Correspondences) == 0 || resp.Correspondences[0].CorrespondenceID == "" {
		return channel.Result{}, fmt.Errorf("correspondence upload answered without a correspondenceId: %s", channel.Truncate(raw))
	}
	return channel.Result{ExternalReference: resp.Correspondences[0].CorrespondenceID, Pollable: true}, nil
}

// resolveConflict handles a 409 (the idempotentKey was used before): the correspondence with the
// message's sendersReference is the one sent. None found, or a failed search, is still success, but
// without polling (spec upstreams §5.3).
func (c *Channel) resolveConflict(ctx context.Context, messageID string) (channel.Result, error) {
	ids, err := c.Search(ctx, messageID)
	if err != nil || len(ids) == 0 {
		c.opts.Logger.Warn("DPV upload conflict without a correspondence to poll", "message_id", messageID, "err", err)
		return channel.Result{}, nil
	}
	return channel.Result{ExternalReference: ids[0], Pollable: true}, nil
}

// Search returns the ids of the correspondences with sendersReference ref.
func (c *Channel) Search(ctx context.Context, ref string) ([]string, error) {
	raw, _, err := c.do(ctx, http.MethodGet, c.opts.CorrespondenceURL+"/correspondence?sendersReference="+url.QueryEscape(ref), "", nil)
	if err != nil {
		return nil, err
	}
	var out struct {
		IDs []string `json:"ids"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("correspondence search answer: %w", err)
	}
	return out.IDs, nil
}

// Field is one text part of the upload.
type Field struct{ Name, Value string }

// Build makes the upload's text fields (in the order the real IP sends them) and picks the files.
func (c *Channel) Build(ctx context.Context, m channel.Message) ([]Field, []store.File, error) {
	sbd := m.SBD
	now := c.opts.Now()
	resource := ""
	if m.Record.Service.Resource != nil {
		resource = *m.Record.Service.Resource
	}
	if resource == "" {
		return nil, nil, channel.Permanent(fmt.Errorf("the DPV service record of %s has no resource", sbd.ReceiverIdentifier()), "")
	}
	recipient, err := recipientURN(sbd.ReceiverIdentifier())
	if err != nil {
		return nil, nil, channel.Permanent(err, "")
	}
	snd, err := wire.ParseIdentifier(sbd.SenderIdentifier())
	if err != nil || !snd.IsOrganization() {
		return nil, nil, channel.Permanent(fmt.Errorf("DPV sender %q is not an organisation", sbd.SenderIdentifier()), "")
	}
	senderOrg := snd.OrgID
	if snd.PartID != "" {
		senderOrg = snd.PartID
	}
	name := senderOrg
	if c.opts.SenderName != nil {
		n, err := c.opts.SenderName(ctx, senderOrg)
		if err != nil {
			return nil, nil, fmt.Errorf("sender name of %s: %w", senderOrg, err)
		}
		if n != "" {
			name = n
		}
	}

	var title, summary, body string
	var settings *wire.DPVSettings
	var files []store.File
	ignoreReservation := false
	switch p := sbd.Message.(type) {
	case *wire.Arkivmelding:
		settings = p.DPV
		jp, refs, err := readArkivmelding(m)
		if err != nil {
			return nil, nil, channel.Permanent(err, "")
		}
		title = jp.OffentligTittel
		if title == "" {
			title = jp.Tittel
		}
		summary, body = title, jp.Tittel
		byName := map[string]store.File{}
		for _, f := range m.Files {
			byName[f.Filename] = f
		}
		for _, r := range refs {
			f, ok := byName[r]
			if !ok {
				return nil, nil, channel.Permanent(fmt.Errorf("arkivmelding.xml refers to %q, which the message does not have", r), "")
			}
			files = append(files, f)
		}
	case *wire.DigitalDPV:
		settings = p.DPV
		title, summary, body = p.Tittel, p.Sammendrag, p.Innhold
		if strings.TrimSpace(body) == "" {
			body = "Ingen innhold"
		}
		files = append(files, m.Files...)
		sort.SliceStable(files, func(i, j int) bool { return files[i].Dokumentnummer < files[j].Dokumentnummer })
		ignoreReservation = sbd.Process() == wire.ProcessDigitalpostInfo
	default:
		return nil, nil, channel.Permanent(fmt.Errorf("DPV does not carry %s messages", sbd.Type()), "")
	}
	if settings == nil {
		settings = &wire.DPVSettings{}
	}
	confidential := resource == c.opts.SensitiveResource

	f := []Field{
		{"recipients[0]", recipient},
		{"idempotentKey", sbd.MessageID()},
		{"correspondence.resourceId", resource},
		{"correspondence.sender", wire.ICDNorway + ":" + snd.OrgID},
		{"correspondence.sendersReference", sbd.MessageID()},
		{"correspondence.messageSender", name},
		{"correspondence.requestedPublishTime", ts(now)},
	}
	if d := settings.DagerTilSvarfrist; d != nil && *d > 0 {
		f = append(f, Field{"correspondence.dueDateTime", ts(now.AddDate(0, 0, *d))})
	} else if !c.opts.DisableDueDate {
		f = append(f, Field{"correspondence.dueDateTime", ts(now.AddDate(0, 0, c.opts.DaysToReply))})
	}
	f = append(f,
		Field{"correspondence.isConfirmationNeeded", "false"},
		Field{"correspondence.isConfidential", strconv.FormatBool(confidential)},
		Field{"correspondence.ignoreReservation", strconv.FormatBool(ignoreReservation)},
		Field{"correspondence.propertyList.senderOrgNumber", senderOrg},
		Field{"correspondence.content.language", "nb"},
		Field{"correspondence.content.messageTitle", title},
		Field{"correspondence.content.messageSummary", summary},
		Field{"correspondence.content.messageBody", body},
	)
	for i, file := range files {
		p := fmt.Sprintf("correspondence.content.attachments[%d].", i)
		display := file.Title
		if display == "" {
			display = file.Filename
		}
		f = append(f,
			Field{p + "fileName", file.Filename},
			Field{p + "displayName", display},
			Field{p + "isEncrypted", "false"},
			Field{p + "sendersReference", AttachmentSendersReference},
		)
	}
	text := c.opts.NotificationText
	if settings.VarselTekst != "" {
		text = settings.VarselTekst
	}
	if confidential {
		text = c.opts.SensitiveNotificationText
		if settings.TaushetsbelagtVarselTekst != "" {
			text = settings.TaushetsbelagtVarselTekst
		}
	}
	text = strings.ReplaceAll(text, "$reporterName$", name)
	nch := c.opts.NotificationChannel
	switch settings.VarselTransportType {
	case wire.DPVTransportEpost:
		nch = NotifyEmail
	case wire.DPVTransportSMS:
		nch = NotifySms
	case wire.DPVTransportEpostOgSMS:
		nch = NotifyEmailAndSms
	}
	reminder := settings.VarselType != wire.DPVVarselUtenRevarsel
	f = append(f,
		Field{"correspondence.notification.notificationTemplate", "CustomMessage"},
		Field{"correspondence.notification.notificationChannel", nch},
		Field{"correspondence.notification.emailSubject", c.opts.EmailSubject},
		Field{"correspondence.notification.emailBody", text},
		Field{"correspondence.notification.smsBody", text},
		Field{"correspondence.notification.emailContentType", "Plain"},
		Field{"correspondence.notification.requestedSendTime", ts(now.Add(5 * time.Minute))},
		Field{"correspondence.notification.sendReminder", strconv.FormatBool(reminder)},
	)
	if reminder {
		f = append(f,
			Field{"correspondence.notification.reminderEmailSubject", c.opts.EmailSubject},
			Field{"correspondence.notification.reminderEmailBody", text},
			Field{"correspondence.notification.reminderSmsBody", text},
			Field{"correspondence.notification.reminderEmailContentType", "Plain"},
			Field{"correspondence.notification.reminderNotificationChannel", nch},
		)
	}
	return f, files, nil
}

// ts is an ISO-8601 timestamp with offset, as the real IP's flattener writes OffsetDateTime.
func ts(t time.Time) string { return t.Format("2006-01-02T15:04:05.000Z07:00") }

func recipientURN(id string) (string, error) {
	p, err := wire.ParseIdentifier(id)
	switch {
	case err != nil:
		return "", fmt.Errorf("DPV receiver %q: %w", id, err)
	case p.IsOrganization():
		return "urn:altinn:organization:identifier-no:" + p.OrgID, nil
	case p.IsPerson():
		return "urn:altinn:person:identifier-no:" + p.Value, nil
	}
	return "", fmt.Errorf("DPV receiver %q is neither an organisation nor a person", id)
}

// encode writes the multipart body: text parts, then one "attachments" part per file.
func encode(fields []Field, files []store.File, m channel.Message) ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range fields {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"`, channel.QuoteEscape(f.Name)))
		h.Set("Content-Type", "text/plain;charset=UTF-8")
		pw, err := w.CreatePart(h)
		if err != nil {
			return nil, "", err
		}
		if _, err := io.WriteString(pw, f.Value); err != nil {
			return nil, "", err
		}
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="attachments"; filename="%s"`, channel.QuoteEscape(f.Filename)))
		h.Set("Content-Type", "application/octet-stream")
		pw, err := w.CreatePart(h)
		if err != nil {
			return nil, "", err
		}
		r, err := m.Open(f)
		if err != nil {
			return nil, "", fmt.Errorf("open %s: %w", f.Filename, err)
		}
		_, err = io.Copy(pw, r)
		r.Close()
		if err != nil {
			return nil, "", fmt.Errorf("read %s: %w", f.Filename, err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// journalpost is what the channel reads of arkivmelding.xml's registrering.
type journalpost struct {
	Tittel          string `xml:"tittel"`
	OffentligTittel string `xml:"offentligTittel"`
	Docs            []struct {
		Nr  int    `xml:"dokumentnummer"`
		Ref string `xml:"dokumentobjekt>referanseDokumentfil"`
	} `xml:"dokumentbeskrivelse"`
}

// readArkivmelding reads the message's arkivmelding.xml: its journalpost (under mappe, or at the top) and
// the files it refers to, in dokumentnummer order.
func readArkivmelding(m channel.Message) (journalpost, []string, error) {
	var am *store.File
	for i := range m.Files {
		if strings.EqualFold(m.Files[i].Filename, "arkivmelding.xml") {
			am = &m.Files[i]
			break
		}
	}
	if am == nil {
		return journalpost{}, nil, errors.New("the arkivmelding has no arkivmelding.xml")
	}
	r, err := m.Open(*am)
	if err != nil {
		return journalpost{}, nil, fmt.Errorf("open arkivmelding.xml: %w", err)
	}
	defer r.Close()
	var doc struct {
		Mappe struct {
			Tittel string      `xml:"tittel"`
			Reg    journalpost `xml:"basisregistrering"`
		} `xml:"mappe"`
		Reg *journalpost `xml:"basisregistrering"`
	}
	if err := xml.NewDecoder(io.LimitReader(r, 32<<20)).Decode(&doc); err != nil {
		return journalpost{}, nil, fmt.Errorf("read arkivmelding.xml: %w", err)
	}
	jp := doc.Mappe.Reg
	if doc.Reg != nil {
		jp = *doc.Reg
	}
	if jp.Tittel == "" && jp.OffentligTittel == "" {
		jp.Tittel = doc.Mappe.Tittel
	}
	docs := jp.Docs
	sort.SliceStable(docs, func(i, j int) bool { return docs[i].Nr < docs[j].Nr })
	var refs []string
	for _, d := range docs {
		if d.Ref != "" {
			refs = append(refs, d.Ref)
		}
	}
	return jp, refs, nil
}

// altinnToken returns the exchanged Altinn token with the DPV scope.
func (c *Channel) altinnToken(ctx context.Context, fresh bool) (string, error) {
	return c.exchange.Token(ctx, oidc.Request{Scopes: []string{Scope}}, fresh)
}

// do makes a correspondence call and returns a 2xx answer's body. A 401 or 403 gets one fresh token; a
// second one is an authentication failure. Other 4xx are permanent (the answer, ProblemDetails, is the
// raw receipt), 408, 429, 5xx and network errors transient. status is the HTTP status (0 when none).
func (c *Channel) do(ctx context.Context, method, u, contentType string, body []byte) (raw []byte, status int, err error) {
	return channel.Call(ctx, c.opts.HTTP, c.altinnToken, channel.Request{Method: method, URL: u, ContentType: contentType, Body: body})
}
