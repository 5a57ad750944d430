package dpo

import (
	"bytes"
	"cmp"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/altinn"
)

// FileTransferInitialize is the body of POST /filetransfer (FileTransferInitalizeExt).
type FileTransferInitialize struct {
	FileName                     *string           `json:"fileName"`
	ResourceID                   *string           `json:"resourceId"`
	SendersFileTransferReference *string           `json:"sendersFileTransferReference"`
	Sender                       *string           `json:"sender"`
	Recipients                   json.RawMessage   `json:"recipients"`
	PropertyList                 map[string]string `json:"propertyList"`
	Checksum                     *string           `json:"checksum"`
	DisableVirusScan             *bool             `json:"disableVirusScan"`
}

// FileTransferID is the body of the initialise and upload answers.
type FileTransferID struct {
	FileTransferID string `json:"fileTransferId"`
}

var (
	// orgPattern is Altinn's Constants.OrgNumberPattern.
	orgPattern = regexp.MustCompile(`^(?:\d{4}:\d{9}|urn:altinn:organization:identifier-no:\d{9})$`)
	// resourcePattern is Altinn's ResourceIdentifierAttribute.
	resourcePattern = regexp.MustCompile(`^(?:urn:altinn:resource:)?[^:]{1,255}$`)
)

const (
	msgSenderPattern    = "Organization numbers should be on the form countrycode:organizationnumber (e.g. 0192:910753614) or urn:altinn:organization:identifier-no:organizationnumber"
	msgRecipientPattern = "Each recipient should be on the form countrycode:organizationnumber (e.g. 0192:910753614) or urn:altinn:organization:identifier-no:organizationnumber"
	bodyParam           = "initializeExt"
)

func required(field string) string { return fmt.Sprintf("The %s field is required.", field) }

func lengthMsg(field string, lo, hi int) string {
	return fmt.Sprintf("The field %s must be a string with a minimum length of %d and a maximum length of %d.", field, lo, hi)
}

// hasMediaType reports whether r has no Content-Type or one of the given media types ("application/*+json"
// matching any JSON-based one).
func hasMediaType(r *http.Request, types ...string) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	mt = strings.ToLower(mt)
	if slices.Contains(types, "application/*+json") && strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json") {
		return true
	}
	return slices.Contains(types, mt)
}

func unsupportedMediaType(r *http.Request, want string) admin.Response {
	return newProblem(http.StatusUnsupportedMediaType,
		fmt.Sprintf("Content-Type %q is not supported here; send %s", r.Header.Get("Content-Type"), want)).Response()
}

// decodeInitialize reads and validates the initialise body as ASP.NET Core's model binding and
// validation do; a non-nil problem is a 400 (or 413) naming what is wrong.
func decodeInitialize(r *http.Request) (*FileTransferInitialize, []string, *Problem) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxInitBody+1))
	if err != nil {
		return nil, nil, altinn.ValidationProblem(map[string][]string{"": {"The request body could not be read: " + err.Error()}})
	}
	if len(body) > maxInitBody {
		return nil, nil, newProblem(http.StatusRequestEntityTooLarge, fmt.Sprintf("The request body is larger than %d bytes", maxInitBody))
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil, altinn.ValidationProblem(map[string][]string{"": {"A non-empty request body is required."}})
	}
	var in FileTransferInitialize
	if err := json.Unmarshal(body, &in); err != nil {
		errs := map[string][]string{bodyParam: {required(bodyParam)}}
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te) && te.Field != "":
			path := "$." + te.Field
			errs[path] = []string{fmt.Sprintf("The JSON value could not be converted to %s. Path: %s", te.Type, path)}
		case errors.As(err, &te):
			errs["$"] = []string{"The JSON value could not be converted to Altinn.Broker.Models.FileTransferInitalizeExt. Path: $"}
		default:
			errs["$"] = []string{err.Error()}
		}
		return nil, nil, altinn.ValidationProblem(errs)
	}
	v := validation{}
	str := func(field string, p *string, lo, hi int, mandatory bool) {
		switch {
		case p == nil || (*p == "" && mandatory):
			if mandatory {
				v.add(field, required(field))
			}
		case len([]rune(*p)) < lo || len([]rune(*p)) > hi:
			v.add(field, lengthMsg(field, lo, hi))
		}
	}
	str("FileName", in.FileName, 1, 255, true)
	str("ResourceId", in.ResourceID, 1, 255, true)
	if in.ResourceID != nil && *in.ResourceID != "" && !resourcePattern.MatchString(*in.ResourceID) {
		v.add("ResourceId", "Invalid Resource identifier format")
	}
	str("SendersFileTransferReference", in.SendersFileTransferReference, 1, 4096, false)
	str("Sender", in.Sender, 1, 1<<30, true)
	if in.Sender != nil && *in.Sender != "" && !orgPattern.MatchString(*in.Sender) {
		v.add("Sender", msgSenderPattern)
	}
	var recipients []string
	switch raw := bytes.TrimSpace(in.Recipients); {
	case raw == nil:
		v.add("Recipients", "One or more recipients are required")
	case string(raw) == "null":
		v.add("Recipients", required("Recipients"))
	default:
		if err := json.Unmarshal(raw, &recipients); err != nil {
			v.add("$.recipients", "The JSON value could not be converted to System.Collections.Generic.List`1[System.String]. Path: $.recipients")
			break
		}
		if len(recipients) == 0 {
			v.add("Recipients", "One or more recipients are required")
		}
		for _, rc := range recipients {
			if !orgPattern.MatchString(rc) {
				v.add("Recipients", msgRecipientPattern)
				break
			}
		}
	}
	if len(in.PropertyList) > 10 {
		v.add("PropertyList", "PropertyList can contain at most 10 properties")
	}
	for k, val := range in.PropertyList {
		if n := len([]rune(k)); n > 50 {
			v.add("PropertyList", fmt.Sprintf("PropertyList Key can not be longer than 50. Length:%d, KeyValue:%s", n, k))
		}
		if n := len([]rune(val)); n > 3000 {
			v.add("PropertyList", fmt.Sprintf("PropertyList Value can not be longer than 3000. Length:%d, Value:%s", n, val))
		}
	}
	if c := in.Checksum; c != nil && strings.TrimSpace(*c) != "" {
		switch {
		case len([]rune(*c)) != 32:
			v.add("Checksum", "The checksum, if used, must be a MD5 hash with a length of 32 characters")
		case strings.ToLower(*c) != *c:
			v.add("Checksum", "The checksum, if used, must be a MD5 hash in lower case")
		}
	}
	if p := v.problem(); p != nil {
		return nil, nil, p
	}
	return &in, recipients, nil
}

