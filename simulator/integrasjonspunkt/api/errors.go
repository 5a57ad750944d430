package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Exception class names as the real integration point reports them in the error body's "exception"
// field (spec ip-api §2.2–§2.4). Clients sometimes branch on them, so they are kept byte for byte.
const (
	exPrefix = "no.difi.meldingsutveksling.exceptions."

	exMessageAlreadyExists         = exPrefix + "MessageAlreadyExistsException"
	exServiceNotEnabled            = exPrefix + "ServiceNotEnabledException"
	exMessageTypeDoesNotFit        = exPrefix + "MessageTypeDoesNotFitDocumentTypeException"
	exReceiverDoesNotAcceptProcess = exPrefix + "ReceiverDoesNotAcceptProcessException"
	exMissingAddressInformation    = exPrefix + "MissingAddressInformationException"
	exMissingFile                  = exPrefix + "MissingFileException"
	exTimeToLive                   = exPrefix + "TimeToLiveException"
	exMissingArkivmelding          = exPrefix + "MissingArkivmeldingException"
	exMissingArkivmeldingFile      = exPrefix + "MissingArkivmeldingFileException"
	exFileNotFound                 = exPrefix + "FileNotFoundException"
	exMissingPrimaryDocument       = exPrefix + "MissingPrimaryDocumentException"
	exDuplicateFilename            = exPrefix + "DuplicateFilenameException"
	exMaxFileSizeExceeded          = exPrefix + "MaxFileSizeExceededException"
	exMultiplePrimaryDocuments     = exPrefix + "MultiplePrimaryDocumentsNotAllowedException"
	exMissingFileTitle             = exPrefix + "MissingFileTitleException"
	exMultipartFileToLarge         = exPrefix + "MultipartFileToLargeException"
	exMessagePersist               = exPrefix + "MessagePersistException"
	exMessageNotFound              = exPrefix + "MessageNotFoundException"
	exConversationNotFound         = exPrefix + "ConversationNotFoundException"
	exIdentifierNotFound           = exPrefix + "IdentifierNotFoundException"
	exForsendelseTypeNotFound      = exPrefix + "ForsendelseTypeNotFoundException"
	exInsufficientAuthentication   = "org.springframework.security.authentication.InsufficientAuthenticationException"
	exMissingSvarUtCredentials     = exPrefix + "MissingSvarUtCredentialsException"

	exNotReadable           = "org.springframework.http.converter.HttpMessageNotReadableException"
	exMethodArgNotValid     = "org.springframework.web.bind.MethodArgumentNotValidException"
	exConstraintViolation   = "jakarta.validation.ConstraintViolationException"
	exMediaTypeNotSupported = "org.springframework.web.HttpMediaTypeNotSupportedException"
	exMissingHeader         = "org.springframework.web.bind.MissingRequestHeaderException"
	exMissingParameter      = "org.springframework.web.bind.MissingServletRequestParameterException"
	exTypeMismatch          = "org.springframework.web.method.annotation.MethodArgumentTypeMismatchException"
	exMethodNotSupported    = "org.springframework.web.HttpRequestMethodNotSupportedException"
	exNoResource            = "org.springframework.web.servlet.resource.NoResourceFoundException"
	exMaxUploadSize         = "org.springframework.web.multipart.MaxUploadSizeExceededException"
	exMultipart             = "org.springframework.web.multipart.MultipartException"
	exPropertyReference     = "org.springframework.data.mapping.PropertyReferenceException"
	exResourceAccess        = "org.springframework.web.client.ResourceAccessException"
	exHTTPServerError       = "org.springframework.web.client.HttpServerErrorException"
	exMURuntime             = "no.difi.meldingsutveksling.domain.MeldingsUtvekslingRuntimeException"
	exIllegalArgument       = "java.lang.IllegalArgumentException"
	exIllegalState          = "java.lang.IllegalStateException"
	exRuntime               = "java.lang.RuntimeException"
)

