//! `confab-bench`: a load generator that drives a running Confab over real
//! WebSockets and prints throughput and latency for three workloads:
//! 1:1 messages, one message to a large group, and history paging.
//!
//! The server must trust the bench's tokens (no password hashing per user):
//!   confab --auth-jwt-algorithm HS256 --auth-jwt-key bench-secret --auth-jwt-issuer confab-bench \
//!          --ws-requests-per-s 100000 --max-connections-per-ip 0 --signups-per-ip 0
//!   (every bench client comes from 127.0.0.1, so the per-IP cap is off)
//!   confab-bench --url ws://127.0.0.1:8080 --scenario all
//!
//! Latency is send-to-deliver: each message body carries the sender's clock
//! (one process, one clock), each receiver subtracts it on arrival.

use clap::{Parser, ValueEnum};
use futures_util::{SinkExt, StreamExt};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser, Debug)]
#[command(
    name = "confab-bench",
    about = "Load generator for a running Confab server"
)]
struct Args {
    /// WebSocket base URL of the server.
    #[arg(long, default_value = "ws://127.0.0.1:8080")]
    url: String,
    /// HS256 secret the server accepts external tokens with.
    #[arg(long, default_value = "bench-secret")]
    jwt_secret: String,
    /// `iss` the server expects of external tokens.
    #[arg(long, default_value = "confab-bench")]
    issuer: String,
    #[arg(long, value_enum, default_value = "all")]
    scenario: Scenario,
    /// 1:1: sender/receiver pairs.
    #[arg(long, default_value_t = 50)]
    pairs: usize,
    /// 1:1: messages per second over all pairs.
    #[arg(long, default_value_t = 1000)]
    rate: u64,
    /// 1:1 and history: how long to run, in seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Group: members including the sender.
    #[arg(long, default_value_t = 1000)]
    group_size: usize,
    /// Group: messages the sender sends.
    #[arg(long, default_value_t = 100)]
    group_messages: u64,
    /// Group: messages per second the sender sends.
    #[arg(long, default_value_t = 20)]
    group_rate: u64,
    /// History: messages stored before paging starts.
    #[arg(long, default_value_t = 2000)]
    history_messages: u64,
    /// History: concurrent readers, each its own session (at most the
    /// server's max_sessions_per_user minus one).
    #[arg(long, default_value_t = 10)]
    readers: usize,
    /// 1:1: a link put in every message (`<link>?n=<number>`, a new URL
    /// each time, so a server with link previews on fetches a page for
    /// every message): measures what previews cost the send path.
    #[arg(long)]
    link: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    OneToOne,
    Group,
    History,
    All,
}

/// Microseconds since the bench started: the clock carried in bodies.
fn now_us() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_micros() as u64
}

/// The send time a bench message carries at the start of its body
/// (`"body":"t=<µs>…"`).
fn sent_time(frame: &str) -> Option<u64> {
    let start = frame.find("\"body\":\"t=")? + "\"body\":\"t=".len();
    let digits = &frame[start..];
    let end = digits.find(|c: char| !c.is_ascii_digit())?;
    digits[..end].parse().ok()
}

/// A 1:1 bench message's body: the send time, and `--link` if given.
fn timed_body(link: Option<&str>, n: u64) -> String {
    match link {
        Some(link) => format!("t={} see {link}?n={n}", now_us()),
        None => format!("t={}", now_us()),
    }
}

/// Latencies (µs) of deliveries seen by receivers.
#[derive(Default)]
struct Deliveries {
    latencies: Mutex<Vec<u64>>,
}

impl Deliveries {
    fn record(&self, us: u64) {
        self.latencies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(us);
    }

