//! Stickers: packs that admins make and fill with small images, each named
//! by a shortcode (`wave` for `:wave:`); every user lists them, and sends
//! one as a message of kind `sticker`. Packs and stickers are only marked
//! deleted, so messages already sent keep showing theirs, and a sticker's
//! image is never swept as orphaned media.
//!
//! Must not import axum, activitypub_federation, `api`, `ws` or `apub`.

use super::messages::{checked_client_id, NewMessage};
use super::principal::Principal;
use super::views::{Message, MessageKind};
use super::writer::Attached;
use super::{Chat, ChatError, ChatResult};
use crate::db::ids::{StickerId, StickerPackId, UserId};
use crate::db::media::MediaRow;
use crate::db::stickers::{self as rows, PackRow, StickerRow};
use crate::db::{DbConn, DbError};
use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Largest sticker image, in bytes (512 KiB): 413 past it.
pub const STICKER_MAX_BYTES: u64 = 512 * 1024;
/// Longest side of a sticker image, in pixels: 422 past it.
pub const STICKER_MAX_SIDE: i32 = 512;
/// Longest pack name, in characters.
pub const PACK_NAME_MAX: usize = 64;
/// Longest pack description, in characters.
pub const PACK_DESCRIPTION_MAX: usize = 500;
/// Longest shortcode, in characters (at least 2).
pub const SHORTCODE_MAX: usize = 32;
/// Longest emoji a sticker stands for, in characters.
pub const EMOJI_MAX: usize = 16;

/// A pack to make, or a pack's new name and description.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackFields {
    /// 1-64 characters, one line.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// At most 500 characters; absent or `null`: none.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

/// What an admin says about a sticker they upload (the query of the
/// upload).
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NewSticker {
    /// 2-32 letters, digits and `_`; unique in the pack.
    #[param(pattern = "^[A-Za-z0-9_]{2,32}$")]
    pub shortcode: String,
    /// The emoji it stands for, if any (at most 16 characters).
    #[serde(default)]
    pub emoji: Option<String>,
}

/// A sticker as clients see it: in a pack's list, and in a `sticker`
/// message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Sticker {
    pub id: StickerId,
    pub pack: StickerPackId,
    pub shortcode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
    /// A signed link to the image, valid for `media_link_ttl_s`.
    pub url: String,
    /// Taken from the content.
    pub content_type: String,
    /// Pixels (at most 512 on a side).
    pub width: Option<i32>,
    pub height: Option<i32>,
}

/// A pack with its stickers, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StickerPack {
    pub id: StickerPackId,
    pub name: String,
    pub description: Option<String>,
    pub stickers: Vec<Sticker>,
    pub created_at: DateTime<Utc>,
}

fn admin_only(actor: &Principal) -> ChatResult<()> {
    if actor.is_admin() {
        Ok(())
    } else {
        Err(ChatError::Forbidden("only admins manage stickers".into()))
    }
}

/// The checked name and description of a pack.
fn pack_fields(fields: PackFields) -> ChatResult<(String, Option<String>)> {
    let name = fields.name.trim().to_owned();
    if name.is_empty() {
        return Err(ChatError::invalid("name", "must not be empty"));
    }
    super::validate::single_line("name", &name, PACK_NAME_MAX)?;
    let description = fields
        .description
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty());
    if let Some(d) = &description {
        super::validate::multi_line("description", d, PACK_DESCRIPTION_MAX)?;
    }
    Ok((name, description))
}

/// Checks a sticker's shortcode and emoji.
fn sticker_fields(new: &NewSticker) -> ChatResult<()> {
    let code = &new.shortcode;
    if !(2..=SHORTCODE_MAX).contains(&code.len())
        || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(ChatError::invalid(
            "shortcode",
            "2-32 letters, digits and '_'",
        ));
    }
    if let Some(emoji) = &new.emoji {
        if emoji.is_empty() || emoji.chars().any(char::is_whitespace) {
            return Err(ChatError::invalid("emoji", "one emoji, no spaces"));
        }
        super::validate::single_line("emoji", emoji, EMOJI_MAX)?;
    }
    Ok(())
}

impl Chat {
    /// Every live pack with its live stickers (any signed-in user).
    pub async fn sticker_packs(&self) -> ChatResult<Vec<StickerPack>> {
        let mut conn = self.db.read().await?;
        let packs = rows::packs(&mut conn).await?;
        let ids: Vec<StickerPackId> = packs.iter().map(|p| p.id).collect();
        let stickers = rows::of_packs(&mut conn, &ids).await?;
        drop(conn);
        packs
            .into_iter()
            .map(|pack| self.pack_with(pack, &stickers))
            .collect()
    }

