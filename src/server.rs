//! The HTTP server: the router (REST API, WebSocket, ActivityPub and the
//! web client), its middleware, and serving: [`accept`] (the accept loop
//! and its backoff), [`limits`] (connection caps), [`connection`] (one
//! connection and its timeouts, with [`activity`] and [`body`]),
//! [`ip_gate`] (the IP rules in front of the API), and graceful shutdown.

mod accept;
mod activity;
mod body;
mod connection;
mod ip_gate;
mod limits;

use crate::error::Error;
use crate::state::{AppState, StartupError};
use crate::{api, apub, telemetry, web, ws};
use accept::Acceptor;
use activity::Timeouts;
use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::TokioExecutor;
use hyper_util::server::conn::auto;
use limits::ConnectionLimits;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::Layer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::normalize_path::NormalizePathLayer;
use tower_http::trace::TraceLayer;

/// Every route with its middleware.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    let mut router = api::router()
        .route("/api/v1/ws", axum::routing::get(ws::upgrade))
        .merge(apub::routes::router())
        .merge(web::router(
            &state.config.web_embed_origins,
            state.config.max_message_chars,
        ));
    if state.config.metrics_bind.is_none() {
        router = router.merge(telemetry::routes());
    }
    let router = with_fallbacks(router)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ip_gate::gate,
        ));
    counted(router, &state)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The routes of the `metrics_bind` listener: `/metrics` alone.
pub fn metrics_router(state: AppState) -> Router {
    counted(with_fallbacks(telemetry::routes()), &state).with_state(state)
}

fn with_fallbacks(router: Router<AppState>) -> Router<AppState> {
    router
        .fallback(|| async { Error::NoRoute })
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
}

/// Counts requests by route and status when metrics are on.
fn counted(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    if state.metrics.is_some() {
        router.layer(axum::middleware::from_fn(telemetry::count_requests))
    } else {
        router
    }
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    Error::Internal("a request handler panicked".into()).into_response()
}

/// Serves on `listener` until `shutdown` resolves, then waits up to the
/// configured timeout for open requests. Every connection is held to the
/// connection caps and timeouts of the configuration (see `docs/operations.md`).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let config = &state.config;
    let grace = Duration::from_secs(config.shutdown_timeout_s);
    let limits = ConnectionLimits::new(
        limits::connection_cap(config.max_connections),
        config.max_connections_per_ip,
        config.trusted_proxies.clone(),
    );
    let shared = Arc::new(connection::Shared {
        builder: auto::Builder::new(TokioExecutor::new()),
        timeouts: Timeouts {
            header: Duration::from_secs(config.http_header_timeout_s),
            idle: Duration::from_secs(config.http_idle_timeout_s),
        },
        body_timeout: Duration::from_secs(config.http_body_timeout_s),
        // Trailing slashes are trimmed before routing, so `/api/v1/users/`
        // and `/api/v1/users` are the same endpoint.
        app: NormalizePathLayer::trim_trailing_slash().layer(router(state)),
    });
    let mut acceptor = Acceptor::new(listener, limits);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = acceptor.next() => {
                let Some(accepted) = accepted else { break };
                connections.spawn(connection::serve(
                    accepted.stream,
                    accepted.peer,
                    accepted.permit,
                    shared.clone(),
                    stop_rx.clone(),
                ));
            }
            // Reap finished connection tasks as they end.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(acceptor);
    let _ = stop_tx.send(true);
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(grace, drained).await.is_err() {
        tracing::warn!("shutdown timeout reached; closing remaining connections");
        connections.shutdown().await;
    }
    Ok(())
}

/// Serves `/metrics` alone on `listener` until `shutdown` resolves.
pub async fn serve_metrics(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, metrics_router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Binds the configured address (and `metrics_bind`, when set) and serves
/// until SIGTERM or Ctrl-C.
pub async fn run(state: AppState) -> Result<(), StartupError> {
    let addr = state.config.bind;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartupError::Bind { addr, source })?;
    if let Some(addr) = state.config.metrics_bind {
        let metrics = TcpListener::bind(addr)
            .await
            .map_err(|source| StartupError::Bind { addr, source })?;
        tracing::info!(%addr, "metrics listening");
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(e) = serve_metrics(metrics, state, shutdown_signal()).await {
                tracing::error!("metrics listener failed: {e}");
            }
        });
    }
    tracing::info!(%addr, domain = %state.config.domain, "confab listening");
    serve(listener, state, shutdown_signal())
        .await
        .map_err(StartupError::Serve)?;
    tracing::info!("confab stopped");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested");
}
