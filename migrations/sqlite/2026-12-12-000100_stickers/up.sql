-- Runs outside diesel's transaction (metadata.toml): SQLite changes a CHECK
-- constraint only by rebuilding the table, with foreign keys off, which is
-- possible only outside a transaction (https://sqlite.org/lang_altertable.html).
PRAGMA foreign_keys = OFF;
BEGIN;

-- Sticker packs that admins make, and their stickers: a shortcode, an
-- optional emoji and an image kept as a media item of no user. Neither is
-- ever deleted, only marked: messages already sent keep showing a removed
-- sticker, and its media is never swept as an orphan.
CREATE TABLE sticker_packs (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    created_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);

CREATE TABLE stickers (
    id BLOB PRIMARY KEY,
    pack_id BLOB NOT NULL REFERENCES sticker_packs (id),
    shortcode TEXT NOT NULL,
    emoji TEXT,
    media_id BLOB NOT NULL REFERENCES media (id),
    created_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
-- A shortcode names one sticker of a pack at a time.
CREATE UNIQUE INDEX stickers_pack_shortcode ON stickers (pack_id, shortcode)
    WHERE deleted_at IS NULL;
CREATE INDEX stickers_media ON stickers (media_id);

-- Messages get the kind `sticker` and the sticker they show. The rebuilt
-- table keeps each row's rowid: the search index (messages_fts) is keyed
-- by it. With foreign keys off, dropping messages neither cascades nor
-- fails; the other tables' REFERENCES messages then name the new table.
CREATE TABLE messages_new (
    id BLOB PRIMARY KEY NOT NULL,
    conversation_id BLOB NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    author_id BLOB REFERENCES users (id) ON DELETE SET NULL,
    kind TEXT NOT NULL CHECK (kind IN ('text', 'game_invite', 'sticker', 'system')),
    body TEXT NOT NULL,
    reply_to BLOB,
    game TEXT,
    client_id TEXT,
    created_at TIMESTAMP NOT NULL,
    edited_at TIMESTAMP,
    deleted_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL,
    mentions TEXT,
    sticker_id BLOB REFERENCES stickers (id)
);
INSERT INTO messages_new (rowid, id, conversation_id, author_id, kind, body, reply_to, game, client_id, created_at, edited_at, deleted_at, updated_at, mentions, sticker_id)
    SELECT rowid, id, conversation_id, author_id, kind, body, reply_to, game, client_id, created_at, edited_at, deleted_at, updated_at, mentions, NULL FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE INDEX messages_conversation ON messages (conversation_id, id);
CREATE INDEX messages_updated ON messages (updated_at);
CREATE UNIQUE INDEX messages_client_id ON messages (author_id, client_id);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
BEGIN
    INSERT OR IGNORE INTO messages_fts_pending (message_rowid) VALUES (new.rowid);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages
BEGIN
    DELETE FROM messages_fts WHERE rowid = old.rowid;
    INSERT OR IGNORE INTO messages_fts_pending (message_rowid) VALUES (new.rowid);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
BEGIN
    DELETE FROM messages_fts WHERE rowid = old.rowid;
    DELETE FROM messages_fts_pending WHERE message_rowid = old.rowid;
END;

COMMIT;
PRAGMA foreign_keys = ON;
