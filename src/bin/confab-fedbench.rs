//! `confab-fedbench`: federation throughput between two real Confab
//! processes on this machine (alpha and beta, each on its own SQLite file,
//! each with its own host name).
//!
//! 1. **Signed deliveries**: `--senders` users on alpha (ada1, ada2, …,
//!    each a contact of bob on beta, each on their own WebSocket) send
//!    `--messages` direct messages to bob between them, each as fast as
//!    alpha acknowledges; the figure is messages per second from the first
//!    send until alpha has recorded every delivery as `delivered` (alpha
//!    signs and posts, beta verifies and stores).
//! 2. **Inbox**: the bench signs `--activities` distinct `Create{Note}`s as
//!    bob (with bob's real key), then posts them to alpha's shared inbox,
//!    `--concurrency` at a time; the figure is activities verified and stored
//!    per second.
//! 3. **Signing alone**: RSA-2048 draft-cavage and Ed25519 RFC 9421
//!    signatures per second on one core (aws-lc-rs).
//!
//! Runs 1 and 2 are made once per `--scheme`: `cavage` (RSA-2048,
//! draft-cavage: alpha started with `--federation-rfc9421 false`, the bench
//! signs with bob's RSA key) and `rfc9421` (Ed25519, RFC 9421: what two
//! Confab servers use), each on fresh instances.
//!
//!   cargo build --release --bins && target/release/confab-fedbench

use clap::Parser;
use confab::apub::signing::Signer;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser, Debug)]
#[command(
    name = "confab-fedbench",
    about = "Federation throughput between two Confab processes"
)]
struct Args {
    /// The confab binary to run (a release build).
    #[arg(long, default_value = "target/release/confab")]
    confab: String,
    /// Direct messages for the delivery run.
    #[arg(long, default_value_t = 5000)]
    messages: usize,
    /// Users on alpha who send the direct messages, each on their own
    /// WebSocket (a session answers its requests one at a time, so one
    /// sender measures the latency of one message's path, not the server;
    /// 16 senders still leave alpha waiting on their round trips, 64 do not).
    #[arg(long, default_value_t = 64)]
    senders: usize,
    /// Activities for the inbox run.
    #[arg(long, default_value_t = 5000)]
    activities: usize,
    /// Inbox requests in flight.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Requests in flight per host when alpha delivers (Confab's default).
    #[arg(long, default_value_t = 32)]
    host_concurrency: usize,
    /// Signature schemes to measure: `cavage`, `rfc9421` or both.
    #[arg(long, value_delimiter = ',', default_value = "cavage,rfc9421")]
    scheme: Vec<Scheme>,
}

/// How deliveries and inbox activities are signed.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Scheme {
    /// draft-cavage, RSA-2048.
    Cavage,
    /// RFC 9421, Ed25519.
    Rfc9421,
}

type Failure = Box<dyn std::error::Error + Send + Sync>;
type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Instance {
    name: &'static str,
    addr: SocketAddr,
    database_url: String,
    process: Child,
}

impl Instance {
    fn base(&self) -> String {
        format!("http://{}.test:{}", self.name, self.addr.port())
    }