// initialize serves POST /filetransfer and /filetransfer/: a new transfer in status Initialized, every
// recipient Initialized.
func (s *Server) initialize(r *http.Request, c caller) admin.Response {
	if !hasMediaType(r, "application/json", "text/json", "application/*+json") {
		return unsupportedMediaType(r, "application/json")
	}
	in, recipients, p := decodeInitialize(r)
	if p != nil {
		return p.Response()
	}
	if orgnrOf(*in.ResourceID) != s.opts.Resource {
		return errResourceNotConfigured.problem().Response()
	}
	if orgnrOf(*in.Sender) != c.orgnr {
		return errNoAccessToResource.problem().Response()
	}
	now := s.now()
	t := &transfer{
		id: uuid.NewString(), resourceID: s.opts.Resource, fileName: *in.FileName,
		sendersRef: in.SendersFileTransferReference, sender: withPrefix(*in.Sender),
		propertyList: in.PropertyList, useVirusScan: in.DisableVirusScan == nil || !*in.DisableVirusScan,
		created: now, expiration: now.Add(FileTransferTimeToLive), statusTimes: map[string]time.Time{},
	}
	if in.Checksum != nil && strings.TrimSpace(*in.Checksum) != "" {
		t.checksum = in.Checksum
	}
	for _, id := range recipients {
		org := withPrefix(id)
		if t.recipient(orgnrOf(org)) != nil {
			continue
		}
		rc := &recipient{org: org}
		rc.setStatus(RecipientInitialized, now)
		t.recipients = append(t.recipients, rc)
	}
	t.setStatus(StatusInitialized, now)
	s.mu.Lock()
	s.add(t)
	s.mu.Unlock()
	s.log.Info("dpo: file transfer initialised", "fileTransferId", t.id, "sender", t.sender,
		"recipients", len(t.recipients), "sendersFileTransferReference", deref(t.sendersRef))
	return altinn.JSON(http.StatusOK, FileTransferID{FileTransferID: t.id})
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// transferID reads the {fileTransferId} path variable as ASP.NET Core binds a Guid.
func transferID(r *http.Request) (string, *Problem) {
	raw := mux.Vars(r)[fileTransferIDVar]
	id, err := uuid.Parse(raw)
	if err != nil {
		return "", altinn.ValidationProblem(map[string][]string{fileTransferIDVar: {fmt.Sprintf("The value '%s' is not valid.", raw)}})
	}
	return id.String(), nil
}

// lookup finds a transfer for a handler; callers hold s.mu.
func (s *Server) lookup(r *http.Request) (*transfer, *Problem) {
	id, p := transferID(r)
	if p != nil {
		return nil, p
	}
	t, ok := s.transfers[id]
	if !ok {
		return nil, errFileTransferNotFound.problem()
	}
	return t, nil
}

// upload serves POST /filetransfer/{id}/upload: the octet-stream body becomes the transfer's file, and
// the transfer is Published at once.
func (s *Server) upload(r *http.Request, c caller) admin.Response {
	if !hasMediaType(r, "application/octet-stream") {
		return unsupportedMediaType(r, "application/octet-stream")
	}
	s.mu.Lock()
	t, p := s.lookup(r)
	var checksum *string
	switch {
	case p != nil:
	case !t.isSender(c.orgnr):
		p = errNoAccessToResource.problem()
	case t.status != StatusInitialized && t.status != StatusUploadStarted:
		p = errFileTransferAlreadyUploaded.problem()
	default:
		checksum = t.checksum
	}
	s.mu.Unlock()
	if p != nil {
		return p.Response()
	}
	if r.ContentLength > s.opts.MaxUploadSize {
		return errFileSizeTooBig.problem().Response()
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, s.opts.MaxUploadSize+1))
	if err != nil {
		return newProblem(http.StatusBadRequest, "The upload could not be read: "+err.Error()).Response()
	}
	switch {
	case int64(len(data)) > s.opts.MaxUploadSize:
		return errFileSizeTooBig.problem().Response()
	case len(data) == 0:
		return newProblem(http.StatusBadRequest, "The uploaded file is empty").Response()
	}
	if checksum != nil {
		sum := md5.Sum(data)
		if hex.EncodeToString(sum[:]) != *checksum {
			return errChecksumMismatch.problem().Response()
		}
	}
	now := s.now()
	messageID := packageMessageID(data)
	s.mu.Lock()
	defer s.mu.Unlock()
	// Look again: the transfer may have been uploaded, reset or evicted meanwhile.
	if t, p = s.lookup(r); p != nil {
		return p.Response()
	}
	if t.status != StatusInitialized && t.status != StatusUploadStarted {
		return errFileTransferAlreadyUploaded.problem().Response()
	}
	t.payload = data
	t.messageID = messageID
	s.stored += int64(len(data))
	t.setStatus(StatusUploadStarted, now)
	t.setStatus(StatusUploadProcessing, now)
	t.setStatus(StatusPublished, now)
	s.evict(t)
	s.publishedLocked(t)
	s.log.Info("dpo: file transfer published", "fileTransferId", t.id, "size", len(data))
	return altinn.JSON(http.StatusOK, FileTransferID{FileTransferID: t.id})
}

