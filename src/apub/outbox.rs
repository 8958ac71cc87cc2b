//! Outgoing activities: turns a local user's [`Outgoing`] change into
//! activities and stores one delivery row per (activity, inbox) before the
//! user is answered. Recipients on one host share its shared inbox. The
//! delivery worker (`delivery.rs`) sends the rows.

use super::activities::accept::{Accept, FollowRef};
use super::activities::block::Block;
use super::activities::follow::Follow;
use super::activities::new_activity_id;
use super::activities::undo::{Undo, Undoable};
use super::delivery::Handoff;
use super::html;
use super::objects::group::{rights_name, ApubGroup, GroupMember};
use super::objects::note::{Note, NoteKind, Source, Tombstone};
use super::objects::person::{host_with_port, ApubUser};
use crate::chat::federation::{ContactChange, Federation, MessageChange, Outgoing};
use crate::chat::views::Rights;
use crate::chat::{ChatError, ChatResult};
use crate::config::Config;
use crate::db::contacts::ContactRow;
use crate::db::conversations::{self as conversation_rows, ConversationRow};
use crate::db::deliveries::{self as delivery_rows, DeliveryRow};
use crate::db::ids::{ConversationId, DeliveryId, MessageId, UserId};
use crate::db::messages as message_rows;
use crate::db::settings;
use crate::db::users as user_rows;
use crate::db::Db;
use crate::db::DbError;
use activitypub_federation::kinds::activity::{
    AcceptType, BlockType, CreateType, DeleteType, RejectType, UndoType, UpdateType,
};
use chrono::Utc;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
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

/// Percent-encodes what is not a URL-safe character (for ids in paths).
pub(super) fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

pub(super) fn url(text: &str) -> Result<Url, ChatError> {
    Url::parse(text).map_err(|e| ChatError::Internal(format!("bad URL {text}: {e}")))
}

impl Queue {
    /// Also starts the task that stores rows (inside a Tokio runtime).
    pub fn new(db: Db, config: Arc<Config>) -> Self {
        let handoff = Arc::new(Handoff::default());
        let (inserts, pending) = mpsc::unbounded_channel();
        tokio::spawn(store_batches(db.clone(), handoff.clone(), pending));
        Self {
            db,
            config,
            handoff,
            inserts,
            actors: Mutex::default(),
            conversations: Mutex::default(),
        }
    }

    pub(super) fn base(&self) -> String {
        self.config.public_base()
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
        let (public, private) = tokio::task::spawn_blocking(super::generate_keypair)
            .await
            .map_err(|e| ChatError::Internal(e.to_string()))?
            .map_err(ChatError::Internal)?;
        user_rows::set_keypair_once(&mut self.db.write().await?, actor.id(), &public, &private)
            .await?;
        lock(&self.actors).remove(&actor.id());
        Ok(())
    }

    /// The id of `follower`'s `Follow` of `followed` made when the link row
    /// was created (or, for the reciprocal follow, accepted).
    fn follow_id(
        &self,
        follower: &ApubUser,
        followed: &ApubUser,
        at: chrono::NaiveDateTime,
    ) -> ChatResult<Url> {
        url(&format!(
            "{}/users/{}/follows/{}/{}",
            self.base(),
            follower.row.name,
            followed.id(),
            at.and_utc().timestamp_millis()
        ))
    }

    /// The `Follow` a link row stands for (the requester's), with the id the
    /// remote side gave it when it was theirs.
    fn row_follow(
        &self,
        row: &ContactRow,
        requester: &ApubUser,
        addressee: &ApubUser,
    ) -> ChatResult<Follow> {
        let id = match &row.follow_id {
            Some(id) => url(id)?,
            None => self.follow_id(requester, addressee, row.created_at)?,
        };
        Ok(Follow::new(id, requester, addressee))
    }

    /// The reciprocal `Follow` (addressee → requester) sent on acceptance.
    fn reciprocal_follow(
        &self,
        row: &ContactRow,
        requester: &ApubUser,
        addressee: &ApubUser,
    ) -> ChatResult<Follow> {
        Ok(Follow::new(
            self.follow_id(addressee, requester, row.updated_at)?,
            addressee,
            requester,
        ))
    }

