//! The `users` table: row structs and the queries on them. Names are unique
//! case-insensitively (a unique index on `lower(name)`), so lookups compare
//! `lower(name)` with an already-lowercased key.

use super::ids::UserId;
use super::schema::{blocks, users};
use super::{DbConn, DbError};
use crate::with_conn;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

diesel::define_sql_function! {
    /// SQL `lower()`, available on both backends.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// One stored user, as the database holds it.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: UserId,
    pub name: String,
    pub display_name: String,
    pub bio: String,
    pub avatar_url: Option<String>,
    /// JSON array of `{name, url}` objects.
    pub profile_links: String,
    /// `user` or `admin`.
    pub role: String,
    /// argon2id PHC string; `None` for accounts of the external auth service.
    pub password_hash: Option<String>,
    /// The external auth service's `sub` for accounts created from its tokens.
    pub external_subject: Option<String>,
    /// The ActivityPub actor keypair, generated when federation needs it.
    pub public_key_pem: Option<String>,
    pub private_key_pem: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// `None` for local accounts; a remote actor's host (with its port).
    pub domain: Option<String>,
    /// A remote actor's ActivityPub id.
    pub ap_id: Option<String>,
    pub inbox: Option<String>,
    pub shared_inbox: Option<String>,
    /// When a remote actor was last fetched.
    pub fetched_at: Option<NaiveDateTime>,
    /// A remote actor's Ed25519 key id (FEP-521a `assertionMethod`).
    pub ed25519_key_id: Option<String>,
    /// The actor's Ed25519 public key (`publicKeyMultibase`).
    pub ed25519_public_key: Option<String>,
    /// A local actor's Ed25519 private key (PKCS#8, base64).
    pub ed25519_private_key: Option<String>,
    /// When the account was suspended (it cannot log in, its tokens are
    /// refused); `None` when it is not.
    pub suspended_at: Option<NaiveDateTime>,
    /// Tokens carry the generation they were issued in (`gen`); raising it
    /// invalidates all of them (password change, "log out other sessions").
    pub token_generation: i64,
    /// Whether the user's presence goes to their contacts on other
    /// servers (a local user's setting; `true` for remote users).
    pub share_presence_remote: bool,
    /// Whether the other members of the user's conversations see the
    /// user's read markers, and the user theirs (a local user's setting;
    /// `true` for remote users, whose markers this server never holds).
    pub share_read_receipts: bool,
}

/// The profile fields a user (or an admin) may change.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = users)]
pub struct ProfileChanges {
    pub display_name: Option<String>,
    pub bio: Option<String>,
    /// `Some(None)` clears the avatar.
    pub avatar_url: Option<Option<String>>,
    pub profile_links: Option<String>,
    pub role: Option<String>,
    pub updated_at: NaiveDateTime,
}

pub async fn insert(conn: &mut DbConn<'_>, row: &UserRow) -> Result<UserRow, DbError> {
    let inserted = with_conn!(conn, |c| {
        diesel::insert_into(users::table)
            .values(row)
            .returning(UserRow::as_returning())
            .get_result(c)
            .await
    })?;
    Ok(inserted)
}

pub async fn count(conn: &mut DbConn<'_>) -> Result<i64, DbError> {
    let n = with_conn!(conn, |c| users::table.count().get_result(c).await)?;
    Ok(n)
}

pub async fn find_by_id(conn: &mut DbConn<'_>, id: UserId) -> Result<Option<UserRow>, DbError> {
    let row = with_conn!(conn, |c| {
        users::table
            .find(id)
            .select(UserRow::as_select())
            .first(c)
            .await
            .optional()
    })?;
    Ok(row)
}

/// Finds a user by name, ignoring case.
pub async fn find_by_name(conn: &mut DbConn<'_>, name: &str) -> Result<Option<UserRow>, DbError> {
    let key = name.to_lowercase();
    let row = with_conn!(conn, |c| {
        users::table
            .filter(lower(users::name).eq(&key))
            .select(UserRow::as_select())
            .first(c)
            .await
            .optional()
    })?;
    Ok(row)
}

