//! Users: listing and search, admin creation, profile reads and changes.

use super::extract::{ApiJson, ApiQuery, Auth};
use super::{ReadErrors, WriteErrors};
use crate::apub;
use crate::chat::profiles::{Profile, ProfilePatch};
use crate::chat::users::{NewUser, User, UserPage, PAGE_MAX};
use crate::chat::validate::NAME_MAX;
use crate::chat::ChatError;
use crate::error::Error;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

/// Paging and search for `GET /api/v1/users`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only names starting with this (case-insensitive).
    #[param(max_length = 32)]
    q: Option<String>,
    /// The `next` value of the previous page.
    #[param(max_length = 32)]
    after: Option<String>,
    /// Page size, 1-100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

/// # `GET /api/v1/users`
/// Lists users by name, optionally those whose name starts with `q`.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    params(ListQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "One page of users", body = UserPage), ReadErrors)
)]
pub async fn list_users(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<UserPage>, Error> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=PAGE_MAX).contains(&limit) {
        return Err(Error::InvalidQuery(format!(
            "limit must be 1 to {PAGE_MAX}"
        )));
    }
    for (param, value) in [("q", &query.q), ("after", &query.after)] {
        if value.as_ref().is_some_and(|v| v.chars().count() > NAME_MAX) {
            return Err(Error::InvalidQuery(format!(
                "{param} is at most {NAME_MAX} characters"
            )));
        }
    }
    let page = state
        .chat
        .list_users(
            caller.user_id(),
            query.q.as_deref().unwrap_or(""),
            query.after.as_deref().unwrap_or(""),
            limit,
        )
        .await?;
    Ok(Json(page))
}

/// # `POST /api/v1/users`
/// Creates an account (admins and service tokens only).
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "users",
    request_body(content = NewUser, content_type = "application/json"),
    security(("bearer" = [])),
    responses((status = 201, description = "Account created", body = User), WriteErrors)
)]
pub async fn create_user(
    State(state): State<AppState>,
    Auth(caller): Auth,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<User>), Error> {
    let user = state.chat.create_user(&caller, new).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// # `GET /api/v1/users/{user}`
/// One user, by id, name (case-insensitive), `me`, or a handle
/// `@name@host` (a remote user is looked up on their server and stored).
#[utoipa::path(
    get,
    path = "/api/v1/users/{user}",
    tag = "users",
    params(("user" = String, Path, description = "User id, name, `me`, or `@name@host`")),
    security(("bearer" = [])),
    responses((status = 200, description = "The user", body = User), ReadErrors)
)]
pub async fn get_user(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(user): Path<String>,
) -> Result<Json<User>, Error> {
    if apub::lookup::parse_handle(&user).is_some() {
        caller
            .user_id()
            .ok_or(Error::Chat(ChatError::NotFound("user")))?;
        return Ok(Json(apub::lookup::resolve(&state.federation, &user).await?));
    }
    Ok(Json(state.chat.find_user(&caller, &user).await?))
}

/// # `PUT /api/v1/users/{user}`
/// Replaces the whole profile (the user themself or an admin).
#[utoipa::path(
    put,
    path = "/api/v1/users/{user}",
    tag = "users",
    params(("user" = String, Path, description = "User id, name, or `me`")),
    request_body(content = Profile, content_type = "application/json"),
    security(("bearer" = [])),
    responses((status = 200, description = "The updated user", body = User), WriteErrors)
)]
pub async fn replace_user(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(user): Path<String>,
    ApiJson(profile): ApiJson<Profile>,
) -> Result<Json<User>, Error> {
    Ok(Json(
        state.chat.replace_profile(&caller, &user, profile).await?,
    ))
}

/// # `PATCH /api/v1/users/{user}`
/// Changes the fields given (the user themself or an admin; `role` needs an
/// admin).
#[utoipa::path(
    patch,
    path = "/api/v1/users/{user}",
    tag = "users",
    params(("user" = String, Path, description = "User id, name, or `me`")),
    request_body(content = ProfilePatch, content_type = "application/json"),
    security(("bearer" = [])),
    responses((status = 200, description = "The updated user", body = User), WriteErrors)
)]
pub async fn patch_user(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(user): Path<String>,
    ApiJson(patch): ApiJson<ProfilePatch>,
) -> Result<Json<User>, Error> {
    Ok(Json(state.chat.patch_profile(&caller, &user, patch).await?))
}

/// # `DELETE /api/v1/users/{user}`
/// Deletes the account (the user themself or an admin).
#[utoipa::path(
    delete,
    path = "/api/v1/users/{user}",
    tag = "users",
    params(("user" = String, Path, description = "User id, name, or `me`")),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted"), WriteErrors)
)]
pub async fn delete_user(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(user): Path<String>,
) -> Result<StatusCode, Error> {
    state.chat.delete_user(&caller, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}
