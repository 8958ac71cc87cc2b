//! The Fedify peer as the tests drive it: starts `peer.mjs` on the Node 22
//! installed beside it, next to one Confab instance ([`Solo`]); reads its
//! records and asks it to send through its control API (`/_test/…`).

use crate::rig::{eventually, Solo};
use serde_json::Value;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The Fedify peer process and a client that reaches it.
pub struct Peer {
    process: Child,
    addr: SocketAddr,
    pub client: reqwest::Client,
}

fn peer_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("federation-tests/fedify")
}

/// Node 22 from `npm ci` in the peer's directory; `None` (reported loudly)
/// when it is not installed outside CI.
fn node() -> Option<PathBuf> {
    let node = peer_dir().join("node_modules/.bin/node");
    let installed = node.exists() && peer_dir().join("node_modules/@fedify/fedify").exists();
    if installed {
        return Some(node);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the Fedify peer is required in CI: run `npm ci` in federation-tests/fedify"
    );
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED: the Fedify peer is not installed (run `npm ci` in federation-tests/fedify) ***\n"
    );
    None
}

impl Peer {
    pub fn host(&self) -> String {
        format!("fedify.test:{}", self.addr.port())
    }

    pub fn actor(&self, name: &str) -> String {
        format!("http://{}/users/{name}", self.host())
    }

    pub fn handle(&self, name: &str) -> String {
        format!("@{name}@{}", self.host())
    }

    /// Asks the peer to send something (`follow`, `dm`, `block`, `unblock`).
    pub async fn send(&self, what: &str, body: Value) -> Value {
        let response = self
            .client
            .post(format!("http://{}/_test/{what}", self.host()))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let value: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "peer {what} {body}: {value}");
        value
    }

    /// One of the peer's records (`received`, `inbox-posts`, `outgoing`,
    /// `locked-fetches`, `log`).
    pub async fn records(&self, which: &str) -> Vec<Value> {
        let value: Value = self
            .client
            .get(format!("http://{}/_test/{which}", self.host()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        value.as_array().unwrap().clone()
    }

    /// What the peer saw and did, for failure messages.
    pub async fn report(&self) -> String {
        let mut out = String::new();
        for which in ["inbox-posts", "outgoing", "log"] {
            let records = self.records(which).await;
            let tail = &records[records.len().saturating_sub(30)..];
            out.push_str(&format!(
                "\n--- peer {which} ---\n{}\n",
                serde_json::to_string_pretty(tail).unwrap()
            ));
        }
        out
    }

    /// Waits until the peer's inbox accepted (verified) an activity for
    /// which `pred` holds; panics with the peer's records otherwise.
    pub async fn received(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..200 {
            if let Some(found) = self.records("received").await.into_iter().find(&pred) {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the peer never accepted {what}; what it saw:{}",
            self.report().await
        );
    }

    /// The knocks (scheme, status) of the peer's POSTs of `activity` to
    /// `inbox`, once one was answered 2xx.
    pub async fn knocks(&self, activity: &str) -> Vec<(String, u64)> {
        for _ in 0..200 {
            let knocks: Vec<(String, u64)> = self
                .records("outgoing")
                .await
                .into_iter()
                .filter(|r| r["method"] == "POST" && r["activity"]["id"] == activity)
                .map(|r| {
                    (
                        r["scheme"].as_str().unwrap_or("").to_owned(),
                        r["status"].as_u64().unwrap_or(0),
                    )
                })
                .collect();
            if knocks.iter().any(|(_, s)| (200..300).contains(s)) {
                return knocks;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "Confab never accepted the peer's {activity}:{}",
            self.report().await
        );
    }

    /// Asserts the double knock: every refused knock was answered 401 (so
    /// Fedify tried the other scheme) and the last was accepted; the first
    /// delivery to Confab's host starts with RFC 9421 (later ones start with
    /// the scheme that worked). Returns the accepted scheme.
    pub async fn accepted_scheme(&self, activity: &str, first_to_host: bool) -> String {
        let knocks = self.knocks(activity).await;
        if first_to_host {
            assert_eq!(knocks[0].0, "rfc9421", "first knock: {knocks:?}");
        }
        let last = knocks.last().unwrap();
        assert!((200..300).contains(&last.1), "{knocks:?}");
        for (scheme, status) in &knocks[..knocks.len() - 1] {
            assert_eq!(
                *status,
                401,
                "a refused {scheme} knock is answered 401 (so peers retry): {knocks:?}{}",
                self.report().await
            );
        }
        let _ = writeln!(
            std::io::stderr(),
            "fedify knocks for {activity}: {knocks:?}"
        );
        last.0.clone()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A Confab instance that resolves `fedify.test`, and the peer (with
/// `first_knock` as its first signature scheme, RFC 9421 by default). Bind
/// them in this order, so that the peer stops first.
pub async fn start(first_knock: Option<&str>) -> Option<(Solo, Peer)> {
    let node = node()?;
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let solo = Solo::start(&[("fedify.test", addr)]).await;
    let mut command = Command::new(node);
    command
        .current_dir(peer_dir())
        .arg("peer.mjs")
        .arg(addr.port().to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(spec) = first_knock {
        command.env("FEDIFY_FIRST_KNOCK", spec);
    }
    let peer = Peer {
        process: command.spawn().unwrap(),
        addr,
        client: solo.client.clone(),
    };
    eventually("the Fedify peer to listen", || async {
        peer.client
            .get(format!("http://{}/_test/health", peer.host()))
            .send()
            .await
            .ok()
            .filter(|r| r.status().is_success())
    })
    .await;
    Some((solo, peer))
}

/// Writes what Fedify sent into `$CONFAB_FEDIFY_CAPTURE/fedify-<name>-captured.json`
/// when that variable names a directory (to refresh the fixtures).
pub fn capture(name: &str, value: &Value) {
    if let Some(dir) = std::env::var_os("CONFAB_FEDIFY_CAPTURE") {
        let path = PathBuf::from(dir).join(format!("fedify-{name}-captured.json"));
        let text = serde_json::to_string_pretty(value).unwrap() + "\n";
        std::fs::write(path, text).unwrap();
    }
}

/// The peer's POST of the activity `id` (or, without one, its last POST of
/// an activity of `kind`), as it went on the wire.
pub async fn sent_by_peer(peer: &Peer, kind: &str, id: Option<&Value>) -> Value {
    for _ in 0..200 {
        let found = peer.records("outgoing").await.into_iter().rev().find(|r| {
            r["method"] == "POST"
                && r["activity"]["type"] == kind
                && id.is_none_or(|id| r["activity"]["id"] == *id)
        });
        if let Some(found) = found {
            return found["activity"].clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the peer sent no {kind}:{}", peer.report().await)
}
