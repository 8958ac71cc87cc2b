//! Outgoing activities: turns a local user's [`Outgoing`] change into
//! activities and stores one delivery row per (activity, inbox) before the
//! user is answered. Recipients on one host share its shared inbox. The
//! delivery worker (`delivery.rs`) sends the rows. One file per kind of
//! change: `contacts`, `messages`, `reactions`, `groups`, `reports`.

mod contacts;
mod groups;
mod messages;
mod reactions;
mod reports;
mod stickers;

use super::delivery::Handoff;
use super::objects::note::Note;
use super::objects::person::{host_with_port, ApubUser};
use crate::chat::federation::Outgoing;
use crate::chat::{ChatError, ChatResult};
use crate::config::Config;
use crate::db::conversations::{self as conversation_rows, ConversationRow};
use crate::db::deliveries::{self as delivery_rows, DeliveryRow};
use crate::db::ids::{ConversationId, DeliveryId, MessageId, UserId};
use crate::db::users as user_rows;
use crate::db::Db;
use crate::db::DbError;
use chrono::Utc;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use url::Url;

/// The contexts of everything we emit: ActivityStreams and security only.
pub(super) fn with_context(activity: impl Serialize) -> Result<Value, ChatError> {
    let mut value =
        serde_json::to_value(activity).map_err(|e| ChatError::Internal(e.to_string()))?;
    if let Value::Object(map) = &mut value {
        map.insert(
            "@context".into(),
            json!([
                "https://www.w3.org/ns/activitystreams",
                "https://w3id.org/security/v1"
            ]),
        );
    }
    Ok(value)
}

/// What `GET /messages/{id}` serves.
pub enum Published {
    Note {
        note: Box<Note>,
        members: Vec<UserId>,
    },
    Tombstone(Url),
}

/// Stores outgoing activities and hands them to the delivery worker.
pub struct Queue {
    pub(super) db: Db,
    config: Arc<Config>,
    /// Signs the media links of federated attachments.
    links: Arc<crate::media::capability::Signer>,
    /// Where stored rows go to the delivery worker.
    pub handoff: Arc<Handoff>,
    /// The task that stores rows, many changes per transaction.
    inserts: mpsc::UnboundedSender<Insert>,
    /// Actors read recently (a message send needs its author and
    /// recipients; they change rarely).
    actors: Mutex<HashMap<UserId, (ApubUser, Instant)>>,
    /// Conversations read recently (every message send needs its own).
    conversations: Mutex<HashMap<ConversationId, (ConversationRow, Instant)>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Rows to store, and the change waiting for them to be durable.
struct Insert {
    rows: Vec<DeliveryRow>,
    done: oneshot::Sender<Result<(), DbError>>,
}

/// Rows stored per transaction, at most.
const INSERT_BATCH: usize = 512;

/// Stores what arrives while the previous transaction runs in one
/// transaction (group commit: under load, many changes per commit), then
/// answers each change and hands the stored rows to the worker. If a batch
/// fails, each change is stored alone, so each gets its own answer.
async fn store_batches(
    db: Db,
    handoff: Arc<Handoff>,
    mut inserts: mpsc::UnboundedReceiver<Insert>,
) {
    while let Some(first) = inserts.recv().await {
        let mut batch = vec![first];
        while batch.iter().map(|i| i.rows.len()).sum::<usize>() < INSERT_BATCH {
            match inserts.try_recv() {
                Ok(insert) => batch.push(insert),
                Err(_) => break,
            }
        }
        let rows: Vec<DeliveryRow> = batch.iter().flat_map(|i| i.rows.iter().cloned()).collect();
        match store(&db, &handoff, rows).await {
            Ok(()) => batch.into_iter().for_each(|i| {
                let _ = i.done.send(Ok(()));
            }),
            Err(e) if batch.len() == 1 => {
                if let Some(insert) = batch.pop() {
                    let _ = insert.done.send(Err(e));
                }
            }
            Err(_) => {
                for insert in batch {
                    let result = store(&db, &handoff, insert.rows).await;
                    let _ = insert.done.send(result);
                }
            }
        }
    }
}

/// Stores rows in one transaction and hands those stored to the worker.
async fn store(db: &Db, handoff: &Handoff, rows: Vec<DeliveryRow>) -> Result<(), DbError> {
    let stored: HashSet<DeliveryId> = delivery_rows::insert_all(&mut db.write().await?, &rows)
        .await?
        .into_iter()
        .collect();
    handoff.push(
        rows.into_iter()
            .filter(|r| stored.contains(&r.id))
            .collect(),
    );
    Ok(())
}

/// How long an actor read from the database is reused.
const ACTOR_TTL: Duration = Duration::from_secs(60);

/// The `instance_settings` key under which a deleted group's key is kept.
pub fn retired_key(actor: &str) -> String {
    format!("retired_key:{actor}")
}

pub(super) fn url(text: &str) -> Result<Url, ChatError> {
    Url::parse(text).map_err(|e| ChatError::Internal(format!("bad URL {text}: {e}")))
}

impl Queue {
    /// Also starts the task that stores rows (inside a Tokio runtime).
    pub fn new(db: Db, config: Arc<Config>, links: Arc<crate::media::capability::Signer>) -> Self {
        let handoff = Arc::new(Handoff::default());
        let (inserts, pending) = mpsc::unbounded_channel();
        tokio::spawn(store_batches(db.clone(), handoff.clone(), pending));
        Self {
            db,
            config,
            links,
            handoff,
            inserts,
            actors: Mutex::default(),
            conversations: Mutex::default(),
        }
    }

