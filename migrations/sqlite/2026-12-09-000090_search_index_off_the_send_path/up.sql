-- Search indexing leaves the send path (issue 11's throughput): every
-- commit of the message writer used to flush a new FTS5 segment (and
-- merge older ones) for the few messages it carried, inside the one
-- serial write path. Now a commit only notes the new rowids in
-- `messages_fts_pending`, one small B-tree append, and the search indexer
-- (`chat::search::index`) indexes what is pending in large batches, off
-- the send path, and always before a search runs.
--
-- The index becomes contentless with deletes (SQLite >= 3.43): a row can
-- be removed by rowid alone, whether it was indexed yet or not, so edits
-- and deletions need no old text.
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_update;
DROP TRIGGER messages_fts_delete;
DROP TABLE messages_fts;

CREATE VIRTUAL TABLE messages_fts USING fts5(
    body,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);

-- Rowids of `messages` whose body is not (or no longer) in the index.
CREATE TABLE messages_fts_pending (
    message_rowid INTEGER PRIMARY KEY NOT NULL
);

INSERT INTO messages_fts_pending (message_rowid) SELECT rowid FROM messages;

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
BEGIN
    INSERT OR IGNORE INTO messages_fts_pending (message_rowid) VALUES (new.rowid);
END;

-- Edits and tombstones (which empty the body): out of the index now, back
-- in with the new text at the next indexing.
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages
BEGIN
    DELETE FROM messages_fts WHERE rowid = old.rowid;
    INSERT OR IGNORE INTO messages_fts_pending (message_rowid) VALUES (new.rowid);
END;

-- Also fired by ON DELETE CASCADE when a conversation is deleted.
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
BEGIN
    DELETE FROM messages_fts WHERE rowid = old.rowid;
    DELETE FROM messages_fts_pending WHERE message_rowid = old.rowid;
END;