// apiError is an error the API answers with a Spring-style error body (spec ip-api §2.1). Handlers return
// it; the one adapter writes it. Any other error becomes a 500 and is logged as a bug.
type apiError struct {
	status    int
	exception string
	message   string
	// description is set for ErrorDescriber exceptions (ReceiverDoesNotAcceptProcessException).
	description string
	// errors are the validation errors of MethodArgumentNotValidException and ConstraintViolationException.
	errors []wire.ValidationError
	// cause is logged, never shown.
	cause error
}

// Error returns "<status> <exception>: <message>".
func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.status, e.exception, e.message)
}

// Unwrap returns the cause.
func (e *apiError) Unwrap() error { return e.cause }

// newError builds an apiError.
func newError(status int, exception, message string) *apiError {
	return &apiError{status: status, exception: exception, message: message}
}

// withCause records the underlying error for the log.
func (e *apiError) withCause(err error) *apiError {
	e.cause = err
	return e
}

// asAPIError finds the apiError in err's chain.
func asAPIError(err error) (*apiError, bool) {
	var e *apiError
	ok := errors.As(err, &e)
	return e, ok
}

// body renders e as the integration point's error body for path at now.
func (e *apiError) body(now func() wire.OffsetDateTime, path string) wire.ErrorBody {
	b := wire.NewErrorBody(now().Time, e.status, e.exception, e.message, path)
	b.Description = e.description
	b.Errors = e.errors
	return b
}

// noEntry is the message the real IP gives for an exception without a messages.properties entry:
// "--<FQCN>-- [arg1, arg2]".
func noEntry(exception string, args ...string) string {
	return "--" + exception + "-- [" + strings.Join(args, ", ") + "]"
}

// groupDigits formats n as java.text.MessageFormat does a Long in the English locale: 5,242,880.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Domain errors, one constructor per exception, with the real messages.properties texts.

// errMessageNotFound is 404 MessageNotFoundException.
func errMessageNotFound(messageID string) *apiError {
	return newError(http.StatusNotFound, exMessageNotFound, "Message with messageId = "+messageID+" was not found")
}

// errMessageAlreadyExists is 400 MessageAlreadyExistsException: the messageId is used by a message or conversation.
func errMessageAlreadyExists(messageID string) *apiError {
	return newError(http.StatusBadRequest, exMessageAlreadyExists, "Message with messageId = "+messageID+" already exists")
}

// errServiceNotEnabled is 400 ServiceNotEnabledException: the resolved channel is switched off.
func errServiceNotEnabled(s wire.ServiceIdentifier) *apiError {
	return newError(http.StatusBadRequest, exServiceNotEnabled, "Service "+string(s)+" is not enabled")
}

// errMessageTypeDoesNotFit is 400 MessageTypeDoesNotFitDocumentTypeException: the standard does not end with ::type.
func errMessageTypeDoesNotFit(t wire.MessageType, standard string) *apiError {
	return newError(http.StatusBadRequest, exMessageTypeDoesNotFit,
		fmt.Sprintf("Message type %s does not match the document type %s", t, standard))
}

// errReceiverDoesNotAcceptProcess is 400 ReceiverDoesNotAcceptProcessException with the register's reason as description.
func errReceiverDoesNotAcceptProcess(process, description string) *apiError {
	e := newError(http.StatusBadRequest, exReceiverDoesNotAcceptProcess, "Receiver do not accept the document process "+process)
	e.description = description
	return e
}

// errUnauthorized is Spring Security's 401 for a request without valid Basic credentials.
func errUnauthorized() *apiError {
	return newError(http.StatusUnauthorized, exInsufficientAuthentication, "Full authentication is required to access this resource")
}

// errForsendelseTypeNotFound is 400 ForsendelseTypeNotFoundException: arkivmelding.dpf.forsendelseType is
// not one SvarUt knows for the sender (the valid ones as Java prints a list).
func errForsendelseTypeNotFound(typ string, valid []string) *apiError {
	return newError(http.StatusBadRequest, exForsendelseTypeNotFound,
		fmt.Sprintf("Found forsendelseType %s, but valid types are [%s]", typ, strings.Join(valid, ", ")))
}

