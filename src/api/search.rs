//! Full-text search of the caller's messages over REST; the WebSocket's
//! `message.search` answers the same.
//!
//! Reaches the database only through `chat`.

use super::extract::{ApiQuery, Auth};
use super::ReadErrors;
use crate::chat::search::{SearchPage, SearchRequest};
use crate::chat::ChatError;
use crate::error::Error;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;

/// # `GET /api/v1/search`
/// Messages the caller can read that match `q`, newest first. A query that
/// cannot be run (empty, too long, too many words, a bad `limit` or date
/// range) is 400 `invalid_query`.
#[utoipa::path(get, path = "/api/v1/search", tag = "chat", security(("bearer" = [])),
    params(SearchRequest),
    responses((status = 200, description = "Matching messages, newest first", body = SearchPage), ReadErrors))]
pub async fn search(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiQuery(request): ApiQuery<SearchRequest>,
) -> Result<Json<SearchPage>, Error> {
    let user = caller
        .user_id()
        .ok_or_else(|| ChatError::Forbidden("service tokens have no conversations".into()))?;
    Ok(Json(state.chat.search(user, request).await?))
}
