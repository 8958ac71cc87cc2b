//! Media over HTTP: the upload (`POST /api/v1/media`, streamed) and the
//! downloads (`GET /media/{id}` and `/media/{id}/thumbnail`, by signed
//! link or bearer token, with byte ranges and headers that keep a browser
//! from running anything it is served).
//!
//! Reaches the database only through `chat`.

use super::extract::{bearer_token, ApiQuery, Auth};
use super::WriteErrors;
use crate::chat::media::{MediaItem, Reader, Source};
use crate::chat::ChatError;
use crate::db::ids::MediaId;
use crate::db::media::MediaRow;
use crate::error::Error;
use crate::media::capability::Variant;
use crate::media::sniff::is_inline_safe;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{
    ACCEPT_RANGES, AUTHORIZATION, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH,
    CONTENT_RANGE, CONTENT_SECURITY_POLICY, CONTENT_TYPE, RANGE, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Json;
use futures_util::StreamExt;
use object_store::GetRange;
use serde::Deserialize;

/// What every media response carries: nothing it serves may run script,
/// be sniffed into another type, or frame anything.
const MEDIA_CSP: &str = "default-src 'none'; sandbox";

/// # `POST /api/v1/media`
/// Uploads one file as the raw request body (any `Content-Type`: the type
/// is read from the content). At most `max_upload_bytes` (413
/// `payload_too_large`) and what is left of the caller's
/// `media_quota_bytes` (409 `limit_reached`). Images are re-encoded
/// without metadata, turned upright, and get a thumbnail and a blurhash;
/// an image that cannot be decoded or has too many pixels is 422. The
/// answer's links are signed and expire after `media_link_ttl_s`. An
/// upload no message carries is deleted after `media_orphan_ttl_s`.
#[utoipa::path(post, path = "/api/v1/media", tag = "chat", security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file"),
    responses((status = 201, description = "The stored item", body = MediaItem), WriteErrors))]
pub async fn upload(
    State(state): State<AppState>,
    Auth(caller): Auth,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<MediaItem>), Error> {
    let user = caller
        .user_id()
        .ok_or_else(|| ChatError::Forbidden("service tokens cannot upload".into()))?;
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let stream = body
        .into_data_stream()
        .map(|chunk| chunk.map_err(std::io::Error::other));
    let item = state.chat.upload(user, declared, stream).await?;
    Ok((StatusCode::CREATED, Json(item)))
}

/// The parameters of a signed link.
#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    exp: Option<i64>,
    sig: Option<String>,
}

/// # `GET /media/{id}`
/// The file, by signed link (`?exp=…&sig=…`, as in every media item) or
/// with a bearer token of its uploader or of a member of the conversation
/// whose message carries it; otherwise 404. Honours one `Range`.
pub async fn original(
    state: State<AppState>,
    Path(id): Path<String>,
    ApiQuery(link): ApiQuery<LinkQuery>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    serve(state, &id, Variant::Original, link, headers).await
}

/// # `GET /media/{id}/thumbnail`
/// An image's JPEG thumbnail, under the same rules as the file.
pub async fn thumbnail(
    state: State<AppState>,
    Path(id): Path<String>,
    ApiQuery(link): ApiQuery<LinkQuery>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    serve(state, &id, Variant::Thumbnail, link, headers).await
}

async fn serve(
    State(state): State<AppState>,
    id: &str,
    variant: Variant,
    link: LinkQuery,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let id = uuid::Uuid::parse_str(id)
        .map(MediaId)
        .map_err(|_| ChatError::NotFound("media"))?;
    let reader = match (link.exp, link.sig.as_deref()) {
        (Some(exp), Some(sig)) => {
            if !state.chat.media_link_valid(id, variant, exp, sig) {
                return Err(ChatError::Forbidden(
                    "this media link is invalid or has expired; reload the message".into(),
                )
                .into());
            }
            Reader::Link
        }
        _ => {
            let header = headers.get(AUTHORIZATION).ok_or(Error::MissingToken)?;
            let token = header
                .to_str()
                .ok()
                .and_then(bearer_token)
                .ok_or(crate::auth::AuthError::Malformed)?;
            let principal = state.chat.principal(state.tokens.verify(token)?).await?;
            let user = principal.user_id().ok_or(ChatError::NotFound("media"))?;
            Reader::User(user)
        }
    };
    let row = state.chat.readable_media(reader, id).await?;
    match state.chat.media_source(row, variant).await? {
        Source::Stored(row) => stored(&state, &row, id, variant, &headers).await,
        Source::Streamed { content_type, body } => {
            let mut response = Response::new(Body::from_stream(body));
            protect(response.headers_mut(), content_type, id);
            Ok(response)
        }
    }
}

