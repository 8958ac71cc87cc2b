//! `confab-searchbench`: search latency over a large message store. Seeds
//! groups and messages straight into the database a running Confab uses
//! (bulk inserts, the server's own row types, so the search index is kept
//! by the same triggers or generated column as on a send), indexes them
//! on SQLite (timed, as the server's indexer would), then runs searches
//! through the real REST API and prints p50/p95/p99/max.
//!
//!   confab --database-url sqlite:///tmp/sb.db --signups-per-ip 0 &
//!   confab-searchbench --url http://127.0.0.1:8080 --database-url sqlite:///tmp/sb.db
//!
//! Bodies are drawn from a made-up vocabulary with a Zipf distribution, so
//! some words are in a third of all messages and others in a handful. The
//! searching user is a member of `--member-of` of the `--conversations`
//! groups: most matches in the store are not theirs to read.

use clap::Parser;
use confab::db::conversations::{self as conversation_rows, ConversationRow, MemberRow};
use confab::db::ids::{ConversationId, MessageId, UserId};
use confab::db::messages::{self as message_rows, MessageRow};
use confab::db::Db;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(
    name = "confab-searchbench",
    about = "Search latency over a large message store"
)]
struct Args {
    /// HTTP base URL of the running server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The server's database (the bench writes to it directly).
    #[arg(long)]
    database_url: String,
    /// Messages to seed.
    #[arg(long, default_value_t = 1_000_000)]
    messages: u64,
    /// Groups the messages are spread over.
    #[arg(long, default_value_t = 200)]
    conversations: usize,
    /// Groups of those the searching user is a member of.
    #[arg(long, default_value_t = 20)]
    member_of: usize,
    /// Searches to run (spread over the query kinds).
    #[arg(long, default_value_t = 900)]
    searches: usize,
    /// Rows per insert transaction.
    #[arg(long, default_value_t = 4000)]
    batch: usize,
}

/// Words in the vocabulary.
const VOCABULARY: usize = 20_000;
/// The seeded messages span this many days, ending now.
const SPAN_DAYS: i64 = 365;

/// A small deterministic generator (xorshift64*): the same store each run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Made-up words, rank 0 the most common.
fn vocabulary() -> Vec<String> {
    const SYLLABLES: [&str; 24] = [
        "ka", "lo", "mi", "nu", "pe", "ra", "so", "ti", "vu", "za", "bel", "cor", "dan", "fen",
        "gil", "hom", "jas", "kel", "mor", "nis", "pol", "qua", "rin", "tes",
    ];
    let mut words = Vec::with_capacity(VOCABULARY);
    let mut n = 0usize;
    while words.len() < VOCABULARY {
        let (mut x, mut word) = (n, String::new());
        loop {
            word.push_str(SYLLABLES[x % SYLLABLES.len()]);
            x /= SYLLABLES.len();
            if x == 0 {
                break;
            }
        }
        if word.len() >= 4 {
            words.push(word);
        }
        n += 1;
    }
    words
}

/// Draws word ranks with probability proportional to 1 / (rank + 1).
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(n: usize) -> Self {
        let mut total = 0.0;
        let cumulative = (0..n)
            .map(|r| {
                total += 1.0 / (r as f64 + 1.0);
                total
            })
            .collect::<Vec<_>>();
        let cumulative = cumulative.into_iter().map(|c| c / total).collect();
        Self { cumulative }
    }

    fn draw(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.cumulative.partition_point(|c| *c < u)
    }
}

/// Registers a user over the API; returns (token, id).
async fn register(
    http: &reqwest::Client,
    args: &Args,
    name: &str,
) -> Result<(String, UserId), String> {
    let reply: Value = http
        .post(format!("{}/api/v1/auth/register", args.url))
        .json(&json!({"name": name, "password": "search-bench-password"}))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let token = reply["access_token"]
        .as_str()
        .ok_or_else(|| format!("register {name}: {reply}"))?;
    let id = reply["user"]["id"]
        .as_str()
        .and_then(|id| uuid::Uuid::parse_str(id).ok())
        .ok_or_else(|| format!("register {name}: {reply}"))?;
    Ok((token.to_owned(), UserId(id)))
}

