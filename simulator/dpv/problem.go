package dpv

import (
	"github.com/efm-harness/efm-harness/simulator/altinn"
)

// ContentTypeProblem is the media type of every error body, as ASP.NET Core writes ProblemDetails.
const ContentTypeProblem = altinn.ContentTypeProblem

// Problem is an RFC 7807 ProblemDetails body as ASP.NET Core writes it (see altinn.Problem).
type Problem = altinn.Problem

// newProblem is a problem with the type and title ASP.NET Core gives status.
func newProblem(status int, detail string) *Problem { return altinn.NewProblem(status, detail) }

// The Altinn Correspondence refusals the simulator answers with (texts after Altinn's error messages).
const (
	detailNotFound        = "The requested correspondence was not found"
	detailIdempotency     = "A correspondence with the same idempotent key already exists"
	detailResourceUnknown = "The resource has not been configured for correspondence, or the caller has no access to it"
	detailUploadTooLarge  = "The uploaded attachments exceed the maximum size"
	detailNoFormData      = "The request must be multipart/form-data"
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
