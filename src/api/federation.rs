//! Federation as users and admins see it: a message's delivery state, the
//! instance blocklist and remote host health.

use super::extract::{ApiJson, Auth};
use super::{ReadErrors, WriteErrors};
use crate::chat::instances::{Delivery, Host, InstanceBlock, NewInstanceBlock};
use crate::chat::ChatError;
use crate::db::ids::MessageId;
use crate::error::Error;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

/// # `GET /api/v1/messages/{message}/deliveries`
/// Per-recipient delivery state of a message the caller wrote to remote
/// users: per inbox, the state of its latest version and every activity.
#[utoipa::path(get, path = "/api/v1/messages/{message}/deliveries", tag = "federation", security(("bearer" = [])),
    params(("message" = String, Path, description = "Message id")),
    responses((status = 200, description = "One entry per remote inbox: the state of the newest activity about the message there, and every activity sent to it", body = Vec<Delivery>), ReadErrors))]
pub async fn deliveries(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(message): Path<String>,
) -> Result<Json<Vec<Delivery>>, Error> {
    let user = caller
        .user_id()
        .ok_or(Error::Chat(ChatError::NotFound("message")))?;
    let id = uuid::Uuid::parse_str(&message).map_err(|_| ChatError::NotFound("message"))?;
    Ok(Json(
        state.chat.message_deliveries(user, MessageId(id)).await?,
    ))
}

/// # `GET /api/v1/admin/instance-blocks`
#[utoipa::path(get, path = "/api/v1/admin/instance-blocks", tag = "federation", security(("bearer" = [])),
    responses((status = 200, description = "Blocked instances", body = Vec<InstanceBlock>), ReadErrors))]
pub async fn list_instance_blocks(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> Result<Json<Vec<InstanceBlock>>, Error> {
    Ok(Json(state.chat.instance_blocks(&caller).await?))
}

/// # `POST /api/v1/admin/instance-blocks`
/// Blocks an instance (admins only): its activities are refused with 403
/// and its users cannot be looked up.
#[utoipa::path(post, path = "/api/v1/admin/instance-blocks", tag = "federation", security(("bearer" = [])),
    request_body(content = NewInstanceBlock, content_type = "application/json"),
    responses((status = 201, description = "Blocked", body = InstanceBlock), WriteErrors))]
pub async fn block_instance(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiJson(new): ApiJson<NewInstanceBlock>,
) -> Result<(StatusCode, Json<InstanceBlock>), Error> {
    let block = state.chat.block_instance(&caller, new).await?;
    Ok((StatusCode::CREATED, Json(block)))
}

/// # `DELETE /api/v1/admin/instance-blocks/{domain}`
#[utoipa::path(delete, path = "/api/v1/admin/instance-blocks/{domain}", tag = "federation", security(("bearer" = [])),
    params(("domain" = String, Path, description = "The blocked host name")),
    responses((status = 204, description = "Unblocked"), ReadErrors))]
pub async fn unblock_instance(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(domain): Path<String>,
) -> Result<StatusCode, Error> {
    state.chat.unblock_instance(&caller, &domain).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// # `GET /api/v1/admin/federation/hosts`
/// Delivery health of every remote host, worst first (admins only).
#[utoipa::path(get, path = "/api/v1/admin/federation/hosts", tag = "federation", security(("bearer" = [])),
    responses((status = 200, description = "Remote hosts", body = Vec<Host>), ReadErrors))]
pub async fn hosts(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> Result<Json<Vec<Host>>, Error> {
    Ok(Json(state.chat.federation_hosts(&caller).await?))
}