    pub(super) fn base(&self) -> String {
        self.config.public_base()
    }

    /// This server's URL scheme.
    pub(in crate::apub) fn urls(&self) -> crate::apub::urls::LocalUrls {
        crate::apub::urls::LocalUrls::new(self.config.public_base())
    }

    /// A user as an actor; a local one gets its keypair on first use.
    pub(super) async fn actor(&self, id: UserId) -> ChatResult<ApubUser> {
        let cached = lock(&self.actors)
            .get(&id)
            .filter(|(_, at)| at.elapsed() < ACTOR_TTL)
            .map(|(actor, _)| actor.clone());
        if let Some(actor) = cached {
            return Ok(actor);
        }
        let actor = self.load_actor(id).await?;
        lock(&self.actors).insert(id, (actor.clone(), Instant::now()));
        Ok(actor)
    }

    /// A conversation row, reused for a minute: what the queue reads of it
    /// (kind, ActivityPub id, inbox, the group's key once made) does not
    /// change.
    pub(super) async fn conversation(&self, id: ConversationId) -> ChatResult<ConversationRow> {
        let cached = lock(&self.conversations)
            .get(&id)
            .filter(|(_, at)| at.elapsed() < ACTOR_TTL)
            .map(|(row, _)| row.clone());
        if let Some(row) = cached {
            return Ok(row);
        }
        let row = conversation_rows::find(&mut self.db.read().await?, id)
            .await?
            .ok_or(ChatError::NotFound("conversation"))?;
        lock(&self.conversations).insert(id, (row.clone(), Instant::now()));
        Ok(row)
    }

    async fn load_actor(&self, id: UserId) -> ChatResult<ApubUser> {
        let row = user_rows::find_by_id(&mut self.db.read().await?, id)
            .await?
            .ok_or(ChatError::NotFound("user"))?;
        ApubUser::from_row(row, &self.base()).map_err(|e| ChatError::Internal(e.to_string()))
    }

    /// Makes sure a local actor that is about to sign has a keypair (made on
    /// first use; the delivery worker reads it when it sends).
    pub(super) async fn ensure_key(&self, actor: &ApubUser) -> ChatResult<()> {
        if !actor.is_local() || actor.row.private_key_pem.is_some() {
            return Ok(());
        }
        let (public, private) = tokio::task::spawn_blocking(super::keys::generate_keypair)
            .await
            .map_err(|e| ChatError::Internal(e.to_string()))?
            .map_err(ChatError::Internal)?;
        user_rows::set_keypair_once(&mut self.db.write().await?, actor.id(), &public, &private)
            .await?;
        lock(&self.actors).remove(&actor.id());
        Ok(())
    }

