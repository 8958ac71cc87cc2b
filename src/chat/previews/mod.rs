//! Link previews: after a text message is stored (never on the send path:
//! the sender has had their answer), its first http(s) link is fetched by
//! a background worker through the guarded outgoing client, the page's
//! OpenGraph / Twitter card / `<title>` facts are read, its image is kept
//! as media, and the preview is stored with the message and pushed to
//! those who see it as `message.preview`. Every view of the message
//! carries it from then on. Messages received from other servers get a
//! preview made here, as local ones do.
//!
//! Bounds: a queue of [`QUEUE`] jobs (more are dropped, and logged),
//! [`CONCURRENCY`] fetches at once, the limits of [`fetch::FetchLimits`],
//! and a cache of [`CACHE_ENTRIES`] pages for [`CACHE_TTL`], so a link
//! many messages share is fetched once.
//!
//! Must not import axum, activitypub_federation, `api`, `ws` or `apub`.

pub mod fetch;
pub mod link;
pub mod page;

use super::events::Notice;
use super::media::MediaItem;
use super::{Chat, ChatResult};
use crate::db::ids::{ConversationId, MediaId, MessageId};
use crate::db::link_previews::{self as rows, LinkPreviewRow};
use crate::db::media::MediaRow;
use crate::db::messages as message_rows;
use crate::outgoing::Outgoing;
use fetch::FetchLimits;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch, OnceCell, Semaphore};
use url::Url;
use utoipa::ToSchema;

/// Messages waiting for a preview, at most.
pub const QUEUE: usize = 1024;
/// Previews made at once.
pub const CONCURRENCY: usize = 4;
/// Pages remembered (with what they gave, or that they gave nothing).
pub const CACHE_ENTRIES: usize = 1000;
/// How long a page is remembered.
pub const CACHE_TTL: Duration = Duration::from_secs(3600);
/// The limits every preview fetch keeps.
pub const LIMITS: FetchLimits = FetchLimits {
    timeout: Duration::from_secs(5),
    page_bytes: 1024 * 1024,
    image_bytes: 5 * 1024 * 1024,
};

/// The preview of a message's first link, as clients see it. All text is
/// plain text taken from the page (never markup); show it as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LinkPreview {
    /// The link as the message wrote it.
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The site's own name (`og:site_name`); clients show the link's host
    /// without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_name: Option<String>,
    /// The page's image, kept by this server (signed links).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<MediaItem>,
}

/// The push that a message's preview is ready (`message.preview`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MessagePreview {
    pub conversation: ConversationId,
    pub message: MessageId,
    pub preview: LinkPreview,
}

/// A message to preview.
#[derive(Debug)]
pub struct Job {
    message: MessageId,
    url: Url,
}

/// What a page gave, shared by every message that links it.
#[derive(Debug, Clone)]
struct Card {
    title: Option<String>,
    description: Option<String>,
    site_name: Option<String>,
    image: Option<MediaId>,
}

/// A page in the cache: made once, however many messages wait for it.
struct Cached {
    at: Instant,
    card: Arc<OnceCell<Option<Card>>>,
}

/// The preview side of [`Chat`]: the queue, the client, the cache.
pub struct Previewer {
    outgoing: Outgoing,
    limits: FetchLimits,
    jobs: mpsc::Sender<Job>,
    cache: Mutex<HashMap<String, Cached>>,
    /// How many queued previews were finished (made or not).
    finished: watch::Sender<u64>,
}

impl Previewer {
    /// A previewer fetching through `outgoing`, and the receiving end of
    /// its queue for [`run`].
    pub fn new(outgoing: Outgoing, limits: FetchLimits) -> (Self, mpsc::Receiver<Job>) {
        let (jobs, receiver) = mpsc::channel(QUEUE);
        let previewer = Self {
            outgoing,
            limits,
            jobs,
            cache: Mutex::new(HashMap::new()),
            finished: watch::Sender::new(0),
        };
        (previewer, receiver)
    }

    /// Queues `job`; a full queue drops it (the message has no preview).
    fn enqueue(&self, job: Job) {
        if let Err(e) = self.jobs.try_send(job) {
            tracing::warn!("link preview skipped: {e}");
        }
    }

    /// The cache cell of `url`: a fresh one when it is not cached or has
    /// expired (the oldest entry makes room when the cache is full).
    fn cell(&self, url: &str) -> Arc<OnceCell<Option<Card>>> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(cached) = cache.get(url).filter(|c| c.at.elapsed() < CACHE_TTL) {
            return cached.card.clone();
        }
        if cache.len() >= CACHE_ENTRIES {
            cache.retain(|_, c| c.at.elapsed() < CACHE_TTL);
            let oldest = cache
                .iter()
                .min_by_key(|(_, c)| c.at)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                cache.remove(&oldest);
            }
        }
        let card = Arc::new(OnceCell::new());
        cache.insert(
            url.to_owned(),
            Cached {
                at: Instant::now(),
                card: card.clone(),
            },
        );
        card
    }
}

/// Makes the previews queued for `chat`, [`CONCURRENCY`] at once, until
/// the chat is gone.
pub async fn run(chat: Weak<Chat>, mut jobs: mpsc::Receiver<Job>) {
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    while let Some(job) = jobs.recv().await {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let Some(chat) = chat.upgrade() else {
            return;
        };
        tokio::spawn(async move {
            let _permit = permit;
            let message = job.message;
            if let Err(e) = chat.make_preview(job).await {
                tracing::warn!(%message, "link preview failed: {e}");
            }
            if let Some(previewer) = &chat.previews {
                previewer.finished.send_modify(|n| *n += 1);
            }
        });
    }
}

