ALTER TABLE conversations ADD COLUMN last_message_id UUID;
