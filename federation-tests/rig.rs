//! The test rig: three `confab` processes with distinct host names.

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use serde_json::{json, Value};
use std::io::Write;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Instance {
    name: &'static str,
    addr: SocketAddr,
    process: Child,
    client: reqwest::Client,
}

impl Instance {
    /// `name.test:port`: the host part of every URL this instance makes.
    pub fn host(&self) -> String {
        format!("{}.test:{}", self.name, self.addr.port())
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.host())
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
        let mut instances = vec![];
        for (name, url) in [
            (
                "alpha",
                format!("sqlite://{}", dir.path().join("alpha.db").display()),
            ),
            (
                "beta",
                format!("sqlite://{}", dir.path().join("beta.db").display()),
            ),
            ("gamma", format!("{base}/{postgres_db}")),
        ] {
            let addr = free_addr();
            let host = format!("{name}.test:{}", addr.port());
            let process = Command::new(env!("CARGO_BIN_EXE_confab"))
                .args([
                    "--bind",
                    &addr.to_string(),
                    "--domain",
                    &host,
                    "--public-scheme",
                    "http",
                ])
                .args(["--database-url", &url, "--log", "warn"])
                .env_remove("DATABASE_URL")
                .env_remove("CONFAB_DATABASE_URL")
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap();
            builder = builder.resolve(&format!("{name}.test"), addr);
            instances.push((name, addr, process));
        }
        let client = builder.build().unwrap();
        let instances: Vec<Instance> = instances
            .into_iter()
            .map(|(name, addr, process)| Instance {
                name,
                addr,
                process,
                client: client.clone(),
            })
            .collect();
        for instance in &instances {
            let mut up = false;
            for _ in 0..150 {
                if let Ok(r) = client
                    .get(format!("{}/healthz", instance.base()))
                    .send()
                    .await
                {
                    up = r.status().is_success();
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(up, "{} did not come up", instance.name);
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
            let _ = instance.process.kill();
            let _ = instance.process.wait();
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
            let _ = instance.process.kill();
        }
    }
}
