//! Reactions on the wire: a reaction made (`EmojiReact`) or taken back
//! (`Undo{EmojiReact}`), sent by a local reactor to the other members'
//! servers of a direct chat or to the host of a group hosted elsewhere, and
//! relayed as `Announce` by a group hosted here to its members' servers.

use super::{url, with_context, Queue};
use crate::apub::activities::announce::{Announce, Relayed};
use crate::apub::activities::emoji_react::EmojiReact;
use crate::apub::activities::undo::{Undo, Undoable};
use crate::apub::objects::person::host_with_port;
use crate::apub::urls;
use crate::chat::ChatResult;
use crate::db::ids::{MessageId, UserId};
use crate::db::messages as message_rows;
use url::Url;

/// A reaction change, as `chat` hands it over.
pub(super) struct ReactionChange {
    pub message: MessageId,
    pub actor: UserId,
    pub emoji: String,
    pub made_at: chrono::NaiveDateTime,
    pub added: bool,
}

impl Queue {
    /// Queues the activity for `change` to whoever must hear it (see the
    /// module header); `recipients` are the remote members who may see it.
    pub(super) async fn reaction(
        &self,
        change: ReactionChange,
        recipients: &[UserId],
    ) -> ChatResult<()> {
        // Not tied to the message's delivery state (`message_id: None`): a
        // reaction that fails to arrive does not mark the message failed.
        let Some(row) = message_rows::find(&mut self.db.read().await?, change.message).await?
        else {
            return Ok(());
        };
        let author_local = match row.author_id {
            Some(author) => self.actor(author).await?.is_local(),
            None => true,
        };
        let note = self.message_url(&row, author_local)?;
        let reactor = self.actor(change.actor).await?;
        let conversation = self.conversation(row.conversation_id).await?;
        let made_at_us = change.made_at.and_utc().timestamp_micros();
        let activity = |id: Url, to: Vec<Url>| -> ChatResult<Relayed> {
            let react = EmojiReact::new(
                id.clone(),
                reactor.ap_id.clone(),
                note.clone(),
                change.emoji.clone(),
                to,
            );
            Ok(if change.added {
                Relayed::EmojiReact(react)
            } else {
                let undo = url(&format!("{id}/undo"))?;
                Relayed::Undo(Undo::of(
                    undo,
                    reactor.ap_id.clone(),
                    Undoable::EmojiReact(react),
                ))
            })
        };
        let mut remote = vec![];
        for user in recipients {
            remote.push(self.actor(*user).await?);
        }
        match (conversation.kind.as_str(), conversation.ap_id.clone()) {
            ("group", None) => {
                // Hosted here: relayed to every member's server but the
                // reactor's own.
                let group = self.group_actor(conversation).await?;
                let reactor_host = host_with_port(&reactor.ap_id);
                remote.retain(|r| host_with_port(&r.ap_id) != reactor_host);
                let inner_id = if reactor.is_local() {
                    self.urls().reaction(&reactor.row.name, row.id, made_at_us)
                } else {
                    urls::relayed_reaction(&group.ap_id, row.id, reactor.id(), made_at_us)
                };
                let inner = activity(url(&inner_id)?, vec![group.ap_id.clone()])?;
                let id = url(&urls::relay(&group.ap_id, inner.id()))?;
                let to: Vec<Url> = remote.iter().map(|m| m.ap_id.clone()).collect();
                let announce = Announce::relay(id.clone(), group.ap_id.clone(), to, inner);
                self.enqueue(&group.ap_id, with_context(announce)?, &id, &remote, None)
                    .await
            }
            ("group", Some(group)) if reactor.is_local() => {
                self.ensure_key(&reactor).await?;
                let group = url(&group)?;
                let inbox = url(conversation.inbox.as_deref().unwrap_or(group.as_str()))?;
                let id = url(&self.urls().reaction(&reactor.row.name, row.id, made_at_us))?;
                let activity = activity(id, vec![group])?;
                let id = activity.id().clone();
                self.enqueue_to(
                    &reactor.ap_id,
                    with_context(activity)?,
                    &id,
                    &[(inbox, None)],
                    None,
                )
                .await
            }
            ("direct", _) if reactor.is_local() => {
                self.ensure_key(&reactor).await?;
                let to = remote.iter().map(|r| r.ap_id.clone()).collect();
                let id = url(&self.urls().reaction(&reactor.row.name, row.id, made_at_us))?;
                let activity = activity(id, to)?;
                let id = activity.id().clone();
                self.enqueue(&reactor.ap_id, with_context(activity)?, &id, &remote, None)
                    .await
            }
            // A remote reactor outside a group hosted here: its own server
            // federates it.
            _ => Ok(()),
        }
    }
}
