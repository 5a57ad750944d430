package dpv

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/altinn"
)

// Limits of the form reader (no input takes the simulator down).
const (
	maxTextPart   = 1 << 20 // one text field
	maxTextTotal  = 8 << 20 // all text fields together
	maxParts      = 10_000
	maxIndex      = 1_000 // highest [i] accepted
	maxAttachSize = 250 << 20
)

// InitializeResponse is the body of a successful upload (InitializeCorrespondencesResponseExt).
type InitializeResponse struct {
	Correspondences []InitializedCorrespondence `json:"correspondences"`
	AttachmentIDs   []string                    `json:"attachmentIds"`
}

// InitializedCorrespondence is one recipient's correspondence in InitializeResponse.
type InitializedCorrespondence struct {
	CorrespondenceID string `json:"correspondenceId"`
	Status           string `json:"status"`
	Recipient        string `json:"recipient"`
	Notifications    []any  `json:"notifications"`
}

// form is the text parts by lower-cased name (ASP.NET Core binds form names case-insensitively), each
// with the name as sent and its values in order.
type form map[string]*formField

type formField struct {
	name   string
	values []string
	used   bool
}

// get is the first value of name, marking it used.
func (f form) get(name string) (string, bool) {
	ff, ok := f[strings.ToLower(name)]
	if !ok {
		return "", false
	}
	ff.used = true
	return ff.values[0], true
}

// filePart is one attachments part as read.
type filePart struct {
	name, filename, contentType string
	data                        []byte
}

// indexed matches "prefix[i]rest".
var indexed = regexp.MustCompile(`^([^\[\]]*)\[(\d+)\](.*)$`)

// Recipient identifiers Altinn accepts: organisation and person URNs, or bare numbers.
var (
	recipientPattern = regexp.MustCompile(`^(urn:altinn:organization:identifier-no:\d{9}|urn:altinn:person:identifier-no:\d{11}|(0192:)?\d{9}|\d{11})$`)
	languages        = []string{"nb", "nn", "en"}
	templates        = []string{"CustomMessage", "GenericAltinnMessage"}
	channels         = []string{"Email", "Sms", "EmailPreferred", "SmsPreferred", "EmailAndSms"}
	contentTypes     = []string{"Plain", "Html"}
	locationTypes    = []string{"NewCorrespondenceAttachment", "ExistingCorrespondenceAttachment", "ExistingExternalStorage"}
)

// upload serves POST /correspondence/upload.
func (s *Server) upload(r *http.Request, c caller) admin.Response {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !strings.EqualFold(mt, "multipart/form-data") || params["boundary"] == "" {
		return newProblem(http.StatusUnsupportedMediaType, detailNoFormData).Response()
	}
	r.Body = http.MaxBytesReader(nil, r.Body, s.opts.MaxUploadSize)
	f, files, p := readForm(r)
	if p != nil {
		return p.Response()
	}
	u, p := s.parseUpload(f, files)
	if p != nil {
		return p.Response()
	}
	now := s.now()
	u.received, u.caller = now, c.orgnr

	s.mu.Lock()
	defer s.mu.Unlock()
	if rej := s.beh.reject; rej != nil {
		if rej.Times == 0 || rej.used < rej.Times {
			rej.used++
			return rej.problem().Response()
		}
	}
	if u.key != "" {
		if _, dup := s.byKey[u.key]; dup {
			return newProblem(http.StatusConflict, detailIdempotency).Response()
		}
	}
	resp := InitializeResponse{Correspondences: []InitializedCorrespondence{}, AttachmentIDs: []string{}}
	for _, a := range u.atts {
		resp.AttachmentIDs = append(resp.AttachmentIDs, a.view.ID)
	}
	for _, rcp := range u.recipients {
		co := &correspondence{id: newID(), recipient: rcp, up: u, created: now}
		co.setStatusLocked(StatusInitialized, now)
		u.corrs = append(u.corrs, co)
		resp.Correspondences = append(resp.Correspondences, InitializedCorrespondence{CorrespondenceID: co.id,
			Status: StatusInitialized, Recipient: rcp, Notifications: []any{}})
	}
	s.addLocked(u)
	delay := s.beh.publishAfter
	if rpt := u.details.RequestedPublishTime; rpt != nil && rpt.Sub(now) > delay {
		delay = rpt.Sub(now)
	}
	for _, co := range u.corrs {
		if delay <= 0 {
			s.publishLocked(co)
			continue
		}
		s.scheduleLocked(delay, func() { s.publishLocked(co) })
	}
	s.log.Info("dpv: correspondence uploaded", "sendersReference", u.details.SendersReference,
		"correspondences", len(u.corrs), "attachments", len(u.atts))
	return altinn.JSON(http.StatusOK, resp)
}

