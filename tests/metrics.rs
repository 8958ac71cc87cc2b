//! Prometheus metrics at `/metrics` on a real server: the counters move
//! with the traffic, the token guards them, `metrics_bind` moves them to a
//! listener of their own, and they are off by default.
//!
//! A test binary of its own: the `metrics` recorder is process-wide, so the
//! session gauge is exact only without the other tests' servers in the
//! process. The test that opens WebSockets runs both backends in turn.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

#[path = "api/common.rs"]
mod common;
#[path = "api/ws_client.rs"]
mod ws_client;

use common::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;
use ws_client::WsClient;

const TOKEN: &str = "scrape-secret";

/// The sum of the series named `name` whose labels include `labels`.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut found = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, number)) = line.rsplit_once(' ') else {
            continue;
        };
        let (series_name, series_labels) = series.split_once('{').unwrap_or((series, ""));
        if series_name != name {
            continue;
        }
        if labels
            .iter()
            .all(|(k, v)| series_labels.contains(&format!("{k}=\"{v}\"")))
        {
            *found.get_or_insert(0.0) += number.parse::<f64>().unwrap();
        }
    }
    found
}

async fn scrape(s: &TestServer) -> String {
    let resp = s
        .request(Method::GET, "/metrics")
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    resp.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_follow_the_traffic() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let args = [
            "--metrics-token",
            TOKEN,
            "--ws-requests-per-s",
            "1",
            "--login-failures-per-account",
            "1",
        ];
        if let Some(server) = TestServer::start(backend, &args).await {
            counters_move(&server).await;
            server.stop().await;
        }
    }
}

async fn counters_move(s: &TestServer) {
    // Without the token, or with another, the answer is a 401 JSON error.
    let r = s.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "unauthenticated");
    let r = s.call(Method::GET, "/metrics", None, Some("nope")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "unauthenticated");

    let before = scrape(s).await;
    let stored_before = value(&before, "confab_messages_stored_total", &[]).unwrap_or(0.0);
    let (token, _) = s.register("ada").await;
    let r = s
        .call(
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({"name": "ada", "password": "wrong-password"})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // One failure per account is allowed: the next is refused before any
    // hashing, and counted.
    let r = s
        .call(
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({"name": "ada", "password": "wrong-again"})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);

    // Three sockets; with a budget of one request a second (bursts of
    // two), each sends two messages, then the third socket floods.
    let mut sockets = vec![];
    for _ in 0..3 {
        sockets.push(WsClient::connect(s, &token).await);
    }
    let group = sockets[0]
        .ok(
            "conversation.create",
            json!({"name": "Metrics", "members": []}),
        )
        .await;
    let gid = group["id"].as_str().unwrap().to_owned();
    // Request ids are unique across the sockets: a reused one would be a
    // resend of the same message.
    let body = json!({"conversation": gid, "body": "hi"});
    let mut sent = 0;
    for (i, ws) in sockets.iter_mut().enumerate() {
        let reply = ws
            .call_with_id("message.send", body.clone(), &format!("m{i}"))
            .await;
        if reply["type"] == "result" {
            sent += 1;
        }
    }
    let mut limited = 0;
    for i in 0..10 {
        let reply = sockets[2]
            .call_with_id("message.send", body.clone(), &format!("flood{i}"))
            .await;
        match reply["type"].as_str() {
            Some("result") => sent += 1,
            _ => {
                assert_eq!(reply["error"]["code"], "rate_limited", "{reply}");
                limited += 1;
            }
        }
    }
    assert!(sent >= 3 && limited >= 1, "sent {sent}, limited {limited}");

    // Every socket gets every message; the hub counted them as it queued.
    for ws in sockets.iter_mut() {
        for _ in 0..sent {
            ws.push("message.created").await;
        }
    }
    let text = scrape(s).await;
    assert_eq!(value(&text, "confab_ws_sessions", &[]), Some(3.0), "{text}");
    let stored = value(&text, "confab_messages_stored_total", &[]).unwrap();
    assert!(stored - stored_before >= f64::from(sent), "{text}");
    let pushes = value(&text, "confab_pushes_sent_total", &[]).unwrap();
    assert!(pushes >= f64::from(3 * sent), "{text}");
    let register = [
        ("method", "POST"),
        ("route", "/api/v1/auth/register"),
        ("status", "201"),
    ];
    assert!(value(&text, "confab_http_requests_total", &register).unwrap() >= 1.0);
    let ws = [("route", "/api/v1/ws"), ("status", "101")];
    assert!(value(&text, "confab_http_requests_total", &ws).unwrap() >= 3.0);
    let unauthorized = [("route", "/metrics"), ("status", "401")];
    assert!(value(&text, "confab_http_requests_total", &unauthorized).unwrap() >= 2.0);
    assert!(value(&text, "confab_login_failures_total", &[]).unwrap() >= 1.0);
    let login = [("what", "login_account")];
    assert!(value(&text, "confab_rate_limited_total", &login).unwrap() >= 1.0);
    let what = [("what", "ws_request")];
    assert!(value(&text, "confab_rate_limited_total", &what).unwrap() >= f64::from(limited));
    assert!(value(&text, "confab_writer_batch_size_count", &[]).unwrap() >= 1.0);
    assert!(value(
        &text,
        "confab_writer_commit_seconds_bucket",
        &[("le", "+Inf")]
    )
    .is_some());
    assert_eq!(
        value(&text, "confab_delivery_queue", &[("state", "queued")]),
        Some(0.0)
    );

    // The gauge follows the sockets as they close.
    drop(sockets);
    let mut sessions = None;
    for _ in 0..100 {
        sessions = value(&scrape(s).await, "confab_ws_sessions", &[]);
        if sessions == Some(0.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sessions, Some(0.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_bind_serves_metrics_only_there() {
    let Some(s) = TestServer::start(Backend::Sqlite, &["--metrics-bind", "127.0.0.1:0"]).await
    else {
        return;
    };
    let r = s.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "not_found");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(confab::server::serve_metrics(
        listener,
        s.state.clone(),
        async {
            let _ = stopped.await;
        },
    ));
    let client = reqwest::Client::new();
    let resp = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.unwrap();
    let main = [("route", "unmatched"), ("status", "404")];
    assert!(
        value(&text, "confab_http_requests_total", &main).unwrap() >= 1.0,
        "{text}"
    );
    // Nothing else is served there.
    let resp = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let _ = stop.send(());
    task.await.unwrap().unwrap();
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_off_by_default() {
    let Some(s) = TestServer::start(Backend::Sqlite, &[]).await else {
        return;
    };
    let r = s.call(Method::GET, "/metrics", None, Some(TOKEN)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    s.stop().await;
}
