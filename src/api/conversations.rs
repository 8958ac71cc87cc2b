//! REST reads of what the WebSocket also serves: conversations, members,
//! history, contacts and blocks. Writes go through the WebSocket.

use super::extract::{ApiQuery, Auth};
use super::ReadErrors;
use crate::chat::history::{MessagePage, PageRequest, HISTORY_MAX};
use crate::chat::joins::{JoinRequest, SentJoinRequest};
use crate::chat::pins::Pins;
use crate::chat::principal::Principal;
use crate::chat::receipts::ReadBy;
use crate::chat::views::{Contact, ConversationSummary, Member};
use crate::chat::ChatError;
use crate::db::ids::{ConversationId, MessageId, UserId};
use crate::error::Error;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

fn user_of(caller: &Principal) -> Result<UserId, Error> {
    caller
        .user_id()
        .ok_or_else(|| ChatError::Forbidden("service tokens have no conversations".into()).into())
}

fn conversation_id(raw: &str) -> Result<ConversationId, Error> {
    uuid::Uuid::parse_str(raw)
        .map(ConversationId)
        .map_err(|_| ChatError::NotFound("conversation").into())
}

/// # `GET /api/v1/conversations`
/// The caller's conversations, most recently active first.
#[utoipa::path(get, path = "/api/v1/conversations", tag = "chat", security(("bearer" = [])),
    responses((status = 200, description = "Conversations with unread counts", body = Vec<ConversationSummary>), ReadErrors))]
pub async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> Result<Json<Vec<ConversationSummary>>, Error> {
    Ok(Json(
        state.chat.list_conversations(user_of(&caller)?).await?,
    ))
}

/// # `GET /api/v1/conversations/{conversation}`
#[utoipa::path(get, path = "/api/v1/conversations/{conversation}", tag = "chat", security(("bearer" = [])),
    params(("conversation" = String, Path, description = "Conversation id")),
    responses((status = 200, description = "The conversation", body = ConversationSummary), ReadErrors))]
pub async fn get(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(conversation): Path<String>,
) -> Result<Json<ConversationSummary>, Error> {
    let id = conversation_id(&conversation)?;
    Ok(Json(
        state
            .chat
            .conversation_summary(user_of(&caller)?, id)
            .await?,
    ))
}

/// # `GET /api/v1/conversations/{conversation}/members`
#[utoipa::path(get, path = "/api/v1/conversations/{conversation}/members", tag = "chat", security(("bearer" = [])),
    params(("conversation" = String, Path, description = "Conversation id")),
    responses((status = 200, description = "Members and their rights", body = Vec<Member>), ReadErrors))]
pub async fn members(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(conversation): Path<String>,
) -> Result<Json<Vec<Member>>, Error> {
    let id = conversation_id(&conversation)?;
    let summary = state
        .chat
        .conversation_summary(user_of(&caller)?, id)
        .await?;
    Ok(Json(summary.conversation.members))
}

/// # `GET /api/v1/conversations/{conversation}/join-requests`
///
/// Open requests from users on other servers to join a group hosted here
/// (admins and the owner only).
#[utoipa::path(get, path = "/api/v1/conversations/{conversation}/join-requests", tag = "chat", security(("bearer" = [])),
    params(("conversation" = String, Path, description = "Conversation id")),
    responses((status = 200, description = "Open join requests, oldest first", body = Vec<JoinRequest>), ReadErrors))]
pub async fn join_requests(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(conversation): Path<String>,
) -> Result<Json<Vec<JoinRequest>>, Error> {
    let id = conversation_id(&conversation)?;
    let requests = state.chat.join_requests(user_of(&caller)?, id).await?;
    Ok(Json(requests))
}

/// Paging of `GET /api/v1/conversations/{conversation}/messages`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only messages older than this id (newest first page when absent).
    #[param(value_type = Option<uuid::Uuid>)]
    before: Option<MessageId>,
    /// Only messages newer than this id.
    #[param(value_type = Option<uuid::Uuid>)]
    after: Option<MessageId>,
    /// The page centred on this message (not with `before` or `after`);
    /// the answer then says whether `older` and `newer` messages exist.
    #[param(value_type = Option<uuid::Uuid>)]
    around: Option<MessageId>,
    /// 1-100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

