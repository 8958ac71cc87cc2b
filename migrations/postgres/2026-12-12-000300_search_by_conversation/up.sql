-- Search by conversation (issue 14): a GIN index on `conversation_id`
-- (from the `btree_gin` contrib extension, trusted since PostgreSQL 13, so
-- the database's owner may create it) that the search query ANDs, as a
-- bitmap, with the GIN index on `search`: only the matches in the reader's
-- conversations are read from the table and sorted, where the
-- `messages_conversation` B-tree made the planner look the words up again
-- for every conversation (or read every match, most of them unreadable).
-- A GIN posting list holds a conversation's rows in a few compressed pages
-- instead of a B-tree leaf entry per row.
-- Measured against a composite GIN on `(conversation_id, search)`, which
-- repeats the word lookup (and a prefix's whole expansion) once per
-- conversation of the reader: see docs/benchmarks.md, "Search".
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX messages_conversation_gin ON messages USING GIN (conversation_id);
