//! `Announce` from a group hosted elsewhere (FEP-1b12): the host relays a
//! member's `Create`, `Update` or `Delete` of a message, and the `Accept`
//! or `Reject` of a game invitation that won, to every member's server.
//! The host is trusted for what is said in its group: it checked the
//! author's rights before relaying. It also relays members' `Typing`
//! (ephemeral: not recorded), and their reactions (`EmojiReact`, and
//! `Undo{EmojiReact}` for a removal).

use super::accept::{Accept, FollowRef};
use super::create::{mentioned_users, reply_target, Create};
use super::delete::Delete;
use super::emoji_react::{apply_reaction, EmojiReact, Step};
use super::reject::Reject;
use super::same_origin;
use super::typing::Typing;
use super::undo::{Undo, Undoable};
use super::update::{Update, UpdateObject};
use crate::apub::context::{Context, Data};
use crate::apub::games;
use crate::apub::objects::group::{self, ApubGroup};
use crate::apub::objects::note::Note;
use crate::apub::wire;
use crate::chat::games::{GameAnswer, InviteTarget};
use crate::chat::messages::RemoteMessage;
use crate::error::Error;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::kinds::activity::AnnounceType;
use activitypub_federation::traits::Activity;
use serde::{Deserialize, Serialize};
use url::Url;

/// What a group relays.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Relayed {
    Create(Box<Create>),
    Update(Update),
    Delete(Delete),
    Accept(Accept),
    Reject(Reject),
    Typing(Typing),
    EmojiReact(EmojiReact),
    Undo(Undo),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Announce {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: AnnounceType,
    #[serde(deserialize_with = "wire::reference")]
    pub actor: ObjectId<ApubGroup>,
    #[serde(default, deserialize_with = "wire::addressees")]
    pub to: Vec<Url>,
    pub object: Relayed,
}

impl Relayed {
    /// The relayed activity's id.
    pub fn id(&self) -> &Url {
        match self {
            Relayed::Create(a) => &a.id,
            Relayed::Update(a) => &a.id,
            Relayed::Delete(a) => &a.id,
            Relayed::Accept(a) => &a.id,
            Relayed::Reject(a) => &a.id,
            Relayed::Typing(a) => &a.id,
            Relayed::EmojiReact(a) => &a.id,
            Relayed::Undo(a) => &a.id,
        }
    }
}

impl Announce {
    /// `group` relays `object` to the members' servers `to`.
    pub fn relay(id: Url, group: Url, to: Vec<Url>, object: Relayed) -> Self {
        Self {
            id,
            kind: AnnounceType::Announce,
            actor: group.into(),
            to,
            object,
        }
    }
}

#[async_trait::async_trait]
impl Activity for Announce {
    type DataType = Context;
    type Error = Error;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        self.actor.inner()
    }

    async fn verify(&self, _data: &Data) -> Result<(), Error> {
        same_origin(self.actor.inner(), &self.id)
    }

    async fn receive(self, data: &Data) -> Result<(), Error> {
        let Some(group) = group::mirror(self.actor.inner(), data).await? else {
            return Ok(()); // no member here (any more)
        };
        let Some(_) = group.row.ap_id.as_ref() else {
            return Err(Error::InvalidActivity(
                "this server hosts that group".into(),
            ));
        };
        let conversation = group.row.id;
        match self.object {
            Relayed::Create(create) => {
                if data.config.is_local(&create.object.id) {
                    return Ok(()); // our own member's message, relayed back
                }
                let author = create.actor.dereference(data).await?;
                let reply_to = reply_target(create.object.in_reply_to.as_ref(), data).await?;
                let note: Note = create.object;
                if let Some(card) = note.game_invite {
                    let invite = games::remote_invite(card, data).await?;
                    let target = InviteTarget::Group(conversation);
                    data.chat
                        .receive_game_invite(author.id(), target, invite, note.id.as_str())
                        .await?;
                    return Ok(());
                }
                let mentions = mentioned_users(&note, data).await?;
                data.chat
                    .receive_group_message(
                        author.id(),
                        conversation,
                        RemoteMessage {
                            body: note.text(),
                            ap_id: note.id.as_str(),
                            reply_to,
                            mentions,
                            attachments: note.remote_attachments(),
                        },
                    )
                    .await?;
            }
            Relayed::Update(update) => {
                let UpdateObject::Note(note) = update.object else {
                    return Ok(());
                };
                if data.config.is_local(&note.id) {
                    return Ok(());
                }
                let author = ObjectId::<crate::apub::objects::person::ApubUser>::from(
                    note.attributed_to.clone(),
                )
                .dereference(data)
                .await?;
                let message = data
                    .chat
                    .remote_message(author.id(), note.id.as_str())
                    .await?;
                data.chat
                    .edit_message(author.id(), message.id, note.text())
                    .await?;
            }
            Relayed::Delete(delete) => {
                if data.config.is_local(delete.object.id()) {
                    return Ok(());
                }
                delete.apply_to_message(data).await?;
            }
            Relayed::Accept(Accept {
                actor,
                object: FollowRef::Id(note),
                ..
            }) => {
                let answer = GameAnswer::Accept;
                games::relayed_answer(conversation, actor.inner(), &note, answer, data).await?;
            }
            Relayed::Reject(Reject {
                actor,
                object: FollowRef::Id(note),
                ..
            }) => {
                let answer = GameAnswer::Decline;
                games::relayed_answer(conversation, actor.inner(), &note, answer, data).await?;
            }
            Relayed::Typing(typing) => {
                if data.config.is_local(typing.actor.inner()) {
                    return Ok(()); // our own member, relayed back
                }
                let typist = typing.actor.dereference(data).await?;
                data.chat
                    .typing(typist.id(), conversation, typing.typing)
                    .await?;
            }
            Relayed::EmojiReact(react) => {
                if data.config.is_local(react.actor.inner()) {
                    return Ok(()); // our own member, relayed back
                }
                let step = Step::Add(&react.id);
                apply_reaction(&react.actor, &react.object, &react.content, step, data).await?;
            }
            Relayed::Undo(Undo {
                object: Undoable::EmojiReact(react),
                ..
            }) => {
                if data.config.is_local(react.actor.inner()) {
                    return Ok(());
                }
                let step = Step::Remove;
                apply_reaction(&react.actor, &react.object, &react.content, step, data).await?;
            }
            Relayed::Accept(_) | Relayed::Reject(_) | Relayed::Undo(_) => {}
        }
        Ok(())
    }
}
