DELETE FROM messages WHERE kind = 'sticker';
ALTER TABLE messages DROP COLUMN sticker_id;
ALTER TABLE messages DROP CONSTRAINT messages_kind_check;
ALTER TABLE messages ADD CONSTRAINT messages_kind_check
    CHECK (kind IN ('text', 'game_invite', 'system'));
DROP TABLE stickers;
DROP TABLE sticker_packs;
