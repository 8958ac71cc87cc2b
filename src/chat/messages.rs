//! Messages: text, edits, deletions, history, read markers, catch-up after
//! a reconnect, and typing. Game invitations live in `games`.

use super::cache::Access;
use super::events::Notice;
use super::federation::{MessageChange, Outgoing, Signal, StoredMessage};
use super::history::MessagePage;
use super::validate;
use super::views::{ConversationKind, Message, Rights};
use super::writer::{Attached, Stored};
use super::{Chat, ChatError, ChatResult};
use crate::db::conversations as conversation_rows;
use crate::db::ids::{ConversationId, MessageId, UserId};
use crate::db::messages::{self as rows, MessageRow};
use crate::db::reactions as reaction_rows;
use crate::db::{contacts as contact_rows, deliveries as delivery_rows, DbConn};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::HashSet;
use std::sync::Arc;
use utoipa::ToSchema;

/// Typing notices per user that cross this server's edge (sent for a local
/// user, or received for a remote one): a burst of 10, one a second after.
pub const TYPING_QUOTA: crate::ratelimit::Quota = crate::ratelimit::Quota {
    burst: 10,
    per: std::time::Duration::from_secs(10),
};
pub const SYNC_MAX: i64 = 500;
const CLIENT_ID_MAX: usize = 64;

/// A text message to send.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    pub conversation: ConversationId,
    /// Required, except with attachments or a sticker.
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub reply_to: Option<MessageId>,
    /// Up to [`super::media::ATTACHMENTS_MAX`] of the sender's uploads,
    /// each a media id or `{"media", "alt_text"}`; with them the body may
    /// be empty.
    #[serde(default)]
    pub attachments: Vec<super::media::NewAttachment>,
    /// `false`: no preview of its first link (default `true`; the server
    /// may have previews off altogether).
    #[serde(default = "default_preview")]
    pub preview: bool,
    /// A sticker of a pack to send instead of text (no body, no
    /// attachments): the message has kind `sticker`.
    #[serde(default)]
    pub sticker: Option<crate::db::ids::StickerId>,
}

fn default_preview() -> bool {
    true
}

/// A text message as another server sent it.
#[derive(Debug)]
pub struct RemoteMessage<'a> {
    pub body: String,
    /// Its ActivityPub id, kept as its request id.
    pub ap_id: &'a str,
    pub reply_to: Option<MessageId>,
    /// The users its `Mention` tags name (those who are members count).
    pub mentions: Vec<UserId>,
    /// Its media, as links to the sender's server.
    pub attachments: Vec<super::media::RemoteAttachment>,
}

impl Chat {
    /// Whether `author` may write in the conversation right now; returns the
    /// members who will receive what they write (not those who block them).
    /// Answered from the access cache; the database is read only on a miss.
    pub(super) async fn writable(
        &self,
        conversation: ConversationId,
        author: UserId,
    ) -> ChatResult<Vec<UserId>> {
        let access = self.access(conversation).await?;
        let rights = access
            .rights_of(author)
            .ok_or(ChatError::NotFound("conversation"))?;
        if rights < Rights::Write {
            return Err(ChatError::Forbidden(
                "you have read-only rights here".into(),
            ));
        }
        if access.read_only {
            return Err(ChatError::Forbidden(
                "this conversation is read-only".into(),
            ));
        }
        self.audience(access.member_ids(), author).await
    }

    /// Members, rights and read-only flag of a conversation, cached.
    pub(super) async fn access(&self, id: ConversationId) -> ChatResult<Arc<Access>> {
        if let Some(access) = self.cache.conversation(id) {
            return Ok(access);
        }
        let epoch = self.cache.epoch();
        let mut conn = self.db.read().await?;
        let conv = self.load_conversation(&mut conn, id).await?;
        let remote = conversation_rows::remote_members(&mut conn, id).await?;
        let access = Arc::new(Access {
            kind: conv.kind,
            members: conv.members.iter().map(|m| (m.user, m.rights)).collect(),
            read_only: conv.read_only,
            remote,
            mirror: conv.hosted_by.is_some(),
        });
        self.cache.put_conversation(id, access.clone(), epoch);
        Ok(access)
    }

