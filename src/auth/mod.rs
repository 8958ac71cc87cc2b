//! Credentials: password hashing and the access tokens Confab accepts (its
//! own, and those of an external auth service).
//!
//! Must not import axum, `api`, `ws`, `chat` or `apub`: the HTTP and
//! WebSocket extractors that use it live with their transports.

pub mod hashing;
pub mod password;
pub mod tokens;

/// Why a credential was refused. Every variant answers 401.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token has expired")]
    Expired,
    #[error("the token was not issued by a trusted issuer")]
    UnknownIssuer,
    #[error("the token is invalid: {0}")]
    Invalid(String),
    #[error("the external token lacks the claim {0:?}")]
    MissingClaim(&'static str),
}
