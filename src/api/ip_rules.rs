//! IP rules: allow and deny lists of address ranges per scope, managed by
//! admins. Changes apply at once; the check itself is a layer in
//! `server::ip_gate`.

use super::extract::{ApiJson, Auth, ClientIp};
use super::{ReadErrors, WriteErrors};
use crate::chat::ip_rules::{IpRule, NewIpRule};
use crate::chat::ChatError;
use crate::error::Error;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

/// # `GET /api/v1/admin/ip-rules`
/// Every IP rule, oldest first (admins only).
#[utoipa::path(get, path = "/api/v1/admin/ip-rules", tag = "operations", security(("bearer" = [])),
    responses((status = 200, description = "IP rules", body = Vec<IpRule>), ReadErrors))]
pub async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> Result<Json<Vec<IpRule>>, Error> {
    Ok(Json(state.chat.ip_rules(&caller).await?))
}

/// # `POST /api/v1/admin/ip-rules`
/// Adds an allow or deny rule (admins only), in force at once. A rule that
/// would make the API refuse the caller's own address is refused (422).
#[utoipa::path(post, path = "/api/v1/admin/ip-rules", tag = "operations", security(("bearer" = [])),
    request_body(content = NewIpRule, content_type = "application/json"),
    responses((status = 201, description = "Added", body = IpRule), WriteErrors))]
pub async fn create(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ClientIp(ip): ClientIp,
    ApiJson(new): ApiJson<NewIpRule>,
) -> Result<(StatusCode, Json<IpRule>), Error> {
    let rule = state.chat.add_ip_rule(&caller, new, Some(ip)).await?;
    Ok((StatusCode::CREATED, Json(rule)))
}

/// # `DELETE /api/v1/admin/ip-rules/{id}`
/// Removes a rule (admins only), at once. Removing the allow rule that
/// admits the caller's own address to the API is refused (422).
#[utoipa::path(delete, path = "/api/v1/admin/ip-rules/{id}", tag = "operations", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The rule's id")),
    responses((status = 204, description = "Removed"), WriteErrors))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    let id = id
        .parse::<i64>()
        .map_err(|_| ChatError::NotFound("IP rule"))?;
    state.chat.remove_ip_rule(&caller, id, Some(ip)).await?;
    Ok(StatusCode::NO_CONTENT)
}
