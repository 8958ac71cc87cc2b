//! One client connection: HTTP/1.1 (or h2c) served by hyper with upgrades
//! (WebSocket), the client's address in every request (`ConnectInfo`), the
//! body deadline and its 408, and the watchdog that closes a connection
//! whose request head is late or that stayed idle too long. On shutdown the
//! connection finishes its request and closes.

use super::activity::{Activity, Timeouts, Tracked};
use super::body::{Deadline, Finishing};
use super::limits::ConnectionPermit;
use crate::error::Error;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Request, Response};
use axum::response::IntoResponse;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tower::ServiceExt;

/// The application every connection serves.
pub type App = tower_http::normalize_path::NormalizePath<axum::Router>;

/// What every connection shares: the application, hyper's settings and the
/// timeouts.
pub struct Shared {
    pub app: App,
    pub builder: auto::Builder<TokioExecutor>,
    pub timeouts: Timeouts,
    /// From the end of a request head to the end of its body.
    pub body_timeout: Duration,
}

/// Serves one connection until it closes, its watchdog expires, or (after
/// `stop` turns true) its current request is answered.
pub async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    permit: ConnectionPermit,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    // No Nagle delay: chat frames are small and latency-bound.
    if let Err(e) = stream.set_nodelay(true) {
        tracing::warn!("cannot set TCP_NODELAY: {e}");
    }
    let activity = Activity::new();
    let io = TokioIo::new(Tracked::new(stream, activity.clone(), permit));
    let service = ConnectionService {
        app: shared.app.clone(),
        peer,
        activity: activity.clone(),
        body_timeout: shared.body_timeout,
    };
    let connection = shared.builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(connection);
    let expired = activity.expired(shared.timeouts);
    tokio::pin!(expired);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, "connection ended: {e}");
                }
                return;
            }
            () = &mut expired => {
                tracing::debug!(%peer, "closing a connection whose request did not come in time");
                return;
            }
            _ = stop.wait_for(|stop| *stop), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// The application as hyper calls it on one connection.
#[derive(Clone)]
struct ConnectionService {
    app: App,
    peer: SocketAddr,
    activity: Arc<Activity>,
    body_timeout: Duration,
}

impl hyper::service::Service<Request<Incoming>> for ConnectionService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let guard = self.activity.request_started();
        let timed_out = Arc::new(AtomicBool::new(false));
        let deadline = tokio::time::Instant::now() + self.body_timeout;
        let mut request =
            request.map(|body| Body::new(Deadline::new(body, deadline, timed_out.clone())));
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let app = self.app.clone();
        Box::pin(async move {
            let Ok(mut response) = app.oneshot(request).await;
            if timed_out.load(Ordering::Relaxed) {
                response = Error::RequestTimeout.into_response();
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok(response.map(|body| Body::new(Finishing::new(body, guard))))
        })
    }
}
