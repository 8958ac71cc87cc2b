//! The `messages` table.

use super::ids::{ConversationId, MessageId, StickerId, UserId};
use super::media::AttachmentRow;
use super::schema::{blocks, members, message_attachments, messages};
use super::{DbConn, DbError};
use crate::with_conn;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = messages)]
pub struct MessageRow {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub author_id: Option<UserId>,
    /// `text`, `game_invite`, `sticker` or `system`.
    pub kind: String,
    pub body: String,
    pub reply_to: Option<MessageId>,
    /// JSON of a game invitation.
    pub game: Option<String>,
    /// The sender's request id, so a resend is not stored twice.
    pub client_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub edited_at: Option<NaiveDateTime>,
    pub deleted_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
    /// JSON array of the ids of the members it mentions; `None`: nobody.
    pub mentions: Option<String>,
    /// The sticker a `sticker` message shows.
    pub sticker_id: Option<StickerId>,
}

impl MessageRow {
    /// A new message; its id and times are set when the writer stores it.
    pub fn new(
        conversation: ConversationId,
        author: Option<UserId>,
        kind: &str,
        body: String,
    ) -> Self {
        let now = chrono::Utc::now().naive_utc();
        MessageRow {
            id: MessageId::new(),
            conversation_id: conversation,
            author_id: author,
            kind: kind.to_owned(),
            body,
            reply_to: None,
            game: None,
            client_id: None,
            created_at: now,
            edited_at: None,
            deleted_at: None,
            updated_at: now,
            mentions: None,
            sticker_id: None,
        }
    }

    /// Gives the row its final id and creation time: done by the writer in
    /// queue order, so ids ascend in commit order.
    pub fn stamp(&mut self) {
        self.id = MessageId::new();
        self.created_at = chrono::Utc::now().naive_utc();
        self.updated_at = self.created_at;
    }
}

/// Stores one message.
pub async fn insert(conn: &mut DbConn<'_>, row: &MessageRow) -> Result<(), DbError> {
    insert_all(conn, std::slice::from_ref(row), &[]).await
}

/// Stores `rows` and the `attachments` they carry with one commit for all:
/// on PostgreSQL one multi-row statement per table (in a transaction when
/// there are attachments); on SQLite one statement per row in one
/// transaction run in a single blocking call (diesel-async cannot batch
/// rows with NULLs there). An attachment whose media is in a message
/// already fails the whole commit (`UniqueViolation`).
pub async fn insert_all(
    conn: &mut DbConn<'_>,
    rows: &[MessageRow],
    attachments: &[AttachmentRow],
) -> Result<(), DbError> {
    match conn {
        DbConn::Postgres(c) if attachments.is_empty() => {
            diesel::insert_into(messages::table)
                .values(rows)
                .execute(&mut **c)
                .await?;
        }
        DbConn::Postgres(c) => {
            use diesel_async::AsyncConnection;
            c.transaction(async |c| {
                diesel::insert_into(messages::table)
                    .values(rows)
                    .execute(c)
                    .await?;
                diesel::insert_into(message_attachments::table)
                    .values(attachments)
                    .execute(c)
                    .await
            })
            .await?;
        }
        DbConn::Sqlite(c) => {
            // The whole transaction in one blocking call, not one thread
            // hop per statement.
            let rows = rows.to_vec();
            let attachments = attachments.to_vec();
            c.spawn_blocking(move |sync| {
                diesel::Connection::transaction(sync, |sync| {
                    for row in &rows {
                        diesel::RunQueryDsl::execute(
                            diesel::insert_into(messages::table).values(row),
                            sync,
                        )?;
                    }
                    for attachment in &attachments {
                        diesel::RunQueryDsl::execute(
                            diesel::insert_into(message_attachments::table).values(attachment),
                            sync,
                        )?;
                    }
                    Ok::<_, diesel::result::Error>(())
                })
            })
            .await?;
        }
    }
    Ok(())
}

/// The newest message of a conversation, leaving out authors `viewer`
/// blocks (the nil id blocks nobody).
pub async fn latest(
    conn: &mut DbConn<'_>,
    conversation: ConversationId,
    viewer: Option<UserId>,
) -> Result<Option<MessageRow>, DbError> {
    let viewer = viewer.unwrap_or(UserId(uuid::Uuid::nil()));
    let row = with_conn!(conn, |c| {
        let blocked = blocks::table
            .filter(blocks::blocker_id.eq(viewer))
            .select(blocks::blocked_id.nullable());
        messages::table
            .filter(messages::conversation_id.eq(conversation))
            .filter(
                messages::author_id
                    .is_null()
                    .or(diesel::dsl::not(messages::author_id.eq_any(blocked))),
            )
            .order(messages::id.desc())
            .select(MessageRow::as_select())
            .first(c)
            .await
            .optional()
    })?;
    Ok(row)
}

pub async fn find(conn: &mut DbConn<'_>, id: MessageId) -> Result<Option<MessageRow>, DbError> {
    let row = with_conn!(conn, |c| {
        messages::table
            .find(id)
            .select(MessageRow::as_select())
            .first(c)
            .await
            .optional()
    })?;
    Ok(row)
}

