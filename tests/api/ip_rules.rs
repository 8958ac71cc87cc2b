//! IP rules (docs/operations.md, "IP rules"): deny and allow lists per
//! scope, checked before any work, on the client address behind trusted
//! proxies, changed through the API at once and through the database (as
//! the CLI does) after the next re-read.

use crate::backend_tests;
use crate::common::{Reply, TestServer};
use crate::ws_client::WsServer;
use chrono::Utc;
use confab::db::ip_rules::{self, NewIpRuleRow};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The proxy in front of the test servers is the test itself (127.0.0.1).
const BEHIND_PROXY: &[&str] = &["--trusted-proxies", "127.0.0.1"];

backend_tests!(deny_on_login_refuses_before_the_password_is_checked);
backend_tests!(allow_only_signup_leaves_login_alone);
backend_tests!(ws_scope_refuses_the_upgrade);
backend_tests!(api_scope_and_the_forwarded_address: BEHIND_PROXY);
backend_tests!(rules_written_to_the_database_apply_after_a_reload: &["--ip-rules-reload-s", "1"]);
backend_tests!(rules_are_validated_and_admin_only);

async fn add_rule(s: &TestServer, admin: &str, rule: Value) -> Reply {
    s.call(
        Method::POST,
        "/api/v1/admin/ip-rules",
        Some(rule),
        Some(admin),
    )
    .await
}