    fn take(&self) -> Vec<u64> {
        std::mem::take(&mut *self.latencies.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// One authenticated WebSocket session.
struct Client {
    user: String,
    out: mpsc::UnboundedSender<String>,
    pending: Arc<Mutex<HashMap<String, oneshot::Sender<Value>>>>,
    next: AtomicU64,
}

impl Client {
    async fn connect(
        args: &Args,
        name: &str,
        deliveries: Arc<Deliveries>,
    ) -> Result<Arc<Client>, String> {
        let claims = json!({"iss": args.issuer, "sub": format!("bench-{name}"), "preferred_username": name,
                            "exp": chrono::Utc::now().timestamp() + 3600});
        let token = jsonwebtoken::encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(args.jwt_secret.as_bytes()),
        )
        .map_err(|e| e.to_string())?;
        let mut req = format!("{}/api/v1/ws", args.url)
            .into_client_request()
            .map_err(|e| e.to_string())?;
        let protocol = format!("confab.v1, {token}")
            .parse()
            .map_err(|e| format!("{e}"))?;
        req.headers_mut().insert("sec-websocket-protocol", protocol);
        let (socket, _) = tokio_tungstenite::connect_async_with_config(req, None, true)
            .await
            .map_err(|e| format!("connect {name}: {e}"))?;
        let (mut sink, mut stream) = socket.split();
        let ready = loop {
            match stream.next().await {
                Some(Ok(Message::Text(text))) => {
                    break serde_json::from_str::<Value>(&text).map_err(|e| e.to_string())?
                }
                Some(Ok(_)) => continue,
                other => return Err(format!("no session.ready for {name}: {other:?}")),
            }
        };
        let user = ready["data"]["user"]["id"]
            .as_str()
            .ok_or("session.ready without user")?
            .to_owned();
        let (out, mut rx) = mpsc::unbounded_channel::<String>();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                if sink.feed(Message::Text(first.into())).await.is_err() {
                    return;
                }
                while let Ok(more) = rx.try_recv() {
                    if sink.feed(Message::Text(more.into())).await.is_err() {
                        return;
                    }
                }
                if sink.flush().await.is_err() {
                    return;
                }
            }
        });
        let pending: Arc<Mutex<HashMap<String, oneshot::Sender<Value>>>> = Arc::default();
        let client = Arc::new(Client {
            user: user.clone(),
            out,
            pending: pending.clone(),
            next: AtomicU64::new(0),
        });
        let own_author = format!("\"author\":\"{user}\"");
        tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                // Pushes are matched as text, not parsed: at 20,000 frames/s
                // the generator must not be what limits the measurement.
                if text.starts_with("{\"type\":\"message.created\"") {
                    if !text.contains(&own_author) {
                        if let Some(sent) = sent_time(&text) {
                            deliveries.record(now_us().saturating_sub(sent));
                        }
                    }
                    continue;
                }
                let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if frame["type"] != "result" && frame["type"] != "error" {
                    continue;
                }
                let id = frame["id"].as_str().unwrap_or_default().to_owned();
                if let Some(tx) = pending
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&id)
                {
                    let _ = tx.send(frame);
                }
            }
        });
        Ok(client)
    }

    /// Sends a request and waits for its reply's data.
    async fn call(&self, kind: &str, data: Value) -> Result<Value, String> {
        let id = format!("b{}", self.next.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), tx);
        self.send(kind, &id, data)?;
        let reply = tokio::time::timeout(Duration::from_secs(60), rx)
            .await
            .map_err(|_| format!("{kind}: no reply in 60 s"))?
            .map_err(|_| format!("{kind}: connection closed"))?;
        if reply["type"] == "error" {
            return Err(format!("{kind}: {}", reply["error"]));
        }
        Ok(reply["data"].clone())
    }

    /// Sends a request without waiting for the reply.
    fn send(&self, kind: &str, id: &str, data: Value) -> Result<(), String> {
        self.out
            .send(json!({"type": kind, "id": id, "data": data}).to_string())
            .map_err(|_| "connection closed".to_owned())
    }

    fn fire(&self, kind: &str, data: Value) -> Result<(), String> {
        let id = format!("f{}", self.next.fetch_add(1, Ordering::Relaxed));
        self.send(kind, &id, data)
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx] as f64 / 1000.0
}

fn report(name: &str, mut latencies: Vec<u64>, elapsed: Duration, unit: &str) {
    latencies.sort_unstable();
    let n = latencies.len();
    println!(
        "{name}: {n} {unit} in {:.2} s = {:.0} {unit}/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
    );
}

async fn befriend(a: &Client, b: &Client) -> Result<String, String> {
    a.call("contact.invite", json!({"user": b.user})).await?;
    b.call("contact.accept", json!({"user": a.user})).await?;
    let conv = a
        .call(
            "conversation.create",
            json!({"kind": "direct", "with": b.user}),
        )
        .await?;
    conv["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "no conversation id".into())
}

/// Waits until `deliveries` holds `expected` entries or `wait` passes.
async fn drain(deliveries: &Deliveries, expected: usize, wait: Duration) {
    let until = Instant::now() + wait;
    while Instant::now() < until {
        if deliveries
            .latencies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
            >= expected
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn one_to_one(args: &Args, run: &str) -> Result<(), String> {
    let deliveries = Arc::new(Deliveries::default());
    let mut pairs = vec![];
    for i in 0..args.pairs {
        let a = Client::connect(args, &format!("{run}a{i}"), deliveries.clone()).await?;
        let b = Client::connect(args, &format!("{run}b{i}"), deliveries.clone()).await?;
        let conv = befriend(&a, &b).await?;
        pairs.push((a, conv, b));
    }
    let per_pair = (args.rate as f64 / args.pairs as f64).max(0.1);
    let started = Instant::now();
    let mut tasks = vec![];
    let period = Duration::from_secs_f64(1.0 / per_pair);
    for (i, (a, conv, _)) in pairs.iter().enumerate() {
        let (a, conv) = (a.clone(), conv.clone());
        let seconds = args.seconds;
        let link = args.link.clone();
        // Spread the senders over the period: a steady stream, not bursts.
        let offset = period.mul_f64(i as f64 / args.pairs as f64);
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + offset, period);
            let mut sent = 0u64;
            while started.elapsed() < Duration::from_secs(seconds) {
                tick.tick().await;
                let body = timed_body(link.as_deref(), (i as u64) << 32 | sent);
                let _ = a.fire("message.send", json!({"conversation": conv, "body": body}));
                sent += 1;
            }
            sent
        }));
    }
    let mut sent = 0;
    for t in tasks {
        sent += t.await.unwrap_or(0);
    }
    drain(&deliveries, sent as usize, Duration::from_secs(30)).await;
    let elapsed = started.elapsed();
    let got = deliveries.take();
    println!(
        "1:1 ({} pairs, target {} msg/s): sent {sent}, delivered {}",
        args.pairs,
        args.rate,
        got.len()
    );
    report("1:1 send-to-deliver", got, elapsed, "msg");
    Ok(())
}

