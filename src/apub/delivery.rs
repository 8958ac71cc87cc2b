//! The delivery worker: sends queued rows of the `deliveries` table, signed
//! as their sender, with a bounded number of requests in flight per host.
//! A 2xx marks a row `delivered`; a 4xx other than 408/429 is permanent
//! (`failed`); anything else (timeouts, refused connections, 5xx) counts
//! against the host, which then waits `retry_base × 2^(failures-1)` (capped
//! at a day) before it is tried again. The first success wakes every row
//! waiting for that host, so a peer that comes back gets its backlog at
//! once. Rows survive restarts: a row in flight when the process stops is
//! simply sent again (receivers drop replays by activity id).
//!
//! Requests go through the guarded client of [`crate::outgoing`]: an inbox
//! on a refused address fails for good without a connection. What a row
//! records as its error is ours (`HTTP 404 Not Found`, `connection
//! refused`, `address not allowed: ...`), never the remote body.

use super::outbox::retired_key;
use super::schemes::{Scheme, Schemes};
use super::signing::Signer;
use super::urls::LocalUrls;
use super::ACTIVITY_JSON;
use super::{keys, rfc9421};
use crate::config::Config;
use crate::db::conversations as conversation_rows;
use crate::db::deliveries::{self as rows, Attempt, DeliveryRow, HostRow};
use crate::db::ids::DeliveryId;
use crate::db::settings;
use crate::db::users as user_rows;
use crate::db::{Db, DbError};
use crate::outgoing::{Failure, Outgoing};
use chrono::{NaiveDateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, Notify, Semaphore};
use url::Url;

/// The longest wait between two tries of a host.
const MAX_BACKOFF_S: u64 = 86_400;
/// Rows read per round.
const BATCH: i64 = 500;
/// Outcomes committed per transaction, at most.
const RECORD_BATCH: usize = 512;
/// The shortest pause between two rounds.
const ROUND_GAP: Duration = Duration::from_millis(5);
/// The longest: retries falling due are found within this time.
const IDLE_POLL: Duration = Duration::from_secs(5);

/// Between the queue and the worker: rows just stored are handed over in
/// memory (the worker starts them without reading them back); the
/// database is polled only for what memory cannot know (rows left from
/// before a restart, retries falling due, a host that came back).
#[derive(Default)]
pub struct Handoff {
    notify: Notify,
    fresh: Mutex<Vec<DeliveryRow>>,
    poll: AtomicBool,
}

impl Handoff {
    /// Rows the queue just committed.
    pub fn push(&self, rows: Vec<DeliveryRow>) {
        lock(&self.fresh).extend(rows);
        self.notify.notify_one();
    }

    /// Asks the worker to read due rows from the database now.
    pub fn poll(&self) {
        self.poll.store(true, Ordering::Release);
        self.notify.notify_one();
    }
}

/// What one request sends: a stored row, or an ephemeral activity.
struct Outbound<'a> {
    /// The local actor whose key signs it.
    signer: &'a str,
    /// The inbox's host (with its port).
    host: &'a str,
    inbox: &'a str,
    body: &'a str,
}

impl<'a> From<&'a DeliveryRow> for Outbound<'a> {
    fn from(row: &'a DeliveryRow) -> Self {
        Self {
            signer: &row.signer,
            host: &row.host,
            inbox: &row.inbox,
            body: &row.body,
        }
    }
}

/// How one attempt ended.
enum Outcome {
    Delivered,
    /// The receiver refused it for good (4xx other than 408/429).
    Refused(String),
    /// Worth trying again later.
    Transient(String),
}

impl Outcome {
    /// The `outcome` label of the delivery metrics.
    fn name(&self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Refused(_) => "refused",
            Outcome::Transient(_) => "transient",
        }
    }
}

pub struct Delivery {
    db: Db,
    /// The guarded client every delivery goes through.
    outgoing: Outgoing,
    config: Arc<Config>,
    signer: Signer,
    /// Which signature scheme each host gets (see [`super::schemes`]).
    schemes: Schemes,
    /// Parsed Ed25519 keys of local users, by actor id.
    ed25519: Mutex<HashMap<String, Arc<actpub_httpsig::SigningKey>>>,
    handoff: Arc<Handoff>,
    /// The last round read a full page of due rows: read again as soon as
    /// outcomes leave room for more.
    backlog: AtomicBool,
    /// Rows being sent or recorded right now (not read again until their
    /// outcome is committed).
    in_flight: Mutex<HashSet<DeliveryId>>,
    /// Per destination host: its request budget and health.
    hosts: Mutex<HashMap<String, Host>>,
    /// Per destination host: the budget of ephemeral requests (presence,
    /// typing), apart from the queue's so neither starves the other.
    ephemeral: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Outcomes waiting to be committed, in batches, by the recorder.
    outcomes: mpsc::UnboundedSender<Attempt>,
    pending: Mutex<Option<mpsc::UnboundedReceiver<Attempt>>>,
}

