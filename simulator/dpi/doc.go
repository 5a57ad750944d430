// Package dpi simulates DPI as the eFormidling integration point v4 uses it (upstreams §7, §12.8): the
// corner-2 REST API of Digital post til innbyggere under /api/v2/dpi (Options.BasePath; the integration
// point's difi.move.dpi.uri), KRR's print certificate lookup, and the shared admin API under /__admin.
//
// # Corner 2
//
// Every call needs a Maskinporten bearer token with scope digitalpostinnbygger:send (Options.Scope;
// verified with Options.Maskinporten, or read without checking the signature when nil): 401 without or
// with a bad token, 403 without the scope. Error bodies are RFC 7807 application/problem+json
// {"type":"about:blank","title","status","detail"} plus, for a refused message, "errors": [{"path",
// "message"}]. Corner 2's real error body is not known here; the integration point reads only the
// status (5xx: blame SERVER, else CLIENT).
//
//   - POST /messages/out?kanal=<k>: multipart/form-data with the parts forretningsmelding (compact JWS,
//     sbd.jwt, application/jwt) and dokumentpakke (CMS, asic.cms, application/cms); other parts are
//     recorded and ignored. 400 without kanal; 415 not multipart; 413 beyond MaxUploadSize (default
//     60 MiB). The JWS must carry x5c and verify (RS256/384/512) with its leaf, which must be within its
//     validity (and chain to Options.SignerRoots when set). The payload is read with wire.DPIMessage
//     (strict envelope, no unknown body fields) and must be of type digital or utskrift. The token's
//     consumer_org claim must be the avsender's organisation number (avsender.virksomhetsidentifikator),
//     else 403. Then every rule of Digdir's innbyggerpost JSON schemas is checked and all violations
//     are answered together (400): the header with additionalProperties false, exactly one sender and
//     receiver (iso6523-actorid-upis, 0192:<orgnr>), documentIdentification complete (standard =
//     wire.DPIStandard(type), typeVersion 1.0, instanceIdentifier a UUID, creationDateAndTime RFC 3339),
//     exactly one ConversationId scope with a UUID and the process wire.DPIProcess(type); avsender
//     (authority enum, value pattern [0-9]{4}:\w{1,35}, avsenderidentifikator ≤ 100, fakturaReferanse
//     ≤ 40), dokumentpakkefingeravtrykk (digestMethod xmlenc#sha256) and maskinportentoken present.
//     digital: mottaker.postkasseadresse, sikkerhetsnivaa 3|4, virkningsdato a date and
//     virkningstidspunkt a date-time when present, ikkesensitivtittel 1..255, spraak 2 characters,
//     epostvarsel (e-mail address, text 1..500) and smsvarsel (8..20 characters matching
//     ^\+?[- _0-9]+$, text 1..160) each with 1..10 repetisjoner of 0..25 and no key of the other.
//     utskrift: utskriftstype SORT_HVIT|FARGE, posttype A|B when present, retur with
//     returposthaandtering DIREKTE_RETUR|MAKULERING_MED_MELDING, and the adresseInformasjon rules for
//     mottaker and retur.mottaker, read from the raw JSON: only its nine members (exact keys), each a
//     string; adresselinjeN ≤ 100, postnummer ^\d{4}$, poststed and land ≤ 80, landkode ^[a-zA-Z]{2}$;
//     and the schema's oneOf, where a member counts as present when its key is, even with "" (the
//     integration point sends "navn": ""): navn and adresselinje1 with either postnummer and poststed —
//     a Norwegian address, no land — or exactly one of land and landkode — a foreign one.
//     The receiver (SBD receiver 0192:<orgnr>) selects the keys that may open the dokumentpakke:
//     Options.Providers[orgnr] and Options.PrintProvider.Key when its Orgnr matches (both are tried,
//     since Digipost and the print provider share an organisation number in the test population); an
//     unknown receiver is 400. base64(SHA-256(asic.cms bytes)) must equal
//     dokumentpakkefingeravtrykk.digestValue (400). Accepted: 200 {} and status OPPRETTET. A messageId
//     received before: 200 again if it is the same conversation and avsender (the integration point
//     rebuilds the JWS and the CMS on every retry, so only the first copy is kept and the resend is
//     counted), 409 otherwise.
//   - GET /messages/out/{messageId}/statuses → [{"status","timestamp"(,"beskrivelse")}]: OPPRETTET at
//     receipt, then SENDT after sendtAfter, or FEILET when the behaviour says feilet; only these three
//     values. 404 for an unknown messageId.
//   - GET /messages/in?kanal=<k>[&avsenderidentifikator=<id>][&page_size=<n>] → [{"forretningsmelding":
//     "<JWS>","downloadurl":null}]: the unread receipts of messages sent on that kanal, oldest first, at
//     most page_size (default 100, at most 1000); with avsenderidentifikator only those of messages whose
//     avsender.avsenderidentifikator it is. 400 without kanal or with a bad page_size.
//   - POST /messages/in/{messageId}/read (the receipt's instanceIdentifier) → 200, no body; the receipt is
//     no longer listed. Reading again is 200; an unknown id is 404 (the integration point tolerates it).
//
// Package faults. Corner 2 cannot read the encrypted dokumentpakke, so what is inside it never
// refuses a message: the provider opens it and, when it cannot use it, answers with a feil receipt
// (feiltype KLIENT, detaljer "Ugyldig dokumentpakke: <path>: <problem>; …") instead of the
// leveringskvittering or mottakskvittering (and no other receipt the behaviour asks for); the
// problems are listed as packageProblems in the admin view. The provider checks that the CMS
// decrypts with its key; that the ASiC-E opens (dokumentpakke.ReadASiCE, AllowUnsigned); that its
// XAdES signature META-INF/signatures.xml verifies (dokumentpakke.ReadXAdES, chained to
// Options.SignerRoots when set); that manifest.xml is an SDP manifest (namespace
// http://begrep.difi.no/sdp/schema_v10) whose avsender organisasjon and avsenderidentifikator are
// the forretningsmelding's, with mottaker/person/postkasseadresse equal to the forretningsmelding's
// for digital and no mottaker for utskrift; and that every href (hoveddokument, vedlegg, data; 4..100
// characters, mime 1..100, tittel lang 2 characters) is a file of the container.
//
// Receipts and reads are also scoped to the caller: a token naming an organisation (consumer, else
// consumer_org) sees only the receipts of messages whose SBD sender or avsender it is.
//
// Receipts are compact JWS, RS256, header {"alg","x5c":[cert]} with Options.ReceiptCertificate, by
// default a self-signed certificate made at New for Options.ReceiptKey or a fresh 2048-bit key (run the
// integration point with difi.move.dpi.certificate.mode=SELF_SIGNED). The payload is a wire.DPIMessage:
// header sender 0192:<receiver of the message>, receiver 0192:<SBD sender of the message>, standard
// wire.DPIStandard(type), typeVersion 1.0, a new UUID instanceIdentifier, creationDateAndTime now, the
// message's ConversationId scope (instanceIdentifier and scopeInformation; no process identifier); body
// avsender = the provider, mottaker = the message's avsender.virksomhetsidentifikator, tidspunkt RFC
// 3339 UTC, plus varslingskanal/beskrivelse (varslingfeiletkvittering) or feiltype/detaljer (feil).
// Every receipt is parsed back and checked against the header and receipt schemas before it is queued;
// one that would not pass is never served.
//
// # KRR
//
// GET /rest/v2/printSertifikat (no token) → {"postkasseleverandoerAdresse": Options.PrintProvider.Orgnr,
// "x509Sertifikat": "<PEM>"}; 404 when no print provider is configured.
//
// # Behaviour
//
// GET/PUT /__admin/behaviour; PUT changes the members present (durations "2s" or milliseconds) and
// applies to messages received afterwards; Reset returns to the Options:
//
//	{"sendtAfter":"0s",        // OPPRETTET → SENDT (Options.SendtAfter)
//	 "feilet":false,           // FEILET instead of SENDT, and no receipts
//	 "kvitteringAfter":"0s",   // SENDT → leveringskvittering (digital) / mottakskvittering (utskrift)
//	 "aapningAfter":null,      // → aapningskvittering, only for aapningskvittering=true; null never
//	 "varslingfeilet":null,    // {"varslingskanal":"epost"|"sms","beskrivelse":…}: right after levering
//	 "feil":null,              // {"feiltype":"KLIENT"|"SERVER","detaljer":…}: instead of levering/mottak
//	                           // (a package fault's feil receipt comes instead of this one)
//	 "returpostAfter":null,    // utskrift: mottakskvittering → returpostkvittering; null never
//	 "overrides":{"<postkasseadresse or receiver orgnr>":{…any member above…}}}
//
// An override changes the members it names for the messages to that postkasseadresse (digital), else to
// that receiver organisation; PUT of overrides replaces the map.
//
// # Admin API
//
//   - GET /__admin/messages (?kanal=, ?type=, ?sender=, ?receiver=, ?postkasseadresse=, ?conversationId=,
//     ?avsenderidentifikator=) → {"messages":[Summary…],"evicted","droppedSteps","storedBytes",
//     "pendingReceipts"}. A Summary's "packageProblems" ([{"path","message"}], empty when none) are the
//     package faults found; "droppedSteps" counts life-cycle steps dropped at the timer bound.
//   - GET /__admin/messages/{id} ({id}: messageId, else the newest message of that conversationId) →
//     MessageView: the summary, the SBD header, the digital or utskrift body with the maskinportentoken
//     redacted, the JWS signer certificate, the token's consumer_org and client, the dokumentpakke (size,
//     fingerprint, signature files, "signatureVerified" and, when verified, "signatureSigner": the XAdES
//     signer's certificate with its subject), the SDP manifest (null when unreadable), the decrypted
//     documents (name, mime, role, tittel, size, sha256; ?content=true adds base64 content and the JWS as
//     received), the multipart parts, and the receipts made with their JWS.
//   - POST /__admin/messages/{id}/receipts {"type", "tidspunkt"?, "varslingskanal"?, "beskrivelse"?,
//     "feiltype"?, "detaljer"?, "motakeridentifikator"?} → 201 ReceiptView: queue a receipt of any type
//     by hand. POST /__admin/inject takes the same with "messageId".
//   - POST /__admin/messages/{id}/statuses {"status":"OPPRETTET"|"SENDT"|"FEILET","beskrivelse"?}.
//   - GET /__admin/receipts (?kanal=, ?type=, ?pending=true|false) → {"receipts":[ReceiptView…]}.
//   - Reset, requests (journal), faults (error bodies in the problem shape) as every simulator.
//
// Memory is bounded: MaxMessages (10 000) and MaxStoredBytes (1 GiB of JWS, receipts and decrypted
// documents) forget the oldest messages and their receipts first; the CMS is not kept. Life-cycle timers
// are tracked and stopped by Reset and Close; at most 100 000 are pending, and a step beyond that (a
// delayed SENDT, receipt, aapnings- or returpostkvittering) is dropped with a logged warning and counted
// as droppedSteps.
//
// # Deviations from the real corner 2 and KRR
//
//   - The error bodies, the 200 body of a send ({}), the 409 for a reused messageId and the idempotent
//     200 for a resend are this simulator's choices; the real ones are not known.
//   - The signer certificates of the JWS and of the XAdES signature are not checked against the
//     avsender or a business-certificate chain unless SignerRoots is set. The maskinportentoken in the
//     forretningsmelding is only required, not checked (the admin view tells whether it is the bearer
//     token).
//   - The provider answers a package fault kvitteringAfter after SENDT, as it would deliver, and the
//     detaljer wording of its feil receipt is this simulator's; what the real providers do and write is
//     not known.
//   - The varsler object is read strictly (the schema leaves additionalProperties open there), and,
//     outside adresseInformasjon, a JSON member present with an empty string counts as absent.
//   - The org scoping of receipts by the token's organisation is inferred, not known.
//   - Receipts are never flyttet, never have a downloadurl, and all are signed with one certificate
//     whatever the provider. Statuses never carry other values than OPPRETTET, SENDT and FEILET.
//   - KRR answers only the print certificate, without the integration point's caching concerns.
package dpi
