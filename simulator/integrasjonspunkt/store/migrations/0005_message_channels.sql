-- The message channel an incoming message carried, so that a receipt the archive system sends for it can
-- take the same channel (the real IP's message_channel_entry).
CREATE TABLE message_channels (
    message_id TEXT PRIMARY KEY,
    channel    TEXT NOT NULL,
    created    TEXT NOT NULL
);