// listQuery is the query of GET /filetransfer.
type listQuery struct {
	resourceID      string
	status          string
	recipientStatus string
	from, to        *time.Time
	ascending       bool
	role            string // "", "Sender" or "Recipient"
}

func parseListQuery(r *http.Request) (listQuery, *Problem) {
	q := r.URL.Query()
	v := validation{}
	var lq listQuery
	lq.resourceID = q.Get("resourceId")
	if lq.resourceID == "" {
		v.add("resourceId", required("resourceId"))
	}
	notValid := func(name, val string) { v.add(name, fmt.Sprintf("The value '%s' is not valid.", val)) }
	if val := q.Get("status"); val != "" {
		var ok bool
		if lq.status, ok = enumValue(fileTransferStatuses, val); !ok {
			notValid("status", val)
		}
	}
	if val := q.Get("recipientStatus"); val != "" {
		var ok bool
		if lq.recipientStatus, ok = enumValue(recipientStatuses, val); !ok {
			notValid("recipientStatus", val)
		}
	}
	for name, dst := range map[string]**time.Time{"from": &lq.from, "to": &lq.to} {
		if val := q.Get(name); val != "" {
			t, err := time.Parse(time.RFC3339Nano, val)
			if err != nil {
				notValid(name, val)
				continue
			}
			*dst = &t
		}
	}
	if val := q.Get("orderAscending"); val != "" {
		switch v := strings.TrimSpace(val); {
		case strings.EqualFold(v, "true"):
			lq.ascending = true
		case !strings.EqualFold(v, "false"):
			notValid("orderAscending", val)
		}
	}
	if val := q.Get("role"); val != "" {
		var ok bool
		if lq.role, ok = enumValue([]string{"Recipient", "Sender"}, val); !ok {
			notValid("role", val)
		}
	}
	return lq, v.problem()
}

