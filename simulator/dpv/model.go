package dpv

import (
	"time"
)

// upload is one POST /correspondence/upload: what was sent, and the correspondences it made (one per
// recipient, as Altinn makes them).
type upload struct {
	seq        uint64
	key        string // idempotentKey, canonical UUID form; empty when none was sent
	received   time.Time
	caller     string
	recipients []string
	details    Details
	atts       []*attachment
	other      []Field
	bytes      int64
	corrs      []*correspondence
}

// attachment is one attachments file part with its metadata.
type attachment struct {
	view    Attachment
	content []byte
}

// correspondence is one recipient's correspondence.
type correspondence struct {
	id        string
	recipient string
	up        *upload
	created   time.Time
	status    string
	statusAt  time.Time
	published *time.Time
	read      *time.Time
	history   []StatusEvent
	deleted   *time.Time // deleted in Altinn (admin action): the API answers 404 or, gone, 410
	gone      bool
}

// setStatusLocked moves c to status at now. Callers hold s.mu.
func (c *correspondence) setStatusLocked(status string, now time.Time) {
	c.status, c.statusAt = status, now
	c.history = append(c.history, StatusEvent{Status: status, StatusChanged: now})
	switch status {
	case StatusPublished:
		if c.published == nil {
			c.published = &now
		}
	case StatusRead:
		if c.read == nil {
			c.read = &now
		}
	}
}

func (c *correspondence) purged() bool {
	return c.status == StatusPurgedByRecipient || c.status == StatusPurgedByAltinn
}

// Details are the correspondence fields of an upload (BaseCorrespondenceExt), as parsed.
type Details struct {
	ResourceID           string            `json:"resourceId"`
	Sender               string            `json:"sender,omitempty"`
	SendersReference     string            `json:"sendersReference"`
	MessageSender        string            `json:"messageSender,omitempty"`
	RequestedPublishTime *time.Time        `json:"requestedPublishTime,omitempty"`
	DueDateTime          *time.Time        `json:"dueDateTime,omitempty"`
	IsConfirmationNeeded bool              `json:"isConfirmationNeeded"`
	IsConfidential       bool              `json:"isConfidential"`
	IgnoreReservation    *bool             `json:"ignoreReservation,omitempty"`
	PropertyList         map[string]string `json:"propertyList,omitempty"`
	Content              Content           `json:"content"`
	Notification         *Notification     `json:"notification,omitempty"`
}

// Content is correspondence.content without the attachments.
type Content struct {
	Language       string `json:"language,omitempty"`
	MessageTitle   string `json:"messageTitle"`
	MessageSummary string `json:"messageSummary,omitempty"`
	MessageBody    string `json:"messageBody"`
}

// Notification is correspondence.notification (InitializeCorrespondenceNotificationExt) as sent.
type Notification struct {
	NotificationTemplate        string     `json:"notificationTemplate"`
	NotificationChannel         string     `json:"notificationChannel,omitempty"`
	EmailSubject                string     `json:"emailSubject,omitempty"`
	EmailBody                   string     `json:"emailBody,omitempty"`
	EmailContentType            string     `json:"emailContentType,omitempty"`
	SmsBody                     string     `json:"smsBody,omitempty"`
	RequestedSendTime           *time.Time `json:"requestedSendTime,omitempty"`
	SendersReference            string     `json:"sendersReference,omitempty"`
	SendReminder                bool       `json:"sendReminder"`
	ReminderEmailSubject        string     `json:"reminderEmailSubject,omitempty"`
	ReminderEmailBody           string     `json:"reminderEmailBody,omitempty"`
	ReminderEmailContentType    string     `json:"reminderEmailContentType,omitempty"`
	ReminderSmsBody             string     `json:"reminderSmsBody,omitempty"`
	ReminderNotificationChannel string     `json:"reminderNotificationChannel,omitempty"`
}

// Attachment is one attachment: its metadata (correspondence.content.attachments[i]) and the file part
// that carried it, in upload order.
type Attachment struct {
	ID               string `json:"id"`
	FileName         string `json:"fileName,omitempty"`
	DisplayName      string `json:"displayName,omitempty"`
	IsEncrypted      bool   `json:"isEncrypted"`
	SendersReference string `json:"sendersReference"`
	Checksum         string `json:"checksum,omitempty"`
	ExpirationInDays *int   `json:"expirationInDays,omitempty"`
	DataLocationType string `json:"dataLocationType"`
	// The file part: its form name, filename and Content-Type, and the bytes' size and SHA-256.
	PartName    string `json:"partName"`
	PartFile    string `json:"partFileName"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	// Content is the bytes (base64 in JSON), on GET /__admin/messages/{id}?content=true only.
	Content []byte `json:"content,omitempty"`
}

// Field is a form part the simulator does not interpret (ASP.NET Core ignores unknown fields), kept for
// inspection; file parts not named attachments show their filename and size instead of a value.
type Field struct {
	Name     string `json:"name"`
	Value    string `json:"value,omitempty"`
	FileName string `json:"fileName,omitempty"`
	Size     int64  `json:"size,omitempty"`
}

// StatusEvent is one step of a correspondence's life cycle.
type StatusEvent struct {
	Status        string    `json:"status"`
	StatusChanged time.Time `json:"statusChanged"`
}
