//! The web client: the files of `web/`, embedded in the binary at build
//! time, served at `/` (the page) and `/assets/<version>/...` (its scripts,
//! styles and icons).
//!
//! `<version>` is a hash of every embedded file, computed once when the
//! router is built, so a new build changes every asset URL: assets are
//! cached for a year as `immutable`, the page itself is `no-cache`. The page
//! carries a strict Content-Security-Policy (no inline script or style).
//!
//! Must not import `chat`, `db`, `api`, `ws` or `apub`: the client talks to
//! the server only through the public REST API and WebSocket protocol.

use crate::error::Error;
use axum::extract::Path;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rust_embed::RustEmbed;
use std::hash::{DefaultHasher, Hasher};
use std::sync::Arc;

/// Every file under `web/`, in the binary (also in debug builds, so tests
/// exercise what ships).
#[derive(RustEmbed)]
#[folder = "web/"]
struct Files;

/// The page's Content-Security-Policy: scripts, styles and connections only
/// from this origin (WebSockets included), images also from any `https:`
/// address (avatars are URLs) and `data:`; no plugins, no `<base>`, no
/// framing by other sites.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' https: data:; connect-src 'self' ws: wss:; font-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'";

/// Where `index.html` names the asset folder; replaced by
/// `/assets/<version>` when the router is built.
const ASSETS_PLACEHOLDER: &str = "/assets/VERSION";

/// The page, ready to serve, and the version its asset URLs carry.
struct Site {
    /// `index.html` with the asset placeholder replaced.
    index: String,
    /// Hex hash of every embedded file's name and content.
    version: String,
}

impl Site {
    fn build() -> Self {
        let mut names: Vec<_> = Files::iter().collect();
        names.sort();
        let mut hasher = DefaultHasher::new();
        for name in &names {
            hasher.write(name.as_bytes());
            if let Some(file) = Files::get(name) {
                hasher.write(&file.metadata.sha256_hash());
            }
        }
        let version = format!("{:016x}", hasher.finish());
        let index = Files::get("index.html")
            .map(|f| String::from_utf8_lossy(&f.data).into_owned())
            .unwrap_or_default()
            .replace(ASSETS_PLACEHOLDER, &format!("/assets/{version}"));
        Site { index, version }
    }
}

/// `GET /` and `GET /assets/{version}/{*path}`.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let site = Arc::new(Site::build());
    let page = site.clone();
    Router::new()
        .route("/", get(move || async move { index(&page) }))
        .route(
            "/assets/{version}/{*path}",
            get(
                move |Path((version, path)): Path<(String, String)>| async move {
                    asset(&site, &version, &path)
                },
            ),
        )
}

/// # `GET /`
fn index(site: &Site) -> Response {
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN")),
            (REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        ],
        site.index.clone(),
    )
        .into_response()
}

/// # `GET /assets/{version}/{*path}`
///
/// Only the current version exists: an old page asking for assets of an
/// earlier build gets 404 and is reloaded by the user.
fn asset(site: &Site, version: &str, path: &str) -> Response {
    if version != site.version || path == "index.html" {
        return Error::NoRoute.into_response();
    }
    let Some(file) = Files::get(path) else {
        return Error::NoRoute.into_response();
    };
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type(path))),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        file.data.into_owned(),
    )
        .into_response()
}

/// The media type of a client file, by its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_names_the_current_asset_version() {
        let site = Site::build();
        assert!(site
            .index
            .contains(&format!("/assets/{}/main.js", site.version)));
        assert!(!site.index.contains(ASSETS_PLACEHOLDER));
        assert!(!site.index.contains("<script>"));
        assert!(!site.index.contains("style="));
    }

    #[test]
    fn media_types_follow_extensions() {
        assert_eq!(content_type("main.js"), "text/javascript; charset=utf-8");
        assert_eq!(
            content_type("views/chat.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("app.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("icon.svg"), "image/svg+xml");
        assert_eq!(content_type("README"), "application/octet-stream");
    }
}
