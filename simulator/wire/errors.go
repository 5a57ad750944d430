package wire

import (
	"net/http"
	"time"
)

// ErrorBody is the integration point's Spring-style error body (spec ip-api §2.1). It is not problem+json.
type ErrorBody struct {
	Timestamp   string            `json:"timestamp"`
	Status      int               `json:"status"`
	Error       string            `json:"error"`
	Exception   string            `json:"exception,omitempty"`
	Message     string            `json:"message"`
	Path        string            `json:"path"`
	Description string            `json:"description,omitempty"`
	Errors      []ValidationError `json:"errors,omitempty"`
}

// ValidationError is one entry of ErrorBody.Errors, shaped like Spring's FieldError (spec ip-api §2.3).
type ValidationError struct {
	Codes          []string `json:"codes"`
	Arguments      []any    `json:"arguments,omitempty"`
	DefaultMessage string   `json:"defaultMessage"`
	ObjectName     string   `json:"objectName"`
	Field          string   `json:"field"`
	RejectedValue  any      `json:"rejectedValue"`
	BindingFailure bool     `json:"bindingFailure"`
	Code           string   `json:"code"`
}

// NewErrorBody builds an error body for status at path, stamped now in Europe/Oslo.
func NewErrorBody(now time.Time, status int, exception, message, path string) ErrorBody {
	return ErrorBody{
		Timestamp: errorTimestamp(now),
		Status:    status,
		Error:     http.StatusText(status),
		Exception: exception,
		Message:   message,
		Path:      path,
	}
}

// Page is the legacy Spring Data PageImpl JSON (spec ip-api §1.4); every key is always written.
type Page[T any] struct {
	Content          []T      `json:"content"`
	Pageable         Pageable `json:"pageable"`
	TotalElements    int64    `json:"totalElements"`
	Last             bool     `json:"last"`
	TotalPages       int      `json:"totalPages"`
	Sort             Sort     `json:"sort"`
	NumberOfElements int      `json:"numberOfElements"`
	First            bool     `json:"first"`
	Size             int      `json:"size"`
	Number           int      `json:"number"`
	Empty            bool     `json:"empty"`
}

// Pageable is the request part of a Page.
type Pageable struct {
	Sort       Sort  `json:"sort"`
	PageNumber int   `json:"pageNumber"`
	PageSize   int   `json:"pageSize"`
	Offset     int64 `json:"offset"`
	Paged      bool  `json:"paged"`
	Unpaged    bool  `json:"unpaged"`
}

// Sort says whether a page was sorted.
type Sort struct {
	Sorted   bool `json:"sorted"`
	Unsorted bool `json:"unsorted"`
	Empty    bool `json:"empty"`
}

// NewPage builds page number (0-based) of the given size holding content, out of total elements.
func NewPage[T any](content []T, number, size int, total int64, sorted bool) Page[T] {
	if content == nil {
		content = []T{}
	}
	s := Sort{Sorted: sorted, Unsorted: !sorted, Empty: !sorted}
	pages := 0
	if size > 0 {
		pages = int((total + int64(size) - 1) / int64(size))
	}
	return Page[T]{
		Content:          content,
		Pageable:         Pageable{Sort: s, PageNumber: number, PageSize: size, Offset: int64(number) * int64(size), Paged: true},
		TotalElements:    total,
		Last:             number+1 >= pages,
		TotalPages:       pages,
		Sort:             s,
		NumberOfElements: len(content),
		First:            number == 0,
		Size:             size,
		Number:           number,
		Empty:            len(content) == 0,
	}
}

// errorTimestamp formats now like Java's ISO_OFFSET_DATE_TIME in Europe/Oslo.
func errorTimestamp(now time.Time) string { return NewOffsetDateTime(now.In(Oslo())).String() }