/// A message from a remote author by its ActivityPub id (kept as its
/// `client_id`).
pub async fn find_remote(
    conn: &mut DbConn<'_>,
    ap_id: &str,
) -> Result<Option<MessageRow>, DbError> {
    let row = with_conn!(conn, |c| {
        messages::table
            .filter(messages::client_id.eq(ap_id))
            .select(MessageRow::as_select())
            .first(c)
            .await
            .optional()
    })?;
    Ok(row)
}

pub async fn find_by_client_id(
    conn: &mut DbConn<'_>,
    author: UserId,
    client_id: &str,
) -> Result<Option<MessageRow>, DbError> {
    let row = with_conn!(conn, |c| {
        messages::table
            .filter(messages::author_id.eq(author))
            .filter(messages::client_id.eq(client_id))
            .select(MessageRow::as_select())
            .first(c)
            .await
            .optional()
    })?;
    Ok(row)
}

/// Up to `limit` messages strictly between `after` and `before`, oldest
/// first. With only `before` (or neither), the newest ones before it.
pub async fn page(
    conn: &mut DbConn<'_>,
    conversation: ConversationId,
    before: Option<MessageId>,
    after: Option<MessageId>,
    limit: i64,
) -> Result<Vec<MessageRow>, DbError> {
    let lo = after.unwrap_or(MessageId(uuid::Uuid::nil()));
    let hi = before.unwrap_or(MessageId(uuid::Uuid::max()));
    let newest_first = after.is_none();
    let mut rows = with_conn!(conn, |c| {
        let query = messages::table
            .filter(messages::conversation_id.eq(conversation))
            .filter(messages::id.gt(lo))
            .filter(messages::id.lt(hi))
            .select(MessageRow::as_select())
            .limit(limit);
        if newest_first {
            query.order(messages::id.desc()).load(c).await
        } else {
            query.order(messages::id.asc()).load(c).await
        }
    })?;
    if newest_first {
        rows.reverse();
    }
    Ok(rows)
}

/// Messages of `user`'s conversations created after `since`, or changed
/// (edited, deleted, answered) after `changed_since`, oldest first.
pub async fn since(
    conn: &mut DbConn<'_>,
    user: UserId,
    since: MessageId,
    changed_since: NaiveDateTime,
    limit: i64,
) -> Result<Vec<MessageRow>, DbError> {
    let rows = with_conn!(conn, |c| {
        messages::table
            .inner_join(members::table.on(members::conversation_id.eq(messages::conversation_id)))
            .filter(members::user_id.eq(user))
            .filter(
                messages::id
                    .gt(since)
                    .or(messages::updated_at.gt(changed_since)),
            )
            .order(messages::id.asc())
            .limit(limit)
            .select(MessageRow::as_select())
            .load(c)
            .await
    })?;
    Ok(rows)
}

/// Replaces the body (and mentions) of a message (an edit); `None` if it
/// is deleted.
pub async fn edit(
    conn: &mut DbConn<'_>,
    id: MessageId,
    body: &str,
    mentions: Option<&str>,
    at: NaiveDateTime,
) -> Result<Option<MessageRow>, DbError> {
    let row = with_conn!(conn, |c| {
        diesel::update(
            messages::table
                .find(id)
                .filter(messages::deleted_at.is_null()),
        )
        .set((
            messages::body.eq(body),
            messages::mentions.eq(mentions),
            messages::edited_at.eq(at),
            messages::updated_at.eq(at),
        ))
        .returning(MessageRow::as_returning())
        .get_result(c)
        .await
        .optional()
    })?;
    Ok(row)
}

/// Turns a message into a tombstone: body, game and mentions cleared, row
/// kept.
pub async fn tombstone(
    conn: &mut DbConn<'_>,
    id: MessageId,
    at: NaiveDateTime,
) -> Result<Option<MessageRow>, DbError> {
    let row = with_conn!(conn, |c| {
        diesel::update(messages::table.find(id))
            .set((
                messages::body.eq(""),
                messages::game.eq(None::<String>),
                messages::mentions.eq(None::<String>),
                messages::deleted_at.eq(at),
                messages::updated_at.eq(at),
            ))
            .returning(MessageRow::as_returning())
            .get_result(c)
            .await
            .optional()
    })?;
    Ok(row)
}

/// Stores a new game state, only if the stored one is still `expected`
/// (so two answers cannot both win).
pub async fn set_game(
    conn: &mut DbConn<'_>,
    id: MessageId,
    expected: &str,
    game: &str,
    at: NaiveDateTime,
) -> Result<Option<MessageRow>, DbError> {
    let row = with_conn!(conn, |c| {
        diesel::update(messages::table.find(id).filter(messages::game.eq(expected)))
            .set((messages::game.eq(game), messages::updated_at.eq(at)))
            .returning(MessageRow::as_returning())
            .get_result(c)
            .await
            .optional()
    })?;
    Ok(row)
}
