-- The in-queue of the reference integration point (spec ip-api §7): messages received from a channel,
-- waiting for the client's peek → pop → delete. Each has an INCOMING conversation (statuses OPPRETTET,
-- INNKOMMENDE_MOTTATT, …). asic_file names the decrypted ASiC-E container under the data directory's
-- "incoming" folder, NULL for messages without one (receipts, status-less avtalt). lock_timeout is set by
-- peek and cleared when it passes.
CREATE TABLE in_messages (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id          TEXT NOT NULL UNIQUE,
    conversation_id     TEXT NOT NULL,
    process_identifier  TEXT NOT NULL DEFAULT '',
    sender_identifier   TEXT NOT NULL DEFAULT '',
    receiver_identifier TEXT NOT NULL DEFAULT '',
    service_identifier  TEXT NOT NULL DEFAULT '',
    message_type        TEXT NOT NULL DEFAULT '',
    sbd                 BLOB NOT NULL,
    asic_file           TEXT,
    asic_size           INTEGER NOT NULL DEFAULT 0,
    lock_timeout        TEXT,
    created             TEXT NOT NULL,
    last_updated        TEXT NOT NULL,
    expiry              TEXT NOT NULL
);
CREATE INDEX in_messages_created ON in_messages (created, id);
CREATE INDEX in_messages_lock_timeout ON in_messages (lock_timeout);

-- Internal outbox rows are messages the integration point sends by itself (status SBDs MOTTATT and
-- LEVERT): delivered like any other, never listed to the client, keyed by StatusKey (the SBD inside keeps
-- the real messageId).
ALTER TABLE out_messages ADD COLUMN internal INTEGER NOT NULL DEFAULT 0;
