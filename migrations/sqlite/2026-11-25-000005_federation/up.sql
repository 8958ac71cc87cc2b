-- Remote actors are users too: `domain` is NULL for local accounts.
ALTER TABLE users ADD COLUMN domain TEXT;
ALTER TABLE users ADD COLUMN ap_id TEXT;
ALTER TABLE users ADD COLUMN inbox TEXT;
ALTER TABLE users ADD COLUMN shared_inbox TEXT;
ALTER TABLE users ADD COLUMN fetched_at TIMESTAMP;
CREATE UNIQUE INDEX users_ap_id_key ON users (ap_id);

-- Groups hosted here have a keypair (they sign Announces); a group hosted
-- elsewhere is mirrored here with its ActivityPub id.
ALTER TABLE conversations ADD COLUMN ap_id TEXT;
ALTER TABLE conversations ADD COLUMN public_key_pem TEXT;
ALTER TABLE conversations ADD COLUMN private_key_pem TEXT;
ALTER TABLE conversations ADD COLUMN inbox TEXT;
CREATE UNIQUE INDEX conversations_ap_id_key ON conversations (ap_id);

-- The ActivityPub id of the requester's Follow, so Accept/Reject/Undo can name it.
ALTER TABLE contacts ADD COLUMN follow_id TEXT;

-- The persistent delivery queue: one row per (activity, inbox).
CREATE TABLE deliveries (
    id BLOB PRIMARY KEY NOT NULL,
    activity_id TEXT NOT NULL,
    -- The local actor (user or group) whose key signs the request.
    signer TEXT NOT NULL,
    inbox TEXT NOT NULL,
    host TEXT NOT NULL,
    body TEXT NOT NULL,
    message_id BLOB,
    recipient_id BLOB,
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'delivered', 'retrying', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX deliveries_activity_inbox ON deliveries (activity_id, inbox);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_message ON deliveries (message_id);

-- Per-host health: consecutive failures decide the backoff and the dead state.
CREATE TABLE federation_hosts (
    host TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    retry_at TIMESTAMP,
    last_success_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);

-- Ids of activities already applied: a replay is a no-op.
CREATE TABLE received_activities (
    id TEXT PRIMARY KEY NOT NULL,
    received_at TIMESTAMP NOT NULL
);
CREATE INDEX received_activities_at ON received_activities (received_at);

-- Instances whose activities are refused and to which nothing is sent.
CREATE TABLE instance_blocks (
    domain TEXT PRIMARY KEY NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
