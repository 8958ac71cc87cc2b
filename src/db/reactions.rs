//! The `reactions` table: one row per (message, user, emoji), read in the
//! order they were made.

use super::ids::{MessageId, UserId};
use super::schema::{messages, reactions};
use super::{DbConn, DbError};
use crate::with_conn;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = reactions)]
pub struct ReactionRow {
    pub message_id: MessageId,
    pub user_id: UserId,
    pub emoji: String,
    pub created_at: NaiveDateTime,
    /// A reaction received from another server: its activity id (what an
    /// `Undo` naming only the id finds it by).
    pub ap_id: Option<String>,
}

/// The bounds an added reaction must stay within.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Distinct emoji on one message.
    pub emoji_per_message: i64,
    /// Reactions of one user on one message.
    pub per_user: i64,
}

/// What [`add`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// The reaction is new.
    New,
    /// The user had already reacted so: nothing changed.
    Already,
    /// The message is missing or deleted.
    NoMessage,
    /// The message already has as many distinct emoji as allowed.
    TooManyEmoji,
    /// The user already has as many reactions on it as allowed.
    TooManyOfUser,
}

/// Adds `row` unless it exists or breaks `bounds`. One transaction that
/// first touches the message's `updated_at` (so catch-up after a reconnect
/// sees the change); on PostgreSQL that row lock also makes concurrent
/// reactions to one message count one after another.
pub async fn add(
    conn: &mut DbConn<'_>,
    row: &ReactionRow,
    bounds: Bounds,
) -> Result<Added, DbError> {
    let added = with_conn!(conn, |c| {
        c.transaction(async |c| {
            let touched = diesel::update(
                messages::table
                    .find(row.message_id)
                    .filter(messages::deleted_at.is_null()),
            )
            .set(messages::updated_at.eq(row.created_at))
            .execute(c)
            .await?;
            if touched == 0 {
                return Ok(Added::NoMessage);
            }
            let existing: Vec<(UserId, String)> = reactions::table
                .filter(reactions::message_id.eq(row.message_id))
                .select((reactions::user_id, reactions::emoji))
                .load(c)
                .await?;
            if existing
                .iter()
                .any(|(u, e)| *u == row.user_id && *e == row.emoji)
            {
                return Ok(Added::Already);
            }
            let mine = existing.iter().filter(|(u, _)| *u == row.user_id).count();
            if mine as i64 >= bounds.per_user {
                return Ok(Added::TooManyOfUser);
            }
            let mut distinct: Vec<&str> = existing.iter().map(|(_, e)| e.as_str()).collect();
            distinct.sort_unstable();
            distinct.dedup();
            if !distinct.contains(&row.emoji.as_str())
                && distinct.len() as i64 >= bounds.emoji_per_message
            {
                return Ok(Added::TooManyEmoji);
            }
            diesel::insert_into(reactions::table)
                .values(row)
                .execute(c)
                .await?;
            Ok::<_, diesel::result::Error>(Added::New)
        })
        .await
    })?;
    Ok(added)
}

/// Removes a reaction; when it was made, if there was one. The message's
/// `updated_at` moves when one was removed.
pub async fn remove(
    conn: &mut DbConn<'_>,
    message: MessageId,
    user: UserId,
    emoji: &str,
    at: NaiveDateTime,
) -> Result<Option<NaiveDateTime>, DbError> {
    let removed = with_conn!(conn, |c| {
        c.transaction(async |c| {
            let made: Option<NaiveDateTime> =
                diesel::delete(reactions::table.find((message, user, emoji)))
                    .returning(reactions::created_at)
                    .get_result(c)
                    .await
                    .optional()?;
            if made.is_some() {
                diesel::update(
                    messages::table
                        .find(message)
                        .filter(messages::deleted_at.is_null()),
                )
                .set(messages::updated_at.eq(at))
                .execute(c)
                .await?;
            }
            Ok::<_, diesel::result::Error>(made)
        })
        .await
    })?;
    Ok(removed)
}

/// Removes every reaction to a message (when it becomes a tombstone).
pub async fn clear(conn: &mut DbConn<'_>, message: MessageId) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        diesel::delete(reactions::table.filter(reactions::message_id.eq(message)))
            .execute(c)
            .await
    })?;
    Ok(())
}

/// The received reaction whose activity id is `ap_id`, if it is held.
pub async fn find_by_ap_id(
    conn: &mut DbConn<'_>,
    ap_id: &str,
) -> Result<Option<ReactionRow>, DbError> {
    let row = with_conn!(conn, |c| {
        reactions::table
            .filter(reactions::ap_id.eq(ap_id))
            .select(ReactionRow::as_select())
            .first(c)
            .await
            .optional()
    })?;
    Ok(row)
}

/// The reactions to `messages`, oldest first.
pub async fn for_messages(
    conn: &mut DbConn<'_>,
    messages: &[MessageId],
) -> Result<Vec<ReactionRow>, DbError> {
    if messages.is_empty() {
        return Ok(vec![]);
    }
    let rows = with_conn!(conn, |c| {
        reactions::table
            .filter(reactions::message_id.eq_any(messages))
            .order((reactions::created_at.asc(), reactions::user_id.asc()))
            .select(ReactionRow::as_select())
            .load(c)
            .await
    })?;
    Ok(rows)
}
