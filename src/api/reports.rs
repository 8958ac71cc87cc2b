//! Reports: users report a message or a user (`/api/v1/reports`);
//! moderators work the queue (`/api/v1/admin/reports`).

use super::extract::{ApiJson, ApiQuery, Auth};
use super::{ReadErrors, TooManyRequests, WriteErrors};
use crate::apub;
use crate::chat::reports::{NewReport, Report, ReportDetail, ReportState, Resolve};
use crate::chat::ChatError;
use crate::db::ids::{ReportId, UserId};
use crate::error::Error;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

/// # `POST /api/v1/reports`
/// Reports a user, or a message the caller can read (its author is
/// reported), with a comment; `forward` also sends it to a remote user's
/// server as a `Flag`. A user may have 20 open reports at once (429).
#[utoipa::path(post, path = "/api/v1/reports", tag = "moderation", security(("bearer" = [])),
    request_body(content = NewReport, content_type = "application/json"),
    responses((status = 201, description = "Reported", body = Report), WriteErrors, TooManyRequests))]
pub async fn create(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiJson(new): ApiJson<NewReport>,
) -> Result<(StatusCode, Json<Report>), Error> {
    let target = match new.user.as_deref() {
        Some(handle) => Some(target_of(&state, handle).await?),
        None => None,
    };
    let report = state.chat.create_report(&caller, new, target).await?;
    Ok((StatusCode::CREATED, Json(report)))
}

/// The user a report names: an id or local name, or `@name@host`.
async fn target_of(state: &AppState, handle: &str) -> Result<UserId, Error> {
    if apub::lookup::parse_handle(handle).is_some() {
        return Ok(apub::lookup::resolve(&state.federation, handle).await?.id);
    }
    Ok(state.chat.resolve_user(handle).await?)
}

/// # `GET /api/v1/reports`
/// The caller's own reports, newest first, with their state.
#[utoipa::path(get, path = "/api/v1/reports", tag = "moderation", security(("bearer" = [])),
    responses((status = 200, description = "The caller's reports", body = Vec<Report>), ReadErrors))]
pub async fn mine(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> Result<Json<Vec<Report>>, Error> {
    Ok(Json(state.chat.my_reports(&caller).await?))
}

/// Which part of the queue to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// `open` (default) or `resolved`.
    state: Option<ReportState>,
}

/// # `GET /api/v1/admin/reports`
/// The moderators' queue, oldest first (moderators and admins).
#[utoipa::path(get, path = "/api/v1/admin/reports", tag = "moderation", security(("bearer" = [])),
    params(QueueQuery),
    responses((status = 200, description = "Reports in that state", body = Vec<Report>), ReadErrors))]
pub async fn queue(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<QueueQuery>,
) -> Result<Json<Vec<Report>>, Error> {
    let wanted = query.state.unwrap_or(ReportState::Open);
    Ok(Json(state.chat.list_reports(&caller, wanted).await?))
}

/// # `GET /api/v1/admin/reports/{report}`
/// One report with the reported messages' text (moderators and admins).
#[utoipa::path(get, path = "/api/v1/admin/reports/{report}", tag = "moderation", security(("bearer" = [])),
    params(("report" = String, Path, description = "Report id")),
    responses((status = 200, description = "The report", body = ReportDetail), ReadErrors))]
pub async fn get(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(report): Path<String>,
) -> Result<Json<ReportDetail>, Error> {
    let id = report_id(&report)?;
    Ok(Json(state.chat.report_detail(&caller, id).await?))
}

/// # `POST /api/v1/admin/reports/{report}/resolve`
/// Acts on a report (`none`, `delete_message`, `block_instance`,
/// `suspend_user`) and closes it; the reporter gets `report.resolved`. 409
/// if it was already resolved (moderators and admins).
#[utoipa::path(post, path = "/api/v1/admin/reports/{report}/resolve", tag = "moderation", security(("bearer" = [])),
    params(("report" = String, Path, description = "Report id")),
    request_body(content = Resolve, content_type = "application/json"),
    responses((status = 200, description = "The resolved report", body = ReportDetail), WriteErrors))]
pub async fn resolve(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(report): Path<String>,
    ApiJson(resolve): ApiJson<Resolve>,
) -> Result<Json<ReportDetail>, Error> {
    let id = report_id(&report)?;
    Ok(Json(state.chat.resolve_report(&caller, id, resolve).await?))
}

fn report_id(text: &str) -> Result<ReportId, Error> {
    let id = uuid::Uuid::parse_str(text).map_err(|_| ChatError::NotFound("report"))?;
    Ok(ReportId(id))
}
