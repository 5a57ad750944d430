package dpo

import (
	"slices"
	"strings"
	"time"
)

// File transfer statuses (FileTransferStatusExt).
const (
	StatusInitialized            = "Initialized"
	StatusUploadStarted          = "UploadStarted"
	StatusUploadProcessing       = "UploadProcessing"
	StatusPublished              = "Published"
	StatusCancelled              = "Cancelled"
	StatusAllConfirmedDownloaded = "AllConfirmedDownloaded"
	StatusPurged                 = "Purged"
	StatusFailed                 = "Failed"
)

// Recipient statuses (RecipientFileTransferStatusExt).
const (
	RecipientInitialized       = "Initialized"
	RecipientDownloadStarted   = "DownloadStarted"
	RecipientDownloadConfirmed = "DownloadConfirmed"
)

// fileTransferStatuses and recipientStatuses are the enum values in Altinn's order.
var (
	fileTransferStatuses = []string{StatusInitialized, StatusUploadStarted, StatusUploadProcessing, StatusPublished,
		StatusCancelled, StatusAllConfirmedDownloaded, StatusPurged, StatusFailed}
	recipientStatuses = []string{RecipientInitialized, RecipientDownloadStarted, RecipientDownloadConfirmed}
)

// statusTexts and recipientStatusTexts are Altinn's descriptions of the statuses.
var (
	statusTexts = map[string]string{
		StatusInitialized: "Ready for upload", StatusUploadStarted: "Upload started",
		StatusUploadProcessing: "Processing upload", StatusPublished: "Ready for download",
		StatusCancelled: "FileTransfer cancelled", StatusAllConfirmedDownloaded: "All downloaded",
		StatusPurged: "FileTransfer has been purged", StatusFailed: "Upload failed",
	}
	recipientStatusTexts = map[string]string{
		RecipientInitialized:       "Initialized",
		RecipientDownloadStarted:   "Recipient has attempted to download fileTransfer",
		RecipientDownloadConfirmed: "Recipient has downloaded fileTransfer",
	}
)

// enumValue matches s case-insensitively against values, as ASP.NET Core binds an enum from a query.
func enumValue(values []string, s string) (string, bool) {
	for _, v := range values {
		if strings.EqualFold(v, s) {
			return v, true
		}
	}
	return "", false
}

// transfer is one file transfer. It is guarded by the server's mutex; payload never changes once set.
type transfer struct {
	seq          uint64
	id           string
	resourceID   string
	fileName     string
	sendersRef   *string
	sender       string // "0192:<orgnr>"
	recipients   []*recipient
	propertyList map[string]string
	checksum     *string
	useVirusScan bool
	created      time.Time
	expiration   time.Time
	status       string
	statusAt     time.Time
	statusTimes  map[string]time.Time // when the transfer last entered each status
	published    *time.Time
	history      []statusEvent
	payload      []byte
	messageID    string // the SBD's messageId, when the package is an eFormidling sbd.zip
}

type recipient struct {
	org     string // "0192:<orgnr>"
	status  string
	changed time.Time
	history []statusEvent
}

type statusEvent struct {
	status string
	at     time.Time
}

func (t *transfer) setStatus(status string, at time.Time) {
	t.status, t.statusAt = status, at
	t.statusTimes[status] = at
	t.history = append(t.history, statusEvent{status, at})
	if status == StatusPublished {
		p := at
		t.published = &p
	}
}

func (rc *recipient) setStatus(status string, at time.Time) {
	rc.status, rc.changed = status, at
	rc.history = append(rc.history, statusEvent{status, at})
}

// recipient returns the recipient state of orgnr, nil when orgnr is not a recipient.
func (t *transfer) recipient(orgnr string) *recipient {
	for _, rc := range t.recipients {
		if orgnrOf(rc.org) == orgnr {
			return rc
		}
	}
	return nil
}

func (t *transfer) isSender(orgnr string) bool { return orgnrOf(t.sender) == orgnr }

func (t *transfer) allConfirmed() bool {
	return !slices.ContainsFunc(t.recipients, func(rc *recipient) bool { return rc.status != RecipientDownloadConfirmed })
}

// orgnrOf is the part after the last colon ("0192:910077473" → "910077473"), as Altinn's WithoutPrefix.
func orgnrOf(id string) string {
	if i := strings.LastIndexByte(id, ':'); i >= 0 {
		return id[i+1:]
	}
	return id
}

// withPrefix is "0192:<orgnr>" for any form Altinn accepts ("0192:…", "urn:altinn:organization:identifier-no:…").
func withPrefix(id string) string { return "0192:" + orgnrOf(id) }

// Timestamp layout of the broker's DateTimeOffset values: UTC with an explicit +00:00 offset and up to
// microseconds, as Npgsql and System.Text.Json write them.
const timeLayout = "2006-01-02T15:04:05.999999-07:00"

func stamp(t time.Time) string { return t.UTC().Format(timeLayout) }

