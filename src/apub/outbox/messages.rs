//! Messages on the wire: the `Note` of a stored message, its `Create`,
//! `Update` or `Delete`, sent directly (direct chats, our member's post to
//! a group hosted elsewhere) or relayed as `Announce` by a group hosted
//! here; and the `Note` members' servers fetch.

use super::{url, with_context, Published, Queue};
use crate::apub::activities::announce::{Announce, Relayed};
use crate::apub::activities::create::Create;
use crate::apub::activities::delete::Delete;
use crate::apub::activities::update::Update;
use crate::apub::markdown;
use crate::apub::objects::note::{Mention, Note, NoteKind, Source};
use crate::apub::objects::person::{host_with_port, ApubUser};
use crate::apub::urls;
use crate::chat::federation::{MessageChange, StoredMessage};
use crate::chat::{ChatError, ChatResult};
use crate::db::conversations::{self as conversation_rows};
use crate::db::ids::{MessageId, UserId};
use crate::db::media as media_rows;
use crate::db::messages as message_rows;
use crate::db::users as user_rows;
use chrono::Utc;
use serde_json::{json, Value};
use url::Url;

/// How long the media links in federated messages work, in seconds: remote
/// servers may fetch attachments late (a year).
pub const FEDERATION_LINK_TTL_S: i64 = 365 * 24 * 3600;

impl Queue {
    /// The ActivityPub id of a message: ours, or the remote one it came with.
    pub(in crate::apub) fn message_url(
        &self,
        row: &message_rows::MessageRow,
        author_is_local: bool,
    ) -> ChatResult<Url> {
        match (&row.client_id, author_is_local) {
            (Some(ap_id), false) => url(ap_id),
            _ => url(&self.urls().message(row.id)),
        }
    }

    /// The `Note` of a stored message addressed to `to`, with a `Mention`
    /// of each user in `mentioned` (a direct message's recipients) and of
    /// each member the message mentions.
    pub(super) async fn note(
        &self,
        message: &StoredMessage,
        author: &ApubUser,
        to: Vec<Url>,
        mentioned: &[ApubUser],
        audience: Option<Url>,
    ) -> ChatResult<Note> {
        let row = &message.row;
        let in_reply_to = match row.reply_to {
            Some(reply) => self.reply_url(reply).await?,
            None => None,
        };
        let mut tag: Vec<Value> = mentioned
            .iter()
            .map(|r| Mention::tag(r.ap_id.clone(), r.handle()))
            .collect();
        let named: Vec<UserId> = match &row.mentions {
            Some(json) => serde_json::from_str(json)
                .map_err(|e| ChatError::Internal(format!("mentions of {}: {e}", row.id)))?,
            None => vec![],
        };
        for user in named {
            if mentioned.iter().any(|r| r.id() == user) {
                continue;
            }
            let actor = self.actor(user).await?;
            tag.push(Mention::tag(actor.ap_id.clone(), actor.handle()));
        }
        let context = match &audience {
            Some(group) => group.clone(),
            None => url(&self.urls().conversation(row.conversation_id))?,
        };
        Ok(Note {
            id: self.message_url(row, author.is_local())?,
            kind: NoteKind::Note,
            attributed_to: author.ap_id.clone(),
            to,
            cc: vec![],
            content: markdown::to_html(&row.body),
            media_type: Some("text/html".into()),
            source: Some(Source {
                content: row.body.clone(),
                media_type: Some(markdown::MEDIA_TYPE.into()),
            }),
            in_reply_to,
            context: Some(context),
            audience,
            published: Some(row.created_at.and_utc()),
            updated: row.edited_at.map(|t| t.and_utc()),
            tag,
            game_invite: self.game_card(row).await?,
            attachment: self.attachments(message).await?,
        })
    }