async fn group(args: &Args, run: &str) -> Result<(), String> {
    let deliveries = Arc::new(Deliveries::default());
    let owner = Client::connect(args, &format!("{run}owner"), deliveries.clone()).await?;
    let mut members = vec![];
    let mut names = vec![];
    for i in 1..args.group_size {
        let name = format!("{run}m{i}");
        members.push(Client::connect(args, &name, deliveries.clone()).await?);
        names.push(name);
    }
    let created = Instant::now();
    let conv = owner
        .call(
            "conversation.create",
            json!({"name": "bench group", "members": names}),
        )
        .await?;
    println!(
        "group of {} created in {:.2} s",
        args.group_size,
        created.elapsed().as_secs_f64()
    );
    let conv = conv["id"].as_str().ok_or("no group id")?.to_owned();
    tokio::time::sleep(Duration::from_millis(500)).await;
    deliveries.take();
    let started = Instant::now();
    let mut tick =
        tokio::time::interval(Duration::from_secs_f64(1.0 / args.group_rate.max(1) as f64));
    for _ in 0..args.group_messages {
        tick.tick().await;
        owner.fire(
            "message.send",
            json!({"conversation": conv, "body": format!("t={}", now_us())}),
        )?;
    }
    let expected = (args.group_messages as usize) * members.len();
    drain(&deliveries, expected, Duration::from_secs(60)).await;
    let got = deliveries.take();
    println!(
        "group fan-out ({} members, {} messages): expected {expected} deliveries, got {}",
        args.group_size,
        args.group_messages,
        got.len()
    );
    report(
        "group send-to-deliver",
        got,
        started.elapsed(),
        "deliveries",
    );
    Ok(())
}

async fn history(args: &Args, run: &str) -> Result<(), String> {
    let quiet = Arc::new(Deliveries::default());
    let a = Client::connect(args, &format!("{run}ha"), quiet.clone()).await?;
    let b = Client::connect(args, &format!("{run}hb"), quiet.clone()).await?;
    let conv = befriend(&a, &b).await?;
    for i in 0..args.history_messages {
        let body = json!({"conversation": conv, "body": format!("history {i}")});
        // Stay under the per-session request budget.
        while let Err(e) = a.call("message.send", body.clone()).await {
            if !e.contains("rate_limited") {
                return Err(e);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let started = Instant::now();
    let latencies = Arc::new(Deliveries::default());
    let mut tasks = vec![];
    for _ in 0..args.readers {
        // Each reader is its own session of the same user (requests of one
        // session are answered in order, one at a time).
        let b = Client::connect(args, &format!("{run}hb"), quiet.clone()).await?;
        let (conv, latencies) = (conv.clone(), latencies.clone());
        let seconds = args.seconds;
        tasks.push(tokio::spawn(async move {
            let mut before: Option<String> = None;
            while started.elapsed() < Duration::from_secs(seconds) {
                let t = Instant::now();
                let page = b
                    .call(
                        "message.history",
                        json!({"conversation": conv, "before": before, "limit": 100}),
                    )
                    .await?;
                latencies.record(t.elapsed().as_micros() as u64);
                before = if page["more"] == true {
                    page["messages"][0]["id"].as_str().map(str::to_owned)
                } else {
                    None
                };
            }
            Ok::<_, String>(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    report(
        "history page (100 messages)",
        latencies.take(),
        started.elapsed(),
        "pages",
    );
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    now_us();
    // Names unique per run, so the bench can run again on the same database.
    let run = format!("r{}", chrono::Utc::now().timestamp() % 100_000);
    let scenarios: &[Scenario] = match args.scenario {
        Scenario::All => &[Scenario::OneToOne, Scenario::Group, Scenario::History],
        ref one => std::slice::from_ref(one),
    };
    for scenario in scenarios {
        let result = match scenario {
            Scenario::OneToOne => one_to_one(&args, &run).await,
            Scenario::Group => group(&args, &run).await,
            Scenario::History => history(&args, &run).await,
            Scenario::All => Ok(()),
        };
        if let Err(e) = result {
            eprintln!("confab-bench: {scenario:?} failed: {e}");
            return std::process::ExitCode::FAILURE;
        }
    }
    std::process::ExitCode::SUCCESS
}
