-- Moderators handle reports and suspend users (issue 12).
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('user', 'moderator', 'admin'));

-- Admin-managed allow and deny lists of client address ranges, per scope:
-- `signup` (POST /api/v1/auth/register), `login` (POST /api/v1/auth/login),
-- `ws` (the WebSocket upgrade) and `api` (every other /api/ route).
CREATE TABLE ip_rules (
    id BIGSERIAL PRIMARY KEY,
    scope TEXT NOT NULL CHECK (scope IN ('signup', 'login', 'api', 'ws')),
    action TEXT NOT NULL CHECK (action IN ('allow', 'deny')),
    -- Normalised: the network address and prefix (`10.0.0.0/8`, `2001:db8::/32`).
    cidr TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX ip_rules_rule_key ON ip_rules (scope, action, cidr);
