//! ActivityPub: discovery (WebFinger, NodeInfo, host-meta) and actors.
//! Inboxes, outboxes, delivery and groups come with the rest of issue 4
//! (see `docs/federation.md`).
//!
//! May import `chat` and `db`; must not import `api` or `ws`.

mod actors;
mod discovery;

use crate::state::AppState;
use axum::routing::get;
use axum::Router;

/// The media type of ActivityPub documents.
pub const ACTIVITY_JSON: &str = "application/activity+json";

/// The federation routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/webfinger", get(discovery::webfinger))
        .route("/.well-known/host-meta", get(discovery::host_meta))
        .route("/.well-known/nodeinfo", get(discovery::nodeinfo_links))
        .route("/nodeinfo/2.1", get(discovery::nodeinfo))
        .route("/users/{name}", get(actors::actor))
}

/// The ActivityPub id (and profile URL) of the local user `name`.
pub fn actor_url(state: &AppState, name: &str) -> String {
    format!("{}/users/{name}", state.config.public_base())
}
