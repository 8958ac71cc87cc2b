//! What users and admins see of federation: each message's per-recipient
//! delivery state (for its author), the instance blocklist and the health
//! of the hosts we deliver to (for admins).

use super::principal::Principal;
use super::{Chat, ChatError, ChatResult};
use crate::db::deliveries::{self as delivery_rows, DeliveryRow};
use crate::db::federation::{self as federation_rows, InstanceBlockRow};
use crate::db::ids::{MessageId, UserId};
use crate::db::messages as message_rows;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use utoipa::ToSchema;

/// How long the blocklist read from the database is trusted (changes made
/// on this node apply at once; other nodes' within this time).
const BLOCKLIST_TTL: Duration = Duration::from_secs(10);

/// The instance blocklist kept in memory: every inbox request checks it.
#[derive(Default)]
pub(crate) struct BlocklistCache(Mutex<Option<(Arc<HashSet<String>>, Instant)>>);

impl BlocklistCache {
    fn fresh(&self) -> Option<Arc<HashSet<String>>> {
        let guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .filter(|(_, at)| at.elapsed() < BLOCKLIST_TTL)
            .map(|(set, _)| set.clone())
    }

    fn store(&self, set: Arc<HashSet<String>>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((set, Instant::now()));
    }

    fn clear(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// Failures in a row after which a host is reported dead.
pub const DEAD_AFTER_FAILURES: i32 = 5;

/// How far one delivery of a message got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    Queued,
    Delivered,
    Retrying,
    Failed,
}

/// One recipient inbox of a message: the state of the message's latest
/// version there (its newest activity), and every activity sent to it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivery {
    /// The remote user it is for (on a shared inbox: one of them).
    pub recipient: Option<UserId>,
    pub inbox: String,
    /// The newest activity's state: whether the inbox has the message as
    /// it is now.
    pub state: DeliveryState,
    pub attempts: i32,
    /// Why the newest activity's last attempt failed.
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
    /// Every activity about the message sent to this inbox, oldest first
    /// (`Create`, then an `Update` per edit, a `Delete`); the last one is
    /// the one described above.
    pub activities: Vec<ActivityDelivery>,
}

/// One activity about a message, delivered to one inbox.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActivityDelivery {
    /// The activity's id.
    pub activity: String,
    /// The change it carries: `Create`, `Update` or `Delete` (for a
    /// group hosted here, the activity its `Announce` relays).
    #[serde(rename = "type")]
    pub kind: String,
    pub state: DeliveryState,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl ActivityDelivery {
    fn from_row(row: DeliveryRow) -> Self {
        Self {
            kind: activity_type(&row.body),
            activity: row.activity_id,
            state: match row.state.as_str() {
                "delivered" => DeliveryState::Delivered,
                "retrying" => DeliveryState::Retrying,
                "failed" => DeliveryState::Failed,
                _ => DeliveryState::Queued,
            },
            attempts: row.attempts,
            last_error: row.last_error,
            updated_at: row.updated_at.and_utc(),
        }
    }
}

/// The change a stored activity makes: its `type`, or for a group's relay
/// (`Announce`) the type of the activity it carries.
fn activity_type(body: &str) -> String {
    #[derive(Deserialize)]
    struct Typed {
        #[serde(rename = "type")]
        kind: String,
        #[serde(default)]
        object: Option<serde_json::Value>,
    }
    let Ok(typed) = serde_json::from_str::<Typed>(body) else {
        return String::new();
    };
    let inner = typed
        .object
        .as_ref()
        .and_then(|o| o.get("type"))
        .and_then(|t| t.as_str());
    match (typed.kind.as_str(), inner) {
        ("Announce", Some(inner)) => inner.to_owned(),
        _ => typed.kind,
    }
}

