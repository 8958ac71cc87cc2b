//! The one place where every failure becomes a client-facing error: an HTTP
//! status plus `{"error": {"code", "message"}}`. WebSocket error frames use
//! the same codes through [`Error::parts`]. Internal failures are logged here
//! once and never shown to clients.

use crate::auth::AuthError;
use crate::chat::ChatError;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// Every failure a request can end in.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Chat(#[from] ChatError),
    /// 401: the bearer token was refused.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// 401: no `Authorization: Bearer` header.
    #[error("this endpoint needs an Authorization: Bearer token")]
    MissingToken,
    /// 400: the body is not valid JSON.
    #[error("{0}")]
    MalformedBody(String),
    /// 415: the body is not `application/json`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: valid JSON of the wrong shape.
    #[error("{0}")]
    InvalidBody(String),
    /// 413: the body is larger than `max_body_bytes`.
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// 408: the request body did not arrive within `http_body_timeout_s`.
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    /// 400: a query parameter has the wrong type.
    #[error("{0}")]
    InvalidQuery(String),
    /// 404: no route.
    #[error("no such endpoint")]
    NoRoute,
    /// 405: the route exists, the method does not.
    #[error("method not allowed on this endpoint")]
    MethodNotAllowed,
    /// 400: a WebSocket frame of a type the server does not know.
    #[error("unknown frame type {0:?}")]
    UnknownType(String),
    /// 400: a WebSocket frame that is not a JSON request.
    #[error("{0}")]
    MalformedFrame(String),
    /// 401: an inbox request without a valid HTTP signature of its actor.
    #[error("{0}")]
    Signature(String),
    /// 403: federation with this instance or address is refused.
    #[error("{0}")]
    Refused(String),
    /// 403: an IP rule refuses the client's address for this scope.
    #[error("requests from your address are not accepted here ({0})")]
    IpForbidden(&'static str),
    /// 400: an activity we cannot parse or that breaks a federation rule.
    #[error("{0}")]
    InvalidActivity(String),
    /// The federation library's errors, classified in `parts`.
    #[error(transparent)]
    Federation(#[from] activitypub_federation::error::Error),
    /// 429: a rate limit of this client or account; `Retry-After` says when
    /// to try again.
    #[error("{message}")]
    RateLimited { message: String, retry_after_s: u64 },
    /// 503: a dependency (the database) is down.
    #[error("{0}")]
    Unavailable(String),
    /// 500.
    #[error("{0}")]
    Internal(String),
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `not_found`, `invalid`, `conflict`, …
    pub code: String,
    /// For people; may change between versions.
    pub message: String,
}

impl Error {
    /// Status, machine code and client-safe message.
    pub fn parts(&self) -> (StatusCode, &'static str, String) {
        use StatusCode as S;
        let (status, code) = match self {
            Error::Chat(e) => match e {
                ChatError::NotFound(_) => (S::NOT_FOUND, "not_found"),
                ChatError::Conflict(_) => (S::CONFLICT, "conflict"),
                ChatError::Invalid { .. } => (S::UNPROCESSABLE_ENTITY, "invalid"),
                ChatError::InvalidQuery(_) => (S::BAD_REQUEST, "invalid_query"),
                ChatError::Forbidden(_) => (S::FORBIDDEN, "forbidden"),
                ChatError::Unauthenticated(_) => (S::UNAUTHORIZED, "unauthenticated"),
                ChatError::Refused(_) => (S::FORBIDDEN, "refused"),
                ChatError::LimitReached(_) => (S::CONFLICT, "limit_reached"),
                ChatError::RateLimited(_) => (S::TOO_MANY_REQUESTS, "rate_limited"),
                ChatError::TooLarge(_) => (S::PAYLOAD_TOO_LARGE, "payload_too_large"),
                ChatError::RangeNotSatisfiable => {
                    (S::RANGE_NOT_SATISFIABLE, "range_not_satisfiable")
                }
                ChatError::Denied(denial) if denial.is_unauthenticated() => {
                    (S::UNAUTHORIZED, denial.code())
                }
                ChatError::Denied(denial) => (S::FORBIDDEN, denial.code()),
                ChatError::Upstream(_) => (S::BAD_GATEWAY, "bad_gateway"),
                ChatError::Db(_) | ChatError::Internal(_) => (S::INTERNAL_SERVER_ERROR, "internal"),
            },
            Error::Auth(AuthError::Expired) => (S::UNAUTHORIZED, "token_expired"),
            Error::Auth(_) => (S::UNAUTHORIZED, "invalid_token"),
            Error::MissingToken => (S::UNAUTHORIZED, "unauthenticated"),
            Error::MalformedBody(_) => (S::BAD_REQUEST, "malformed_body"),
            Error::UnsupportedMediaType(_) => (S::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            Error::InvalidBody(_) => (S::UNPROCESSABLE_ENTITY, "invalid"),
            Error::PayloadTooLarge => (S::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Error::RequestTimeout => (S::REQUEST_TIMEOUT, "request_timeout"),
            Error::InvalidQuery(_) => (S::BAD_REQUEST, "invalid_query"),
            Error::NoRoute => (S::NOT_FOUND, "not_found"),
            Error::MethodNotAllowed => (S::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Error::UnknownType(_) => (S::BAD_REQUEST, "unknown_type"),
            Error::MalformedFrame(_) => (S::BAD_REQUEST, "malformed_frame"),
            Error::Signature(_) => (S::UNAUTHORIZED, "signature_invalid"),
            Error::Refused(_) => (S::FORBIDDEN, "refused"),
            Error::IpForbidden(_) => (S::FORBIDDEN, "ip_forbidden"),
            Error::InvalidActivity(_) => (S::BAD_REQUEST, "invalid_activity"),
            Error::Federation(e) => federation_parts(e),
            Error::RateLimited { .. } => (S::TOO_MANY_REQUESTS, "rate_limited"),
            Error::Unavailable(_) => (S::SERVICE_UNAVAILABLE, "unavailable"),
            Error::Internal(_) => (S::INTERNAL_SERVER_ERROR, "internal"),
        };
        let message = if status == S::INTERNAL_SERVER_ERROR {
            "internal error; it has been logged".to_owned()
        } else {
            self.to_string()
        };
        (status, code, message)
    }
}

/// Status and code of a federation library error. Whatever stops us from
/// verifying who sent an activity (a bad signature or digest, an expired
/// date, an actor that cannot be fetched) is 401, so peers that "double
/// knock" retry with another signature scheme.
fn federation_parts(e: &activitypub_federation::error::Error) -> (StatusCode, &'static str) {
    use activitypub_federation::error::Error as F;
    use StatusCode as S;
    match e {
        F::UrlVerificationError(_) | F::DomainResolveError(_) | F::ResolveInternalIpError(..) => {
            (S::FORBIDDEN, "refused")
        }
        F::ParseReceivedActivity { .. } => (S::BAD_REQUEST, "invalid_activity"),
        F::RequestLimit => (S::BAD_REQUEST, "fetch_limit"),
        F::SerializeOutgoingActivity(..) | F::ActivityQueueError(_) | F::StopActivityQueue(_) => {
            (S::INTERNAL_SERVER_ERROR, "internal")
        }
        _ => (S::UNAUTHORIZED, "signature_invalid"),
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code, message) = self.parts();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::TOO_MANY_REQUESTS {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(self.retry_after_s()));
        }
        response
    }
}

impl Error {
    /// Seconds a client should wait after a 429: the limit's own figure, or
    /// one second for a busy server.
    fn retry_after_s(&self) -> u64 {
        match self {
            Error::RateLimited { retry_after_s, .. } => (*retry_after_s).max(1),
            _ => 1,
        }
    }
}

impl From<JsonRejection> for Error {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Error::UnsupportedMediaType(
                "send the body as Content-Type: application/json".into(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY => Error::InvalidBody(rejection.body_text()),
            StatusCode::BAD_REQUEST => Error::MalformedBody(rejection.body_text()),
            _ => Error::MalformedBody(rejection.body_text()),
        }
    }
}

impl From<QueryRejection> for Error {
    fn from(rejection: QueryRejection) -> Self {
        Error::InvalidQuery(rejection.body_text())
    }
}

impl From<crate::db::DbError> for Error {
    fn from(e: crate::db::DbError) -> Self {
        Error::Chat(ChatError::Db(e))
    }
}