    /// Who sees a change to a message by `author` (everyone when the author
    /// is gone).
    pub(super) async fn audience_of(
        &self,
        members: Vec<UserId>,
        author: Option<UserId>,
    ) -> ChatResult<Vec<UserId>> {
        match author {
            Some(author) => self.audience(members, author).await,
            None => Ok(members),
        }
    }

    /// `members` without those who block `author`.
    pub(crate) async fn audience(
        &self,
        members: Vec<UserId>,
        author: UserId,
    ) -> ChatResult<Vec<UserId>> {
        let blockers = self.blockers(author).await?;
        Ok(members
            .into_iter()
            .filter(|m| !blockers.contains(m))
            .collect())
    }

    /// The users who block `user`, cached.
    pub(super) async fn blockers(&self, user: UserId) -> ChatResult<Arc<HashSet<UserId>>> {
        if let Some(blockers) = self.cache.blockers(user) {
            return Ok(blockers);
        }
        let epoch = self.cache.epoch();
        let mut conn = self.db.read().await?;
        let loaded: HashSet<UserId> = contact_rows::blockers_of(&mut conn, user)
            .await?
            .into_iter()
            .collect();
        let loaded = Arc::new(loaded);
        self.cache.put_blockers(user, loaded.clone(), epoch);
        Ok(loaded)
    }

    /// Stores a text message and pushes it; `client_id` makes a resend
    /// return the stored message instead of storing it twice.
    pub async fn send_message(
        &self,
        author: UserId,
        new: NewMessage,
        client_id: Option<&str>,
    ) -> ChatResult<Message> {
        if let Some(sticker) = new.sticker {
            return self.send_sticker(author, new, sticker, client_id).await;
        }
        if new.attachments.is_empty() || !new.body.is_empty() {
            self.check_body(&new.body)?;
        }
        let client_id = checked_client_id(client_id)?;
        let attached = self.prepare_attachments(author, &new.attachments).await?;
        let message = self
            .store_with(
                author,
                new.conversation,
                "text",
                new.body,
                new.reply_to,
                None,
                client_id,
                None,
                attached,
            )
            .await?;
        if new.preview {
            self.queue_preview(&message);
        }
        Ok(message)
    }

    /// Stores a direct message that the remote user `author` sent to the
    /// local user `recipient` (its ActivityPub id also makes a second
    /// delivery of it return the stored one). The same rules as a local
    /// send apply: they must be contacts and neither may block the other
    /// (otherwise the direct chat is missing or read-only).
    pub async fn receive_direct_message(
        &self,
        author: UserId,
        recipient: UserId,
        message: RemoteMessage<'_>,
    ) -> ChatResult<Message> {
        let conversation = self.direct_conversation(author, recipient).await?;
        self.store_remote(author, conversation, message).await
    }

    /// The direct chat of `a` and `b` (cached); 403 if they have none.
    pub async fn direct_conversation(&self, a: UserId, b: UserId) -> ChatResult<ConversationId> {
        let key = super::conversations::direct_key(a, b);
        if let Some(id) = self.cache.direct(&key) {
            return Ok(id);
        }
        let epoch = self.cache.epoch();
        let row = conversation_rows::find_direct(&mut self.db.read().await?, &key)
            .await?
            .ok_or_else(|| ChatError::Forbidden("you are not a contact of this user".into()))?;
        self.cache.put_direct(key, row.id, epoch);
        Ok(row.id)
    }