/// Groups owned by `writer`; the first `member_of` also have `reader`.
async fn seed_groups(
    db: &Db,
    args: &Args,
    writer: UserId,
    reader: UserId,
) -> Result<Vec<ConversationId>, String> {
    let now = chrono::Utc::now().naive_utc();
    let mut conn = db.write().await.map_err(|e| e.to_string())?;
    let mut ids = vec![];
    for i in 0..args.conversations {
        let row = ConversationRow {
            id: ConversationId::new(),
            kind: "group".into(),
            name: Some(format!("bench {i}")),
            topic: String::new(),
            avatar_url: None,
            creator_id: Some(writer),
            direct_key: None,
            created_at: now,
            updated_at: now,
            ap_id: None,
            public_key_pem: None,
            private_key_pem: None,
            inbox: None,
        };
        let member = |user, rights| MemberRow {
            conversation_id: row.id,
            user_id: user,
            rights,
            joined_at: now,
            last_read: None,
            muted: false,
        };
        let mut members = vec![member(writer, 4)];
        if i < args.member_of {
            members.push(member(reader, 2));
        }
        conversation_rows::insert(&mut conn, &row, &members)
            .await
            .map_err(|e| e.to_string())?;
        ids.push(row.id);
    }
    Ok(ids)
}

/// Inserts `args.messages` messages, oldest first, ids in time order.
async fn seed_messages(
    db: &Db,
    args: &Args,
    groups: &[ConversationId],
    authors: [UserId; 2],
    words: &[String],
) -> Result<(), String> {
    let zipf = Zipf::new(words.len());
    let mut rng = Rng(0x5eed_5eed_5eed_5eed);
    let start = chrono::Utc::now() - chrono::Duration::days(SPAN_DAYS);
    let step_ms = (SPAN_DAYS * 86_400_000) as f64 / args.messages as f64;
    let started = Instant::now();
    let mut batch = Vec::with_capacity(args.batch);
    for i in 0..args.messages {
        let at = start + chrono::Duration::milliseconds((i as f64 * step_ms) as i64);
        let ts = uuid::Timestamp::from_unix(
            uuid::NoContext,
            at.timestamp() as u64,
            at.timestamp_subsec_nanos(),
        );
        let length = 4 + rng.below(14);
        let body: Vec<&str> = (0..length)
            .map(|_| words[zipf.draw(&mut rng)].as_str())
            .collect();
        let mut row = MessageRow::new(
            groups[i as usize % groups.len()],
            Some(authors[rng.below(2)]),
            "text",
            body.join(" "),
        );
        row.id = MessageId(uuid::Uuid::new_v7(ts));
        row.created_at = at.naive_utc();
        row.updated_at = row.created_at;
        batch.push(row);
        if batch.len() == args.batch || i + 1 == args.messages {
            let mut conn = db.write().await.map_err(|e| e.to_string())?;
            message_rows::insert_all(&mut conn, &batch, &[])
                .await
                .map_err(|e| e.to_string())?;
            batch.clear();
            if (i + 1) % 100_000 == 0 {
                eprintln!(
                    "seeded {} messages in {:.0} s",
                    i + 1,
                    started.elapsed().as_secs_f64()
                );
            }
        }
    }
    println!(
        "seeded {} messages in {:.1} s",
        args.messages,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// On SQLite, indexes the seeded messages before any search is timed (the
/// server's indexer would do it in the background, and the first search
/// would wait for the rest), and prints how long that took.
async fn index_seeded(db: &Db) -> Result<(), String> {
    if db.backend() != confab::db::Backend::Sqlite {
        return Ok(());
    }
    let started = Instant::now();
    let mut indexed = 0;
    loop {
        let mut conn = db.write().await.map_err(|e| e.to_string())?;
        let done = confab::db::search::index_pending(&mut conn, 10_000)
            .await
            .map_err(|e| e.to_string())?;
        indexed += done;
        if done == 0 {
            break;
        }
    }
    println!(
        "indexed {indexed} messages for search in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// One kind of search and its parameters.
struct Kind {
    name: &'static str,
    params: Vec<(String, String)>,
}

/// The query kinds, from words of known frequency.
fn kinds(words: &[String], group: ConversationId, author: UserId) -> Vec<Vec<Kind>> {
    let month_ago = (chrono::Utc::now() - chrono::Duration::days(30)).to_rfc3339();
    let q = |q: String| vec![("q".to_owned(), q)];
    let with = |mut p: Vec<(String, String)>, k: &str, v: String| {
        p.push((k.to_owned(), v));
        p
    };
    // A few queries of each kind, cycled.
    let pick = |ranks: &[usize], f: &dyn Fn(&str) -> Vec<(String, String)>, name| {
        ranks
            .iter()
            .map(|r| Kind {
                name,
                params: f(&words[*r]),
            })
            .collect::<Vec<_>>()
    };
    vec![
        pick(&[0, 1, 3, 7], &|w| q(w.into()), "common word"),
        pick(&[150, 400, 900], &|w| q(w.into()), "medium word"),
        pick(&[15_000, 18_000, 19_900], &|w| q(w.into()), "rare word"),
        pick(&[2, 5], &|w| q(format!("{w} {}", words[60])), "two words"),
        pick(&[0, 1], &|w| q(format!("\"{w} {}\"", words[2])), "phrase"),
        pick(&[300, 800], &|w| q(format!("{}*", &w[..3])), "prefix"),
        pick(
            &[0, 40],
            &|w| with(q(w.into()), "conversation", group.0.to_string()),
            "in one conversation",
        ),
        pick(
            &[1, 70],
            &|w| with(q(w.into()), "author", author.0.to_string()),
            "by one author",
        ),
        pick(
            &[4, 200],
            &|w| with(q(w.into()), "after", month_ago.clone()),
            "last 30 days",
        ),
    ]
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx].as_secs_f64() * 1000.0
}

fn report(name: &str, mut latencies: Vec<Duration>, found: usize) {
    latencies.sort_unstable();
    println!(
        "{name:<22} n={:<4} p50 {:>7.2} ms  p95 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  (avg {found} results)",
        latencies.len(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.95),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
    );
}

async fn run(args: &Args) -> Result<(), String> {
    let http = reqwest::Client::new();
    let run = chrono::Utc::now().timestamp() % 100_000;
    let (token, reader) = register(&http, args, &format!("sbreader{run}")).await?;
    let (_, writer) = register(&http, args, &format!("sbwriter{run}")).await?;
    let db = Db::connect(&args.database_url, 4)
        .await
        .map_err(|e| e.to_string())?;
    let words = vocabulary();
    let groups = seed_groups(&db, args, writer, reader).await?;
    seed_messages(&db, args, &groups, [writer, reader], &words).await?;
    index_seeded(&db).await?;
    if db.backend() == confab::db::Backend::Postgres {
        // What autovacuum would do after a bulk load.
        use diesel_async::SimpleAsyncConnection;
        let mut conn = db.write().await.map_err(|e| e.to_string())?;
        confab::with_conn!(conn, |c| c.batch_execute("VACUUM ANALYZE messages").await)
            .map_err(|e| e.to_string())?;
    }
    let kinds = kinds(&words, groups[0], writer);
    let per_kind = (args.searches / kinds.len()).max(1);
    let mut all = vec![];
    for group in &kinds {
        let (mut latencies, mut found) = (vec![], 0);
        for i in 0..per_kind {
            let kind = &group[i % group.len()];
            let t = Instant::now();
            let query = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&kind.params)
                .finish();
            let reply = http
                .get(format!("{}/api/v1/search?{query}", args.url))
                .bearer_auth(&token)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = reply.status();
            let body: Value = reply.json().await.map_err(|e| e.to_string())?;
            latencies.push(t.elapsed());
            if !status.is_success() {
                return Err(format!("{} {:?}: {status} {body}", kind.name, kind.params));
            }
            found += body["results"].as_array().map_or(0, Vec::len);
        }
        report(group[0].name, latencies.clone(), found / per_kind);
        all.extend(latencies);
    }
    report("all", all, 0);
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(&args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("confab-searchbench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
