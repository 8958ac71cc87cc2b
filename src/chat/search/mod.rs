//! Full-text search over the messages a user can read: live text messages
//! of the conversations they are a member of, without those whose author
//! they block (the same rules as history), newest first, in pages.
//! The index itself is the database's (FTS5 on SQLite, a `tsvector` on
//! PostgreSQL). PostgreSQL keeps it current on every send, edit and
//! deletion; on SQLite edits and deletions leave it at once and new text
//! enters it through [`index::SearchIndexer`], in batches off the send
//! path and before every search; see `db::search`.
//!
//! Must not import axum, activitypub_federation, `api`, `ws` or `apub`.

pub mod index;
pub mod query;

use super::views::Message;
use super::{Chat, ChatError, ChatResult};
use crate::db::ids::{ConversationId, MessageId, UserId};
use crate::db::search::{self as rows, SearchFilter};
use chrono::{DateTime, Utc};
use query::{Highlight, SearchQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Results per page unless the request says.
pub const SEARCH_DEFAULT_LIMIT: i64 = 20;
/// Most results per page.
pub const SEARCH_MAX_LIMIT: i64 = 50;

/// A search: the same fields as `GET /api/v1/search` and `message.search`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchRequest {
    /// Words (all must match), `"quoted phrases"`, `prefix*`; up to 256
    /// characters and 12 words.
    pub q: String,
    /// Only this conversation.
    #[serde(default)]
    #[param(value_type = Option<uuid::Uuid>)]
    pub conversation: Option<ConversationId>,
    /// Only messages by this user.
    #[serde(default)]
    #[param(value_type = Option<uuid::Uuid>)]
    pub author: Option<UserId>,
    /// Only messages sent before this time (RFC 3339).
    #[serde(default)]
    pub before: Option<DateTime<Utc>>,
    /// Only messages sent after this time (RFC 3339).
    #[serde(default)]
    pub after: Option<DateTime<Utc>>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    #[param(value_type = Option<uuid::Uuid>)]
    pub cursor: Option<MessageId>,
    /// 1-50 (default 20).
    #[serde(default)]
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
}

/// One found message.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchHit {
    /// The conversation it is in (also `message.conversation`).
    pub conversation: ConversationId,
    /// The message, as history shows it.
    pub message: Message,
    /// The words of `message.body` the query matched, as UTF-16 ranges.
    pub highlights: Vec<Highlight>,
}

/// One page of results, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchPage {
    pub results: Vec<SearchHit>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub next_cursor: Option<MessageId>,
}

impl Chat {
    /// The messages `user` can read that match `request`, newest first.
    pub async fn search(&self, user: UserId, request: SearchRequest) -> ChatResult<SearchPage> {
        let limit = request.limit.unwrap_or(SEARCH_DEFAULT_LIMIT);
        if !(1..=SEARCH_MAX_LIMIT).contains(&limit) {
            return Err(ChatError::InvalidQuery(format!(
                "limit: 1 to {SEARCH_MAX_LIMIT}"
            )));
        }
        let query =
            SearchQuery::parse(&request.q).map_err(|e| ChatError::InvalidQuery(e.to_string()))?;
        if let (Some(after), Some(before)) = (request.after, request.before) {
            if after >= before {
                return Err(ChatError::InvalidQuery(
                    "after must be earlier than before".into(),
                ));
            }
        }
        let filter = SearchFilter {
            reader: user,
            fts5: query.fts5(),
            tsquery: query.tsquery(),
            conversation: request.conversation,
            author: request.author,
            after: request.after.map(|t| t.naive_utc()),
            before: request.before.map(|t| t.naive_utc()),
            cursor: request.cursor,
            limit: limit + 1,
        };
        self.search_index.catch_up().await?;
        let mut conn = self.db.read().await?;
        let mut found = rows::search(&mut conn, &filter).await?;
        let more = found.len() as i64 > limit;
        found.truncate(limit as usize);
        let next_cursor = if more {
            found.last().map(|r| r.id)
        } else {
            None
        };
        let mut messages = found
            .into_iter()
            .map(Message::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        self.attach_media(&mut conn, &mut messages).await?;
        let results = messages
            .into_iter()
            .map(|message| SearchHit {
                conversation: message.conversation,
                highlights: query.highlights(&message.body),
                message,
            })
            .collect();
        Ok(SearchPage {
            results,
            next_cursor,
        })
    }
}
