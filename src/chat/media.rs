//! Media: uploads (quota, size limit, type from content, images processed
//! on a few blocking threads), who may read an item (its uploader, the
//! members of the conversation whose message carries it, or whoever holds
//! a signed link), files of other servers' messages (fetched on first use,
//! then cached or proxied per `remote_media`), and the sweep of items no
//! message carries.
//!
//! Must not import axum, activitypub_federation, `api`, `ws` or `apub`.

use super::writer::Attached;
use super::{Chat, ChatError, ChatResult};
use crate::config::RemoteMediaMode;
use crate::db::ids::{MediaId, UserId};
use crate::db::media::{self as rows, AttachmentRow, MediaRow};
use crate::media::capability::{Signer, Variant};
use crate::media::remote::{RemoteBody, RemoteFetcher};
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

/// How the files of other servers' messages are fetched, and whether they
/// are kept.
#[derive(Clone)]
pub struct RemoteMedia {
    pub fetcher: RemoteFetcher,
    pub mode: RemoteMediaMode,
}

/// The media side of [`Chat`]: the store, the link signer, the limits.
pub struct MediaService {
    store: MediaStore,
    signer: Arc<Signer>,
    limits: MediaLimits,
    remote: RemoteMedia,
    /// Bounds concurrent image decoding.
    decoders: Arc<Semaphore>,
}

/// Where stored content comes from, which decides the errors it gets.
enum Intake {
    /// A user's upload, under `max_upload_bytes` and their quota.
    Upload { max: u64, quota: u64 },
    /// Another server's file (`remote_media = cache`): its failures are
    /// that server's, 502.
    Remote,
}

impl Intake {
    /// The content passed its limit at `size` bytes.
    fn over(&self, size: u64, limit: u64) -> ChatError {
        match *self {
            Intake::Upload { max, .. } if size > max => MediaError::TooLarge(max).into(),
            Intake::Upload { quota, .. } => quota_error(quota),
            Intake::Remote => {
                ChatError::Upstream(format!("the remote file is larger than {limit} bytes"))
            }
        }
    }

    /// The body stream failed.
    fn broken(&self, e: std::io::Error) -> ChatError {
        match self {
            Intake::Upload { .. } => MediaError::Body(e).into(),
            Intake::Remote => ChatError::Upstream(e.to_string()),
        }
    }

    fn empty(&self) -> ChatError {
        match self {
            Intake::Upload { .. } => ChatError::invalid("body", "the upload is empty"),
            Intake::Remote => ChatError::Upstream("the remote file is empty".into()),
        }
    }

    /// An image that cannot be decoded (or has too many pixels).
    fn bad_image(&self, e: MediaError) -> ChatError {
        match self {
            Intake::Upload { .. } => e.into(),
            Intake::Remote => ChatError::Upstream(format!("the remote image is unusable: {e}")),
        }
    }
}

/// Where the bytes of a readable item come from.
pub enum Source {
    /// The media store (uploads, and remote files cached there): the row
    /// gives type and size, and ranges can be served.
    Stored(MediaRow),
    /// A remote file streamed through (`remote_media = proxy`), typed by
    /// its first bytes; no ranges, no length known in advance.
    Streamed {
        content_type: &'static str,
        body: RemoteBody,
    },
}

impl MediaService {
    pub fn new(
        store: MediaStore,
        signer: Arc<Signer>,
        limits: MediaLimits,
        remote: RemoteMedia,
    ) -> Self {
        Self {
            store,
            signer,
            limits,
            remote,
            decoders: Arc::new(Semaphore::new(DECODERS)),
        }
    }

    /// Whether a capability link's parameters open `variant` of `id` now.
    pub fn check_link(&self, id: MediaId, variant: Variant, exp: i64, sig: &str) -> bool {
        self.signer
            .check(id, variant, exp, sig, chrono::Utc::now().timestamp())
    }

