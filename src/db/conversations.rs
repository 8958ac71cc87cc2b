//! The `conversations` and `members` tables.

use super::ids::{ConversationId, MessageId, UserId};
use super::schema::{blocks, conversations, members, messages, users};
use super::{DbConn, DbError};
use crate::with_conn;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = conversations)]
pub struct ConversationRow {
    pub id: ConversationId,
    /// `direct` or `group`.
    pub kind: String,
    pub name: Option<String>,
    pub topic: String,
    pub avatar_url: Option<String>,
    pub creator_id: Option<UserId>,
    /// `<smaller user id>:<larger user id>` for direct conversations, so a
    /// pair has at most one.
    pub direct_key: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// A group hosted on another server (mirrored here): its ActivityPub id.
    pub ap_id: Option<String>,
    /// A group hosted here: its actor keypair, made when it first federates.
    pub public_key_pem: Option<String>,
    pub private_key_pem: Option<String>,
    /// A group hosted elsewhere: its inbox.
    pub inbox: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = members)]
pub struct MemberRow {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    /// 1 read, 2 write, 3 admin, 4 owner.
    pub rights: i32,
    pub joined_at: NaiveDateTime,
    pub last_read: Option<MessageId>,
    pub muted: bool,
}

#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = conversations)]
pub struct ConversationChanges {
    pub name: Option<String>,
    pub topic: Option<String>,
    pub avatar_url: Option<Option<String>>,
    pub updated_at: NaiveDateTime,
}

/// Stores a conversation and its first members in one transaction.
pub async fn insert(
    conn: &mut DbConn<'_>,
    conversation: &ConversationRow,
    first_members: &[MemberRow],
) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        c.transaction(async |c| {
            diesel::insert_into(conversations::table)
                .values(conversation)
                .execute(c)
                .await?;
            // One statement per row: SQLite cannot batch rows with NULLs
            // through diesel-async.
            for member in first_members {
                diesel::insert_into(members::table)
                    .values(member)
                    .execute(c)
                    .await?;
            }
            Ok::<_, diesel::result::Error>(())
        })
        .await
    })?;
    Ok(())
}

pub async fn find(
    conn: &mut DbConn<'_>,
    id: ConversationId,
) -> Result<Option<ConversationRow>, DbError> {
    let row = with_conn!(conn, |c| {
        conversations::table
            .find(id)
            .select(ConversationRow::as_select())
            .first(c)
            .await
            .optional()
    })?;
    Ok(row)
}

pub async fn find_direct(
    conn: &mut DbConn<'_>,
    key: &str,
) -> Result<Option<ConversationRow>, DbError> {
    let row = with_conn!(conn, |c| {
        conversations::table
            .filter(conversations::direct_key.eq(key))
            .select(ConversationRow::as_select())
            .first(c)
            .await
            .optional()
    })?;
    Ok(row)
}

pub async fn update(
    conn: &mut DbConn<'_>,
    id: ConversationId,
    changes: &ConversationChanges,
) -> Result<Option<ConversationRow>, DbError> {
    let row = with_conn!(conn, |c| {
        diesel::update(conversations::table.find(id))
            .set(changes)
            .returning(ConversationRow::as_returning())
            .get_result(c)
            .await
            .optional()
    })?;
    Ok(row)
}

pub async fn delete(conn: &mut DbConn<'_>, id: ConversationId) -> Result<bool, DbError> {
    let n = with_conn!(conn, |c| {
        diesel::delete(conversations::table.find(id))
            .execute(c)
            .await
    })?;
    Ok(n > 0)
}

/// Every conversation `user` is a member of, with their membership.
pub async fn for_user(
    conn: &mut DbConn<'_>,
    user: UserId,
) -> Result<Vec<(ConversationRow, MemberRow)>, DbError> {
    let rows = with_conn!(conn, |c| {
        conversations::table
            .inner_join(members::table)
            .filter(members::user_id.eq(user))
            .order(conversations::updated_at.desc())
            .select((ConversationRow::as_select(), MemberRow::as_select()))
            .load(c)
            .await
    })?;
    Ok(rows)
}

pub async fn member(
    conn: &mut DbConn<'_>,
    conversation: ConversationId,
    user: UserId,
) -> Result<Option<MemberRow>, DbError> {
    let row = with_conn!(conn, |c| {
        members::table
            .find((conversation, user))
            .select(MemberRow::as_select())
            .first(c)
            .await
            .optional()
    })?;
    Ok(row)
}

pub async fn members(
    conn: &mut DbConn<'_>,
    conversation: ConversationId,
) -> Result<Vec<MemberRow>, DbError> {
    let rows = with_conn!(conn, |c| {
        members::table
            .filter(members::conversation_id.eq(conversation))
            .order((members::joined_at, members::user_id))
            .select(MemberRow::as_select())
            .load(c)
            .await
    })?;
    Ok(rows)
}

/// A group hosted elsewhere, by its ActivityPub id.
pub async fn find_by_ap_id(
    conn: &mut DbConn<'_>,
    ap_id: &str,
) -> Result<Option<ConversationRow>, DbError> {
    let row = with_conn!(conn, |c| {
        conversations::table
            .filter(conversations::ap_id.eq(ap_id))
            .select(ConversationRow::as_select())
            .first(c)
            .await
            .optional()
    })?;
    Ok(row)
}

