-- Requests to join a group hosted here (a remote actor's Follow{Group})
-- waiting for an admin's answer.
CREATE TABLE join_requests (
    conversation_id BLOB NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The Follow's id, echoed in the Accept or Reject.
    follow_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
