// Package dpv simulates DPV as the eFormidling integration point v4 uses it (upstreams §5, §12.3,
// §12.5): the Altinn 3 Correspondence API under /correspondence/api/v1 as Digdir's altinn-proxy serves
// it, the health probe, the Altinn token exchange, the Altinn token keys, and the shared admin API under
// /__admin. Field names, statuses and shapes follow Altinn.Correspondence.API 1.0.0 (the OpenAPI the
// integration point's client is generated from).
//
// # What is simulated
//
// Token exchange: GET /authentication/api/v1/exchange/maskinporten takes a Maskinporten token (verified
// with Options.Maskinporten) and answers 200 text/plain with a bare RS256 JWT signed with Options.Signer,
// valid 30 minutes, carrying the Maskinporten scope, client and consumer claims (as the DPO simulator
// does). The key set is at /altinn/jwk and /authentication/api/v1/openid/jwks.
//
// Correspondence calls need an Altinn token from the exchange (or, with Options.Maskinporten set, a
// Maskinporten token) with scope eformidling:dpv (Options.Scope): 401 without or with a bad token, 403
// without the scope. The caller is the token's system user organisation, else its consumer.
//
//   - POST /correspondence/upload: multipart/form-data. Text parts are read by their dotted names
//     case-insensitively as ASP.NET Core binds them: recipients (repeated or recipients[i]),
//     idempotentKey, correspondence.resourceId, .sender, .sendersReference, .messageSender,
//     .requestedPublishTime, .dueDateTime, .isConfirmationNeeded, .isConfidential, .ignoreReservation,
//     .propertyList.<key> (or [key]), .content.language/.messageTitle/.messageSummary/.messageBody,
//     .content.attachments[i].fileName/.displayName/.isEncrypted/.sendersReference/.checksum/
//     .expirationInDays/.dataLocationType, .notification.notificationTemplate/.notificationChannel/
//     .emailSubject/.emailBody/.emailContentType/.smsBody/.requestedSendTime/.sendersReference/
//     .sendReminder/.reminderEmailSubject/.reminderEmailBody/.reminderEmailContentType/.reminderSmsBody/
//     .reminderNotificationChannel. File parts named attachments are the files, in order, matched to the
//     metadata by position. Validation (400 "One or more validation errors occurred." with errors keyed by
//     the field name as sent): recipients required, each an organisation or person number or their
//     Altinn URN, no duplicates; indexes from 0 without gaps; resourceId, sendersReference, messageTitle,
//     messageBody required; resourceId one of Options.Resources; language nb, nn or en; dates ISO-8601
//     (without offset: UTC), dueDateTime not before requestedPublishTime; booleans true/false; enums
//     (template, channel, content type, data location) by their names; a CustomMessage notification needs
//     the e-mail subject and body and/or the SMS body its channel needs; attachment sendersReference
//     required; as many attachments files as metadata entries, fileName equal to the file's filename;
//     idempotentKey a UUID; 250 MiB of attachments. Not multipart: 415. Larger than MaxUploadSize: 413.
//     A reused idempotentKey: 409. Answer 200 {"correspondences":[{"correspondenceId","status":
//     "Initialized","recipient","notifications":[]}],"attachmentIds":[…]}, one correspondence per
//     recipient, as Altinn makes them. Unknown fields are accepted and kept for inspection.
//   - GET /correspondence/{id}: CorrespondenceOverviewExt (correspondenceId, resourceId, sender,
//     sendersReference, messageSender, recipient, content with attachments, dates, propertyList, flags,
//     created, status, statusText, statusChanged, notifications [], published, read), for the uploading
//     organisation; 404 unknown or deleted, 410 deleted with ?gone=true.
//   - GET /correspondence?sendersReference=&resourceId=&status=: {"ids":[…]}, the caller's, oldest first,
//     deleted ones left out.
//   - GET /health-probe and /health-probe/: 200 "Healthy", no token.
//
// Life cycle: Initialized, then Published after the publish delay (Options.PublishAfter, default at
// once; a later requestedPublishTime postpones it), then Read after the read delay (Options.ReadAfter,
// default never) or by admin action; PurgedByRecipient / PurgedByAltinn and deletion by admin action
// only. Delays run on tracked timers that Reset and Close stop.
//
// # Admin API
//
//   - GET /__admin/messages (?recipient=, ?sendersReference=, ?resourceId=, ?status=):
//     {"correspondences":[Summary…],"evicted","storedBytes"}.
//   - GET /__admin/messages/{id}: MessageView — the summary, published/read, history, received, caller,
//     recipients, siblings, every parsed field under "correspondence" (content, notification with
//     reminder texts), attachments in upload order (metadata plus part name, filename, content type, size,
//     sha256; ?content=true adds base64 content) and otherFields. {id} may also be the sendersReference
//     (message id) or idempotent key; actions then apply to every correspondence of that upload.
//   - GET /__admin/messages/{id}/attachments/{i}: the bytes.
//   - POST /__admin/messages/{id}/publish, /read (publishes first if need be), /purge?by=recipient|altinn;
//     DELETE /__admin/messages/{id}[?gone=true]. Answer {"correspondences":[Summary…]}; 409 when the
//     state forbids it (reading a purged or deleted one).
//   - GET/PUT /__admin/behaviour {"publishAfter":"0s","readAfter":"2s"|null,"reject":{"status":400,
//     "detail":"…","title":…,"code":…,"times":n}|null}: PUT changes the members named; reject refuses
//     valid uploads (after validation, before the idempotency check) with that ProblemDetails, n times or
//     until cleared. Faults, journal and reset as every simulator.
//
// # Deviations from Altinn and the proxy
//
//   - The proxy's access list check is not simulated: any caller with the scope may use any resource in
//     Options.Resources. Correspondences are visible only to the organisation that uploaded them.
//   - No notification orders are made: notifications is [] in both answers (§12.5), and the notification
//     is only recorded. Reminders are recorded, not enforced.
//   - Error bodies carry no Altinn error codes (CORR-…) since their numbers are not known here.
//   - Only new attachments (dataLocationType NewCorrespondenceAttachment) are supported; the attachment
//     checksum is recorded, not verified. Details, attachment download and the other endpoints the
//     integration point does not call are not served.
//   - recipients[i] with gaps is refused (ASP.NET Core silently stops binding at the gap);
//     correspondence.idempotentKey is accepted as an alias of idempotentKey.
//   - Deletion is an admin action, answered 404 by default or 410 with ?gone=true; real Altinn purges.
//   - Bounded memory: beyond MaxCorrespondences or MaxStoredBytes the oldest uploads are forgotten, their
//     idempotent keys with them.
package dpv
