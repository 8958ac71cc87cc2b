//! REST API v1: handlers that extract, authorise through `chat`, and answer
//! JSON. The OpenAPI document is generated from the handlers' annotations and
//! served at `/api/v1/openapi.json`.
//!
//! Reaches the database only through `chat`; must not import `ws`, and of
//! `apub` only `apub::lookup` (finding remote users by handle).

mod account;
mod auth;
pub use auth::AuthLimits;
mod conversations;
pub mod extract;
mod federation;
mod health;
mod invitations;
mod ip_rules;
mod media;
mod reports;
mod search;
mod stickers;
mod users;

use crate::error::ErrorBody;
use crate::state::AppState;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Confab REST API",
        description = "Accounts, users, conversations, history and contacts of a Confab \
                       server (chat writes go through the WebSocket, see docs/protocol.md). Errors are always `{\"error\": {\"code\", \"message\"}}`.",
        license(name = "AGPL-3.0-or-later")
    ),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody)),
    tags(
        (name = "auth", description = "Sign-up, login and invitation codes"),
        (name = "users", description = "Accounts and profiles"),
        (name = "chat", description = "Conversations, history, contacts and blocks (reads; writes go through the WebSocket)"),
        (name = "federation", description = "Delivery state, instance blocks and remote hosts"),
        (name = "moderation", description = "Reports and the moderators' queue"),
        (name = "operations", description = "Health, IP rules and the API description")
    )
)]
struct ApiDoc;

/// Declares the `bearer` security scheme the handlers refer to.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The error answers of an endpoint that needs a token and reads.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub(crate) enum ReadErrors {
    /// A query parameter is malformed.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// Missing, invalid, expired or revoked (`token_revoked`) token.
    #[response(status = 401)]
    Unauthenticated(ErrorBody),
    /// The caller may not read this (a service token has no conversations),
    /// or their account is suspended (`account_suspended`).
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such resource.
    #[response(status = 404)]
    NotFound(ErrorBody),
}

/// The error answers of an endpoint that takes a JSON body.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub(crate) enum WriteErrors {
    /// The body is not valid JSON.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// Missing, invalid, expired or revoked (`token_revoked`) token, or
    /// wrong credentials.
    #[response(status = 401)]
    Unauthenticated(ErrorBody),
    /// The caller may not do this (`forbidden`), their account is suspended
    /// (`account_suspended`), or a current password is wrong
    /// (`wrong_password`).
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such resource.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// A unique value (the user name) is taken.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// The body is larger than the server accepts.
    #[response(status = 413)]
    PayloadTooLarge(ErrorBody),
    /// The body is not `application/json`.
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
    /// The JSON has the wrong shape or a value breaks a rule.
    #[response(status = 422)]
    Invalid(ErrorBody),
}

/// The answer of an endpoint with a rate limit.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub(crate) enum TooManyRequests {
    /// Too many attempts from this client or for this account, or the
    /// server is busy checking passwords (`rate_limited`); the
    /// `Retry-After` header gives the seconds to wait.
    #[response(
        status = 429,
        headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))
    )]
    TooManyRequests(ErrorBody),
}

/// The API routes plus the generated OpenAPI document.
pub fn router() -> Router<AppState> {
    let (router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(account::change_password))
        .routes(routes!(account::revoke_sessions))
        .routes(routes!(account::settings, account::change_settings))
        .routes(routes!(account::reset_password))
        .routes(routes!(account::suspend, account::unsuspend))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(
            users::get_user,
            users::replace_user,
            users::patch_user,
            users::delete_user
        ))
        .routes(routes!(conversations::list))
        .routes(routes!(conversations::get))
        .routes(routes!(conversations::members))
        .routes(routes!(conversations::join_requests))
        .routes(routes!(conversations::sent_join_requests))
        .routes(routes!(conversations::history))
        .routes(routes!(conversations::pins))
        .routes(routes!(conversations::read_by))
        .routes(routes!(conversations::contacts))
        .routes(routes!(conversations::blocks))
        .routes(routes!(search::search))
        .routes(routes!(media::upload))
        .routes(routes!(stickers::list))
        .routes(routes!(stickers::create))
        .routes(routes!(stickers::update, stickers::delete))
        .routes(routes!(stickers::add))
        .routes(routes!(stickers::remove))
        .routes(routes!(federation::deliveries))
        .routes(routes!(
            federation::list_instance_blocks,
            federation::block_instance
        ))
        .routes(routes!(federation::unblock_instance))
        .routes(routes!(federation::hosts))
        .routes(routes!(invitations::list, invitations::create))
        .routes(routes!(invitations::delete))
        .routes(routes!(ip_rules::list, ip_rules::create))
        .routes(routes!(ip_rules::delete))
        .routes(routes!(reports::mine, reports::create))
        .routes(routes!(reports::queue))
        .routes(routes!(reports::get))
        .routes(routes!(reports::resolve))
        .routes(routes!(health::healthz))
        .split_for_parts();
    router
        .route("/media/{id}", get(media::original))
        .route("/media/{id}/thumbnail", get(media::thumbnail))
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = openapi.clone();
                async move { Json(doc) }
            }),
        )
}
