// Package dpo simulates DPO as the eFormidling integration point v4 uses it (upstreams §4, §12.3, §12.4):
// the Altinn 3 Broker file transfer API under /broker/api/v1, the Altinn token exchange at
// /authentication/api/v1/exchange/maskinporten, the Altinn token keys, and the shared admin API under
// /__admin. Field names, statuses, status texts, error codes and error texts follow the Altinn Broker
// (Altinn3.Broker 1.1.0, the OpenAPI the integration point is generated from, and the broker's own
// handlers).
//
// # What is simulated
//
// Token exchange: GET /authentication/api/v1/exchange/maskinporten takes "Authorization: Bearer <Maskinporten
// token>" (verified with Options.Maskinporten) and answers 200 text/plain with a bare JWT (not a JSON
// string: the integration point uses the body verbatim, upstreams §13 item 7), signed RS256 with
// Options.Signer, valid AltinnTokenLifetime (30 minutes), carrying the Maskinporten token's scope,
// client_id, client_amr, consumer, supplier, consumer_org and authorization_details, plus iss, iat, nbf,
// exp, jti and Altinn's urn:altinn:orgNumber, urn:altinn:authenticatemethod and urn:altinn:authlevel. The
// key set is served at /altinn/jwk and at /authentication/api/v1/openid/jwks (with an OpenID configuration
// at /authentication/api/v1/openid/.well-known/openid-configuration).
//
// Broker: every call needs an Altinn token from the exchange (or, when Options.Maskinporten is set, a
// Maskinporten token, which real Altinn accepts too). The caller is the organisation of the token's system
// user (authorization_details[0].systemuser_org.ID), else its consumer. Scopes follow Altinn's policies:
// altinn:broker.write to initialise and upload, altinn:broker.read to download and confirm, either to list
// and to read an overview or its details.
//
//   - POST /filetransfer and /filetransfer/ (the integration point adds the slash, upstreams §13 item 5):
//     a FileTransferInitalizeExt validated as ASP.NET Core validates it (fileName, resourceId, sender and
//     recipients required; the org number patterns; propertyList and checksum rules); the resource must be
//     Options.Resource; the sender must be the caller. The transfer is Initialized and so is every
//     recipient. Answer 200 {"fileTransferId"}.
//   - POST /filetransfer/{id}/upload: application/octet-stream, by the sender, once; an MD5 checksum given
//     at initialisation is checked. The transfer passes UploadStarted and UploadProcessing and is
//     Published at once. Answer 200 {"fileTransferId"}.
//   - GET /filetransfer?resourceId=&status=&recipientStatus=&from=&to=&orderAscending=&role=: the ids of
//     the caller's transfers on the resource, newest first (orderAscending=true: oldest first), at most
//     MaxListed (100). With recipientStatus, only transfers the caller receives whose recipient status it
//     is; otherwise those the caller sends or receives (role narrows to one side). status filters on the
//     transfer status, and from/to then on when it entered that status, else on created.
//   - GET /filetransfer/{id} and /filetransfer/{id}/details: FileTransferOverviewExt (and the status
//     histories), for the sender and the recipients.
//   - GET /filetransfer/{id}/download: the file as application/octet-stream, for a recipient, once the
//     transfer is Published (or AllConfirmedDownloaded); the recipient becomes DownloadStarted.
//   - POST /filetransfer/{id}/confirmdownload: for a recipient that started a download of a Published
//     transfer; it becomes DownloadConfirmed and drops out of recipientStatus=Initialized polls; when every
//     recipient confirmed, the transfer becomes AllConfirmedDownloaded. Answer 204, as Altinn's Ok(null).
//
// Refusals are RFC 7807 ProblemDetails (application/problem+json) as the broker writes them: the RFC 9110
// type and title of the status, Altinn's detail text, and Altinn's error code ("BRO-00001" unknown
// transfer 404, "BRO-00004" second upload 409, "BRO-00006" not sender or recipient 401, "BRO-00007" not
// ready for download 403, "BRO-00009" checksum mismatch, "BRO-00010" confirm when not Published,
// "BRO-00016" too large, "BRO-00019" confirm before download, "BRO-00025" unknown resource, each 400);
// model validation failures are ASP.NET Core's 400 "One or more validation errors occurred." with the
// errors keyed by field. No client input is answered with a 5xx.
//
// Inspection (admin API): GET /__admin/messages lists the transfers (filters ?sender=, ?recipient=,
// ?status=) with eviction counters; GET /__admin/messages/{id} decodes one: the entries of the uploaded
// zip, sbd.json read with wire.ParseSBD (the raw text and the error when it does not parse), and asic.zip
// decrypted with the first recipient key Options.Keys has and read with dokumentpakke: the files (name,
// MIME type, size, SHA-256; with ?content=true the content, text inline and binary as base64), whether
// the CAdES signature verified, the signer's certificate and the eFormidling manifest. GET
// /__admin/messages/{id}/files/{name} answers a file's bytes with its MIME type (a package file, else a
// zip entry such as sbd.json); GET /__admin/messages/{id}/payload the uploaded file. Reset forgets every
// transfer; a status fault answers with a ProblemDetails body. Without Options.Keys the inspection
// decrypts with Options.Credentials.
//
// # Simulated counterparts (admin API)
//
// Two integration points on one simulator answer each other's messages themselves. When the receiving
// organisation has no integration point, PUT /__admin/behaviour makes the simulator play it (upstreams
// §12.4): after a transfer to that organisation is Published, the counterpart downloads and confirms it
// and sends status SBDs and an arkivmelding_kvittering back, each as a new Published transfer (sender =
// the simulated organisation, recipient = the original's sender, the same resource, fileName sbd.zip)
// holding only sbd.json — so the sending integration point's poller finds them as if a real one had
// answered:
//
//	PUT /__admin/behaviour
//	{"organizations": {
//	  "910076787": {"mottatt": "200ms", "levert": "1s", "kvittering": "OK", "kvitteringDelay": "2s",
//	                "messages": [{"code": "Recno", "text": "2026/42"}], "confirm": true},
//	  "910075918": null}}
//
// The fields of a counterpart:
//
//   - mottatt, levert: the delay (a Go duration, at most 24h) after the original is Published before a
//     status SBD with MOTTATT or LEVERT is sent back; absent or null sends none.
//   - kvittering: the receiptType (OK, WARNING, ERROR, NOTSUPPORTED; any case) of an
//     arkivmelding_kvittering sent back for arkivmelding originals only; absent sends none. messages are
//     its [{code, text}]; kvitteringDelay its delay (absent: that of levert, else of mottatt, else 0).
//   - confirm (default true): the counterpart downloads and confirms the original when it sends MOTTATT
//     (at once without mottatt); the recipient becomes DownloadConfirmed and drops out of polls. With
//     false the original stays Initialized for another poller.
//
// The status SBD is the one SBDFactory.createStatusFrom builds (upstreams §1.3.1): sender and receiver
// swapped, the original's messageId and conversationId, standard urn:no:difi:eformidling:xsd::status,
// type status, typeVersion 2.0, the response process of the original's family (arkivmelding, einnsyn or
// avtalt), expectedResponseDateTime now + 24 h, the original's MessageChannel scope, and
// {"status": {"status": "MOTTATT"}} or LEVERT. The kvittering has a new messageId, the same
// conversationId, process urn:no:difi:profile:arkivmelding:response:ver1.0 and relatedToMessageId = the
// original's messageId. Each answer's sendersFileTransferReference is the original's MessageChannel when
// its SBD carries one (as the integration point sends receipts), else a new UUID; answers get strictly
// increasing created times, so a poller sorting by created sees them in order. Same-delay actions run in
// the order confirm, MOTTATT, LEVERT, kvittering.
//
// Each organisation in a PUT replaces its counterpart, null removes it, the others stay; the answer and
// GET /__admin/behaviour show them all ({"organizations": {…}}, durations as Go durations, confirm
// always written). DELETE /__admin/behaviour/{orgnr} removes one. Organisation keys are nine digits,
// optionally 0192:-prefixed; unknown organisations are fine. A bad duration or receipt type, an unknown
// field or a malformed key is a 400 naming the field. The counterpart in force when a transfer is
// Published is the one that answers it. What the counterpart cannot read (no zip or no sbd.json) it
// leaves unconfirmed; an sbd.json that does not parse (or whose ids are not UUIDs) it does not answer but
// (with confirm) confirms, as the integration point discards it; statuses and receipts it likewise only
// confirms. Every such decision is logged. Delays run on real time (Options.Now stamps the transfers). Pending actions
// are timers tracked under the server's lock and bounded (10 000): Reset forgets the counterparts and
// stops them, Close stops them and waits for those under way, and none fires afterwards.
//
// # Injecting messages (admin API)
//
// POST /__admin/inject makes a simulated sender deliver a message as a real integration point packs it:
// sbd.zip with sbd.json and, when there are files, asic.zip — the eFormidling manifest.xml first, the
// primary document next, then the other files, in a CAdES ASiC-E signed with the sender's key and
// certificate and CMS-encrypted (AES-256-CBC, RSA-OAEP) to the receiver's certificate, both from
// Options.Credentials. The transfer (sender → receiver, fileName sbd.zip) is stored Published, so the
// receiver's poller finds it (and a simulated receiver answers it). The answer is 200
// {"fileTransferId", "messageId", "conversationId"}.
//
//	POST /__admin/inject
//	{"sender": "910076787", "receiver": "910077473", "type": "arkivmelding",
//	 "process": "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0",
//	 "messageChannel": "kanal-1", "expectedResponseDateTime": "2026-11-23T10:00:00+01:00",
//	 "files": [{"name": "arkivmelding.xml", "mimeType": "application/xml", "text": "<?xml …"},
//	           {"name": "brev.pdf", "mimeType": "application/pdf", "base64": "JVBERi0…"}]}
//
// The fields:
//
//   - type defaults to arkivmelding and process to the type's usual one; messageId and conversationId
//     (optional fields) to new UUIDs; expectedResponseDateTime to now + 24 h. payload (optional) is
//     the business message; the default for arkivmelding is {"hoveddokument": <primary file>,
//     "sikkerhetsnivaa": 3}, for avtalt {"identifier": "efm-harness-avtalt", "content": {}}; other
//     types need one.
//   - files: name, mimeType (default by extension) and the content as text or base64; primary: true
//     marks the primary document (default arkivmelding.xml, else the first). An arkivmelding without
//     files gets a generated arkivmelding.xml referring to a generated one-page dokument.pdf.
//   - sbd: a full SBD JSON document used as it is (sender, receiver and type taken from it; only a
//     missing messageId or conversationId is filled in); only files and sendersFileTransferReference
//     may accompany it.
//   - Statuses and receipts carry no files: {"sender", "receiver", "type": "status", "status":
//     "MOTTATT"|"LEVERT", "messageId", "conversationId"} or {"type": "arkivmelding_kvittering",
//     "receiptType": "OK", "relatedToMessageId", "messages": [{"code", "text"}]}; or, answering a
//     transfer, {"respondTo": "<fileTransferId>", "type": "status", "status": "LEVERT"} and
//     {"respondTo": "<fileTransferId>", "type": "arkivmelding_kvittering", "receiptType": "OK"}, built
//     as the counterparts build them.
//   - sendersFileTransferReference defaults to the MessageChannel of a status or receipt that carries
//     one, else a new UUID (as the integration point sends).
//
// A sender part identifier (0192:<org>:<part>) sends as the part, signed with the organisation's
// credentials. The SBD must pass wire's validation. Errors are 400 with a message naming the problem:
// no credentials for the sender or certificate for the receiver, bad base64, a bad or conflicting SBD,
// files on a status, an unknown field.
//
// POST /__admin/inject/raw stores a transfer whose bytes are given as they are, for hostile-input tests
// of a receiving integration point (RawInjectRequest; byte fields in base64): either "package", the whole
// sbd.zip, or "sbd", the sbd.json entry (it need not parse) with at most one of "container" (a document
// package the simulator encrypts to the receiver's certificate as asic.zip; it need not be an ASiC-E or be
// signed) and "asic" (the asic.zip entry as it is). "sender" and "receiver" are required. The answer is
// 200 {"fileTransferId", "size"}.
//
//	POST /__admin/inject/raw
//	{"sender": "910076787", "receiver": "910077473", "sbd": "eyJzdGFuZGFyZEJ1c2luZXNzRG9jdW1lbnRIZWFkZXIiOg==",
//	 "container": "UEsDBBQACAgIAAAAAAAAAAAAAAAAAAAAAAAIAAAAbWltZXR5cGU="}
//
// # Deviations from the real Altinn Broker
//
//   - Uploads are published at once: no virus scan, no asynchronous UploadProcessing, no Failed status.
//     Transfers never expire or get purged (expirationTime is shown, 30 days after creation).
//   - There is no resource registry, access list, service owner or system user register: any
//     organisation may send to any organisation on Options.Resource, and the token alone says who calls.
//   - A missing or invalid token (401) and a missing scope (403) are answered with ProblemDetails bodies;
//     real Altinn's authentication middleware answers them with empty bodies. A caller that is neither
//     sender nor recipient gets Altinn's 401 "BRO-00006", as in Altinn (not 403 or 404). An empty upload is
//     a 400 with a simulator text. Validation problems carry a detail listing the errors (ASP.NET Core
//     writes none), and no traceId.
//   - A missing Content-Type is accepted on initialise and upload (ASP.NET Core answers 415); another
//     media type than JSON or octet-stream is a 415.
//   - A download after the recipient confirmed does not set it back to DownloadStarted. Range requests,
//     TUS uploads and the multipart initialise-and-upload endpoint are not supported.
//   - Memory is bounded by Options.MaxTransfers and Options.MaxStoredBytes: beyond them the oldest fully
//     confirmed transfers are forgotten first, then the oldest of any status (counted as evictedUnconfirmed
//     on the admin listing and logged). Payloads are kept in memory; spilling large ones to the data
//     directory (architecture §5) is not implemented yet.
//   - Without Options.Maskinporten the exchange reads Maskinporten tokens without checking their
//     signature (only their shape and expiry), for hand-made tokens.
//   - Simulated counterparts and injected messages appear as finished uploads: no initialise or upload
//     request is journalled for them, and their history passes Initialized to Published at one instant.
package dpo