/// # `GET /api/v1/conversations/{conversation}/messages`
/// A page of history, oldest first: the newest messages, those before
/// and/or after a message, or those around one.
#[utoipa::path(get, path = "/api/v1/conversations/{conversation}/messages", tag = "chat", security(("bearer" = [])),
    params(("conversation" = String, Path, description = "Conversation id"), HistoryQuery),
    responses((status = 200, description = "Messages", body = MessagePage), ReadErrors))]
pub async fn history(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(conversation): Path<String>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<Json<MessagePage>, Error> {
    let id = conversation_id(&conversation)?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=HISTORY_MAX).contains(&limit) {
        return Err(Error::InvalidQuery(format!(
            "limit must be 1 to {HISTORY_MAX}"
        )));
    }
    let page = PageRequest {
        before: query.before,
        after: query.after,
        around: query.around,
        limit,
    };
    Ok(Json(state.chat.history(user_of(&caller)?, id, page).await?))
}

/// # `GET /api/v1/conversations/{conversation}/pins`
/// A group's pinned messages, oldest pin first (members).
#[utoipa::path(get, path = "/api/v1/conversations/{conversation}/pins", tag = "chat", security(("bearer" = [])),
    params(("conversation" = String, Path, description = "Conversation id")),
    responses((status = 200, description = "Pinned messages", body = Pins), ReadErrors))]
pub async fn pins(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(conversation): Path<String>,
) -> Result<Json<Pins>, Error> {
    let id = conversation_id(&conversation)?;
    Ok(Json(state.chat.pins(user_of(&caller)?, id).await?))
}

/// # `GET /api/v1/conversations/{conversation}/read-by`
/// How far the other members have read, for those who share read receipts
/// (none while the caller does not share their own).
#[utoipa::path(get, path = "/api/v1/conversations/{conversation}/read-by", tag = "chat", security(("bearer" = [])),
    params(("conversation" = String, Path, description = "Conversation id")),
    responses((status = 200, description = "Other members' read markers", body = ReadBy), ReadErrors))]
pub async fn read_by(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(conversation): Path<String>,
) -> Result<Json<ReadBy>, Error> {
    let id = conversation_id(&conversation)?;
    Ok(Json(state.chat.read_by(user_of(&caller)?, id).await?))
}

/// # `GET /api/v1/join-requests`
/// The caller's requests to join groups hosted on other servers that are
/// still waiting for an answer.
#[utoipa::path(get, path = "/api/v1/join-requests", tag = "chat", security(("bearer" = [])),
    responses((status = 200, description = "Waiting requests, oldest first", body = Vec<SentJoinRequest>), ReadErrors))]
pub async fn sent_join_requests(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> Result<Json<Vec<SentJoinRequest>>, Error> {
    Ok(Json(
        state.chat.sent_join_requests(user_of(&caller)?).await?,
    ))
}

/// # `GET /api/v1/contacts`
/// Contacts and pending invitations, from the caller's side.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "chat", security(("bearer" = [])),
    responses((status = 200, description = "Contacts", body = Vec<Contact>), ReadErrors))]
pub async fn contacts(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> Result<Json<Vec<Contact>>, Error> {
    Ok(Json(state.chat.contacts(user_of(&caller)?).await?))
}

/// # `GET /api/v1/blocks`
/// Users the caller blocks.
#[utoipa::path(get, path = "/api/v1/blocks", tag = "chat", security(("bearer" = [])),
    responses((status = 200, description = "Blocked user ids", body = Vec<uuid::Uuid>), ReadErrors))]
pub async fn blocks(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> Result<Json<Vec<UserId>>, Error> {
    Ok(Json(state.chat.blocks(user_of(&caller)?).await?))
}
