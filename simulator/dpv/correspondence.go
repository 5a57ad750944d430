package dpv

import (
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/efm-harness/efm-harness/simulator/admin"
	"github.com/efm-harness/efm-harness/simulator/altinn"
)

// Overview is the body of GET /correspondence/{id} (CorrespondenceOverviewExt: the fields the integration
// point requires and reads, and the content).
type Overview struct {
	CorrespondenceID     string            `json:"correspondenceId"`
	ResourceID           string            `json:"resourceId"`
	Sender               string            `json:"sender,omitempty"`
	SendersReference     string            `json:"sendersReference"`
	MessageSender        string            `json:"messageSender,omitempty"`
	Recipient            string            `json:"recipient"`
	Content              OverviewContent   `json:"content"`
	RequestedPublishTime *time.Time        `json:"requestedPublishTime,omitempty"`
	DueDateTime          *time.Time        `json:"dueDateTime,omitempty"`
	PropertyList         map[string]string `json:"propertyList,omitempty"`
	IsConfirmationNeeded bool              `json:"isConfirmationNeeded"`
	IsConfidential       bool              `json:"isConfidential"`
	IgnoreReservation    *bool             `json:"ignoreReservation,omitempty"`
	Created              time.Time         `json:"created"`
	Status               string            `json:"status"`
	StatusText           string            `json:"statusText"`
	StatusChanged        time.Time         `json:"statusChanged"`
	Notifications        []any             `json:"notifications"`
	Published            *time.Time        `json:"published"`
	Read                 *time.Time        `json:"read"`
}

// OverviewContent is the overview's content (CorrespondenceContentExt).
type OverviewContent struct {
	Language       string               `json:"language,omitempty"`
	MessageTitle   string               `json:"messageTitle"`
	MessageSummary string               `json:"messageSummary,omitempty"`
	MessageBody    string               `json:"messageBody"`
	Attachments    []OverviewAttachment `json:"attachments"`
}

// OverviewAttachment is an attachment on the overview (CorrespondenceAttachmentExt).
type OverviewAttachment struct {
	ID               string    `json:"id"`
	FileName         string    `json:"fileName,omitempty"`
	DisplayName      string    `json:"displayName,omitempty"`
	IsEncrypted      bool      `json:"isEncrypted"`
	SendersReference string    `json:"sendersReference"`
	DataLocationType string    `json:"dataLocationType"`
	Created          time.Time `json:"created"`
	Status           string    `json:"status"`
	StatusChanged    time.Time `json:"statusChanged"`
	DataType         string    `json:"dataType,omitempty"`
}

// IDList is the body of GET /correspondence (CorrespondencesExt).
type IDList struct {
	IDs []string `json:"ids"`
}

// statusTexts are the status texts of the overview.
var statusTexts = map[string]string{
	StatusInitialized:       "Initialized",
	StatusPublished:         "Published",
	StatusRead:              "Read by recipient",
	StatusPurgedByRecipient: "Purged by recipient",
	StatusPurgedByAltinn:    "Purged by Altinn",
}

func (c *correspondence) overview() Overview {
	u := c.up
	d := u.details
	o := Overview{CorrespondenceID: c.id, ResourceID: d.ResourceID, Sender: d.Sender, SendersReference: d.SendersReference,
		MessageSender: d.MessageSender, Recipient: c.recipient, RequestedPublishTime: d.RequestedPublishTime,
		DueDateTime: d.DueDateTime, PropertyList: d.PropertyList, IsConfirmationNeeded: d.IsConfirmationNeeded,
		IsConfidential: d.IsConfidential, IgnoreReservation: d.IgnoreReservation, Created: c.created,
		Status: c.status, StatusText: statusTexts[c.status], StatusChanged: c.statusAt, Notifications: []any{},
		Published: c.published, Read: c.read,
		Content: OverviewContent{Language: d.Content.Language, MessageTitle: d.Content.MessageTitle,
			MessageSummary: d.Content.MessageSummary, MessageBody: d.Content.MessageBody, Attachments: []OverviewAttachment{}}}
	for _, a := range u.atts {
		o.Content.Attachments = append(o.Content.Attachments, OverviewAttachment{ID: a.view.ID, FileName: a.view.FileName,
			DisplayName: a.view.DisplayName, IsEncrypted: a.view.IsEncrypted, SendersReference: a.view.SendersReference,
			DataLocationType: "AltinnCorrespondenceAttachment", Created: u.received, Status: "Published",
			StatusChanged: u.received, DataType: a.view.ContentType})
	}
	return o
}

// visibleTo reports whether the caller may see c: the organisation that uploaded it (any caller when
// either is unknown).
func (c *correspondence) visibleTo(cl caller) bool {
	return cl.orgnr == "" || c.up.caller == "" || cl.orgnr == c.up.caller
}

// overview serves GET /correspondence/{id}: 404 unknown (or deleted), 410 deleted with gone.
func (s *Server) overview(r *http.Request, cl caller) admin.Response {
	id := mux.Vars(r)[idVar]
	if u, err := uuid.Parse(id); err == nil {
		id = u.String()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byID[id]
	if !ok || !c.visibleTo(cl) {
		return newProblem(http.StatusNotFound, detailNotFound).Response()
	}
	if c.deleted != nil {
		if c.gone {
			return newProblem(http.StatusGone, "The correspondence has been deleted").Response()
		}
		return newProblem(http.StatusNotFound, detailNotFound).Response()
	}
	return altinn.JSON(http.StatusOK, c.overview())
}

// search serves GET /correspondence?sendersReference=&resourceId=&status=: the caller's correspondences,
// oldest first; deleted ones are not listed.
func (s *Server) search(r *http.Request, cl caller) admin.Response {
	q := r.URL.Query()
	ref, res, status := q.Get("sendersReference"), q.Get("resourceId"), q.Get("status")
	s.mu.Lock()
	defer s.mu.Unlock()
	out := IDList{IDs: []string{}}
	for _, u := range s.uploads {
		if (ref != "" && u.details.SendersReference != ref) || (res != "" && u.details.ResourceID != res) {
			continue
		}
		for _, c := range u.corrs {
			if c.deleted != nil || !c.visibleTo(cl) || (status != "" && !strings.EqualFold(status, c.status)) {
				continue
			}
			out.IDs = append(out.IDs, c.id)
		}
	}
	return altinn.JSON(http.StatusOK, out)
}

// publishLocked publishes an Initialized correspondence, and schedules its reading when ReadAfter is set.
// Callers hold s.mu.
func (s *Server) publishLocked(c *correspondence) {
	if c.status != StatusInitialized || c.deleted != nil {
		return
	}
	c.setStatusLocked(StatusPublished, s.now())
	if d := s.beh.readAfter; d > 0 {
		s.scheduleLocked(d, func() { s.readLocked(c) })
	}
}

// readLocked reads a Published correspondence (publishing it first if need be). Callers hold s.mu.
func (s *Server) readLocked(c *correspondence) bool {
	if c.deleted != nil || c.purged() {
		return false
	}
	if c.status == StatusInitialized {
		c.setStatusLocked(StatusPublished, s.now())
	}
	if c.status == StatusPublished {
		c.setStatusLocked(StatusRead, s.now())
	}
	return true
}
