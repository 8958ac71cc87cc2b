//! A real Confab server per test, on SQLite or PostgreSQL.

use confab::config::Cli;
use confab::state::AppState;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::io::Write;
use tokio::sync::oneshot;

/// The PostgreSQL server tests create their databases on.
fn postgres_admin_url() -> String {
    std::env::var("CONFAB_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs `$test(&TestServer)` once per backend, as `<name>::sqlite` and
/// `<name>::postgres`; `name: &["--flag", "value"]` starts the servers
/// with those arguments.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident $(: $args:expr)?),* $(,)?) => {$(
        mod $name {
            // The arguments may name constants of the calling module.
            #[allow(unused_imports)]
            use super::*;
            use $crate::common::{Backend, TestServer};

            const ARGS: &[&str] = $crate::server_args!($($args)?);

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(server) = TestServer::start(Backend::Sqlite, ARGS).await {
                    super::$name(&server).await;
                    server.stop().await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(server) = TestServer::start(Backend::Postgres, ARGS).await {
                    super::$name(&server).await;
                    server.stop().await;
                }
            }
        }
    )*};
}

/// The server arguments of a `backend_tests!` entry: none, or the given ones.
#[macro_export]
macro_rules! server_args {
    () => {
        &[]
    };
    ($args:expr) => {
        $args
    };
}

/// Starts a server on `backend` with `args`, runs `test` on it, stops it
/// (nothing when PostgreSQL does not answer outside CI).
pub async fn with_server(backend: Backend, args: &[&str], test: impl AsyncFnOnce(&TestServer)) {
    if let Some(s) = TestServer::start(backend, args).await {
        test(&s).await;
        s.stop().await;
    }
}

/// A running server and an HTTP client for it.
pub struct TestServer {
    pub base: String,
    pub state: AppState,
    client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    postgres_db: Option<String>,
    _dir: tempfile::TempDir,
}

/// A response: status and parsed JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub content_type: Option<String>,
}

impl Reply {
    /// The machine code of an error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"]
            .as_str()
            .unwrap_or("<no error code>")
    }
}

impl TestServer {
    /// Starts a server with extra command-line `args`. `None` when the
    /// backend is PostgreSQL and it does not answer outside CI (reported
    /// loudly); in CI that is a failure.
    pub async fn start(backend: Backend, args: &[&str]) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let (url, postgres_db) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", dir.path().join("confab.db").display()),
                None,
            ),
            Backend::Postgres => {
                let (url, name) = create_postgres_database().await?;
                (url, Some(name))
            }
        };
        // Media of PostgreSQL servers would otherwise go to the working
        // directory.
        let media = dir.path().join("media").display().to_string();
        let mut argv = vec![
            "confab",
            "--bind",
            "127.0.0.1:0",
            "--domain",
            "confab.test",
            "--log",
            "warn",
            "--database-url",
            &url,
            "--media-dir",
            &media,
        ];
        argv.extend_from_slice(args);
        let cli = Cli::load_from(argv).unwrap();
        let state = AppState::build(cli.config).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(confab::server::serve(listener, state.clone(), async {
            let _ = rx.await;
        }));
        Some(Self {
            base,
            state,
            client: reqwest::Client::new(),
            shutdown: Some(tx),
            task,
            postgres_db,
            _dir: dir,
        })
    }

    /// Stops the server and drops its PostgreSQL database.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        (&mut self.task).await.unwrap().unwrap();
        if let Some(db) = self.postgres_db.take() {
            drop(self.state);
            let mut admin = AsyncPgConnection::establish(&postgres_admin_url())
                .await
                .unwrap();
            admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                .await
                .unwrap();
        }
    }

    /// Sends a request with an optional JSON body and bearer token.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        reply(req.send().await.unwrap()).await
    }

    /// The server's socket address.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.base.trim_start_matches("http://").parse().unwrap()
    }

    /// Sends a raw request (for malformed input).
    pub async fn raw(&self, req: reqwest::RequestBuilder) -> Reply {
        reply(req.send().await.unwrap()).await
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, None, Some(token)).await
    }

    /// Registers `name` with a fixed password; returns (token, user id).
    pub async fn register(&self, name: &str) -> (String, String) {
        let r = self
            .call(
                Method::POST,
                "/api/v1/auth/register",
                Some(serde_json::json!({"name": name, "password": "password-123"})),
                None,
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "register {name}: {:?}",
            r.body
        );
        (
            r.body["access_token"].as_str().unwrap().to_owned(),
            r.body["user"]["id"].as_str().unwrap().to_owned(),
        )
    }
}

async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = resp.bytes().await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
    };
    Reply {
        status,
        body,
        content_type,
    }
}

async fn create_postgres_database() -> Option<(String, String)> {
    let admin_url = postgres_admin_url();
    let mut admin = match AsyncPgConnection::establish(&admin_url).await {
        Ok(conn) => conn,
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("PostgreSQL at {admin_url} is required in CI: {e}")
        }
        Err(e) => {
            // Written to stderr directly: libtest captures only the print macros.
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: PostgreSQL at {admin_url} does not answer ({e}); only SQLite was tested ***\n"
            );
            return None;
        }
    };
    let name = format!("confab_test_{}", uuid::Uuid::new_v4().simple());
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b)
        .unwrap_or(&admin_url);
    Some((format!("{base}/{name}"), name))
}

impl crate::ws_client::WsServer for TestServer {
    fn ws_base(&self) -> String {
        self.base.replace("http://", "ws://")
    }
}

/// A registered user with one open session.
pub struct Person {
    pub token: String,
    pub id: String,
    pub ws: crate::ws_client::WsClient,
}

/// Registers `name` on `s` and opens a session for them.
pub async fn person(s: &TestServer, name: &str) -> Person {
    let (token, id) = s.register(name).await;
    let ws = crate::ws_client::WsClient::connect(s, &token).await;
    Person { token, id, ws }
}

/// The message `id` of a history page.
pub fn message_in<'a>(page: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .unwrap()
}

/// The remote user `eve@remote.example`, stored as federation stores an
/// actor it fetched (no request to any server).
pub async fn remote_eve(s: &TestServer) -> confab::db::users::UserRow {
    let now = chrono::Utc::now().naive_utc();
    let row = confab::db::users::UserRow {
        id: confab::db::ids::UserId::new(),
        name: "eve@remote.example".into(),
        display_name: "Eve".into(),
        bio: String::new(),
        avatar_url: None,
        profile_links: "[]".into(),
        role: "user".into(),
        password_hash: None,
        external_subject: None,
        public_key_pem: None,
        private_key_pem: None,
        created_at: now,
        updated_at: now,
        domain: Some("remote.example".into()),
        ap_id: Some("https://remote.example/users/eve".into()),
        inbox: Some("https://remote.example/users/eve/inbox".into()),
        shared_inbox: None,
        fetched_at: Some(now),
        ed25519_key_id: None,
        ed25519_public_key: None,
        ed25519_private_key: None,
        suspended_at: None,
        token_generation: 0,
        share_presence_remote: true,
        share_read_receipts: true,
    };
    let mut conn = s.state.chat.db().write().await.unwrap();
    confab::db::users::upsert_remote(&mut conn, &row)
        .await
        .unwrap()
}