/// Groups delivery rows (oldest first) by inbox, in the order each inbox
/// was first delivered to.
fn per_inbox(rows: Vec<DeliveryRow>) -> Vec<Delivery> {
    let mut out: Vec<Delivery> = vec![];
    for row in rows {
        let recipient = row.recipient_id;
        let inbox = row.inbox.clone();
        let activity = ActivityDelivery::from_row(row);
        match out.iter_mut().find(|d| d.inbox == inbox) {
            Some(entry) => {
                entry.state = activity.state;
                entry.attempts = activity.attempts;
                entry.last_error = activity.last_error.clone();
                entry.updated_at = activity.updated_at;
                entry.activities.push(activity);
            }
            None => out.push(Delivery {
                recipient,
                inbox,
                state: activity.state,
                attempts: activity.attempts,
                last_error: activity.last_error.clone(),
                updated_at: activity.updated_at,
                activities: vec![activity],
            }),
        }
    }
    out
}

/// A blocked instance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InstanceBlock {
    pub domain: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// A block to add.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInstanceBlock {
    /// Host name, without scheme or port.
    #[schema(min_length = 1, max_length = 253, pattern = "^[A-Za-z0-9.-]+$")]
    pub domain: String,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: String,
}

/// Delivery health of one remote host.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Host {
    pub host: String,
    /// Failures since the last success.
    pub failures: i32,
    /// Five failures in a row or more.
    pub dead: bool,
    pub retry_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
}

fn admin_only(actor: &Principal) -> ChatResult<()> {
    if actor.is_admin() {
        Ok(())
    } else {
        Err(ChatError::Forbidden("only admins manage federation".into()))
    }
}

/// A valid blocklist entry: a lowercase host name.
fn normalise_domain(domain: &str) -> ChatResult<String> {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let valid = !domain.is_empty()
        && domain.len() <= 253
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'));
    if valid {
        Ok(domain)
    } else {
        Err(ChatError::invalid(
            "domain",
            "a host name such as chat.example",
        ))
    }
}

impl Chat {
    /// Where a message the caller wrote has been delivered: one entry per
    /// remote inbox.
    pub async fn message_deliveries(
        &self,
        user: UserId,
        message: MessageId,
    ) -> ChatResult<Vec<Delivery>> {
        let mut conn = self.db.read().await?;
        let row = message_rows::find(&mut conn, message)
            .await?
            .filter(|m| m.author_id == Some(user))
            .ok_or(ChatError::NotFound("message"))?;
        let rows = delivery_rows::for_message(&mut conn, row.id).await?;
        Ok(per_inbox(rows))
    }