    /// Stores a remote author's message under the same rules as a local
    /// send; its ActivityPub id is kept as its request id (a second
    /// delivery returns the stored message).
    pub(crate) async fn store_remote(
        &self,
        author: UserId,
        conversation: ConversationId,
        message: RemoteMessage<'_>,
    ) -> ChatResult<Message> {
        if message.attachments.is_empty() || !message.body.trim().is_empty() {
            self.check_body(&message.body)?;
        }
        // Checked before the attachments are stored.
        self.writable(conversation, author).await?;
        let attached = self.remote_attachments(message.attachments).await?;
        let message = self
            .store_with(
                author,
                conversation,
                "text",
                message.body,
                message.reply_to,
                None,
                Some(message.ap_id.to_owned()),
                Some(&message.mentions),
                attached,
            )
            .await?;
        self.queue_preview(&message);
        Ok(message)
    }

    /// The message a remote author sent with ActivityPub id `ap_id`.
    pub async fn remote_message(&self, author: UserId, ap_id: &str) -> ChatResult<Message> {
        let row = rows::find_by_client_id(&mut self.db.read().await?, author, ap_id)
            .await?
            .ok_or(ChatError::NotFound("message"))?;
        Ok(Message::try_from(row)?)
    }

    /// The id of a remote message by its ActivityPub id.
    pub async fn message_id_by_ap_id(&self, ap_id: &str) -> ChatResult<Option<MessageId>> {
        Ok(rows::find_remote(&mut self.db.read().await?, ap_id)
            .await?
            .map(|row| row.id))
    }

    /// Tells federation about a change to a message when its author is local
    /// and remote members may see it.
    async fn federate_message(
        &self,
        message: &Message,
        change: MessageChange,
        audience: &[UserId],
        stored: Option<StoredMessage>,
    ) -> ChatResult<()> {
        let Some(author) = message.author else {
            return Ok(());
        };
        let access = self.access(message.conversation).await?;
        if access.remote.is_empty() {
            return Ok(());
        }
        // A remote author's own server federates their messages, except in
        // a group hosted here, which relays them.
        let relays = access.kind == ConversationKind::Group && !access.mirror;
        if access.remote.contains(&author) && !relays {
            return Ok(());
        }
        let recipients: Vec<UserId> = access
            .remote
            .iter()
            .filter(|u| audience.contains(u))
            .copied()
            .collect();
        if recipients.is_empty() {
            return Ok(());
        }
        self.federate(Outgoing::Message {
            message: message.id,
            stored: stored.map(Box::new),
            change,
            recipients,
        })
        .await
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn store(
        &self,
        author: UserId,
        conversation: ConversationId,
        kind: &str,
        body: String,
        reply_to: Option<MessageId>,
        game: Option<(String, Option<UserId>)>,
        client_id: Option<String>,
        named: Option<&[UserId]>,
    ) -> ChatResult<Message> {
        let none = Attached::default();
        self.store_with(
            author,
            conversation,
            kind,
            body,
            reply_to,
            game,
            client_id,
            named,
            none,
        )
        .await
    }

    /// [`Chat::store`] with attachments.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn store_with(
        &self,
        author: UserId,
        conversation: ConversationId,
        kind: &str,
        body: String,
        reply_to: Option<MessageId>,
        game: Option<(String, Option<UserId>)>,
        client_id: Option<String>,
        named: Option<&[UserId]>,
        attached: Attached,
    ) -> ChatResult<Message> {
        // Rights come from the access cache; a resend with a used request
        // id is caught by the writer (unique index), not by a read here.
        let audience = self.writable(conversation, author).await?;
        // Mentions: read from a local author's text, or named by a remote
        // author's server; only members who see the message count.
        let mut mentions = match named {
            None => self.mentioned_in(&body, &audience).await?,
            Some(ids) => ids.to_vec(),
        };
        mentions.retain(|id| *id != author && audience.contains(id));
        let (game, invitee) = game.map_or((None, None), |(g, i)| (Some(g), i));
        if let Some(invitee) = invitee {
            if !audience.contains(&invitee) {
                return Err(ChatError::NotFound("invitee"));
            }
        }
        if let Some(reply_to) = reply_to {
            let original = rows::find(&mut self.db.read().await?, reply_to).await?;
            if original.is_none_or(|m| m.conversation_id != conversation) {
                return Err(ChatError::invalid(
                    "reply_to",
                    "no such message in this conversation",
                ));
            }
        }
        let row = MessageRow {
            reply_to,
            game,
            client_id,
            mentions: super::mentions::stored(&mentions),
            ..MessageRow::new(conversation, Some(author), kind, body)
        };
        // The writer commits (batched with other sends), publishes in commit
        // order, then answers; deliveries to remote members are queued
        // before the sender hears back.
        let media = attached.pairs();
        match self
            .writer
            .write_with(row, audience.clone(), attached)
            .await?
        {
            Stored::New(row, attachments) => {
                let mut message = Message::try_from(row.clone())?;
                message.attachments = attachments;
                let stored = StoredMessage {
                    row,
                    attachments: Some(media),
                };
                self.federate_message(&message, MessageChange::Created, &audience, Some(stored))
                    .await?;
                Ok(message)
            }
            Stored::Existing(row) => {
                let mut message = Message::try_from(row.clone())?;
                let mut conn = self.db.read().await?;
                self.attach_media(&mut conn, std::slice::from_mut(&mut message))
                    .await?;
                self.attach_previews(&mut conn, std::slice::from_mut(&mut message))
                    .await?;
                drop(conn);
                if self.deliveries_missing(&row).await? {
                    // The first attempt stored the message but died before
                    // its deliveries were queued (and was never answered):
                    // the resend completes it.
                    let stored = StoredMessage::row(row);
                    self.federate_message(
                        &message,
                        MessageChange::Created,
                        &audience,
                        Some(stored),
                    )
                    .await?;
                }
                Ok(message)
            }
        }
    }