/// Adds a rule through the API and returns its id.
async fn add_ok(s: &TestServer, admin: &str, scope: &str, action: &str, cidr: &str) -> i64 {
    let r = add_rule(
        s,
        admin,
        json!({"scope": scope, "action": action, "cidr": cidr}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["id"].as_i64().unwrap()
}

async fn remove_ok(s: &TestServer, admin: &str, id: i64) {
    let r = s
        .call(
            Method::DELETE,
            &format!("/api/v1/admin/ip-rules/{id}"),
            None,
            Some(admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
}

async fn login(s: &TestServer, name: &str, password: &str, forwarded_for: Option<&str>) -> Reply {
    let mut req = s
        .request(Method::POST, "/api/v1/auth/login")
        .json(&json!({"name": name, "password": password}));
    if let Some(ip) = forwarded_for {
        req = req.header("x-forwarded-for", ip);
    }
    s.raw(req).await
}

fn assert_ip_forbidden(r: &Reply) {
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    assert_eq!(r.code(), "ip_forbidden", "{:?}", r.body);
}

async fn deny_on_login_refuses_before_the_password_is_checked(s: &TestServer) {
    let (admin, _) = s.register("admin").await;
    s.register("ada").await;
    let id = add_ok(s, &admin, "login", "deny", "127.0.0.0/8").await;
    // A right password, a wrong one and a body that is not even JSON get
    // the same answer: nothing was parsed, hashed or looked up.
    assert_ip_forbidden(&login(s, "ada", "password-123", None).await);
    assert_ip_forbidden(&login(s, "ada", "wrong-password", None).await);
    let garbage = s
        .request(Method::POST, "/api/v1/auth/login")
        .header("content-type", "application/json")
        .body("{not json");
    assert_ip_forbidden(&s.raw(garbage).await);
    // Other scopes are untouched.
    assert_eq!(
        s.get("/api/v1/users/me", &admin).await.status,
        StatusCode::OK
    );
    let listed = s.get("/api/v1/admin/ip-rules", &admin).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(
        listed.body,
        json!([{
            "id": id, "scope": "login", "action": "deny", "cidr": "127.0.0.0/8",
            "note": "", "created_at": listed.body[0]["created_at"]
        }])
    );
    // Removed: allowed again, at once.
    remove_ok(s, &admin, id).await;
    assert_eq!(
        login(s, "ada", "password-123", None).await.status,
        StatusCode::OK
    );
    let again = s
        .call(
            Method::DELETE,
            &format!("/api/v1/admin/ip-rules/{id}"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{:?}", again.body);
}

async fn allow_only_signup_leaves_login_alone(s: &TestServer) {
    let (admin, _) = s.register("admin").await;
    s.register("ada").await;
    let r = add_rule(
        s,
        &admin,
        json!({"scope": "signup", "action": "allow", "cidr": "10.1.2.3/8", "note": "office only"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["cidr"], "10.0.0.0/8", "stored as its network");
    assert_eq!(r.body["note"], "office only");
    let signup = s
        .call(
            Method::POST,
            "/api/v1/auth/register",
            Some(json!({"name": "newcomer", "password": "password-123"})),
            None,
        )
        .await;
    assert_ip_forbidden(&signup);
    assert_eq!(
        login(s, "ada", "password-123", None).await.status,
        StatusCode::OK
    );
    // An allow rule that takes in 127.0.0.1 opens sign-up again.
    add_ok(s, &admin, "signup", "allow", "127.0.0.1").await;
    s.register("newcomer").await;
}

async fn ws_upgrade_status(s: &TestServer, token: &str) -> Result<(), StatusCode> {
    let mut req = format!("{}/api/v1/ws", s.ws_base())
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        format!("confab.v1, {token}").parse().unwrap(),
    );
    match tokio_tungstenite::connect_async(req).await {
        Ok(_) => Ok(()),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status()),
        Err(e) => panic!("unexpected WebSocket error: {e}"),
    }
}

async fn ws_scope_refuses_the_upgrade(s: &TestServer) {
    let (admin, _) = s.register("admin").await;
    let (ada, _) = s.register("ada").await;
    assert_eq!(ws_upgrade_status(s, &ada).await, Ok(()));
    let id = add_ok(s, &admin, "ws", "deny", "127.0.0.1").await;
    assert_eq!(ws_upgrade_status(s, &ada).await, Err(StatusCode::FORBIDDEN));
    // The REST API stays open.
    assert_eq!(s.get("/api/v1/users/me", &ada).await.status, StatusCode::OK);
    remove_ok(s, &admin, id).await;
    assert_eq!(ws_upgrade_status(s, &ada).await, Ok(()));
}

async fn api_scope_and_the_forwarded_address(s: &TestServer) {
    let (admin, _) = s.register("admin").await;
    let (ada, _) = s.register("ada").await;
    let me = |ip: &'static str| {
        s.request(Method::GET, "/api/v1/users/me")
            .bearer_auth(&ada)
            .header("x-forwarded-for", ip)
    };
    let id = add_ok(s, &admin, "api", "deny", "203.0.113.0/24").await;
    // The peer is the trusted proxy: the forwarded address is matched.
    assert_ip_forbidden(&s.raw(me("203.0.113.9")).await);
    assert_eq!(s.raw(me("198.51.100.1")).await.status, StatusCode::OK);
    // Unknown routes under /api/ are in the scope too; /healthz is not.
    let unknown = s
        .request(Method::GET, "/api/v2/nothing")
        .header("x-forwarded-for", "203.0.113.9");
    assert_ip_forbidden(&s.raw(unknown).await);
    let health = s
        .request(Method::GET, "/healthz")
        .header("x-forwarded-for", "203.0.113.9");
    assert_eq!(s.raw(health).await.status, StatusCode::OK);
    // Login is its own scope.
    assert_eq!(
        login(s, "ada", "password-123", Some("203.0.113.9"))
            .await
            .status,
        StatusCode::OK
    );
    // A login deny on the proxy's own address does not hit the client
    // behind it.
    add_ok(s, &admin, "login", "deny", "127.0.0.1").await;
    assert_eq!(
        login(s, "ada", "password-123", Some("198.51.100.1"))
            .await
            .status,
        StatusCode::OK
    );
    assert_ip_forbidden(&login(s, "ada", "password-123", None).await);
    remove_ok(s, &admin, id).await;
    assert_eq!(s.raw(me("203.0.113.9")).await.status, StatusCode::OK);
    // An admin cannot lock themselves out of the API by accident.
    let r = add_rule(
        s,
        &admin,
        json!({"scope": "api", "action": "deny", "cidr": "127.0.0.0/8"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    let r = add_rule(
        s,
        &admin,
        json!({"scope": "api", "action": "allow", "cidr": "10.0.0.0/8"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(
        s.get("/api/v1/users/me", &admin).await.status,
        StatusCode::OK
    );
}

async fn rules_written_to_the_database_apply_after_a_reload(s: &TestServer) {
    let (admin, _) = s.register("admin").await;
    let row = NewIpRuleRow {
        scope: "api".into(),
        action: "deny".into(),
        cidr: "127.0.0.1/32".into(),
        note: "written by the CLI".into(),
        created_at: Utc::now().naive_utc(),
    };
    let mut conn = s.state.chat.db().write().await.unwrap();
    ip_rules::insert(&mut conn, &row).await.unwrap();
    drop(conn);
    // Polled, with a bound far above the one-second interval.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let r = s.get("/api/v1/users/me", &admin).await;
        if r.status == StatusCode::FORBIDDEN {
            assert_ip_forbidden(&r);
            break;
        }
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert!(
            tokio::time::Instant::now() < deadline,
            "the rule never applied"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn rules_are_validated_and_admin_only(s: &TestServer) {
    let (admin, _) = s.register("admin").await;
    let (ada, _) = s.register("ada").await;
    for bad in [
        json!({"scope": "signup", "action": "deny", "cidr": "10.0.0.0/33"}),
        json!({"scope": "signup", "action": "deny", "cidr": "example.com"}),
        json!({"scope": "everything", "action": "deny", "cidr": "10.0.0.0/8"}),
        json!({"scope": "signup", "action": "block", "cidr": "10.0.0.0/8"}),
        json!({"scope": "Signup", "action": "deny", "cidr": "10.0.0.0/8"}),
        json!({"scope": "signup", "action": "deny"}),
        json!({"scope": "signup", "action": "deny", "cidr": "10.0.0.0/8", "extra": 1}),
        json!({"scope": "signup", "action": "deny", "cidr": "10.0.0.0/8", "note": "a\nb"}),
    ] {
        let r = add_rule(s, &admin, bad.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {:?}",
            r.body
        );
        assert_eq!(r.code(), "invalid", "{bad}");
    }
    add_ok(s, &admin, "signup", "deny", "2001:db8::1/32").await;
    let dup = add_rule(
        s,
        &admin,
        json!({"scope": "signup", "action": "deny", "cidr": "2001:db8::/32"}),
    )
    .await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{:?}", dup.body);
    let listed = s.get("/api/v1/admin/ip-rules", &admin).await;
    assert_eq!(listed.body[0]["cidr"], "2001:db8::/32");
    for (method, path) in [
        (Method::GET, "/api/v1/admin/ip-rules"),
        (Method::DELETE, "/api/v1/admin/ip-rules/1"),
    ] {
        let r = s.call(method, path, None, Some(&ada)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {:?}", r.body);
    }
    let r = s
        .call(
            Method::DELETE,
            "/api/v1/admin/ip-rules/nope",
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
}