    /// Stores `body` under `row`'s id as key, filling in what the content
    /// says: kind and type from its first bytes; images decoded, turned
    /// upright, re-encoded without metadata, thumbnailed (on at most
    /// [`DECODERS`] threads). At most `limit` bytes.
    async fn store_content<S>(
        &self,
        row: &mut MediaRow,
        mut body: S,
        limit: u64,
        intake: &Intake,
    ) -> ChatResult<()>
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Unpin + Send,
    {
        let mut head = BytesMut::new();
        while head.len() < SNIFF_BYTES {
            match body.next().await {
                Some(chunk) => head.extend_from_slice(&chunk.map_err(|e| intake.broken(e))?),
                None => break,
            }
            if head.len() as u64 > limit {
                return Err(intake.over(head.len() as u64, limit));
            }
        }
        if head.is_empty() {
            return Err(intake.empty());
        }
        let sniffed = sniff(&head);
        let key = row.id.to_string();
        row.kind = sniffed.kind.to_owned();
        row.content_type = sniffed.content_type.to_owned();
        if sniffed.kind == "image" {
            // Decoding needs the whole file; it is bounded by `limit`.
            let mut data = head;
            while let Some(chunk) = body.next().await {
                data.extend_from_slice(&chunk.map_err(|e| intake.broken(e))?);
                if data.len() as u64 > limit {
                    return Err(intake.over(data.len() as u64, limit));
                }
            }
            self.store_image(row, &key, data.freeze(), intake).await?;
        } else {
            let stored = self
                .store
                .put_stream(&key, head.freeze(), body, limit)
                .await
                .map_err(|e| match e {
                    MediaError::TooLarge(_) => intake.over(limit + 1, limit),
                    MediaError::Body(e) => intake.broken(e),
                    other => other.into(),
                })?;
            row.size_bytes = stored as i64;
        }
        row.storage_key = Some(key);
        Ok(())
    }

    /// The client's view of `row`, with links valid for `link_ttl_s`.
    pub fn view(&self, row: &MediaRow, alt_text: Option<String>) -> MediaItem {
        let exp = chrono::Utc::now().timestamp() + self.limits.link_ttl_s as i64;
        // Remote items too: clients never get another server's URL.
        let url = self.signer.link(row.id, Variant::Original, exp);
        let thumbnail_url = row
            .has_thumbnail
            .then(|| self.signer.link(row.id, Variant::Thumbnail, exp));
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
    /// with its thumbnail under `key`, and fills in `row`.
    /// `intake` says what an image that cannot be decoded is (the
    /// uploader's mistake, or the remote server's).
    async fn store_image(
        &self,
        row: &mut MediaRow,
        key: &str,
        data: Bytes,
        intake: &Intake,
    ) -> ChatResult<()> {
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
        .map_err(|e| ChatError::Internal(format!("image task: {e}")))?
        .map_err(|e| intake.bad_image(e))?;
        self.store
            .put(&thumbnail_key(key), processed.thumbnail)
            .await?;
        row.size_bytes = processed.data.len() as i64;
        self.store.put(key, processed.data).await?;
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
/// link to it, fetched when a client first opens it.
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
            MediaError::Remote(m) => ChatError::Upstream(m),
        }
    }
}

impl Chat {
    pub(super) fn media(&self) -> ChatResult<&MediaService> {
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
        body: S,
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
        let intake = Intake::Upload {
            max,
            quota: media.limits.quota_bytes,
        };
        let id = MediaId(uuid::Uuid::new_v4());
        let mut row = MediaRow {
            id,
            uploader_id: Some(user),
            kind: String::new(),
            content_type: String::new(),
            size_bytes: 0,
            width: None,
            height: None,
            blurhash: None,
            has_thumbnail: false,
            storage_key: None,
            remote_url: None,
            created_at: chrono::Utc::now().naive_utc(),
        };
        media
            .store_content(&mut row, body, max.min(left), &intake)
            .await?;
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
        let row = self.server_image(data, &Intake::Remote).await?;
        if let Err(e) = rows::insert(&mut self.db.write().await?, &row).await {
            self.remove_objects(&row).await;
            return Err(e.into());
        }
        Ok(row)
    }

