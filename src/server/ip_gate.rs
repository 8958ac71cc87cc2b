//! The IP-rule gate: the first thing a request under `/api/` meets. It
//! finds the request's scope and the client address (behind trusted
//! proxies, the forwarded one) and refuses with 403 `ip_forbidden` what the
//! rules in force refuse, before any body is read, password hashed or
//! database row touched.

use crate::chat::ip_rules::IpScope;
use crate::client_ip::client_ip;
use crate::error::Error;
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

/// The scope of a request, or `None` for routes outside the API (the web
/// client, ActivityPub, `/healthz`), which no rule covers.
pub fn scope_of(method: &Method, path: &str) -> Option<IpScope> {
    match (method, path) {
        (&Method::POST, "/api/v1/auth/register") => Some(IpScope::Signup),
        (&Method::POST, "/api/v1/auth/login") => Some(IpScope::Login),
        (_, "/api/v1/ws") => Some(IpScope::Ws),
        (_, p) if p.starts_with("/api/") => Some(IpScope::Api),
        _ => None,
    }
}

/// Lets the request through or refuses it.
pub async fn gate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(scope) = scope_of(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let rules = state.chat.ip_rule_set();
    if rules.is_empty() {
        return next.run(request).await;
    }
    let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() else {
        return Error::Internal("served without the peer address".into()).into_response();
    };
    let ip = client_ip(peer.ip(), request.headers(), &state.config.trusted_proxies);
    if rules.permits(scope, ip) {
        next.run(request).await
    } else {
        tracing::debug!(%ip, scope = scope.as_str(), "refused by an IP rule");
        Error::IpForbidden(scope.as_str()).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_of_routes() {
        let scope = |m: Method, p: &str| scope_of(&m, p);
        assert_eq!(
            scope(Method::POST, "/api/v1/auth/register"),
            Some(IpScope::Signup)
        );
        assert_eq!(
            scope(Method::POST, "/api/v1/auth/login"),
            Some(IpScope::Login)
        );
        assert_eq!(scope(Method::GET, "/api/v1/auth/login"), Some(IpScope::Api));
        assert_eq!(scope(Method::GET, "/api/v1/ws"), Some(IpScope::Ws));
        assert_eq!(scope(Method::GET, "/api/v1/users/me"), Some(IpScope::Api));
        assert_eq!(
            scope(Method::GET, "/api/v1/openapi.json"),
            Some(IpScope::Api)
        );
        assert_eq!(scope(Method::GET, "/healthz"), None);
        assert_eq!(scope(Method::POST, "/users/ada/inbox"), None);
        assert_eq!(scope(Method::GET, "/"), None);
    }
}
