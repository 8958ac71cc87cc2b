//! Game invitations across servers. The invitation is a `Note` carrying the
//! `gameInvite` card (see `objects/note.rs`); an answer is `Accept` or
//! `Reject` of that `Note` by the answerer.
//!
//! - Direct chat: the answer goes to the author's inbox.
//! - Group hosted here: every answer (local, or received from a member's
//!   server) is relayed to the members' servers as `Announce{Accept}` or
//!   `Announce{Reject}`, signed by the group.
//! - Group hosted elsewhere: our member's answer goes to the group's inbox;
//!   the host decides and relays the answer that won, which we record as
//!   given.

use super::activities::accept::{Accept, FollowRef};
use super::activities::announce::{Announce, Relayed};
use super::activities::reject::Reject;
use super::activities::user_named;
use super::context::Data;
use super::objects::note::GameCard;
use super::outbox::{url, with_context, Queue};
use super::urls;
use crate::chat::games::{GameAnswer, RemoteGameInvite};
use crate::chat::views::GameInvite;
use crate::chat::{ChatError, ChatResult};
use crate::db::conversations as conversation_rows;
use crate::db::ids::{ConversationId, MessageId, UserId};
use crate::db::messages::{self as message_rows, MessageRow};
use crate::error::Error;
use url::Url;

/// The card of a received invitation, with its invitee (an actor id)
/// resolved to a user here.
pub async fn remote_invite(card: GameCard, data: &Data) -> Result<RemoteGameInvite, Error> {
    let invitee = match &card.invitee {
        Some(actor) => Some(user_named(actor, data).await?.id()),
        None => None,
    };
    Ok(RemoteGameInvite {
        game: card.game,
        settings: card.settings,
        expires_at: card.expires_at,
        invitee,
    })
}

/// The message an answer's `object` names: written here, or received with
/// that ActivityPub id.
pub async fn answered_message(object: &Url, data: &Data) -> Result<Option<MessageId>, Error> {
    if data.config.is_local(object) {
        return Ok(super::activities::create::local_message(object, data));
    }
    Ok(data.chat.message_id_by_ap_id(object.as_str()).await?)
}

/// The host of the mirrored group `conversation` relayed `answerer`'s
/// answer to the invitation `object`.
pub async fn relayed_answer(
    conversation: ConversationId,
    answerer: &Url,
    object: &Url,
    answer: GameAnswer,
    data: &Data,
) -> Result<(), Error> {
    let Some(message) = answered_message(object, data).await? else {
        return Ok(()); // an invitation we never had (a block hid it)
    };
    let answerer = user_named(answerer, data).await?.id();
    data.chat
        .record_game_answer(conversation, message, answerer, answer)
        .await?;
    Ok(())
}

impl Queue {
    /// The `gameInvite` card of a game invitation message.
    pub(super) async fn game_card(&self, row: &MessageRow) -> ChatResult<Option<GameCard>> {
        let (Some(json), "game_invite") = (row.game.as_deref(), row.kind.as_str()) else {
            return Ok(None);
        };
        let card: GameInvite =
            serde_json::from_str(json).map_err(|e| ChatError::Internal(e.to_string()))?;
        let invitee = match card.invitee {
            Some(user) => Some(self.actor(user).await?.ap_id),
            None => None,
        };
        Ok(Some(GameCard {
            game: card.game,
            settings: card.settings,
            expires_at: Some(card.expires_at),
            invitee,
        }))
    }

    /// Sends `answerer`'s answer to the invitation `message` to whoever
    /// must hear it (see the module header).
    pub(super) async fn game_answer(
        &self,
        message: MessageId,
        answerer: UserId,
        accepted: bool,
    ) -> ChatResult<()> {
        let Some(row) = message_rows::find(&mut self.db.read().await?, message).await? else {
            return Ok(());
        };
        let author = self
            .actor(row.author_id.ok_or(ChatError::NotFound("author"))?)
            .await?;
        let answerer = self.actor(answerer).await?;
        let conversation = self.conversation(row.conversation_id).await?;
        let note = self.message_url(&row, author.is_local())?;
        let answer = |id: Url, to: Url| {
            let object = FollowRef::Id(note.clone());
            let actor = answerer.ap_id.clone();
            if accepted {
                Relayed::Accept(Accept::of(id, actor, vec![to], object))
            } else {
                Relayed::Reject(Reject::of(id, actor, vec![to], object))
            }
        };
        match (conversation.kind.as_str(), conversation.ap_id.clone()) {
            ("group", None) => {
                let group = self.group_actor(conversation).await?;
                let inner_id = url(&format!("{}/games/{}/answer", group.ap_id, row.id))?;
                let inner = answer(inner_id, group.ap_id.clone());
                let id = url(&urls::relay(&group.ap_id, inner.id()))?;
                let mut members = vec![];
                for user in conversation_rows::remote_members(
                    &mut self.db.read().await?,
                    row.conversation_id,
                )
                .await?
                {
                    members.push(self.actor(user).await?);
                }
                let to: Vec<Url> = members.iter().map(|m| m.ap_id.clone()).collect();
                let announce = Announce::relay(id.clone(), group.ap_id.clone(), to, inner);
                self.enqueue(
                    &group.ap_id,
                    with_context(announce)?,
                    &id,
                    &members,
                    Some(row.id),
                )
                .await
            }
            ("group", Some(group)) if answerer.is_local() => {
                self.ensure_key(&answerer).await?;
                let inbox = url(conversation.inbox.as_deref().unwrap_or(&group))?;
                let id = url(&self.urls().new_activity())?;
                let activity = with_context(answer(id.clone(), url(&group)?))?;
                self.enqueue_to(
                    &answerer.ap_id,
                    activity,
                    &id,
                    &[(inbox, None)],
                    Some(row.id),
                )
                .await
            }
            ("direct", _) if answerer.is_local() && !author.is_local() => {
                self.ensure_key(&answerer).await?;
                let id = url(&self.urls().new_activity())?;
                let activity = with_context(answer(id.clone(), author.ap_id.clone()))?;
                self.enqueue(
                    &answerer.ap_id,
                    activity,
                    &id,
                    std::slice::from_ref(&author),
                    Some(row.id),
                )
                .await
            }
            _ => Ok(()),
        }
    }
}
