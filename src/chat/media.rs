//! Media: uploads (quota, size limit, type from content, images processed
//! on a few blocking threads), who may read an item (its uploader, the
//! members of the conversation whose message carries it, or whoever holds
//! a signed link), and the sweep of items no message carries.
//!
//! Must not import axum, activitypub_federation, `api`, `ws` or `apub`.

use super::writer::Attached;
use super::{Chat, ChatError, ChatResult};
use crate::db::ids::{MediaId, UserId};
use crate::db::media::{self as rows, AttachmentRow, MediaRow};
use crate::media::capability::{Signer, Variant};
use crate::media::sniff::{sniff, SNIFF_BYTES};
use crate::media::{image, thumbnail_key, Fetched, MediaError, MediaStore};
use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use object_store::GetRange;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use utoipa::ToSchema;

/// Images decoded at once (decoding is CPU-bound and memory-hungry).
const DECODERS: usize = 2;
/// Orphans removed per sweep.
const SWEEP_BATCH: i64 = 500;
/// Attachments one message may carry.
pub const ATTACHMENTS_MAX: usize = 10;
/// Longest alt text, in characters.
pub const ALT_TEXT_MAX_CHARS: usize = 1500;

/// One attachment of `message.send`: a media id, or the id with alt text.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum NewAttachment {
    Id(MediaId),
    Described {
        media: MediaId,
        #[serde(default)]
        alt_text: Option<String>,
    },
}

impl NewAttachment {
    fn parts(&self) -> (MediaId, Option<&str>) {
        match self {
            NewAttachment::Id(id) => (*id, None),
            NewAttachment::Described { media, alt_text } => (*media, alt_text.as_deref()),
        }
    }
}

/// Limits on media from configuration.
#[derive(Debug, Clone)]
pub struct MediaLimits {
    pub max_upload_bytes: u64,
    pub quota_bytes: u64,
    pub max_pixels: u64,
    pub orphan_ttl_s: u64,
    pub link_ttl_s: u64,
}

/// The media side of [`Chat`]: the store, the link signer, the limits.
pub struct MediaService {
    store: MediaStore,
    signer: Arc<Signer>,
    limits: MediaLimits,
    /// Bounds concurrent image decoding.
    decoders: Arc<Semaphore>,
}

impl MediaService {
    pub fn new(store: MediaStore, signer: Arc<Signer>, limits: MediaLimits) -> Self {
        Self {
            store,
            signer,
            limits,
            decoders: Arc::new(Semaphore::new(DECODERS)),
        }
    }

    /// Whether a capability link's parameters open `variant` of `id` now.
    pub fn check_link(&self, id: MediaId, variant: Variant, exp: i64, sig: &str) -> bool {
        self.signer
            .check(id, variant, exp, sig, chrono::Utc::now().timestamp())
    }

    /// The client's view of `row`, with links valid for `link_ttl_s`.
    pub fn view(&self, row: &MediaRow, alt_text: Option<String>) -> MediaItem {
        let exp = chrono::Utc::now().timestamp() + self.limits.link_ttl_s as i64;
        let (url, thumbnail_url) = match &row.remote_url {
            Some(remote) => (remote.clone(), None),
            None => (
                self.signer.link(row.id, Variant::Original, exp),
                row.has_thumbnail
                    .then(|| self.signer.link(row.id, Variant::Thumbnail, exp)),
            ),
        };
        MediaItem {
            id: row.id,
            kind: row.kind.clone(),
            content_type: row.content_type.clone(),
            size_bytes: row.size_bytes,
            width: row.width,
            height: row.height,
            blurhash: row.blurhash.clone(),
            url,
            thumbnail_url,
            alt_text,
        }
    }
}

