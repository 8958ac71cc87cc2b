-- Whether the other members of a user's conversations see how far the user
-- has read (and whether the user sees theirs); on by default, a user
-- setting (account settings).
ALTER TABLE users ADD COLUMN share_read_receipts BOOLEAN NOT NULL DEFAULT TRUE;
