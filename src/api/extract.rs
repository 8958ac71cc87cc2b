//! Extractors whose rejections use Confab's error format: a JSON body, a
//! query string, and the authenticated caller.

use crate::auth::AuthError;
use crate::chat::principal::Principal;
use crate::error::Error;
use crate::state::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A JSON object body, answering bad bodies with 400/413/415/422 JSON
/// errors. Every request body of the API is an object; serde alone would also
/// build a struct from an array, so the shape is checked first.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let axum::Json(value) = axum::Json::<serde_json::Value>::from_request(req, state).await?;
        if !value.is_object() {
            return Err(Error::InvalidBody("the body must be a JSON object".into()));
        }
        serde_json::from_value(value)
            .map(ApiJson)
            .map_err(|e| Error::InvalidBody(format!("invalid body: {e}")))
    }
}

/// `axum::extract::Query`, answering bad parameters with a 400 JSON error.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Error))]
pub struct ApiQuery<T>(pub T);

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
