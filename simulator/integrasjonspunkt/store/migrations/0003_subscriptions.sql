-- Webhook subscriptions (spec ip-api §8.1): where the integration point pushes status events. A name and
-- push endpoint pair is unique. filter is NULL when the subscription has none (every event matches).
CREATE TABLE webhook_subscriptions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    push_endpoint TEXT NOT NULL,
    resource      TEXT NOT NULL,
    event         TEXT NOT NULL,
    filter        TEXT,
    created       TEXT NOT NULL,
    last_updated  TEXT NOT NULL,
    UNIQUE (name, push_endpoint)
);
