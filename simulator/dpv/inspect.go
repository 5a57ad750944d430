package dpv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/admin"
)

// maxBehaviourBody bounds PUT /__admin/behaviour.
const maxBehaviourBody = 64 << 10

// Summary is one correspondence on GET /__admin/messages.
type Summary struct {
	ID               string     `json:"id"`
	Created          time.Time  `json:"created"`
	ResourceID       string     `json:"resourceId"`
	Recipient        string     `json:"recipient"`
	SendersReference string     `json:"sendersReference"`
	IdempotentKey    string     `json:"idempotentKey,omitempty"`
	Status           string     `json:"status"`
	StatusChanged    time.Time  `json:"statusChanged"`
	Title            string     `json:"title"`
	Attachments      int        `json:"attachments"`
	Deleted          *time.Time `json:"deleted,omitempty"`
}

// MessageList is the body of GET /__admin/messages.
type MessageList struct {
	// Correspondences are the kept correspondences, oldest first, filtered by ?recipient=,
	// ?sendersReference=, ?resourceId= and ?status=.
	Correspondences []Summary `json:"correspondences"`
	// Evicted counts the correspondences forgotten to stay within the bounds since the last reset.
	Evicted int64 `json:"evicted"`
	// StoredBytes is the size of the kept attachments.
	StoredBytes int64 `json:"storedBytes"`
}

// MessageView is the body of GET /__admin/messages/{id}: the correspondence, its life cycle, every
// field of its upload, the notification and the attachments in upload order.
type MessageView struct {
	Summary
	Published *time.Time    `json:"published"`
	Read      *time.Time    `json:"read"`
	History   []StatusEvent `json:"history"`
	// Received is when the upload arrived and Caller the organisation of its token.
	Received time.Time `json:"received"`
	Caller   string    `json:"caller,omitempty"`
	// Recipients are all the upload's recipients and Siblings the other correspondences it made.
	Recipients []string `json:"recipients"`
	Siblings   []string `json:"siblings,omitempty"`
	// Correspondence is every correspondence field as parsed, notification included.
	Correspondence Details      `json:"correspondence"`
	Attachments    []Attachment `json:"attachments"`
	// OtherFields are the parts the simulator does not interpret, as sent.
	OtherFields []Field `json:"otherFields,omitempty"`
}

func (c *correspondence) summary() Summary {
	return Summary{ID: c.id, Created: c.created, ResourceID: c.up.details.ResourceID, Recipient: c.recipient,
		SendersReference: c.up.details.SendersReference, IdempotentKey: c.up.key, Status: c.status,
		StatusChanged: c.statusAt, Title: c.up.details.Content.MessageTitle, Attachments: len(c.up.atts), Deleted: c.deleted}
}

func (c *correspondence) view(content bool) MessageView {
	u := c.up
	v := MessageView{Summary: c.summary(), Published: c.published, Read: c.read,
		History: append([]StatusEvent(nil), c.history...), Received: u.received, Caller: u.caller,
		Recipients: append([]string(nil), u.recipients...), Correspondence: u.details,
		Attachments: make([]Attachment, 0, len(u.atts)), OtherFields: u.other}
	for _, o := range u.corrs {
		if o != c {
			v.Siblings = append(v.Siblings, o.id)
		}
	}
	for _, a := range u.atts {
		av := a.view
		if content {
			av.Content = a.content
		}
		v.Attachments = append(v.Attachments, av)
	}
	return v
}

// Correspondences lists the kept correspondences, oldest first.
func (s *Server) Correspondences() []Summary { return s.list(nil).Correspondences }

// Message shows one correspondence as GET /__admin/messages/{id} does (id may be a sendersReference).
func (s *Server) Message(id string, content bool) (MessageView, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.resolveLocked(id)
	if len(cs) == 0 {
		return MessageView{}, false
	}
	return cs[0].view(content), true
}

func (s *Server) list(q map[string][]string) MessageList {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	rcp, ref, res, status := get("recipient"), get("sendersReference"), get("resourceId"), get("status")
	s.mu.Lock()
	defer s.mu.Unlock()
	out := MessageList{Correspondences: []Summary{}, Evicted: s.evicted, StoredBytes: s.stored}
	for _, u := range s.uploads {
		for _, c := range u.corrs {
			if (rcp != "" && !strings.Contains(c.recipient, rcp)) || (ref != "" && u.details.SendersReference != ref) ||
				(res != "" && u.details.ResourceID != res) || (status != "" && !strings.EqualFold(status, c.status)) {
				continue
			}
			out.Correspondences = append(out.Correspondences, c.summary())
		}
	}
	return out
}

// resolveLocked finds the correspondences an admin id names: a correspondence id, else every
// correspondence whose sendersReference or idempotent key it is. Callers hold s.mu.
func (s *Server) resolveLocked(id string) []*correspondence {
	id = strings.TrimSpace(id)
	if u, err := uuid.Parse(id); err == nil {
		if c, ok := s.byID[u.String()]; ok {
			return []*correspondence{c}
		}
	}
	var out []*correspondence
	for _, u := range s.uploads {
		if u.details.SendersReference == id || (u.key != "" && strings.EqualFold(u.key, id)) {
			out = append(out, u.corrs...)
		}
	}
	return out
}

