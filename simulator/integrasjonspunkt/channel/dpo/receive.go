package dpo

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/channel"
	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/inbound"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// ErrTooLarge is wrapped when a downloaded package or one of its entries exceeds Options.MaxPackageSize
// (sbd.json: MaxSBDSize).
var ErrTooLarge = errors.New("too large")

// ErrUnsafeName is wrapped when a document package holds a file whose name is not a relative path that
// stays inside the package (an absolute path, a ".." element, a backslash, a drive letter or a control
// character): an archive system that unpacks it could write outside its own directory.
var ErrUnsafeName = errors.New("unsafe file name")

// MaxSBDSize bounds the sbd.json entry of a package. Real SBDs are a few kilobytes.
const MaxSBDSize = 16 << 20

// Handler takes a received message; *inbound.Service is one. An error wrapping inbound.ErrRejected
// means the message can never be handled (the transfer is confirmed and dropped); any other error leaves
// the transfer unconfirmed for the next poll.
type Handler interface {
	Handle(ctx context.Context, sbd *wire.StandardBusinessDocument, asic []byte, service wire.ServiceIdentifier) error
}

// channelPattern is what a DPO message channel looks like; an integration point without a channel of
// its own leaves transfers whose reference matches it to the channel's integration point.
var channelPattern = regexp.MustCompile(`^[a-zA-Z0-9-_]{0,25}$`)

// Poller receives DPO messages from the Altinn 3 Broker as the real IP's DefaultDpoPolling does (spec
// upstreams §4.4), for the integration point's own organisation and each reportee, each with its own
// system user token (scope altinn:broker.read). It shares the channel's options and token cache.
type Poller struct {
	ch  *Channel
	h   Handler
	log *slog.Logger
	mu  sync.Mutex
	// pending are, per organisation, transfers whose download started but was not confirmed. The broker
	// no longer lists them under recipientStatus=Initialized once a download started, so they are
	// remembered here (and in durable, when set) and tried again by id.
	pending map[string]map[string]bool
	durable PendingStore
	// loaded are the organisations whose pending transfers were read from durable.
	loaded map[string]bool
}

// NewPoller makes a Poller that fetches with ch's options and hands messages to h.
func NewPoller(ch *Channel, h Handler) *Poller {
	return &Poller{ch: ch, h: h, log: ch.opts.Logger.With("component", "dpo-poller"), pending: map[string]map[string]bool{},
		loaded: map[string]bool{}}
}

// transferOverview is what the poller reads of a FileTransferOverviewExt.
type transferOverview struct {
	FileTransferID               string  `json:"fileTransferId"`
	SendersFileTransferReference *string `json:"sendersFileTransferReference"`
	Created                      string  `json:"created"`
	Sender                       string  `json:"sender"`

	created time.Time
}

// Run polls at once and then with a fixed delay of interval after each round (the real IP: 15 s) until
// ctx ends. Failures are logged; the next round tries again.
func (p *Poller) Run(ctx context.Context, interval time.Duration) {
	channel.PollEvery(ctx, interval, p.log, "DPO poll", p.Poll)
}

