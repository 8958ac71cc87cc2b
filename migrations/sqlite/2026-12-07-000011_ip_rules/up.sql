-- Runs outside diesel's transaction (metadata.toml): SQLite changes a CHECK
-- constraint only by rebuilding the table, with foreign keys off, which is
-- possible only outside a transaction (https://sqlite.org/lang_altertable.html).
PRAGMA foreign_keys = OFF;
BEGIN;

-- Moderators handle reports and suspend users (issue 12).
CREATE TABLE users_new (
    id BLOB PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    bio TEXT NOT NULL DEFAULT '',
    avatar_url TEXT,
    profile_links TEXT NOT NULL DEFAULT '[]',
    role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'moderator', 'admin')),
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
    SELECT id, name, display_name, bio, avatar_url, profile_links, role, password_hash, external_subject, public_key_pem, private_key_pem, created_at, updated_at, domain, ap_id, inbox, shared_inbox, fetched_at, ed25519_key_id, ed25519_public_key, ed25519_private_key FROM users;
-- With foreign keys off, dropping users neither cascades nor fails; the
-- other tables' REFERENCES users then name the new table.
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE UNIQUE INDEX users_name_key ON users (lower(name));
CREATE UNIQUE INDEX users_external_subject_key ON users (external_subject);
CREATE UNIQUE INDEX users_ap_id_key ON users (ap_id);

-- Admin-managed allow and deny lists of client address ranges, per scope:
-- `signup` (POST /api/v1/auth/register), `login` (POST /api/v1/auth/login),
-- `ws` (the WebSocket upgrade) and `api` (every other /api/ route).
CREATE TABLE ip_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('signup', 'login', 'api', 'ws')),
    action TEXT NOT NULL CHECK (action IN ('allow', 'deny')),
    -- Normalised: the network address and prefix (`10.0.0.0/8`, `2001:db8::/32`).
    cidr TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX ip_rules_rule_key ON ip_rules (scope, action, cidr);

COMMIT;
PRAGMA foreign_keys = ON;
