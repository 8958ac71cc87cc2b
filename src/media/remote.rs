//! Files other servers hold (the attachments of their messages), fetched
//! through the guarded client of [`crate::outgoing`]: never from a private
//! address (unless a test rig allows it), at most `max_upload_bytes`,
//! within the client's deadline, and at most [`CONCURRENT_FETCHES`] at a
//! time. Whether a fetched file is kept (`remote_media = cache`) or only
//! streamed through (`proxy`) is `chat::media`'s choice.

use super::MediaError;
use crate::outgoing::{Failure, Outgoing, REQUEST_TIMEOUT};
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

/// Remote files fetched at once, on this node.
pub const CONCURRENT_FETCHES: usize = 8;
/// Redirects followed (each target is checked by the guard again).
const REDIRECTS_MAX: usize = 3;

/// A remote file's body, as it arrives: chunks, or an error once (the
/// connection broke, the deadline passed, or it grew past the limit).
pub type RemoteBody = BoxStream<'static, Result<Bytes, std::io::Error>>;

/// Fetches remote files under the limits. Cheap to clone.
#[derive(Clone)]
pub struct RemoteFetcher {
    outgoing: Outgoing,
    permits: Arc<Semaphore>,
    limit_bytes: u64,
}

impl RemoteFetcher {
    /// A fetcher through `outgoing` refusing files past `limit_bytes`.
    pub fn new(outgoing: Outgoing, limit_bytes: u64) -> Self {
        Self {
            outgoing,
            permits: Arc::new(Semaphore::new(CONCURRENT_FETCHES)),
            limit_bytes,
        }
    }

    /// The largest file fetched, in bytes.
    pub fn limit_bytes(&self) -> u64 {
        self.limit_bytes
    }

    /// Starts fetching `url`: refused when the address is not allowed, the
    /// server does not answer 2xx, or it declares more than the limit; the
    /// body stops with an error past the limit. A fetch slot is held until
    /// the body is dropped.
    pub async fn open(&self, url: &str) -> Result<RemoteBody, MediaError> {
        let mut url = Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| MediaError::Remote("the remote URL is not http(s)".into()))?;
        let permit = tokio::time::timeout(REQUEST_TIMEOUT, self.permits.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or_else(|| MediaError::Remote("too many remote files are being fetched".into()))?;
        let mut redirects = 0;
        let response = loop {
            let request = self.outgoing.request(reqwest::Method::GET, url.clone());
            let response = self
                .outgoing
                .send(request)
                .await
                .map_err(|e| MediaError::Remote(Failure::of(&e).to_string()))?;
            let status = response.status();
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| url.join(v).ok());
            match location {
                Some(next) if status.is_redirection() && redirects < REDIRECTS_MAX => {
                    redirects += 1;
                    url = next;
                }
                _ if status.is_success() => break response,
                _ => return Err(MediaError::Remote(Failure::status(status).to_string())),
            }
        };
        if response
            .content_length()
            .is_some_and(|n| n > self.limit_bytes)
        {
            return Err(MediaError::Remote(too_large(self.limit_bytes)));
        }
        Ok(limited(response, permit, self.limit_bytes))
    }
}

fn too_large(limit: u64) -> String {
    format!("the remote file is larger than {limit} bytes")
}

/// The chunks of `response`, ending with an error past `limit` bytes;
/// `permit` is released when the stream is dropped.
fn limited(response: reqwest::Response, permit: OwnedSemaphorePermit, limit: u64) -> RemoteBody {
    struct State {
        response: reqwest::Response,
        _permit: OwnedSemaphorePermit,
        seen: u64,
        done: bool,
    }
    let state = State {
        response,
        _permit: permit,
        seen: 0,
        done: false,
    };
    futures_util::stream::unfold(state, move |mut state| async move {
        if state.done {
            return None;
        }
        let item = match state.response.chunk().await {
            Ok(None) => return None,
            Ok(Some(chunk)) => {
                state.seen += chunk.len() as u64;
                if state.seen > limit {
                    Err(std::io::Error::other(too_large(limit)))
                } else {
                    Ok(chunk)
                }
            }
            Err(e) => {
                let failure = if e.is_timeout() {
                    "timed out"
                } else {
                    "the connection broke"
                };
                Err(std::io::Error::other(format!(
                    "the remote file did not arrive: {failure}"
                )))
            }
        };
        state.done = item.is_err();
        Some((item, state))
    })
    // Readers may poll again after the end.
    .fuse()
    .boxed()
}