// newID is a new correspondence or attachment id (Altinn uses UUID v7).
func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

// readForm reads the multipart body: text parts into the form, attachments parts (and any part with a
// filename) as files.
func readForm(r *http.Request) (form, []filePart, *Problem) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, newProblem(http.StatusBadRequest, "The multipart body could not be read: "+err.Error())
	}
	f := form{}
	var files []filePart
	var text int64
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, bodyProblem(err)
		}
		if n >= maxParts {
			return nil, nil, newProblem(http.StatusBadRequest, fmt.Sprintf("The form has more than %d parts", maxParts))
		}
		name, filename := part.FormName(), part.FileName()
		if name == "" {
			_ = part.Close()
			continue // ASP.NET Core skips parts without a name
		}
		if filename != "" || strings.EqualFold(name, "attachments") {
			data, err := io.ReadAll(part)
			if err != nil {
				return nil, nil, bodyProblem(err)
			}
			files = append(files, filePart{name: name, filename: filename, contentType: part.Header.Get("Content-Type"), data: data})
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, maxTextPart+1))
		if err != nil {
			return nil, nil, bodyProblem(err)
		}
		if len(b) > maxTextPart {
			return nil, nil, altinn.ValidationProblem(map[string][]string{name: {fmt.Sprintf("The value is longer than %d bytes.", maxTextPart)}})
		}
		if text += int64(len(b)); text > maxTextTotal {
			return nil, nil, newProblem(http.StatusBadRequest, fmt.Sprintf("The form's text fields are larger than %d bytes", maxTextTotal))
		}
		key := strings.ToLower(name)
		if ff, ok := f[key]; ok {
			ff.values = append(ff.values, string(b))
		} else {
			f[key] = &formField{name: name, values: []string{string(b)}}
		}
	}
	return f, files, nil
}

// bodyProblem is the answer to a body that could not be read: 413 past MaxUploadSize, else 400.
func bodyProblem(err error) *Problem {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return newProblem(http.StatusRequestEntityTooLarge, fmt.Sprintf("%s (limit %d bytes)", detailUploadTooLarge, tooLarge.Limit))
	}
	return newProblem(http.StatusBadRequest, "The multipart body could not be read: "+err.Error())
}

// parser reads typed values out of the form, collecting validation errors under the names as sent.
type parser struct {
	f    form
	errs validation
}

func (p *parser) str(name string) string {
	v, _ := p.f.get(name)
	return v
}

// required is a non-blank value; a missing one is "The X field is required." as ASP.NET Core says it.
func (p *parser) required(name string) string {
	v, ok := p.f.get(name)
	if !ok || strings.TrimSpace(v) == "" {
		p.errs.add(name, fmt.Sprintf("The %s field is required.", name))
	}
	return v
}