// errMissingSvarUtCredentials is 400 MissingSvarUtCredentialsException: no SvarUt account for the sender.
func errMissingSvarUtCredentials(org string) *apiError {
	return newError(http.StatusBadRequest, exMissingSvarUtCredentials, "SvarUt credentials not configured for orgnr "+org)
}

// errSvarUtUnavailable is the answer when SvarUt cannot be asked for its forsendelsestyper: a 503 naming
// it (the real IP answers 500).
func errSvarUtUnavailable(err error) *apiError {
	return newError(http.StatusServiceUnavailable, exResourceAccess, "KS SvarUt is unavailable: "+err.Error()).withCause(err)
}

// errMissingAddressInformation is 400 MissingAddressInformationException (no messages.properties entry).
func errMissingAddressInformation(what string) *apiError {
	return newError(http.StatusBadRequest, exMissingAddressInformation, noEntry(exMissingAddressInformation, what))
}

// errMissingFile is 400 MissingFileException: a file-requiring message sent without files.
func errMissingFile() *apiError {
	return newError(http.StatusBadRequest, exMissingFile, "There must always be at least one attachment")
}

// errTimeToLive is 400 TimeToLiveException: expectedResponseDateTime passed before send.
func errTimeToLive(erdt wire.OffsetDateTime) *apiError {
	return newError(http.StatusBadRequest, exTimeToLive,
		"ExpectedResponseDateTime "+erdt.String()+" has been exceeded. Please resend the message")
}

// errMissingArkivmelding is 400 MissingArkivmeldingException: an arkivmelding sent without arkivmelding.xml.
func errMissingArkivmelding() *apiError {
	return newError(http.StatusBadRequest, exMissingArkivmelding, "DPO message type requires arkivmelding.xml attachment")
}

// errMissingArkivmeldingFile is 400 MissingArkivmeldingFileException: files the arkivmelding names were not uploaded.
func errMissingArkivmeldingFile(missing []string) *apiError {
	return newError(http.StatusBadRequest, exMissingArkivmeldingFile,
		"File(s) defined in arkivmelding, but not found in message: "+strings.Join(missing, ","))
}

// errFileNotFound is 404 FileNotFoundException: files digital.metadataFiler names were not uploaded.
func errFileNotFound(missing []string) *apiError {
	return newError(http.StatusNotFound, exFileNotFound, "File(s) named "+strings.Join(missing, ", ")+" was not found")
}

// errMissingPrimaryDocument is 400 MissingPrimaryDocumentException: no uploaded file is the hoveddokument.
func errMissingPrimaryDocument() *apiError {
	return newError(http.StatusBadRequest, exMissingPrimaryDocument,
		"Missing a primary document. Please specify the hoveddokument property in the business message and verify that is equal to one of the filenames.")
}

// errDuplicateFilename is 400 DuplicateFilenameException.
func errDuplicateFilename(names string) *apiError {
	return newError(http.StatusBadRequest, exDuplicateFilename, "Filename already exists in message: "+names+".")
}

// errMaxFileSize formats sizes as the real NextMoveFileSizeValidator does: "<n>b" for both when the total
// is below one MiB, otherwise whole MiB ("<n>MB", truncated).
func errMaxFileSize(total int64, s wire.ServiceIdentifier, limit int64) *apiError {
	const mib = 1 << 20
	t, l := strconv.FormatInt(total, 10)+"b", strconv.FormatInt(limit, 10)+"b"
	if total >= mib {
		t, l = strconv.FormatInt(total/mib, 10)+"MB", strconv.FormatInt(limit/mib, 10)+"MB"
	}
	return newError(http.StatusBadRequest, exMaxFileSizeExceeded, fmt.Sprintf(
		"The combined file size for all attachments (%s) exceeds the maximum allowed upload size for the target service (%s, %s)",
		t, s, l))
}

// errMultiplePrimaryDocuments is 400 MultiplePrimaryDocumentsNotAllowedException.
func errMultiplePrimaryDocuments() *apiError {
	return newError(http.StatusBadRequest, exMultiplePrimaryDocuments, "Messages can only contain one primary document")
}

