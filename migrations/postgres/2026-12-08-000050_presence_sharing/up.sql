-- Whether a user's presence (online, away, offline) goes to their contacts
-- on other servers; on by default, a user setting (account settings).
ALTER TABLE users ADD COLUMN share_presence_remote BOOLEAN NOT NULL DEFAULT TRUE;
