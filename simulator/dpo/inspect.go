package dpo

import (
	"archive/zip"
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/dokumentpakke"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Entry names of the DPO zip (AltinnPackage).
const (
	EntrySBD  = "sbd.json"
	EntryASiC = "asic.zip"
)

// Limits of the inspection decoder (a zip bomb must not take the simulator down).
const (
	maxZipEntries  = 1000
	maxEntrySize   = 64 << 20
	maxZipTotal    = 128 << 20 // all entries together
	maxSBDShown    = 4 << 20
	maxInlineBytes = 1 << 20 // file contents shown inline with ?content=true
)

// TransferSummary is one transfer on GET /__admin/messages.
type TransferSummary struct {
	ID         string    `json:"id"`
	ResourceID string    `json:"resourceId"`
	Created    time.Time `json:"created"`
	// MessageID is the eFormidling messageId of the package (its sbd.json), when it has one: how the
	// load generator times messages from acceptance to arrival here.
	MessageID string `json:"messageId,omitempty"`
	// Published is when the upload completed.
	Published                    *time.Time         `json:"published,omitempty"`
	Sender                       string             `json:"sender"`
	Recipients                   []RecipientSummary `json:"recipients"`
	SendersFileTransferReference *string            `json:"sendersFileTransferReference"`
	FileName                     string             `json:"fileName"`
	Size                         int64              `json:"size"`
	Status                       string             `json:"status"`
	StatusChanged                time.Time          `json:"statusChanged"`
	PropertyList                 map[string]string  `json:"propertyList,omitempty"`
}

// RecipientSummary is a recipient and its status.
type RecipientSummary struct {
	Recipient string    `json:"recipient"`
	Status    string    `json:"status"`
	Changed   time.Time `json:"changed"`
}

// TransferList is the body of GET /__admin/messages.
type TransferList struct {
	// Transfers are the kept transfers, oldest first, filtered by ?sender=, ?recipient= and ?status=.
	Transfers []TransferSummary `json:"transfers"`
	// Evicted counts the transfers forgotten to stay within the bounds since the last reset, and
	// EvictedUnconfirmed those of them that not every recipient had confirmed.
	Evicted            int64 `json:"evicted"`
	EvictedUnconfirmed int64 `json:"evictedUnconfirmed"`
	// StoredBytes is the size of the kept payloads.
	StoredBytes int64 `json:"storedBytes"`
}

func (t *transfer) summary() TransferSummary {
	out := TransferSummary{ID: t.id, ResourceID: t.resourceID, Created: t.created, Sender: t.sender,
		SendersFileTransferReference: t.sendersRef, FileName: t.fileName, Size: int64(len(t.payload)), MessageID: t.messageID, Published: t.published,
		Status: t.status, StatusChanged: t.statusAt, PropertyList: t.propertyList,
		Recipients: make([]RecipientSummary, 0, len(t.recipients))}
	for _, rc := range t.recipients {
		out.Recipients = append(out.Recipients, RecipientSummary{Recipient: rc.org, Status: rc.status, Changed: rc.changed})
	}
	return out
}

// Transfers lists the kept transfers, oldest first.
func (s *Server) Transfers() []TransferSummary {
	return s.transferList("", "", "").Transfers
}

func (s *Server) transferList(sender, recipient, status string) TransferList {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := TransferList{Transfers: []TransferSummary{}, Evicted: s.evicted, EvictedUnconfirmed: s.evictedUnconfirmed,
		StoredBytes: s.stored}
	for _, t := range s.order {
		if (sender != "" && !t.isSender(orgnrOf(sender))) || (recipient != "" && t.recipient(orgnrOf(recipient)) == nil) ||
			(status != "" && !strings.EqualFold(status, t.status)) {
			continue
		}
		out.Transfers = append(out.Transfers, t.summary())
	}
	return out
}

func (s *Server) adminMessages(r *http.Request) admin.Response {
	q := r.URL.Query()
	return admin.JSON(http.StatusOK, s.transferList(q.Get("sender"), q.Get("recipient"), q.Get("status")))
}

// MessageView is the body of GET /__admin/messages/{id}: the transfer and its file decoded.
type MessageView struct {
	Transfer TransferSummary `json:"transfer"`
	// Entries are the entries of the uploaded zip (sbd.zip); ZipError says why it could not be read.
	Entries  []EntryView `json:"entries,omitempty"`
	ZipError string      `json:"zipError,omitempty"`
	// SBD is sbd.json as wire.ParseSBD reads it; when that fails SBDError says why and SBDRaw is the
	// entry as it is.
	SBD      json.RawMessage `json:"sbd,omitempty"`
	SBDError string          `json:"sbdError,omitempty"`
	SBDRaw   string          `json:"sbdRaw,omitempty"`
	// ASiC is asic.zip decrypted and opened, when there is one.
	ASiC *ASiCView `json:"asic,omitempty"`
}

// EntryView is one zip entry.
type EntryView struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	Error  string `json:"error,omitempty"`
}

