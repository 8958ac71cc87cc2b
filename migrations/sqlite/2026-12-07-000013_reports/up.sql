-- Reports about a user or their messages, for the moderators' queue: made
-- by a local user (reporter_id), or received as a Flag from another server
-- (origin: the remote actor that sent it).
CREATE TABLE reports (
    id BLOB PRIMARY KEY NOT NULL,
    reporter_id BLOB REFERENCES users (id) ON DELETE SET NULL,
    origin TEXT,
    -- The id of the Flag received (NULL for local reports).
    activity_id TEXT,
    target_id BLOB REFERENCES users (id) ON DELETE SET NULL,
    -- The reported messages, a JSON array of message ids.
    message_ids TEXT NOT NULL DEFAULT '[]',
    comment TEXT NOT NULL,
    forwarded BOOLEAN NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
    action_taken TEXT,
    note TEXT,
    resolved_by BLOB REFERENCES users (id) ON DELETE SET NULL,
    resolved_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX reports_state ON reports (state, created_at);
CREATE INDEX reports_reporter ON reports (reporter_id, state);
