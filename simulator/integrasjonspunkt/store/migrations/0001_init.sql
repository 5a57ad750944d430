-- Conversations, their statuses, the outbox with its files, the durable delivery queue and the status
-- queue of the reference integration point. Timestamps are RFC 3339 UTC text with nanoseconds, so they
-- sort as text.
CREATE TABLE conversations (
    id                        INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id           TEXT    NOT NULL,
    message_id                TEXT    NOT NULL,
    direction                 TEXT    NOT NULL CHECK (direction IN ('OUTGOING', 'INCOMING')),
    sender                    TEXT    NOT NULL DEFAULT '',
    sender_identifier         TEXT    NOT NULL DEFAULT '',
    receiver                  TEXT    NOT NULL DEFAULT '',
    receiver_identifier       TEXT    NOT NULL DEFAULT '',
    process_identifier        TEXT    NOT NULL DEFAULT '',
    document_identifier       TEXT    NOT NULL DEFAULT '',
    message_reference         TEXT    NOT NULL DEFAULT '',
    message_title             TEXT    NOT NULL DEFAULT '',
    service_identifier        TEXT    NOT NULL DEFAULT '',
    external_system_reference TEXT,
    expiry                    TEXT    NOT NULL,
    finished                  INTEGER NOT NULL DEFAULT 0,
    pollable                  INTEGER NOT NULL DEFAULT 0,
    last_update               TEXT    NOT NULL
);
CREATE UNIQUE INDEX conversations_message_direction ON conversations (message_id, direction);
CREATE INDEX conversations_conversation_id ON conversations (conversation_id);
CREATE INDEX conversations_open_expiry ON conversations (finished, expiry);

CREATE TABLE message_statuses (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    conv_id     INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    status      TEXT    NOT NULL,
    description TEXT,
    raw_receipt TEXT,
    last_update TEXT    NOT NULL,
    UNIQUE (conv_id, status)
);
CREATE INDEX message_statuses_last_update ON message_statuses (last_update);

CREATE TABLE status_queue (
    status_id INTEGER PRIMARY KEY REFERENCES message_statuses (id) ON DELETE CASCADE
);

CREATE TABLE out_messages (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id          TEXT NOT NULL UNIQUE,
    conversation_id     TEXT NOT NULL,
    process_identifier  TEXT NOT NULL DEFAULT '',
    sender_identifier   TEXT NOT NULL DEFAULT '',
    receiver_identifier TEXT NOT NULL DEFAULT '',
    service_identifier  TEXT NOT NULL DEFAULT '',
    sbd                 BLOB NOT NULL,
    created             TEXT NOT NULL,
    last_updated        TEXT NOT NULL
);

CREATE TABLE out_files (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id       TEXT    NOT NULL REFERENCES out_messages (message_id) ON DELETE CASCADE,
    identifier       TEXT    NOT NULL,
    filename         TEXT    NOT NULL,
    title            TEXT    NOT NULL DEFAULT '',
    mimetype         TEXT    NOT NULL,
    size             INTEGER NOT NULL,
    primary_document INTEGER NOT NULL DEFAULT 0,
    dokumentnummer   INTEGER NOT NULL,
    UNIQUE (message_id, filename)
);

-- One row per message handed to delivery; it lives in the same transaction as the statuses it causes.
CREATE TABLE delivery_queue (
    message_id      TEXT    PRIMARY KEY REFERENCES out_messages (message_id) ON DELETE CASCADE,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    locked_until    TEXT,
    last_error      TEXT,
    enqueued_at     TEXT    NOT NULL
);
CREATE INDEX delivery_queue_due ON delivery_queue (next_attempt_at);