    /// Whether a stored message that remote members should get has no
    /// delivery rows at all.
    async fn deliveries_missing(&self, row: &MessageRow) -> ChatResult<bool> {
        if row.deleted_at.is_some() || self.access(row.conversation_id).await?.remote.is_empty() {
            return Ok(false);
        }
        let mut conn = self.db.read().await?;
        Ok(!delivery_rows::any_for_message(&mut conn, row.id).await?)
    }

    fn check_body(&self, body: &str) -> ChatResult<()> {
        if body.trim().is_empty() {
            return Err(ChatError::invalid("body", "must not be empty"));
        }
        validate::multi_line("body", body, self.limits.max_message_chars)
    }

    /// Replaces the body of the author's own text message.
    pub async fn edit_message(
        &self,
        user: UserId,
        message: MessageId,
        body: String,
    ) -> ChatResult<Message> {
        self.check_body(&body)?;
        let row = rows::find(&mut self.db.read().await?, message)
            .await?
            .ok_or(ChatError::NotFound("message"))?;
        let audience = self.writable(row.conversation_id, user).await?;
        if row.author_id != Some(user) || row.kind != "text" {
            return Err(ChatError::Forbidden(
                "you may only edit your own text messages".into(),
            ));
        }
        if row.deleted_at.is_some() {
            return Err(ChatError::NotFound("message"));
        }
        // A local author's mentions are read again from the new text; a
        // remote author's stay those their server named.
        let mentions = if self
            .access(row.conversation_id)
            .await?
            .remote
            .contains(&user)
        {
            row.mentions.clone()
        } else {
            let mut mentions = self.mentioned_in(&body, &audience).await?;
            mentions.retain(|id| *id != user);
            super::mentions::stored(&mentions)
        };
        let edited = rows::edit(
            &mut self.db.write().await?,
            message,
            &body,
            mentions.as_deref(),
            Utc::now().naive_utc(),
        )
        .await?
        .ok_or(ChatError::NotFound("message"))?;
        let mut edited = [Message::try_from(edited)?];
        self.attach_media(&mut self.db.read().await?, &mut edited)
            .await?;
        let [edited] = edited;
        self.federate_message(&edited, MessageChange::Updated, &audience, None)
            .await?;
        self.notify(audience, Notice::MessageUpdated(edited.clone()));
        Ok(edited)
    }

