-- Full-text search over messages (issue 14). An external-content FTS5
-- table over `messages.body`: the text lives once, in `messages`; the index
-- holds only terms. Its rowid is the message row's rowid, which grows in
-- storage order, so "newest first" is a backwards scan of the index.
-- The index mirrors every row's body exactly (so FTS5's own
-- 'integrity-check' and 'rebuild' apply); a tombstone's body is empty, and
-- the search query keeps live text messages only.
-- The tokenizer folds case only (no stemming, diacritics kept), like
-- PostgreSQL's `simple` configuration, so both backends find the same words.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    body,
    content = 'messages',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 0'
);

INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');

-- An external-content index must be told the exact old text to remove it.
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.rowid, new.body);
END;

-- Edits and tombstones (which empty the body).
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
    INSERT INTO messages_fts (rowid, body) VALUES (new.rowid, new.body);
END;

-- Also fired by ON DELETE CASCADE when a conversation is deleted.
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
END;
