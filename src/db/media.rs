//! The `media` and `message_attachments` tables: uploaded (and received)
//! media items, and which message carries each of them.

use super::ids::{ConversationId, MediaId, MessageId, UserId};
use super::schema::{link_previews, media, message_attachments, messages, stickers};
use super::{DbConn, DbError};
use crate::with_conn;
use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};
use diesel_async::{AsyncConnection, RunQueryDsl};

/// One media item as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = media)]
pub struct MediaRow {
    pub id: MediaId,
    /// The local user who uploaded it; `None` for a remote attachment.
    pub uploader_id: Option<UserId>,
    /// `image`, `video`, `audio` or `file`.
    pub kind: String,
    /// The type sniffed from the content (never the client's header).
    pub content_type: String,
    pub size_bytes: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub blurhash: Option<String>,
    /// Whether a thumbnail is stored under `storage_key` + `.thumb`.
    pub has_thumbnail: bool,
    /// The object in the media store; `None` for a remote attachment.
    pub storage_key: Option<String>,
    /// Where a remote attachment lives; with `storage_key` also set, it
    /// has been fetched and cached.
    pub remote_url: Option<String>,
    pub created_at: NaiveDateTime,
}

/// A message's use of a media item.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = message_attachments)]
pub struct AttachmentRow {
    pub media_id: MediaId,
    pub message_id: MessageId,
    /// Order within the message, from 0.
    pub position: i32,
    /// The description for people who cannot see it.
    pub alt_text: Option<String>,
}

/// Stores a new media item.
pub async fn insert(conn: &mut DbConn<'_>, row: &MediaRow) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        diesel::insert_into(media::table)
            .values(row)
            .execute(c)
            .await
    })?;
    Ok(())
}

/// A media item by id.
pub async fn find(conn: &mut DbConn<'_>, id: MediaId) -> Result<Option<MediaRow>, DbError> {
    let row = with_conn!(conn, |c| {
        media::table
            .find(id)
            .select(MediaRow::as_select())
            .first(c)
            .await
            .optional()
    })?;
    Ok(row)
}

/// Bytes stored for `uploader`'s uploads: what their quota counts.
pub async fn used_bytes(conn: &mut DbConn<'_>, uploader: UserId) -> Result<i64, DbError> {
    // SUM(bigint) is numeric on PostgreSQL: cast it back on both.
    let total: Option<i64> = with_conn!(conn, |c| {
        media::table
            .filter(media::uploader_id.eq(uploader))
            .select(sql::<Nullable<BigInt>>("CAST(SUM(size_bytes) AS BIGINT)"))
            .first(c)
            .await
    })?;
    Ok(total.unwrap_or(0))
}

/// Records that the remote item `row` has been fetched and stored: its
/// key, and the type, size and image facts its content gave. `false` when
/// it was not a remote item waiting for that (gone, or already cached).
pub async fn set_cached(conn: &mut DbConn<'_>, row: &MediaRow) -> Result<bool, DbError> {
    let n = with_conn!(conn, |c| {
        diesel::update(
            media::table
                .find(row.id)
                .filter(media::storage_key.is_null()),
        )
        .set((
            media::storage_key.eq(&row.storage_key),
            media::kind.eq(&row.kind),
            media::content_type.eq(&row.content_type),
            media::size_bytes.eq(row.size_bytes),
            media::width.eq(row.width),
            media::height.eq(row.height),
            media::blurhash.eq(&row.blurhash),
            media::has_thumbnail.eq(row.has_thumbnail),
        ))
        .execute(c)
        .await
    })?;
    Ok(n == 1)
}

/// The conversation of the message that carries `id`, if one does.
pub async fn conversation_of(
    conn: &mut DbConn<'_>,
    id: MediaId,
) -> Result<Option<ConversationId>, DbError> {
    let conversation = with_conn!(conn, |c| {
        message_attachments::table
            .inner_join(messages::table)
            .filter(message_attachments::media_id.eq(id))
            .filter(messages::deleted_at.is_null())
            .select(messages::conversation_id)
            .first(c)
            .await
            .optional()
    })?;
    Ok(conversation)
}

