package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strings"

	"github.com/efm-harness/efm-harness/simulator/integrasjonspunkt/store"
)

// Multipart limits: each file part at most 5 MiB (the real controller's MAX_SIZE), the whole request at
// most 500 MiB (spring.servlet.multipart.max-request-size).
const (
	maxMultipartFileSize = 5 * mib
	maxMultipartRequest  = 500 * mib
)

// multipartPrefix is the property-path prefix of the method validator's violations on the sbd parameter.
const multipartPrefix = "createAndSendMessage.sbd."

// spooledFile is a file part read into memory (up to memorySpool bytes, while the request's memoryBudget
// lasts) or into a temporary file.
type spooledFile struct {
	newFile
	data []byte // the content, when it fit in memory
	path string // the temporary file, otherwise
	// tooLarge is set when the part exceeded maxMultipartFileSize (its content was not kept).
	tooLarge bool
}

// memorySpool is the largest part kept in memory, and memoryBudget the most one request keeps in memory
// altogether; other parts are spooled to temporary files (as ParseMultipartForm's maxMemory does).
const (
	memorySpool  = 1 << 20
	memoryBudget = 4 << 20
)

// open opens the spooled content.
func (f *spooledFile) open() (io.ReadCloser, error) {
	if f.path == "" {
		return io.NopCloser(bytes.NewReader(f.data)), nil
	}
	return os.Open(f.path)
}

// content reads the whole spooled content.
func (f *spooledFile) content() ([]byte, error) {
	if f.path == "" {
		return f.data, nil
	}
	return os.ReadFile(f.path)
}

// multipartRequest is a parsed POST /api/messages/out/multipart body.
type multipartRequest struct {
	sbd     []byte
	haveSBD bool
	files   []*spooledFile
}

// cleanup removes the temporary files.
func (m *multipartRequest) cleanup() {
	for _, f := range m.files {
		if f.path != "" {
			_ = os.Remove(f.path)
		}
	}
}

// createAndSend serves POST /api/messages/out/multipart: create, upload and send in one request (spec
// ip-api §4.9), in the real controller's order: SBD validation, per-part size, duplicate filenames,
// create, each file, send.
func (a *API) createAndSend(r *http.Request) response {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "multipart/form-data" {
		return fail(errUnsupportedMediaType(ct))
	}
	if params["boundary"] == "" {
		return fail(newError(http.StatusBadRequest, exMultipart,
			"Failed to parse multipart servlet request: the request was rejected because no multipart boundary was found"))
	}
	req, err := readMultipart(r.Body, params["boundary"])
	defer req.cleanup()
	if err != nil {
		return fail(err)
	}
	if !req.haveSBD {
		return fail(newError(http.StatusBadRequest, exMissingParameter,
			"Required request parameter 'sbd' for method parameter type StandardBusinessDocument is not present"))
	}
	sbd, perr := parseSBD(req.sbd)
	if perr != nil {
		return fail(perr)
	}
	if errs := beanValidate(sbd, a.opts.Now()); len(errs) > 0 {
		return fail(errConstraintViolation(errs, multipartPrefix))
	}
	for _, f := range req.files {
		if f.tooLarge {
			return fail(errMultipartFileToLarge(f.filename))
		}
	}
	if dups := duplicateFilenames(req.files); dups != "" {
		return fail(errDuplicateFilename(dups))
	}
	p, err := a.prepare(r.Context(), sbd)
	if err != nil {
		return fail(err)
	}
	if err := a.validateFiles(p, req.files); err != nil {
		return fail(err)
	}
	if err := a.commit(r.Context(), p); err != nil {
		return fail(err)
	}
	if err := a.storeFiles(r.Context(), p, req.files); err != nil {
		// Create and files are one transaction in the real IP: undo the message and its conversation.
		ctx := context.WithoutCancel(r.Context())
		_ = a.opts.Store.DeleteOutgoing(ctx, p.out.MessageID)
		_ = a.opts.Store.DeleteConversationsByMessageID(ctx, p.out.MessageID)
		return fail(err)
	}
	if err := a.send(r.Context(), p.out.MessageID); err != nil {
		return fail(err)
	}
	return ok(json.RawMessage(p.out.SBD))
}