    /// How many deliveries are in each of `states`, for the metrics.
    pub async fn delivery_counts(
        &self,
        states: &[&'static str],
    ) -> ChatResult<Vec<(&'static str, i64)>> {
        let mut conn = self.db.read().await?;
        let mut counts = Vec::with_capacity(states.len());
        for state in states {
            counts.push((
                *state,
                delivery_rows::count_in_state(&mut conn, state).await?,
            ));
        }
        Ok(counts)
    }

    pub async fn instance_blocks(&self, actor: &Principal) -> ChatResult<Vec<InstanceBlock>> {
        admin_only(actor)?;
        let rows = federation_rows::instance_blocks(&mut self.db.read().await?).await?;
        Ok(rows.into_iter().map(block_view).collect())
    }

    /// Blocks an instance: its activities are refused, its users cannot be
    /// looked up.
    pub async fn block_instance(
        &self,
        actor: &Principal,
        new: NewInstanceBlock,
    ) -> ChatResult<InstanceBlock> {
        admin_only(actor)?;
        self.add_instance_block(new).await
    }

    /// Adds an entry to the blocklist, whoever asked (an admin, or a
    /// moderator resolving a report about that instance).
    pub(super) async fn add_instance_block(
        &self,
        new: NewInstanceBlock,
    ) -> ChatResult<InstanceBlock> {
        super::validate::single_line("reason", &new.reason, 500)?;
        let row = InstanceBlockRow {
            domain: normalise_domain(&new.domain)?,
            reason: new.reason,
            created_at: Utc::now().naive_utc(),
        };
        federation_rows::block_instance(&mut self.db.write().await?, &row).await?;
        self.blocklist.clear();
        Ok(block_view(row))
    }

    pub async fn unblock_instance(&self, actor: &Principal, domain: &str) -> ChatResult<()> {
        admin_only(actor)?;
        let domain = normalise_domain(domain).map_err(|_| ChatError::NotFound("instance block"))?;
        if federation_rows::unblock_instance(&mut self.db.write().await?, &domain).await? {
            self.blocklist.clear();
            Ok(())
        } else {
            Err(ChatError::NotFound("instance block"))
        }
    }

    /// Whether `host` (lowercase, without port) is on the blocklist.
    pub async fn is_instance_blocked(&self, host: &str) -> ChatResult<bool> {
        let set = match self.blocklist.fresh() {
            Some(set) => set,
            None => {
                let rows = federation_rows::instance_blocks(&mut self.db.read().await?).await?;
                let set: Arc<HashSet<String>> =
                    Arc::new(rows.into_iter().map(|r| r.domain).collect());
                self.blocklist.store(set.clone());
                set
            }
        };
        Ok(set.contains(host))
    }

    pub async fn federation_hosts(&self, actor: &Principal) -> ChatResult<Vec<Host>> {
        admin_only(actor)?;
        let rows = delivery_rows::hosts(&mut self.db.read().await?).await?;
        Ok(rows
            .into_iter()
            .map(|h| Host {
                dead: h.failures >= DEAD_AFTER_FAILURES,
                host: h.host,
                failures: h.failures,
                retry_at: h.retry_at.map(|t| t.and_utc()),
                last_success_at: h.last_success_at.map(|t| t.and_utc()),
            })
            .collect())
    }
}

fn block_view(row: InstanceBlockRow) -> InstanceBlock {
    InstanceBlock {
        domain: row.domain,
        reason: row.reason,
        created_at: row.created_at.and_utc(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::ids::DeliveryId;

    fn row(inbox: &str, body: &str, state: &str, minute: u32) -> DeliveryRow {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 12, 7)
            .and_then(|d| d.and_hms_opt(5, minute, 0))
            .unwrap();
        DeliveryRow {
            id: DeliveryId::new(),
            activity_id: format!("https://alpha.example/activities/{minute}"),
            signer: "https://alpha.example/users/ada".into(),
            inbox: inbox.into(),
            host: "beta.example".into(),
            body: body.into(),
            message_id: None,
            recipient_id: None,
            state: state.into(),
            attempts: 1,
            next_attempt_at: at,
            last_error: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn an_edit_adds_an_activity_to_its_inbox_entry() {
        let beta = "https://beta.example/inbox";
        let gamma = "https://gamma.example/inbox";
        let entries = per_inbox(vec![
            row(beta, r#"{"type":"Create"}"#, "delivered", 1),
            row(gamma, r#"{"type":"Create"}"#, "delivered", 1),
            row(beta, r#"{"type":"Update"}"#, "retrying", 2),
        ]);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].inbox, beta);
        assert_eq!(entries[0].state, DeliveryState::Retrying, "the newest");
        let kinds: Vec<&str> = entries[0]
            .activities
            .iter()
            .map(|a| a.kind.as_str())
            .collect();
        assert_eq!(kinds, ["Create", "Update"]);
        assert_eq!(entries[1].activities.len(), 1);
    }

    #[test]
    fn a_relay_shows_the_change_it_carries() {
        let relay = r#"{"type":"Announce","object":{"type":"Delete","object":"x"}}"#;
        assert_eq!(activity_type(relay), "Delete");
        assert_eq!(activity_type(r#"{"type":"Update","object":"x"}"#), "Update");
    }
}