/// What the worker keeps per host.
struct Host {
    budget: Arc<Semaphore>,
    /// `None` until read from the database.
    health: Option<HostRow>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Delivery {
    pub fn new(db: Db, outgoing: Outgoing, config: Arc<Config>, handoff: Arc<Handoff>) -> Self {
        let (outcomes, pending) = mpsc::unbounded_channel();
        Self {
            db,
            outgoing,
            config,
            signer: Signer::default(),
            schemes: Schemes::default(),
            ed25519: Mutex::default(),
            handoff,
            backlog: AtomicBool::new(false),
            in_flight: Mutex::default(),
            hosts: Mutex::default(),
            ephemeral: Mutex::default(),
            outcomes,
            pending: Mutex::new(Some(pending)),
        }
    }

    /// Runs until the process ends: starts rows handed over by the queue
    /// at once, and reads due rows from the database when it must.
    pub async fn run(self: Arc<Self>) {
        if let Some(pending) = lock(&self.pending).take() {
            tokio::spawn(self.clone().record_batches(pending));
        }
        let mut next_round = tokio::time::Instant::now();
        loop {
            let fresh = std::mem::take(&mut *lock(&self.handoff.fresh));
            self.start(fresh);
            let now = tokio::time::Instant::now();
            if self.handoff.poll.swap(false, Ordering::AcqRel) || now >= next_round {
                let wait = self.round().await.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "delivery round failed");
                    Duration::from_secs(1)
                });
                next_round = tokio::time::Instant::now() + wait;
            }
            let _ = tokio::time::timeout_at(next_round, self.handoff.notify.notified()).await;
        }
    }

    /// Starts an attempt for each row not already in flight.
    fn start(self: &Arc<Self>, rows: Vec<DeliveryRow>) {
        let mut in_flight = lock(&self.in_flight);
        let rows: Vec<DeliveryRow> = rows
            .into_iter()
            .filter(|row| in_flight.insert(row.id))
            .collect();
        drop(in_flight);
        for row in rows {
            let this = self.clone();
            tokio::spawn(async move {
                let id = row.id;
                if let Err(e) = this.attempt(row).await {
                    tracing::warn!(error = %e, "a delivery attempt failed to run");
                    lock(&this.in_flight).remove(&id);
                }
            });
        }
    }

    /// Commits outcomes as they come, many per transaction, then lets the
    /// rows be read again.
    async fn record_batches(self: Arc<Self>, mut pending: mpsc::UnboundedReceiver<Attempt>) {
        while let Some(first) = pending.recv().await {
            let mut batch = vec![first];
            while batch.len() < RECORD_BATCH {
                match pending.try_recv() {
                    Ok(attempt) => batch.push(attempt),
                    Err(_) => break,
                }
            }
            let result = match self.db.write().await {
                Ok(mut conn) => rows::record_all(&mut conn, &batch).await,
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, rows = batch.len(), "recording deliveries failed; they will be sent again");
            }
            let mut in_flight = lock(&self.in_flight);
            for attempt in &batch {
                in_flight.remove(&attempt.id);
            }
            // Read more only once there is room: while half a page is still
            // in flight, a round would read back rows already being sent.
            let room = in_flight.len() < BATCH as usize / 2;
            drop(in_flight);
            if room && self.backlog.load(Ordering::Acquire) {
                self.handoff.poll();
            }
        }
    }

    /// Starts every due row not already in flight; returns how long to
    /// wait before reading again unless asked sooner.
    async fn round(self: &Arc<Self>) -> Result<Duration, DbError> {
        let now = Utc::now().naive_utc();
        let mut conn = self.db.read().await?;
        let due = rows::due(&mut conn, now, BATCH).await?;
        self.backlog
            .store(due.len() as i64 >= BATCH, Ordering::Release);
        let new: Vec<DeliveryId> = {
            let in_flight = lock(&self.in_flight);
            due.into_iter()
                .filter(|id| !in_flight.contains(id))
                .collect()
        };
        let started = if new.is_empty() {
            vec![]
        } else {
            rows::by_ids(&mut conn, &new).await?
        };
        let next = rows::next_due(&mut conn).await?;
        drop(conn);
        let started_any = !started.is_empty();
        self.start(started);
        let wait = match next {
            // Only rows in flight are due: their outcomes need no reading.
            Some(at) if at <= now && !started_any => IDLE_POLL,
            Some(at) => (at - Utc::now().naive_utc()).to_std().unwrap_or(ROUND_GAP),
            None => IDLE_POLL,
        };
        Ok(wait.clamp(ROUND_GAP, IDLE_POLL))
    }

    /// The host's request budget and health (read from the database once).
    async fn host(&self, host: &str) -> Result<(Arc<Semaphore>, HostRow), DbError> {
        let known = lock(&self.hosts)
            .get(host)
            .and_then(|h| Some((h.budget.clone(), h.health.clone()?)));
        if let Some(known) = known {
            return Ok(known);
        }
        let stored = rows::host(&mut self.db.read().await?, host).await?;
        let health = stored.unwrap_or_else(|| healthy(host, None, Utc::now().naive_utc()));
        let mut hosts = lock(&self.hosts);
        let entry = hosts.entry(host.to_owned()).or_insert_with(|| Host {
            budget: Arc::new(Semaphore::new(
                self.config.federation_host_concurrency.max(1),
            )),
            health: None,
        });
        let health = entry.health.get_or_insert(health).clone();
        Ok((entry.budget.clone(), health))
    }

    fn set_health(&self, health: HostRow) {
        if let Some(entry) = lock(&self.hosts).get_mut(&health.host) {
            entry.health = Some(health);
        }
    }

    /// Sends an ephemeral activity once, now, signed by `signer`, to a host
    /// whose NodeInfo says it runs Confab (others would only ignore it).
    /// Nothing is stored or retried: a host that is resting after failures
    /// (see the module docs), or that already has
    /// `federation_host_concurrency` ephemeral requests in flight, is
    /// skipped. Returns whether the receiver accepted it.
    pub async fn send_ephemeral(&self, signer: &str, inbox: &Url, body: &str) -> bool {
        let host = super::objects::person::host_with_port(inbox);
        let budget = lock(&self.ephemeral)
            .entry(host.clone())
            .or_insert_with(|| {
                Arc::new(Semaphore::new(
                    self.config.federation_host_concurrency.max(1),
                ))
            })
            .clone();
        let Ok(_permit) = budget.try_acquire() else {
            return false;
        };
        let now = Utc::now().naive_utc();
        match self.host(&host).await {
            Ok((_, health)) if health.retry_at.is_none_or(|at| at <= now) => {}
            _ => return false,
        }
        if !self.schemes.is_confab(&self.outgoing, &host, inbox).await {
            return false;
        }
        let outbound = Outbound {
            signer,
            host: &host,
            inbox: inbox.as_str(),
            body,
        };
        let outcome = self.send(&outbound).await;
        metrics::counter!("confab_ephemeral_sends_total", "outcome" => outcome.name()).increment(1);
        matches!(outcome, Outcome::Delivered)
    }

    /// Sends one row (unless its host is resting) and hands the outcome to
    /// the recorder.
    async fn attempt(&self, row: DeliveryRow) -> Result<(), DbError> {
        let now = Utc::now().naive_utc();
        let (budget, health) = self.host(&row.host).await?;
        if let Some(retry_at) = health.retry_at.filter(|at| *at > now) {
            rows::postpone(&mut self.db.write().await?, row.id, retry_at).await?;
            lock(&self.in_flight).remove(&row.id);
            return Ok(());
        }
        let outcome = {
            let _permit = budget.acquire().await;
            let started = std::time::Instant::now();
            let outcome = self.send(&Outbound::from(&row)).await;
            let host = row.host.clone();
            metrics::histogram!("confab_delivery_seconds", "host" => host.clone())
                .record(started.elapsed().as_secs_f64());
            metrics::counter!("confab_delivery_attempts_total", "host" => host, "outcome" => outcome.name())
                .increment(1);
            outcome
        };
        self.record(&row, health, outcome).await
    }

    async fn send(&self, row: &Outbound<'_>) -> Outcome {
        let scheme = match Url::parse(row.inbox) {
            Ok(inbox) if self.config.federation_rfc9421 => {
                self.schemes.choose(&self.outgoing, row.host, &inbox).await
            }
            _ => Scheme::Cavage,
        };
        let mut sent = self.send_as(row, scheme).await;
        // Double knock: a host that refuses RFC 9421 gets draft-cavage, now
        // and from now on.
        let refused = |sent: &Result<_, _>| matches!(sent, Ok(Ok(r)) if matches!(reqwest::Response::status(r).as_u16(), 400 | 401));
        if scheme == Scheme::Rfc9421 && refused(&sent) {
            self.schemes.remember(row.host, Scheme::Cavage);
            sent = self.send_as(row, Scheme::Cavage).await;
        }
        let sent = match sent {
            Ok(sent) => sent,
            Err(e) => return Outcome::Refused(e),
        };
        match sent {
            Ok(response) => {
                let status = response.status();
                if status.is_success() {
                    return Outcome::Delivered;
                }
                // The body is not read: what the receiver wrote is not ours
                // to show.
                let error = Failure::status(status).to_string();
                let transient =
                    status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429;
                if transient {
                    Outcome::Transient(error)
                } else {
                    Outcome::Refused(error)
                }
            }
            Err(e) => {
                let failure = Failure::of(&e);
                tracing::debug!(error = %e, %failure, "delivery request failed");
                if failure.is_permanent() {
                    Outcome::Refused(failure.to_string())
                } else {
                    Outcome::Transient(failure.to_string())
                }
            }
        }
    }

    /// The private key PEM of the local actor `signer` (a user, a group
    /// hosted here, a deleted group's retired key, or the instance actor).
    async fn signing_key(&self, signer: &str) -> Result<String, String> {
        let urls = LocalUrls::new(self.config.public_base());
        let signer_url = Url::parse(signer).map_err(|e| format!("signer {signer}: {e}"))?;
        let mut conn = self.db.read().await.map_err(|e| e.to_string())?;
        let pem = if let Some(name) = urls.user_name(&signer_url) {
            user_rows::find_by_name(&mut conn, name)
                .await
                .map_err(|e| e.to_string())?
                .and_then(|u| u.private_key_pem)
        } else if let Some(id) = urls.group_id(&signer_url) {
            match conversation_rows::find(&mut conn, id)
                .await
                .map_err(|e| e.to_string())?
            {
                Some(row) => row.private_key_pem,
                None => settings::get(&mut conn, &retired_key(signer))
                    .await
                    .map_err(|e| e.to_string())?,
            }
        } else if signer == urls.instance_actor() {
            drop(conn);
            let (_, private) = super::instance::keypair(&self.db)
                .await
                .map_err(|e| e.to_string())?;
            Some(private)
        } else {
            None
        };
        pem.ok_or_else(|| format!("no key to sign as {signer}"))
    }

    /// Signs `row` with `scheme` and sends it; `Err` if it cannot be signed.
    async fn send_as(
        &self,
        row: &Outbound<'_>,
        scheme: Scheme,
    ) -> Result<Result<reqwest::Response, reqwest_middleware::Error>, String> {
        let request = self.signed_request(row, scheme).await?;
        Ok(self.outgoing.send(request).await)
    }

    /// The Ed25519 key of the local user `signer` (made on first use);
    /// `None` for other signers (groups sign with RSA only).
    async fn ed25519_key(
        &self,
        signer: &str,
    ) -> Result<Option<Arc<actpub_httpsig::SigningKey>>, String> {
        if let Some(key) = lock(&self.ed25519).get(signer) {
            return Ok(Some(key.clone()));
        }
        let urls = LocalUrls::new(self.config.public_base());
        let signer_url = Url::parse(signer).map_err(|e| format!("signer {signer}: {e}"))?;
        let Some(name) = urls.user_name(&signer_url) else {
            return Ok(None);
        };
        let mut conn = self.db.read().await.map_err(|e| e.to_string())?;
        let Some(user) = user_rows::find_by_name(&mut conn, name)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        drop(conn);
        let private = match user.ed25519_private_key {
            Some(private) => private,
            None => {
                keys::ensure_ed25519(&self.db, user.id)
                    .await
                    .map_err(|e| e.to_string())?
                    .1
            }
        };
        let key = Arc::new(keys::ed25519_signing_key(&private).map_err(|e| e.to_string())?);
        lock(&self.ed25519).insert(signer.to_owned(), key.clone());
        Ok(Some(key))
    }

    async fn signed_request(
        &self,
        row: &Outbound<'_>,
        scheme: Scheme,
    ) -> Result<reqwest::RequestBuilder, String> {
        let inbox = Url::parse(row.inbox).map_err(|e| e.to_string())?;
        if scheme == Scheme::Rfc9421 {
            if let Some(key) = self.ed25519_key(row.signer).await? {
                let signed = rfc9421::sign(
                    &key,
                    &keys::ed25519_key_id(row.signer),
                    reqwest::Method::POST,
                    &inbox,
                    Some(row.body.as_bytes()),
                )
                .map_err(|e| e.to_string())?;
                let mut request = self
                    .outgoing
                    .request(reqwest::Method::POST, inbox)
                    .header("content-type", ACTIVITY_JSON)
                    .header("signature-input", signed.signature_input)
                    .header("signature", signed.signature);
                if let Some(digest) = signed.content_digest {
                    request = request.header("content-digest", digest);
                }
                return Ok(request.body(row.body.to_owned()));
            }
        }
        let key = match self.signer.cached(row.signer) {
            Some(key) => key,
            None => {
                let pem = self.signing_key(row.signer).await?;
                self.signer
                    .key(row.signer, &pem)
                    .map_err(|e| e.to_string())?
            }
        };
        let key_id = format!("{}#main-key", row.signer);
        let signed = self
            .signer
            .sign_post(&key, &key_id, &inbox, row.body.as_bytes())
            .map_err(|e| e.to_string())?;
        let request = self
            .outgoing
            .request(reqwest::Method::POST, inbox)
            .header("content-type", ACTIVITY_JSON)
            .body(row.body.to_owned());
        Ok(signed.apply(request))
    }

    async fn record(
        &self,
        row: &DeliveryRow,
        host: HostRow,
        outcome: Outcome,
    ) -> Result<(), DbError> {
        let now = Utc::now().naive_utc();
        let attempt = |state, next_attempt_at, error| Attempt {
            id: row.id,
            host: row.host.clone(),
            state,
            next_attempt_at,
            error,
            at: now,
        };
        match outcome {
            Outcome::Delivered => {
                let health = healthy(&row.host, Some(now), now);
                if host.failures > 0 || host.retry_at.is_some() {
                    let mut conn = self.db.write().await?;
                    rows::save_host(&mut conn, &health).await?;
                    rows::wake_host(&mut conn, &row.host, now).await?;
                    self.handoff.poll();
                }
                // In memory at once (a failure saved next keeps it); in the
                // database with the attempt's batch (`record_all`).
                self.set_health(health);
                let _ = self.outcomes.send(attempt("delivered", now, None));
            }
            Outcome::Refused(error) => {
                tracing::info!(inbox = %row.inbox, %error, "delivery refused");
                let _ = self.outcomes.send(attempt("failed", now, Some(error)));
            }
            Outcome::Transient(error) => {
                let failures = host.failures + 1;
                let retry_at = now + backoff(self.config.federation_retry_base_s, failures);
                let gave_up = row.attempts + 1 >= self.config.federation_max_attempts as i32;
                let state = if gave_up { "failed" } else { "retrying" };
                tracing::info!(inbox = %row.inbox, %error, failures, "delivery failed, will retry");
                let health = HostRow {
                    host: row.host.clone(),
                    failures,
                    retry_at: Some(retry_at),
                    last_success_at: host.last_success_at,
                    updated_at: now,
                };
                rows::save_host(&mut self.db.write().await?, &health).await?;
                self.set_health(health);
                let _ = self.outcomes.send(attempt(state, retry_at, Some(error)));
            }
        }
        Ok(())
    }
}

fn healthy(host: &str, last_success_at: Option<NaiveDateTime>, now: NaiveDateTime) -> HostRow {
    HostRow {
        host: host.to_owned(),
        failures: 0,
        retry_at: None,
        last_success_at,
        updated_at: now,
    }
}

/// `base × 2^(failures-1)` seconds, at most a day.
fn backoff(base_s: u64, failures: i32) -> chrono::Duration {
    let exponent = (failures.max(1) - 1).min(20) as u32;
    let seconds = base_s.saturating_mul(1u64 << exponent).min(MAX_BACKOFF_S);
    chrono::Duration::seconds(seconds as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_day() {
        assert_eq!(backoff(30, 1).num_seconds(), 30);
        assert_eq!(backoff(30, 2).num_seconds(), 60);
        assert_eq!(backoff(30, 5).num_seconds(), 480);
        assert_eq!(backoff(30, 40).num_seconds(), 86_400);
        assert_eq!(backoff(1, 0).num_seconds(), 1);
    }
}