impl Chat {
    /// Gives the chat its link previewer (`link_previews = true`).
    pub fn with_previews(mut self, previewer: Previewer) -> Self {
        self.previews = Some(previewer);
        self
    }

    /// How many queued previews have been finished, made or not, as it
    /// changes (for operations and tests); `None` when previews are off.
    pub fn previews_finished(&self) -> Option<watch::Receiver<u64>> {
        self.previews.as_ref().map(|p| p.finished.subscribe())
    }

    /// Queues a preview of the first link of a stored text message, if it
    /// has one and previews are on.
    pub(super) fn queue_preview(&self, message: &super::views::Message) {
        let Some(previewer) = &self.previews else {
            return;
        };
        if message.kind != super::views::MessageKind::Text || message.deleted {
            return;
        }
        if let Some(url) = link::first_link(&message.body) {
            previewer.enqueue(Job {
                message: message.id,
                url,
            });
        }
    }

    /// Makes, stores and pushes the preview of one message.
    async fn make_preview(&self, job: Job) -> ChatResult<()> {
        let Some(previewer) = &self.previews else {
            return Ok(());
        };
        let cell = previewer.cell(job.url.as_str());
        let card = cell.get_or_init(|| self.card_of(&job.url)).await;
        let Some(card) = card.clone() else {
            return Ok(());
        };
        let Some(message) = message_rows::find(&mut self.db.read().await?, job.message).await?
        else {
            return Ok(());
        };
        if message.deleted_at.is_some() {
            return Ok(());
        }
        let row = LinkPreviewRow {
            message_id: job.message,
            url: job.url.to_string(),
            title: card.title,
            description: card.description,
            site_name: card.site_name,
            image_id: card.image,
            created_at: chrono::Utc::now().naive_utc(),
        };
        if !rows::insert(&mut self.db.write().await?, &row).await? {
            return Ok(());
        }
        let image = match row.image_id {
            Some(id) => crate::db::media::find(&mut self.db.read().await?, id).await?,
            None => None,
        };
        let preview = self.preview_view(row, image.as_ref());
        let access = self.access(message.conversation_id).await?;
        let audience = self
            .audience_of(access.member_ids(), message.author_id)
            .await?;
        self.notify(
            audience,
            Notice::MessagePreview(MessagePreview {
                conversation: message.conversation_id,
                message: message.id,
                preview,
            }),
        );
        Ok(())
    }

    /// What the page at `url` gives (`None`: nothing to show, or it could
    /// not be had; the reason is logged).
    async fn card_of(&self, url: &Url) -> Option<Card> {
        let previewer = self.previews.as_ref()?;
        let limits = previewer.limits;
        let fetched = fetch::get(
            &previewer.outgoing,
            url.clone(),
            "text/html,application/xhtml+xml",
            fetch::is_html,
            limits.page_bytes,
            limits.timeout,
        )
        .await;
        let page = match fetched {
            Ok(page) => page,
            Err(e) => {
                tracing::info!(%url, "no link preview: {e}");
                return None;
            }
        };
        let meta = page::read(&String::from_utf8_lossy(&page.body), &page.url);
        if meta.is_empty() {
            return None;
        }
        let image = match meta.image {
            Some(image) => self.preview_image(image).await,
            None => None,
        };
        Some(Card {
            title: meta.title,
            description: meta.description,
            site_name: meta.site_name,
            image,
        })
    }

    /// Fetches and keeps a page's image (`None` when it cannot be had or
    /// is no image; logged).
    async fn preview_image(&self, url: Url) -> Option<MediaId> {
        let previewer = self.previews.as_ref()?;
        let limits = previewer.limits;
        let fetched = fetch::get(
            &previewer.outgoing,
            url.clone(),
            "image/*",
            fetch::is_image,
            limits.image_bytes,
            limits.timeout,
        )
        .await;
        let stored = match fetched {
            Ok(image) => self.store_preview_image(image.body).await,
            Err(e) => {
                tracing::info!(%url, "no preview image: {e}");
                return None;
            }
        };
        match stored {
            Ok(row) => Some(row.id),
            Err(e) => {
                tracing::info!(%url, "preview image not kept: {e}");
                None
            }
        }
    }

    fn preview_view(&self, row: LinkPreviewRow, image: Option<&MediaRow>) -> LinkPreview {
        LinkPreview {
            url: row.url,
            title: row.title,
            description: row.description,
            site_name: row.site_name,
            image: image.and_then(|i| self.media_view(i)),
        }
    }

    /// Fills in the previews of `messages` (history, catch-up).
    pub(super) async fn attach_previews(
        &self,
        conn: &mut crate::db::DbConn<'_>,
        messages: &mut [super::views::Message],
    ) -> ChatResult<()> {
        let ids: Vec<MessageId> = messages.iter().map(|m| m.id).collect();
        for (row, image) in rows::of_messages(conn, &ids).await? {
            if let Some(message) = messages.iter_mut().find(|m| m.id == row.message_id) {
                message.preview = Some(self.preview_view(row, image.as_ref()));
            }
        }
        Ok(())
    }
}