    /// Answers a remote `Follow` with `Accept` (the link is accepted).
    pub async fn accept_follow(
        &self,
        local: &ApubUser,
        remote: &ApubUser,
        follow: &Follow,
    ) -> ChatResult<()> {
        let accept = Accept {
            id: url(&new_activity_id(&self.base()))?,
            kind: AcceptType::Accept,
            actor: local.ap_id.clone().into(),
            object: FollowRef::Embedded(follow.clone()),
        };
        self.ensure_key(local).await?;
        self.enqueue(
            &local.ap_id,
            with_context(&accept)?,
            &accept.id,
            std::slice::from_ref(remote),
            None,
        )
        .await
    }

    async fn contact(
        &self,
        actor: UserId,
        change: ContactChange,
        row: ContactRow,
    ) -> ChatResult<()> {
        let requester = self.actor(row.requester_id).await?;
        let addressee = self.actor(row.addressee_id).await?;
        let (local, remote) = if actor == requester.id() {
            (&requester, &addressee)
        } else {
            (&addressee, &requester)
        };
        if !local.is_local() || remote.is_local() {
            return Ok(());
        }
        self.ensure_key(local).await?;
        let follow = self.row_follow(&row, &requester, &addressee)?;
        let mut activities: Vec<(Url, Value)> = vec![];
        let base = self.base();
        let answer = |kind: &str, object: Value| -> ChatResult<(Url, Value)> {
            let id = url(&new_activity_id(&base))?;
            let value = with_context(
                json!({"id": id, "type": kind, "actor": local.ap_id, "object": object}),
            )?;
            Ok((id, value))
        };
        match change {
            ContactChange::Invited => activities.push((follow.id.clone(), with_context(&follow)?)),
            ContactChange::Accepted => {
                activities.push(answer(
                    AcceptType::Accept.to_string().as_str(),
                    json!(follow),
                )?);
                let reciprocal = self.reciprocal_follow(&row, &requester, &addressee)?;
                activities.push((reciprocal.id.clone(), with_context(&reciprocal)?));
            }
            ContactChange::Declined => activities.push(answer(
                RejectType::Reject.to_string().as_str(),
                json!(follow),
            )?),
            ContactChange::Cancelled => {
                activities.push(answer(UndoType::Undo.to_string().as_str(), json!(follow))?)
            }
            ContactChange::Removed => {
                let reciprocal = self.reciprocal_follow(&row, &requester, &addressee)?;
                let (own, theirs) = if local.id() == requester.id() {
                    (follow, reciprocal)
                } else {
                    (reciprocal, follow)
                };
                activities.push(answer(UndoType::Undo.to_string().as_str(), json!(own))?);
                activities.push(answer(
                    RejectType::Reject.to_string().as_str(),
                    json!(theirs),
                )?);
            }
        }
        for (id, activity) in activities {
            self.enqueue(
                &local.ap_id,
                activity,
                &id,
                std::slice::from_ref(remote),
                None,
            )
            .await?;
        }
        Ok(())
    }

    async fn block(&self, blocker: UserId, blocked: UserId, active: bool) -> ChatResult<()> {
        if !self.config.federation_send_blocks {
            return Ok(());
        }
        let blocker = self.actor(blocker).await?;
        let blocked = self.actor(blocked).await?;
        if !blocker.is_local() || blocked.is_local() {
            return Ok(());
        }
        self.ensure_key(&blocker).await?;
        let block = Block {
            id: url(&format!(
                "{}/users/{}/blocks/{}",
                self.base(),
                blocker.row.name,
                blocked.id()
            ))?,
            kind: BlockType::Block,
            actor: blocker.ap_id.clone().into(),
            object: blocked.ap_id.clone().into(),
        };
        if active {
            return self
                .enqueue(
                    &blocker.ap_id,
                    with_context(&block)?,
                    &block.id.clone(),
                    &[blocked],
                    None,
                )
                .await;
        }
        let undo = Undo {
            id: url(&new_activity_id(&self.base()))?,
            kind: UndoType::Undo,
            actor: blocker.ap_id.clone().into(),
            object: Undoable::Block(block),
        };
        self.enqueue(
            &blocker.ap_id,
            with_context(&undo)?,
            &undo.id,
            &[blocked],
            None,
        )
        .await
    }

    /// The ActivityPub id of a message: ours, or the remote one it came with.
    pub(super) fn message_url(
        &self,
        row: &message_rows::MessageRow,
        author_is_local: bool,
    ) -> ChatResult<Url> {
        match (&row.client_id, author_is_local) {
            (Some(ap_id), false) => url(ap_id),
            _ => url(&format!("{}/messages/{}", self.base(), row.id)),
        }
    }