// readMultipart reads the parts: the first part named "sbd" is the SBD, every other part with a filename
// is an attachment (spooled to memory or a temporary file), other form fields are ignored.
func readMultipart(body io.Reader, boundary string) (*multipartRequest, error) {
	req := &multipartRequest{}
	budget := int64(memoryBudget)
	mr := multipart.NewReader(http.MaxBytesReader(nil, io.NopCloser(body), maxMultipartRequest), boundary)
	for {
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return req, nil
		}
		if err != nil {
			return req, multipartError(err)
		}
		cd, err := parseContentDisposition(part.Header.Get("Content-Disposition"))
		if err != nil {
			part.Close()
			return req, newError(http.StatusBadRequest, exMultipart, "Failed to parse multipart servlet request: "+
				strings.TrimPrefix(err.Error(), errDisposition.Error()+": ")).withCause(err)
		}
		switch {
		case cd.Name == "sbd" && !req.haveSBD:
			data, err := io.ReadAll(io.LimitReader(part, maxSBDSize+1))
			if err != nil {
				return req, multipartError(err)
			}
			if len(data) > maxSBDSize {
				return req, errNotReadable("I/O error while reading input message: the sbd part is too large")
			}
			req.sbd, req.haveSBD = data, true
		case cd.HasFilename:
			f, err := spool(part, cd, &budget)
			if f != nil {
				req.files = append(req.files, f)
			}
			if err != nil {
				return req, err
			}
		default:
			if _, err := io.Copy(io.Discard, part); err != nil {
				return req, multipartError(err)
			}
		}
		part.Close()
	}
}

// spool reads a file part into memory (within budget, which it lowers) or into a temporary file, keeping
// at most maxMultipartFileSize+1 bytes.
func spool(part *multipart.Part, cd contentDisposition, budget *int64) (*spooledFile, error) {
	f := &spooledFile{newFile: newFile{filename: cd.Filename, title: cd.Name, contentType: part.Header.Get("Content-Type")}}
	head, err := io.ReadAll(io.LimitReader(part, min(memorySpool, max(*budget, 0))+1))
	if err != nil {
		return f, multipartError(err)
	}
	if int64(len(head)) <= min(memorySpool, *budget) {
		f.data, f.size = head, int64(len(head))
		*budget -= int64(len(head))
		return f, nil
	}
	tmp, err := os.CreateTemp("", "efm-ip-multipart-*")
	if err != nil {
		return nil, errInternal(err)
	}
	f.path = tmp.Name()
	n, err := io.Copy(tmp, io.LimitReader(io.MultiReader(bytes.NewReader(head), part), maxMultipartFileSize+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return f, multipartError(err)
	}
	f.size = n
	if n > maxMultipartFileSize {
		f.tooLarge = true
		if _, err := io.Copy(io.Discard, part); err != nil {
			return f, multipartError(err)
		}
	}
	return f, nil
}

// multipartError maps a read error: 413 when the request exceeds the limit, 400 otherwise.
func multipartError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return newError(http.StatusRequestEntityTooLarge, exMaxUploadSize,
			"Maximum upload size exceeded; the request is larger than 524,288,000 bytes").withCause(err)
	}
	return newError(http.StatusBadRequest, exMultipart, "Failed to parse multipart servlet request: "+err.Error()).withCause(err)
}

// duplicateFilenames joins every occurrence of a filename that occurs more than once, as the real
// controller does ("a, b, a, b").
func duplicateFilenames(files []*spooledFile) string {
	count := map[string]int{}
	for _, f := range files {
		count[f.filename]++
	}
	var dups []string
	for _, f := range files {
		if count[f.filename] > 1 {
			dups = append(dups, f.filename)
		}
	}
	return strings.Join(dups, ", ")
}

// validateFiles checks every file against the prepared message, one after the other as if each were
// uploaded, before anything is stored; an arkivmelding.xml must parse.
func (a *API) validateFiles(p *prepared, files []*spooledFile) error {
	state := outgoingState{service: p.service, message: p.sbd.Message}
	for _, f := range files {
		if err := a.validateFile(state, f.newFile); err != nil {
			return err
		}
		if f.filename == arkivmeldingFile {
			data, err := f.content()
			if err != nil {
				return errInternal(err)
			}
			if _, perr := parseArkivmelding(data); perr != nil {
				return perr
			}
		}
		state.files = append(state.files, store.File{Filename: f.filename, Size: f.size, Primary: state.primary(f.filename)})
	}
	return nil
}

// storeFiles stores the validated files of a freshly created message in order.
func (a *API) storeFiles(ctx context.Context, p *prepared, files []*spooledFile) error {
	state := outgoingState{service: p.service, message: p.sbd.Message}
	for _, f := range files {
		rc, err := f.open()
		if err != nil {
			return errInternal(err)
		}
		err = a.storeFile(ctx, p.out.MessageID, state, f.newFile, rc)
		rc.Close()
		if err != nil {
			return err
		}
		state.files = append(state.files, store.File{Filename: f.filename, Size: f.size, Primary: state.primary(f.filename)})
	}
	return nil
}