    /// CPU seconds the process has used so far (Linux).
    fn cpu_s(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.process.id()))
            .unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
            f.iter().filter_map(|t| t.parse::<f64>().ok()).sum()
        });
        ticks / 100.0
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn free_addr() -> Result<SocketAddr, Failure> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("confab-fedbench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut result = Ok(());
    for (i, scheme) in args.scheme.iter().enumerate() {
        println!("== {scheme:?}");
        let dir = dir.join(i.to_string());
        std::fs::create_dir_all(&dir)?;
        result = run(&args, &dir, *scheme).await;
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() {
        signing();
    }
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run(args: &Args, dir: &std::path::Path, scheme: Scheme) -> Result<(), Failure> {
    let names = ["alpha", "beta"];
    let addrs = [free_addr()?, free_addr()?];
    let resolve = names.map(|n| format!("{n}.test=127.0.0.1")).join(",");
    let mut client = reqwest::Client::builder();
    let mut instances = vec![];
    for (name, addr) in names.into_iter().zip(addrs) {
        client = client.resolve(&format!("{name}.test"), addr);
        let database_url = format!("sqlite://{}", dir.join(format!("{name}.db")).display());
        let process = Command::new(&args.confab)
            .args([
                "--bind",
                &addr.to_string(),
                "--domain",
                &format!("{name}.test:{}", addr.port()),
            ])
            .args(["--public-scheme", "http", "--database-url", &database_url])
            .args([
                "--federation-allow-private",
                "true",
                "--federation-resolve",
                &resolve,
            ])
            .args([
                "--federation-host-concurrency",
                &args.host_concurrency.to_string(),
            ])
            .args(["--ws-requests-per-s", "100000", "--log", "warn"])
            // Every bench client comes from 127.0.0.1.
            .args(["--max-connections-per-ip", "0", "--signups-per-ip", "0"])
            .args([
                "--federation-rfc9421",
                if scheme == Scheme::Rfc9421 {
                    "true"
                } else {
                    "false"
                },
            ])
            .env_remove("DATABASE_URL")
            .env_remove("CONFAB_DATABASE_URL")
            .stdout(Stdio::null())
            .spawn()?;
        instances.push(Instance {
            name,
            addr,
            database_url,
            process,
        });
    }
    let client = client.build()?;
    for instance in &instances {
        wait_up(&client, instance).await?;
    }
    let (alpha, beta) = (&instances[0], &instances[1]);
    let bob = register(&client, beta, "bob").await?;
    let mut bob_ws = connect(beta, &bob).await?;
    let mut senders = vec![];
    for i in 1..=args.senders.max(1) {
        let ada = register(&client, alpha, &format!("ada{i}")).await?;
        let mut ada_ws = connect(alpha, &ada).await?;
        let conversation = make_contacts(&mut ada_ws, &mut bob_ws, beta).await?;
        senders.push((ada_ws, conversation));
    }
    drop(bob_ws);
    // Each sender's first federated message makes their keys: not part of
    // the steady state being measured.
    for (socket, conversation) in &mut senders {
        let warm_up = json!({"conversation": conversation, "body": "warm-up"});
        request(socket, "message.send", warm_up).await?;
    }

    deliveries(args, alpha, beta, senders).await?;
    inbox(args, &client, alpha, beta, scheme).await?;
    Ok(())
}

async fn wait_up(client: &reqwest::Client, instance: &Instance) -> Result<(), Failure> {
    for _ in 0..300 {
        if client
            .get(format!("{}/healthz", instance.base()))
            .send()
            .await
            .is_ok()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{} did not start", instance.name).into())
}

async fn register(
    client: &reqwest::Client,
    instance: &Instance,
    name: &str,
) -> Result<String, Failure> {
    let body: Value = client
        .post(format!("{}/api/v1/auth/register", instance.base()))
        .json(&json!({"name": name, "password": "password-123"}))
        .send()
        .await?
        .json()
        .await?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("register: {body}").into())
}

async fn connect(instance: &Instance, token: &str) -> Result<Socket, Failure> {
    let mut request = format!("ws://{}/api/v1/ws", instance.addr).into_client_request()?;
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("confab.v1, {token}").parse()?,
    );
    Ok(tokio_tungstenite::connect_async(request).await?.0)
}

/// The next frame whose `type` is `kind` (others are skipped).
async fn next_of(socket: &mut Socket, kind: &str) -> Result<Value, Failure> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await?
            .ok_or("socket closed")??;
        if let Message::Text(text) = message {
            let frame: Value = serde_json::from_str(&text)?;
            if frame["type"] == kind {
                return Ok(frame);
            }
        }
    }
}