    /// `pack` with those of `stickers` that are its own.
    fn pack_with(
        &self,
        pack: PackRow,
        stickers: &[(StickerRow, MediaRow)],
    ) -> ChatResult<StickerPack> {
        let own = stickers
            .iter()
            .filter(|(s, _)| s.pack_id == pack.id)
            .map(|(s, m)| self.sticker_view(s, m))
            .collect::<ChatResult<_>>()?;
        Ok(pack_view(pack, own))
    }

    /// Makes an empty pack (admins).
    pub async fn create_sticker_pack(
        &self,
        actor: &Principal,
        fields: PackFields,
    ) -> ChatResult<StickerPack> {
        admin_only(actor)?;
        let (name, description) = pack_fields(fields)?;
        let row = PackRow {
            id: StickerPackId::new(),
            name,
            description,
            created_at: Utc::now().naive_utc(),
            deleted_at: None,
        };
        rows::insert_pack(&mut self.db.write().await?, &row).await?;
        Ok(pack_view(row, vec![]))
    }

    /// Renames a pack and replaces its description (admins).
    pub async fn update_sticker_pack(
        &self,
        actor: &Principal,
        id: StickerPackId,
        fields: PackFields,
    ) -> ChatResult<StickerPack> {
        admin_only(actor)?;
        let (name, description) = pack_fields(fields)?;
        let mut conn = self.db.write().await?;
        if !rows::update_pack(&mut conn, id, &name, description.as_deref()).await? {
            return Err(ChatError::NotFound("sticker pack"));
        }
        let pack = rows::find_pack(&mut conn, id)
            .await?
            .ok_or(ChatError::NotFound("sticker pack"))?;
        let stickers = rows::of_packs(&mut conn, &[id]).await?;
        drop(conn);
        self.pack_with(pack, &stickers)
    }

    /// Deletes a pack with its stickers (admins); messages sent with them
    /// keep showing them.
    pub async fn delete_sticker_pack(
        &self,
        actor: &Principal,
        id: StickerPackId,
    ) -> ChatResult<()> {
        admin_only(actor)?;
        let now = Utc::now().naive_utc();
        if !rows::delete_pack(&mut self.db.write().await?, id, now).await? {
            return Err(ChatError::NotFound("sticker pack"));
        }
        Ok(())
    }

    /// Adds a sticker to a pack (admins): its image is `body`, at most
    /// [`STICKER_MAX_BYTES`] (413), an image type Confab decodes (422
    /// otherwise, judged by its bytes) of at most [`STICKER_MAX_SIDE`]
    /// pixels a side; a shortcode the pack has already is 409.
    pub async fn add_sticker<S>(
        &self,
        actor: &Principal,
        pack: StickerPackId,
        new: NewSticker,
        declared_bytes: Option<u64>,
        body: S,
    ) -> ChatResult<Sticker>
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Unpin + Send,
    {
        admin_only(actor)?;
        sticker_fields(&new)?;
        if rows::find_pack(&mut self.db.read().await?, pack)
            .await?
            .is_none()
        {
            return Err(ChatError::NotFound("sticker pack"));
        }
        if declared_bytes.is_some_and(|n| n > STICKER_MAX_BYTES) {
            return Err(too_large());
        }
        let data = read_capped(body).await?;
        let image = self.store_sticker_image(data, STICKER_MAX_SIDE).await?;
        let row = StickerRow {
            id: StickerId::new(),
            pack_id: pack,
            shortcode: new.shortcode,
            emoji: new.emoji,
            media_id: image.id,
            created_at: Utc::now().naive_utc(),
            deleted_at: None,
        };
        if let Err(e) = self.insert_sticker(&row, &image).await {
            self.remove_objects(&image).await;
            return Err(e);
        }
        self.sticker_view(&row, &image)
    }

