// Package dpo is the reference integration point's DPO channel: sending over the Altinn 3 Broker as the
// real IP v4 does (spec upstreams §4.2–4.3). A Maskinporten token with the system user's
// authorization_details is exchanged for an Altinn token; a file transfer is initialised (with the real
// IP's trailing slash) and sbd.zip uploaded: sbd.json plus, when the message has files, asic.zip — a
// CAdES-signed ASiC-E, CMS-encrypted (AES-256-CBC, RSA-OAEP) for the receiver's certificate from the
// address register. The Poller (receive.go) is the receiving side (spec upstreams §4.4): it lists, filters
// by message channel, downloads, decrypts and confirms file transfers, and hands each message to the
// integration point's inbound service.
package dpo

import (
	"archive/zip"
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
	"net/http"
	"strings"
	"time"

	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel/altinn"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/oidc"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Scopes of the broker.
const (
	ScopeWrite = "altinn:broker.write"
	ScopeRead  = "altinn:broker.read"
)

// Options configure the channel.
type Options struct {
	// BrokerURL is the broker API base (…/broker/api/v1), TokenExchangeURL the Altinn token exchange.
	BrokerURL        string
	TokenExchangeURL string
	// Resource is the broker resource (eformidling-dpo-meldingsutveksling).
	Resource string
	// OrgNumber is the integration point's own organisation; Reportees are further organisations it
	// sends for (difi.move.dpo.reportees), each with a system user.
	OrgNumber string
	Reportees []string
	// Key and Certificate sign the ASiC-E (the organisation's business certificate).
	Key         *rsa.PrivateKey
	Certificate *x509.Certificate
	// Plain sends asic.zip unsigned and unencrypted, and accepts such packages (the harness's --plain load
	// mode: the delivery core without cryptography). No real integration point reads them.
	Plain bool
	// Tokens gets Maskinporten tokens; HTTP makes every call (it must have a timeout).
	Tokens *oidc.Client
	HTTP   *http.Client
	Now    func() time.Time

	// MessageChannel is this integration point's DPO message channel (difi.move.dpo.message-channel,
	// at most 25 of [a-zA-Z0-9-_]). The Poller then takes only file transfers whose
	// sendersFileTransferReference is this channel; without one it leaves channel-tagged transfers to
	// the integration points they belong to.
	MessageChannel string
	// MaxPackageSize bounds a downloaded sbd.zip and the uncompressed size of its entries (1 GiB + 1 MiB
	// when 0, the DPO upload limit plus room for sbd.json).
	MaxPackageSize int64
	// CallTimeout bounds each broker call of the Poller (30 s when 0), on top of HTTP's own timeout.
	CallTimeout time.Duration
	// Logger receives the Poller's account of what it received, skipped and discarded; nil discards.
	Logger *slog.Logger
}

// Channel sends over DPO.
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
	if opts.Resource == "" {
		opts.Resource = wire.ResourceDPO
	}
	if opts.MaxPackageSize <= 0 {
		opts.MaxPackageSize = 1<<30 + 1<<20
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.BrokerURL = strings.TrimRight(opts.BrokerURL, "/")
	return &Channel{opts: opts, exchange: altinn.NewExchange(opts.TokenExchangeURL, opts.Tokens, opts.HTTP, opts.Now)}
}

// Service is DPO.
func (c *Channel) Service() wire.ServiceIdentifier { return wire.ServiceDPO }

// SystemUser is the authorization_details entry of the system user of orgnr, as the IP configures it.
func SystemUser(orgnr string) []map[string]any {
	return []map[string]any{{
		"type":           "urn:altinn:systemuser",
		"systemuser_org": map[string]string{"authority": wire.AuthorityISO6523, "ID": wire.ICDNorway + ":" + orgnr},
		"externalRef":    orgnr + "_integrasjonspunkt_systembruker_" + orgnr,
	}}
}

// Send delivers m: token, exchange, initialise, upload.
func (c *Channel) Send(ctx context.Context, m channel.Message) (channel.Result, error) {
	sender, err := c.sender(m.SBD)
	if err != nil {
		return channel.Result{}, channel.Permanent(err, "")
	}
	receiver, err := wire.ParseIdentifier(m.SBD.ReceiverIdentifier())
	if err != nil || !receiver.IsOrganization() {
		return channel.Result{}, channel.Permanent(fmt.Errorf("DPO receiver %q is not an organisation", m.SBD.ReceiverIdentifier()), "")
	}
	pkg, err := c.pack(m, sender, receiver.Main())
	if err != nil {
		return channel.Result{}, channel.Permanent(err, "")
	}
	ref := transferReference(m.SBD.MessageID())
	init := map[string]any{
		"fileName": "sbd.zip", "resourceId": c.opts.Resource, "sendersFileTransferReference": ref,
		"sender": wire.ICDNorway + ":" + sender, "recipients": []string{receiver.Main()},
		"propertyList": map[string]string{}, "checksum": nil, "disableVirusScan": nil,
	}
	tagged := false
	if ch := m.SBD.MessageChannel(); ch != "" && (m.SBD.Type() == wire.TypeStatus || m.SBD.Type().IsReceipt()) {
		init["sendersFileTransferReference"], tagged = ch, true
	}
	var created struct {
		FileTransferID string `json:"fileTransferId"`
	}
	if m.Attempt > 1 && !tagged {
		// An earlier attempt may have reached the broker with its answer lost (a firewall, a hung broker,
		// this process killed): carry on with its transfer instead of making a second one.
		t, found, err := c.findEarlier(ctx, sender, ref, c.createdAt(m))
		if err != nil {
			return channel.Result{}, err
		}
		if found && t.uploaded() {
			c.opts.Logger.Info("file transfer found at the broker from an earlier attempt", "message_id", m.SBD.MessageID(), "file_transfer_id", t.ID)
			return channel.Result{ExternalReference: t.ID}, nil
		}
		if found {
			created.FileTransferID = t.ID
		}
	}
	if created.FileTransferID == "" {
		body, _ := json.Marshal(init)
		if err := c.call(ctx, sender, ScopeWrite, http.MethodPost, c.opts.BrokerURL+"/filetransfer/", "application/json", body, &created); err != nil {
			return channel.Result{}, err
		}
		if created.FileTransferID == "" {
			return channel.Result{}, fmt.Errorf("broker initialised no file transfer (no fileTransferId)")
		}
	}
	if err := c.call(ctx, sender, ScopeWrite, http.MethodPost, c.opts.BrokerURL+"/filetransfer/"+created.FileTransferID+"/upload",
		"application/octet-stream", pkg, nil); err != nil {
		// 409: an upload of an earlier attempt, held up on the way, got there first.
		if isConflict(err) {
			if t, oerr := c.overview(ctx, sender, created.FileTransferID); oerr == nil && t.uploaded() {
				return channel.Result{ExternalReference: created.FileTransferID}, nil
			}
		}
		return channel.Result{}, err
	}
	return channel.Result{ExternalReference: created.FileTransferID}, nil
}

// createdAt is when the message was created (the SBD's creationDateAndTime), or a day ago when it does
// not say.
func (c *Channel) createdAt(m channel.Message) time.Time {
	if di := m.SBD.Header.DocumentIdentification; di != nil && di.CreationDateAndTime != nil && !di.CreationDateAndTime.IsZero() {
		return di.CreationDateAndTime.Time
	}
	return c.opts.Now().Add(-24 * time.Hour)
}

// sender is the organisation the message goes out for: the part identifier of an on-behalf-of sender
// (0192:own:X), which must be the IP's own organisation or one of its reportees.
func (c *Channel) sender(sbd *wire.StandardBusinessDocument) (string, error) {
	p, err := wire.ParseIdentifier(sbd.SenderIdentifier())
	if err != nil || !p.IsOrganization() {
		return "", fmt.Errorf("DPO sender %q is not an organisation", sbd.SenderIdentifier())
	}
	org := p.OrgID
	if p.PartID != "" {
		org = p.PartID
	}
	if org == c.opts.OrgNumber {
		return org, nil
	}
	for _, r := range c.opts.Reportees {
		if r == org {
			return org, nil
		}
	}
	return "", fmt.Errorf("no DPO system user for sender %s: configure it as a reportee", org)
}

// pack builds sbd.zip.
func (c *Channel) pack(m channel.Message, sender, receiver string) ([]byte, error) {
	sbd := *m.SBD
	hdr := sbd.Header
	hdr.Sender = []wire.Partner{{Identifier: &wire.PartnerIdentification{Value: wire.ICDNorway + ":" + sender, Authority: wire.AuthorityISO6523}}}
	sbd.Header = hdr
	sbdJSON, err := json.Marshal(&sbd)
	if err != nil {
		return nil, fmt.Errorf("encode sbd.json: %w", err)
	}
	var asic []byte
	if len(m.Files) > 0 {
		if asic, err = c.seal(m, sender, receiver); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range []struct {
		name string
		data []byte
	}{{"sbd.json", sbdJSON}, {"asic.zip", asic}} {
		if e.data == nil {
			continue
		}
		w, err := zw.Create(e.name)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("write sbd.zip: %w", err)
	}
	return buf.Bytes(), nil
}

// seal builds the encrypted ASiC-E: the eFormidling manifest, the primary document, then the rest in
// dokumentnummer order.
func (c *Channel) seal(m channel.Message, sender, receiver string) ([]byte, error) {
	var cert *x509.Certificate
	if !c.opts.Plain {
		var err error
		if cert, err = parseCertificate(m.Record.PEMCertificate); err != nil {
			return nil, fmt.Errorf("receiver certificate from the address register: %w", err)
		}
	}
	files := make([]dokumentpakke.File, 0, len(m.Files)+1)
	var primary *dokumentpakke.ManifestDocument
	for _, f := range m.Files {
		r, err := m.Open(f)
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f.Filename, err)
		}
		df := dokumentpakke.File{Name: f.Filename, MimeType: f.MimeType, Content: b}
		if f.Primary && primary == nil {
			primary = &dokumentpakke.ManifestDocument{Href: f.Filename, Mime: f.MimeType}
			files = append([]dokumentpakke.File{df}, files...)
			continue
		}
		files = append(files, df)
	}
	if primary == nil { // the first uploaded file, as the real IP does
		primary = &dokumentpakke.ManifestDocument{Href: files[0].Name, Mime: files[0].MimeType}
	}
	manifest, err := dokumentpakke.BuildManifest(dokumentpakke.Manifest{Mottaker: receiver, Avsender: wire.ICDNorway + ":" + sender, Hoveddokument: primary})
	if err != nil {
		return nil, err
	}
	files = append([]dokumentpakke.File{{Name: "manifest.xml", MimeType: "application/xml", Content: manifest}}, files...)
	if c.opts.Plain {
		return dokumentpakke.CreatePlainASiCE(files)
	}
	return dokumentpakke.Seal(files, dokumentpakke.Signer{Key: c.opts.Key, Certificate: c.opts.Certificate}, cert, dokumentpakke.RSAOAEP)
}

