//! Limits that hold under abuse (issue 12): failed logins per account and
//! per client address, a bounded password hashing pool, sign-ups per
//! address, the client address behind trusted proxies, unsafe names, and
//! JSON that repeats a key.

use crate::backend_tests;
use crate::common::{with_server, Backend, Reply, TestServer};
use crate::ws_client::WsClient;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

async fn login(
    s: &TestServer,
    name: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> Response {
    let mut req = s
        .request(Method::POST, "/api/v1/auth/login")
        .json(&json!({"name": name, "password": password}));
    if let Some(ip) = forwarded_for {
        req = req.header("x-forwarded-for", ip);
    }
    Response::of(req).await
}

async fn register(s: &TestServer, name: &str, headers: &[(&str, &str)]) -> Response {
    let mut req = s
        .request(Method::POST, "/api/v1/auth/register")
        .json(&json!({"name": name, "password": "password-123"}));
    for (header, value) in headers {
        req = req.header(*header, *value);
    }
    Response::of(req).await
}

/// Status, `Retry-After` and error code of a response.
#[derive(Debug)]
struct Response {
    status: StatusCode,
    retry_after: Option<u64>,
    code: Option<String>,
}

impl Response {
    async fn of(req: reqwest::RequestBuilder) -> Self {
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().parse().unwrap());
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        Self {
            status,
            retry_after,
            code: body["error"]["code"].as_str().map(str::to_owned),
        }
    }

    /// A 429 `rate_limited` with a positive `Retry-After`.
    fn assert_limited(&self) {
        assert_eq!(self.status, StatusCode::TOO_MANY_REQUESTS, "{self:?}");
        assert_eq!(self.code.as_deref(), Some("rate_limited"), "{self:?}");
        assert!(self.retry_after.is_some_and(|s| s >= 1), "{self:?}");
    }
}

const PER_ACCOUNT: &[&str] = &[
    "--login-failures-per-account",
    "3",
    "--login-failures-per-ip",
    "100",
];

