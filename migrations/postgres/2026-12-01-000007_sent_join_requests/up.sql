-- Requests a local user sent to join a group hosted on another server
-- (their Follow{Group}), until the group answers or the user withdraws.
CREATE TABLE sent_join_requests (
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The group's ActivityPub id, and where to send an Undo.
    group_id TEXT NOT NULL,
    group_inbox TEXT NOT NULL,
    -- The group's name when the request was sent, to show it meanwhile.
    group_name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, group_id)
);
