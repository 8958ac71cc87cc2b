-- Outside diesel's transaction, as up.sql.
PRAGMA foreign_keys = OFF;
BEGIN;
DROP TABLE ip_rules;
CREATE TABLE users_new (
    id BLOB PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    bio TEXT NOT NULL DEFAULT '',
    avatar_url TEXT,
    profile_links TEXT NOT NULL DEFAULT '[]',
    role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    password_hash TEXT,
    external_subject TEXT,
    public_key_pem TEXT,
    private_key_pem TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    domain TEXT,
    ap_id TEXT,
    inbox TEXT,
    shared_inbox TEXT,
    fetched_at TIMESTAMP,
    ed25519_key_id TEXT,
    ed25519_public_key TEXT,
    ed25519_private_key TEXT
);
INSERT INTO users_new (id, name, display_name, bio, avatar_url, profile_links, role, password_hash, external_subject, public_key_pem, private_key_pem, created_at, updated_at, domain, ap_id, inbox, shared_inbox, fetched_at, ed25519_key_id, ed25519_public_key, ed25519_private_key)
    SELECT id, name, display_name, bio, avatar_url, profile_links, CASE role WHEN 'moderator' THEN 'user' ELSE role END, password_hash, external_subject, public_key_pem, private_key_pem, created_at, updated_at, domain, ap_id, inbox, shared_inbox, fetched_at, ed25519_key_id, ed25519_public_key, ed25519_private_key FROM users;
-- With foreign keys off, dropping users neither cascades nor fails; the
-- other tables' REFERENCES users then name the new table.
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE UNIQUE INDEX users_name_key ON users (lower(name));
CREATE UNIQUE INDEX users_external_subject_key ON users (external_subject);
CREATE UNIQUE INDEX users_ap_id_key ON users (ap_id);
COMMIT;
PRAGMA foreign_keys = ON;
