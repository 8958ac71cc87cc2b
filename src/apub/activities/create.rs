//! `Create{Note}` (Mastodon, Lemmy ≥ 0.20, Confab) or `Create{ChatMessage}`
//! (Pleroma, Lemmy < 0.20): a direct message to one local user, or a
//! member's message to a group hosted here. Notes addressed to nobody here
//! (public posts sent to followers) are acknowledged and ignored. Its
//! `Mention` tags that name users known here become the message's mentions.

use super::{local_group, local_user, same_origin};
use crate::apub::context::{Context, Data};
use crate::apub::games::remote_invite;
use crate::apub::objects::note::{GameCard, Note};
use crate::apub::objects::person::ApubUser;
use crate::apub::wire;
use crate::chat::games::InviteTarget;
use crate::chat::messages::RemoteMessage;
use crate::chat::ChatError;
use crate::db::ids::{MessageId, UserId};
use crate::db::users as user_rows;
use crate::error::Error;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::kinds::activity::CreateType;
use activitypub_federation::traits::Activity;
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Create {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: CreateType,
    #[serde(deserialize_with = "wire::reference")]
    pub actor: ObjectId<ApubUser>,
    #[serde(default, deserialize_with = "wire::addressees")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "wire::addressees")]
    pub cc: Vec<Url>,
    pub object: Note,
}

impl Create {
    /// The `Create` of `note`, by its author, to the note's addressees.
    pub fn of(id: Url, note: Note) -> Self {
        Self {
            id,
            kind: CreateType::Create,
            actor: note.attributed_to.clone().into(),
            to: note.to.clone(),
            cc: vec![],
            object: note,
        }
    }
}

/// Checks what every incoming `Note` must satisfy: written by the sender,
/// hosted on the sender's server, addressed to at most one local user or
/// group. Returns that recipient; `None` for a note addressed to nobody
/// here (a public post delivered to followers), which Confab ignores: it
/// keeps conversations, not timelines.
pub(super) fn check_note(note: &Note, actor: &Url, data: &Data) -> Result<Option<Url>, Error> {
    if note.attributed_to != *actor {
        return Err(Error::InvalidActivity(
            "the note is attributed to someone else".into(),
        ));
    }
    same_origin(actor, &note.id)?;
    let mut addressed: Vec<&Url> = note
        .to
        .iter()
        .chain(&note.cc)
        .chain(&note.audience)
        .collect();
    addressed.sort();
    addressed.dedup();
    let mut local = addressed.into_iter().filter(|u| data.config.is_local(u));
    match (local.next(), local.next()) {
        (Some(recipient), None) => Ok(Some(recipient.clone())),
        (None, _) => Ok(None),
        (Some(_), Some(_)) => Err(Error::InvalidActivity(
            "a direct message has exactly one recipient".into(),
        )),
    }
}

/// The users this server knows whom `note`'s `Mention` tags name (local
/// users, and remote users already stored: nobody is fetched). A tag counts
/// only when its name is written in the text (`@ada` for `@ada@host`), so
/// the `Mention` of the recipient that every direct message carries (for
/// Mastodon) does not make each one a mention.
pub(super) async fn mentioned_users(note: &Note, data: &Data) -> Result<Vec<UserId>, Error> {
    let tags = note.mentions();
    if tags.is_empty() {
        return Ok(vec![]);
    }
    let written = crate::chat::mentions::written(&note.text());
    let mut ids = vec![];
    for tag in tags.iter().take(crate::chat::mentions::MENTIONS_MAX) {
        let name = tag
            .name
            .trim_start_matches('@')
            .split('@')
            .next()
            .unwrap_or_default();
        if !written.iter().any(|w| w.name.eq_ignore_ascii_case(name)) {
            continue;
        }
        let id = if data.config.is_local(&tag.href) {
            match local_user(&tag.href, data).await {
                Ok(id) => Some(id),
                Err(Error::Chat(ChatError::NotFound(_)) | Error::InvalidActivity(_)) => None,
                Err(e) => return Err(e),
            }
        } else {
            user_rows::find_by_ap_id(&mut data.chat.db().read().await?, tag.href.as_str())
                .await?
                .map(|row| row.id)
        };
        if let Some(id) = id.filter(|id| !ids.contains(id)) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// The message written here that `url` names (`/messages/{id}`).
pub(crate) fn local_message(url: &Url, data: &Data) -> Option<MessageId> {
    data.urls().message_id(url)
}

/// The id of the message `in_reply_to` names, if we have it.
pub(super) async fn reply_target(
    in_reply_to: Option<&Url>,
    data: &Data,
) -> Result<Option<MessageId>, Error> {
    let Some(url) = in_reply_to else {
        return Ok(None);
    };
    if data.config.is_local(url) {
        return Ok(local_message(url, data));
    }
    Ok(data.chat.message_id_by_ap_id(url.as_str()).await?)
}

#[async_trait::async_trait]
impl Activity for Create {
    type DataType = Context;
    type Error = Error;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        self.actor.inner()
    }

    async fn verify(&self, data: &Data) -> Result<(), Error> {
        check_note(&self.object, self.actor.inner(), data).map(|_| ())
    }

    async fn receive(self, data: &Data) -> Result<(), Error> {
        let Some(recipient) = check_note(&self.object, self.actor.inner(), data)? else {
            tracing::debug!(id = %self.object.id, "a note for nobody here ignored");
            return Ok(());
        };
        let author = self.actor.dereference(data).await?;
        let reply_to = reply_target(self.object.in_reply_to.as_ref(), data).await?;
        if let Some(group) = local_group(&recipient, data) {
            // A member writes to a group hosted here: same rights checks as a
            // local member; the message is then relayed to the others.
            if let Some(card) = self.object.game_invite {
                let invite = remote_invite(card, data).await?;
                let target = InviteTarget::Group(group);
                data.chat
                    .receive_game_invite(author.id(), target, invite, self.object.id.as_str())
                    .await?;
                return Ok(());
            }
            let mentions = mentioned_users(&self.object, data).await?;
            data.chat
                .receive_group_message(
                    author.id(),
                    group,
                    RemoteMessage {
                        body: self.object.text(),
                        ap_id: self.object.id.as_str(),
                        reply_to,
                        mentions,
                        attachments: self.object.remote_attachments(),
                    },
                )
                .await?;
            return Ok(());
        }
        let recipient = local_user(&recipient, data).await?;
        if let Some(card) = self.object.game_invite {
            // In a direct chat the recipient is the invitee, whatever it says.
            let card = GameCard {
                invitee: None,
                ..card
            };
            let invite = remote_invite(card, data).await?;
            let target = InviteTarget::Direct(recipient);
            data.chat
                .receive_game_invite(author.id(), target, invite, self.object.id.as_str())
                .await?;
            return Ok(());
        }
        let mentions = mentioned_users(&self.object, data).await?;
        data.chat
            .receive_direct_message(
                author.id(),
                recipient,
                RemoteMessage {
                    body: self.object.text(),
                    ap_id: self.object.id.as_str(),
                    reply_to,
                    mentions,
                    attachments: self.object.remote_attachments(),
                },
            )
            .await?;
        Ok(())
    }
}
