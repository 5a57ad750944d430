package dpf

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/inbound"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Handler takes a received message; *inbound.Service is one. An error wrapping inbound.ErrRejected
// means the message can never be handled; any other error leaves the forsendelse in SvarInn for the next
// round.
type Handler interface {
	Handle(ctx context.Context, sbd *wire.StandardBusinessDocument, asic []byte, service wire.ServiceIdentifier) error
}

// SvarInnForsendelse is what the receiver reads of an element of hentNyeForsendelser.
type SvarInnForsendelse struct {
	ID                           string          `json:"id"`
	Tittel                       string          `json:"tittel"`
	Date                         json.Number     `json:"date"`
	Mottaker                     SvarInnAdresse  `json:"mottaker"`
	SvarSendesTil                SvarInnAdresse  `json:"svarSendesTil"`
	SvarPaForsendelse            *string         `json:"svarPaForsendelse"`
	MetadataFraAvleverendeSystem SvarInnMetadata `json:"metadataFraAvleverendeSystem"`
	Filmetadata                  []SvarInnFil    `json:"filmetadata"`
	DownloadURL                  string          `json:"downloadUrl"`
	Niva                         *flexString     `json:"niva"`

	files []dokumentpakke.File // unpacked from the download
}

// SvarInnAdresse is a mottaker or svarSendesTil in SvarInn's flat shape.
type SvarInnAdresse struct {
	Navn     flexString  `json:"navn"`
	Adresse1 flexString  `json:"adresse1"`
	Adresse2 flexString  `json:"adresse2"`
	Adresse3 flexString  `json:"adresse3"`
	Postnr   flexString  `json:"postnr"`
	Poststed flexString  `json:"poststed"`
	Land     flexString  `json:"land"`
	Orgnr    flexString  `json:"orgnr"`
	Fnr      *flexString `json:"fnr"`
}

// SvarInnMetadata is metadataFraAvleverendeSystem: numbers, and dates as epoch millis (as number or
// string).
type SvarInnMetadata struct {
	Sakssekvensnummer    flexString `json:"sakssekvensnummer"`
	Saksaar              flexString `json:"saksaar"`
	Journalaar           flexString `json:"journalaar"`
	Journalsekvensnummer flexString `json:"journalsekvensnummer"`
	Journalpostnummer    flexString `json:"journalpostnummer"`
	Journalposttype      flexString `json:"journalposttype"`
	Journalstatus        flexString `json:"journalstatus"`
	Journaldato          flexString `json:"journaldato"`
	DokumentetsDato      flexString `json:"dokumentetsDato"`
	Tittel               flexString `json:"tittel"`
	Saksbehandler        flexString `json:"saksBehandler"`
	SaksbehandlerAlt     flexString `json:"saksbehandler"`
}

// SvarInnFil is one filmetadata entry.
type SvarInnFil struct {
	Filnavn  string `json:"filnavn"`
	Mimetype string `json:"mimetype"`
}

// flexString reads any JSON scalar as text; null is empty.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	case b[0] == '{' || b[0] == '[':
		return fmt.Errorf("expected a scalar, got %s", b[:1])
	default:
		*f = flexString(b)
	}
	return nil
}

func (f flexString) s() string { return strings.TrimSpace(string(f)) }

// Receiver fetches forsendelser from SvarInn for every organisation with a SvarInn user (the real IP's
// DefaultDpfPolling with SvarInnNextMoveForwarder, spec upstreams §6.5) and hands each to the handler as
// an incoming arkivmelding.
type Receiver struct {
	c   *Channel
	h   Handler
	log *slog.Logger
	mu  sync.Mutex
}

// Receiver makes the channel's SvarInn receiver, handing messages to h.
func (c *Channel) Receiver(h Handler) *Receiver {
	return &Receiver{c: c, h: h, log: c.opts.Logger.With("component", "svarinn")}
}

// Run polls at once and then with a fixed delay of interval after each round (the real IP: 15 min)
// until ctx ends.
func (r *Receiver) Run(ctx context.Context, interval time.Duration) {
	channel.PollEvery(ctx, interval, r.log, "SvarInn poll", r.Poll)
}

