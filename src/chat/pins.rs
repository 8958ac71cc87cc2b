//! Pinned messages of groups: admins and the owner pin and unpin
//! (`message.pin`, `message.unpin`), leaving a system line; every member
//! reads the list (`conversation.pins`, the REST read) and gets
//! `conversation.pins` when it changes. At most [`PINS_MAX`] per group.
//! Pins are kept by the server that hosts the group and do not federate
//! yet, so only groups hosted here take them.
//!
//! Must not import axum, activitypub_federation, `api`, `ws` or `apub`.

use super::events::Notice;
use super::views::{Conversation, Message, Rights};
use super::{Chat, ChatError, ChatResult};
use crate::db::ids::{ConversationId, MessageId, UserId};
use crate::db::messages::{self as message_rows, MessageRow};
use crate::db::pins::{self as rows, Added, PinRow};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use utoipa::ToSchema;

/// Pins per group.
pub const PINS_MAX: i64 = 50;

/// One pinned message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Pin {
    pub message: Message,
    /// Who pinned it; `null` once their account is deleted.
    pub pinned_by: Option<UserId>,
    pub pinned_at: DateTime<Utc>,
}

/// A group's pins, oldest pin first: the result of `conversation.pins`,
/// `message.pin` and `message.unpin`, and the `conversation.pins` push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Pins {
    pub conversation: ConversationId,
    pub pins: Vec<Pin>,
}

impl Chat {
    /// Pins a message of a group hosted here (admins); pinning it again
    /// changes nothing.
    pub async fn pin(&self, actor: UserId, message: MessageId) -> ChatResult<Pins> {
        let (row, conversation) = self.pinnable(actor, message).await?;
        let pin = PinRow {
            conversation_id: conversation.id,
            message_id: row.id,
            pinned_by: Some(actor),
            pinned_at: Utc::now().naive_utc(),
        };
        // The write connection goes back before the system message is
        // written (SQLite has one).
        let added = rows::add(&mut self.db.write().await?, &pin, PINS_MAX).await?;
        match added {
            Added::New => {
                let what = json!({"action": "message_pinned", "message": row.id});
                self.system_message(&conversation, actor, what).await?;
                self.publish_pins(&conversation).await?.view(actor)
            }
            Added::Already => self.pins(actor, conversation.id).await,
            Added::Full => Err(ChatError::LimitReached(format!(
                "a group holds at most {PINS_MAX} pinned messages"
            ))),
        }
    }

    /// Unpins a message (admins); unpinning one that is not pinned changes
    /// nothing.
    pub async fn unpin(&self, actor: UserId, message: MessageId) -> ChatResult<Pins> {
        let (row, conversation) = self.pinnable(actor, message).await?;
        if rows::remove(&mut self.db.write().await?, row.id).await? {
            let what = json!({"action": "message_unpinned", "message": row.id});
            self.system_message(&conversation, actor, what).await?;
            self.publish_pins(&conversation).await?.view(actor)
        } else {
            self.pins(actor, conversation.id).await
        }
    }

    /// The pins of a conversation `user` is a member of, without those of
    /// messages whose author they block (a direct conversation has none).
    pub async fn pins(&self, user: UserId, conversation: ConversationId) -> ChatResult<Pins> {
        self.membership(&mut self.db.read().await?, conversation, user)
            .await?;
        self.pin_set(conversation).await?.view(user)
    }

    /// Drops the pin of a message that was deleted, telling the members.
    pub(super) async fn unpin_deleted(
        &self,
        conversation: &Conversation,
        message: MessageId,
    ) -> ChatResult<()> {
        if rows::remove(&mut self.db.write().await?, message).await? {
            self.publish_pins(conversation).await?;
        }
        Ok(())
    }

    /// The live, non-system message and its group hosted here, where
    /// `actor` is an admin or the owner and can see the message.
    async fn pinnable(
        &self,
        actor: UserId,
        message: MessageId,
    ) -> ChatResult<(MessageRow, Conversation)> {
        let mut conn = self.db.read().await?;
        let row = message_rows::find(&mut conn, message)
            .await?
            .filter(|m| m.deleted_at.is_none())
            .ok_or(ChatError::NotFound("message"))?;
        let (conversation, _) = self
            .group_as(&mut conn, row.conversation_id, actor, Rights::Admin)
            .await?;
        drop(conn);
        if let Some(author) = row.author_id {
            if self.blockers(author).await?.contains(&actor) {
                return Err(ChatError::NotFound("message"));
            }
        }
        if row.kind == "system" {
            return Err(ChatError::Forbidden(
                "system messages cannot be pinned".into(),
            ));
        }
        Ok((row, conversation))
    }

    /// The pins of a conversation with, for each author, who blocks them.
    async fn pin_set(&self, conversation: ConversationId) -> ChatResult<PinSet> {
        let mut conn = self.db.read().await?;
        let rows = rows::list(&mut conn, conversation).await?;
        let (pins, messages): (Vec<PinRow>, Vec<MessageRow>) = rows.into_iter().unzip();
        let mut messages = messages
            .into_iter()
            .map(Message::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        self.attach_media(&mut conn, &mut messages).await?;
        drop(conn);
        let all: Vec<(PinRow, Message)> = pins.into_iter().zip(messages).collect();
        let mut blockers = HashMap::new();
        for author in all.iter().filter_map(|(_, m)| m.author) {
            if let Entry::Vacant(slot) = blockers.entry(author) {
                slot.insert(self.blockers(author).await?);
            }
        }
        Ok(PinSet {
            conversation,
            all,
            blockers,
        })
    }

    /// Pushes `conversation.pins` to every member, each without the pins
    /// of authors they block (members who see the same list share a push).
    async fn publish_pins(&self, conversation: &Conversation) -> ChatResult<PinSet> {
        let set = self.pin_set(conversation.id).await?;
        let mut pushes: HashMap<Vec<MessageId>, Vec<UserId>> = HashMap::new();
        for member in conversation.member_ids() {
            let seen = set.seen_by(member).map(|(p, _)| p.message_id).collect();
            pushes.entry(seen).or_default().push(member);
        }
        for audience in pushes.into_values() {
            if let Some(&first) = audience.first() {
                self.notify(audience, Notice::Pins(set.view(first)?));
            }
        }
        Ok(set)
    }
}

/// A conversation's pins as stored (messages with their attachments), and
/// who blocks each pinned author.
struct PinSet {
    conversation: ConversationId,
    all: Vec<(PinRow, Message)>,
    blockers: HashMap<UserId, Arc<HashSet<UserId>>>,
}

impl PinSet {
    /// The pins whose author `reader` does not block.
    fn seen_by(&self, reader: UserId) -> impl Iterator<Item = &(PinRow, Message)> {
        self.all.iter().filter(move |(_, m)| {
            !m.author
                .is_some_and(|a| self.blockers.get(&a).is_some_and(|b| b.contains(&reader)))
        })
    }

    /// What `reader` sees.
    fn view(&self, reader: UserId) -> ChatResult<Pins> {
        let pins = self
            .seen_by(reader)
            .map(|(p, m)| Pin {
                message: m.clone(),
                pinned_by: p.pinned_by,
                pinned_at: p.pinned_at.and_utc(),
            })
            .collect();
        Ok(Pins {
            conversation: self.conversation,
            pins,
        })
    }
}