    /// The `Note` of a stored message addressed to `to`, with a `Mention`
    /// of each user in `mentioned`.
    async fn note(
        &self,
        row: &message_rows::MessageRow,
        author: &ApubUser,
        to: Vec<Url>,
        mentioned: &[ApubUser],
        audience: Option<Url>,
    ) -> ChatResult<Note> {
        let in_reply_to = match row.reply_to {
            Some(reply) => self.reply_url(reply).await?,
            None => None,
        };
        let tag = mentioned
            .iter()
            .map(|r| json!({"type": "Mention", "href": r.ap_id, "name": r.handle()}))
            .collect();
        let context = match &audience {
            Some(group) => group.clone(),
            None => url(&format!(
                "{}/conversations/{}",
                self.base(),
                row.conversation_id
            ))?,
        };
        Ok(Note {
            id: self.message_url(row, author.is_local())?,
            kind: NoteKind::Note,
            attributed_to: author.ap_id.clone(),
            to,
            cc: vec![],
            content: html::paragraphs(&row.body),
            media_type: Some("text/html".into()),
            source: Some(Source {
                content: row.body.clone(),
                media_type: Some("text/plain".into()),
            }),
            in_reply_to,
            context: Some(context),
            audience,
            published: Some(row.created_at.and_utc()),
            updated: row.edited_at.map(|t| t.and_utc()),
            tag,
            game_invite: self.game_card(row).await?,
        })
    }

    /// The ActivityPub id of the message `reply` answers, if it exists.
    async fn reply_url(&self, reply: MessageId) -> ChatResult<Option<Url>> {
        let mut conn = self.db.read().await?;
        let Some(original) = message_rows::find(&mut conn, reply).await? else {
            return Ok(None);
        };
        let local = match original.author_id {
            Some(a) => user_rows::find_by_id(&mut conn, a)
                .await?
                .is_some_and(|u| u.domain.is_none()),
            None => true,
        };
        Ok(Some(self.message_url(&original, local)?))
    }

    /// `Create`, `Update` or `Delete` of `note` by its author.
    fn note_activity(&self, note: &Note, change: MessageChange) -> ChatResult<(Url, Value)> {
        let note_id = &note.id;
        let (kind, object, id) = match change {
            MessageChange::Created => (
                CreateType::Create.to_string(),
                json!(note),
                format!("{note_id}/activity"),
            ),
            MessageChange::Updated => (
                UpdateType::Update.to_string(),
                json!(note),
                format!("{note_id}/edits/{}", Utc::now().timestamp_millis()),
            ),
            MessageChange::Deleted => (
                DeleteType::Delete.to_string(),
                json!(Tombstone {
                    id: note_id.clone(),
                    kind: "Tombstone".into(),
                    former_type: Some("Note".into())
                }),
                format!("{note_id}/delete"),
            ),
        };
        let id = url(&id)?;
        let mut activity = with_context(json!({
            "id": id, "type": kind, "actor": note.attributed_to, "to": note.to, "cc": [], "object": object,
        }))?;
        if note.game_invite.is_some() {
            if let Some(Value::Array(context)) = activity.get_mut("@context") {
                context.push(json!({"gameInvite": "https://w3id.org/confab#gameInvite"}));
            }
        }
        Ok((id, activity))
    }