impl MediaService {
    /// Decodes `data` (on a few blocking threads), stores it re-encoded
    /// with its thumbnail under `row`'s key, and fills in `row`.
    async fn store_image(&self, row: &mut MediaRow, data: Bytes) -> ChatResult<()> {
        let key = row
            .storage_key
            .clone()
            .ok_or_else(|| ChatError::Internal("an image without a storage key".into()))?;
        let permit = self
            .decoders
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ChatError::Internal(e.to_string()))?;
        let max_pixels = self.limits.max_pixels;
        let processed = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            image::process(&data, max_pixels)
        })
        .await
        .map_err(|e| ChatError::Internal(format!("image task: {e}")))??;
        self.store
            .put(&thumbnail_key(&key), processed.thumbnail)
            .await?;
        row.size_bytes = processed.data.len() as i64;
        self.store.put(&key, processed.data).await?;
        row.content_type = processed.content_type.to_owned();
        row.width = Some(processed.width as i32);
        row.height = Some(processed.height as i32);
        row.blurhash = Some(processed.blurhash);
        row.has_thumbnail = true;
        Ok(())
    }
}

/// A media item as clients see it (the upload's answer, and each
/// attachment of a message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MediaItem {
    pub id: MediaId,
    /// `image`, `video`, `audio` or `file`.
    pub kind: String,
    /// Taken from the content, not from the uploader's header.
    pub content_type: String,
    pub size_bytes: i64,
    /// Images: pixels, after orientation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<i32>,
    /// Images: a blurhash to paint while the image loads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blurhash: Option<String>,
    /// A signed link that opens the item without a token, until it expires.
    pub url: String,
    /// Images: a signed link to a JPEG thumbnail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
    /// In a message: the description for people who cannot see it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alt_text: Option<String>,
}

/// An attachment of a message received from another server: kept as a
/// link to it (not fetched).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteAttachment {
    /// An `http(s)` URL on the sender's side.
    pub url: String,
    pub content_type: Option<String>,
    pub alt_text: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub blurhash: Option<String>,
}

/// Who asks for a media item.
#[derive(Debug, Clone, Copy)]
pub enum Reader {
    /// A signed-in user (bearer token).
    User(UserId),
    /// Whoever holds a valid signed link.
    Link,
}

impl From<MediaError> for ChatError {
    fn from(e: MediaError) -> Self {
        match e {
            MediaError::TooLarge(limit) => {
                ChatError::TooLarge(format!("uploads are limited to {limit} bytes"))
            }
            MediaError::BadImage(message) => ChatError::invalid("file", message),
            MediaError::Body(e) => ChatError::invalid("body", format!("the upload broke off: {e}")),
            MediaError::Range => ChatError::RangeNotSatisfiable,
            MediaError::Missing => ChatError::NotFound("media"),
            MediaError::Store(e) => ChatError::Internal(format!("media store: {e}")),
            MediaError::Config(m) => ChatError::Internal(m),
        }
    }
}

impl Chat {
    fn media(&self) -> ChatResult<&MediaService> {
        self.media
            .as_ref()
            .ok_or_else(|| ChatError::Internal("media storage is not configured".into()))
    }

