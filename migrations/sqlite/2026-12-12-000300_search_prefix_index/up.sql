-- Prefix searches (issue 14): FTS5 keeps a second index of every word's
-- first two and first three characters (`prefix = '2 3'`), so `kel*`
-- reads one list, newest first, instead of merging the list of every word
-- that starts with `kel` before the first result. Two and three characters
-- are the short prefixes (`chat::search::query` allows two or more) that
-- expand to many words; longer ones expand to few.
--
-- FTS5 cannot add the option to an existing table: the index is dropped,
-- created again and every message marked as waiting, so the search
-- indexer (`chat::search::index`) rebuilds it in the background after the
-- upgrade; searches wait for it (see docs/operations.md, "Upgrades").
-- The triggers of `search_index_off_the_send_path` name the table, not
-- its options, and stay as they are.
DROP TABLE messages_fts;

CREATE VIRTUAL TABLE messages_fts USING fts5(
    body,
    content = '',
    contentless_delete = 1,
    prefix = '2 3',
    tokenize = 'unicode61 remove_diacritics 0'
);

INSERT OR IGNORE INTO messages_fts_pending (message_rowid) SELECT rowid FROM messages;