func (p *parser) boolean(name string) (bool, bool) {
	v, ok := p.f.get(name)
	if !ok {
		return false, false
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	p.errs.add(name, fmt.Sprintf("The value '%s' is not valid for %s.", v, name))
	return false, false
}

func (p *parser) date(name string) *time.Time {
	v, ok := p.f.get(name)
	if !ok || strings.TrimSpace(v) == "" {
		return nil
	}
	t, err := parseTime(strings.TrimSpace(v))
	if err != nil {
		p.errs.add(name, fmt.Sprintf("The value '%s' is not valid for %s.", v, name))
		return nil
	}
	return &t
}

// parseTime reads ISO-8601 timestamps; without an offset they are UTC.
func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not an ISO-8601 time: %q", v)
}

// enum is a value of one of allowed (case-insensitive, answered in the allowed spelling).
func (p *parser) enum(name string, allowed []string) string {
	v, ok := p.f.get(name)
	if !ok || v == "" {
		return ""
	}
	for _, a := range allowed {
		if strings.EqualFold(strings.TrimSpace(v), a) {
			return a
		}
	}
	p.errs.add(name, fmt.Sprintf("The value '%s' is not valid for %s (one of %s).", v, name, strings.Join(allowed, ", ")))
	return ""
}

// list collects "prefix[i]…" fields by index: index → (rest lower-cased → original name). Indexes must
// run 0, 1, … without gaps.
func (p *parser) list(prefix string) []map[string]string {
	byIndex := map[int]map[string]string{}
	for key, ff := range p.f {
		m := indexed.FindStringSubmatch(key)
		if m == nil || m[1] != prefix {
			continue
		}
		i, err := strconv.Atoi(m[2])
		if err != nil || i > maxIndex {
			p.errs.add(ff.name, fmt.Sprintf("The index is larger than %d.", maxIndex))
			continue
		}
		if byIndex[i] == nil {
			byIndex[i] = map[string]string{}
		}
		byIndex[i][m[3]] = ff.name
	}
	out := make([]map[string]string, len(byIndex))
	for i, m := range byIndex {
		if i >= len(out) {
			names := make([]string, 0, len(m))
			for _, n := range m {
				names = append(names, n)
			}
			sort.Strings(names)
			p.errs.add(names[0], fmt.Sprintf("The indexes of %s must run from 0 without gaps.", prefix))
			continue
		}
		out[i] = m
	}
	for i := range out {
		if out[i] == nil {
			out[i] = map[string]string{}
		}
	}
	return out
}

