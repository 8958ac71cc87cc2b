//! The federation routes: discovery, actors, inboxes and fetchable
//! objects. Their state is the federation library's configuration
//! ([`Federation`]), which any application state can hand out.

use super::context::Federation;
use super::{actors, discovery, fetch, inbox, instance};
use axum::extract::FromRef;
use axum::routing::{get, post};
use axum::Router;

/// The federation routes.
pub fn router<S>() -> Router<S>
where
    Federation: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
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
