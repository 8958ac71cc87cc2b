-- Full-text search over text messages (issue 14): a generated tsvector of
-- each live text message (NULL for system messages, game cards and
-- tombstones, which are never found) and a GIN index on it. Generated, so
-- sends, edits and deletions keep it current without any code path
-- remembering to.
-- The `simple` configuration lowercases and does not stem: a chat mixes
-- languages, and a stemmer for one language mangles words of another;
-- SQLite's FTS5 index folds case the same way, so both backends find the
-- same words.
ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (
    CASE WHEN kind = 'text' AND deleted_at IS NULL THEN to_tsvector('simple'::regconfig, body) END
) STORED;
CREATE INDEX messages_search ON messages USING GIN (search);
