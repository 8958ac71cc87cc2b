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
        ("/api/v1/account/password", vec!["post"]),
        ("/api/v1/account/sessions/revoke", vec!["post"]),
        ("/api/v1/account/settings", vec!["get", "patch"]),
        ("/api/v1/admin/users/{user}/password", vec!["put"]),
        (
            "/api/v1/admin/users/{user}/suspension",
            vec!["post", "delete"],
        ),
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
        ("/api/v1/conversations/{conversation}/pins", vec!["get"]),
        ("/api/v1/conversations/{conversation}/read-by", vec!["get"]),
        ("/api/v1/join-requests", vec!["get"]),
        ("/api/v1/contacts", vec!["get"]),
        ("/api/v1/blocks", vec!["get"]),
        ("/api/v1/search", vec!["get"]),
        ("/api/v1/media", vec!["post"]),
        ("/api/v1/sticker-packs", vec!["get"]),
        ("/api/v1/admin/sticker-packs", vec!["post"]),
        ("/api/v1/admin/sticker-packs/{id}", vec!["put", "delete"]),
        ("/api/v1/admin/sticker-packs/{id}/stickers", vec!["post"]),
        ("/api/v1/admin/stickers/{id}", vec!["delete"]),
        ("/api/v1/messages/{message}/deliveries", vec!["get"]),
        ("/api/v1/admin/instance-blocks", vec!["get", "post"]),
        ("/api/v1/admin/instance-blocks/{domain}", vec!["delete"]),
        ("/api/v1/admin/federation/hosts", vec!["get"]),
        ("/api/v1/admin/invitations", vec!["get", "post"]),
        ("/api/v1/admin/invitations/{code}", vec!["delete"]),
        ("/api/v1/admin/ip-rules", vec!["get", "post"]),
        ("/api/v1/admin/ip-rules/{id}", vec!["delete"]),
        ("/api/v1/reports", vec!["get", "post"]),
        ("/api/v1/admin/reports", vec!["get"]),
        ("/api/v1/admin/reports/{report}", vec!["get"]),
        ("/api/v1/admin/reports/{report}/resolve", vec!["post"]),
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
    for schema in ["Message", "Reaction", "Pins", "Pin"] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "schema {schema} missing"
        );
    }
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
        lines[0].starts_with("amy\t") && lines[0].ends_with("\tuser\tactive"),
        "{list}"
    );
    assert!(
        lines[1].starts_with("zed\t") && lines[1].ends_with("\tadmin\tactive"),
        "{list}"
    );
    assert!(run(&["user", "role", "amy", "moderator"]).contains("amy is now moderator"));
    assert!(
        run(&["user", "list"]).contains("amy\t") && run(&["user", "list"]).contains("\tmoderator")
    );
    let out = confab_bin()
        .args(["--database-url", &url, "user", "role", "amy", "Admin"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "a capitalised role is refused");
    assert!(run(&[
        "ip-rule",
        "add",
        "--scope",
        "signup",
        "--action",
        "allow",
        "--cidr",
        "10.1.0.0/16",
        "--note",
        "office"
    ])
    .contains("added rule 1: signup allow 10.1.0.0/16"));
    assert_eq!(
        run(&["ip-rule", "list"]),
        "1\tsignup\tallow\t10.1.0.0/16\toffice\n"
    );
    assert!(run(&["ip-rule", "remove", "1"]).contains("removed rule 1"));
    assert_eq!(run(&["ip-rule", "list"]), "");
    assert!(run(&["user", "suspend", "amy"]).contains("suspended amy"));
    // amy is a moderator since `user role` above.
    let list = run(&["user", "list"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("amy\t") && l.ends_with("\tmoderator\tsuspended")),
        "{list}"
    );
    assert!(run(&["user", "unsuspend", "amy"]).contains("reinstated amy"));
    assert!(run(&["user", "password", "amy", "--password", "another-pass-1"]).contains("amy"));
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

/// Runs `confab` with `args` (and `env`) and returns its exit code and
/// stderr; `migrate` needs nothing but the configuration and the database.
fn failing_start(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let out = confab_bin()
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.stdout.is_empty(), "stdout: {:?}", out.stdout);
    (out.status.code().unwrap_or(-1), stderr)
}

/// Each message is printed once, and names the problem.
fn assert_once(stderr: &str, needle: &str) {
    assert_eq!(stderr.matches(needle).count(), 1, "{stderr}");
}

#[test]
fn a_missing_sqlite_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir");
    let url = format!("sqlite://{}", missing.join("confab.db").display());
    let (code, stderr) = failing_start(&["--database-url", &url, "migrate"], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_once(
        &stderr,
        &format!("the directory {} does not exist", missing.display()),
    );
    assert!(!stderr.contains("Timed out"), "{stderr}");
    assert!(!missing.exists());
}

