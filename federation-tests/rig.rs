//! The test rig: three `confab` processes with distinct host names
//! (`alpha.test`, `beta.test`, `gamma.test`, all 127.0.0.1), each with its
//! own database (gamma on PostgreSQL), federating with each other; or
//! one of them alone ([`Solo`]) facing another implementation.

use crate::ws_client::{WsClient, WsServer};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::Write;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const NAMES: [&str; 3] = ["alpha", "beta", "gamma"];

pub struct Instance {
    pub name: &'static str,
    addr: SocketAddr,
    pub database_url: String,
    /// `--federation-resolve`: the `*.test` names this instance reaches.
    resolve: String,
    process: Option<Child>,
    client: reqwest::Client,
}

impl WsServer for Instance {
    fn ws_base(&self) -> String {
        format!("ws://{}", self.addr)
    }
}

impl Instance {
    /// `name.test:port`: the host part of every URL this instance makes.
    pub fn host(&self) -> String {
        format!("{}.test:{}", self.name, self.addr.port())
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.host())
    }

    /// `@user@host` of one of this instance's users.
    pub fn handle(&self, user: &str) -> String {
        format!("@{user}@{}", self.host())
    }

    fn spawn(&mut self) {
        let resolve = &self.resolve;
        let process = Command::new(env!("CARGO_BIN_EXE_confab"))
            .args(["--bind", &self.addr.to_string(), "--domain", &self.host()])
            .args([
                "--public-scheme",
                "http",
                "--database-url",
                &self.database_url,
            ])
            .args([
                "--federation-allow-private",
                "true",
                "--federation-resolve",
                resolve,
            ])
            .args(["--federation-retry-base-s", "1", "--log", "warn"])
            .args(["--federation-presence-refresh-s", "2"])
            .env_remove("DATABASE_URL")
            .env_remove("CONFAB_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        self.process = Some(process);
    }

    async fn wait_up(&self) {
        for _ in 0..300 {
            if let Ok(r) = self
                .client
                .get(format!("{}/healthz", self.base()))
                .send()
                .await
            {
                assert!(r.status().is_success(), "{} is unhealthy", self.name);
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{} did not come up", self.name);
    }

    /// Kills the process (the database stays).
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }

    /// Starts it again on the same port and database.
    pub async fn restart(&mut self) {
        self.spawn();
        self.wait_up().await;
    }

    /// Signs up `name`; returns the access token.
    pub async fn register(&self, name: &str) -> String {
        let body: Value = self
            .client
            .post(format!("{}/api/v1/auth/register", self.base()))
            .json(&json!({"name": name, "password": "password-123"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// A REST call; returns status and JSON body (`null` when empty).
    pub async fn api(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base()))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, value)
    }

    pub async fn get(&self, token: &str, path: &str) -> Value {
        let (status, body) = self.api(reqwest::Method::GET, token, path, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    pub async fn ws(&self, token: &str) -> WsClient {
        WsClient::connect(self, token).await
    }
}

pub struct Rig {
    pub instances: Vec<Instance>,
    /// Resolves every `*.test` host of the rig to 127.0.0.1.
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
    postgres_db: String,
}

fn postgres_admin_url() -> String {
    std::env::var("CONFAB_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

impl Rig {
    /// Starts alpha and beta on SQLite and gamma on PostgreSQL. `None`
    /// (reported loudly) when PostgreSQL does not answer outside CI.
    pub async fn start() -> Option<Rig> {
        let admin_url = postgres_admin_url();
        let mut admin = match AsyncPgConnection::establish(&admin_url).await {
            Ok(conn) => conn,
            Err(e) if std::env::var_os("CI").is_some() => {
                panic!("PostgreSQL is required in CI: {e}")
            }
            Err(e) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "\n*** SKIPPED: the federation rig needs PostgreSQL at {admin_url} ({e}) ***\n"
                );
                return None;
            }
        };
        let postgres_db = format!("confab_fed_{}", uuid::Uuid::new_v4().simple());
        admin
            .batch_execute(&format!("CREATE DATABASE {postgres_db}"))
            .await
            .unwrap();
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b.to_owned())
            .unwrap_or(admin_url.clone());
        let dir = tempfile::tempdir().unwrap();
        let mut builder = reqwest::Client::builder();
        let mut addrs = vec![];
        for name in NAMES {
            let addr = free_addr();
            builder = builder.resolve(&format!("{name}.test"), addr);
            addrs.push(addr);
        }
        let client = builder.build().unwrap();
        let mut instances = vec![];
        for (name, addr) in NAMES.into_iter().zip(addrs) {
            let database_url = match name {
                "gamma" => format!("{base}/{postgres_db}"),
                _ => format!(
                    "sqlite://{}",
                    dir.path().join(format!("{name}.db")).display()
                ),
            };
            let mut instance = Instance {
                name,
                addr,
                database_url,
                resolve: NAMES.map(|n| format!("{n}.test=127.0.0.1")).join(","),
                process: None,
                client: client.clone(),
            };
            instance.spawn();
            instances.push(instance);
        }
        for instance in &instances {
            instance.wait_up().await;
        }
        Some(Rig {
            instances,
            client,
            _dir: dir,
            postgres_db,
        })
    }

    /// Stops the processes and drops gamma's database.
    pub async fn stop(mut self) {
        for instance in &mut self.instances {
            instance.stop();
        }
        let mut admin = AsyncPgConnection::establish(&postgres_admin_url())
            .await
            .unwrap();
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.postgres_db
            ))
            .await
            .unwrap();
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        for instance in &mut self.instances {
            instance.stop();
        }
    }
}

/// One SQLite instance, `alpha.test`, for tests against another
/// implementation whose hosts (`name` -> its address) it also resolves.
pub struct Solo {
    pub instance: Instance,
    /// Resolves `alpha.test` and the extra hosts to their addresses.
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Solo {
    pub async fn start(extra: &[(&str, SocketAddr)]) -> Solo {
        let dir = tempfile::tempdir().unwrap();
        let addr = free_addr();
        let mut builder = reqwest::Client::builder().resolve("alpha.test", addr);
        let mut resolve = vec!["alpha.test=127.0.0.1".to_owned()];
        for (host, addr) in extra {
            builder = builder.resolve(host, *addr);
            resolve.push(format!("{host}=127.0.0.1"));
        }
        let client = builder.build().unwrap();
        let mut instance = Instance {
            name: "alpha",
            addr,
            database_url: format!("sqlite://{}", dir.path().join("alpha.db").display()),
            resolve: resolve.join(","),
            process: None,
            client: client.clone(),
        };
        instance.spawn();
        instance.wait_up().await;
        Solo {
            instance,
            client,
            _dir: dir,
        }
    }
}

impl Drop for Solo {
    fn drop(&mut self) {
        self.instance.stop();
    }
}

/// Polls `check` until it returns `Some` (federation is asynchronous).
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..200 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// ada on alpha, bob on beta and cy on gamma, signed up, each with a
/// WebSocket open.
pub struct Trio {
    pub ada_token: String,
    pub bob_token: String,
    pub cy_token: String,
    pub ada: WsClient,
    pub bob: WsClient,
    pub cy: WsClient,
}

pub async fn ada_bob_cy(rig: &Rig) -> Trio {
    let [alpha, beta, gamma] = [&rig.instances[0], &rig.instances[1], &rig.instances[2]];
    let ada_token = alpha.register("ada").await;
    let bob_token = beta.register("bob").await;
    let cy_token = gamma.register("cy").await;
    Trio {
        ada: alpha.ws(&ada_token).await,
        bob: beta.ws(&bob_token).await,
        cy: gamma.ws(&cy_token).await,
        ada_token,
        bob_token,
        cy_token,
    }
}

/// A group ada created on alpha with bob and cy: its id there, and the
/// ids of its mirrors on beta and gamma.
pub struct GroupOfThree {
    pub id: String,
    pub on_beta: String,
    pub on_gamma: String,
}

impl Trio {
    /// ada creates the group `name` with bob and cy; returns once both
    /// mirrors exist.
    pub async fn group_of_three(&mut self, rig: &Rig, name: &str) -> GroupOfThree {
        let [beta, gamma] = [&rig.instances[1], &rig.instances[2]];
        let group = self
            .ada
            .ok(
                "conversation.create",
                json!({"name": name, "members": [beta.handle("bob"), gamma.handle("cy")]}),
            )
            .await;
        GroupOfThree {
            id: id_of(&group),
            on_beta: id_of(&self.bob.push("conversation.created").await),
            on_gamma: id_of(&self.cy.push("conversation.created").await),
        }
    }
}

/// The id the server behind `client` gives to the user `handle`.
pub async fn id_on(client: &mut WsClient, handle: &str) -> String {
    id_of(&client.ok("user.lookup", json!({"handle": handle})).await)
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}