    async fn message(
        &self,
        id: MessageId,
        stored: Option<Box<message_rows::MessageRow>>,
        change: MessageChange,
        recipients: &[UserId],
    ) -> ChatResult<()> {
        let row = match stored {
            Some(row) => *row,
            None => message_rows::find(&mut self.db.read().await?, id)
                .await?
                .ok_or(ChatError::NotFound("message"))?,
        };
        let conversation = self.conversation(row.conversation_id).await?;
        let author = self
            .actor(row.author_id.ok_or(ChatError::NotFound("author"))?)
            .await?;
        let mut remote = vec![];
        for user in recipients {
            remote.push(self.actor(*user).await?);
        }
        self.ensure_key(&author).await?;
        match (conversation.kind.as_str(), &conversation.ap_id) {
            ("direct", _) if author.is_local() => {
                let to = remote.iter().map(|r| r.ap_id.clone()).collect();
                let note = self.note(&row, &author, to, &remote, None).await?;
                let (id, activity) = self.note_activity(&note, change)?;
                self.enqueue(&author.ap_id, activity, &id, &remote, Some(row.id))
                    .await
            }
            ("group", None) => {
                // Hosted here: the group relays to every member's server but
                // the author's own.
                let group = self.group_actor(conversation).await?;
                let author_host = host_with_port(&author.ap_id);
                remote.retain(|r| host_with_port(&r.ap_id) != author_host);
                let note = self
                    .note(
                        &row,
                        &author,
                        vec![group.ap_id.clone()],
                        &[],
                        Some(group.ap_id.clone()),
                    )
                    .await?;
                let (inner_id, inner) = self.note_activity(&note, change)?;
                let id = url(&format!(
                    "{}/relays/{}",
                    group.ap_id,
                    urlencode(inner_id.as_str())
                ))?;
                let to: Vec<Url> = remote.iter().map(|r| r.ap_id.clone()).collect();
                let announce = json!({"id": id, "type": "Announce", "actor": group.ap_id, "to": to, "object": inner});
                self.enqueue(
                    &group.ap_id,
                    with_context(announce)?,
                    &id,
                    &remote,
                    Some(row.id),
                )
                .await
            }
            ("group", Some(group_id)) if author.is_local() => {
                // Hosted elsewhere: only the host hears from us; it relays.
                let group_id = url(group_id)?;
                let inbox = url(conversation.inbox.as_deref().unwrap_or(group_id.as_str()))?;
                let note = self
                    .note(&row, &author, vec![group_id.clone()], &[], Some(group_id))
                    .await?;
                let (id, activity) = self.note_activity(&note, change)?;
                self.enqueue_to(&author.ap_id, activity, &id, &[(inbox, None)], Some(row.id))
                    .await
            }
            _ => Ok(()),
        }
    }

    /// A message written here, as its conversation's members may fetch it:
    /// the `Note` and the member ids, or a `Tombstone` once deleted.
    /// `None` for unknown messages and copies of remote users' messages.
    pub async fn published(&self, id: MessageId) -> ChatResult<Option<Published>> {
        let mut conn = self.db.read().await?;
        let Some(row) = message_rows::find(&mut conn, id).await? else {
            return Ok(None);
        };
        let Some(author_id) = row.author_id else {
            return Ok(None);
        };
        let conversation = conversation_rows::find(&mut conn, row.conversation_id)
            .await?
            .ok_or(ChatError::NotFound("conversation"))?;
        let members: Vec<UserId> = conversation_rows::members(&mut conn, row.conversation_id)
            .await?
            .into_iter()
            .map(|m| m.user_id)
            .collect();
        drop(conn);
        let author = self.actor(author_id).await?;
        if !author.is_local() || row.kind == "system" {
            return Ok(None);
        }
        if row.deleted_at.is_some() {
            return Ok(Some(Published::Tombstone(self.message_url(&row, true)?)));
        }
        let (to, audience) = match (conversation.kind.as_str(), &conversation.ap_id) {
            ("group", Some(group)) => (vec![url(group)?], Some(url(group)?)),
            ("group", None) => {
                let group = url(&super::objects::group::group_url(
                    &self.base(),
                    conversation.id,
                ))?;
                (vec![group.clone()], Some(group))
            }
            _ => {
                let mut to = vec![];
                for member in members.iter().filter(|m| **m != author_id) {
                    to.push(self.actor(*member).await?.ap_id);
                }
                (to, None)
            }
        };
        let note = self.note(&row, &author, to, &[], audience).await?;
        Ok(Some(Published::Note {
            note: Box::new(note),
            members,
        }))
    }

    /// A group hosted here as an actor, with a keypair made on first use.
    pub(super) async fn group_actor(&self, mut row: ConversationRow) -> ChatResult<ApubGroup> {
        if row.private_key_pem.is_none() {
            let (public, private) = tokio::task::spawn_blocking(super::generate_keypair)
                .await
                .map_err(|e| ChatError::Internal(e.to_string()))?
                .map_err(ChatError::Internal)?;
            let mut conn = self.db.write().await?;
            conversation_rows::set_keypair_once(&mut conn, row.id, &public, &private).await?;
            row = conversation_rows::find(&mut conn, row.id)
                .await?
                .ok_or(ChatError::NotFound("conversation"))?;
            lock(&self.conversations).remove(&row.id);
        }
        ApubGroup::from_row(row, &self.base()).map_err(|e| ChatError::Internal(e.to_string()))
    }

