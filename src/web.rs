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
//! Text assets are also embedded gzipped and brotli-compressed, made by
//! `build.rs`; each request gets the smallest encoding its
//! `Accept-Encoding` allows (`Vary: Accept-Encoding` on every asset). The
//! page itself (under 1 KB, and filled in at start) goes out as it is.
//!
//! Must not import `chat`, `db`, `api`, `ws` or `apub`: the client talks to
//! the server only through the public REST API and WebSocket protocol.

use crate::error::Error;
use axum::body::Body;
use axum::extract::Path;
use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
    REFERRER_POLICY, VARY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rust_embed::RustEmbed;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hasher};
use std::sync::Arc;

mod compressed {
    //! The table `build.rs` writes: compressed copies of the client's text files.
    include!(concat!(env!("OUT_DIR"), "/web_compressed.rs"));
}

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

/// The `<meta>` of `index.html` that tells the client the longest message
/// the server takes (`max_message_chars`), for the composer's counter;
/// filled when the router is built.
const LIMIT_META: &str = r#"<meta name="confab-max-message-chars" content="4000">"#;

/// The page, ready to serve, and the version its asset URLs carry.
struct Site {
    /// `index.html` with the placeholders filled.
    index: String,
    /// The page's Content-Security-Policy header.
    csp: HeaderValue,
    /// Hex hash of every embedded file's name and content.
    version: String,
    /// Compressed copies of the text assets, by path.
    compressed: HashMap<&'static str, Compressed>,
}

/// The precompressed forms of one asset.
struct Compressed {
    gzip: &'static [u8],
    brotli: &'static [u8],
}

/// A content coding the server has an asset in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Brotli,
    Gzip,
    Identity,
}

impl Site {
    /// `embed_origins` are validated origins (`Config::validate`): they hold
    /// no spaces, quotes or semicolons.
    fn build(embed_origins: &[String], max_message_chars: usize) -> Self {
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
            )
            .replace(
                LIMIT_META,
                &format!(r#"<meta name="confab-max-message-chars" content="{max_message_chars}">"#),
            );
        let csp = format!("{CSP}; frame-ancestors 'self' {origins}");
        let csp = HeaderValue::from_str(csp.trim_end())
            .unwrap_or_else(|_| HeaderValue::from_static("frame-ancestors 'none'"));
        let compressed = compressed::COMPRESSED
            .iter()
            .map(|&(path, gzip, brotli)| (path, Compressed { gzip, brotli }))
            .collect();
        Site {
            index,
            csp,
            version,
            compressed,
        }
    }
}

/// `GET /` and `GET /assets/{version}/{*path}`; `embed_origins` may frame
/// the page and post it a token; `max_message_chars` is named in the page
/// for the composer.
pub fn router<S: Clone + Send + Sync + 'static>(
    embed_origins: &[String],
    max_message_chars: usize,
) -> Router<S> {
    let site = Arc::new(Site::build(embed_origins, max_message_chars));
    let page = site.clone();
    Router::new()
        .route("/", get(move || async move { index(&page) }))
        .route(
            "/assets/{version}/{*path}",
            get(
                move |Path((version, path)): Path<(String, String)>, headers: HeaderMap| async move {
                    asset(&site, &version, &path, &headers)
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
/// earlier build gets 404 and is reloaded by the user. Text assets come
/// brotli-compressed or gzipped when the request accepts it.
fn asset(site: &Site, version: &str, path: &str, headers: &HeaderMap) -> Response {
    if version != site.version || path == "index.html" {
        return Error::NoRoute.into_response();
    }
    let Some(file) = Files::get(path) else {
        return Error::NoRoute.into_response();
    };
    let accept = headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    let packed = site.compressed.get(path);
    let coding = if packed.is_some() {
        choose_coding(&accept)
    } else {
        Coding::Identity
    };
    let (body, encoding) = match (coding, packed) {
        (Coding::Brotli, Some(c)) => (Body::from(c.brotli), Some("br")),
        (Coding::Gzip, Some(c)) => (Body::from(c.gzip), Some("gzip")),
        _ => (Body::from(file.data), None),
    };
    let mut response = (
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type(path))),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (VARY, HeaderValue::from_static("accept-encoding")),
        ],
        body,
    )
        .into_response();
    if let Some(encoding) = encoding {
        response
            .headers_mut()
            .insert(CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    response
}

/// The best coding an `Accept-Encoding` value allows: brotli, then gzip,
/// then none. A coding is allowed when it, or `*`, is listed with a
/// non-zero quality (RFC 9110, section 12.5.3); ties go to the smaller.
fn choose_coding(accept: &str) -> Coding {
    let mut brotli = None;
    let mut gzip = None;
    let mut any = None;
    for item in accept.to_ascii_lowercase().split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match name {
            "br" => brotli = Some(quality),
            "gzip" | "x-gzip" => gzip = Some(quality),
            "*" => any = Some(quality),
            _ => {}
        }
    }
    let brotli = brotli.or(any).unwrap_or(0.0);
    let gzip = gzip.or(any).unwrap_or(0.0);
    if brotli > 0.0 && brotli >= gzip {
        Coding::Brotli
    } else if gzip > 0.0 {
        Coding::Gzip
    } else {
        Coding::Identity
    }
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
        let site = Site::build(&[], 4000);
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
        let site = Site::build(&origins, 1234);
        assert!(site.index.contains(
            r#"<meta name="confab-embed-origins" content="https://auth.example http://127.0.0.1:9">"#
        ));
        assert!(site
            .index
            .contains(r#"<meta name="confab-max-message-chars" content="1234">"#));
        assert_eq!(
            site.csp.to_str().ok().map(|csp| csp
                .ends_with("frame-ancestors 'self' https://auth.example http://127.0.0.1:9")),
            Some(true)
        );
    }

    #[test]
    fn accept_encoding_picks_the_smallest_allowed_coding() {
        assert_eq!(choose_coding("gzip, deflate, br, zstd"), Coding::Brotli);
        assert_eq!(choose_coding("gzip, deflate"), Coding::Gzip);
        assert_eq!(choose_coding("br;q=0, gzip"), Coding::Gzip);
        assert_eq!(choose_coding("gzip;q=0.5, br;q=0.2"), Coding::Gzip);
        assert_eq!(choose_coding("*"), Coding::Brotli);
        assert_eq!(choose_coding("*;q=0, identity"), Coding::Identity);
        assert_eq!(choose_coding("identity"), Coding::Identity);
        assert_eq!(choose_coding(""), Coding::Identity);
        assert_eq!(choose_coding("GZIP;Q=1"), Coding::Gzip);
    }

    #[test]
    fn text_assets_are_embedded_compressed() {
        let site = Site::build(&[], 4000);
        for name in ["main.js", "app.css", "views/chat.js", "icon.svg"] {
            let packed = site.compressed.get(name);
            let plain = Files::get(name).map(|f| f.data.len()).unwrap_or(0);
            assert!(
                packed.is_some_and(|c| c.brotli.len() < plain && c.gzip.len() < plain),
                "{name} is embedded smaller"
            );
        }
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
