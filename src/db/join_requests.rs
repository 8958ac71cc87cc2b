//! Requests to join a group hosted here: a remote actor's `Follow` of the
//! group, kept until an admin approves or declines it.

use super::ids::{ConversationId, UserId};
use super::schema::join_requests;
use super::{DbConn, DbError};
use crate::with_conn;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = join_requests)]
pub struct JoinRequestRow {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    /// The `Follow`'s id, echoed in the `Accept` or `Reject`.
    pub follow_id: String,
    pub created_at: NaiveDateTime,
}

/// Stores a request; a repeated one replaces the `Follow` id (the remote
/// side sent a new `Follow`) and keeps its place in the queue.
pub async fn upsert(conn: &mut DbConn<'_>, row: &JoinRequestRow) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        diesel::insert_into(join_requests::table)
            .values(row)
            .on_conflict((join_requests::conversation_id, join_requests::user_id))
            .do_update()
            .set(join_requests::follow_id.eq(&row.follow_id))
            .execute(c)
            .await
    })?;
    Ok(())
}

pub async fn find(
    conn: &mut DbConn<'_>,
    conversation: ConversationId,
    user: UserId,
) -> Result<Option<JoinRequestRow>, DbError> {
    let row = with_conn!(conn, |c| {
        join_requests::table
            .find((conversation, user))
            .select(JoinRequestRow::as_select())
            .first(c)
            .await
            .optional()
    })?;
    Ok(row)
}

/// A group's open requests, oldest first.
pub async fn for_conversation(
    conn: &mut DbConn<'_>,
    conversation: ConversationId,
) -> Result<Vec<JoinRequestRow>, DbError> {
    let rows = with_conn!(conn, |c| {
        join_requests::table
            .filter(join_requests::conversation_id.eq(conversation))
            .order(join_requests::created_at)
            .select(JoinRequestRow::as_select())
            .load(c)
            .await
    })?;
    Ok(rows)
}

/// Removes a request; `false` when there was none.
pub async fn delete(
    conn: &mut DbConn<'_>,
    conversation: ConversationId,
    user: UserId,
) -> Result<bool, DbError> {
    let n = with_conn!(conn, |c| {
        diesel::delete(join_requests::table.find((conversation, user)))
            .execute(c)
            .await
    })?;
    Ok(n > 0)
}

/// How many requests to join a group are open.
pub async fn count(conn: &mut DbConn<'_>, conversation: ConversationId) -> Result<i64, DbError> {
    let n = with_conn!(conn, |c| {
        join_requests::table
            .filter(join_requests::conversation_id.eq(conversation))
            .count()
            .get_result(c)
            .await
    })?;
    Ok(n)
}
