//! Requests a local user sent to join a group hosted on another server,
//! kept until the group answers or the user withdraws, so every session
//! (and a reload) can show what is still waiting.

use super::ids::UserId;
use super::schema::sent_join_requests;
use super::{DbConn, DbError};
use crate::with_conn;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sent_join_requests)]
pub struct SentJoinRequestRow {
    pub user_id: UserId,
    /// The group's ActivityPub id.
    pub group_id: String,
    /// Where an `Undo{Follow}` goes if the user withdraws.
    pub group_inbox: String,
    /// The group's name when the request was sent.
    pub group_name: String,
    pub created_at: NaiveDateTime,
}

/// Stores a request; asking again refreshes the inbox, name and time.
pub async fn upsert(conn: &mut DbConn<'_>, row: &SentJoinRequestRow) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        diesel::insert_into(sent_join_requests::table)
            .values(row)
            .on_conflict((sent_join_requests::user_id, sent_join_requests::group_id))
            .do_update()
            .set((
                sent_join_requests::group_inbox.eq(&row.group_inbox),
                sent_join_requests::group_name.eq(&row.group_name),
                sent_join_requests::created_at.eq(row.created_at),
            ))
            .execute(c)
            .await
    })?;
    Ok(())
}

/// A user's waiting requests, oldest first.
pub async fn for_user(
    conn: &mut DbConn<'_>,
    user: UserId,
) -> Result<Vec<SentJoinRequestRow>, DbError> {
    let rows = with_conn!(conn, |c| {
        sent_join_requests::table
            .filter(sent_join_requests::user_id.eq(user))
            .order(sent_join_requests::created_at)
            .select(SentJoinRequestRow::as_select())
            .load(c)
            .await
    })?;
    Ok(rows)
}

/// Removes `user`'s request to join `group`, returning it if there was one.
pub async fn take(
    conn: &mut DbConn<'_>,
    user: UserId,
    group: &str,
) -> Result<Option<SentJoinRequestRow>, DbError> {
    let row = with_conn!(conn, |c| {
        diesel::delete(sent_join_requests::table.find((user, group)))
            .returning(SentJoinRequestRow::as_returning())
            .get_result(c)
            .await
            .optional()
    })?;
    Ok(row)
}

/// Removes the requests of `users` to join `group`: they are members now.
pub async fn delete_for(
    conn: &mut DbConn<'_>,
    group: &str,
    users: &[UserId],
) -> Result<usize, DbError> {
    let n = with_conn!(conn, |c| {
        diesel::delete(
            sent_join_requests::table
                .filter(sent_join_requests::group_id.eq(group))
                .filter(sent_join_requests::user_id.eq_any(users)),
        )
        .execute(c)
        .await
    })?;
    Ok(n)
}
