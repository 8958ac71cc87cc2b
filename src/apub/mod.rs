//! ActivityPub: discovery (WebFinger, NodeInfo, host-meta), users as
//! actors, signed inboxes, outgoing activities in a persistent queue and
//! the worker that delivers them. See `docs/federation.md`.
//!
//! May import `chat` and `db`; must not import `api` or `ws`.

pub mod activities;
pub mod actor_cache;
mod actors;
pub mod context;
pub mod delivery;
mod discovery;
mod fetch;
mod games;
pub mod group_admin;
pub mod html;
pub mod inbox;
pub mod instance;
pub mod joins;
pub mod keys;
pub mod lookup;
pub mod objects;
pub mod outbox;
pub mod replays;
pub mod rfc9421;
pub mod schemes;
pub mod signing;
pub mod urls;
pub mod wire;

use crate::state::AppState;
use axum::routing::{get, post};
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
        .route("/users/{name}/inbox", post(inbox::inbox))
        .route(
            "/users/{name}/{collection}",
            get(instance::empty_collection),
        )
        .route("/actor", get(instance::document))
        .route("/messages/{id}", get(fetch::message))
        .route("/groups/{id}", get(actors::group))
        .route("/groups/{id}/inbox", post(inbox::inbox))
        .route("/inbox", post(inbox::inbox))
}

/// The ActivityPub id (and profile URL) of the local user `name`.
pub fn actor_url(state: &AppState, name: &str) -> String {
    urls::LocalUrls::new(state.config.public_base()).user(name)
}

/// A new RSA-2048 keypair `(public PEM, private PEM)`.
pub fn generate_keypair() -> Result<(String, String), String> {
    activitypub_federation::http_signatures::generate_actor_keypair()
        .map(|k| (k.public_key, k.private_key))
        .map_err(|e| e.to_string())
}