/// Stores a hosted group's keypair unless it has one (the first writer wins).
pub async fn set_keypair_once(
    conn: &mut DbConn<'_>,
    id: ConversationId,
    public_pem: &str,
    private_pem: &str,
) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        diesel::update(
            conversations::table
                .find(id)
                .filter(conversations::private_key_pem.is_null()),
        )
        .set((
            conversations::public_key_pem.eq(public_pem),
            conversations::private_key_pem.eq(private_pem),
        ))
        .execute(c)
        .await
    })?;
    Ok(())
}

/// Updates what a mirrored group's host told us about it.
pub async fn set_mirror(
    conn: &mut DbConn<'_>,
    id: ConversationId,
    name: &str,
    topic: &str,
    public_key_pem: &str,
    inbox: &str,
    updated_at: NaiveDateTime,
) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        diesel::update(conversations::table.find(id))
            .set((
                conversations::name.eq(name),
                conversations::topic.eq(topic),
                conversations::public_key_pem.eq(public_key_pem),
                conversations::inbox.eq(inbox),
                conversations::updated_at.eq(updated_at),
            ))
            .execute(c)
            .await
    })?;
    Ok(())
}

/// Members of `conversation` who are remote actors.
pub async fn remote_members(
    conn: &mut DbConn<'_>,
    conversation: ConversationId,
) -> Result<Vec<UserId>, DbError> {
    let ids = with_conn!(conn, |c| {
        members::table
            .inner_join(users::table)
            .filter(members::conversation_id.eq(conversation))
            .filter(users::domain.is_not_null())
            .select(members::user_id)
            .load(c)
            .await
    })?;
    Ok(ids)
}

pub async fn add_members(conn: &mut DbConn<'_>, rows: &[MemberRow]) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        c.transaction(async |c| {
            for row in rows {
                diesel::insert_into(members::table)
                    .values(row)
                    .execute(c)
                    .await?;
            }
            Ok::<_, diesel::result::Error>(())
        })
        .await
    })?;
    Ok(())
}

pub async fn remove_member(
    conn: &mut DbConn<'_>,
    conversation: ConversationId,
    user: UserId,
) -> Result<bool, DbError> {
    let n = with_conn!(conn, |c| {
        diesel::delete(members::table.find((conversation, user)))
            .execute(c)
            .await
    })?;
    Ok(n > 0)
}

pub async fn set_rights(
    conn: &mut DbConn<'_>,
    conversation: ConversationId,
    user: UserId,
    rights: i32,
) -> Result<bool, DbError> {
    let n = with_conn!(conn, |c| {
        diesel::update(members::table.find((conversation, user)))
            .set(members::rights.eq(rights))
            .execute(c)
            .await
    })?;
    Ok(n > 0)
}

/// Hands ownership from `from` to `to` (who becomes owner; `from` admin).
pub async fn transfer_ownership(
    conn: &mut DbConn<'_>,
    conversation: ConversationId,
    from: UserId,
    to: UserId,
) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        c.transaction(async |c| {
            diesel::update(members::table.find((conversation, to)))
                .set(members::rights.eq(4))
                .execute(c)
                .await?;
            diesel::update(members::table.find((conversation, from)))
                .set(members::rights.eq(3))
                .execute(c)
                .await?;
            Ok::<_, diesel::result::Error>(())
        })
        .await
    })?;
    Ok(())
}

pub async fn set_last_read(
    conn: &mut DbConn<'_>,
    conversation: ConversationId,
    user: UserId,
    message: MessageId,
) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        diesel::update(members::table.find((conversation, user)))
            .set(members::last_read.eq(message))
            .execute(c)
            .await
    })?;
    Ok(())
}

/// The local members of `conversation` who share read receipts, with
/// their read markers (`None` before they first read).
pub async fn receipt_members(
    conn: &mut DbConn<'_>,
    conversation: ConversationId,
) -> Result<Vec<(UserId, Option<MessageId>)>, DbError> {
    let rows = with_conn!(conn, |c| {
        members::table
            .inner_join(users::table)
            .filter(members::conversation_id.eq(conversation))
            .filter(users::domain.is_null())
            .filter(users::share_read_receipts.eq(true))
            .order(members::user_id)
            .select((members::user_id, members::last_read))
            .load(c)
            .await
    })?;
    Ok(rows)
}

pub async fn set_muted(
    conn: &mut DbConn<'_>,
    conversation: ConversationId,
    user: UserId,
    muted: bool,
) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        diesel::update(members::table.find((conversation, user)))
            .set(members::muted.eq(muted))
            .execute(c)
            .await
    })?;
    Ok(())
}

/// Messages in `conversation` after `last_read` that others wrote, that are
/// not deleted, and whose author `user` does not block.
pub async fn unread_count(
    conn: &mut DbConn<'_>,
    conversation: ConversationId,
    user: UserId,
    last_read: Option<MessageId>,
) -> Result<i64, DbError> {
    // The nil UUID sorts before every v7 id on both backends.
    let after = last_read.unwrap_or(MessageId(uuid::Uuid::nil()));
    let n = with_conn!(conn, |c| {
        let blocked = blocks::table
            .filter(blocks::blocker_id.eq(user))
            .select(blocks::blocked_id.nullable());
        messages::table
            .filter(messages::conversation_id.eq(conversation))
            .filter(messages::id.gt(after))
            .filter(
                messages::author_id
                    .ne(user)
                    .or(messages::author_id.is_null()),
            )
            .filter(messages::deleted_at.is_null())
            .filter(
                messages::author_id
                    .is_null()
                    .or(diesel::dsl::not(messages::author_id.eq_any(blocked))),
            )
            .count()
            .get_result(c)
            .await
    })?;
    Ok(n)
}