    /// Stores a sticker's image row, then the sticker (a taken shortcode
    /// is 409, and the image row goes again).
    async fn insert_sticker(&self, row: &StickerRow, image: &MediaRow) -> ChatResult<()> {
        let mut conn = self.db.write().await?;
        let stored = insert_both(&mut conn, row, image).await;
        match stored {
            Ok(()) => Ok(()),
            Err(DbError::UniqueViolation) => Err(ChatError::Conflict(format!(
                "the pack already has a sticker :{}:",
                row.shortcode
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes a sticker from its pack (admins); messages sent with it
    /// keep showing it.
    pub async fn remove_sticker(&self, actor: &Principal, id: StickerId) -> ChatResult<()> {
        admin_only(actor)?;
        let now = Utc::now().naive_utc();
        if !rows::delete(&mut self.db.write().await?, id, now).await? {
            return Err(ChatError::NotFound("sticker"));
        }
        Ok(())
    }

    /// Sends sticker `id` (of a live pack) as a message of kind `sticker`,
    /// under the same rules as any send; `new` may carry nothing else but
    /// a reply.
    pub(super) async fn send_sticker(
        &self,
        author: UserId,
        new: NewMessage,
        id: StickerId,
        client_id: Option<&str>,
    ) -> ChatResult<Message> {
        if !new.body.is_empty() || !new.attachments.is_empty() {
            return Err(ChatError::invalid(
                "sticker",
                "a sticker is sent without body or attachments",
            ));
        }
        let client_id = checked_client_id(client_id)?;
        let (row, image) = rows::find_live(&mut self.db.read().await?, id)
            .await?
            .ok_or(ChatError::NotFound("sticker"))?;
        let sticker = self.sticker_view(&row, &image)?;
        let attached = Attached {
            sticker: Some(sticker.clone()),
            ..Attached::default()
        };
        let mut message = self
            .store_with(
                author,
                new.conversation,
                "sticker",
                format!(":{}:", row.shortcode),
                new.reply_to,
                None,
                client_id,
                Some(&[]),
                attached,
            )
            .await?;
        message.sticker = Some(sticker);
        Ok(message)
    }

    /// Fills in the sticker of each `sticker` message of `messages` that
    /// is not deleted (one query, none when there is no such message).
    pub(super) async fn attach_stickers(
        &self,
        conn: &mut DbConn<'_>,
        messages: &mut [Message],
    ) -> ChatResult<()> {
        let ids: Vec<_> = messages
            .iter()
            .filter(|m| m.kind == MessageKind::Sticker && !m.deleted)
            .map(|m| m.id)
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        let found = rows::of_messages(conn, &ids).await?;
        for message in messages {
            if let Some((_, row, image)) = found.iter().find(|(id, _, _)| *id == message.id) {
                message.sticker = Some(self.sticker_view(row, image)?);
            }
        }
        Ok(())
    }

    /// The client's view of a sticker, with a fresh signed link.
    fn sticker_view(&self, row: &StickerRow, image: &MediaRow) -> ChatResult<Sticker> {
        let item = self.media()?.view(image, None);
        Ok(Sticker {
            id: row.id,
            pack: row.pack_id,
            shortcode: row.shortcode.clone(),
            emoji: row.emoji.clone(),
            url: item.url,
            content_type: item.content_type,
            width: item.width,
            height: item.height,
        })
    }
}

/// Inserts the image row, then the sticker row; if the sticker cannot be
/// stored, the image row is deleted again.
async fn insert_both(
    conn: &mut DbConn<'_>,
    row: &StickerRow,
    image: &MediaRow,
) -> Result<(), DbError> {
    crate::db::media::insert(conn, image).await?;
    match rows::insert(conn, row).await {
        Ok(()) => Ok(()),
        Err(e) => {
            // The image row goes again; its objects are the caller's.
            crate::db::media::delete(conn, &[image.id]).await?;
            Err(e)
        }
    }
}

fn pack_view(row: PackRow, stickers: Vec<Sticker>) -> StickerPack {
    StickerPack {
        id: row.id,
        name: row.name,
        description: row.description,
        stickers,
        created_at: row.created_at.and_utc(),
    }
}

fn too_large() -> ChatError {
    ChatError::TooLarge(format!(
        "sticker images are limited to {STICKER_MAX_BYTES} bytes"
    ))
}

/// Reads `body` whole, at most [`STICKER_MAX_BYTES`] (413 past it).
async fn read_capped<S>(mut body: S) -> ChatResult<Bytes>
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Unpin + Send,
{
    let mut data = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk =
            chunk.map_err(|e| ChatError::invalid("body", format!("the upload broke off: {e}")))?;
        data.extend_from_slice(&chunk);
        if data.len() as u64 > STICKER_MAX_BYTES {
            return Err(too_large());
        }
    }
    if data.is_empty() {
        return Err(ChatError::invalid("body", "the upload is empty"));
    }
    Ok(data.freeze())
}