// Poll makes one round for the own organisation and every reportee: list the published transfers this
// organisation has not downloaded, read each overview, keep those of this integration point's message
// channel, and take them oldest first: download, unpack sbd.zip, decrypt asic.zip, hand the message to
// the handler and confirm the download. A package that can never be handled (not a zip, no or bad
// sbd.json, an entry declaring more than its bound, an asic.zip this integration point cannot decrypt,
// read or verify, an ASiC-E holding a file whose name leaves the package, a message the handler rejects)
// is confirmed and discarded, and the round goes on. A transient failure (network, 5xx, the handler's store)
// ends the organisation's round without confirming; the transfer is tried again next round (by id, since
// the broker stops listing a transfer under recipientStatus=Initialized once its download started). A
// 4xx on one transfer skips it. handled counts the transfers confirmed (received or discarded). Rounds
// never overlap.
func (p *Poller) Poll(ctx context.Context) (handled int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	orgs := append([]string{p.ch.opts.OrgNumber}, p.ch.opts.Reportees...)
	var errs []error
	for _, org := range orgs {
		n, err := p.pollOrg(ctx, org)
		handled += n
		if err != nil {
			errs = append(errs, fmt.Errorf("poll DPO for %s: %w", org, err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	return handled, errors.Join(errs...)
}

// pollOrg makes the round of one organisation.
func (p *Poller) pollOrg(ctx context.Context, org string) (handled int, err error) {
	log := p.log.With("org", org)
	q := url.Values{"resourceId": {p.ch.opts.Resource}, "status": {"Published"}, "recipientStatus": {"Initialized"}}
	var ids []string
	if err := p.call(ctx, org, http.MethodGet, "/filetransfer?"+q.Encode(), &ids); err != nil {
		return 0, fmt.Errorf("list file transfers: %w", err)
	}
	if err := p.loadPending(ctx, org); err != nil {
		return 0, fmt.Errorf("pending downloads: %w", err)
	}
	listed := map[string]bool{}
	for _, id := range ids {
		listed[id] = true
	}
	for id := range p.pending[org] {
		if !listed[id] {
			ids = append(ids, id)
		}
	}
	var transfers []transferOverview
	for _, id := range ids {
		var ov transferOverview
		if err := p.call(ctx, org, http.MethodGet, "/filetransfer/"+url.PathEscape(id), &ov); err != nil {
			if _, perm := channel.AsPermanent(err); perm {
				log.Warn("file transfer overview refused; skipped", "file_transfer_id", id, "err", err)
				_ = p.setPending(ctx, org, id, false)
				continue
			}
			return 0, fmt.Errorf("file transfer %s: %w", id, err)
		}
		if ov.FileTransferID == "" {
			ov.FileTransferID = id
		}
		if !p.wanted(ov.SendersFileTransferReference) {
			log.Debug("file transfer for another message channel; left alone", "file_transfer_id", id,
				"reference", ov.SendersFileTransferReference)
			continue
		}
		if t, err := time.Parse(time.RFC3339Nano, ov.Created); err == nil {
			ov.created = t
		}
		transfers = append(transfers, ov)
	}
	sort.SliceStable(transfers, func(i, j int) bool {
		a, b := transfers[i].created, transfers[j].created
		if a.IsZero() || b.IsZero() {
			return !a.IsZero() && b.IsZero() // unknown creation times last
		}
		return a.Before(b)
	})
	for _, t := range transfers {
		// Remembered before the download starts, so that a process that dies before the confirm takes
		// it up again after a restart (the message is then found a duplicate, or stored, and confirmed).
		if err := p.setPending(ctx, org, t.FileTransferID, true); err != nil {
			return handled, err
		}
		confirmed, err := p.receive(ctx, org, log.With("file_transfer_id", t.FileTransferID, "sender", t.Sender), t)
		if confirmed {
			handled++
			_ = p.setPending(ctx, org, t.FileTransferID, false)
		}
		if err != nil {
			return handled, fmt.Errorf("file transfer %s: %w", t.FileTransferID, err)
		}
		if ctx.Err() != nil {
			return handled, ctx.Err()
		}
	}
	return handled, nil
}

// wanted applies the message-channel filter to a transfer's sendersFileTransferReference.
func (p *Poller) wanted(ref *string) bool {
	if own := p.ch.opts.MessageChannel; own != "" {
		return ref != nil && *ref == own
	}
	return ref == nil || !channelPattern.MatchString(*ref)
}

// receive takes one transfer; confirmed reports whether its download was confirmed. A non-nil error is
// transient and ends the round.
func (p *Poller) receive(ctx context.Context, org string, log *slog.Logger, t transferOverview) (confirmed bool, err error) {
	base := "/filetransfer/" + url.PathEscape(t.FileTransferID)
	cctx, cancel := context.WithTimeout(ctx, p.ch.opts.CallTimeout)
	pkg, err := p.ch.do(cctx, org, ScopeRead, http.MethodGet, p.ch.opts.BrokerURL+base+"/download", "", "", nil, p.ch.opts.MaxPackageSize)
	cancel()
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return p.discard(ctx, org, log, base, err)
		}
		if _, perm := channel.AsPermanent(err); perm {
			log.Warn("download refused; skipped", "err", err)
			_ = p.setPending(ctx, org, t.FileTransferID, false) // do not fetch it by id again every round
			return false, nil
		}
		return false, fmt.Errorf("download: %w", err)
	}
	sbdJSON, sealed, err := unpack(pkg, p.ch.opts.MaxPackageSize)
	if err != nil {
		return p.discard(ctx, org, log, base, err)
	}
	sbd, err := wire.ParseSBD(sbdJSON)
	if err != nil {
		return p.discard(ctx, org, log, base, fmt.Errorf("sbd.json: %w", err))
	}
	log = log.With("message_id", sbd.MessageID(), "type", sbd.Type())
	var asic []byte
	if sealed != nil {
		plain := p.ch.opts.Plain && bytes.HasPrefix(sealed, []byte("PK\x03\x04"))
		switch {
		case plain:
			asic = sealed
		case p.ch.opts.Key == nil:
			return false, errors.New("no private key to decrypt asic.zip with (Options.Key)")
		default:
			if asic, err = dokumentpakke.Decrypt(sealed, p.ch.opts.Key); err != nil {
				return p.discard(ctx, org, log, base, fmt.Errorf("asic.zip: %w", err))
			}
		}
		c, err := dokumentpakke.ReadASiCE(asic, dokumentpakke.ReadOptions{MaxSize: p.ch.opts.MaxPackageSize, AllowUnsigned: plain})
		if err != nil {
			return p.discard(ctx, org, log, base, fmt.Errorf("asic.zip: %w", err))
		}
		for _, f := range c.Files {
			if !safeName(f.Name) {
				return p.discard(ctx, org, log, base, fmt.Errorf("asic.zip: %w: %q", ErrUnsafeName, f.Name))
			}
		}
	}
	if err := p.h.Handle(ctx, sbd, asic, wire.ServiceDPO); err != nil {
		if errors.Is(err, inbound.ErrRejected) {
			return p.discard(ctx, org, log, base, err)
		}
		return false, fmt.Errorf("handle message %s: %w", sbd.MessageID(), err)
	}
	if err := p.confirm(ctx, org, base); err != nil {
		if _, perm := channel.AsPermanent(err); perm {
			log.Warn("confirm download refused", "err", err)
			return false, nil
		}
		return false, fmt.Errorf("confirm download: %w", err) // handled: next round finds it a duplicate
	}
	log.Info("DPO message received")
	return true, nil
}

// discard confirms a transfer that can never be handled, so that it does not come back.
func (p *Poller) discard(ctx context.Context, org string, log *slog.Logger, base string, cause error) (bool, error) {
	log.Warn("DPO package cannot be handled; confirmed and discarded", "err", cause)
	if err := p.confirm(ctx, org, base); err != nil {
		if _, perm := channel.AsPermanent(err); perm {
			log.Warn("confirm download refused", "err", err)
			return false, nil
		}
		return false, fmt.Errorf("confirm download: %w", err)
	}
	return true, nil
}

// confirm confirms the download of the transfer at base.
func (p *Poller) confirm(ctx context.Context, org, base string) error {
	return p.call(ctx, org, http.MethodPost, base+"/confirmdownload", nil)
}

// call makes a JSON broker call for org with scope altinn:broker.read under the call timeout.
func (p *Poller) call(ctx context.Context, org, method, path string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, p.ch.opts.CallTimeout)
	defer cancel()
	return p.ch.call(ctx, org, ScopeRead, method, p.ch.opts.BrokerURL+path, "", nil, out)
}

// safeName reports whether name is a relative slash-separated path with no empty, "." or ".." element,
// no backslash or colon and no control character.
func safeName(name string) bool {
	if name == "" || strings.ContainsAny(name, `\:`) {
		return false
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return false
		}
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// unpack reads sbd.zip: the sbd.json entry (required, at most MaxSBDSize bytes) and the asic.zip entry
// (nil when absent, at most limit bytes); other entries are skipped. An entry whose declared size is
// beyond its bound is refused before any of it is inflated (a zip bomb), and none is read beyond its
// bound.
func unpack(pkg []byte, limit int64) (sbdJSON, asic []byte, err error) {
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // entries other than sbd.json and asic.zip are never read
		return nil, nil, fmt.Errorf("sbd.zip is not a zip: %w", err)
	}
	read := func(f *zip.File, limit int64) ([]byte, error) {
		if f.UncompressedSize64 > uint64(limit) {
			return nil, fmt.Errorf("sbd.zip entry %s: declares %d bytes, more than %d: %w", f.Name, f.UncompressedSize64, limit, ErrTooLarge)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("sbd.zip entry %s: %w", f.Name, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, limit+1))
		if err != nil {
			return nil, fmt.Errorf("sbd.zip entry %s: %w", f.Name, err)
		}
		if int64(len(b)) > limit {
			return nil, fmt.Errorf("sbd.zip entry %s: larger than %d bytes: %w", f.Name, limit, ErrTooLarge)
		}
		return b, nil
	}
	for _, f := range zr.File {
		switch f.Name {
		case "sbd.json":
			if sbdJSON, err = read(f, min(limit, MaxSBDSize)); err != nil {
				return nil, nil, err
			}
		case "asic.zip":
			if asic, err = read(f, limit); err != nil {
				return nil, nil, err
			}
		}
	}
	if sbdJSON == nil {
		return nil, nil, errors.New("sbd.zip has no sbd.json")
	}
	return sbdJSON, asic, nil
}
