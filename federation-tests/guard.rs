//! The outgoing guard with the rig's allowance off: a real `confab` with
//! `federation_allow_private = false` faces hostile actors whose ids,
//! inboxes, shared inboxes, key ids and icons name a loopback "canary"
//! port, spelled as an address (`127.0.0.1`, `2130706433`,
//! `[::ffff:127.0.0.1]`, `0x7f000001`) or as a name (`localhost`). The
//! canary counts connections: there must be none, while each hostile
//! request gets a clear 4xx and each delivery a failed state that says
//! why (`address not allowed: ...`), not what the remote wrote.
//!
//! With the allowance off this Confab can fetch nothing on loopback, so
//! the known hostile actors are written into its database first, as rows
//! stored before the same-host rule existed (or fetched when their names
//! resolved elsewhere) would be. Unknown ones come through the inbox.

use crate::ws_client::{WsClient, WsServer};
use confab::apub::signing::Signer;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A loopback listener that only counts the connections it accepts.
struct Canary {
    port: u16,
    seen: Arc<AtomicUsize>,
}

impl Canary {
    async fn start() -> Canary {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                drop(socket);
            }
        });
        Canary { port, seen }
    }

    fn connections(&self) -> usize {
        self.seen.load(Ordering::SeqCst)
    }
}

