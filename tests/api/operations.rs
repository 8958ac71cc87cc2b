//! Operating Confab: health, the OpenAPI document, events on the bus, the
//! SQLite settings, the CLI, the TOML file and graceful shutdown.

use crate::backend_tests;
use crate::common::{Backend, TestServer};
use confab::chat::events::ChatEvent;
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::process::{Command, Stdio};
use std::time::Duration;

backend_tests!(
    health_reports_the_backend,
    openapi_describes_every_route,
    user_changes_are_published
);

async fn health_reports_the_backend(s: &TestServer) {
    let r = s.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "ok");
    assert_eq!(r.body["database"], s.state.chat.db().backend().name());
}

async fn openapi_describes_every_route(s: &TestServer) {
    let r = s
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let expected = [
        ("/api/v1/auth/register", vec!["post"]),
        ("/api/v1/auth/login", vec!["post"]),
        ("/api/v1/users", vec!["get", "post"]),
        (
            "/api/v1/users/{user}",
            vec!["get", "put", "patch", "delete"],
        ),
        ("/api/v1/conversations", vec!["get"]),
        ("/api/v1/conversations/{conversation}", vec!["get"]),
        ("/api/v1/conversations/{conversation}/members", vec!["get"]),
        (
            "/api/v1/conversations/{conversation}/join-requests",
            vec!["get"],
        ),
        ("/api/v1/conversations/{conversation}/messages", vec!["get"]),
        ("/api/v1/join-requests", vec!["get"]),
        ("/api/v1/contacts", vec!["get"]),
        ("/api/v1/blocks", vec!["get"]),
        ("/api/v1/messages/{message}/deliveries", vec!["get"]),
        ("/api/v1/admin/instance-blocks", vec!["get", "post"]),
        ("/api/v1/admin/instance-blocks/{domain}", vec!["delete"]),
        ("/api/v1/admin/federation/hosts", vec!["get"]),
        ("/api/v1/admin/invitations", vec!["get", "post"]),
        ("/api/v1/admin/invitations/{code}", vec!["delete"]),
        ("/healthz", vec!["get"]),
    ];
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(
        paths.len(),
        expected.len(),
        "documented: {:?}",
        paths.keys().collect::<Vec<_>>()
    );
    for (path, methods) in expected {
        for method in methods {
            let op = &doc["paths"][path][method];
            assert!(op.is_object(), "{method} {path} is not documented");
            if path.starts_with("/api/v1/") && !path.starts_with("/api/v1/auth") {
                assert!(
                    op["responses"]["401"].is_object(),
                    "{method} {path} lacks 401"
                );
                assert_eq!(op["security"][0]["bearer"], json!([]));
            }
        }
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let name = &doc["components"]["schemas"]["Registration"]["properties"]["name"];
    assert_eq!(
        name["pattern"],
        "^[A-Za-z0-9_.-]*[A-Za-z0-9_-][A-Za-z0-9_.-]*$"
    );
    for path in ["/api/v1/auth/register", "/api/v1/auth/login"] {
        let limited = &doc["paths"][path]["post"]["responses"]["429"];
        assert!(
            limited["headers"]["Retry-After"].is_object(),
            "{path}: {limited}"
        );
    }
}

async fn user_changes_are_published(s: &TestServer) {
    let mut events = s.state.chat.events().subscribe();
    let (token, id) = s.register("evented").await;
    s.call(
        Method::PATCH,
        "/api/v1/users/me",
        Some(json!({"bio": "x"})),
        Some(&token),
    )
    .await;
    s.call(Method::DELETE, "/api/v1/users/me", None, Some(&token))
        .await;
    let user = confab::db::ids::UserId(id.parse().unwrap());
    let mut got = vec![];
    for _ in 0..3 {
        got.push(
            tokio::time::timeout(Duration::from_secs(5), events.recv())
                .await
                .unwrap()
                .unwrap(),
        );
    }
    assert_eq!(
        got,
        [
            ChatEvent::UserCreated { user },
            ChatEvent::UserUpdated { user },
            ChatEvent::UserDeleted { user }
        ]
    );
}

#[derive(QueryableByName)]
struct Pragma {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

/// Every SQLite connection runs in WAL mode with foreign keys on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_connections_use_wal_and_foreign_keys() {
    let s = TestServer::start(Backend::Sqlite, &[]).await.unwrap();
    for conn in [
        s.state.chat.db().read().await.unwrap(),
        s.state.chat.db().write().await.unwrap(),
    ] {
        let mut conn = conn;
        let journal: Pragma = confab::with_conn!(conn, |c| {
            diesel::sql_query("SELECT journal_mode AS value FROM pragma_journal_mode")
                .get_result(c)
                .await
        })
        .unwrap();
        assert_eq!(journal.value, "wal");
        let fk: Pragma = confab::with_conn!(conn, |c| {
            diesel::sql_query("SELECT CAST(foreign_keys AS TEXT) AS value FROM pragma_foreign_keys")
                .get_result(c)
                .await
        })
        .unwrap();
        assert_eq!(fk.value, "1");
    }
    s.stop().await;
}

fn confab_bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_confab"));
    cmd.env_remove("DATABASE_URL")
        .env_remove("CONFAB_DATABASE_URL")
        .env("CONFAB_LOG", "warn");
    cmd
}

