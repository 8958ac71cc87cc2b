//! The one schema both backends share. Column types are chosen so that the
//! same diesel query compiles for PostgreSQL and SQLite: ids are
//! [`DbUuid`](crate::db::ids::DbUuid), times are `Timestamp` (UTC, no zone).
//! The SQL that creates it lives in `migrations/postgres` and
//! `migrations/sqlite`; keep the three in step.

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    /// Accounts: Confab's own sign-ups and users of the external auth service.
    users (id) {
        id -> DbUuid,
        name -> Text,
        display_name -> Text,
        bio -> Text,
        avatar_url -> Nullable<Text>,
        profile_links -> Text,
        role -> Text,
        password_hash -> Nullable<Text>,
        external_subject -> Nullable<Text>,
        public_key_pem -> Nullable<Text>,
        private_key_pem -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        /// `None` for local accounts; the host (with port) of a remote actor.
        domain -> Nullable<Text>,
        /// The ActivityPub id of a remote actor.
        ap_id -> Nullable<Text>,
        inbox -> Nullable<Text>,
        shared_inbox -> Nullable<Text>,
        fetched_at -> Nullable<Timestamp>,
        /// A remote actor's Ed25519 `assertionMethod` key id.
        ed25519_key_id -> Nullable<Text>,
        /// An Ed25519 public key as `publicKeyMultibase`.
        ed25519_public_key -> Nullable<Text>,
        /// A local actor's Ed25519 private key, PKCS#8 in base64.
        ed25519_private_key -> Nullable<Text>,
        /// When the account was suspended; `None` when it is not.
        suspended_at -> Nullable<Timestamp>,
        /// Raised to invalidate every token issued before (claim `gen`).
        token_generation -> BigInt,
        /// Whether the user's presence goes to contacts on other servers.
        share_presence_remote -> Bool,
        /// Whether the user's read markers are shown to other members.
        share_read_receipts -> Bool,
    }
}

