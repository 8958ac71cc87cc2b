//! The web client: the files of `web/`, embedded in the binary at build
//! time, served at `/` (the page) and `/assets/<version>/...` (its scripts,
//! styles and icons).
//!
//! `<version>` is a hash of every embedded file, computed once when the
//! router is built, so a new build changes every asset URL: assets are
//! cached for a year as `immutable`, the page itself is `no-cache`. The page
//! carries a strict Content-Security-Policy (no inline script or style);
//! the origins of `web_embed_origins` may frame it and hand it a token (the
//! page names them in a `<meta>` the client reads).
//!
//! Must not import `chat`, `db`, `api`, `ws` or `apub`: the client talks to
//! the server only through the public REST API and WebSocket protocol.

use crate::error::Error;
use axum::extract::Path;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
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

/// The page's Content-Security-Policy, but for `frame-ancestors`: scripts,
/// styles and connections only from this origin (WebSockets included),
/// images also from any `https:` address (avatars are URLs) and `data:`;
/// no plugins, no `<base>`.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' https: data:; connect-src 'self' ws: wss:; font-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'";

/// Where `index.html` names the asset folder; replaced by
/// `/assets/<version>` when the router is built.
const ASSETS_PLACEHOLDER: &str = "/assets/VERSION";

/// The `<meta>` of `index.html` that lists the embedding origins for the
/// client; filled when the router is built.
const ORIGINS_META: &str = r#"<meta name="confab-embed-origins" content="">"#;

/// The page, ready to serve, and the version its asset URLs carry.
struct Site {
    /// `index.html` with the placeholders filled.
    index: String,
    /// The page's Content-Security-Policy header.
    csp: HeaderValue,
    /// Hex hash of every embedded file's name and content.
    version: String,
}

impl Site {
    /// `embed_origins` are validated origins (`Config::validate`): they hold
    /// no spaces, quotes or semicolons.
    fn build(embed_origins: &[String]) -> Self {
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
        let origins = embed_origins.join(" ");
        let index = Files::get("index.html")
            .map(|f| String::from_utf8_lossy(&f.data).into_owned())
            .unwrap_or_default()
            .replace(ASSETS_PLACEHOLDER, &format!("/assets/{version}"))
            .replace(
                ORIGINS_META,
                &format!(r#"<meta name="confab-embed-origins" content="{origins}">"#),
            );
        let csp = format!("{CSP}; frame-ancestors 'self' {origins}");
        let csp = HeaderValue::from_str(csp.trim_end())
            .unwrap_or_else(|_| HeaderValue::from_static("frame-ancestors 'none'"));
        Site {
            index,
            csp,
            version,
        }
    }
}

/// `GET /` and `GET /assets/{version}/{*path}`; `embed_origins` may frame
/// the page and post it a token.
pub fn router<S: Clone + Send + Sync + 'static>(embed_origins: &[String]) -> Router<S> {
    let site = Arc::new(Site::build(embed_origins));
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
            (CONTENT_SECURITY_POLICY, site.csp.clone()),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
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
        let site = Site::build(&[]);
        assert!(site
            .index
            .contains(&format!("/assets/{}/main.js", site.version)));
        assert!(!site.index.contains(ASSETS_PLACEHOLDER));
        assert!(!site.index.contains("<script>"));
        assert!(!site.index.contains("style="));
        assert_eq!(
            site.csp
                .to_str()
                .ok()
                .map(|csp| csp.ends_with("frame-ancestors 'self'")),
            Some(true)
        );
    }

    #[test]
    fn embed_origins_reach_the_page_and_its_policy() {
        let origins = [
            "https://auth.example".to_string(),
            "http://127.0.0.1:9".to_string(),
        ];
        let site = Site::build(&origins);
        assert!(site.index.contains(
            r#"<meta name="confab-embed-origins" content="https://auth.example http://127.0.0.1:9">"#
        ));
        assert_eq!(
            site.csp.to_str().ok().map(|csp| csp
                .ends_with("frame-ancestors 'self' https://auth.example http://127.0.0.1:9")),
            Some(true)
        );
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