    /// Stores an upload of `user`: at most `max_upload_bytes` (and what is
    /// left of their quota), typed by its first bytes; images are decoded,
    /// turned upright, re-encoded without metadata, thumbnailed.
    pub async fn upload<S>(
        &self,
        user: UserId,
        declared_bytes: Option<u64>,
        mut body: S,
    ) -> ChatResult<MediaItem>
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Unpin + Send,
    {
        let media = self.media()?;
        let max = media.limits.max_upload_bytes;
        if declared_bytes.is_some_and(|n| n > max) {
            return Err(MediaError::TooLarge(max).into());
        }
        let used = rows::used_bytes(&mut self.db.read().await?, user).await?;
        let left = media.limits.quota_bytes.saturating_sub(used.max(0) as u64);
        if left == 0 || declared_bytes.is_some_and(|n| n > left) {
            return Err(quota_error(media.limits.quota_bytes));
        }
        let limit = max.min(left);
        let over = |size: u64| {
            if size > max {
                MediaError::TooLarge(max).into()
            } else {
                quota_error(media.limits.quota_bytes)
            }
        };
        // The first bytes, for the type.
        let mut head = BytesMut::new();
        while head.len() < SNIFF_BYTES {
            match body.next().await {
                Some(chunk) => head.extend_from_slice(&chunk.map_err(MediaError::Body)?),
                None => break,
            }
            if head.len() as u64 > limit {
                return Err(over(head.len() as u64));
            }
        }
        if head.is_empty() {
            return Err(ChatError::invalid("body", "the upload is empty"));
        }
        let sniffed = sniff(&head);
        let id = MediaId(uuid::Uuid::new_v4());
        let key = id.to_string();
        let mut row = MediaRow {
            id,
            uploader_id: Some(user),
            kind: sniffed.kind.to_owned(),
            content_type: sniffed.content_type.to_owned(),
            size_bytes: 0,
            width: None,
            height: None,
            blurhash: None,
            has_thumbnail: false,
            storage_key: Some(key.clone()),
            remote_url: None,
            created_at: chrono::Utc::now().naive_utc(),
        };
        if sniffed.kind == "image" {
            // Decoding needs the whole file; it is bounded by `limit`.
            let mut data = head;
            while let Some(chunk) = body.next().await {
                data.extend_from_slice(&chunk.map_err(MediaError::Body)?);
                if data.len() as u64 > limit {
                    return Err(over(data.len() as u64));
                }
            }
            media.store_image(&mut row, data.freeze()).await?;
        } else {
            let stored = media
                .store
                .put_stream(&key, head.freeze(), body, limit)
                .await
                .map_err(|e| match e {
                    MediaError::TooLarge(_) => over(limit + 1),
                    other => other.into(),
                })?;
            row.size_bytes = stored as i64;
        }
        if let Err(e) = rows::insert(&mut self.db.write().await?, &row).await {
            self.remove_objects(&row).await;
            return Err(e.into());
        }
        Ok(media.view(&row, None))
    }

    /// Keeps a link preview's image, fetched from the page's server: only
    /// an image type Confab decodes (sniffed from its bytes), processed and
    /// thumbnailed like an upload; it belongs to no user.
    pub(super) async fn store_preview_image(&self, data: Bytes) -> ChatResult<MediaRow> {
        let media = self.media()?;
        let sniffed = sniff(&data[..data.len().min(SNIFF_BYTES)]);
        if sniffed.kind != "image" {
            return Err(ChatError::invalid("image", "not an image"));
        }
        let id = MediaId(uuid::Uuid::new_v4());
        let mut row = MediaRow {
            id,
            uploader_id: None,
            kind: "image".to_owned(),
            content_type: sniffed.content_type.to_owned(),
            size_bytes: 0,
            width: None,
            height: None,
            blurhash: None,
            has_thumbnail: false,
            storage_key: Some(id.to_string()),
            remote_url: None,
            created_at: chrono::Utc::now().naive_utc(),
        };
        media.store_image(&mut row, data).await?;
        if let Err(e) = rows::insert(&mut self.db.write().await?, &row).await {
            self.remove_objects(&row).await;
            return Err(e.into());
        }
        Ok(row)
    }

    /// The client's view of a stored media row (`None` without media
    /// storage).
    pub(super) fn media_view(&self, row: &MediaRow) -> Option<MediaItem> {
        self.media.as_ref().map(|m| m.view(row, None))
    }

    /// The item `id` if `reader` may open it: its uploader, a member of
    /// the conversation whose message carries it, or a signed link (its
    /// check is the caller's, with [`MediaService::check_link`]). Anyone
    /// else gets 404, as if it did not exist.
    pub async fn readable_media(&self, reader: Reader, id: MediaId) -> ChatResult<MediaRow> {
        let mut conn = self.db.read().await?;
        let row = rows::find(&mut conn, id)
            .await?
            .filter(|row| row.storage_key.is_some())
            .ok_or(ChatError::NotFound("media"))?;
        let user = match reader {
            Reader::Link => return Ok(row),
            Reader::User(user) => user,
        };
        if row.uploader_id == Some(user) {
            return Ok(row);
        }
        let conversation = rows::conversation_of(&mut conn, id).await?;
        drop(conn);
        match conversation {
            Some(c) if self.access(c).await?.rights_of(user).is_some() => Ok(row),
            _ => Err(ChatError::NotFound("media")),
        }
    }

