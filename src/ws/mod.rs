//! The WebSocket transport: `GET /api/v1/ws`, one socket per session.
//! [`hub`] keeps the live sessions and fans events out to them;
//! [`session`] runs one socket; [`protocol`] is the frame format and the
//! request dispatch (documented in `docs/protocol.md`).
//!
//! Reaches the database only through `chat`; of `apub` only `apub::lookup`
//! (remote users by handle), of `api` only its bearer-token parser.

pub mod hub;
pub mod protocol;
pub mod session;

use crate::api::extract::bearer_token;
use crate::auth::AuthError;
use crate::chat::principal::Principal;
use crate::error::Error;
use crate::state::AppState;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

/// The subprotocol clients offer (together with their token).
pub const SUBPROTOCOL: &str = "confab.v1";

/// # `GET /api/v1/ws`
/// Upgrades to a chat session. The token comes in `Sec-WebSocket-Protocol`
/// (`confab.v1, <token>`; the server answers `confab.v1`) or, for
/// non-browser clients, `Authorization: Bearer`.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, Error> {
    let ws = ws.map_err(|e| {
        Error::MalformedFrame(format!("not a WebSocket upgrade: {}", e.body_text()))
    })?;
    let token = token_from(&headers)?;
    let verified = state.tokens.verify(&token)?;
    let user = match state.chat.principal(verified).await? {
        Principal::User(user) => user,
        Principal::Service { .. } => {
            return Err(crate::chat::ChatError::Forbidden(
                "service tokens cannot open chat sessions".into(),
            )
            .into())
        }
    };
    let config = &state.config;
    let registered = state.hub.register(
        user.id,
        user.token_generation,
        config.session_queue,
        config.max_sessions_per_user,
    );
    let Some((guard, queue)) = registered else {
        return Err(crate::chat::ChatError::RateLimited(
            "too many open sessions for this user".into(),
        )
        .into());
    };
    let hard_limit = (state.config.max_frame_bytes * 4).max(1 << 20);
    Ok(ws
        .protocols([SUBPROTOCOL])
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(hard_limit)
        .on_upgrade(move |socket| session::run(socket, state, user, guard, queue)))
}

/// The bearer token from `Sec-WebSocket-Protocol` or `Authorization`.
fn token_from(headers: &HeaderMap) -> Result<String, Error> {
    if let Some(value) = headers.get("sec-websocket-protocol") {
        let value = value.to_str().map_err(|_| AuthError::Malformed)?;
        let offered: Vec<&str> = value.split(',').map(str::trim).collect();
        if offered.contains(&SUBPROTOCOL) {
            if let Some(token) = offered.iter().find(|p| **p != SUBPROTOCOL && !p.is_empty()) {
                return Ok((*token).to_owned());
            }
        }
    }
    match headers.get(axum::http::header::AUTHORIZATION) {
        Some(value) => {
            let value = value.to_str().map_err(|_| AuthError::Malformed)?;
            Ok(bearer_token(value).ok_or(AuthError::Malformed)?.to_owned())
        }
        None => Err(Error::MissingToken),
    }
}
