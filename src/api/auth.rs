//! Sign-up and login with Confab's own credentials.

use super::extract::ApiJson;
use super::WriteErrors;
use crate::chat::users::{Credentials, Registration, User};
use crate::chat::ChatError;
use crate::error::Error;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// An access token and the account it belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

fn session(state: &AppState, user: User) -> Result<Session, Error> {
    let issued = state.tokens.issue(user.id)?;
    Ok(Session {
        access_token: issued.token,
        token_type: "Bearer",
        expires_at: issued.expires_at,
        user,
    })
}

/// # `POST /api/v1/auth/register`
/// Creates an account with a password and logs it in. The first account on
/// a server becomes its admin.
#[utoipa::path(
    post,
    path = "/api/v1/auth/register",
    tag = "auth",
    request_body(content = Registration, content_type = "application/json"),
    responses(
        (status = 201, description = "Account created", body = Session),
        WriteErrors
    )
)]
pub async fn register(
    State(state): State<AppState>,
    ApiJson(reg): ApiJson<Registration>,
) -> Result<(StatusCode, Json<Session>), Error> {
    let user = state.chat.register(reg).await?;
    Ok((StatusCode::CREATED, Json(session(&state, user)?)))
}

/// # `POST /api/v1/auth/login`
/// Exchanges a name and password for an access token.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body(content = Credentials, content_type = "application/json"),
    responses(
        (status = 200, description = "Logged in", body = Session),
        WriteErrors
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<Json<Session>, Error> {
    let user = state.chat.login(creds).await.inspect_err(|e| {
        if matches!(e, ChatError::Unauthenticated(_)) {
            metrics::counter!("confab_login_failures_total").increment(1);
        }
    })?;
    Ok(Json(session(&state, user)?))
}
