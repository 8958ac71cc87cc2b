//! Extractors whose rejections use Confab's error format: a JSON body, a
//! query string, the authenticated caller and the client's address.

use crate::auth::AuthError;
use crate::chat::principal::Principal;
use crate::client_ip::client_ip;
use crate::error::Error;
use crate::state::AppState;
use crate::strict_json::check_unique_keys;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use std::net::{IpAddr, SocketAddr};

/// A JSON object body, answering bad bodies with 400/413/415/422 JSON
/// errors. Every request body of the API is an object; serde alone would also
/// build a struct from an array, so the shape is checked first, and an
/// object that repeats a key is refused (400) rather than read as its last
/// value.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        if !is_json(req.headers()) {
            return Err(Error::UnsupportedMediaType(
                "send the body as Content-Type: application/json".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge,
                _ => Error::MalformedBody(rejection.body_text()),
            }
        })?;
        let axum::Json(value) = axum::Json::<serde_json::Value>::from_bytes(&bytes)?;
        if !value.is_object() {
            return Err(Error::InvalidBody("the body must be a JSON object".into()));
        }
        // Valid JSON is valid UTF-8.
        let text = std::str::from_utf8(&bytes).map_err(|e| Error::MalformedBody(e.to_string()))?;
        check_unique_keys(text).map_err(|e| Error::MalformedBody(e.to_string()))?;
        serde_json::from_value(value)
            .map(ApiJson)
            .map_err(|e| Error::InvalidBody(format!("invalid body: {e}")))
    }
}

/// Whether the `Content-Type` is `application/json` or `application/*+json`.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.split_once('/').is_some_and(|(kind, sub)| {
        kind.eq_ignore_ascii_case("application")
            && (sub.eq_ignore_ascii_case("json") || sub.to_ascii_lowercase().ends_with("+json"))
    })
}

/// `axum::extract::Query`, answering bad parameters with a 400 JSON error.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Error))]
pub struct ApiQuery<T>(pub T);

/// The client's address: the socket peer, or what a trusted proxy says
/// (`trusted_proxies`; see `crate::client_ip`). Needs the server to be
/// served with `ConnectInfo<SocketAddr>`.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let ConnectInfo(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .ok_or_else(|| Error::Internal("served without the peer address".into()))?;
        Ok(ClientIp(client_ip(
            peer.ip(),
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

/// The caller, from `Authorization: Bearer <token>` (Confab's own token or
/// the external auth service's).
pub struct Auth(pub Principal);

impl FromRequestParts<AppState> for Auth {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or(Error::MissingToken)?;
        let token = bearer_token(header.to_str().map_err(|_| AuthError::Malformed)?)
            .ok_or(AuthError::Malformed)?;
        let verified = state.tokens.verify(token)?;
        Ok(Auth(state.chat.principal(verified).await?))
    }
}

/// The token of a `Bearer` authorization value (scheme case-insensitive).
pub fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn bearer_values() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer"), None);
        assert_eq!(bearer_token("Bearer "), None);
    }
}
