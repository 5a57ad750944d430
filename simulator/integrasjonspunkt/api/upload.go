package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"

	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
	"github.com/efm-harness/efm-harness/simulator/wire"
)

// mimeByExtension is the real MimeTypeExtensionMapper: the MIME type of a file whose upload came
// without one (or as application/octet-stream). Unknown extensions give application/pdf.
var mimeByExtension = map[string]string{
	"pdf": "application/pdf", "html": "text/html", "txt": "text/plain", "xml": "text/xml",
	"doc": "application/msword", "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"xls":  "application/vnd.ms-excel",
	"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"xltx": "application/vnd.openxmlformats-officedocument.spreadsheetml.template",
	"ppt":  "application/vnd.ms-powerpoint",
	"pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	"odf":  "application/vnd.oasis.opendocument.formula", "odt": "application/vnd.oasis.opendocument.text",
	"fods": "application/vnd.oasis.opendocument.spreadsheet", "fodp": "application/vnd.oasis.opendocument.presentation",
	"fodg": "application/vnd.oasis.opendocument.graphics",
	"gif":  "image/gif", "jpeg": "image/jpeg", "png": "image/png", "zip": "application/octet-stream",
}

// mimeType is the stored MIME type of a file: the given Content-Type, or, when that is empty or
// application/octet-stream, the type of the filename's extension (spec ip-api §4.5).
func mimeType(contentType, filename string) string {
	ct := strings.TrimSpace(contentType)
	if ct != "" && ct != "application/octet-stream" {
		return ct
	}
	parts := strings.Split(strings.TrimRight(filename, "."), ".")
	if m, ok := mimeByExtension[strings.ToLower(parts[len(parts)-1])]; ok {
		return m
	}
	return "application/pdf"
}

// dphContentTypes are the attachment types DPH accepts.
var dphContentTypes = map[string]bool{"application/pdf": true, "image/png": true, "image/jpeg": true}

// newFile is an attachment about to be added to a message.
type newFile struct {
	filename string
	// title is "" for none.
	title string
	// contentType is the Content-Type as the client sent it.
	contentType string
	// size is the announced size, -1 when unknown (a chunked upload).
	size int64
}

// outgoingState is what file validation needs to know about the message the file is added to.
type outgoingState struct {
	service wire.ServiceIdentifier
	message wire.BusinessMessage
	files   []store.File
}

// totalSize is the combined size of the message's files.
func (s outgoingState) totalSize() int64 {
	var n int64
	for _, f := range s.files {
		n += f.Size
	}
	return n
}

// primary reports whether filename is the message's hoveddokument.
func (s outgoingState) primary(filename string) bool {
	h := hoveddokument(s.message)
	return h != "" && h == filename
}

// limit is the upload limit of the message's channel.
func (a *API) limit(s wire.ServiceIdentifier) int64 {
	if l, ok := a.opts.UploadLimits[s]; ok {
		return l
	}
	return gib
}

