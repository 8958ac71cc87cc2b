//! The delivery worker: sends queued rows of the `deliveries` table, signed
//! as their sender, with a bounded number of requests in flight per host.
//! A 2xx marks a row `delivered`; a 4xx other than 408/429 is permanent
//! (`failed`); anything else (timeouts, refused connections, 5xx) counts
//! against the host, which then waits `retry_base × 2^(failures-1)` (capped
//! at a day) before it is tried again. The first success wakes every row
//! waiting for that host, so a peer that comes back gets its backlog at
//! once. Rows survive restarts: a row in flight when the process stops is
//! simply sent again (receivers drop replays by activity id).

use super::outbox::retired_key;
use super::signing::Signer;
use super::ACTIVITY_JSON;
use crate::config::Config;
use crate::db::conversations as conversation_rows;
use crate::db::deliveries::{self as rows, DeliveryRow, HostRow};
use crate::db::ids::{ConversationId, DeliveryId};
use crate::db::settings;
use crate::db::users as user_rows;
use crate::db::{Db, DbError};
use chrono::{NaiveDateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};
use url::Url;

/// The longest wait between two tries of a host.
const MAX_BACKOFF_S: u64 = 86_400;
/// Rows read per round.
const BATCH: i64 = 500;

/// How one attempt ended.
enum Outcome {
    Delivered,
    /// The receiver refused it for good (4xx other than 408/429).
    Refused(String),
    /// Worth trying again later.
    Transient(String),
}

