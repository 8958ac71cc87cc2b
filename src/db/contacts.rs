//! The `contacts` and `blocks` tables.

use super::ids::UserId;
use super::schema::{blocks, contacts};
use super::{DbConn, DbError};
use crate::with_conn;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = contacts)]
pub struct ContactRow {
    pub requester_id: UserId,
    pub addressee_id: UserId,
    /// `pending` or `accepted`.
    pub state: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The ActivityPub id of the requester's `Follow` (set when either side
    /// is remote).
    pub follow_id: Option<String>,
}

/// The invitation or contact between `a` and `b`, whichever asked.
pub async fn between(
    conn: &mut DbConn<'_>,
    a: UserId,
    b: UserId,
) -> Result<Option<ContactRow>, DbError> {
    let row = with_conn!(conn, |c| {
        contacts::table
            .filter(
                (contacts::requester_id
                    .eq(a)
                    .and(contacts::addressee_id.eq(b)))
                .or(contacts::requester_id
                    .eq(b)
                    .and(contacts::addressee_id.eq(a))),
            )
            .select(ContactRow::as_select())
            .first(c)
            .await
            .optional()
    })?;
    Ok(row)
}

pub async fn insert(conn: &mut DbConn<'_>, row: &ContactRow) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        diesel::insert_into(contacts::table)
            .values(row)
            .execute(c)
            .await
    })?;
    Ok(())
}

/// Marks the pending invitation from `requester` to `addressee` accepted.
pub async fn accept(
    conn: &mut DbConn<'_>,
    requester: UserId,
    addressee: UserId,
    at: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = with_conn!(conn, |c| {
        diesel::update(
            contacts::table
                .find((requester, addressee))
                .filter(contacts::state.eq("pending")),
        )
        .set((contacts::state.eq("accepted"), contacts::updated_at.eq(at)))
        .execute(c)
        .await
    })?;
    Ok(n > 0)
}

/// Removes whatever links `a` and `b`.
pub async fn delete_between(conn: &mut DbConn<'_>, a: UserId, b: UserId) -> Result<bool, DbError> {
    let n = with_conn!(conn, |c| {
        diesel::delete(
            contacts::table.filter(
                (contacts::requester_id
                    .eq(a)
                    .and(contacts::addressee_id.eq(b)))
                .or(contacts::requester_id
                    .eq(b)
                    .and(contacts::addressee_id.eq(a))),
            ),
        )
        .execute(c)
        .await
    })?;
    Ok(n > 0)
}

/// Every invitation and contact `user` is part of.
pub async fn for_user(conn: &mut DbConn<'_>, user: UserId) -> Result<Vec<ContactRow>, DbError> {
    let rows = with_conn!(conn, |c| {
        contacts::table
            .filter(
                contacts::requester_id
                    .eq(user)
                    .or(contacts::addressee_id.eq(user)),
            )
            .order(contacts::created_at)
            .select(ContactRow::as_select())
            .load(c)
            .await
    })?;
    Ok(rows)
}

/// Records that `blocker` blocks `blocked` (idempotent).
pub async fn block(
    conn: &mut DbConn<'_>,
    blocker: UserId,
    blocked: UserId,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        diesel::insert_into(blocks::table)
            .values((
                blocks::blocker_id.eq(blocker),
                blocks::blocked_id.eq(blocked),
                blocks::created_at.eq(at),
            ))
            .on_conflict_do_nothing()
            .execute(c)
            .await
    })?;
    Ok(())
}

/// A block, as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = blocks)]
pub struct BlockRow {
    pub blocker_id: UserId,
    pub blocked_id: UserId,
    pub created_at: NaiveDateTime,
    /// The ActivityPub id of the `Block` last sent for it (a local blocker
    /// of a remote user), so that its `Undo` can name it.
    pub activity_id: Option<String>,
}

/// Remembers the id of the `Block` just sent for `blocker`'s block of
/// `blocked` (nothing if the block is gone meanwhile).
pub async fn set_block_activity(
    conn: &mut DbConn<'_>,
    blocker: UserId,
    blocked: UserId,
    activity_id: &str,
) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        diesel::update(blocks::table.find((blocker, blocked)))
            .set(blocks::activity_id.eq(activity_id))
            .execute(c)
            .await
    })?;
    Ok(())
}

/// Lifts `blocker`'s block of `blocked`; returns it as it was, or `None`
/// if there was none.
pub async fn unblock(
    conn: &mut DbConn<'_>,
    blocker: UserId,
    blocked: UserId,
) -> Result<Option<BlockRow>, DbError> {
    let row = with_conn!(conn, |c| {
        diesel::delete(blocks::table.find((blocker, blocked)))
            .returning(BlockRow::as_returning())
            .get_result(c)
            .await
            .optional()
    })?;
    Ok(row)
}

/// Whether either of `a` and `b` blocks the other.
pub async fn either_blocks(conn: &mut DbConn<'_>, a: UserId, b: UserId) -> Result<bool, DbError> {
    let n: i64 = with_conn!(conn, |c| {
        blocks::table
            .filter(
                (blocks::blocker_id.eq(a).and(blocks::blocked_id.eq(b)))
                    .or(blocks::blocker_id.eq(b).and(blocks::blocked_id.eq(a))),
            )
            .count()
            .get_result(c)
            .await
    })?;
    Ok(n > 0)
}

/// Users who block `user`.
pub async fn blockers_of(conn: &mut DbConn<'_>, user: UserId) -> Result<Vec<UserId>, DbError> {
    let ids = with_conn!(conn, |c| {
        blocks::table
            .filter(blocks::blocked_id.eq(user))
            .select(blocks::blocker_id)
            .load(c)
            .await
    })?;
    Ok(ids)
}

/// Users `user` blocks.
pub async fn blocked_by(conn: &mut DbConn<'_>, user: UserId) -> Result<Vec<UserId>, DbError> {
    let ids = with_conn!(conn, |c| {
        blocks::table
            .filter(blocks::blocker_id.eq(user))
            .order(blocks::created_at)
            .select(blocks::blocked_id)
            .load(c)
            .await
    })?;
    Ok(ids)
}
