// Package wire holds the eFormidling wire types that the simulators, the reference integration point,
// the BDD steps and the load flows share: the StandardBusinessDocument (SBD) JSON with its header and
// twelve business-message payloads, party identifiers, the message-type, process and document-type
// catalogue, service records and capabilities, the Spring error body and page.
//
// Behaviour is limited to (de)serialising and validating the types' own shape. The JSON mimics the real
// integration point (Java, Jackson): null fields are omitted, empty collections are kept where Java keeps
// them, unknown properties are ignored and dropped, unknown enum values are errors, and timestamps are
// written like java.time (see OffsetDateTime, Instant and LocalDate). The spec references in comments
// (ip-api §…, upstreams §…) point into the project's specification.
package wire