pub async fn find_by_external_subject(
    conn: &mut DbConn<'_>,
    subject: &str,
) -> Result<Option<UserRow>, DbError> {
    let row = with_conn!(conn, |c| {
        users::table
            .filter(users::external_subject.eq(subject))
            .select(UserRow::as_select())
            .first(c)
            .await
            .optional()
    })?;
    Ok(row)
}

/// One page of users ordered by lowercased name: those whose name starts
/// with `prefix` and sorts after `after` (both lowercase; empty means any),
/// leaving out users who block `viewer`.
pub async fn list(
    conn: &mut DbConn<'_>,
    viewer: Option<UserId>,
    prefix: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<UserRow>, DbError> {
    let pattern = format!("{}%", escape_like(prefix));
    // The nil id blocks nobody.
    let viewer = viewer.unwrap_or(UserId(uuid::Uuid::nil()));
    let rows = with_conn!(conn, |c| {
        let blockers = blocks::table
            .filter(blocks::blocked_id.eq(viewer))
            .select(blocks::blocker_id);
        users::table
            .filter(diesel::dsl::not(users::id.eq_any(blockers)))
            .filter(users::domain.is_null())
            .filter(lower(users::name).like(&pattern).escape('\\'))
            .filter(lower(users::name).gt(after))
            .order(lower(users::name))
            .limit(limit)
            .select(UserRow::as_select())
            .load(c)
            .await
    })?;
    Ok(rows)
}

/// Applies `changes`; `None` when no such user exists.
pub async fn update(
    conn: &mut DbConn<'_>,
    id: UserId,
    changes: &ProfileChanges,
) -> Result<Option<UserRow>, DbError> {
    let row = with_conn!(conn, |c| {
        diesel::update(users::table.find(id))
            .set(changes)
            .returning(UserRow::as_returning())
            .get_result(c)
            .await
            .optional()
    })?;
    Ok(row)
}

/// Stores a new password hash and raises the token generation (every
/// older token stops working). With `expected`, only if the stored hash is
/// still that one (a concurrent change wins). `None` when nothing matched.
pub async fn set_password(
    conn: &mut DbConn<'_>,
    id: UserId,
    expected: Option<&str>,
    hash: &str,
    now: NaiveDateTime,
) -> Result<Option<UserRow>, DbError> {
    let changes = (
        users::password_hash.eq(hash),
        users::token_generation.eq(users::token_generation + 1),
        users::updated_at.eq(now),
    );
    let row = match expected {
        Some(old) => with_conn!(conn, |c| {
            diesel::update(users::table.find(id).filter(users::password_hash.eq(old)))
                .set(changes)
                .returning(UserRow::as_returning())
                .get_result(c)
                .await
                .optional()
        }),
        None => with_conn!(conn, |c| {
            diesel::update(users::table.find(id))
                .set(changes)
                .returning(UserRow::as_returning())
                .get_result(c)
                .await
                .optional()
        }),
    }?;
    Ok(row)
}

/// Raises the token generation: every token issued before stops working.
pub async fn bump_token_generation(
    conn: &mut DbConn<'_>,
    id: UserId,
) -> Result<Option<UserRow>, DbError> {
    let row = with_conn!(conn, |c| {
        diesel::update(users::table.find(id))
            .set(users::token_generation.eq(users::token_generation + 1))
            .returning(UserRow::as_returning())
            .get_result(c)
            .await
            .optional()
    })?;
    Ok(row)
}

/// Suspends the account since `at`, or lifts its suspension (`None`).
pub async fn set_suspended(
    conn: &mut DbConn<'_>,
    id: UserId,
    at: Option<NaiveDateTime>,
) -> Result<Option<UserRow>, DbError> {
    let row = with_conn!(conn, |c| {
        diesel::update(users::table.find(id))
            .set(users::suspended_at.eq(at))
            .returning(UserRow::as_returning())
            .get_result(c)
            .await
            .optional()
    })?;
    Ok(row)
}

/// Gives the admin role to every user named in `names` (case-insensitive).
pub async fn promote_admins(conn: &mut DbConn<'_>, names: &[String]) -> Result<usize, DbError> {
    let keys: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    let n = with_conn!(conn, |c| {
        diesel::update(users::table.filter(lower(users::name).eq_any(&keys)))
            .set(users::role.eq("admin"))
            .execute(c)
            .await
    })?;
    Ok(n)
}

/// Sets whether a user's presence goes to contacts on other servers;
/// `false` when there is no such user.
pub async fn set_share_presence_remote(
    conn: &mut DbConn<'_>,
    id: UserId,
    share: bool,
) -> Result<bool, DbError> {
    let n = with_conn!(conn, |c| {
        diesel::update(users::table.find(id))
            .set(users::share_presence_remote.eq(share))
            .execute(c)
            .await
    })?;
    Ok(n > 0)
}

/// Sets whether a user's read markers are shown to the other members of
/// their conversations; `false` when there is no such user.
pub async fn set_share_read_receipts(
    conn: &mut DbConn<'_>,
    id: UserId,
    share: bool,
) -> Result<bool, DbError> {
    let n = with_conn!(conn, |c| {
        diesel::update(users::table.find(id))
            .set(users::share_read_receipts.eq(share))
            .execute(c)
            .await
    })?;
    Ok(n > 0)
}

/// Stores an actor keypair unless the user already has one (the first of two
/// racing writers wins).
pub async fn set_keypair_once(
    conn: &mut DbConn<'_>,
    id: UserId,
    public_pem: &str,
    private_pem: &str,
) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        diesel::update(
            users::table
                .find(id)
                .filter(users::public_key_pem.is_null()),
        )
        .set((
            users::public_key_pem.eq(public_pem),
            users::private_key_pem.eq(private_pem),
        ))
        .execute(c)
        .await
    })?;
    Ok(())
}