// ASiCView is the document package: decrypted with a recipient's key, its files and signer.
type ASiCView struct {
	// DecryptedFor is the recipient whose key opened the CMS envelope.
	DecryptedFor string `json:"decryptedFor,omitempty"`
	// Error says why the package could not be decrypted or read (Files may then be partial or empty).
	Error string `json:"error,omitempty"`
	// Signed reports whether the CAdES signature verified and every file matched its digest.
	Signed   bool          `json:"signed"`
	Signer   *SignerView   `json:"signer,omitempty"`
	Manifest *ManifestView `json:"manifest,omitempty"`
	Files    []FileView    `json:"files"`
}

// SignerView describes the signer's certificate.
type SignerView struct {
	Subject      string    `json:"subject"`
	Organization string    `json:"organization,omitempty"`
	Orgnr        string    `json:"orgnr,omitempty"`
	Issuer       string    `json:"issuer"`
	SerialNumber string    `json:"serialNumber"`
	NotAfter     time.Time `json:"notAfter"`
}

// ManifestView is the eFormidling manifest.xml of the package.
type ManifestView struct {
	Mottaker      string `json:"mottaker,omitempty"`
	Avsender      string `json:"avsender,omitempty"`
	Hoveddokument string `json:"hoveddokument,omitempty"`
	Error         string `json:"error,omitempty"`
}

// FileView is one file of the package. With ?content=true, Text holds a textual file's content and
// Content (base64) any other's, up to 1 MiB each.
type FileView struct {
	Name     string `json:"name"`
	MimeType string `json:"mimeType"`
	Size     int    `json:"size"`
	SHA256   string `json:"sha256"`
	Text     string `json:"text,omitempty"`
	Content  []byte `json:"content,omitempty"`
}

// snapshot copies what inspection needs out of a transfer, under the lock.
func (s *Server) snapshot(id string) (TransferSummary, []byte, []string, bool) {
	if u, err := uuid.Parse(id); err == nil {
		id = u.String()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.transfers[id]
	if !ok {
		return TransferSummary{}, nil, nil, false
	}
	orgs := make([]string, 0, len(t.recipients))
	for _, rc := range t.recipients {
		orgs = append(orgs, orgnrOf(rc.org))
	}
	return t.summary(), t.payload, orgs, true
}

func (s *Server) adminMessage(r *http.Request, id string) admin.Response {
	sum, payload, orgs, ok := s.snapshot(id)
	if !ok {
		return admin.ErrorResponse(http.StatusNotFound, fmt.Sprintf("no file transfer %q", id))
	}
	withContent := strings.EqualFold(r.URL.Query().Get("content"), "true")
	return admin.JSON(http.StatusOK, s.decode(sum, payload, orgs, withContent))
}

// decode shows a transfer's payload: the zip's entries, sbd.json parsed, and asic.zip opened.
func (s *Server) decode(sum TransferSummary, payload []byte, orgs []string, withContent bool) MessageView {
	v := MessageView{Transfer: sum}
	if payload == nil {
		return v
	}
	entries, views, err := readZip(payload)
	v.Entries = views
	if err != nil {
		v.ZipError = err.Error()
		return v
	}
	if b, ok := entries[EntrySBD]; ok {
		sbd, err := wire.ParseSBD(b)
		var out []byte
		if err == nil {
			out, err = json.Marshal(sbd)
		}
		if err != nil {
			v.SBDError = err.Error()
			v.SBDRaw = string(b[:min(len(b), maxSBDShown)])
		} else {
			v.SBD = out
		}
	}
	if b, ok := entries[EntryASiC]; ok {
		v.ASiC = s.openASiC(b, orgs, withContent)
	}
	return v
}

// readZip reads every entry of a zip, within the inspection limits.
func readZip(data []byte) (map[string][]byte, []EntryView, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, nil, fmt.Errorf("not a zip: %w", err)
	}
	if len(zr.File) > maxZipEntries {
		return nil, nil, fmt.Errorf("the zip has %d entries, more than the %d shown", len(zr.File), maxZipEntries)
	}
	entries := map[string][]byte{}
	views := make([]EntryView, 0, len(zr.File))
	var total int64
	for _, f := range zr.File {
		ev := EntryView{Name: f.Name, Size: int64(f.UncompressedSize64)}
		b, err := readEntry(f, min(maxEntrySize, maxZipTotal-total))
		if err != nil {
			ev.Error = err.Error()
		} else {
			total += int64(len(b))
			sum := sha256.Sum256(b)
			ev.SHA256, ev.Size = hex.EncodeToString(sum[:]), int64(len(b))
			if _, dup := entries[f.Name]; !dup {
				entries[f.Name] = b
			}
		}
		views = append(views, ev)
	}
	return entries, views, nil
}