func (s *Server) adminMessages(r *http.Request) admin.Response {
	return admin.JSON(http.StatusOK, s.list(r.URL.Query()))
}

func (s *Server) adminMessage(r *http.Request, id string) admin.Response {
	content, _ := strconv.ParseBool(r.URL.Query().Get("content"))
	v, ok := s.Message(id, content)
	if !ok {
		return admin.ErrorResponse(http.StatusNotFound, fmt.Sprintf("no correspondence %q", id))
	}
	return admin.JSON(http.StatusOK, v)
}

func (s *Server) adminRoutes(r *mux.Router) {
	r.Handle("/messages/{id}/publish", admin.Handler(s.adminAction(actionPublish))).Methods(http.MethodPost).Name(Name + ".admin.message.publish")
	r.Handle("/messages/{id}/read", admin.Handler(s.adminAction(actionRead))).Methods(http.MethodPost).Name(Name + ".admin.message.read")
	r.Handle("/messages/{id}/purge", admin.Handler(s.adminAction(actionPurge))).Methods(http.MethodPost).Name(Name + ".admin.message.purge")
	r.Handle("/messages/{id}", admin.Handler(s.adminAction(actionDelete))).Methods(http.MethodDelete).Name(Name + ".admin.message.delete")
	r.Handle("/messages/{id}/attachments/{index:[0-9]+}", admin.Handler(s.adminAttachment)).Methods(http.MethodGet).Name(Name + ".admin.message.attachment")
}

type action int

const (
	actionPublish action = iota
	actionRead
	actionPurge
	actionDelete
)

// adminAction serves the life-cycle actions: publish, read, purge (?by=recipient|altinn), delete
// (?gone=true answers 410 afterwards instead of 404). The answer lists the correspondences acted on.
func (s *Server) adminAction(a action) admin.Handler {
	return func(r *http.Request) admin.Response {
		id := mux.Vars(r)["id"]
		q := r.URL.Query()
		purgeStatus := StatusPurgedByRecipient
		if a == actionPurge {
			switch strings.ToLower(q.Get("by")) {
			case "", "recipient":
			case "altinn":
				purgeStatus = StatusPurgedByAltinn
			default:
				return admin.ErrorResponse(http.StatusBadRequest, fmt.Sprintf("purge: by=%q is neither recipient nor altinn", q.Get("by")))
			}
		}
		gone, _ := strconv.ParseBool(q.Get("gone"))
		s.mu.Lock()
		defer s.mu.Unlock()
		cs := s.resolveLocked(id)
		if len(cs) == 0 {
			return admin.ErrorResponse(http.StatusNotFound, fmt.Sprintf("no correspondence %q", id))
		}
		now := s.now()
		out := MessageList{Correspondences: []Summary{}, Evicted: s.evicted, StoredBytes: s.stored}
		for _, c := range cs {
			if c.deleted != nil && a != actionDelete {
				return admin.ErrorResponse(http.StatusConflict, fmt.Sprintf("correspondence %s is deleted", c.id))
			}
			switch a {
			case actionPublish:
				if c.purged() {
					return admin.ErrorResponse(http.StatusConflict, fmt.Sprintf("correspondence %s is %s", c.id, c.status))
				}
				s.publishLocked(c)
			case actionRead:
				if !s.readLocked(c) {
					return admin.ErrorResponse(http.StatusConflict, fmt.Sprintf("correspondence %s is %s", c.id, c.status))
				}
			case actionPurge:
				if !c.purged() {
					c.setStatusLocked(purgeStatus, now)
				}
			case actionDelete:
				if c.deleted == nil {
					c.deleted = &now
				}
				c.gone = gone
			}
			out.Correspondences = append(out.Correspondences, c.summary())
		}
		return admin.JSON(http.StatusOK, out)
	}
}

// adminAttachment serves GET /__admin/messages/{id}/attachments/{index}: the bytes with their content type.
func (s *Server) adminAttachment(r *http.Request) admin.Response {
	i, err := strconv.Atoi(mux.Vars(r)["index"])
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.resolveLocked(mux.Vars(r)["id"])
	if len(cs) == 0 || err != nil || i < 0 || i >= len(cs[0].up.atts) {
		return admin.ErrorResponse(http.StatusNotFound, "no such correspondence or attachment")
	}
	a := cs[0].up.atts[i]
	ct := a.view.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	return admin.Text(http.StatusOK, ct, bytes.Clone(a.content))
}

// Behaviour is the body of GET and PUT /__admin/behaviour. PUT changes only the members it names; null
// readAfter stops automatic reading, null reject stops rejecting.
type Behaviour struct {
	// PublishAfter is how long after its upload a correspondence is Published ("0s": at once).
	PublishAfter string `json:"publishAfter"`
	// ReadAfter is how long after publication it is Read; null: only by POST /__admin/messages/{id}/read.
	ReadAfter *string `json:"readAfter"`
	// Reject makes uploads fail with this ProblemDetails.
	Reject *Reject `json:"reject"`
}

