//! Prometheus metrics: the recorder behind the `metrics` facade, the
//! `GET /metrics` route (on the main router or on its own listener, behind
//! an optional bearer token), and the middleware that counts HTTP requests
//! by matched route and status.
//!
//! Each metric is recorded in one place, by the code that knows it: the
//! message writer its batches, the hub its sessions and pushes, the
//! delivery worker its attempts, the inbox its activities. The facade's
//! recorder is process-wide by design (the `metrics` macros reach it
//! without a handle); it is installed once, by the first server whose
//! configuration turns metrics on, and every server in the process then
//! records into it. Without it the macros do nothing. The list of metrics
//! is in `docs/operations.md`.

use crate::chat::ChatError;
use crate::error::Error;
use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

/// The recorder's handle, set by the first server that turns metrics on.
static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// How often buffered histogram samples are folded into their buckets when
/// nobody scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Buckets of every `*_seconds` histogram: 0.5 ms to 10 s.
const SECONDS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Buckets of the writer's batch size (it takes at most 512).
const BATCH: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// The delivery states counted at each scrape: the rows still to send and
/// those given up on (delivered rows are history, not queue).
const QUEUE_STATES: [&str; 3] = ["queued", "retrying", "failed"];

/// Installs the process's recorder on first use; `None` if another
/// recorder was installed first (then `/metrics` answers 404).
pub fn recorder() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let handle = build().inspect_err(|e| tracing::error!("metrics are off: {e}"));
            let handle = handle.ok()?;
            describe();
            let upkeep = handle.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(UPKEEP_EVERY);
                loop {
                    every.tick().await;
                    upkeep.run_upkeep();
                }
            });
            Some(handle)
        })
        .clone()
}

fn build() -> Result<PrometheusHandle, metrics_exporter_prometheus::BuildError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)?
        .set_buckets_for_metric(Matcher::Full("confab_writer_batch_size".into()), BATCH)?
        .install_recorder()
}

/// The `# HELP` line of every metric.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_gauge!(
        "confab_ws_sessions",
        "Live WebSocket sessions on this node."
    );
    describe_counter!(
        "confab_messages_stored_total",
        "Messages the writer committed."
    );
    describe_counter!(
        "confab_pushes_sent_total",
        "Push frames queued to sessions."
    );
    describe_counter!(
        "confab_pushes_dropped_total",
        "Pushes that found a full session queue; the session was cut off as a slow consumer."
    );
    describe_histogram!(
        "confab_writer_batch_size",
        "Messages per writer transaction."
    );
    describe_histogram!(
        "confab_writer_commit_seconds",
        Unit::Seconds,
        "Time of one writer transaction, connection wait included."
    );
    describe_gauge!(
        "confab_delivery_queue",
        "Federation deliveries per state, counted at each scrape."
    );
    describe_histogram!(
        "confab_delivery_seconds",
        Unit::Seconds,
        "Time of one delivery attempt to a host."
    );
    describe_counter!(
        "confab_delivery_attempts_total",
        "Delivery attempts by host and outcome (delivered, refused, transient)."
    );
    describe_counter!(
        "confab_ephemeral_sends_total",
        "Presence and typing activities sent, by outcome of their one attempt."
    );
    describe_counter!(
        "confab_ephemeral_dropped_total",
        "Presence and typing signals dropped: too many were being sent."
    );
    describe_counter!(
        "confab_inbox_activities_total",
        "Signed activities received, by outcome: accepted, or the error code."
    );
    describe_counter!(
        "confab_http_requests_total",
        "HTTP requests by method, matched route and status."
    );
    describe_counter!(
        "confab_login_failures_total",
        "Logins refused for a wrong name or password."
    );
    describe_counter!(
        "confab_rate_limited_total",
        "Requests refused by a rate limit, by which limit."
    );
}

/// The `GET /metrics` route, for the main router or the metrics listener.
pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

/// # `GET /metrics`
/// The Prometheus text format, after the bearer token when one is set.
async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Error> {
    let handle = state.metrics.clone().ok_or(Error::NoRoute)?;
    if let Some(expected) = &state.config.metrics_token {
        check_token(&headers, expected)?;
    }
    match state.chat.delivery_counts(&QUEUE_STATES).await {
        Ok(counts) => {
            for (name, n) in counts {
                metrics::gauge!("confab_delivery_queue", "state" => name).set(n as f64);
            }
        }
        Err(e) => tracing::warn!("cannot count the delivery queue: {e}"),
    }
    let body = handle.render();
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response())
}

fn check_token(headers: &HeaderMap, expected: &str) -> Result<(), Error> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(Error::MissingToken)?;
    aws_lc_rs::constant_time::verify_slices_are_equal(given.as_bytes(), expected.as_bytes())
        .map_err(|_| ChatError::Unauthenticated("wrong metrics token".into()).into())
}

/// Counts each request by method, matched route template (`unmatched`
/// when no route matched) and status; the raw path is never a label.
pub async fn count_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method: &'static str = match request.method().as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    let response = next.run(request).await;
    metrics::counter!(
        "confab_http_requests_total",
        "method" => method,
        "route" => route,
        "status" => response.status().as_str().to_owned(),
    )
    .increment(1);
    response
}