/// `variant` of an item in the media store, or the range of it asked for.
async fn stored(
    state: &AppState,
    row: &MediaRow,
    id: MediaId,
    variant: Variant,
    headers: &HeaderMap,
) -> Result<Response, Error> {
    let (content_type, size) = match variant {
        Variant::Original => (
            row.content_type.as_str(),
            Some(row.size_bytes.max(0) as u64),
        ),
        Variant::Thumbnail => ("image/jpeg", None),
    };
    // Ranges on the original only, whose size the row knows.
    let range = match (size, headers.get(RANGE).and_then(|v| v.to_str().ok())) {
        (Some(size), Some(value)) => byte_range(value, size)?,
        _ => None,
    };
    let fetched = state
        .chat
        .open_media(row, variant, range.clone().map(GetRange::Bounded))
        .await?;
    let status = if range.is_some() {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let mut response = Response::new(Body::from_stream(fetched.body));
    *response.status_mut() = status;
    let h = response.headers_mut();
    protect(h, content_type, id);
    h.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let served = fetched.range.end - fetched.range.start;
    h.insert(CONTENT_LENGTH, HeaderValue::from(served));
    if range.is_some() {
        h.insert(
            CONTENT_RANGE,
            header(&format!(
                "bytes {}-{}/{}",
                fetched.range.start,
                fetched.range.end.saturating_sub(1),
                fetched.total_bytes
            )),
        );
    }
    Ok(response)
}

/// The headers of every media response: its type, never sniffed, run or
/// framed; inline only for types a browser shows safely, otherwise a
/// download.
fn protect(h: &mut HeaderMap, content_type: &str, id: MediaId) {
    h.insert(CONTENT_TYPE, header(content_type));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(MEDIA_CSP));
    h.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    let disposition = if is_inline_safe(content_type) {
        "inline"
    } else {
        "attachment"
    };
    h.insert(
        CONTENT_DISPOSITION,
        header(&format!("{disposition}; filename=\"{id}\"")),
    );
}

fn header(value: &str) -> HeaderValue {
    HeaderValue::from_str(value)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"))
}

/// The byte range of a `Range` value over `size` bytes: `bytes=a-b`,
/// `bytes=a-` or `bytes=-n`. Several ranges, or a value that cannot be
/// read, are ignored (the whole file is served, as RFC 9110 allows); a
/// range that starts past the end is 416.
fn byte_range(value: &str, size: u64) -> Result<Option<std::ops::Range<u64>>, Error> {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((start, end)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (start, end) = (start.trim(), end.trim());
    let range = match (start.parse::<u64>(), end.parse::<u64>()) {
        (Ok(start), Ok(end)) if start <= end => start..end.saturating_add(1).min(size),
        (Ok(_), Ok(_)) => return Ok(None),
        (Ok(start), Err(_)) if end.is_empty() => start..size,
        (Err(_), Ok(suffix)) if start.is_empty() => {
            if suffix == 0 {
                return Err(ChatError::RangeNotSatisfiable.into());
            }
            size.saturating_sub(suffix)..size
        }
        _ => return Ok(None),
    };
    if range.start >= size {
        return Err(ChatError::RangeNotSatisfiable.into());
    }
    Ok(Some(range))
}

#[cfg(test)]
mod tests {
    use super::byte_range;

    #[test]
    fn ranges() {
        assert_eq!(byte_range("bytes=0-9", 100).unwrap(), Some(0..10));
        assert_eq!(byte_range("bytes=90-", 100).unwrap(), Some(90..100));
        assert_eq!(byte_range("bytes=-10", 100).unwrap(), Some(90..100));
        assert_eq!(byte_range("bytes=95-200", 100).unwrap(), Some(95..100));
        assert_eq!(byte_range("bytes=0-1,5-6", 100).unwrap(), None);
        assert_eq!(byte_range("items=0-1", 100).unwrap(), None);
        assert!(byte_range("bytes=100-", 100).is_err());
        assert!(byte_range("bytes=-0", 100).is_err());
    }
}
