//! The caller's own account security (password change, ending other
//! sessions) and settings (presence sharing), and what admins and
//! moderators do to accounts (password resets, suspensions).

use super::auth::{session, Session};
use super::extract::{ApiJson, Auth, ClientIp};
use super::{ReadErrors, TooManyRequests, WriteErrors};
use crate::chat::accounts::{Denial, PasswordChange, PasswordReset};
use crate::chat::presence::{AccountSettings, AccountSettingsChange};
use crate::chat::principal::Principal;
use crate::chat::users::User;
use crate::chat::ChatError;
use crate::error::Error;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;

/// # `POST /api/v1/account/password`
/// Changes the caller's password, given the current one. Every other token
/// of theirs stops working and their open sessions close
/// (`password_changed`); the answer carries a fresh token. A wrong current
/// password is 403 `wrong_password` and counts as a failed login (the same
/// limits, 429 beyond them); an account of the external auth service is 403
/// `external_account`.
#[utoipa::path(
    post,
    path = "/api/v1/account/password",
    tag = "auth",
    request_body(content = PasswordChange, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Password changed; a fresh token", body = Session),
        WriteErrors,
        TooManyRequests
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ClientIp(ip): ClientIp,
    ApiJson(change): ApiJson<PasswordChange>,
) -> Result<Json<Session>, Error> {
    // A service has no account: only its address is counted.
    let name = match &caller {
        Principal::User(user) => user.name.as_str(),
        Principal::Service { .. } => "",
    };
    let attempt = state.auth_limits.begin_login(ip, name)?;
    let result = state.chat.change_password(&caller, change).await;
    let failed = matches!(result, Err(ChatError::Denied(Denial::WrongPassword)));
    if failed {
        metrics::counter!("confab_login_failures_total").increment(1);
    }
    state.auth_limits.login_done(attempt, failed);
    Ok(Json(session(&state, result?)?))
}

/// # `POST /api/v1/account/sessions/revoke`
/// Logs out every other session: all the caller's tokens stop working and
/// their open sessions close (`sessions_revoked`); the answer carries a
/// fresh token for the caller.
#[utoipa::path(
    post,
    path = "/api/v1/account/sessions/revoke",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Other sessions ended; a fresh token", body = Session),
        WriteErrors
    )
)]
pub async fn revoke_sessions(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> Result<Json<Session>, Error> {
    let user = state.chat.revoke_sessions(&caller).await?;
    Ok(Json(session(&state, user)?))
}

fn own_account(caller: &Principal) -> Result<crate::db::ids::UserId, Error> {
    caller.user_id().ok_or_else(|| {
        ChatError::Forbidden("service tokens have no account settings".into()).into()
    })
}

/// # `GET /api/v1/account/settings`
/// The caller's settings: whether contacts on other servers see their
/// presence (`share_presence_remote`) and whether other members see how
/// far they have read (`share_read_receipts`); both on by default.
#[utoipa::path(
    get,
    path = "/api/v1/account/settings",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's settings", body = AccountSettings),
        ReadErrors
    )
)]
pub async fn settings(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> Result<Json<AccountSettings>, Error> {
    Ok(Json(
        state.chat.account_settings(own_account(&caller)?).await?,
    ))
}

/// # `PATCH /api/v1/account/settings`
/// Changes the caller's settings; absent fields stay. Turning
/// `share_presence_remote` off tells the servers of the caller's remote
/// contacts `offline` at once and sends them nothing more; turning it on
/// tells them the caller's current status. Turning `share_read_receipts`
/// off hides the caller's read markers from other members, and theirs
/// from the caller.
#[utoipa::path(
    patch,
    path = "/api/v1/account/settings",
    tag = "auth",
    request_body(content = AccountSettingsChange, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's settings, changed", body = AccountSettings),
        WriteErrors
    )
)]
pub async fn change_settings(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiJson(change): ApiJson<AccountSettingsChange>,
) -> Result<Json<AccountSettings>, Error> {
    let user = own_account(&caller)?;
    Ok(Json(
        state.chat.change_account_settings(user, change).await?,
    ))
}

/// # `PUT /api/v1/admin/users/{user}/password`
/// Sets a local account's password (admins only). The account's tokens
/// stop working and its open sessions close (`password_changed`).
#[utoipa::path(
    put,
    path = "/api/v1/admin/users/{user}/password",
    tag = "users",
    params(("user" = String, Path, description = "User id or name")),
    request_body(content = PasswordReset, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Password set", body = User),
        WriteErrors,
        TooManyRequests
    )
)]
pub async fn reset_password(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(user): Path<String>,
    ApiJson(reset): ApiJson<PasswordReset>,
) -> Result<Json<User>, Error> {
    Ok(Json(
        state.chat.reset_password(&caller, &user, reset).await?,
    ))
}

/// # `POST /api/v1/admin/users/{user}/suspension`
/// Suspends a local account (moderators and admins; an admin account only
/// by an admin; not your own). It can no longer log in (403
/// `account_suspended`), its tokens are refused with that code, and its
/// open sessions close (`account_suspended`).
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{user}/suspension",
    tag = "users",
    params(("user" = String, Path, description = "User id or name")),
    security(("bearer" = [])),
    responses((status = 200, description = "Suspended", body = User), WriteErrors)
)]
pub async fn suspend(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(user): Path<String>,
) -> Result<Json<User>, Error> {
    Ok(Json(state.chat.suspend_user(&caller, &user, true).await?))
}

/// # `DELETE /api/v1/admin/users/{user}/suspension`
/// Lifts a suspension (the same rights as suspending); tokens that have not
/// expired work again.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/users/{user}/suspension",
    tag = "users",
    params(("user" = String, Path, description = "User id or name")),
    security(("bearer" = [])),
    responses((status = 200, description = "Reinstated", body = User), WriteErrors)
)]
pub async fn unsuspend(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(user): Path<String>,
) -> Result<Json<User>, Error> {
    Ok(Json(state.chat.suspend_user(&caller, &user, false).await?))
}