    /// The `attachment` of a stored message: each item as a `Document`
    /// with a signed link valid for [`FEDERATION_LINK_TTL_S`] (remote
    /// servers fetch it without a session), or the remote URL it came with.
    async fn attachments(
        &self,
        message: &StoredMessage,
    ) -> ChatResult<Vec<crate::apub::objects::note::Attachment>> {
        use crate::media::capability::Variant;
        if message.row.kind == "sticker" {
            return self.sticker_attachment(&message.row).await;
        }
        let read;
        let items = match &message.attachments {
            Some(items) => items,
            None => {
                read = media_rows::of_message(&mut self.db.read().await?, message.row.id).await?;
                &read
            }
        };
        let exp = Utc::now().timestamp() + FEDERATION_LINK_TTL_S;
        let mut out = vec![];
        for (attachment, item) in items {
            let link = match &item.remote_url {
                Some(remote) => remote.clone(),
                None => self.links.link(item.id, Variant::Original, exp),
            };
            out.push(crate::apub::objects::note::Attachment {
                kind: if item.kind == "image" {
                    "Image"
                } else {
                    "Document"
                }
                .to_owned(),
                media_type: Some(item.content_type.clone()),
                url: url(&link)?,
                name: attachment.alt_text.clone(),
                width: item.width,
                height: item.height,
                blurhash: item.blurhash.clone(),
            });
        }
        Ok(out)
    }

    /// The ActivityPub id of the message `reply` answers, if it exists.
    pub(super) async fn reply_url(&self, reply: MessageId) -> ChatResult<Option<Url>> {
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

    /// `Create`, `Update` or `Delete` of `note` by its author, as sent
    /// to members' servers (or relayed by a group hosted here).
    pub(super) fn note_activity(note: &Note, change: MessageChange) -> ChatResult<Relayed> {
        let note_id = &note.id;
        Ok(match change {
            MessageChange::Created => Relayed::Create(Box::new(Create::of(
                url(&format!("{note_id}/activity"))?,
                note.clone(),
            ))),
            MessageChange::Updated => Relayed::Update(Update::of_note(
                url(&format!(
                    "{note_id}/edits/{}",
                    Utc::now().timestamp_millis()
                ))?,
                note.clone(),
            )),
            MessageChange::Deleted => {
                Relayed::Delete(Delete::of_note(url(&format!("{note_id}/delete"))?, note))
            }
        })
    }

    /// `activity` with its `@context`: ActivityStreams and security, plus
    /// the `gameInvite` term when `note` carries an invitation.
    fn in_context(activity: impl serde::Serialize, note: &Note) -> ChatResult<Value> {
        let mut activity = with_context(activity)?;
        if note.game_invite.is_some() {
            if let Some(Value::Array(context)) = activity.get_mut("@context") {
                context.push(json!({"gameInvite": "https://w3id.org/confab#gameInvite"}));
            }
        }
        Ok(activity)
    }

    pub(super) async fn message(
        &self,
        id: MessageId,
        stored: Option<Box<StoredMessage>>,
        change: MessageChange,
        recipients: &[UserId],
    ) -> ChatResult<()> {
        let message = match stored {
            Some(message) => *message,
            None => StoredMessage::row(
                message_rows::find(&mut self.db.read().await?, id)
                    .await?
                    .ok_or(ChatError::NotFound("message"))?,
            ),
        };
        let row = &message.row;
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
                let note = self.note(&message, &author, to, &remote, None).await?;
                let activity = Self::note_activity(&note, change)?;
                let id = activity.id().clone();
                let activity = Self::in_context(activity, &note)?;
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
                        &message,
                        &author,
                        vec![group.ap_id.clone()],
                        &[],
                        Some(group.ap_id.clone()),
                    )
                    .await?;
                let inner = Self::note_activity(&note, change)?;
                let id = url(&urls::relay(&group.ap_id, inner.id()))?;
                let to: Vec<Url> = remote.iter().map(|r| r.ap_id.clone()).collect();
                let announce = Announce::relay(id.clone(), group.ap_id.clone(), to, inner);
                let announce = Self::in_context(announce, &note)?;
                self.enqueue(&group.ap_id, announce, &id, &remote, Some(row.id))
                    .await
            }
            ("group", Some(group_id)) if author.is_local() => {
                // Hosted elsewhere: only the host hears from us; it relays.
                let group_id = url(group_id)?;
                let inbox = url(conversation.inbox.as_deref().unwrap_or(group_id.as_str()))?;
                let note = self
                    .note(
                        &message,
                        &author,
                        vec![group_id.clone()],
                        &[],
                        Some(group_id),
                    )
                    .await?;
                let activity = Self::note_activity(&note, change)?;
                let id = activity.id().clone();
                let activity = Self::in_context(activity, &note)?;
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
                let group = url(&self.urls().group(conversation.id))?;
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
        let note = self
            .note(&StoredMessage::row(row), &author, to, &[], audience)
            .await?;
        Ok(Some(Published::Note {
            note: Box::new(note),
            members,
        }))
    }
}
