-- Delivery keeps the messages of one conversation in order; this index serves that check.
CREATE INDEX IF NOT EXISTS out_messages_conversation_id ON out_messages (conversation_id);
