package dpo

import (
	"fmt"
	"net/http"

	"github.com/efm-harness/efm-harness/simulator/altinn"
)

// ContentTypeProblem is the media type of every error body, as ASP.NET Core writes ProblemDetails.
const ContentTypeProblem = altinn.ContentTypeProblem

// Problem is an RFC 7807 ProblemDetails body as ASP.NET Core writes it (see altinn.Problem).
type Problem = altinn.Problem

// newProblem is a problem with the type and title ASP.NET Core gives status.
func newProblem(status int, detail string) *Problem { return altinn.NewProblem(status, detail) }

// altinnError is one of the Altinn Broker's errors (Altinn.Broker.Application.Errors): its number,
// status and message.
type altinnError struct {
	code   int
	status int
	detail string
}

func (e altinnError) problem() *Problem {
	p := newProblem(e.status, e.detail)
	p.Code = fmt.Sprintf("BRO-%05d", e.code)
	return p
}

// The Altinn Broker errors the simulator answers with, with Altinn's codes, statuses and texts.
var (
	errFileTransferNotFound        = altinnError{1, http.StatusNotFound, "The requested file transfer was not found"}
	errNoFileUploaded              = altinnError{3, http.StatusBadRequest, "No file uploaded yet"}
	errFileTransferAlreadyUploaded = altinnError{4, http.StatusConflict, "A file transfer has already been, or attempted to be, created. Create a new file transfer resource to try again."}
	errNoAccessToResource          = altinnError{6, http.StatusUnauthorized, "You must use a bearer token that represents a system user with access to the resource in the Resource Rights Registry"}
	errFileTransferNotAvailable    = altinnError{7, http.StatusForbidden, "The requested file transfer's file is not ready for download. See file transfer status."}
	errChecksumMismatch            = altinnError{9, http.StatusBadRequest, "The checksum of uploaded file did not match the checksum specified in initialize call."}
	errFileTransferNotPublished    = altinnError{10, http.StatusBadRequest, "A file transfer can only be confirmed to be downloaded when it is published. See file transfer status."}
	errFileSizeTooBig              = altinnError{16, http.StatusBadRequest, "File size exceeds maximum"}
	errConfirmBeforeDownload       = altinnError{19, http.StatusBadRequest, "Cannot confirm before the files have been downloaded"}
	errResourceNotConfigured       = altinnError{25, http.StatusBadRequest, "The resource has not been configured."}
)

// validation collects model validation errors.
type validation map[string][]string

func (v validation) add(field, msg string) { v[field] = append(v[field], msg) }

func (v validation) problem() *Problem {
	if len(v) == 0 {
		return nil
	}
	return altinn.ValidationProblem(v)
}