/// Attaches media to a stored message, in order. `Ok(false)` (and
/// nothing stored) when one of them is already attached to a message.
pub async fn attach(conn: &mut DbConn<'_>, rows: &[AttachmentRow]) -> Result<bool, DbError> {
    if rows.is_empty() {
        return Ok(true);
    }
    let result = with_conn!(conn, |c| {
        c.transaction(async |c| {
            for row in rows {
                diesel::insert_into(message_attachments::table)
                    .values(row)
                    .execute(c)
                    .await?;
            }
            Ok::<_, diesel::result::Error>(())
        })
        .await
    });
    match result.map_err(DbError::from) {
        Ok(()) => Ok(true),
        Err(DbError::UniqueViolation) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Which of `ids` are attached to a message already.
pub async fn attached(conn: &mut DbConn<'_>, ids: &[MediaId]) -> Result<Vec<MediaId>, DbError> {
    let rows = with_conn!(conn, |c| {
        message_attachments::table
            .filter(message_attachments::media_id.eq_any(ids))
            .select(message_attachments::media_id)
            .load(c)
            .await
    })?;
    Ok(rows)
}

/// Media items by id (any order).
pub async fn find_all(conn: &mut DbConn<'_>, ids: &[MediaId]) -> Result<Vec<MediaRow>, DbError> {
    let rows = with_conn!(conn, |c| {
        media::table
            .filter(media::id.eq_any(ids))
            .select(MediaRow::as_select())
            .load(c)
            .await
    })?;
    Ok(rows)
}

/// The attachments of one message with their media, in order (a query
/// whose text never changes, so it is prepared once per connection; the
/// `eq_any` of [`of_messages`] is prepared again on every call).
pub async fn of_message(
    conn: &mut DbConn<'_>,
    id: MessageId,
) -> Result<Vec<(AttachmentRow, MediaRow)>, DbError> {
    let rows = with_conn!(conn, |c| {
        message_attachments::table
            .inner_join(media::table)
            .filter(message_attachments::message_id.eq(id))
            .order(message_attachments::position.asc())
            .select((AttachmentRow::as_select(), MediaRow::as_select()))
            .load(c)
            .await
    })?;
    Ok(rows)
}

/// The attachments of `messages` with their media, in message order.
pub async fn of_messages(
    conn: &mut DbConn<'_>,
    ids: &[MessageId],
) -> Result<Vec<(AttachmentRow, MediaRow)>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = with_conn!(conn, |c| {
        message_attachments::table
            .inner_join(media::table)
            .filter(message_attachments::message_id.eq_any(ids))
            .order((
                message_attachments::message_id.asc(),
                message_attachments::position.asc(),
            ))
            .select((AttachmentRow::as_select(), MediaRow::as_select()))
            .load(c)
            .await
    })?;
    Ok(rows)
}

/// Media no message carries, no link preview shows and no sticker is,
/// created before `before`: uploads never attached, media whose message
/// was deleted, and preview images whose messages were all deleted. A
/// sticker's image is never an orphan, even once the sticker is removed:
/// messages sent with it still show it.
pub async fn orphans(
    conn: &mut DbConn<'_>,
    before: NaiveDateTime,
    limit: i64,
) -> Result<Vec<MediaRow>, DbError> {
    let rows = with_conn!(conn, |c| {
        media::table
            .left_join(message_attachments::table)
            .filter(message_attachments::media_id.is_null())
            .filter(diesel::dsl::not(diesel::dsl::exists(
                link_previews::table.filter(link_previews::image_id.eq(media::id.nullable())),
            )))
            .filter(diesel::dsl::not(diesel::dsl::exists(
                stickers::table.filter(stickers::media_id.eq(media::id)),
            )))
            .filter(media::created_at.lt(before))
            .order(media::created_at.asc())
            .limit(limit)
            .select(MediaRow::as_select())
            .load(c)
            .await
    })?;
    Ok(rows)
}

/// Detaches every media item of `message` (when it is deleted); their
/// rows, returned, are the caller's to delete with their objects.
pub async fn detach_message(
    conn: &mut DbConn<'_>,
    message: MessageId,
) -> Result<Vec<MediaRow>, DbError> {
    let rows = with_conn!(conn, |c| {
        c.transaction(async |c| {
            let rows: Vec<MediaRow> = message_attachments::table
                .inner_join(media::table)
                .filter(message_attachments::message_id.eq(message))
                .select(MediaRow::as_select())
                .load(c)
                .await?;
            diesel::delete(
                message_attachments::table.filter(message_attachments::message_id.eq(message)),
            )
            .execute(c)
            .await?;
            Ok::<_, diesel::result::Error>(rows)
        })
        .await
    })?;
    Ok(rows)
}

/// Deletes media rows (their objects are the caller's).
pub async fn delete(conn: &mut DbConn<'_>, ids: &[MediaId]) -> Result<usize, DbError> {
    if ids.is_empty() {
        return Ok(0);
    }
    let n = with_conn!(conn, |c| {
        diesel::delete(media::table.filter(media::id.eq_any(ids)))
            .execute(c)
            .await
    })?;
    Ok(n)
}
