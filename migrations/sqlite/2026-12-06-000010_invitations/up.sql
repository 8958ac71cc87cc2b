-- Invitation codes admins create for sign-up in invite-only mode
-- (registration = invite). A code admits max_uses sign-ups until expires_at.
CREATE TABLE invitations (
    code TEXT PRIMARY KEY NOT NULL,
    -- The admin who created it (NULL: the CLI, or the admin is gone).
    created_by BLOB REFERENCES users (id) ON DELETE SET NULL,
    max_uses INTEGER NOT NULL,
    uses INTEGER NOT NULL DEFAULT 0,
    expires_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
