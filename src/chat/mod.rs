//! The domain: what users can do and the rules that decide whether they may.
//! Transports (`api`, `ws`, later `apub`) call into [`Chat`]; it checks
//! rights, talks to `db`, and publishes [`events::ChatEvent`]s on the bus.
//!
//! Must not import axum, activitypub_federation, `api`, `ws` or `apub`.

pub mod accounts;
pub mod cache;
pub mod contacts;
pub mod conversations;
pub mod events;
pub mod federation;
pub mod flags;
pub mod games;
pub mod groups;
pub mod history;
pub mod instances;
pub mod invitations;
pub mod ip_rules;
pub mod joins;
pub mod media;
pub mod mentions;
pub mod messages;
pub mod mirrors;
pub mod pins;
pub mod presence;
pub mod previews;
pub mod principal;
pub mod profiles;
pub mod reactions;
pub mod receipts;
pub mod reports;
pub mod search;
pub mod stickers;
pub mod users;
pub mod validate;
pub mod views;
pub mod writer;

use crate::auth::hashing::{HashPool, HashPoolError};
use crate::db::{Db, DbError};
use events::EventBus;
use std::sync::Arc;

/// Why a domain operation was refused or failed. The transports map each
/// variant to a status and machine code in one place (`crate::error`).
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// 404: the named thing does not exist (or is hidden from the caller).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 409: a unique value is already taken.
    #[error("{0}")]
    Conflict(String),
    /// 400: a search query or its paging cannot be run (`invalid_query`).
    #[error("{0}")]
    InvalidQuery(String),
    /// 422: the request is well-formed but a value breaks a rule.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// 403: the caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 401: the credentials do not identify anyone.
    #[error("{0}")]
    Unauthenticated(String),
    /// 403: federation with this server or address is refused (a blocked
    /// instance, a private address).
    #[error("{0}")]
    Refused(String),
    /// 409 `limit_reached`: a bound on stored things would be passed
    /// (reactions on a message).
    #[error("{0}")]
    LimitReached(String),
    /// 429: too many requests.
    #[error("{0}")]
    RateLimited(String),
    /// 413 `payload_too_large`: an upload past `max_upload_bytes`.
    #[error("{0}")]
    TooLarge(String),
    /// 416 `range_not_satisfiable`: a byte range outside a media item.
    #[error("the requested range is outside the file")]
    RangeNotSatisfiable,
    /// 401 or 403 with a code of its own: a suspended account, a wrong
    /// current password, a revoked token (see [`accounts::Denial`]).
    #[error("{}", .0.message())]
    Denied(accounts::Denial),
    /// 502 `bad_gateway`: another server's file could not be fetched (the
    /// message says why: a refused address, its HTTP status, a deadline).
    #[error("{0}")]
    Upstream(String),
    /// 500: storage failed; details are logged, never shown.
    #[error(transparent)]
    Db(#[from] DbError),
    /// 500: anything else that should not happen.
    #[error("{0}")]
    Internal(String),
}

impl ChatError {
    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Self {
        ChatError::Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

pub type ChatResult<T> = Result<T, ChatError>;

impl From<HashPoolError> for ChatError {
    fn from(e: HashPoolError) -> Self {
        match e {
            HashPoolError::Busy => ChatError::RateLimited(e.to_string()),
            HashPoolError::Stopped => ChatError::Internal(e.to_string()),
        }
    }
}

/// Rules about accounts that come from configuration.
#[derive(Debug, Clone)]
pub struct AccountPolicy {
    /// Who may sign up at `POST /api/v1/auth/register`.
    pub registration: crate::config::RegistrationMode,
    /// Names that get the admin role (besides the first registered user).
    pub admins: Vec<String>,
    /// This server's host (and port) as it appears in handles:
    /// `@name@{domain}` is the local user `name`.
    pub domain: String,
}

/// Limits on chat content that come from configuration.
#[derive(Debug, Clone)]
pub struct ChatLimits {
    /// Longest message body, in characters.
    pub max_message_chars: usize,
    /// How long a game invitation can be answered, in seconds.
    pub game_invite_ttl_s: u64,
}

/// Users whose typing quota is tracked at once (the limiter sheds beyond).
const TYPING_LIMIT_KEYS: usize = 10_000;

/// The domain service held in the app state.
pub struct Chat {
    db: Db,
    events: Arc<dyn EventBus>,
    policy: AccountPolicy,
    limits: ChatLimits,
    /// The threads that hash passwords, a bounded few at once.
    hashing: HashPool,
    presence: presence::Presence,
    /// Rights and blocks for the send path, kept in memory.
    cache: cache::AccessCache,
    /// The batching message writer.
    writer: writer::MessageWriter,
    /// Brings SQLite's search index up to date, off the send path.
    search_index: Arc<search::index::SearchIndexer>,
    /// Where changes by local users that concern remote users go.
    federation: Option<Arc<dyn federation::Federation>>,
    /// The instance blocklist, read on every inbox request.
    blocklist: instances::BlocklistCache,
    /// The IP rules in force, read on every API request.
    ip_rules: ip_rules::IpRuleCache,
    /// Media storage and links; `None` only in tests that build a bare chat.
    media: Option<media::MediaService>,
    /// Link previews; `None` when `link_previews` is off.
    previews: Option<previews::Previewer>,
    /// Typing notices crossing the server's edge, per user.
    typing_limits: crate::ratelimit::RateLimiter<crate::db::ids::UserId>,
}

impl Chat {
    pub fn new(
        db: Db,
        events: Arc<dyn EventBus>,
        policy: AccountPolicy,
        limits: ChatLimits,
        hashing: HashPool,
        federation: Option<Arc<dyn federation::Federation>>,
    ) -> Self {
        let writer = writer::MessageWriter::start(db.clone(), events.clone());
        let search_index = search::index::SearchIndexer::start(db.clone());
        Self {
            db,
            events,
            policy,
            limits,
            hashing,
            presence: presence::Presence::default(),
            cache: cache::AccessCache::default(),
            writer,
            search_index,
            federation,
            blocklist: instances::BlocklistCache::default(),
            ip_rules: ip_rules::IpRuleCache::default(),
            media: None,
            previews: None,
            typing_limits: crate::ratelimit::RateLimiter::new(
                messages::TYPING_QUOTA,
                TYPING_LIMIT_KEYS,
            ),
        }
    }

    /// Gives the chat its media storage.
    pub fn with_media(mut self, media: media::MediaService) -> Self {
        self.media = Some(media);
        self
    }

    /// Hands a local user's change to federation (a no-op without it).
    async fn federate(&self, change: federation::Outgoing) -> ChatResult<()> {
        match &self.federation {
            Some(federation) => federation.outgoing(change).await,
            None => Ok(()),
        }
    }

    /// Publishes `notice` to `audience` (nobody: nothing happens).
    fn notify(&self, audience: Vec<crate::db::ids::UserId>, notice: events::Notice) {
        if !audience.is_empty() {
            self.events.publish(events::ChatEvent::Notify {
                audience,
                notice: Box::new(notice),
            });
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn events(&self) -> &Arc<dyn EventBus> {
        &self.events
    }
}
