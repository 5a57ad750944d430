// Package api is the reference integration point's client-facing HTTP API, the outbound part of the
// eFormidling 2 (Next Move) REST API that archive systems talk to (spec ip-api §0–§6, §10):
//
//   - POST /api/messages/out, PUT and POST /api/messages/out/{messageId}: create, upload, send
//   - POST /api/messages/out/multipart: create, upload and send in one request
//   - GET /api/messages/out[/{messageId}], DELETE /api/messages/out/{messageId}: the outbox
//   - GET /api/capabilities/{receiverIdentifier}: what a receiver can receive
//   - GET /api/statuses[/{messageId}], GET /api/statuses/peek, DELETE /api/statuses/{id}: statuses and
//     the status queue
//   - GET /api/conversations[/{id}|/messageId/{messageId}|/queue] and the DELETE variants
//   - GET /manage/health[/liveness|/readiness], /manage/info, /manage/prometheus
//
// Every handler is a func(*http.Request) response in one route table; one adapter writes JSON
// (pretty-printed, nulls omitted, timestamps with the Europe/Oslo offset) and the Spring-style error
// body of the real integration point: timestamp, status, error, exception (the real Java class name),
// message (the real messages.properties text), path, and description or errors where the real one has
// them. Validation follows the real NextMoveValidator's rules and order (spec ip-api §4.7). The address
// register alone picks the channel; a channel that is not enabled is refused as the real IP refuses it.
//
// # Deviations
//
// Where the real integration point (v4) answers client input with a server error, this API answers 400
// with the same body shape; where it fails on an upstream, 503. The differences a client can see:
//
//   - SBD JSON of the wrong shape (unknown type, missing or extra top-level field, payload key other than
//     the type, payload-first document without a type): 400 HttpMessageNotReadableException with the
//     real message text (real: 500 IllegalArgumentException). A payload-first document whose payload is
//     not its header's type is refused (real: accepted). A missing type gives the message "Missing type!"
//     (real: "I/O error while reading input message").
//   - No ConversationId scope: 400 IllegalStateException "SBD missing process…"; a ConversationId scope
//     without identifier (the process): 400 IllegalArgumentException "Cannot determine documentType with
//     missing process parameter…"; a receiver that does not parse or has an unknown authority: 400
//     IllegalArgumentException "Unable to parse identifier = '…'" / "Unknown authority = …" (real: 500).
//   - print with retur but no retur.mottaker: 400 MissingAddressInformationException
//     [retur.postnummer/poststed/adresselinje1] (real: NullPointerException, 500).
//   - The address register unreachable, timing out or answering 5xx: 503 with exception
//     org.springframework.web.client.ResourceAccessException (or HttpServerErrorException) and a message
//     naming the address register (real: 500), on create and on capabilities. On capabilities, another
//     4xx from the register (unparseable identifier, security level not available) is a 400
//     MeldingsUtvekslingRuntimeException (real: 500).
//   - Upload: a Content-Disposition that does not parse (parameter without "=", bad RFC 5987 value or
//     charset) or has no filename (or an empty one): 400 IllegalArgumentException (real: 500). Raw header
//     bytes that are valid UTF-8 are read as UTF-8 (real: always ISO-8859-1, so UTF-8 names come out
//     garbled); backslash escapes inside quoted values are undone; parameter names are matched without
//     regard to case.
//   - Upload of an arkivmelding.xml that is not well-formed XML, or has no saksmappe or journalpost: 400
//     NextMoveRuntimeException / ArkivmeldingRuntimeException, and the file is not stored (real: 500).
//   - Upload without Content-Length (chunked): the upload limit still holds, counted while reading (real:
//     the size is taken as -1 and not limited).
//   - Multipart: the first part named "sbd" is the SBD, never an attachment, even with a filename; all
//     files are validated before the message is stored, so a file error leaves no message, conversation
//     or OPPRETTET status behind (real: rolled back, but the OPPRETTET event may have gone out).
//   - An unknown sort property: 400 PropertyReferenceException (real: 500). An invalid serviceIdentifier
//     filter (messages, conversations): 400 IllegalArgumentException "No enum constant …" (real: 500).
//     page and size are lenient, as in Spring Data.
//   - GET /api/messages/out ignores the lastUpdated filter; empty filter values are ignored everywhere.
//   - A date-time query value whose "+" arrived unencoded (as a space) is read with the "+".
//   - A trailing slash is accepted on every path (real: only with allowDeprecatedTrailingSlash).
//   - FileNotFoundException lists the missing files sorted by name (real: hash order).
//   - Bean-validation errors list Spring's message codes without the type-level code and without
//     "arguments", in a fixed order.
//   - /manage/health has the components db, nextMoveQueue (incoming is 0: the outbound API does not
//     count the in-queue; Options.Health may replace the component), messageStatus, ping and the probe
//     states, as application/json; readiness is DOWN when the database does not answer. /manage/info
//     shows this build, without git details. /manage/prometheus exposes efm_ip_* metrics of its own, not
//     Micrometer's.
//   - HTTP Basic authentication only when Options.BasicAuth names a user (the real IP's code default is
//     on); no ?trace= stack traces, no InvalidCertificateException (the reference
//     IP's certificate is always valid), no DPO message-channel check (none is configured), no DPE or
//     DPH specifics beyond the upload title and content-type rules (those channels are not enabled).
//   - DPF create rule 12 (Options.DPF): SvarUt unreachable when the forsendelseType is checked is 503 with
//     ResourceAccessException "KS SvarUt is unavailable: …" (the real IP: 500).
package api