// readEntry reads an entry of at most limit bytes (what is left of the decoder's budget).
func readEntry(f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("not read: larger than the %d bytes the inspection reads", limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("not read: larger than the %d bytes the inspection reads", limit)
	}
	return b, nil
}

// openASiC decrypts asic.zip with the first recipient key that opens it and reads the container.
func (s *Server) openASiC(data []byte, orgs []string, withContent bool) *ASiCView {
	v := &ASiCView{Files: []FileView{}}
	c, org, err := s.openContainer(data, orgs)
	v.DecryptedFor = org
	if err != nil {
		v.Error = err.Error()
	}
	if c == nil {
		return v
	}
	v.Signed = c.Signed
	if cert := c.SignerCertificate; cert != nil {
		v.Signer = signerView(cert)
	}
	for _, f := range c.Files {
		sum := sha256.Sum256(f.Content)
		fv := FileView{Name: f.Name, MimeType: f.MimeType, Size: len(f.Content), SHA256: hex.EncodeToString(sum[:])}
		if withContent && len(f.Content) <= maxInlineBytes {
			if isText(f.MimeType, f.Content) {
				fv.Text = string(f.Content)
			} else {
				fv.Content = f.Content
			}
		}
		v.Files = append(v.Files, fv)
		if f.Name == "manifest.xml" {
			v.Manifest = manifestView(f.Content)
		}
	}
	return v
}

// openContainer decrypts data with each recipient's key in turn and reads the ASiC-E inside. When the
// envelope opens but the container does not verify, it is read again without the signature
// requirement so that its files can still be shown, and the error says what failed.
func (s *Server) openContainer(data []byte, orgs []string) (*dokumentpakke.Container, string, error) {
	if s.opts.Keys == nil && s.opts.Credentials == nil {
		return nil, "", errors.New("not decrypted: the simulator has no recipient keys (Options.Keys, Options.Credentials)")
	}
	var errs []string
	for _, org := range orgs {
		key, ok := s.recipientKey(org)
		if !ok || key == nil {
			errs = append(errs, fmt.Sprintf("no key for recipient %s", org))
			continue
		}
		c, err := openWith(data, key)
		if err == nil {
			return c, org, nil
		}
		if errors.Is(err, errNotDecrypted) {
			errs = append(errs, fmt.Sprintf("recipient %s: %v", org, err))
			continue
		}
		return c, org, err
	}
	if len(errs) == 0 {
		return nil, "", errors.New("not decrypted: the transfer has no recipients")
	}
	return nil, "", errors.New("not decrypted: " + strings.Join(errs, "; "))
}

// recipientKey is orgnr's private key from Options.Keys, else from Options.Credentials.
func (s *Server) recipientKey(orgnr string) (*rsa.PrivateKey, bool) {
	if s.opts.Keys != nil {
		return s.opts.Keys(orgnr)
	}
	key, _, ok := s.opts.Credentials(orgnr)
	return key, ok
}

var errNotDecrypted = errors.New("CMS envelope does not open")

// openWith opens the document package with key: dokumentpakke.Open's two steps, kept apart so that a
// container that decrypts but fails verification is still shown.
func openWith(data []byte, key *rsa.PrivateKey) (*dokumentpakke.Container, error) {
	plain, err := dokumentpakke.Decrypt(data, key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNotDecrypted, err)
	}
	c, err := dokumentpakke.ReadASiCE(plain, dokumentpakke.ReadOptions{MaxSize: maxZipTotal})
	if err == nil {
		return c, nil
	}
	if lax, lerr := dokumentpakke.ReadASiCE(plain, dokumentpakke.ReadOptions{AllowUnsigned: true, MaxSize: maxZipTotal}); lerr == nil {
		return lax, fmt.Errorf("the container does not verify: %w", err)
	}
	return nil, fmt.Errorf("decrypted, but not a readable ASiC-E container: %w", err)
}

func signerView(c *x509.Certificate) *SignerView {
	v := &SignerView{Subject: c.Subject.String(), Orgnr: c.Subject.SerialNumber, Issuer: c.Issuer.String(),
		SerialNumber: c.SerialNumber.String(), NotAfter: c.NotAfter}
	if len(c.Subject.Organization) > 0 {
		v.Organization = c.Subject.Organization[0]
	}
	return v
}