    /// Keeps a sticker's image, uploaded by an admin: like
    /// [`Chat::store_preview_image`], but what cannot be decoded is the
    /// uploader's 422, and so is a side longer than `max_side` pixels. It
    /// is in the media store, not yet in the database (the caller inserts
    /// it with its sticker, or removes its objects).
    pub(super) async fn store_sticker_image(
        &self,
        data: Bytes,
        max_side: i32,
    ) -> ChatResult<MediaRow> {
        let intake = Intake::Upload {
            max: data.len() as u64,
            quota: u64::MAX,
        };
        let row = self.server_image(data, &intake).await?;
        if row.width.unwrap_or(0) > max_side || row.height.unwrap_or(0) > max_side {
            self.remove_objects(&row).await;
            return Err(ChatError::invalid(
                "file",
                format!("stickers are at most {max_side}x{max_side} pixels"),
            ));
        }
        Ok(row)
    }

    /// Stores an image of no user (a preview's, a sticker's): only an
    /// image type Confab decodes, sniffed from its bytes.
    async fn server_image(&self, data: Bytes, intake: &Intake) -> ChatResult<MediaRow> {
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
        let key = row.id.to_string();
        media.store_image(&mut row, &key, data, intake).await?;
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
            .filter(|row| row.storage_key.is_some() || row.remote_url.is_some())
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

    /// Where the bytes of `variant` of a readable item come from: the store,
    /// or for a remote file not stored yet, its server, through the
    /// guarded client. With `remote_media = cache` the file is stored (and
    /// an image thumbnailed) on this first request and the row updated;
    /// with `proxy` it is streamed through. A failed fetch is 502.
    pub async fn media_source(&self, row: MediaRow, variant: Variant) -> ChatResult<Source> {
        let media = self.media()?;
        let url = match (&row.storage_key, &row.remote_url) {
            (Some(_), _) => return Ok(Source::Stored(row)),
            (None, Some(url)) => url.clone(),
            (None, None) => return Err(ChatError::NotFound("media")),
        };
        if variant == Variant::Thumbnail && media.remote.mode == RemoteMediaMode::Proxy {
            return Err(ChatError::NotFound("thumbnail"));
        }
        let body = media.remote.fetcher.open(&url).await?;
        if media.remote.mode == RemoteMediaMode::Proxy {
            return streamed(body).await;
        }
        let mut cached = row;
        let limit = media.remote.fetcher.limit_bytes();
        media
            .store_content(&mut cached, body, limit, &Intake::Remote)
            .await?;
        if rows::set_cached(&mut self.db.write().await?, &cached).await? {
            return Ok(Source::Stored(cached));
        }
        // Cached by another request meanwhile (the same key, the same
        // bytes), or deleted with its message.
        match rows::find(&mut self.db.read().await?, cached.id).await? {
            Some(row) if row.storage_key.is_some() => Ok(Source::Stored(row)),
            _ => {
                self.remove_objects(&cached).await;
                Err(ChatError::NotFound("media"))
            }
        }
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
            attached.media.push(row.clone());
        }
        Ok(attached)
    }

    /// Stores the attachments of a received message as remote links (at
    /// most [`ATTACHMENTS_MAX`]; other than `http(s)` URLs are dropped),
    /// ready for the writer to attach. Nothing is fetched yet: clients get
    /// this server's links, and the first request fetches the file.
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
            attached.media.push(row);
        }
        Ok(attached)
    }

    /// Fills in the attachments and stickers of `messages`: every view of
    /// a message (history, catch-up, edits, pins, search, the last message
    /// of a conversation, reported messages) shows them.
    pub(super) async fn attach_media(
        &self,
        conn: &mut crate::db::DbConn<'_>,
        messages: &mut [super::views::Message],
    ) -> ChatResult<()> {
        self.attach_stickers(conn, messages).await?;
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

/// A remote body typed by its first bytes, to be streamed on whole.
async fn streamed(mut body: RemoteBody) -> ChatResult<Source> {
    let mut head = BytesMut::new();
    while head.len() < SNIFF_BYTES {
        match body.next().await {
            Some(chunk) => head.extend_from_slice(&chunk.map_err(|e| Intake::Remote.broken(e))?),
            None => break,
        }
    }
    if head.is_empty() {
        return Err(Intake::Remote.empty());
    }
    let content_type = sniff(&head).content_type;
    let head = futures_util::stream::once(async move { Ok(head.freeze()) });
    Ok(Source::Streamed {
        content_type,
        body: head.chain(body).boxed(),
    })
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
