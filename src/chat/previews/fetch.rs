//! Fetching a linked page or its image for a preview: always through the
//! guarded client of `crate::outgoing` (which refuses private and loopback
//! addresses), within a time limit for the whole exchange, a few
//! redirects (each target checked again), only the expected content type,
//! and a cap on the body that stops reading as soon as it is passed.

use crate::outgoing::{Failure, Outgoing};
use bytes::{Bytes, BytesMut};
use reqwest::header::{CONTENT_TYPE, LOCATION};
use std::time::Duration;
use url::Url;

/// Redirects followed, at most.
const MAX_REDIRECTS: usize = 3;

/// How much a preview may cost.
#[derive(Debug, Clone, Copy)]
pub struct FetchLimits {
    /// For the whole exchange (redirects and body included).
    pub timeout: Duration,
    /// Most bytes of a page that are read.
    pub page_bytes: usize,
    /// Most bytes of an image that are read.
    pub image_bytes: usize,
}

/// Why a page or image gives no preview.
#[derive(Debug, thiserror::Error)]
pub enum Skip {
    #[error(transparent)]
    Failed(#[from] Failure),
    #[error("not the expected type: {0}")]
    WrongType(String),
    #[error("larger than {0} bytes")]
    TooLarge(usize),
    #[error("too many redirects")]
    Redirects,
}

/// What was fetched.
#[derive(Debug)]
pub struct Fetched {
    /// Where it was found (after redirects).
    pub url: Url,
    pub body: Bytes,
}

/// Fetches `url`, which must answer 200 with a `Content-Type` that
/// `wanted` accepts and at most `max_bytes` of body.
pub async fn get(
    outgoing: &Outgoing,
    url: Url,
    accept: &str,
    wanted: fn(&str) -> bool,
    max_bytes: usize,
    timeout: Duration,
) -> Result<Fetched, Skip> {
    tokio::time::timeout(timeout, follow(outgoing, url, accept, wanted, max_bytes))
        .await
        .map_err(|_| Skip::Failed(Failure::Timeout))?
}

async fn follow(
    outgoing: &Outgoing,
    mut url: Url,
    accept: &str,
    wanted: fn(&str) -> bool,
    max_bytes: usize,
) -> Result<Fetched, Skip> {
    for _ in 0..=MAX_REDIRECTS {
        let request = outgoing
            .request(reqwest::Method::GET, url.clone())
            .header(reqwest::header::ACCEPT, accept);
        let mut response = outgoing.send(request).await.map_err(|e| Failure::of(&e))?;
        let status = response.status();
        if status.is_redirection() {
            url = response
                .headers()
                .get(LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| url.join(l).ok())
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or(Skip::Failed(Failure::status(status)))?;
            continue;
        }
        if status != reqwest::StatusCode::OK {
            return Err(Failure::status(status).into());
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|t| t.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !wanted(content_type.split(';').next().unwrap_or_default().trim()) {
            return Err(Skip::WrongType(content_type));
        }
        if response
            .content_length()
            .is_some_and(|n| n > max_bytes as u64)
        {
            return Err(Skip::TooLarge(max_bytes));
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| Failure::of(&e.into()))? {
            if body.len() + chunk.len() > max_bytes {
                return Err(Skip::TooLarge(max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        return Ok(Fetched {
            url,
            body: body.freeze(),
        });
    }
    Err(Skip::Redirects)
}

/// HTML pages.
pub fn is_html(content_type: &str) -> bool {
    matches!(content_type, "text/html" | "application/xhtml+xml")
}

/// Anything that says it is an image (what it is, is sniffed from its
/// bytes before it is kept).
pub fn is_image(content_type: &str) -> bool {
    content_type.starts_with("image/")
}