// errMissingFileTitle is 400 MissingFileTitleException for the channel's title rule.
func errMissingFileTitle(s wire.ServiceIdentifier) *apiError {
	return newError(http.StatusBadRequest, exMissingFileTitle, "Title is required for the following capabilities: "+string(s))
}

// errMultipartFileToLarge is 400 MultipartFileToLargeException: a multipart file part over 5 MiB.
func errMultipartFileToLarge(filename string) *apiError {
	return newError(http.StatusBadRequest, exMultipartFileToLarge, fmt.Sprintf(
		"The attachment named '%s' is too large. The maximum size for multipart requests is %s bytes. Please use the non-multipart API to avoid such problems.",
		filename, groupDigits(maxMultipartFileSize)))
}

// errMessagePersist is 500 MessagePersistException: the file could not be stored.
func errMessagePersist(err error) *apiError {
	// The real template quotes {0}, so MessageFormat prints it literally.
	return newError(http.StatusInternalServerError, exMessagePersist, "Could not persist file named {0}").withCause(err)
}

// errConversationNotFound is 404 ConversationNotFoundException (the id with digit grouping, as MessageFormat prints a Long).
func errConversationNotFound(id int64) *apiError {
	return newError(http.StatusNotFound, exConversationNotFound, "Conversation with id = "+groupDigits(id)+" was not found")
}

// errMissingHeader is Spring's 400 MissingRequestHeaderException.
func errMissingHeader(name string) *apiError {
	return newError(http.StatusBadRequest, exMissingHeader,
		"Required request header '"+name+"' for method parameter type String is not present")
}

// errUnsupportedMediaType is Spring's 415 HttpMediaTypeNotSupportedException.
func errUnsupportedMediaType(contentType string) *apiError {
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	return newError(http.StatusUnsupportedMediaType, exMediaTypeNotSupported, "Content-Type '"+contentType+"' is not supported")
}

// errTypeMismatch is Spring's answer to a path variable or request parameter that does not convert.
func errTypeMismatch(param, javaType, value, reason string) *apiError {
	return newError(http.StatusBadRequest, exTypeMismatch, fmt.Sprintf(
		"Method parameter '%s': Failed to convert value of type 'java.lang.String' to required type '%s'; %s",
		param, javaType, reason))
}

// errLongPathVariable is the type mismatch of a non-numeric Long path variable.
func errLongPathVariable(param, value string) *apiError {
	return errTypeMismatch(param, "java.lang.Long", value, fmt.Sprintf("For input string: \"%s\"", value))
}

// errNotReadable is Spring's answer to a request body that does not read.
func errNotReadable(message string) *apiError {
	return newError(http.StatusBadRequest, exNotReadable, message)
}

// errBadProperty is Spring Data's answer to an unknown sort property (a 500 in the real IP).
func errBadProperty(property, entity string) *apiError {
	return newError(http.StatusBadRequest, exPropertyReference, fmt.Sprintf("No property '%s' found for type '%s'", property, entity))
}

// errBinding is the MethodArgumentNotValidException a query object (ConversationQueryInput,
// MessageStatusQueryInput) gives when a parameter does not convert to its property's type.
func errBinding(object, field, javaType, value, reason string) *apiError {
	e := newError(http.StatusBadRequest, exMethodArgNotValid,
		fmt.Sprintf("Validation failed for object='%s'. Error count: 1", object))
	e.errors = []wire.ValidationError{{
		Codes: []string{"typeMismatch." + object + "." + field, "typeMismatch." + field, "typeMismatch." + javaType, "typeMismatch"},
		DefaultMessage: fmt.Sprintf("Failed to convert property value of type 'java.lang.String' to required type '%s' for property '%s'; %s",
			javaType, field, reason),
		ObjectName: object, Field: field, RejectedValue: value, BindingFailure: true, Code: "typeMismatch",
	}}
	return e
}

// errInternal is a bug or an unexpected store failure: 500, cause logged.
func errInternal(err error) *apiError {
	return newError(http.StatusInternalServerError, exRuntime, "Internal error in the integration point; see its log").withCause(err)
}