async fn request(socket: &mut Socket, kind: &str, data: Value) -> Result<Value, Failure> {
    socket
        .send(Message::Text(
            json!({"type": kind, "id": kind, "data": data})
                .to_string()
                .into(),
        ))
        .await?;
    loop {
        let frame = next_of(socket, "result").await;
        match frame {
            Ok(frame) if frame["id"] == kind => return Ok(frame["data"].clone()),
            Ok(_) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Makes ada and bob contacts; returns ada's direct conversation id.
async fn make_contacts(
    ada: &mut Socket,
    bob: &mut Socket,
    beta: &Instance,
) -> Result<String, Failure> {
    let handle = format!("@bob@beta.test:{}", beta.addr.port());
    request(ada, "contact.invite", json!({"user": handle})).await?;
    // Bob's own earlier accepts also come as `contact.updated`: wait for
    // the invitation.
    let invite = loop {
        let update = next_of(bob, "contact.updated").await?;
        if update["data"]["state"] == "pending_incoming" {
            break update;
        }
    };
    request(
        bob,
        "contact.accept",
        json!({"user": invite["data"]["user"]}),
    )
    .await?;
    let conversation = next_of(ada, "conversation.created").await?;
    conversation["data"]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "no conversation".into())
}

async fn delivered(instance: &Instance) -> Result<i64, Failure> {
    in_state(instance, "delivered").await
}

async fn in_state(instance: &Instance, state: &str) -> Result<i64, Failure> {
    let db = confab::db::Db::connect(&instance.database_url, 1).await?;
    let n = confab::db::deliveries::count_in_state(&mut db.read().await?, state).await?;
    Ok(n)
}

async fn deliveries(
    args: &Args,
    alpha: &Instance,
    beta: &Instance,
    senders: Vec<(Socket, String)>,
) -> Result<(), Failure> {
    // The warm-up messages are delivered before the count starts.
    while in_state(alpha, "queued").await? > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = delivered(alpha).await?;
    let cpu = (alpha.cpu_s(), beta.cpu_s());
    let start = Instant::now();
    let count = senders.len();
    let n = args.messages / count * count;
    let mut tasks = vec![];
    for (socket, conversation) in senders {
        tasks.push(tokio::spawn(send_all(socket, conversation, n / count)));
    }
    for task in tasks {
        task.await??;
    }
    let acked_at = start.elapsed();
    loop {
        let done = delivered(alpha).await? - before;
        if done >= n as i64 {
            break;
        }
        if start.elapsed() > Duration::from_secs(600) {
            return Err(format!("only {done} of {n} delivered").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let (alpha_cpu, beta_cpu) = (alpha.cpu_s() - cpu.0, beta.cpu_s() - cpu.1);
    println!("signed deliveries alpha -> beta: {n} messages from {count} senders");
    println!(
        "  acknowledged to the senders in {:.2} s ({:.0}/s)",
        acked_at.as_secs_f64(),
        n as f64 / acked_at.as_secs_f64()
    );
    println!(
        "  all delivered in {elapsed:.2} s: {:.0} deliveries/s",
        n as f64 / elapsed
    );
    println!(
        "  CPU: alpha {:.2} ms, beta {:.2} ms per message",
        alpha_cpu * 1000.0 / n as f64,
        beta_cpu * 1000.0 / n as f64
    );
    Ok(())
}

/// Sends `n` direct messages on one socket as fast as they are
/// acknowledged, writing ahead of the answers; returns once all are.
async fn send_all(socket: Socket, conversation: String, n: usize) -> Result<(), Failure> {
    let (mut sink, mut stream) = socket.split();
    let sender = tokio::spawn(async move {
        for i in 0..n {
            let frame = json!({"type": "message.send", "id": format!("m{i}"),
                "data": {"conversation": conversation, "body": format!("benchmark message {i}")}});
            if sink
                .feed(Message::Text(frame.to_string().into()))
                .await
                .is_err()
            {
                break;
            }
            if i % 64 == 63 {
                let _ = sink.flush().await;
            }
        }
        let _ = sink.flush().await;
        sink
    });
    let mut acked = 0;
    while acked < n {
        let text = match stream.next().await {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(_)) => continue,
            _ => return Err(format!("socket closed after {acked} of {n} answers").into()),
        };
        let frame: Value = serde_json::from_str(&text)?;
        match frame["type"].as_str() {
            Some("result") => acked += 1,
            Some("error") => return Err(format!("send failed: {frame}").into()),
            _ => {}
        }
    }
    let _ = sender.await;
    Ok(())
}

async fn inbox(
    args: &Args,
    client: &reqwest::Client,
    alpha: &Instance,
    beta: &Instance,
    scheme: Scheme,
) -> Result<(), Failure> {
    let db = confab::db::Db::connect(&beta.database_url, 1).await?;
    let bob = confab::db::users::find_by_name(&mut db.read().await?, "bob")
        .await?
        .ok_or("no bob")?;
    let pem = bob.private_key_pem.ok_or("bob has no key")?;
    let ed25519 = confab::apub::keys::ed25519_signing_key(
        &confab::apub::keys::ensure_ed25519(&db, bob.id).await?.1,
    )?;
    let bob_id = format!("{}/users/bob", beta.base());
    let ada_id = format!("{}/users/ada1", alpha.base());
    let inbox = url::Url::parse(&format!("{}/inbox", alpha.base()))?;
    let signer = Signer::default();
    let key = signer.key(&bob_id, &pem)?;
    let key_id = format!("{bob_id}#main-key");
    let signing = Instant::now();
    let mut requests = Vec::with_capacity(args.activities);
    for i in 0..args.activities {
        let note = format!("{bob_id}/bench/{i}");
        let body = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{note}/activity"), "type": "Create", "actor": bob_id,
            "object": {"id": note, "type": "Note", "attributedTo": bob_id, "to": [ada_id],
                       "content": format!("<p>inbox benchmark {i}</p>")}
        })
        .to_string();
        let headers = match scheme {
            Scheme::Cavage => {
                let h = signer.sign_post(&key, &key_id, &inbox, body.as_bytes())?;
                vec![
                    ("date", h.date),
                    ("digest", h.digest.unwrap_or_default()),
                    ("signature", h.signature),
                ]
            }
            Scheme::Rfc9421 => {
                let h = confab::apub::rfc9421::sign(
                    &ed25519,
                    &confab::apub::keys::ed25519_key_id(&bob_id),
                    reqwest::Method::POST,
                    &inbox,
                    Some(body.as_bytes()),
                )?;
                vec![
                    ("content-digest", h.content_digest.unwrap_or_default()),
                    ("signature-input", h.signature_input.to_str()?.to_owned()),
                    ("signature", h.signature.to_str()?.to_owned()),
                ]
            }
        };
        requests.push((body, headers));
    }
    let signing = signing.elapsed().as_secs_f64();
    let cpu = alpha.cpu_s();
    let start = Instant::now();
    let queue = Arc::new(tokio::sync::Mutex::new(requests));
    let mut workers = vec![];
    for _ in 0..args.concurrency {
        let (queue, client, inbox) = (queue.clone(), client.clone(), inbox.clone());
        workers.push(tokio::spawn(async move {
            let mut refused = 0usize;
            loop {
                let Some((body, h)) = queue.lock().await.pop() else {
                    break;
                };
                let mut request = client
                    .post(inbox.clone())
                    .header("content-type", "application/activity+json")
                    .body(body);
                for (name, value) in h {
                    request = request.header(name, value);
                }
                let response = request.send().await;
                if !response.is_ok_and(|r| r.status() == 202) {
                    refused += 1;
                }
            }
            refused
        }));
    }
    let mut refused = 0;
    for worker in workers {
        refused += worker.await?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let n = args.activities;
    println!(
        "inbox (alpha): {n} signed Create{{Note}} activities, {} in flight",
        args.concurrency
    );
    println!(
        "  signed by the bench in {signing:.2} s ({:.0}/s on one core)",
        n as f64 / signing
    );
    println!(
        "  verified and stored in {elapsed:.2} s: {:.0} activities/s, {refused} refused",
        n as f64 / elapsed
    );
    println!(
        "  CPU: alpha {:.2} ms per activity",
        (alpha.cpu_s() - cpu) * 1000.0 / n as f64
    );
    if refused > 0 {
        return Err(format!("{refused} activities were refused").into());
    }
    Ok(())
}

fn signing() {
    let Ok((_, pem)) = confab::apub::keys::generate_keypair() else {
        return;
    };
    let signer = Signer::default();
    let Ok(key) = signer.key("bench", &pem) else {
        return;
    };
    let Ok(inbox) = url::Url::parse("https://peer.example/inbox") else {
        return;
    };
    let body = vec![b'x'; 1000];
    let n = 2000;
    let start = Instant::now();
    for _ in 0..n {
        let _ = signer.sign_post(
            &key,
            "https://bench.example/users/b#main-key",
            &inbox,
            &body,
        );
    }
    let s = start.elapsed().as_secs_f64();
    println!(
        "signing alone, RSA-2048 draft-cavage: {:.0} signatures/s on one core ({:.0} us each)",
        n as f64 / s,
        s * 1e6 / n as f64
    );
    let Ok(ed25519) = confab::apub::keys::generate_ed25519()
        .map_err(|e| e.to_string())
        .and_then(|(_, private)| {
            confab::apub::keys::ed25519_signing_key(&private).map_err(|e| e.to_string())
        })
    else {
        return;
    };
    let n = 20_000;
    let start = Instant::now();
    for _ in 0..n {
        let _ = confab::apub::rfc9421::sign(
            &ed25519,
            "https://bench.example/users/b#ed25519-key",
            reqwest::Method::POST,
            &inbox,
            Some(&body),
        );
    }
    let s = start.elapsed().as_secs_f64();
    println!(
        "signing alone, Ed25519 RFC 9421: {:.0} signatures/s on one core ({:.1} us each)",
        n as f64 / s,
        s * 1e6 / n as f64
    );
}