#[test]
fn a_closed_postgres_port_is_named() {
    let port = free_port().to_string();
    let url = format!("postgres://postgres@127.0.0.1:{port}/test");
    let (code, stderr) = failing_start(&["--database-url", &url, "migrate"], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_once(
        &stderr,
        &format!("cannot open PostgreSQL database \"test\" on 127.0.0.1:{port}"),
    );
    assert!(
        stderr.contains("nothing accepts connections there"),
        "{stderr}"
    );
    assert!(stderr.contains("Connection refused"), "{stderr}");
}

#[test]
fn a_postgres_database_that_does_not_exist_is_named() {
    let admin = std::env::var("CONFAB_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path("confab_no_such_database");
    let (code, stderr) = failing_start(&["--database-url", url.as_str(), "migrate"], &[]);
    if stderr.contains("nothing accepts connections") {
        assert!(
            std::env::var_os("CI").is_none(),
            "PostgreSQL does not answer: {stderr}"
        );
        eprintln!("SKIPPED: PostgreSQL does not answer at {admin}");
        return;
    }
    assert_eq!(code, 1, "{stderr}");
    assert_once(&stderr, "the database does not exist: create it");
    assert!(stderr.contains("\"confab_no_such_database\""), "{stderr}");
}

#[test]
fn a_bad_environment_variable_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("env.db").display());
    let (code, stderr) = failing_start(
        &["--database-url", &url, "migrate"],
        &[("CONFAB_MAX_MESSAGE_CHARS", "lots")],
    );
    assert_eq!(code, 2, "{stderr}");
    assert_once(
        &stderr,
        "invalid value 'lots' for the environment variable CONFAB_MAX_MESSAGE_CHARS",
    );
    assert!(!stderr.contains("--max-message-chars"), "{stderr}");
    // Nothing was opened.
    assert!(!dir.path().join("env.db").exists());
}

#[test]
fn the_log_goes_to_stderr_and_can_be_json() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("log.db").display());
    let out = confab_bin()
        .args([
            "--database-url",
            &url,
            "--log",
            "info",
            "--log-format",
            "json",
        ])
        .args(["user", "list"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stdout.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    let records: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        records
            .iter()
            .any(|r| r["fields"]["message"] == "database ready"),
        "{stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "no colour codes: {stderr}");
}

/// `confab backup` copies a running server's SQLite database; a second
/// server started on the copy has its accounts (and its token secret: the
/// old token still works).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_a_running_server_serves_the_same_data() {
    let s = TestServer::start(Backend::Sqlite, &[]).await.unwrap();
    let (token, id) = s.register("ada").await;
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    let out = confab_bin()
        .args(["--database-url", &s.state.config.database_url, "backup"])
        .arg(&copy)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("backed up to"));
    // A second backup to the same file is refused, and the copy kept.
    let again = confab_bin()
        .args(["--database-url", &s.state.config.database_url, "backup"])
        .arg(&copy)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));

    let port = free_port();
    let mut child = confab_bin()
        .args([
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--domain",
            "confab.test",
        ])
        .arg("--database-url")
        .arg(format!("sqlite://{}", copy.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut me = None;
    for _ in 0..100 {
        if let Ok(r) = client
            .get(format!("{base}/api/v1/users/me"))
            .bearer_auth(&token)
            .send()
            .await
        {
            me = Some((r.status(), r.json::<serde_json::Value>().await.unwrap()));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let (status, body) = me.expect("the server on the copy did not come up");
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], id.as_str());
    assert_eq!(body["name"], "ada");
    s.stop().await;
}

#[test]
fn backup_refuses_postgres_and_names_pg_dump() {
    let admin = std::env::var("CONFAB_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("pg.db");
    let out = confab_bin()
        .args(["--database-url", &admin, "backup"])
        .arg(&copy)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("nothing accepts connections") {
        assert!(std::env::var_os("CI").is_none(), "{stderr}");
        eprintln!("SKIPPED: PostgreSQL does not answer at {admin}");
        return;
    }
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("pg_dump"), "{stderr}");
    assert!(!copy.exists());
}

/// The scripts find the binaries cargo built wherever cargo put them
/// (`CARGO_TARGET_DIR` honoured): none names `target/debug` or
/// `target/release` itself, and `scripts/target-dir` follows the variable.
#[test]
fn scripts_find_binaries_in_cargos_target_directory() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut scripts: Vec<std::path::PathBuf> = std::fs::read_dir(format!("{root}/scripts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    scripts.push(format!("{root}/.ci/run").into());
    for path in scripts {
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split('#').next().unwrap_or_default();
            assert!(
                !code.contains("target/debug") && !code.contains("target/release"),
                "{}:{}: a hard-coded target directory: {line}",
                path.display(),
                n + 1
            );
        }
    }
    let elsewhere = tempfile::tempdir().unwrap();
    let out = Command::new(format!("{root}/scripts/target-dir"))
        .env("CARGO_TARGET_DIR", elsewhere.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        elsewhere.path().to_str().unwrap()
    );
}