func parseCertificate(p string) (*x509.Certificate, error) {
	if !strings.Contains(p, "BEGIN CERTIFICATE") {
		p = "-----BEGIN CERTIFICATE-----\n" + p + "\n-----END CERTIFICATE-----\n"
	}
	b, _ := pem.Decode([]byte(p))
	if b == nil {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(b.Bytes)
}

// altinnToken returns the exchanged Altinn token for orgnr's system user with scope.
func (c *Channel) altinnToken(ctx context.Context, orgnr, scope string, fresh bool) (string, error) {
	return c.exchange.Token(ctx, oidc.Request{Scopes: []string{scope}, AuthorizationDetails: SystemUser(orgnr)}, fresh)
}

// call makes a broker call with the Altinn token of orgnr's system user with scope and decodes a JSON
// answer into out (when not nil). A 401 or 403 gets one fresh token; a second one is an authentication
// failure. Other 4xx are permanent, 5xx and network errors transient.
func (c *Channel) call(ctx context.Context, orgnr, scope, method, url, contentType string, body []byte, out any) error {
	raw, err := c.do(ctx, orgnr, scope, method, url, contentType, "application/json", body, 1<<20)
	if err != nil {
		return err
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: answer: %w", method, url, err)
		}
	}
	return nil
}

// do makes a broker call as call does and returns the body of a 2xx answer, at most limit bytes (a
// longer one is a permanent error wrapping ErrTooLarge). Empty contentType or accept sends no such header.
func (c *Channel) do(ctx context.Context, orgnr, scope, method, url, contentType, accept string, body []byte, limit int64) ([]byte, error) {
	for try := 0; ; try++ {
		tok, err := c.altinnToken(ctx, orgnr, scope, try > 0)
		if err != nil {
			return nil, err
		}
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, url, rd)
		if err != nil {
			return nil, channel.Permanent(err, "")
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := c.opts.HTTP.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, url, err)
		}
		ok := resp.StatusCode >= 200 && resp.StatusCode < 300
		max := int64(1 << 20)
		if ok {
			max = limit
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("%s %s: read answer: %w", method, url, err)
		}
		if int64(len(raw)) > max {
			if ok {
				return nil, channel.Permanent(fmt.Errorf("%s %s: answer larger than %d bytes: %w", method, url, limit, ErrTooLarge), "")
			}
			raw = raw[:max]
		}
		switch s := resp.StatusCode; {
		case ok:
			return raw, nil
		case (s == http.StatusUnauthorized || s == http.StatusForbidden) && try == 0:
			continue
		case s == http.StatusUnauthorized || s == http.StatusForbidden:
			return nil, channel.Permanent(fmt.Errorf("authentication failed: %s %s answered %d", method, url, s), string(raw))
		case s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500:
			return nil, fmt.Errorf("%s %s answered %d: %s", method, url, s, strings.TrimSpace(string(raw)))
		case s == http.StatusConflict:
			return nil, channel.Permanent(fmt.Errorf("%s %s answered %d: %w", method, url, s, errConflict), string(raw))
		default:
			return nil, channel.Permanent(fmt.Errorf("%s %s answered %d", method, url, s), string(raw))
		}
	}
}