/// Stores a local actor's Ed25519 keypair unless it has one (the first of
/// two racing writers wins).
pub async fn set_ed25519_once(
    conn: &mut DbConn<'_>,
    id: UserId,
    public_multibase: &str,
    private_pkcs8: &str,
) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        diesel::update(
            users::table
                .find(id)
                .filter(users::ed25519_private_key.is_null()),
        )
        .set((
            users::ed25519_public_key.eq(public_multibase),
            users::ed25519_private_key.eq(private_pkcs8),
        ))
        .execute(c)
        .await
    })?;
    Ok(())
}

/// A remote actor by its ActivityPub id.
pub async fn find_by_ap_id(conn: &mut DbConn<'_>, ap_id: &str) -> Result<Option<UserRow>, DbError> {
    let row = with_conn!(conn, |c| {
        users::table
            .filter(users::ap_id.eq(ap_id))
            .select(UserRow::as_select())
            .first(c)
            .await
            .optional()
    })?;
    Ok(row)
}

/// Stores a fetched remote actor, or refreshes the one with the same
/// ActivityPub id (keeping its local id).
pub async fn upsert_remote(conn: &mut DbConn<'_>, row: &UserRow) -> Result<UserRow, DbError> {
    let stored = with_conn!(conn, |c| {
        diesel::insert_into(users::table)
            .values(row)
            .on_conflict(users::ap_id)
            .do_update()
            .set((
                users::display_name.eq(&row.display_name),
                users::bio.eq(&row.bio),
                users::avatar_url.eq(&row.avatar_url),
                users::profile_links.eq(&row.profile_links),
                users::public_key_pem.eq(&row.public_key_pem),
                users::ed25519_key_id.eq(&row.ed25519_key_id),
                users::ed25519_public_key.eq(&row.ed25519_public_key),
                users::inbox.eq(&row.inbox),
                users::shared_inbox.eq(&row.shared_inbox),
                users::fetched_at.eq(&row.fetched_at),
                users::updated_at.eq(&row.updated_at),
            ))
            .returning(UserRow::as_returning())
            .get_result(c)
            .await
    })?;
    Ok(stored)
}

/// Deletes the user; `false` when there was none.
pub async fn delete(conn: &mut DbConn<'_>, id: UserId) -> Result<bool, DbError> {
    let n = with_conn!(conn, |c| {
        diesel::delete(users::table.find(id)).execute(c).await
    })?;
    Ok(n > 0)
}

/// Escapes `%`, `_` and `\` so a user-supplied prefix matches literally.
fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like("a_b%c\\"), "a\\_b\\%c\\\\");
        assert_eq!(escape_like("plain.name-1"), "plain.name-1");
    }
}