func manifestView(b []byte) *ManifestView {
	m, err := dokumentpakke.ParseManifest(b)
	if err != nil {
		return &ManifestView{Error: err.Error()}
	}
	v := &ManifestView{Mottaker: m.Mottaker, Avsender: m.Avsender}
	if m.Hoveddokument != nil {
		v.Hoveddokument = m.Hoveddokument.Href
	}
	return v
}

// isText reports whether a file is shown as text: a textual MIME type and valid UTF-8.
func isText(mimeType string, b []byte) bool {
	mt := strings.ToLower(mimeType)
	textual := strings.HasPrefix(mt, "text/") || strings.Contains(mt, "xml") || strings.Contains(mt, "json")
	return textual && utf8.Valid(b)
}

func (s *Server) adminRoutes(r *mux.Router) {
	r.Handle("/messages/{id}/files/{name:.+}", admin.Handler(s.adminFile)).Methods(http.MethodGet).Name(Name + ".admin.message.file")
	r.Handle("/messages/{id}/payload", admin.Handler(s.adminPayload)).Methods(http.MethodGet).Name(Name + ".admin.message.payload")
	r.Handle("/behaviour/{orgnr}", admin.Handler(s.adminDeleteBehaviour)).Methods(http.MethodDelete).Name(Name + ".admin.behaviour.delete")
	r.Handle("/inject/raw", admin.Handler(s.adminInjectRaw)).Methods(http.MethodPost).Name(Name + ".admin.inject.raw")
}

// adminFile serves GET /__admin/messages/{id}/files/{name}: a file of the decrypted package with its
// MIME type, or else an entry of the uploaded zip (sbd.json, asic.zip).
func (s *Server) adminFile(r *http.Request) admin.Response {
	id, name := mux.Vars(r)["id"], mux.Vars(r)["name"]
	_, payload, orgs, ok := s.snapshot(id)
	if !ok {
		return admin.ErrorResponse(http.StatusNotFound, fmt.Sprintf("no file transfer %q", id))
	}
	if payload == nil {
		return admin.ErrorResponse(http.StatusNotFound, fmt.Sprintf("file transfer %s has no file yet", id))
	}
	entries, _, err := readZip(payload)
	if err != nil {
		return admin.ErrorResponse(http.StatusNotFound, fmt.Sprintf("file transfer %s: %v", id, err))
	}
	if b, ok := entries[EntryASiC]; ok {
		if c, _, _ := s.openContainer(b, orgs); c != nil {
			if f := c.File(name); f != nil {
				return admin.Text(http.StatusOK, f.MimeType, f.Content)
			}
		}
	}
	if b, ok := entries[name]; ok {
		return admin.Text(http.StatusOK, entryType(name), b)
	}
	return admin.ErrorResponse(http.StatusNotFound, fmt.Sprintf("file transfer %s has no file %q", id, name))
}

func entryType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".json":
		return "application/json"
	case ".zip":
		return "application/zip"
	case ".xml":
		return "application/xml"
	}
	return "application/octet-stream"
}

// adminPayload serves GET /__admin/messages/{id}/payload: the uploaded file as it is.
func (s *Server) adminPayload(r *http.Request) admin.Response {
	id := mux.Vars(r)["id"]
	sum, payload, _, ok := s.snapshot(id)
	if !ok {
		return admin.ErrorResponse(http.StatusNotFound, fmt.Sprintf("no file transfer %q", id))
	}
	if payload == nil {
		return admin.ErrorResponse(http.StatusNotFound, fmt.Sprintf("file transfer %s has no file yet", id))
	}
	return admin.Response{Status: http.StatusOK, ContentType: "application/octet-stream", Raw: payload,
		Header: http.Header{"Content-Disposition": {mime.FormatMediaType("attachment", map[string]string{"filename": sum.FileName})}}}
}

// packageMessageID reads the messageId of an eFormidling sbd.zip (its sbd.json's
// standardBusinessDocumentHeader.documentIdentification.instanceIdentifier), or "" for anything else.
func packageMessageID(data []byte) string {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return ""
	}
	for _, f := range zr.File {
		if f.Name != "sbd.json" || f.UncompressedSize64 > 16<<20 {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return ""
		}
		defer rc.Close()
		var sbd struct {
			Header struct {
				DocumentIdentification struct {
					InstanceIdentifier string `json:"instanceIdentifier"`
				} `json:"documentIdentification"`
			} `json:"standardBusinessDocumentHeader"`
		}
		if json.NewDecoder(io.LimitReader(rc, 16<<20)).Decode(&sbd) != nil {
			return ""
		}
		return sbd.Header.DocumentIdentification.InstanceIdentifier
	}
	return ""
}
