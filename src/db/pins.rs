//! The `pins` table: a group's pinned messages, oldest pin first.

use super::ids::{ConversationId, MessageId, UserId};
use super::messages::MessageRow;
use super::schema::{messages, pins};
use super::{DbConn, DbError};
use crate::with_conn;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = pins)]
pub struct PinRow {
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
    /// `None` once the admin who pinned it deleted their account.
    pub pinned_by: Option<UserId>,
    pub pinned_at: NaiveDateTime,
}

/// What [`add`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    New,
    /// The message was already pinned: nothing changed.
    Already,
    /// The group already has `max` pins.
    Full,
}

/// Pins a message unless it is pinned or the group has `max` pins, in one
/// transaction.
pub async fn add(conn: &mut DbConn<'_>, row: &PinRow, max: i64) -> Result<Added, DbError> {
    let added = with_conn!(conn, |c| {
        c.transaction(async |c| {
            let pinned: Vec<MessageId> = pins::table
                .filter(pins::conversation_id.eq(row.conversation_id))
                .select(pins::message_id)
                .load(c)
                .await?;
            if pinned.contains(&row.message_id) {
                return Ok(Added::Already);
            }
            if pinned.len() as i64 >= max {
                return Ok(Added::Full);
            }
            diesel::insert_into(pins::table)
                .values(row)
                .execute(c)
                .await?;
            Ok::<_, diesel::result::Error>(Added::New)
        })
        .await
    })?;
    Ok(added)
}

/// Unpins a message; whether it was pinned.
pub async fn remove(conn: &mut DbConn<'_>, message: MessageId) -> Result<bool, DbError> {
    let n = with_conn!(conn, |c| {
        diesel::delete(pins::table.filter(pins::message_id.eq(message)))
            .execute(c)
            .await
    })?;
    Ok(n > 0)
}

/// A group's pins with their messages, oldest pin first.
pub async fn list(
    conn: &mut DbConn<'_>,
    conversation: ConversationId,
) -> Result<Vec<(PinRow, MessageRow)>, DbError> {
    let rows = with_conn!(conn, |c| {
        pins::table
            .inner_join(messages::table)
            .filter(pins::conversation_id.eq(conversation))
            .order((pins::pinned_at.asc(), pins::message_id.asc()))
            .select((PinRow::as_select(), MessageRow::as_select()))
            .load(c)
            .await
    })?;
    Ok(rows)
}