// parseUpload reads and validates an upload (InitializeCorrespondencesExt plus the files).
func (s *Server) parseUpload(f form, files []filePart) (*upload, *Problem) {
	p := &parser{f: f, errs: validation{}}
	u := &upload{}

	// Recipients: "recipients" repeated, or recipients[i].
	if ff, ok := f["recipients"]; ok {
		ff.used = true
		u.recipients = append(u.recipients, ff.values...)
	}
	for _, m := range p.list("recipients") {
		name := m[""]
		if name == "" {
			continue
		}
		v, _ := f.get(name)
		u.recipients = append(u.recipients, v)
	}
	if len(u.recipients) == 0 {
		p.errs.add("recipients", "The Recipients field is required.")
	}
	seen := map[string]bool{}
	for i, rc := range u.recipients {
		rc = strings.TrimSpace(rc)
		u.recipients[i] = rc
		switch {
		case !recipientPattern.MatchString(rc):
			p.errs.add(fmt.Sprintf("recipients[%d]", i), fmt.Sprintf("'%s' is not an organisation number or a national identity number, or their Altinn URN.", rc))
		case seen[rc]:
			p.errs.add(fmt.Sprintf("recipients[%d]", i), "Duplicate recipients are not allowed.")
		}
		seen[rc] = true
	}

	// idempotentKey (Altinn's top-level field; correspondence.idempotentKey is accepted too).
	key, ok := f.get("idempotentKey")
	keyName := "idempotentKey"
	if !ok {
		key, ok = f.get("correspondence.idempotentKey")
		keyName = "correspondence.idempotentKey"
	}
	if ok && strings.TrimSpace(key) != "" {
		if id, err := uuid.Parse(strings.TrimSpace(key)); err != nil {
			p.errs.add(keyName, fmt.Sprintf("The value '%s' is not valid for %s.", key, keyName))
		} else {
			u.key = id.String()
		}
	}

	d := &u.details
	d.ResourceID = strings.TrimSpace(p.required("correspondence.resourceId"))
	if d.ResourceID != "" && !slices.Contains(s.opts.Resources, d.ResourceID) {
		p.errs.add("correspondence.resourceId", fmt.Sprintf("%s: '%s'.", detailResourceUnknown, d.ResourceID))
	}
	d.Sender = p.str("correspondence.sender")
	d.SendersReference = p.required("correspondence.sendersReference")
	d.MessageSender = p.str("correspondence.messageSender")
	d.RequestedPublishTime = p.date("correspondence.requestedPublishTime")
	d.DueDateTime = p.date("correspondence.dueDateTime")
	if d.DueDateTime != nil && d.RequestedPublishTime != nil && d.DueDateTime.Before(*d.RequestedPublishTime) {
		p.errs.add("correspondence.dueDateTime", "DueDateTime cannot be prior to RequestedPublishTime.")
	}
	d.IsConfirmationNeeded, _ = p.boolean("correspondence.isConfirmationNeeded")
	d.IsConfidential, _ = p.boolean("correspondence.isConfidential")
	if v, ok := p.boolean("correspondence.ignoreReservation"); ok {
		d.IgnoreReservation = &v
	}
	for key, ff := range f {
		var prop string
		switch {
		case strings.HasPrefix(key, "correspondence.propertylist."):
			prop = ff.name[len("correspondence.propertylist."):]
		case strings.HasPrefix(key, "correspondence.propertylist[") && strings.HasSuffix(key, "]"):
			prop = ff.name[len("correspondence.propertylist[") : len(ff.name)-1]
		default:
			continue
		}
		ff.used = true
		if d.PropertyList == nil {
			d.PropertyList = map[string]string{}
		}
		d.PropertyList[prop] = ff.values[0]
	}

	d.Content.Language = p.str("correspondence.content.language")
	if l := d.Content.Language; l != "" && !slices.Contains(languages, strings.ToLower(l)) {
		p.errs.add("correspondence.content.language", fmt.Sprintf("The language '%s' is not supported (one of %s).", l, strings.Join(languages, ", ")))
	}
	d.Content.MessageTitle = p.required("correspondence.content.messageTitle")
	d.Content.MessageSummary = p.str("correspondence.content.messageSummary")
	d.Content.MessageBody = p.required("correspondence.content.messageBody")

	d.Notification = parseNotification(p, f)

	// Attachments: metadata correspondence.content.attachments[i].*, files in the same order.
	metas := p.list("correspondence.content.attachments")
	var atts []filePart
	for _, fp := range files {
		if strings.EqualFold(fp.name, "attachments") {
			atts = append(atts, fp)
			continue
		}
		u.other = append(u.other, Field{Name: fp.name, FileName: fp.filename, Size: int64(len(fp.data))})
	}
	if len(metas) != len(atts) {
		p.errs.add("correspondence.content.attachments", fmt.Sprintf("%d attachments are described but %d files were uploaded as attachments.", len(metas), len(atts)))
	}
	var total int64
	for i, m := range metas {
		field := func(f string) string { return fmt.Sprintf("correspondence.content.attachments[%d].%s", i, f) }
		name := func(f string) string {
			if n, ok := m["."+strings.ToLower(f)]; ok {
				return n
			}
			return field(f)
		}
		a := &attachment{view: Attachment{ID: newID(), DataLocationType: "NewCorrespondenceAttachment"}}
		a.view.FileName = p.str(name("fileName"))
		a.view.DisplayName = p.str(name("displayName"))
		a.view.IsEncrypted, _ = p.boolean(name("isEncrypted"))
		a.view.SendersReference = p.required(name("sendersReference"))
		a.view.Checksum = p.str(name("checksum"))
		if v := p.str(name("expirationInDays")); v != "" {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err != nil || n < 0 {
				p.errs.add(name("expirationInDays"), fmt.Sprintf("The value '%s' is not valid for expirationInDays.", v))
			} else {
				a.view.ExpirationInDays = &n
			}
		}
		if lt := p.enum(name("dataLocationType"), locationTypes); lt != "" && lt != "NewCorrespondenceAttachment" {
			p.errs.add(name("dataLocationType"), "Only NewCorrespondenceAttachment is simulated: existing attachments are unknown here.")
		}
		if i < len(atts) {
			fp := atts[i]
			if a.view.FileName != "" && fp.filename != "" && a.view.FileName != fp.filename {
				p.errs.add(name("fileName"), fmt.Sprintf("The file name '%s' does not match the uploaded file '%s' at the same position.", a.view.FileName, fp.filename))
			}
			sum := sha256.Sum256(fp.data)
			a.view.PartName, a.view.PartFile, a.view.ContentType = fp.name, fp.filename, fp.contentType
			a.view.Size, a.view.SHA256 = int64(len(fp.data)), hex.EncodeToString(sum[:])
			a.content = fp.data
			total += a.view.Size
		}
		u.atts = append(u.atts, a)
	}
	if total > maxAttachSize {
		p.errs.add("attachments", fmt.Sprintf("The attachments are %d bytes together; at most %d are allowed.", total, maxAttachSize))
	}
	u.bytes = total

	if pr := p.errs.problem(); pr != nil {
		return nil, pr
	}
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if ff := f[k]; !ff.used {
			for _, v := range ff.values {
				u.other = append(u.other, Field{Name: ff.name, Value: v})
			}
		}
	}
	return u, nil
}