pub struct Delivery {
    db: Db,
    client: reqwest::Client,
    config: Arc<Config>,
    signer: Signer,
    wake: Arc<Notify>,
    /// Rows being sent right now (not read again until they finish).
    in_flight: Mutex<HashSet<DeliveryId>>,
    /// A request budget per destination host.
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Delivery {
    pub fn new(db: Db, client: reqwest::Client, config: Arc<Config>, wake: Arc<Notify>) -> Self {
        Self {
            db,
            client,
            config,
            signer: Signer::default(),
            wake,
            in_flight: Mutex::default(),
            hosts: Mutex::default(),
        }
    }

    /// Runs until the process ends.
    pub async fn run(self: Arc<Self>) {
        loop {
            let wait = match self.round().await {
                Ok(wait) => wait,
                Err(e) => {
                    tracing::warn!(error = %e, "delivery round failed");
                    Duration::from_secs(1)
                }
            };
            let _ = tokio::time::timeout(wait, self.wake.notified()).await;
        }
    }

    /// Starts every due row not already in flight; returns how long to
    /// sleep unless woken.
    async fn round(self: &Arc<Self>) -> Result<Duration, DbError> {
        let now = Utc::now().naive_utc();
        let due = rows::due(&mut self.db.read().await?, now, BATCH).await?;
        for row in due {
            if !lock(&self.in_flight).insert(row.id) {
                continue;
            }
            let this = self.clone();
            tokio::spawn(async move {
                let id = row.id;
                if let Err(e) = this.attempt(row).await {
                    tracing::warn!(error = %e, "recording a delivery failed");
                }
                lock(&this.in_flight).remove(&id);
                this.wake.notify_one();
            });
        }
        let next = rows::next_due(&mut self.db.read().await?).await?;
        let wait = next
            .map(|at| {
                (at - Utc::now().naive_utc())
                    .to_std()
                    .unwrap_or(Duration::from_millis(5))
            })
            .unwrap_or(Duration::from_secs(5));
        Ok(wait.clamp(Duration::from_millis(5), Duration::from_secs(5)))
    }

    fn host_budget(&self, host: &str) -> Arc<Semaphore> {
        lock(&self.hosts)
            .entry(host.to_owned())
            .or_insert_with(|| {
                Arc::new(Semaphore::new(
                    self.config.federation_host_concurrency.max(1),
                ))
            })
            .clone()
    }

    /// Sends one row (unless its host is resting) and records the outcome.
    async fn attempt(&self, row: DeliveryRow) -> Result<(), DbError> {
        let now = Utc::now().naive_utc();
        let host = rows::host(&mut self.db.read().await?, &row.host).await?;
        if let Some(retry_at) = host
            .as_ref()
            .and_then(|h| h.retry_at)
            .filter(|at| *at > now)
        {
            rows::postpone(&mut self.db.write().await?, row.id, retry_at).await?;
            return Ok(());
        }
        let budget = self.host_budget(&row.host);
        let outcome = {
            let _permit = budget.acquire().await;
            self.send(&row).await
        };
        self.record(&row, host, outcome).await
    }

    async fn send(&self, row: &DeliveryRow) -> Outcome {
        let request = match self.signed_request(row).await {
            Ok(request) => request,
            Err(e) => return Outcome::Refused(e),
        };
        match request.send().await {
            Ok(response) => {
                let status = response.status();
                if status.is_success() {
                    return Outcome::Delivered;
                }
                let text: String = response
                    .text()
                    .await
                    .unwrap_or_default()
                    .chars()
                    .take(300)
                    .collect();
                let error = format!("HTTP {}: {text}", status.as_u16());
                let transient =
                    status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429;
                if transient {
                    Outcome::Transient(error)
                } else {
                    Outcome::Refused(error)
                }
            }
            Err(e) => Outcome::Transient(e.to_string()),
        }
    }

    /// The private key PEM of the local actor `signer` (a user, a group
    /// hosted here, or a deleted group's retired key).
    async fn signing_key(&self, signer: &str) -> Result<String, String> {
        let base = self.config.public_base();
        let mut conn = self.db.read().await.map_err(|e| e.to_string())?;
        let pem = if let Some(name) = signer.strip_prefix(&format!("{base}/users/")) {
            user_rows::find_by_name(&mut conn, name)
                .await
                .map_err(|e| e.to_string())?
                .and_then(|u| u.private_key_pem)
        } else if let Some(id) = signer.strip_prefix(&format!("{base}/groups/")) {
            let id = uuid::Uuid::parse_str(id).map_err(|e| e.to_string())?;
            match conversation_rows::find(&mut conn, ConversationId(id))
                .await
                .map_err(|e| e.to_string())?
            {
                Some(row) => row.private_key_pem,
                None => settings::get(&mut conn, &retired_key(signer))
                    .await
                    .map_err(|e| e.to_string())?,
            }
        } else {
            None
        };
        pem.ok_or_else(|| format!("no key to sign as {signer}"))
    }

    async fn signed_request(&self, row: &DeliveryRow) -> Result<reqwest::RequestBuilder, String> {
        let inbox = Url::parse(&row.inbox).map_err(|e| e.to_string())?;
        let key = match self.signer.cached(&row.signer) {
            Some(key) => key,
            None => {
                let pem = self.signing_key(&row.signer).await?;
                self.signer
                    .key(&row.signer, &pem)
                    .map_err(|e| e.to_string())?
            }
        };
        let key_id = format!("{}#main-key", row.signer);
        let signed = self
            .signer
            .sign_post(&key, &key_id, &inbox, row.body.as_bytes())
            .map_err(|e| e.to_string())?;
        Ok(self
            .client
            .post(inbox)
            .header("content-type", ACTIVITY_JSON)
            .header("host", signed.host)
            .header("date", signed.date)
            .header("digest", signed.digest)
            .header("signature", signed.signature)
            .body(row.body.clone()))
    }

    async fn record(
        &self,
        row: &DeliveryRow,
        host: Option<HostRow>,
        outcome: Outcome,
    ) -> Result<(), DbError> {
        let now = Utc::now().naive_utc();
        let mut conn = self.db.write().await?;
        match outcome {
            Outcome::Delivered => {
                rows::record(&mut conn, row.id, "delivered", now, None, now).await?;
                if host.is_some_and(|h| h.failures > 0 || h.retry_at.is_some()) {
                    rows::save_host(&mut conn, &healthy(&row.host, now)).await?;
                    rows::wake_host(&mut conn, &row.host, now).await?;
                    self.wake.notify_one();
                }
            }
            Outcome::Refused(error) => {
                tracing::info!(inbox = %row.inbox, %error, "delivery refused");
                rows::record(&mut conn, row.id, "failed", now, Some(&error), now).await?;
            }
            Outcome::Transient(error) => {
                let failures = host.as_ref().map_or(0, |h| h.failures) + 1;
                let retry_at = now + backoff(self.config.federation_retry_base_s, failures);
                let gave_up = row.attempts + 1 >= self.config.federation_max_attempts as i32;
                let state = if gave_up { "failed" } else { "retrying" };
                tracing::info!(inbox = %row.inbox, %error, failures, "delivery failed, will retry");
                rows::record(&mut conn, row.id, state, retry_at, Some(&error), now).await?;
                let health = HostRow {
                    host: row.host.clone(),
                    failures,
                    retry_at: Some(retry_at),
                    last_success_at: host.and_then(|h| h.last_success_at),
                    updated_at: now,
                };
                rows::save_host(&mut conn, &health).await?;
            }
        }
        Ok(())
    }
}

fn healthy(host: &str, now: NaiveDateTime) -> HostRow {
    HostRow {
        host: host.to_owned(),
        failures: 0,
        retry_at: None,
        last_success_at: Some(now),
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