#[test]
fn help_lists_every_setting_with_its_variable() {
    let out = confab_bin().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for var in [
        "CONFAB_CONFIG",
        "CONFAB_BIND",
        "CONFAB_DOMAIN",
        "CONFAB_DATABASE_URL",
        "CONFAB_DATABASE_POOL_SIZE",
        "CONFAB_LOG",
        "CONFAB_JWT_SECRET",
        "CONFAB_TOKEN_TTL_S",
        "CONFAB_REGISTRATION_OPEN",
        "CONFAB_ADMINS",
        "CONFAB_AUTH_JWT_ALGORITHM",
        "CONFAB_AUTH_JWT_KEY",
        "CONFAB_AUTH_JWT_ISSUER",
        "CONFAB_AUTH_JWT_AUDIENCE",
        "CONFAB_AUTH_NAME_CLAIM",
        "CONFAB_MAX_BODY_BYTES",
        "CONFAB_SHUTDOWN_TIMEOUT_S",
        "CONFAB_MAX_MESSAGE_CHARS",
        "CONFAB_GAME_INVITE_TTL_S",
        "CONFAB_MAX_SESSIONS_PER_USER",
        "CONFAB_MAX_FRAME_BYTES",
        "CONFAB_WS_REQUESTS_PER_S",
        "CONFAB_SESSION_QUEUE",
        "CONFAB_PUBLIC_SCHEME",
    ] {
        assert!(help.contains(var), "--help lacks {var}");
    }
    assert!(help.contains("[default: 127.0.0.1:8080]"));
    for sub in ["serve", "migrate", "user"] {
        assert!(help.contains(sub));
    }
}

#[test]
fn cli_migrate_and_user_commands() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cli.db").display());
    let run = |args: &[&str]| {
        let out = confab_bin()
            .arg("--database-url")
            .arg(&url)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(run(&["migrate"]).contains("migrations applied"));
    assert!(run(&[
        "user",
        "create",
        "--name",
        "zed",
        "--password",
        "password-123",
        "--admin"
    ])
    .contains("created zed"));
    run(&[
        "user",
        "create",
        "--name",
        "amy",
        "--password",
        "password-123",
    ]);
    let list = run(&["user", "list"]);
    let lines: Vec<_> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(
        lines[0].starts_with("amy\t") && lines[0].ends_with("User"),
        "{list}"
    );
    assert!(
        lines[1].starts_with("zed\t") && lines[1].ends_with("Admin"),
        "{list}"
    );
    // A duplicate is refused with a clear message and a failing exit code.
    let out = confab_bin()
        .args([
            "--database-url",
            &url,
            "user",
            "create",
            "--name",
            "ZED",
            "--password",
            "password-123",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("taken"));
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `confab` with a TOML file and environment overrides serves, then stops
/// cleanly on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_from_a_config_file_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("confab.toml");
    std::fs::write(
        &config,
        format!(
            "bind = \"127.0.0.1:1\"\ndatabase_url = \"sqlite://{}\"\nregistration_open = false\n",
            dir.path().join("file.db").display()
        ),
    )
    .unwrap();
    let mut child = confab_bin()
        .arg("--config")
        .arg(&config)
        .env("CONFAB_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut healthy = false;
    for _ in 0..100 {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            healthy = r.status() == StatusCode::OK;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(healthy, "the server did not come up");
    let r = client
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({"name": "x", "password": "password-123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "registration_open = false from the file applies"
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut exited = None;
    for _ in 0..100 {
        if let Some(code) = child.try_wait().unwrap() {
            exited = Some(code);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    assert!(exited.expect("no exit after SIGTERM").success());
}