// validateFile runs the real IP's upload rules (spec ip-api §4.7 upload rules 2–7) in its order.
func (a *API) validateFile(s outgoingState, f newFile) error {
	if reason := unsafeFilename(f.filename); reason != "" {
		return newError(http.StatusBadRequest, exIllegalArgument, fmt.Sprintf("The filename %q %s: give a plain file name", f.filename, reason))
	}
	for _, existing := range s.files {
		if existing.Filename == f.filename {
			return errDuplicateFilename(f.filename)
		}
	}
	if total, limit := s.totalSize()+f.size, a.limit(s.service); total > limit {
		return errMaxFileSize(total, s.service, limit)
	}
	primary := s.primary(f.filename)
	if primary {
		for _, existing := range s.files {
			if existing.Primary {
				return errMultiplePrimaryDocuments()
			}
		}
	}
	hasTitle := strings.TrimSpace(f.title) != ""
	switch s.service {
	case wire.ServiceDPV:
		if !hasTitle {
			return errMissingFileTitle(wire.ServiceDPV)
		}
	case wire.ServiceDPI:
		if !hasTitle && !primary {
			d, isDigital := s.message.(*wire.Digital)
			found := false
			if isDigital {
				for _, v := range d.MetadataFiler {
					found = found || v == f.filename
				}
			}
			if !found {
				return errMissingFileTitle(wire.ServiceDPI)
			}
		}
	case wire.ServiceDPH:
		if !primary {
			d, isDialog := s.message.(*wire.Dialogmelding)
			if !isDialog || d.MetadataFiler == nil {
				return errMissingFileTitle(wire.ServiceDPH)
			}
			if _, ok := d.MetadataFiler[f.filename]; !ok {
				return errMissingFileTitle(wire.ServiceDPH)
			}
			if !dphContentTypes[f.contentType] {
				const ex = exPrefix + "InvalidContentTypeException"
				return newError(http.StatusBadRequest, ex, noEntry(ex, "Invalid content type: "+f.contentType))
			}
		}
	}
	return nil
}

// loadOutgoing reads an outgoing message and its SBD; ErrNotFound becomes 404 MessageNotFoundException.
func (a *API) loadOutgoing(ctx context.Context, messageID string) (store.OutMessage, *wire.StandardBusinessDocument, error) {
	m, err := a.opts.Store.Outgoing(ctx, messageID)
	if errors.Is(err, store.ErrNotFound) {
		return m, nil, errMessageNotFound(messageID)
	}
	if err != nil {
		return m, nil, errInternal(err)
	}
	sbd, err := wire.ParseSBD(m.SBD)
	if err != nil {
		return m, nil, errInternal(fmt.Errorf("stored sbd of %s: %w", messageID, err))
	}
	return m, sbd, nil
}

// uploadFile serves PUT /api/messages/out/{messageId}: one attachment as the raw body (spec ip-api §4.5).
func (a *API) uploadFile(r *http.Request) response {
	messageID := mux.Vars(r)["messageId"]
	ct, hasCT := r.Header["Content-Type"]
	if !hasCT || len(ct) == 0 {
		return fail(errMissingHeader("Content-Type"))
	}
	cdh, hasCD := r.Header["Content-Disposition"]
	if !hasCD || len(cdh) == 0 {
		return fail(errMissingHeader("Content-Disposition"))
	}
	for name, vs := range map[string][]string{"Content-Type": ct, "Content-Disposition": cdh} {
		if len(vs) > 1 {
			// Spring would join them with ", " into one unparseable value; say what is wrong instead.
			return fail(newError(http.StatusBadRequest, exIllegalArgument, fmt.Sprintf("The header %s is given %d times; give it once", name, len(vs))))
		}
	}
	m, sbd, err := a.loadOutgoing(r.Context(), messageID)
	if err != nil {
		return fail(err)
	}
	cd, err := parseContentDisposition(cdh[0])
	if err != nil {
		return fail(newError(http.StatusBadRequest, exIllegalArgument, strings.TrimPrefix(err.Error(), errDisposition.Error()+": ")).withCause(err))
	}
	if !cd.HasFilename || strings.TrimSpace(cd.Filename) == "" {
		return fail(newError(http.StatusBadRequest, exIllegalArgument,
			"Content-Disposition has no filename: every attachment needs one, e.g. attachment; name=\"Title\"; filename=\"file.pdf\""))
	}
	title := cd.Name
	if q := r.URL.Query(); q.Has("title") {
		title = q.Get("title")
	}
	f := newFile{filename: cd.Filename, title: title, contentType: ct[0], size: r.ContentLength}
	state := outgoingState{service: wire.ServiceIdentifier(m.ServiceIdentifier), message: sbd.Message, files: m.Files}
	if err := a.validateFile(state, f); err != nil {
		return fail(err)
	}
	if err := a.storeFile(r.Context(), messageID, state, f, requestBody{r.Body}); err != nil {
		return fail(err)
	}
	return empty(http.StatusOK)
}