diesel::table! {
    /// Instance-wide values generated once and kept (the token signing secret).
    instance_settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    /// Direct (two users, one per pair via `direct_key`) and group chats.
    conversations (id) {
        id -> DbUuid,
        kind -> Text,
        name -> Nullable<Text>,
        topic -> Text,
        avatar_url -> Nullable<Text>,
        creator_id -> Nullable<DbUuid>,
        direct_key -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        /// A group hosted on another server: its ActivityPub id.
        ap_id -> Nullable<Text>,
        /// A group hosted here: the keypair its `Announce`s are signed with.
        public_key_pem -> Nullable<Text>,
        private_key_pem -> Nullable<Text>,
        /// A group hosted elsewhere: its inbox.
        inbox -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    /// Who is in which conversation, with which rights (1 read .. 4 owner).
    members (conversation_id, user_id) {
        conversation_id -> DbUuid,
        user_id -> DbUuid,
        rights -> Integer,
        joined_at -> Timestamp,
        last_read -> Nullable<DbUuid>,
        muted -> Bool,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    /// Messages; a deleted one keeps its row as a tombstone (`deleted_at`).
    messages (id) {
        id -> DbUuid,
        conversation_id -> DbUuid,
        author_id -> Nullable<DbUuid>,
        kind -> Text,
        body -> Text,
        reply_to -> Nullable<DbUuid>,
        /// JSON of a game invitation (name, settings, state, invitee).
        game -> Nullable<Text>,
        client_id -> Nullable<Text>,
        created_at -> Timestamp,
        edited_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
        /// JSON array of the ids of the members the message mentions.
        mentions -> Nullable<Text>,
        /// The sticker of a `sticker` message.
        sticker_id -> Nullable<DbUuid>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    /// Contact invitations (`pending`) and contacts (`accepted`).
    contacts (requester_id, addressee_id) {
        requester_id -> DbUuid,
        addressee_id -> DbUuid,
        state -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        /// The ActivityPub id of the requester's `Follow`.
        follow_id -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    blocks (blocker_id, blocked_id) {
        blocker_id -> DbUuid,
        blocked_id -> DbUuid,
        created_at -> Timestamp,
        /// The ActivityPub id of the `Block` last sent for it.
        activity_id -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    /// The persistent federation queue: one row per (activity, inbox).
    deliveries (id) {
        id -> DbUuid,
        activity_id -> Text,
        signer -> Text,
        inbox -> Text,
        host -> Text,
        body -> Text,
        message_id -> Nullable<DbUuid>,
        recipient_id -> Nullable<DbUuid>,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Health of the hosts we deliver to.
    federation_hosts (host) {
        host -> Text,
        failures -> Integer,
        retry_at -> Nullable<Timestamp>,
        last_success_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Activity ids already applied (replays are no-ops).
    received_activities (id) {
        id -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    /// Instances we do not federate with.
    instance_blocks (domain) {
        domain -> Text,
        reason -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    /// Requests to join a group hosted here, waiting for an admin.
    join_requests (conversation_id, user_id) {
        conversation_id -> DbUuid,
        user_id -> DbUuid,
        follow_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    /// Requests local users sent to join groups hosted elsewhere.
    sent_join_requests (user_id, group_id) {
        user_id -> DbUuid,
        group_id -> Text,
        group_inbox -> Text,
        group_name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    /// Invitation codes for sign-up in invite-only mode.
    invitations (code) {
        code -> Text,
        created_by -> Nullable<DbUuid>,
        max_uses -> Integer,
        uses -> Integer,
        expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Allow and deny rules on client address ranges, per scope.
    ip_rules (id) {
        id -> BigInt,
        /// `signup`, `login`, `api` or `ws`.
        scope -> Text,
        /// `allow` or `deny`.
        action -> Text,
        /// Normalised CIDR range.
        cidr -> Text,
        note -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    /// Reports for the moderators' queue (local, or received as `Flag`).
    reports (id) {
        id -> DbUuid,
        reporter_id -> Nullable<DbUuid>,
        origin -> Nullable<Text>,
        activity_id -> Nullable<Text>,
        target_id -> Nullable<DbUuid>,
        message_ids -> Text,
        comment -> Text,
        forwarded -> Bool,
        state -> Text,
        action_taken -> Nullable<Text>,
        note -> Nullable<Text>,
        resolved_by -> Nullable<DbUuid>,
        resolved_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    /// Emoji reactions: one per (message, user, emoji).
    reactions (message_id, user_id, emoji) {
        message_id -> DbUuid,
        user_id -> DbUuid,
        emoji -> Text,
        created_at -> Timestamp,
        ap_id -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    /// Pinned messages of groups.
    pins (conversation_id, message_id) {
        conversation_id -> DbUuid,
        message_id -> DbUuid,
        pinned_by -> Nullable<DbUuid>,
        pinned_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    /// Uploaded and received media.
    media (id) {
        id -> DbUuid,
        uploader_id -> Nullable<DbUuid>,
        kind -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
        blurhash -> Nullable<Text>,
        has_thumbnail -> Bool,
        storage_key -> Nullable<Text>,
        remote_url -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    /// Which message carries which media.
    message_attachments (media_id) {
        media_id -> DbUuid,
        message_id -> DbUuid,
        position -> Integer,
        alt_text -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    /// The preview of a message's first link.
    link_previews (message_id) {
        message_id -> DbUuid,
        url -> Text,
        title -> Nullable<Text>,
        description -> Nullable<Text>,
        site_name -> Nullable<Text>,
        image_id -> Nullable<DbUuid>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    /// Sticker packs admins make (marked deleted, never removed).
    sticker_packs (id) {
        id -> DbUuid,
        name -> Text,
        description -> Nullable<Text>,
        created_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::ids::DbUuid;

    /// The stickers of the packs (marked deleted, never removed).
    stickers (id) {
        id -> DbUuid,
        pack_id -> DbUuid,
        shortcode -> Text,
        emoji -> Nullable<Text>,
        media_id -> DbUuid,
        created_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(members -> conversations (conversation_id));
diesel::joinable!(members -> users (user_id));
diesel::joinable!(messages -> conversations (conversation_id));
diesel::joinable!(reactions -> messages (message_id));
diesel::joinable!(pins -> messages (message_id));
diesel::joinable!(message_attachments -> media (media_id));
diesel::joinable!(message_attachments -> messages (message_id));
diesel::joinable!(link_previews -> media (image_id));
diesel::joinable!(link_previews -> messages (message_id));
diesel::joinable!(stickers -> sticker_packs (pack_id));
diesel::joinable!(stickers -> media (media_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    conversations,
    members,
    messages,
    contacts,
    blocks,
    deliveries,
    join_requests,
    sent_join_requests,
    invitations,
    reports,
    reactions,
    pins,
    media,
    message_attachments,
    link_previews,
    sticker_packs,
    stickers
);
