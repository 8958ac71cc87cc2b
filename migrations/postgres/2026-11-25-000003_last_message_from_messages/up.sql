-- The newest message is read from messages (index on conversation_id, id),
-- so the writer no longer updates conversations on every message.
ALTER TABLE conversations DROP COLUMN last_message_id;