async fn failed_logins_are_limited_per_account(s: &TestServer) {
    s.register("ada").await;
    s.register("bob").await;
    // Successful logins do not count.
    for _ in 0..5 {
        assert_eq!(
            login(s, "ada", "password-123", None).await.status,
            StatusCode::OK
        );
    }
    for _ in 0..3 {
        let r = login(s, "ADA", "wrong-password", None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    }
    // The account is limited whatever the case of its name and the password.
    login(s, "ada", "wrong-password", None)
        .await
        .assert_limited();
    login(s, "Ada", "password-123", None).await.assert_limited();
    // Other accounts, from the same address, are not.
    assert_eq!(
        login(s, "bob", "password-123", None).await.status,
        StatusCode::OK
    );
}
backend_tests!(failed_logins_are_limited_per_account: PER_ACCOUNT);

const PER_IP: &[&str] = &[
    "--login-failures-per-ip",
    "4",
    "--login-failures-per-account",
    "100",
];

async fn failed_logins_are_limited_per_address(s: &TestServer) {
    s.register("ada").await;
    for n in 0..4 {
        let r = login(s, &format!("nobody{n}"), "wrong-password", None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    }
    login(s, "nobody9", "wrong-password", None)
        .await
        .assert_limited();
    login(s, "ada", "password-123", None).await.assert_limited();
}
backend_tests!(failed_logins_are_limited_per_address: PER_IP);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_gets_401_or_429_and_the_server_still_answers() {
    let args = [
        "--password-hash-concurrency",
        "1",
        "--password-hash-queue",
        "1",
        "--login-failures-per-ip",
        "0",
        "--login-failures-per-account",
        "0",
    ];
    with_server(Backend::Sqlite, &args, async |s: &TestServer| {
        s.register("ada").await;
        let attempts = (0..64).map(|_| login(s, "ada", "wrong-password", None));
        let replies = futures_util::future::join_all(attempts).await;
        let mut limited = 0;
        for r in &replies {
            match r.status {
                StatusCode::UNAUTHORIZED => {}
                StatusCode::TOO_MANY_REQUESTS => {
                    r.assert_limited();
                    limited += 1;
                }
                other => panic!("a flooded login got {other}: {r:?}"),
            }
        }
        // One thread and one queue slot cannot take 64 hashes at once.
        assert!(limited > 0, "{replies:?}");
        let health = s.call(Method::GET, "/healthz", None, None).await;
        assert_eq!(health.status, StatusCode::OK);
        assert_eq!(
            login(s, "ada", "password-123", None).await.status,
            StatusCode::OK
        );
    })
    .await;
}

const SIGNUPS: &[&str] = &["--signups-per-ip", "3"];

async fn sign_ups_are_limited_per_address(s: &TestServer) {
    // Refused sign-ups (a bad name) do not count.
    assert_eq!(
        register(s, "..", &[]).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    for n in 0..3 {
        assert_eq!(
            register(s, &format!("user{n}"), &[]).await.status,
            StatusCode::CREATED
        );
    }
    register(s, "user9", &[]).await.assert_limited();
    // An admin can still create accounts.
    let admin = login_token(s, "user0").await;
    let r = s
        .call(
            Method::POST,
            "/api/v1/users",
            Some(json!({"name": "made-by-admin", "password": "password-123"})),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
}
backend_tests!(sign_ups_are_limited_per_address: SIGNUPS);

async fn login_token(s: &TestServer, name: &str) -> String {
    let r = s
        .call(
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({"name": name, "password": "password-123"})),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    let trusted = [
        "--signups-per-ip",
        "1",
        "--trusted-proxies",
        "127.0.0.0/8,::1",
    ];
    with_server(Backend::Sqlite, &trusted, async |s: &TestServer| {
        let xff = |ip: &'static str| [("x-forwarded-for", ip)];
        assert_eq!(
            register(s, "a1", &xff("203.0.113.1")).await.status,
            StatusCode::CREATED
        );
        register(s, "a2", &xff("203.0.113.1"))
            .await
            .assert_limited();
        // Another client behind the same proxy has its own budget.
        assert_eq!(
            register(s, "a3", &xff("203.0.113.2")).await.status,
            StatusCode::CREATED
        );
        let forwarded = [("forwarded", "for=\"[2001:db8::7]:4711\";proto=https")];
        assert_eq!(
            register(s, "a4", &forwarded).await.status,
            StatusCode::CREATED
        );
        // The same /64.
        let same_net = [("forwarded", "for=\"[2001:db8::8]\"")];
        register(s, "a5", &same_net).await.assert_limited();
    })
    .await;
    let untrusted = ["--signups-per-ip", "1"];
    with_server(Backend::Sqlite, &untrusted, async |s: &TestServer| {
        let xff = |ip: &'static str| [("x-forwarded-for", ip)];
        assert_eq!(
            register(s, "b1", &xff("203.0.113.1")).await.status,
            StatusCode::CREATED
        );
        // Headers from an untrusted peer are ignored: it is one client.
        register(s, "b2", &xff("203.0.113.2"))
            .await
            .assert_limited();
    })
    .await;
}

async fn names_that_are_not_safe_path_segments_are_refused(s: &TestServer) {
    for name in [".", "..", "...", "a/b", "%2e", "%2e%2e", "a\\b", "a b"] {
        let r = register(s, name, &[]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {r:?}");
        assert_eq!(r.code.as_deref(), Some("invalid"), "{name}");
    }
    // An invitation code longer than the schema allows is refused even
    // where sign-up is open and the code is not needed.
    let body = json!({"name": "coded", "password": "password-123", "invitation": "0".repeat(65)});
    let r = s
        .call(Method::POST, "/api/v1/auth/register", Some(body), None)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    let (admin, _) = s.register("admin").await;
    for name in [".", ".."] {
        let r = s
            .call(
                Method::POST,
                "/api/v1/users",
                Some(json!({"name": name})),
                Some(&admin),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {:?}",
            r.body
        );
    }
    assert_eq!(
        register(s, ".dot.name", &[]).await.status,
        StatusCode::CREATED
    );
}
backend_tests!(names_that_are_not_safe_path_segments_are_refused);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_json_keys_are_refused() {
    with_server(Backend::Sqlite, &[], async |s: &TestServer| {
        let (token, _) = s.register("ada").await;
        let raw = |path: &str, body: &'static str| {
            s.raw(
                s.request(Method::POST, path)
                    .header("content-type", "application/json")
                    .body(body),
            )
        };
        let r: Reply = raw(
            "/api/v1/auth/register",
            r#"{"name":"eve","name":"ada","password":"password-123"}"#,
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
        assert_eq!(r.code(), "malformed_body");
        assert!(r.body["error"]["message"].as_str().unwrap().contains("duplicate key"));
        let r = s
            .raw(
                s.request(Method::PATCH, "/api/v1/users/me")
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(r#"{"profile_links":[{"name":"a","name":"b","url":"https://x.example"}]}"#),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
        assert_eq!(r.code(), "malformed_body");
        // Distinct keys still pass.
        let r = raw("/api/v1/auth/login", r#"{"name":"ada","password":"password-123"}"#).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);

        let mut ws = WsClient::connect(s, &token).await;
        let frame = r#"{"type":"message.send","id":"d1","data":{"conversation":"00000000-0000-0000-0000-000000000000","body":"a","body":"b"}}"#;
        ws.send_raw(Message::Text(frame.into())).await;
        let reply = ws.next_reply().await;
        assert_eq!(reply["type"], "error", "{reply}");
        assert_eq!(reply["id"], "d1");
        assert_eq!(reply["error"]["code"], "malformed_frame", "{reply}");
        let frame = r#"{"type":"presence.set","type":"message.send","id":"d2","data":{}}"#;
        ws.send_raw(Message::Text(frame.into())).await;
        let reply = ws.next_reply().await;
        assert_eq!(reply["error"]["code"], "malformed_frame", "{reply}");
        ws.close().await;
    })
    .await;
}

async fn invite_only_sign_up_takes_a_use_of_a_code(s: &TestServer) {
    let sign_up = |name: &str, code: Option<&str>| {
        let mut body = json!({"name": name, "password": "password-123"});
        if let Some(code) = code {
            body["invitation"] = json!(code);
        }
        s.call(Method::POST, "/api/v1/auth/register", Some(body), None)
    };
    let r = sign_up("a1", None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    assert_eq!(
        sign_up("a1", Some("bogus")).await.status,
        StatusCode::FORBIDDEN
    );
    // The first code comes from the CLI's path (a service principal).
    let cli = confab::chat::principal::Principal::Service {
        subject: "cli".into(),
    };
    let first = s
        .state
        .chat
        .create_invitation(
            &cli,
            confab::chat::invitations::NewInvitation {
                max_uses: 2,
                expires_in_s: None,
            },
        )
        .await
        .unwrap();
    let r = sign_up("a1", Some(&first.code)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let admin = r.body["access_token"].as_str().unwrap().to_owned();
    // A bad name is refused before a use is taken.
    assert_eq!(
        sign_up("..", Some(&first.code)).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let r = sign_up("a2", Some(&first.code)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let user = r.body["access_token"].as_str().unwrap().to_owned();
    let r = sign_up("a3", Some(&first.code)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "used up: {:?}", r.body);

    // Admins make codes over REST; users may not.
    let new = json!({"max_uses": 1, "expires_in_s": 3600});
    let path = "/api/v1/admin/invitations";
    let r = s
        .call(Method::POST, path, Some(new.clone()), Some(&user))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = s.call(Method::POST, path, Some(new), Some(&admin)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let second = r.body["code"].as_str().unwrap().to_owned();
    assert!(r.body["expires_at"].is_string());
    // A sign-up that fails (a taken name) gives its use back.
    assert_eq!(
        sign_up("A2", Some(&second)).await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        sign_up("a4", Some(&second)).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        sign_up("a5", Some(&second)).await.status,
        StatusCode::FORBIDDEN
    );
    let list = s.get(path, &admin).await;
    assert_eq!(list.status, StatusCode::OK);
    let uses: Vec<(String, u64)> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["code"].as_str().unwrap().to_owned(),
                i["uses"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(uses.contains(&(first.code.clone(), 2)), "{uses:?}");
    assert!(uses.contains(&(second.clone(), 1)), "{uses:?}");
    let r = s
        .call(
            Method::DELETE,
            &format!("{path}/{second}"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = s
        .call(
            Method::DELETE,
            &format!("{path}/{second}"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
backend_tests!(invite_only_sign_up_takes_a_use_of_a_code: &["--registration", "invite"]);