    /// Stores one delivery per distinct inbox of `recipients` (shared inbox
    /// when they have one), durably, and hands them to the worker.
    pub(super) async fn enqueue(
        &self,
        signer: &Url,
        activity: Value,
        activity_id: &Url,
        recipients: &[ApubUser],
        message: Option<MessageId>,
    ) -> ChatResult<()> {
        let inboxes: Vec<(Url, Option<UserId>)> = recipients
            .iter()
            .filter(|r| !r.is_local())
            .map(|r| (r.delivery_inbox(), Some(r.id())))
            .collect();
        self.enqueue_to(signer, activity, activity_id, &inboxes, message)
            .await
    }

    /// Stores one delivery per distinct inbox.
    pub(super) async fn enqueue_to(
        &self,
        signer: &Url,
        activity: Value,
        activity_id: &Url,
        inboxes: &[(Url, Option<UserId>)],
        message: Option<MessageId>,
    ) -> ChatResult<()> {
        let body = activity.to_string();
        let now = Utc::now().naive_utc();
        let mut rows: Vec<DeliveryRow> = vec![];
        for (inbox, recipient) in inboxes {
            if rows.iter().any(|r| r.inbox == inbox.as_str()) {
                continue;
            }
            rows.push(DeliveryRow {
                id: DeliveryId::new(),
                activity_id: activity_id.to_string(),
                signer: signer.to_string(),
                host: host_with_port(inbox),
                inbox: inbox.to_string(),
                body: body.clone(),
                message_id: message,
                recipient_id: *recipient,
                state: "queued".into(),
                attempts: 0,
                next_attempt_at: now,
                last_error: None,
                created_at: now,
                updated_at: now,
            });
        }
        if rows.is_empty() {
            return Ok(());
        }
        let (done, stored) = oneshot::channel();
        self.inserts
            .send(Insert { rows, done })
            .map_err(|_| ChatError::Internal("the delivery store has stopped".into()))?;
        stored
            .await
            .map_err(|_| ChatError::Internal("the delivery store has stopped".into()))??;
        Ok(())
    }
}

impl Queue {
    /// Queues the activities for `change`; returns once they are stored.
    pub async fn outgoing(&self, change: Outgoing) -> ChatResult<()> {
        {
            match change {
                Outgoing::Contact { actor, change, row } => self.contact(actor, change, row).await,
                Outgoing::Block {
                    blocker,
                    blocked,
                    active,
                    undone,
                } => self.block(blocker, blocked, active, undone).await,
                Outgoing::Message {
                    message,
                    stored,
                    change,
                    recipients,
                } => self.message(message, stored, change, &recipients).await,
                Outgoing::Reaction {
                    message,
                    actor,
                    emoji,
                    made_at,
                    added,
                    recipients,
                } => {
                    let change = reactions::ReactionChange {
                        message,
                        actor,
                        emoji,
                        made_at,
                        added,
                    };
                    self.reaction(change, &recipients).await
                }
                Outgoing::Group {
                    conversation,
                    removed,
                } => self.group(conversation, &removed).await,
                Outgoing::GameAnswer {
                    message,
                    answerer,
                    accepted,
                } => self.game_answer(message, answerer, accepted).await,
                Outgoing::JoinAnswered {
                    conversation,
                    user,
                    follow_id,
                    approved,
                } => {
                    self.join_answered(conversation, user, &follow_id, approved)
                        .await
                }
                Outgoing::JoinGroup { user, group, inbox } => {
                    self.join_group(user, &group, &inbox).await
                }
                Outgoing::LeftGroup { user, group, inbox } => {
                    self.left_group(user, &group, &inbox).await
                }
                Outgoing::ManageGroup {
                    actor,
                    conversation,
                    command,
                } => self.manage_group(actor, conversation, command).await,
                Outgoing::Flag {
                    report,
                    target,
                    messages,
                    comment,
                } => self.flag(report, target, &messages, comment).await,
                Outgoing::GroupDeleted {
                    conversation,
                    members,
                } => self.group_deleted(conversation, &members).await,
            }
        }
    }
}
