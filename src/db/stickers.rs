//! The `sticker_packs` and `stickers` tables. Rows are marked deleted,
//! never removed: messages already sent keep their sticker.

use super::ids::{MessageId, StickerId, StickerPackId};
use super::media::MediaRow;
use super::schema::{media, messages, sticker_packs, stickers};
use super::{DbConn, DbError};
use crate::with_conn;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

/// One sticker pack as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = sticker_packs)]
pub struct PackRow {
    pub id: StickerPackId,
    pub name: String,
    pub description: Option<String>,
    pub created_at: NaiveDateTime,
    /// Set when an admin deletes the pack: it is no longer listed.
    pub deleted_at: Option<NaiveDateTime>,
}

/// One sticker as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = stickers)]
pub struct StickerRow {
    pub id: StickerId,
    pub pack_id: StickerPackId,
    /// Unique among the pack's live stickers (`wave` for `:wave:`).
    pub shortcode: String,
    pub emoji: Option<String>,
    /// Its image, a media item of no user.
    pub media_id: super::ids::MediaId,
    pub created_at: NaiveDateTime,
    /// Set when an admin removes it: no longer listed nor sendable.
    pub deleted_at: Option<NaiveDateTime>,
}

/// Stores a new pack.
pub async fn insert_pack(conn: &mut DbConn<'_>, row: &PackRow) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        diesel::insert_into(sticker_packs::table)
            .values(row)
            .execute(c)
            .await
    })?;
    Ok(())
}

/// A live (not deleted) pack by id.
pub async fn find_pack(
    conn: &mut DbConn<'_>,
    id: StickerPackId,
) -> Result<Option<PackRow>, DbError> {
    let row = with_conn!(conn, |c| {
        sticker_packs::table
            .find(id)
            .filter(sticker_packs::deleted_at.is_null())
            .select(PackRow::as_select())
            .first(c)
            .await
            .optional()
    })?;
    Ok(row)
}

/// Renames a live pack; `false` when there is none.
pub async fn update_pack(
    conn: &mut DbConn<'_>,
    id: StickerPackId,
    name: &str,
    description: Option<&str>,
) -> Result<bool, DbError> {
    let n = with_conn!(conn, |c| {
        diesel::update(
            sticker_packs::table
                .find(id)
                .filter(sticker_packs::deleted_at.is_null()),
        )
        .set((
            sticker_packs::name.eq(name),
            sticker_packs::description.eq(description),
        ))
        .execute(c)
        .await
    })?;
    Ok(n == 1)
}

/// Marks a live pack deleted; `false` when there is none.
pub async fn delete_pack(
    conn: &mut DbConn<'_>,
    id: StickerPackId,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = with_conn!(conn, |c| {
        diesel::update(
            sticker_packs::table
                .find(id)
                .filter(sticker_packs::deleted_at.is_null()),
        )
        .set(sticker_packs::deleted_at.eq(now))
        .execute(c)
        .await
    })?;
    Ok(n == 1)
}

/// Every live pack, oldest first.
pub async fn packs(conn: &mut DbConn<'_>) -> Result<Vec<PackRow>, DbError> {
    let rows = with_conn!(conn, |c| {
        sticker_packs::table
            .filter(sticker_packs::deleted_at.is_null())
            .order((sticker_packs::created_at.asc(), sticker_packs::id.asc()))
            .select(PackRow::as_select())
            .load(c)
            .await
    })?;
    Ok(rows)
}

/// Stores a new sticker: `UniqueViolation` when its pack has a live
/// sticker with the same shortcode.
pub async fn insert(conn: &mut DbConn<'_>, row: &StickerRow) -> Result<(), DbError> {
    with_conn!(conn, |c| {
        diesel::insert_into(stickers::table)
            .values(row)
            .execute(c)
            .await
    })?;
    Ok(())
}

/// Marks a live sticker removed; `false` when there is none.
pub async fn delete(
    conn: &mut DbConn<'_>,
    id: StickerId,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = with_conn!(conn, |c| {
        diesel::update(
            stickers::table
                .find(id)
                .filter(stickers::deleted_at.is_null()),
        )
        .set(stickers::deleted_at.eq(now))
        .execute(c)
        .await
    })?;
    Ok(n == 1)
}

/// A live sticker of a live pack, with its image.
pub async fn find_live(
    conn: &mut DbConn<'_>,
    id: StickerId,
) -> Result<Option<(StickerRow, MediaRow)>, DbError> {
    let row = with_conn!(conn, |c| {
        stickers::table
            .inner_join(media::table)
            .inner_join(sticker_packs::table)
            .filter(stickers::id.eq(id))
            .filter(stickers::deleted_at.is_null())
            .filter(sticker_packs::deleted_at.is_null())
            .select((StickerRow::as_select(), MediaRow::as_select()))
            .first(c)
            .await
            .optional()
    })?;
    Ok(row)
}

/// The live stickers of `packs` with their images, oldest first.
pub async fn of_packs(
    conn: &mut DbConn<'_>,
    packs: &[StickerPackId],
) -> Result<Vec<(StickerRow, MediaRow)>, DbError> {
    if packs.is_empty() {
        return Ok(Vec::new());
    }
    let rows = with_conn!(conn, |c| {
        stickers::table
            .inner_join(media::table)
            .filter(stickers::pack_id.eq_any(packs))
            .filter(stickers::deleted_at.is_null())
            .order((stickers::created_at.asc(), stickers::id.asc()))
            .select((StickerRow::as_select(), MediaRow::as_select()))
            .load(c)
            .await
    })?;
    Ok(rows)
}

/// The stickers `ids` show (removed ones too), with their images.
pub async fn of_messages(
    conn: &mut DbConn<'_>,
    ids: &[MessageId],
) -> Result<Vec<(MessageId, StickerRow, MediaRow)>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = with_conn!(conn, |c| {
        messages::table
            .inner_join(stickers::table.on(messages::sticker_id.eq(stickers::id.nullable())))
            .inner_join(media::table.on(stickers::media_id.eq(media::id)))
            .filter(messages::id.eq_any(ids))
            .select((messages::id, StickerRow::as_select(), MediaRow::as_select()))
            .load(c)
            .await
    })?;
    Ok(rows)
}