    /// Deletes a message, keeping a tombstone (its author, a group's owner,
    /// or a group admin unless the author is the owner).
    pub async fn delete_message(&self, user: UserId, message: MessageId) -> ChatResult<Message> {
        let mut conn = self.db.read().await?;
        let row = rows::find(&mut conn, message)
            .await?
            .ok_or(ChatError::NotFound("message"))?;
        let (conv, rights) = self
            .membership(&mut conn, row.conversation_id, user)
            .await?;
        // Admins' powers stop at the owner: only the owner deletes the
        // owner's messages.
        let author_rights = row.author_id.and_then(|a| conv.rights_of(a));
        let moderator = conv.kind == ConversationKind::Group
            && rights >= Rights::Admin
            && (rights == Rights::Owner || author_rights != Some(Rights::Owner));
        if row.author_id != Some(user) && !moderator {
            return Err(ChatError::Forbidden(
                "you may only delete your own messages".into(),
            ));
        }
        if row.kind == "system" {
            return Err(ChatError::Forbidden(
                "system messages cannot be deleted".into(),
            ));
        }
        drop(conn);
        self.tombstone(row, &conv).await
    }

    /// Turns a stored message into a tombstone, tells federation (when the
    /// author is local, or the group relays) and the members who saw it.
    /// Rights are the caller's to check: the author, a group admin, or an
    /// instance moderator acting on a report.
    pub(super) async fn tombstone(
        &self,
        row: MessageRow,
        conv: &super::views::Conversation,
    ) -> ChatResult<Message> {
        if row.deleted_at.is_some() {
            return Ok(Message::try_from(row)?);
        }
        let mut conn = self.db.write().await?;
        let gone = rows::tombstone(&mut conn, row.id, Utc::now().naive_utc())
            .await?
            .ok_or(ChatError::NotFound("message"))?;
        reaction_rows::clear(&mut conn, row.id).await?;
        let media = crate::db::media::detach_message(&mut conn, row.id).await?;
        crate::db::link_previews::delete(&mut conn, row.id).await?;
        drop(conn);
        self.delete_media(&media).await?;
        self.unpin_deleted(conv, row.id).await?;
        let gone = Message::try_from(gone)?;
        let audience = self.audience_of(conv.member_ids(), row.author_id).await?;
        self.federate_message(&gone, MessageChange::Deleted, &audience, None)
            .await?;
        self.notify(audience, Notice::MessageUpdated(gone.clone()));
        Ok(gone)
    }

