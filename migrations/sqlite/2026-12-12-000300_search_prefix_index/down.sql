DROP TABLE messages_fts;

CREATE VIRTUAL TABLE messages_fts USING fts5(
    body,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);

INSERT OR IGNORE INTO messages_fts_pending (message_rowid) SELECT rowid FROM messages;
