//! Invitation codes for invite-only sign-up, managed by admins.

use super::extract::{ApiJson, Auth};
use super::{ReadErrors, WriteErrors};
use crate::chat::invitations::{Invitation, NewInvitation};
use crate::error::Error;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

/// # `GET /api/v1/admin/invitations`
/// Every invitation code with its uses, newest first (admins only).
#[utoipa::path(get, path = "/api/v1/admin/invitations", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "Invitation codes", body = Vec<Invitation>), ReadErrors))]
pub async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> Result<Json<Vec<Invitation>>, Error> {
    Ok(Json(state.chat.list_invitations(&caller).await?))
}

/// # `POST /api/v1/admin/invitations`
/// Makes an invitation code (admins only); with `registration = invite`,
/// sign-up needs one.
#[utoipa::path(post, path = "/api/v1/admin/invitations", tag = "auth", security(("bearer" = [])),
    request_body(content = NewInvitation, content_type = "application/json"),
    responses((status = 201, description = "Created", body = Invitation), WriteErrors))]
pub async fn create(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiJson(new): ApiJson<NewInvitation>,
) -> Result<(StatusCode, Json<Invitation>), Error> {
    let invitation = state.chat.create_invitation(&caller, new).await?;
    Ok((StatusCode::CREATED, Json(invitation)))
}

/// # `DELETE /api/v1/admin/invitations/{code}`
/// Withdraws a code (admins only); accounts made with it stay.
#[utoipa::path(delete, path = "/api/v1/admin/invitations/{code}", tag = "auth", security(("bearer" = [])),
    params(("code" = String, Path, description = "The invitation code")),
    responses((status = 204, description = "Withdrawn"), ReadErrors))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(code): Path<String>,
) -> Result<StatusCode, Error> {
    state.chat.delete_invitation(&caller, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}