// list serves GET /filetransfer: the ids of the caller's transfers on the resource (at most MaxListed,
// newest first unless orderAscending). With recipientStatus only transfers the caller receives with that
// current status; otherwise those it sends or receives (role narrows it). status filters on the
// transfer's status; from and to on the time it entered that status, or on created without status.
func (s *Server) list(r *http.Request, c caller) admin.Response {
	lq, p := parseListQuery(r)
	if p != nil {
		return p.Response()
	}
	if orgnrOf(lq.resourceID) != s.opts.Resource {
		return errResourceNotConfigured.problem().Response()
	}
	type hit struct {
		id  string
		at  time.Time
		seq uint64
	}
	var hits []hit
	s.mu.Lock()
	for _, t := range s.order {
		if lq.status != "" && t.status != lq.status {
			continue
		}
		rc := t.recipient(c.orgnr)
		switch {
		case lq.recipientStatus != "":
			if rc == nil || rc.status != lq.recipientStatus {
				continue
			}
		case lq.role == "Recipient":
			if rc == nil {
				continue
			}
		case lq.role == "Sender":
			if !t.isSender(c.orgnr) {
				continue
			}
		default:
			if rc == nil && !t.isSender(c.orgnr) {
				continue
			}
		}
		at := t.created
		if lq.status != "" {
			at = t.statusTimes[lq.status]
		}
		switch {
		case lq.from != nil && lq.to != nil && (at.Before(*lq.from) || at.After(*lq.to)):
			continue
		case lq.from != nil && lq.to == nil && !at.After(*lq.from):
			continue
		case lq.to != nil && lq.from == nil && !at.Before(*lq.to):
			continue
		}
		hits = append(hits, hit{t.id, at, t.seq})
	}
	s.mu.Unlock()
	slices.SortFunc(hits, func(a, b hit) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	if !lq.ascending {
		slices.Reverse(hits)
	}
	ids := make([]string, 0, min(len(hits), MaxListed))
	for _, h := range hits[:min(len(hits), MaxListed)] {
		ids = append(ids, h.id)
	}
	return altinn.JSON(http.StatusOK, ids)
}

// party finds a transfer the caller sends or receives.
func (s *Server) party(r *http.Request, c caller, view func(*transfer) any) admin.Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, p := s.lookup(r)
	if p != nil {
		return p.Response()
	}
	if !t.isSender(c.orgnr) && t.recipient(c.orgnr) == nil {
		return errNoAccessToResource.problem().Response()
	}
	return altinn.JSON(http.StatusOK, view(t))
}

// overview serves GET /filetransfer/{id}.
func (s *Server) overview(r *http.Request, c caller) admin.Response {
	return s.party(r, c, func(t *transfer) any { return t.overview() })
}

// details serves GET /filetransfer/{id}/details.
func (s *Server) details(r *http.Request, c caller) admin.Response {
	return s.party(r, c, func(t *transfer) any { return t.details() })
}

// download serves GET /filetransfer/{id}/download: the file, and the caller's status DownloadStarted
// (unless it already confirmed).
func (s *Server) download(r *http.Request, c caller) admin.Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, p := s.lookup(r)
	if p != nil {
		return p.Response()
	}
	rc := t.recipient(c.orgnr)
	switch {
	case rc == nil:
		return errNoAccessToResource.problem().Response()
	case t.status != StatusPublished && t.status != StatusAllConfirmedDownloaded:
		return errFileTransferNotAvailable.problem().Response()
	case t.payload == nil:
		return errNoFileUploaded.problem().Response()
	}
	if rc.status != RecipientDownloadConfirmed {
		rc.setStatus(RecipientDownloadStarted, s.now())
	}
	return admin.Response{Status: http.StatusOK, ContentType: "application/octet-stream", Raw: t.payload,
		Header: http.Header{
			"Content-Disposition": {mime.FormatMediaType("attachment", map[string]string{"filename": t.fileName})},
			"Accept-Ranges":       {"bytes"},
		}}
}

// confirm serves POST /filetransfer/{id}/confirmdownload: the caller's status DownloadConfirmed, and the
// transfer AllConfirmedDownloaded once every recipient confirmed. It answers 204 as Altinn does.
func (s *Server) confirm(r *http.Request, c caller) admin.Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, p := s.lookup(r)
	if p != nil {
		return p.Response()
	}
	rc := t.recipient(c.orgnr)
	switch {
	case rc == nil:
		return errNoAccessToResource.problem().Response()
	case t.payload == nil:
		return errNoFileUploaded.problem().Response()
	case t.status != StatusPublished:
		return errFileTransferNotPublished.problem().Response()
	case rc.status == RecipientDownloadConfirmed:
		return admin.NoContent(http.StatusNoContent)
	case rc.status != RecipientDownloadStarted:
		return errConfirmBeforeDownload.problem().Response()
	}
	now := s.now()
	rc.setStatus(RecipientDownloadConfirmed, now)
	if t.allConfirmed() {
		t.setStatus(StatusAllConfirmedDownloaded, now)
	}
	s.log.Info("dpo: download confirmed", "fileTransferId", t.id, "recipient", rc.org, "status", t.status)
	return admin.NoContent(http.StatusNoContent)
}