// parseNotification reads correspondence.notification.*; nil when none of its fields was sent.
func parseNotification(p *parser, f form) *Notification {
	const pre = "correspondence.notification."
	sent := false
	for k := range f {
		if strings.HasPrefix(k, pre) {
			sent = true
			break
		}
	}
	if !sent {
		return nil
	}
	n := &Notification{}
	n.NotificationTemplate = p.enum(pre+"notificationTemplate", templates)
	if _, ok := f.get(pre + "notificationTemplate"); !ok {
		p.errs.add(pre+"notificationTemplate", "The NotificationTemplate field is required.")
	}
	n.NotificationChannel = p.enum(pre+"notificationChannel", channels)
	n.EmailSubject = p.str(pre + "emailSubject")
	n.EmailBody = p.str(pre + "emailBody")
	n.EmailContentType = p.enum(pre+"emailContentType", contentTypes)
	n.SmsBody = p.str(pre + "smsBody")
	n.RequestedSendTime = p.date(pre + "requestedSendTime")
	n.SendersReference = p.str(pre + "sendersReference")
	n.SendReminder, _ = p.boolean(pre + "sendReminder")
	n.ReminderEmailSubject = p.str(pre + "reminderEmailSubject")
	n.ReminderEmailBody = p.str(pre + "reminderEmailBody")
	n.ReminderEmailContentType = p.enum(pre+"reminderEmailContentType", contentTypes)
	n.ReminderSmsBody = p.str(pre + "reminderSmsBody")
	n.ReminderNotificationChannel = p.enum(pre+"reminderNotificationChannel", channels)
	if n.NotificationTemplate == "CustomMessage" {
		ch := n.NotificationChannel
		if ch == "" {
			ch = "Email"
		}
		if strings.Contains(ch, "Email") && (strings.TrimSpace(n.EmailSubject) == "" || strings.TrimSpace(n.EmailBody) == "") {
			p.errs.add(pre+"emailBody", "Email subject and body must be given for a custom e-mail notification.")
		}
		if strings.Contains(ch, "Sms") && strings.TrimSpace(n.SmsBody) == "" {
			p.errs.add(pre+"smsBody", "The SMS body must be given for a custom SMS notification.")
		}
	}
	return n
}