    /// Sends a group's state (members and rights included) to its remote
    /// members and to those just removed from it.
    pub(super) async fn group(&self, id: ConversationId, removed: &[UserId]) -> ChatResult<()> {
        let mut conn = self.db.read().await?;
        let Some(row) = conversation_rows::find(&mut conn, id).await? else {
            return Ok(());
        };
        if row.kind != "group" || row.ap_id.is_some() {
            return Ok(());
        }
        // A group only federates once it has (or just lost) a remote member.
        let remote_members = conversation_rows::remote_members(&mut conn, id).await?;
        drop(conn);
        let mut removed_remote = vec![];
        for user in removed {
            let user = self.actor(*user).await?;
            if !user.is_local() {
                removed_remote.push(user);
            }
        }
        if remote_members.is_empty() && removed_remote.is_empty() {
            return Ok(());
        }
        let (snapshot, mut recipients) = self.group_members(id).await?;
        recipients.extend(removed_remote);
        let group = self.group_actor(row).await?;
        let mut object = group.to_group(&self.base());
        object.updated = Some(Utc::now());
        object.members = Some(snapshot);
        let activity_id = url(&new_activity_id(&self.base()))?;
        let update = json!({
            "id": activity_id, "type": "Update", "actor": group.ap_id,
            "to": recipients.iter().map(|r| r.ap_id.clone()).collect::<Vec<_>>(), "object": object,
        });
        let mut update = with_context(update)?;
        update["@context"] = super::objects::group::group_context();
        self.enqueue(&group.ap_id, update, &activity_id, &recipients, None)
            .await
    }

    /// The members of a group hosted here as the wire lists them, and
    /// those of them who are remote.
    pub(super) async fn group_members(
        &self,
        id: ConversationId,
    ) -> ChatResult<(Vec<GroupMember>, Vec<ApubUser>)> {
        let members = conversation_rows::members(&mut self.db.read().await?, id).await?;
        let mut listed = vec![];
        let mut remote = vec![];
        for member in &members {
            let user = self.actor(member.user_id).await?;
            let rights = Rights::from_level(member.rights).map_err(ChatError::from)?;
            listed.push(GroupMember {
                actor: user.ap_id.clone(),
                rights: rights_name(rights).into(),
            });
            if !user.is_local() {
                remote.push(user);
            }
        }
        Ok((listed, remote))
    }

    /// Tells the remote members that a group hosted here is gone. The
    /// group's key is kept (retired) so the `Delete` can still be signed.
    async fn group_deleted(&self, id: ConversationId, members: &[UserId]) -> ChatResult<()> {
        let Some(row) = conversation_rows::find(&mut self.db.read().await?, id).await? else {
            return Ok(());
        };
        if row.ap_id.is_some() {
            return Ok(());
        }
        let mut recipients = vec![];
        for user in members {
            let user = self.actor(*user).await?;
            if !user.is_local() {
                recipients.push(user);
            }
        }
        if recipients.is_empty() {
            return Ok(());
        }
        let group = self.group_actor(row).await?;
        let pem = group.row.private_key_pem.clone().unwrap_or_default();
        settings::get_or_insert(
            &mut self.db.write().await?,
            &retired_key(group.ap_id.as_str()),
            || pem,
        )
        .await?;
        let activity_id = url(&format!("{}/delete", group.ap_id))?;
        let delete = json!({"id": activity_id, "type": "Delete", "actor": group.ap_id, "object": group.ap_id});
        self.enqueue(
            &group.ap_id,
            with_context(delete)?,
            &activity_id,
            &recipients,
            None,
        )
        .await
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

impl Federation for Queue {
    fn outgoing(
        &self,
        change: Outgoing,
    ) -> Pin<Box<dyn Future<Output = ChatResult<()>> + Send + '_>> {
        Box::pin(async move {
            match change {
                Outgoing::Contact { actor, change, row } => self.contact(actor, change, row).await,
                Outgoing::Block {
                    blocker,
                    blocked,
                    active,
                } => self.block(blocker, blocked, active).await,
                Outgoing::Message {
                    message,
                    stored,
                    change,
                    recipients,
                } => self.message(message, stored, change, &recipients).await,
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
                Outgoing::LeftGroup { user, group, inbox } => {
                    self.left_group(user, &group, &inbox).await
                }
                Outgoing::ManageGroup {
                    actor,
                    conversation,
                    command,
                } => self.manage_group(actor, conversation, command).await,
                Outgoing::GroupDeleted {
                    conversation,
                    members,
                } => self.group_deleted(conversation, &members).await,
            }
        })
    }
}