// FileTransferOverview is the body of GET /filetransfer/{id} (FileTransferOverviewExt), fields in
// Altinn's order.
type FileTransferOverview struct {
	FileTransferID               string            `json:"fileTransferId"`
	ResourceID                   string            `json:"resourceId"`
	FileName                     string            `json:"fileName"`
	SendersFileTransferReference *string           `json:"sendersFileTransferReference"`
	Checksum                     *string           `json:"checksum"`
	UseVirusScan                 bool              `json:"useVirusScan"`
	FileTransferSize             int64             `json:"fileTransferSize"`
	FileTransferStatus           string            `json:"fileTransferStatus"`
	FileTransferStatusText       string            `json:"fileTransferStatusText"`
	FileTransferStatusChanged    string            `json:"fileTransferStatusChanged"`
	Created                      string            `json:"created"`
	ExpirationTime               string            `json:"expirationTime"`
	Sender                       string            `json:"sender"`
	Recipients                   []RecipientStatus `json:"recipients"`
	PropertyList                 map[string]string `json:"propertyList"`
	Published                    *string           `json:"published"`
}

// RecipientStatus is one recipient of an overview (RecipientFileTransferStatusDetailsExt).
type RecipientStatus struct {
	Recipient                                 string `json:"recipient"`
	CurrentRecipientFileTransferStatusCode    string `json:"currentRecipientFileTransferStatusCode"`
	CurrentRecipientFileTransferStatusText    string `json:"currentRecipientFileTransferStatusText"`
	CurrentRecipientFileTransferStatusChanged string `json:"currentRecipientFileTransferStatusChanged"`
}

// FileTransferDetails is the body of GET /filetransfer/{id}/details (FileTransferStatusDetailsExt): the
// overview and the status histories.
type FileTransferDetails struct {
	FileTransferOverview
	FileTransferStatusHistory          []FileTransferStatusEvent          `json:"fileTransferStatusHistory"`
	RecipientFileTransferStatusHistory []RecipientFileTransferStatusEvent `json:"recipientFileTransferStatusHistory"`
}

// FileTransferStatusEvent is one entry of fileTransferStatusHistory.
type FileTransferStatusEvent struct {
	FileTransferStatus        string `json:"fileTransferStatus"`
	FileTransferStatusText    string `json:"fileTransferStatusText"`
	FileTransferStatusChanged string `json:"fileTransferStatusChanged"`
}

// RecipientFileTransferStatusEvent is one entry of recipientFileTransferStatusHistory.
type RecipientFileTransferStatusEvent struct {
	Recipient                          string `json:"recipient"`
	RecipientFileTransferStatusCode    string `json:"recipientFileTransferStatusCode"`
	RecipientFileTransferStatusText    string `json:"recipientFileTransferStatusText"`
	RecipientFileTransferStatusChanged string `json:"recipientFileTransferStatusChanged"`
}

func (t *transfer) overview() FileTransferOverview {
	o := FileTransferOverview{
		FileTransferID: t.id, ResourceID: t.resourceID, FileName: t.fileName,
		SendersFileTransferReference: t.sendersRef, Checksum: t.checksum, UseVirusScan: t.useVirusScan,
		FileTransferSize: int64(len(t.payload)), FileTransferStatus: t.status,
		FileTransferStatusText: statusTexts[t.status], FileTransferStatusChanged: stamp(t.statusAt),
		Created: stamp(t.created), ExpirationTime: stamp(t.expiration), Sender: t.sender,
		Recipients: make([]RecipientStatus, 0, len(t.recipients)), PropertyList: t.propertyList,
	}
	if o.PropertyList == nil {
		o.PropertyList = map[string]string{}
	}
	for _, rc := range t.recipients {
		o.Recipients = append(o.Recipients, RecipientStatus{Recipient: rc.org, CurrentRecipientFileTransferStatusCode: rc.status,
			CurrentRecipientFileTransferStatusText:    recipientStatusTexts[rc.status],
			CurrentRecipientFileTransferStatusChanged: stamp(rc.changed)})
	}
	if t.published != nil {
		p := stamp(*t.published)
		o.Published = &p
	}
	return o
}

func (t *transfer) details() FileTransferDetails {
	d := FileTransferDetails{FileTransferOverview: t.overview(),
		FileTransferStatusHistory:          make([]FileTransferStatusEvent, 0, len(t.history)),
		RecipientFileTransferStatusHistory: []RecipientFileTransferStatusEvent{}}
	for _, e := range t.history {
		d.FileTransferStatusHistory = append(d.FileTransferStatusHistory, FileTransferStatusEvent{
			FileTransferStatus: e.status, FileTransferStatusText: statusTexts[e.status], FileTransferStatusChanged: stamp(e.at)})
	}
	type timed struct {
		at time.Time
		ev RecipientFileTransferStatusEvent
	}
	var events []timed
	for _, rc := range t.recipients {
		for _, e := range rc.history {
			events = append(events, timed{e.at, RecipientFileTransferStatusEvent{
				Recipient: rc.org, RecipientFileTransferStatusCode: e.status,
				RecipientFileTransferStatusText: recipientStatusTexts[e.status], RecipientFileTransferStatusChanged: stamp(e.at)}})
		}
	}
	slices.SortStableFunc(events, func(a, b timed) int { return a.at.Compare(b.at) })
	for _, e := range events {
		d.RecipientFileTransferStatusHistory = append(d.RecipientFileTransferStatusHistory, e.ev)
	}
	return d
}