// unsafeFilename says what makes a filename more than a name — a path separator, a parent or current
// directory, a control character — or "" for a plain one. Such names would become zip entries and file
// names at the receiver (a zip slip there), so they are refused here; the real IP takes them as they are.
func unsafeFilename(name string) string {
	switch {
	case name == "." || name == "..":
		return "is a directory"
	case strings.ContainsAny(name, `/\`):
		return "contains a path separator"
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return "contains a control character"
		}
	}
	return ""
}

// errBody marks a failure to read the request's body: the client's fault.
var errBody = errors.New("the request body could not be read")

// requestBody marks its read errors (but io.EOF) with errBody.
type requestBody struct{ r io.Reader }

func (b requestBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("%w: %w", errBody, err)
	}
	return n, err
}

// storeFile stores a validated attachment; an arkivmelding.xml is parsed first (and refused when it does
// not parse) and then sets the conversation's messageTitle and messageReference.
func (a *API) storeFile(ctx context.Context, messageID string, state outgoingState, f newFile, content io.Reader) error {
	existing, limit := state.totalSize(), a.limit(state.service)
	remaining := max(limit-existing, 0)
	var am *arkivmelding
	if f.filename == arkivmeldingFile {
		data, err := io.ReadAll(io.LimitReader(content, remaining+1))
		if errors.Is(err, errBody) {
			return errNotReadable("I/O error while reading input message: " + err.Error())
		}
		if err != nil {
			return errMessagePersist(err)
		}
		if int64(len(data)) > remaining {
			return errMaxFileSize(existing+int64(len(data)), state.service, limit)
		}
		parsed, perr := parseArkivmelding(data)
		if perr != nil {
			return perr
		}
		am, content = &parsed, bytes.NewReader(data)
	}
	title := f.title
	if strings.TrimSpace(title) == "" {
		title = ""
	}
	_, err := a.opts.Store.AddFile(ctx, store.File{MessageID: messageID, Filename: f.filename, Title: title,
		MimeType: mimeType(f.contentType, f.filename), Primary: state.primary(f.filename)}, content, remaining)
	switch {
	case errors.Is(err, store.ErrTooLarge):
		return errMaxFileSize(limit+1, state.service, limit)
	case errors.Is(err, store.ErrDuplicate):
		return errDuplicateFilename(f.filename)
	case errors.Is(err, store.ErrNotFound):
		return errMessageNotFound(messageID)
	case errors.Is(err, errBody):
		// The client's body broke off or was malformed (a bad chunk): its fault, not the store's.
		return errNotReadable("I/O error while reading input message: " + err.Error())
	case err != nil:
		return errMessagePersist(err)
	}
	if am != nil {
		if err := a.opts.Store.UpdateConversationMeta(ctx, messageID, am.Reference(), am.OffentligTittel); err != nil {
			return errInternal(err)
		}
	}
	return nil
}

// getOutgoing serves GET /api/messages/out/{messageId}.
func (a *API) getOutgoing(r *http.Request) response {
	messageID := mux.Vars(r)["messageId"]
	m, err := a.opts.Store.Outgoing(r.Context(), messageID)
	if errors.Is(err, store.ErrNotFound) {
		return fail(errMessageNotFound(messageID))
	}
	if err != nil {
		return fail(errInternal(err))
	}
	return ok(json.RawMessage(m.SBD))
}

// deleteOutgoing serves DELETE /api/messages/out/{messageId}: the message and its files go, the
// conversation stays; a missing message is fine.
func (a *API) deleteOutgoing(r *http.Request) response {
	if err := a.opts.Store.DeleteOutgoing(r.Context(), mux.Vars(r)["messageId"]); err != nil {
		return fail(errInternal(err))
	}
	return empty(http.StatusOK)
}
