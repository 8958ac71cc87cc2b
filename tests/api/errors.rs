//! Malformed, oversized, unknown and unauthorised input: every answer is a
//! precise 4xx with a JSON error body, never a 5xx.

use crate::backend_tests;
use crate::common::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;

backend_tests!(
    bodies_that_are_missing_malformed_or_wrong,
    routes_methods_and_queries,
    tokens_that_are_missing_or_bad
);

async fn bodies_that_are_missing_malformed_or_wrong(s: &TestServer) {
    let (token, _) = s.register("errs").await;
    let post = |path: &str| s.request(Method::POST, path);
    let cases = [
        // The old service answered 500 to a POST without a body.
        (
            post("/api/v1/auth/register"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            post("/api/v1/auth/register").header("content-type", "application/json"),
            StatusCode::BAD_REQUEST,
            "malformed_body",
        ),
        (
            post("/api/v1/auth/register")
                .header("content-type", "text/plain")
                .body("{}"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            post("/api/v1/auth/register")
                .header("content-type", "application/json")
                .body("{\"name\": "),
            StatusCode::BAD_REQUEST,
            "malformed_body",
        ),
        (
            post("/api/v1/auth/register")
                .header("content-type", "application/json")
                .body("[1,2]"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            post("/api/v1/auth/register")
                .header("content-type", "application/json")
                .body("{}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            post("/api/v1/auth/login")
                .header("content-type", "application/json")
                .body("{\"name\": 1, \"password\": 2}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            post("/api/v1/auth/login")
                .header("content-type", "application/json")
                .body("\"\\ud800\""),
            StatusCode::BAD_REQUEST,
            "malformed_body",
        ),
        (
            s.request(Method::PATCH, "/api/v1/users/me")
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body("null"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
    ];
    for (req, status, code) in cases {
        let r = s.raw(req).await;
        assert_eq!((r.status, r.code()), (status, code), "{:?}", r.body);
        assert_eq!(r.content_type.as_deref(), Some("application/json"));
        assert!(!r.body["error"]["message"].as_str().unwrap().is_empty());
    }
    // Over the body limit (64 KiB by default): 413, and nothing is stored.
    let huge = json!({"name": "huge", "password": "x".repeat(70 * 1024)});
    let r = s
        .call(Method::POST, "/api/v1/auth/register", Some(huge), None)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    assert_eq!(
        s.get("/api/v1/users/huge", &token).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn routes_methods_and_queries(s: &TestServer) {
    let (token, _) = s.register("routes").await;
    let r = s.get("/api/v1/ws", &token).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "malformed_frame"),
        "a plain GET of the WebSocket endpoint"
    );
    let r = s.get("/api/v1/nothing-here", &token).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = s
        .call(Method::DELETE, "/api/v1/users", None, Some(&token))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
    let r = s.call(Method::GET, "/api/v1/auth/login", None, None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    for query in [
        "limit=0",
        "limit=101",
        "limit=abc",
        "limit=-1",
        "limit=99999999999999999999",
    ] {
        let r = s.get(&format!("/api/v1/users?{query}"), &token).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "invalid_query"),
            "{query}"
        );
    }
    let r = s.get("/api/v1/users?q=%00&after=%FF", &token).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "odd search text just matches nothing"
    );
    assert_eq!(r.body["users"], json!([]));
}

async fn tokens_that_are_missing_or_bad(s: &TestServer) {
    for auth in [
        None,
        Some("Bearer"),
        Some("Bearer not-a-jwt"),
        Some("Basic YTpi"),
        Some("Bearer a.b.c"),
    ] {
        let mut req = s.request(Method::GET, "/api/v1/users");
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        let r = s.raw(req).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert!(
            ["unauthenticated", "invalid_token"].contains(&r.code()),
            "{auth:?}: {:?}",
            r.body
        );
    }
}

/// A body limit set lower by configuration applies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_body_limit() {
    let s = TestServer::start(Backend::Sqlite, &["--max-body-bytes", "2048"])
        .await
        .unwrap();
    let r = s
        .call(
            Method::POST,
            "/api/v1/auth/register",
            Some(json!({"name": "a", "password": "p".repeat(3000)})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    s.stop().await;
}
