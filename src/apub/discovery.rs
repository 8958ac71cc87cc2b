//! `/.well-known/webfinger`, `/.well-known/host-meta`, NodeInfo 2.1.

use super::{actor_url, ACTIVITY_JSON};
use crate::chat::ChatError;
use crate::error::Error;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
pub struct WebfingerQuery {
    resource: Option<String>,
}

/// # `GET /.well-known/webfinger?resource=acct:name@domain`
/// Resolves a local account to its actor id (Mastodon requires the
/// round trip `acct:` → actor → `preferredUsername@host`).
pub async fn webfinger(
    State(state): State<AppState>,
    query: Result<axum::extract::Query<WebfingerQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Error> {
    let resource = query
        .map_err(Error::from)?
        .0
        .resource
        .ok_or_else(|| Error::InvalidQuery("resource is required".into()))?;
    let account = resource.strip_prefix("acct:").unwrap_or(&resource);
    let (name, domain) = account
        .rsplit_once('@')
        .ok_or_else(|| Error::InvalidQuery("resource must be acct:name@domain".into()))?;
    if !domain.eq_ignore_ascii_case(&state.config.domain) {
        return Err(ChatError::NotFound("account").into());
    }
    let user = state.chat.public_user(name).await?;
    let id = actor_url(&state, &user.name);
    let body = json!({
        "subject": format!("acct:{}@{}", user.name, state.config.domain),
        "aliases": [id],
        "links": [
            {"rel": "self", "type": ACTIVITY_JSON, "href": id},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": id},
        ],
    });
    Ok(([(CONTENT_TYPE, "application/jrd+json")], body.to_string()).into_response())
}

/// # `GET /.well-known/host-meta`
/// The WebFinger template, for servers that look it up first.
pub async fn host_meta(State(state): State<AppState>) -> Response {
    let base = state.config.public_base();
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  \
         <Link rel=\"lrdd\" template=\"{base}/.well-known/webfinger?resource={{uri}}\"/>\n\
         </XRD>\n"
    );
    ([(CONTENT_TYPE, "application/xrd+xml; charset=utf-8")], xml).into_response()
}

/// # `GET /.well-known/nodeinfo`
pub async fn nodeinfo_links(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({"links": [{
        "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
        "href": format!("{}/nodeinfo/2.1", state.config.public_base()),
    }]}))
}

/// # `GET /nodeinfo/2.1`
pub async fn nodeinfo(State(state): State<AppState>) -> Result<Response, Error> {
    let users = state.chat.user_count().await?;
    let body = json!({
        "version": "2.1",
        "software": {"name": "confab", "version": env!("CARGO_PKG_VERSION")},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": state.config.registration_open,
        "usage": {"users": {"total": users}},
        "metadata": {},
    });
    let profile = "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.1#\"";
    Ok(([(CONTENT_TYPE, profile)], body.to_string()).into_response())
}