// Reject is an upload refusal: status (4xx or 5xx), detail and optional title and code; Times > 0
// rejects only that many uploads (0: every one until cleared). Rejected counts those refused so far.
type Reject struct {
	Status   int    `json:"status"`
	Title    string `json:"title,omitempty"`
	Detail   string `json:"detail,omitempty"`
	Code     string `json:"code,omitempty"`
	Times    int    `json:"times,omitempty"`
	Rejected int    `json:"rejected,omitempty"`
	used     int
}

func (r *Reject) problem() *Problem {
	p := newProblem(r.Status, r.Detail)
	if r.Title != "" {
		p.Title = r.Title
	}
	p.Code = r.Code
	if p.Detail == "" {
		p.Detail = "Rejected by the simulator"
	}
	return p
}

func (s *Server) behaviourViewLocked() Behaviour {
	b := Behaviour{PublishAfter: s.beh.publishAfter.String()}
	if s.beh.readAfter > 0 {
		v := s.beh.readAfter.String()
		b.ReadAfter = &v
	}
	if s.beh.reject != nil {
		rj := *s.beh.reject
		rj.Rejected = rj.used
		b.Reject = &rj
	}
	return b
}

// SetBehaviour changes the delays and the rejection as PUT /__admin/behaviour does (readAfter zero: only
// by admin action; reject nil: none). It applies to later uploads and publications.
func (s *Server) SetBehaviour(publishAfter, readAfter time.Duration, reject *Reject) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beh.publishAfter, s.beh.readAfter = max(publishAfter, 0), max(readAfter, 0)
	s.beh.reject = nil
	if reject != nil {
		rj := *reject
		rj.used, rj.Rejected = 0, 0
		s.beh.reject = &rj
	}
}

func (s *Server) adminBehaviour(r *http.Request) admin.Response {
	if r.Method == http.MethodGet {
		s.mu.Lock()
		defer s.mu.Unlock()
		return admin.JSON(http.StatusOK, s.behaviourViewLocked())
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBehaviourBody+1))
	if err != nil {
		return admin.ErrorResponse(http.StatusBadRequest, "behaviour: the body could not be read: "+err.Error())
	}
	if len(body) > maxBehaviourBody {
		return admin.ErrorResponse(http.StatusRequestEntityTooLarge, fmt.Sprintf("behaviour: the body is larger than %d bytes", maxBehaviourBody))
	}
	var in map[string]json.RawMessage
	if err := json.Unmarshal(body, &in); err != nil || in == nil {
		return admin.ErrorResponse(http.StatusBadRequest, `behaviour: expected an object like {"publishAfter":"0s","readAfter":"2s","reject":null}`)
	}
	s.mu.Lock()
	beh := s.beh
	s.mu.Unlock()
	for k, raw := range in {
		isNull := string(bytes.TrimSpace(raw)) == "null"
		switch k {
		case "publishAfter", "readAfter":
			d := time.Duration(0)
			if !isNull {
				var err error
				if d, err = parseDelay(raw); err != nil {
					return admin.ErrorResponse(http.StatusBadRequest, fmt.Sprintf("behaviour: %s: %v", k, err))
				}
			}
			if k == "publishAfter" {
				beh.publishAfter = d
			} else {
				beh.readAfter = d
			}
		case "reject":
			if isNull {
				beh.reject = nil
				continue
			}
			var rj Reject
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&rj); err != nil {
				return admin.ErrorResponse(http.StatusBadRequest, "behaviour: reject: "+err.Error())
			}
			if rj.Status < 400 || rj.Status > 599 || rj.Times < 0 {
				return admin.ErrorResponse(http.StatusBadRequest, "behaviour: reject.status must be 4xx or 5xx and times not negative")
			}
			rj.Rejected = 0
			beh.reject = &rj
		default:
			return admin.ErrorResponse(http.StatusBadRequest, fmt.Sprintf("behaviour: unknown member %q (publishAfter, readAfter, reject)", k))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beh = beh
	return admin.JSON(http.StatusOK, s.behaviourViewLocked())
}

// parseDelay reads a delay: a Go duration string ("1.5s", "200ms") or a number of seconds.
func parseDelay(raw json.RawMessage) (time.Duration, error) {
	var str string
	if err := json.Unmarshal(raw, &str); err == nil {
		d, err := time.ParseDuration(strings.TrimSpace(str))
		if err != nil || d < 0 {
			return 0, fmt.Errorf("%q is not a non-negative duration like \"2s\"", str)
		}
		return d, nil
	}
	var secs float64
	if err := json.Unmarshal(raw, &secs); err != nil || secs < 0 || secs > 1e6 {
		return 0, fmt.Errorf("%s is not a duration like \"2s\" or a number of seconds", raw)
	}
	return time.Duration(secs * float64(time.Second)), nil
}