// Poll makes one round for every organisation with a SvarInn user: list the new forsendelser, and take
// each in turn: download, decrypt, unzip, convert to an arkivmelding with a generated arkivmelding.xml,
// hand it to the handler, and acknowledge it (kvitterMottak). A forsendelse that can never be received
// (no UUID id, a download that does not decrypt or unzip, files that do not match filmetadata, a message
// the handler rejects) is reported with mottakFeilet (permanent) and the round goes on; a transient
// failure (network, 5xx, the handler's store) leaves it for the next round and the round goes on too, so
// one bad forsendelse never blocks the others. handled counts the forsendelser acknowledged. Rounds
// never overlap.
func (r *Receiver) Poll(ctx context.Context) (handled int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c.opts.SvarInnURL == "" {
		return 0, nil
	}
	orgs := make([]string, 0, len(r.c.opts.SvarInnUsers))
	for o := range r.c.opts.SvarInnUsers {
		orgs = append(orgs, o)
	}
	sort.Strings(orgs)
	var errs []error
	for _, org := range orgs {
		n, err := r.pollOrg(ctx, org, r.c.opts.SvarInnUsers[org])
		handled += n
		if err != nil {
			errs = append(errs, fmt.Errorf("poll SvarInn for %s: %w", org, err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	return handled, errors.Join(errs...)
}

// errPermanent marks a forsendelse that can never be received.
var errPermanent = errors.New("cannot be received")

func (r *Receiver) pollOrg(ctx context.Context, org string, user BasicAuth) (handled int, err error) {
	raw, err := r.call(ctx, user, http.MethodGet, r.c.opts.SvarInnURL+"/mottaker/hentNyeForsendelser", nil, 16<<20)
	if err != nil {
		return 0, err
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return 0, fmt.Errorf("hentNyeForsendelser answer: %w", err)
	}
	var errs []error
	for _, item := range list {
		if ctx.Err() != nil {
			break
		}
		var f SvarInnForsendelse
		if err := json.Unmarshal(item, &f); err != nil {
			var id struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(item, &id)
			r.log.Warn("unreadable SvarInn forsendelse", "org", org, "forsendelse_id", id.ID, "err", err)
			if id.ID != "" {
				r.failed(ctx, user, id.ID, "Kunne ikke lese forsendelsen: "+err.Error())
			}
			continue
		}
		log := r.log.With("org", org, "message_id", f.ID, "conversation_id", f.ID)
		err := r.receive(ctx, org, user, &f)
		switch {
		case err == nil:
			if err := r.acknowledge(ctx, user, f.ID); err != nil {
				errs = append(errs, err)
				continue
			}
			handled++
			log.Info("SvarInn forsendelse received", "files", len(f.files))
		case errors.Is(err, errPermanent) || errors.Is(err, inbound.ErrRejected):
			log.Warn("SvarInn forsendelse cannot be received; reported with mottakFeilet", "err", err)
			r.failed(ctx, user, f.ID, err.Error())
		default:
			log.Warn("SvarInn forsendelse not received; trying again next round", "err", err)
			errs = append(errs, err)
		}
	}
	return handled, errors.Join(errs...)
}

// receive downloads and converts one forsendelse and hands it to the handler.
func (r *Receiver) receive(ctx context.Context, org string, user BasicAuth, f *SvarInnForsendelse) error {
	if _, err := uuid.Parse(f.ID); err != nil {
		return fmt.Errorf("%w: forsendelse id %q is not a UUID", errPermanent, f.ID)
	}
	u, err := r.downloadURL(f.DownloadURL, f.ID)
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	enc, err := r.call(ctx, user, http.MethodGet, u, nil, r.c.opts.MaxDownloadSize+64<<20)
	if err != nil {
		return err
	}
	plain, err := dokumentpakke.Decrypt(enc, r.c.opts.Key)
	if err != nil {
		return fmt.Errorf("%w: the download does not decrypt with the organisation's key: %v", errPermanent, err)
	}
	files, err := unzip(plain, f.Filmetadata, r.c.opts.MaxDownloadSize)
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	f.files = files
	now := r.c.opts.Now().In(wire.Oslo()).Truncate(time.Second)
	am, err := Arkivmelding(f, files, now)
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	all := append([]dokumentpakke.File{{Name: "arkivmelding.xml", MimeType: "application/xml", Content: am}}, files...)
	asic, err := dokumentpakke.CreateASiCE(all, dokumentpakke.Signer{Key: r.c.opts.Key, Certificate: r.c.opts.Certificate})
	if err != nil {
		return fmt.Errorf("%w: pack the ASiC-E: %v", errPermanent, err)
	}
	sbd := r.sbd(f, org, now)
	return r.h.Handle(ctx, sbd, asic, wire.ServiceDPF)
}

// sbd is the incoming arkivmelding's SBD: messageId and conversationId the forsendelse id, sender
// svarSendesTil.orgnr (or the fallback), receiver mottaker.orgnr (or the polled organisation),
// svarPaForsendelse as ReceiverRef.
func (r *Receiver) sbd(f *SvarInnForsendelse, org string, now time.Time) *wire.StandardBusinessDocument {
	sender := f.SvarSendesTil.Orgnr.s()
	if !wire.ValidOrgNumber(sender) {
		sender = r.c.opts.FallbackSenderOrgnr
	}
	receiver := f.Mottaker.Orgnr.s()
	if !wire.ValidOrgNumber(receiver) {
		receiver = org
	}
	party := func(orgnr string) []wire.Partner {
		return []wire.Partner{{Identifier: &wire.PartnerIdentification{Value: wire.ICDNorway + ":" + orgnr, Authority: wire.AuthorityISO6523}}}
	}
	created, expires := wire.NewOffsetDateTime(now), wire.NewOffsetDateTime(now.Add(r.c.opts.DefaultTTL))
	scopes := []wire.Scope{{Type: wire.ScopeConversationID, InstanceIdentifier: f.ID, Identifier: r.c.opts.Process,
		ScopeInformation: []wire.CorrelationInformation{{ExpectedResponseDateTime: &expires}}}}
	if f.SvarPaForsendelse != nil && strings.TrimSpace(*f.SvarPaForsendelse) != "" {
		scopes = append(scopes, wire.Scope{Type: wire.ScopeReceiverRef, InstanceIdentifier: strings.TrimSpace(*f.SvarPaForsendelse),
			Identifier: r.c.opts.Process})
	}
	msg := &wire.Arkivmelding{}
	if len(f.files) > 0 {
		msg.Hoveddokument = f.files[0].Name
	}
	if f.Niva != nil {
		if n, err := strconv.Atoi(f.Niva.s()); err == nil && (n == 3 || n == 4) {
			msg.Sikkerhetsnivaa = &n
		}
	}
	return &wire.StandardBusinessDocument{
		Header: wire.StandardBusinessDocumentHeader{HeaderVersion: "1.0", Sender: party(sender), Receiver: party(receiver),
			DocumentIdentification: &wire.DocumentIdentification{Standard: r.c.opts.DocumentType, TypeVersion: "2.0",
				InstanceIdentifier: f.ID, Type: string(wire.TypeArkivmelding), CreationDateAndTime: &created},
			BusinessScope: &wire.BusinessScope{Scope: scopes}},
		Message: msg,
	}
}

// downloadURL resolves downloadUrl against SvarInn's base; only the base's own host is fetched, so that
// a forsendelse cannot make the integration point send its SvarInn password elsewhere.
func (r *Receiver) downloadURL(raw, id string) (string, error) {
	base, err := url.Parse(r.c.opts.SvarInnURL + "/")
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(raw) == "" {
		raw = "mottaker/forsendelse/" + url.PathEscape(id)
	}
	ref, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("downloadUrl %q: %v", raw, err)
	}
	u := base.ResolveReference(ref)
	if u.Host != base.Host || u.Scheme != base.Scheme {
		return "", fmt.Errorf("downloadUrl %q is not on SvarInn's host %s", raw, base.Host)
	}
	return u.String(), nil
}

func (r *Receiver) acknowledge(ctx context.Context, user BasicAuth, id string) error {
	_, err := r.call(ctx, user, http.MethodPost, r.c.opts.SvarInnURL+"/kvitterMottak/forsendelse/"+url.PathEscape(id), nil, 1<<20)
	if err != nil {
		return fmt.Errorf("kvitterMottak %s: %w", id, err)
	}
	return nil
}

// failed reports a forsendelse that can never be received; a failure to report is only logged (the
// forsendelse is then listed again next round).
func (r *Receiver) failed(ctx context.Context, user BasicAuth, id, reason string) {
	if _, err := uuid.Parse(id); err != nil {
		return
	}
	body, _ := json.Marshal(map[string]any{"feilmelding": reason, "permanent": true})
	if _, err := r.call(ctx, user, http.MethodPost, r.c.opts.SvarInnURL+"/mottakFeilet/forsendelse/"+url.PathEscape(id), body, 1<<20); err != nil {
		r.log.Warn("mottakFeilet not reported", "forsendelse_id", id, "err", err)
	}
}

// call makes a SvarInn request with Basic authentication and returns a 2xx answer's body (at most limit
// bytes; more is an error).
func (r *Receiver) call(ctx context.Context, user BasicAuth, method, u string, body []byte, limit int64) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(user.Username, user.Password)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.c.opts.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("SvarInn %s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("SvarInn %s %s: read answer: %w", method, u, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		err := fmt.Errorf("SvarInn %s %s answered %d: %s", method, u, resp.StatusCode, svarUtMessage(raw))
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return nil, channel.Permanent(fmt.Errorf("authentication failed: %w", err), string(raw))
		}
		return nil, err
	}
	if int64(len(raw)) > limit {
		return nil, fmt.Errorf("%w: SvarInn %s %s answered more than %d bytes", errPermanent, method, u, limit)
	}
	return raw, nil
}

// unzip reads the forsendelse's files from the decrypted ZIP in filmetadata order (then any entry
// filmetadata does not name), with their MIME types from filmetadata. Names that are not plain file
// names, duplicates and more than limit bytes in all are refused; a ZIP whose entries declare more than
// limit bytes (a zip bomb) is refused before any entry is inflated.
func unzip(data []byte, meta []SvarInnFil, limit int64) ([]dokumentpakke.File, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("the download is not a ZIP: %v", err)
	}
	if len(zr.File) > 10_000 {
		return nil, fmt.Errorf("the ZIP has %d entries", len(zr.File))
	}
	var declared uint64
	for _, e := range zr.File {
		declared += e.UncompressedSize64
		if e.UncompressedSize64 > uint64(limit) || declared > uint64(limit) {
			return nil, fmt.Errorf("the ZIP's entries declare more than %d bytes", limit)
		}
	}
	mime := map[string]string{}
	rank := map[string]int{}
	for i, m := range meta {
		if _, ok := mime[m.Filnavn]; !ok {
			mime[m.Filnavn], rank[m.Filnavn] = m.Mimetype, i
		}
	}
	var files []dokumentpakke.File
	seen := map[string]bool{}
	var total int64
	for _, e := range zr.File {
		if e.FileInfo().IsDir() {
			continue
		}
		if !plainName(e.Name) {
			return nil, fmt.Errorf("the ZIP entry %q is not a plain file name", e.Name)
		}
		if seen[e.Name] {
			return nil, fmt.Errorf("the ZIP has %q twice", e.Name)
		}
		seen[e.Name] = true
		rc, err := e.Open()
		if err != nil {
			return nil, fmt.Errorf("ZIP entry %q: %v", e.Name, err)
		}
		content, err := io.ReadAll(io.LimitReader(rc, limit-total+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("ZIP entry %q: %v", e.Name, err)
		}
		total += int64(len(content))
		if total > limit {
			return nil, fmt.Errorf("the files unpack to more than %d bytes", limit)
		}
		mt := mime[e.Name]
		if mt == "" {
			mt = "application/octet-stream"
		}
		files = append(files, dokumentpakke.File{Name: e.Name, MimeType: mt, Content: content})
	}
	for _, m := range meta {
		if !seen[m.Filnavn] {
			return nil, fmt.Errorf("filmetadata names %q, which the ZIP does not hold", m.Filnavn)
		}
	}
	if len(files) == 0 {
		return nil, errors.New("the forsendelse has no files")
	}
	sort.SliceStable(files, func(i, j int) bool {
		ri, iok := rank[files[i].Name]
		rj, jok := rank[files[j].Name]
		if iok != jok {
			return iok
		}
		return ri < rj
	})
	return files, nil
}

// plainName reports whether a ZIP entry name is a file name with no path, no parent reference and no
// control character.
func plainName(n string) bool {
	if n == "" || n == "." || n == ".." || n == "arkivmelding.xml" || strings.ContainsAny(n, `/\`) || strings.HasPrefix(n, "META-INF") || n == "mimetype" {
		return false
	}
	for _, r := range n {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
