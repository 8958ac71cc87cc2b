-- Emoji reactions to messages: one row per (message, user, emoji), gone
-- with the message (and so with its conversation) or the user; read in
-- the order they were made.
CREATE TABLE reactions (
    message_id UUID NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji)
);
CREATE INDEX reactions_message ON reactions (message_id, created_at);
CREATE INDEX reactions_user ON reactions (user_id);

-- Pinned messages of groups: at most a few per group (enforced by the
-- server), gone with the message or the group.
CREATE TABLE pins (
    conversation_id UUID NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    message_id UUID NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    pinned_by UUID REFERENCES users (id) ON DELETE SET NULL,
    pinned_at TIMESTAMP NOT NULL,
    PRIMARY KEY (conversation_id, message_id)
);
CREATE INDEX pins_message ON pins (message_id);
