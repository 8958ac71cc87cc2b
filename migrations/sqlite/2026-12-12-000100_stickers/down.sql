-- Outside diesel's transaction, as up.sql.
PRAGMA foreign_keys = OFF;
BEGIN;
DELETE FROM messages WHERE kind = 'sticker';
CREATE TABLE messages_new (
    id BLOB PRIMARY KEY NOT NULL,
    conversation_id BLOB NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    author_id BLOB REFERENCES users (id) ON DELETE SET NULL,
    kind TEXT NOT NULL CHECK (kind IN ('text', 'game_invite', 'system')),
    body TEXT NOT NULL,
    reply_to BLOB,
    game TEXT,
    client_id TEXT,
    created_at TIMESTAMP NOT NULL,
    edited_at TIMESTAMP,
    deleted_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL,
    mentions TEXT
);
INSERT INTO messages_new (rowid, id, conversation_id, author_id, kind, body, reply_to, game, client_id, created_at, edited_at, deleted_at, updated_at, mentions)
    SELECT rowid, id, conversation_id, author_id, kind, body, reply_to, game, client_id, created_at, edited_at, deleted_at, updated_at, mentions FROM messages;
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
DROP TABLE stickers;
DROP TABLE sticker_packs;

COMMIT;
PRAGMA foreign_keys = ON;
