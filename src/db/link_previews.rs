//! The `link_previews` table: the preview of a message's first link, one
//! row per message, with the page's image as a media item.

use super::ids::{MediaId, MessageId};
use super::media::MediaRow;
use super::schema::{link_previews, media};
use super::{DbConn, DbError};
use crate::with_conn;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

/// One message's link preview as stored (text only, never markup).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = link_previews)]
pub struct LinkPreviewRow {
    pub message_id: MessageId,
    /// The link as the message wrote it.
    pub url: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub site_name: Option<String>,
    /// The page's image, stored as media.
    pub image_id: Option<MediaId>,
    pub created_at: NaiveDateTime,
}

/// Stores a preview; a message that already has one keeps it.
pub async fn insert(conn: &mut DbConn<'_>, row: &LinkPreviewRow) -> Result<bool, DbError> {
    let n = with_conn!(conn, |c| {
        diesel::insert_into(link_previews::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(c)
            .await
    })?;
    Ok(n == 1)
}

/// The previews of `messages`, each with its image.
pub async fn of_messages(
    conn: &mut DbConn<'_>,
    messages: &[MessageId],
) -> Result<Vec<(LinkPreviewRow, Option<MediaRow>)>, DbError> {
    if messages.is_empty() {
        return Ok(vec![]);
    }
    let rows = with_conn!(conn, |c| {
        link_previews::table
            .left_join(media::table)
            .filter(link_previews::message_id.eq_any(messages))
            .select((LinkPreviewRow::as_select(), Option::<MediaRow>::as_select()))
            .load(c)
            .await
    })?;
    Ok(rows)
}

/// Removes the preview of a deleted message (its image, if no other
/// preview uses it, is swept with the orphaned media).
pub async fn delete(conn: &mut DbConn<'_>, message: MessageId) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        diesel::delete(link_previews::table.filter(link_previews::message_id.eq(message)))
            .execute(c)
            .await
    })?;
    Ok(())
}
