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
    }
}

diesel::table! {
    /// Instance-wide values generated once and kept (the token signing secret).
    instance_settings (key) {
        key -> Text,
        value -> Text,
    }
}
