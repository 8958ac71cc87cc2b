ALTER TABLE messages DROP COLUMN mentions;