/// One `confab` with the allowance off, at `guarded.test:port`.
struct Guarded {
    addr: SocketAddr,
    database_url: String,
    process: Child,
    /// Resolves `guarded.test` to the instance.
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl WsServer for Guarded {
    fn ws_base(&self) -> String {
        format!("ws://{}", self.addr)
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Guarded {
    async fn start() -> Guarded {
        let dir = tempfile::tempdir().unwrap();
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let database_url = format!("sqlite://{}", dir.path().join("guarded.db").display());
        let host = format!("guarded.test:{}", addr.port());
        let process = Command::new(env!("CARGO_BIN_EXE_confab"))
            .args(["--bind", &addr.to_string(), "--domain", &host])
            .args(["--public-scheme", "http", "--database-url", &database_url])
            .args(["--federation-allow-private", "false"])
            .args(["--federation-retry-base-s", "1", "--log", "warn"])
            .env_remove("DATABASE_URL")
            .env_remove("CONFAB_DATABASE_URL")
            .env_remove("CONFAB_FEDERATION_ALLOW_PRIVATE")
            .env_remove("CONFAB_FEDERATION_RESOLVE")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let client = reqwest::Client::builder()
            .resolve("guarded.test", addr)
            .build()
            .unwrap();
        let guarded = Guarded {
            addr,
            database_url,
            process,
            client,
            _dir: dir,
        };
        for _ in 0..300 {
            if let Ok(r) = guarded.client.get(guarded.url("/healthz")).send().await {
                assert!(r.status().is_success());
                return guarded;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the guarded instance did not come up");
    }

    fn url(&self, path: &str) -> String {
        format!("http://guarded.test:{}{path}", self.addr.port())
    }

    async fn register(&self, name: &str) -> String {
        let body: Value = self
            .client
            .post(self.url("/api/v1/auth/register"))
            .json(&json!({"name": name, "password": "password-123"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    async fn get(&self, token: &str, path: &str) -> Value {
        let response = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    /// Writes a remote actor row, as an earlier fetch would have stored it.
    async fn store_actor(&self, actor: &Hostile) {
        let db = confab::db::Db::connect(&self.database_url, 1)
            .await
            .unwrap();
        let id = url::Url::parse(&actor.id).unwrap();
        let host = confab::apub::objects::person::host_with_port(&id);
        let now = chrono::Utc::now().naive_utc();
        let row = confab::db::users::UserRow {
            id: confab::db::ids::UserId::new(),
            name: format!("{}@{host}", actor.name),
            display_name: actor.name.to_owned(),
            bio: String::new(),
            avatar_url: None,
            role: "user".into(),
            password_hash: None,
            external_subject: None,
            public_key_pem: Some(actor.public_pem.clone()),
            private_key_pem: None,
            domain: Some(host),
            ap_id: Some(actor.id.clone()),
            inbox: Some(actor.inbox.clone()),
            shared_inbox: Some(actor.shared_inbox.clone()),
            fetched_at: Some(now),
            created_at: now,
            updated_at: now,
            profile_links: "[]".into(),
            ed25519_key_id: None,
            ed25519_public_key: None,
            ed25519_private_key: None,
            suspended_at: None,
            token_generation: 0,
            share_presence_remote: true,
            share_read_receipts: true,
        };
        confab::db::users::upsert_remote(&mut db.write().await.unwrap(), &row)
            .await
            .unwrap();
    }

    /// POSTs `activity` to `path`, signed with `key` as `key_id`.
    async fn signed_post(
        &self,
        path: &str,
        pem: &str,
        key_id: &str,
        activity: &Value,
    ) -> (StatusCode, Value) {
        let signer = Signer::default();
        let key = signer.key(key_id, pem).unwrap();
        let url = url::Url::parse(&self.url(path)).unwrap();
        let body = activity.to_string();
        let headers = signer
            .sign_post(&key, key_id, &url, body.as_bytes())
            .unwrap();
        let request = self
            .client
            .post(url)
            .header("content-type", "application/activity+json")
            .body(body);
        let response = headers.apply(request).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// A hostile actor: its id and inboxes (all on the canary's port).
struct Hostile {
    name: &'static str,
    id: String,
    inbox: String,
    shared_inbox: String,
    public_pem: String,
    private_pem: String,
}

impl Hostile {
    fn new(name: &'static str, origin: &str, shared_inbox: String) -> Hostile {
        let (public_pem, private_pem) = confab::apub::keys::generate_keypair().unwrap();
        let id = format!("{origin}/users/{name}");
        Hostile {
            name,
            inbox: format!("{id}/inbox"),
            id,
            shared_inbox,
            public_pem,
            private_pem,
        }
    }

    fn key_id(&self) -> String {
        format!("{}#main-key", self.id)
    }

    fn activity(&self, n: u32, kind: &str, object: Value) -> Value {
        let origin = self.id.rsplit_once("/users/").unwrap().0;
        json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": format!("{origin}/activities/{}/{n}", self.name),
            "type": kind,
            "actor": self.id,
            "object": object,
        })
    }

    /// Its actor document, with `changes` applied over the stored values.
    fn person(&self, changes: Value) -> Value {
        let mut person = json!({
            "id": self.id,
            "type": "Person",
            "preferredUsername": self.name,
            "inbox": self.inbox,
            "endpoints": {"sharedInbox": self.shared_inbox},
            "publicKey": {"id": self.key_id(), "owner": self.id, "publicKeyPem": self.public_pem},
        });
        for (key, value) in changes.as_object().unwrap() {
            person[key] = value.clone();
        }
        person
    }
}

/// The hostile actor invites ada; ada accepts; ada writes to it. Returns
/// the message's delivery entries once every one has been tried.
async fn contact_and_message(
    canary: &Canary,
    guarded: &Guarded,
    ada: &mut WsClient,
    ada_token: &str,
    ada_id: &str,
    actor: &Hostile,
) -> Vec<Value> {
    let follow = actor.activity(1, "Follow", json!(ada_id));
    let (status, body) = guarded
        .signed_post(
            "/users/ada/inbox",
            &actor.private_pem,
            &actor.key_id(),
            &follow,
        )
        .await;
    assert_eq!(status, 202, "{}: {body}", actor.name);
    let invitation = ada
        .push_where("contact.updated", |c| c["state"] == "pending_incoming")
        .await;
    let user = invitation["user"].as_str().unwrap().to_owned();
    ada.ok("contact.accept", json!({"user": user})).await;
    let conversation = ada.push("conversation.created").await;
    let sent = ada
        .ok(
            "message.send",
            json!({"conversation": conversation["id"], "body": "hello"}),
        )
        .await;
    let path = format!(
        "/api/v1/messages/{}/deliveries",
        sent["id"].as_str().unwrap()
    );
    let deliveries = crate::rig::eventually("the delivery to be tried", || async {
        let deliveries = guarded.get(ada_token, &path).await;
        let all = deliveries.as_array().unwrap().clone();
        let tried = |d: &Value| d["attempts"].as_i64().unwrap_or(0) > 0;
        (!all.is_empty() && all.iter().all(tried)).then_some(all)
    })
    .await;
    assert_eq!(
        canary.connections(),
        0,
        "Confab connected to the canary delivering to {}",
        actor.name
    );
    deliveries
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_actor_documents_make_confab_connect_nowhere() {
    let canary = Canary::start().await;
    let port = canary.port;
    let guarded = Guarded::start().await;
    let ada_token = guarded.register("ada").await;
    let mut ada = WsClient::connect(&guarded, &ada_token).await;
    let ada_id = guarded.url("/users/ada");

    // Unknown actors whose ids (and so key ids) name the canary: they
    // cannot be read, so the activity is refused with 401.
    for origin in [
        format!("https://127.0.0.1:{port}"),
        format!("https://2130706433:{port}"),
        format!("https://0x7f000001:{port}"),
        format!("https://[::ffff:127.0.0.1]:{port}"),
        format!("https://localhost:{port}"),
        "https://127.0.0.1".to_owned(),
        "https://localhost".to_owned(),
    ] {
        let stranger = Hostile::new("stranger", &origin, format!("{origin}/inbox"));
        let follow = stranger.activity(1, "Follow", json!(ada_id));
        let (status, body) = guarded
            .signed_post("/inbox", &stranger.private_pem, &stranger.key_id(), &follow)
            .await;
        assert_eq!(status, 401, "{origin}: {body}");
        assert_eq!(body["error"]["code"], "signature_invalid", "{origin}");
    }
    // Looking such users up is refused too.
    for handle in [
        format!("@someone@127.0.0.1:{port}"),
        format!("@someone@localhost:{port}"),
        "@someone@2130706433".to_owned(),
    ] {
        let reply = ada.call("user.lookup", json!({"handle": handle})).await;
        let code = reply["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            code == "refused" || code == "not_found",
            "{handle}: {reply}"
        );
    }

    // Known actors on the canary's host, whose shared inboxes are an
    // address in decimal, an IPv4-mapped IPv6 address (a row stored before
    // inboxes had to be on the actor's host), and a name for loopback.
    let mallory = Hostile::new(
        "mallory",
        &format!("https://127.0.0.1:{port}"),
        format!("http://2130706433:{port}/inbox"),
    );
    let mapped = Hostile::new(
        "mapped",
        &format!("https://127.0.0.1:{port}"),
        format!("http://[::ffff:127.0.0.1]:{port}/inbox"),
    );
    let named = Hostile::new(
        "named",
        &format!("https://localhost:{port}"),
        format!("https://localhost:{port}/inbox"),
    );
    for actor in [&mallory, &mapped, &named] {
        guarded.store_actor(actor).await;
    }
    for (actor, reason) in [
        (&mallory, "address not allowed: 127.0.0.1 is loopback"),
        (&mapped, "address not allowed: ::ffff:127.0.0.1 is loopback"),
        (&named, "address not allowed: localhost is loopback"),
    ] {
        let deliveries =
            contact_and_message(&canary, &guarded, &mut ada, &ada_token, &ada_id, actor).await;
        assert_eq!(deliveries.len(), 1, "{}", actor.name);
        assert_eq!(deliveries[0]["state"], "failed", "{}", actor.name);
        let error = deliveries[0]["last_error"].as_str().unwrap();
        assert!(error.starts_with(reason), "{}: {error}", actor.name);
        assert_eq!(deliveries[0]["attempts"], 1, "refused for good at once");
    }

    // mallory moves its inboxes elsewhere: refused (400), nothing stored.
    for (n, changes) in [
        json!({"endpoints": {"sharedInbox": "http://10.0.0.1/inbox"}}),
        json!({"endpoints": {"sharedInbox": format!("http://[::ffff:127.0.0.1]:{port}/inbox")}}),
        json!({"inbox": format!("http://localhost:{port}/inbox")}),
        json!({"inbox": "http://169.254.169.254/latest/meta-data/"}),
    ]
    .into_iter()
    .enumerate()
    {
        let update = mallory.activity(10 + n as u32, "Update", mallory.person(changes.clone()));
        let (status, body) = guarded
            .signed_post("/inbox", &mallory.private_pem, &mallory.key_id(), &update)
            .await;
        assert_eq!(status, 400, "{changes}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not on its own server"),
            "{body}"
        );
    }
    // On its own host, with an icon and a key id on the canary: accepted,
    // and none of them is fetched.
    let update = mallory.activity(
        20,
        "Update",
        mallory.person(json!({
            "icon": {"type": "Image", "url": format!("http://127.0.0.1:{port}/icon.png")},
            "inbox": format!("https://127.0.0.1:{port}/users/mallory/inbox"),
        })),
    );
    let (status, body) = guarded
        .signed_post("/inbox", &mallory.private_pem, &mallory.key_id(), &update)
        .await;
    assert_eq!(status, 202, "{body}");

    // Let any retry or refetch fall due, then count.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(canary.connections(), 0, "Confab connected to the canary");
}

/// The canary does count: an ordinary client reaches it (so the zero above
/// is not an artefact of the listener).
#[tokio::test]
async fn the_canary_counts_connections() {
    let canary = Canary::start().await;
    let _ = reqwest::get(format!("http://127.0.0.1:{}/", canary.port)).await;
    crate::rig::eventually("the canary to count", || async {
        (canary.connections() == 1).then_some(())
    })
    .await;
}