    /// Whether a signed link opens `variant` of `id`.
    pub fn media_link_valid(&self, id: MediaId, variant: Variant, exp: i64, sig: &str) -> bool {
        self.media
            .as_ref()
            .is_some_and(|m| m.check_link(id, variant, exp, sig))
    }

    /// The bytes of `variant` of a readable item, or a range of them.
    pub async fn open_media(
        &self,
        row: &MediaRow,
        variant: Variant,
        range: Option<GetRange>,
    ) -> ChatResult<Fetched> {
        let media = self.media()?;
        let key = row
            .storage_key
            .as_deref()
            .ok_or(ChatError::NotFound("media"))?;
        let key = match variant {
            Variant::Original => key.to_owned(),
            Variant::Thumbnail if row.has_thumbnail => thumbnail_key(key),
            Variant::Thumbnail => return Err(ChatError::NotFound("thumbnail")),
        };
        Ok(media.store.get(&key, range).await?)
    }

    /// Removes the objects of `row` (failures are logged: the sweep or an
    /// operator cleans up).
    pub(super) async fn remove_objects(&self, row: &MediaRow) {
        let (Ok(media), Some(key)) = (self.media(), row.storage_key.as_deref()) else {
            return;
        };
        let mut keys = vec![key.to_owned()];
        if row.has_thumbnail {
            keys.push(thumbnail_key(key));
        }
        for key in keys {
            if let Err(e) = media.store.delete(&key).await {
                tracing::warn!(key, "cannot delete a media object: {e}");
            }
        }
    }

    /// Checks the attachments of a message `author` sends: at most
    /// [`ATTACHMENTS_MAX`], each their own upload, in no message yet, not
    /// twice; alt text single-paragraph text of at most
    /// [`ALT_TEXT_MAX_CHARS`]. Someone else's upload is 404, as if it did
    /// not exist.
    pub(super) async fn prepare_attachments(
        &self,
        author: UserId,
        attachments: &[NewAttachment],
    ) -> ChatResult<Attached> {
        if attachments.is_empty() {
            return Ok(Attached::default());
        }
        if attachments.len() > ATTACHMENTS_MAX {
            return Err(ChatError::invalid(
                "attachments",
                format!("at most {ATTACHMENTS_MAX} per message"),
            ));
        }
        let media = self.media()?;
        let ids: Vec<MediaId> = attachments.iter().map(|a| a.parts().0).collect();
        let unique: std::collections::HashSet<MediaId> = ids.iter().copied().collect();
        if unique.len() != ids.len() {
            return Err(ChatError::invalid("attachments", "the same media twice"));
        }
        let mut conn = self.db.read().await?;
        let found = rows::find_all(&mut conn, &ids).await?;
        if !rows::attached(&mut conn, &ids).await?.is_empty() {
            return Err(ChatError::Conflict(
                "an attachment is already in another message".into(),
            ));
        }
        drop(conn);
        let mut attached = Attached::default();
        for (position, attachment) in attachments.iter().enumerate() {
            let (id, alt_text) = attachment.parts();
            let row = found
                .iter()
                .find(|r| r.id == id && r.uploader_id == Some(author))
                .ok_or(ChatError::NotFound("media"))?;
            let alt_text = match alt_text.map(str::trim).filter(|t| !t.is_empty()) {
                Some(text) => {
                    super::validate::multi_line("alt_text", text, ALT_TEXT_MAX_CHARS)?;
                    Some(text.to_owned())
                }
                None => None,
            };
            attached.rows.push(AttachmentRow {
                media_id: id,
                // Set by the writer when the message gets its id.
                message_id: crate::db::ids::MessageId::new(),
                position: position as i32,
                alt_text: alt_text.clone(),
            });
            attached.views.push(media.view(row, alt_text));
        }
        Ok(attached)
    }