    /// Rows as messages, minus those whose author `reader` blocks, with the
    /// reactions `reader` sees.
    pub(super) async fn visible(
        &self,
        conn: &mut DbConn<'_>,
        reader: UserId,
        rows: Vec<MessageRow>,
    ) -> ChatResult<Vec<Message>> {
        let blocked: HashSet<UserId> = contact_rows::blocked_by(conn, reader)
            .await?
            .into_iter()
            .collect();
        let mut messages = rows
            .into_iter()
            .filter(|r| !r.author_id.is_some_and(|a| blocked.contains(&a)))
            .map(Message::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        self.attach_reactions(conn, reader, &blocked, &mut messages)
            .await?;
        self.attach_media(conn, &mut messages).await?;
        self.attach_previews(conn, &mut messages).await?;
        Ok(messages)
    }

    /// Everything in `user`'s conversations created or changed after the
    /// message id `since` (which also carries its time): what a reconnecting
    /// session missed.
    pub async fn messages_since(&self, user: UserId, since: MessageId) -> ChatResult<MessagePage> {
        // The id carries milliseconds; changes within that millisecond are
        // the message itself being created.
        let changed_since = (uuid_time(since)
            .ok_or_else(|| ChatError::invalid("since", "not a message id"))?
            + chrono::Duration::milliseconds(1))
        .naive_utc();
        let mut conn = self.db.read().await?;
        let rows = rows::since(&mut conn, user, since, changed_since, SYNC_MAX + 1).await?;
        let more = rows.len() as i64 > SYNC_MAX;
        let rows = rows.into_iter().take(SYNC_MAX as usize).collect();
        let messages = self.visible(&mut conn, user, rows).await?;
        Ok(MessagePage::one_way(messages, more))
    }

    /// Moves `user`'s read marker forward to `message`; their other
    /// sessions are told, and the members who see their receipts. Returns the unread count after it.
    pub async fn mark_read(
        &self,
        user: UserId,
        conversation: ConversationId,
        message: MessageId,
    ) -> ChatResult<i64> {
        let mut conn = self.db.write().await?;
        self.membership(&mut conn, conversation, user).await?;
        let row = rows::find(&mut conn, message).await?;
        if row.is_none_or(|m| m.conversation_id != conversation) {
            return Err(ChatError::NotFound("message"));
        }
        let member = conversation_rows::member(&mut conn, conversation, user)
            .await?
            .ok_or(ChatError::NotFound("conversation"))?;
        let marker = member.last_read.map_or(message, |old| old.max(message));
        conversation_rows::set_last_read(&mut conn, conversation, user, marker).await?;
        let unread =
            conversation_rows::unread_count(&mut conn, conversation, user, Some(marker)).await?;
        drop(conn);
        if member.last_read != Some(marker) {
            self.push_read_receipt(user, conversation, marker).await?;
        }
        self.notify(
            vec![user],
            Notice::ReadMarker {
                conversation,
                message: marker,
                unread,
            },
        );
        Ok(unread)
    }

    /// Tells the other members (not those who block `user`) that `user` is
    /// typing or stopped: local members at once; remote members' servers
    /// through federation, where this server speaks for the typist (a local
    /// user, or anyone in a group hosted here, which relays). At most
    /// [`TYPING_QUOTA`] notices per user leave or enter this server; more
    /// are dropped (typing is never stored).
    pub async fn typing(
        &self,
        user: UserId,
        conversation: ConversationId,
        typing: bool,
    ) -> ChatResult<()> {
        let audience = self.writable(conversation, user).await?;
        let access = self.access(conversation).await?;
        let typist_is_remote = access.remote.contains(&user);
        if typist_is_remote && self.typing_limits.try_take(&user).is_err() {
            return Ok(());
        }
        let others: Vec<UserId> = audience.into_iter().filter(|u| *u != user).collect();
        let remote: Vec<UserId> = others
            .iter()
            .filter(|u| access.remote.contains(u))
            .copied()
            .collect();
        let notice = Notice::Typing {
            conversation,
            user,
            typing,
        };
        self.notify(others, notice);
        let relays = access.kind == ConversationKind::Group && !access.mirror;
        if remote.is_empty() || (typist_is_remote && !relays) {
            return Ok(()); // the typist's own server told the others
        }
        if !typist_is_remote && self.typing_limits.try_take(&user).is_err() {
            return Ok(());
        }
        self.federate_typing(user, conversation, typing, remote)
            .await
    }

    /// Hands a typing notice for the remote members `remote` (those on
    /// blocked instances left out) to federation.
    async fn federate_typing(
        &self,
        user: UserId,
        conversation: ConversationId,
        typing: bool,
        remote: Vec<UserId>,
    ) -> ChatResult<()> {
        let Some(federation) = &self.federation else {
            return Ok(());
        };
        let recipients = self.on_open_instances(remote).await?;
        if !recipients.is_empty() {
            federation.signal(Signal::Typing {
                user,
                conversation,
                typing,
                recipients,
            });
        }
        Ok(())
    }
}

/// The creation time inside a v7 UUID.
fn uuid_time(id: MessageId) -> Option<DateTime<Utc>> {
    let (secs, nanos) = id.0.get_timestamp()?.to_unix();
    DateTime::from_timestamp(secs as i64, nanos)
}

/// A client's request id, checked: 1-64 characters.
pub(super) fn checked_client_id(client_id: Option<&str>) -> ChatResult<Option<String>> {
    match client_id {
        Some(id) if id.is_empty() || id.chars().count() > CLIENT_ID_MAX => {
            Err(ChatError::invalid("id", "request ids are 1-64 characters"))
        }
        other => Ok(other.map(str::to_owned)),
    }
}
