// Package dpf simulates DPF as the eFormidling integration point v4 uses it (upstreams §6, §12.6 REST,
// §12.7): KS SvarUt's REST API (fiks-svarut-klient 4.x, ut.type=rest), KS SvarInn, and the shared admin
// API under /__admin.
//
// # SvarUt REST
//
// Every call needs a Maskinporten bearer token with scope ks:fiks (Options.Scope; verified with
// Options.Maskinporten, or read without signature check when nil) and the headers IntegrasjonId and
// IntegrasjonPassord (checked against Options.Integrations; empty map accepts any non-empty pair).
// Errors: 401 (no/invalid token, missing integration headers), 403 (scope, wrong password), 4xx with
// SvarUt's error body {timestamp,status,error,errorId,path,originalPath,message,errorCode,errorJson}.
//
//   - POST /api/v3/kontoer/{kontoId}/forsendelser/organisasjon: multipart/form-data with part
//     forsendelse (OrganisasjonForsendelse JSON, any content type, read leniently: scalars may be strings
//     or numbers; mottaker.orgnr or mottaker.organisasjonsnummer; svarPaForsendelseId or
//     svarPaForsendelse; sikkerhetsniva or sikkerhetsnivaa) and parts filer_0…filer_{n-1} in dokumenter[]
//     order. Each file is CMS EnvelopedData decrypted with Options.Key (fixtures.CredSvarUt) unless the
//     forsendelse says kryptert=false; without a Key the files are kept encrypted. 400 for: no
//     forsendelse part, bad JSON, no mottaker orgnr, no tittel, no files, a gap in filer_N, a count
//     different from dokumenter[], an empty file ("Kan ikke lagre tomt dokument"), a file that does not
//     decrypt ("Feil under lesing av …"); 415 not multipart; 413 beyond MaxUploadSize. Answer 200
//     {"id":"<new uuid>"}. Status MOTTATT at once, AKSEPTERT after akseptertAfter (default 0: at once),
//     LEST after lestAfter (default never).
//   - POST /api/v3/kontoer/{kontoId}/forsendelser/status/sok {"forsendelseIds":[…]} →
//     {"statuser":[{"id","status","sisteStatusEndring"}]}: each id is looked up as the returned id and
//     otherwise as eksternReferanse (newest forsendelse) — the IP queries with its messageId (upstreams
//     §13 item 4). The answer echoes the queried id; unknown ids are left out.
//     sisteStatusEndring is "2006-01-02T15:04:05.000-07:00".
//   - GET /api/v2/kontoer/{kontoId}/forsendelser?eksternRef= → {"forsendelseIds":[…]} (oldest first).
//   - GET /api/v2/forsendelsestyper → {"forsendelsestyper":[…]} (Options.ForsendelseTyper).
//
// # SvarInn
//
// Under /tjenester/svarinn with HTTP Basic (Options.SvarInnUsers; empty: username = orgnr, any password):
//
//   - GET /mottaker/hentNyeForsendelser → the unacknowledged forsendelser for the user's org, oldest
//     first: id, tittel, date (millis), mottaker, svarSendesTil (flat: adresse1-3, postnr, poststed, navn,
//     land, orgnr, fnr), svarPaForsendelse, forsendelseType, eksternRef, metadataFraAvleverendeSystem
//     (numbers; journaldato/dokumentetsDato epoch millis; saksBehandler; ekstraMetadata), filmetadata
//     [{filnavn, mimetype, sha256hash, dokumentType, size}], downloadUrl (absolute: Options.PublicURL or
//     the request's host + /tjenester/svarinn/mottaker/forsendelse/{id}), niva.
//   - GET /mottaker/forsendelse/{id} (also /forsendelse/{id}) → application/octet-stream CMS
//     EnvelopedData (AES-256-CBC, RSA-OAEP SHA-256) of a ZIP whose entries are named as filmetadata
//     filnavn, encrypted to Options.Credentials(orgnr)'s certificate; 404 for another org's forsendelse;
//     500 when no certificate is known. A corrupt forsendelse answers 200 with bytes that do not decrypt.
//   - POST /kvitterMottak/forsendelse/{id} → 200, removed from the list (idempotent). If the forsendelse
//     came through SvarUt, the SvarUt forsendelse becomes LEST.
//   - POST /mottakFeilet/forsendelse/{id} → 200, recorded; with {"permanent": true} it is no longer listed.
//
// Routing: a SvarUt forsendelse to an org in Options.SvarInnOrgs (decrypted with Options.Key) is copied,
// with a new id, into that org's SvarInn queue; the admin view links both ways (forwardedTo/From).
//
// # Admin API
//
//   - GET /__admin/messages (?kind=svarut|svarinn, ?receiver=, ?eksternRef=, ?status=):
//     {"forsendelser":[Summary…],"evicted","storedBytes"}.
//   - GET /__admin/messages/{id} ({id} may be the eksternReferanse): MessageView — summary, history,
//     callerOrgnr, integrasjonId, forsendelse (parsed), raw (as sent), documents [{part, filnavn,
//     mimeType, contentType, size, uploadSize, sha256, encrypted}] (?content=true adds base64 content),
//     svarInn (the listing JSON), downloads, acknowledgedAt, mottakFeilet, forwardError.
//   - POST /__admin/messages/{id}/lest|akseptert|avvist sets a SvarUt forsendelse's status.
//   - GET/PUT /__admin/behaviour {"akseptertAfter":"0s","lestAfter":null|"2s","avvis":null|
//     {"status":400,"message":"…"}}; only the fields present change. avvis refuses every later send.
//   - POST /__admin/inject {"sender","receiver","tittel","files":[{"name","mimeType","text"|"base64"}],
//     "corrupt",+"senderName","receiverName","svarPaForsendelse","forsendelsestype","eksternRef",
//     "metadata"} (sender defaults to Options.DefaultSender) → 201 {"id","receiver","downloadUrl"}. No files: a generated one-page PDF
//     (dokument.pdf). No metadata: this year's saksaar/journalaar, numbers 1, U/F, today's dates.
//     For hostile-input tests, "zip" (base64) is the forsendelse's ZIP as it is, encrypted on download
//     instead of a ZIP of the files (without files, filmetadata names its entries, unread), and
//     "download" (base64) the download's body as it is, not encrypted; at most one of zip, download
//     and corrupt.
//   - Reset, requests, faults as every simulator (fault bodies in SvarUt's error shape).
//
// Memory is bounded (MaxForsendelser, MaxStoredBytes: the oldest are forgotten); status timers are
// tracked and stopped by Reset and Close.
//
// # Deviations
//
//   - Only the REST flavour of SvarUt; the SOAP ForsendelsesServiceV9 (ut.type=ws) is not simulated.
//   - kontoId is not checked, and status/eksternRef lookups are not scoped to it.
//   - The JSON name of Mottaker's orgnr field in the V3 model was not confirmed; both orgnr and
//     organisasjonsnummer are read. Unknown fields are ignored (kept in raw).
//   - Real SvarUt moves through more statuses (VARSLET, SENDT_DIGITALT, …); only MOTTATT, AKSEPTERT,
//     LEST and AVVIST are produced.
//   - SvarInn user passwords are not checked when SvarInnUsers is empty.
package dpf