    /// Stores the attachments of a received message as remote links (at
    /// most [`ATTACHMENTS_MAX`]; other than `http(s)` URLs are dropped),
    /// ready for the writer to attach.
    pub(super) async fn remote_attachments(
        &self,
        attachments: Vec<RemoteAttachment>,
    ) -> ChatResult<Attached> {
        let mut attached = Attached::default();
        let usable = attachments
            .into_iter()
            .filter(|a| a.url.starts_with("https://") || a.url.starts_with("http://"))
            .take(ATTACHMENTS_MAX);
        for (position, a) in usable.enumerate() {
            let content_type = a
                .content_type
                .filter(|t| t.len() <= 100 && t.contains('/'))
                .unwrap_or_else(|| "application/octet-stream".into());
            let kind = match content_type.split('/').next() {
                Some("image") => "image",
                Some("video") => "video",
                Some("audio") => "audio",
                _ => "file",
            };
            let alt_text: Option<String> = a
                .alt_text
                .map(|t| t.chars().take(ALT_TEXT_MAX_CHARS).collect())
                .filter(|t: &String| !t.trim().is_empty());
            let row = MediaRow {
                id: MediaId(uuid::Uuid::new_v4()),
                uploader_id: None,
                kind: kind.to_owned(),
                content_type,
                size_bytes: 0,
                width: a.width.filter(|w| *w > 0),
                height: a.height.filter(|h| *h > 0),
                blurhash: a.blurhash.filter(|b| b.len() <= 100),
                has_thumbnail: false,
                storage_key: None,
                remote_url: Some(a.url.chars().take(2000).collect()),
                created_at: chrono::Utc::now().naive_utc(),
            };
            rows::insert(&mut self.db.write().await?, &row).await?;
            attached.rows.push(AttachmentRow {
                media_id: row.id,
                message_id: crate::db::ids::MessageId::new(),
                position: position as i32,
                alt_text: alt_text.clone(),
            });
            attached.views.push(self.media()?.view(&row, alt_text));
        }
        Ok(attached)
    }

    /// Fills in the attachments of `messages` (history, catch-up).
    pub(super) async fn attach_media(
        &self,
        conn: &mut crate::db::DbConn<'_>,
        messages: &mut [super::views::Message],
    ) -> ChatResult<()> {
        let ids: Vec<crate::db::ids::MessageId> = messages.iter().map(|m| m.id).collect();
        let all = rows::of_messages(conn, &ids).await?;
        if all.is_empty() {
            return Ok(());
        }
        let media = self.media()?;
        for message in messages {
            message.attachments = all
                .iter()
                .filter(|(a, _)| a.message_id == message.id)
                .map(|(a, row)| media.view(row, a.alt_text.clone()))
                .collect();
        }
        Ok(())
    }

    /// Deletes rows and objects of `items`.
    pub(super) async fn delete_media(&self, items: &[MediaRow]) -> ChatResult<()> {
        if items.is_empty() {
            return Ok(());
        }
        let ids: Vec<MediaId> = items.iter().map(|r| r.id).collect();
        rows::delete(&mut self.db.write().await?, &ids).await?;
        for row in items {
            self.remove_objects(row).await;
        }
        Ok(())
    }

    /// Deletes media no message carries that is older than
    /// `media_orphan_ttl_s`: uploads never sent, and media of messages
    /// deleted with their conversation. How many went.
    pub async fn sweep_orphan_media(&self) -> ChatResult<usize> {
        let media = self.media()?;
        let before = chrono::Utc::now().naive_utc()
            - chrono::Duration::seconds(media.limits.orphan_ttl_s as i64);
        let orphans = rows::orphans(&mut self.db.read().await?, before, SWEEP_BATCH).await?;
        self.delete_media(&orphans).await?;
        Ok(orphans.len())
    }
}

fn quota_error(quota: u64) -> ChatError {
    ChatError::LimitReached(format!(
        "your media quota of {quota} bytes is used up; delete messages with files to free it"
    ))
}

/// Runs [`Chat::sweep_orphan_media`] every `every` until the chat is gone.
pub async fn sweep_periodically(chat: std::sync::Weak<Chat>, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let Some(chat) = chat.upgrade() else { return };
        match chat.sweep_orphan_media().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(n, "deleted orphaned media"),
            Err(e) => tracing::warn!("orphaned media sweep failed: {e}"),
        }
    }
}
