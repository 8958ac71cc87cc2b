//! `Undo{Follow}` (an invitation withdrawn, a contact ended, a group left),
//! `Undo{Block}`, and `Undo{EmojiReact}` / `Undo{Like}` (a reaction taken
//! back). An embedded reaction (as Misskey and Confab send it) is matched
//! by actor, message and emoji; one named only by its id (as Pleroma sends
//! it) is found by the activity id kept when it was received, and must be
//! the Undo's actor's. An Undo naming an id this server does not hold is
//! ignored.

use super::block::Block;
use super::emoji_react::{apply_reaction, EmojiReact, Step};
use super::follow::Follow;
use super::like::Like;
use super::{local_group, local_user, same_origin};
use crate::apub::context::{Context, Data};
use crate::apub::objects::person::ApubUser;
use crate::apub::wire;
use crate::chat::reactions::ReactionChange;
use crate::chat::ChatError;
use crate::error::Error;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::kinds::activity::UndoType;
use activitypub_federation::traits::Activity;
use serde::{Deserialize, Serialize};
use url::Url;

/// What can be undone.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Undoable {
    Follow(Follow),
    Block(Block),
    EmojiReact(EmojiReact),
    Like(Like),
    /// Only the undone activity's id (tried last: a string).
    Reference(Url),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Undo {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: UndoType,
    #[serde(deserialize_with = "wire::reference")]
    pub actor: ObjectId<ApubUser>,
    pub object: Undoable,
}

impl Undo {
    /// `actor` takes back `object`.
    pub fn of(id: Url, actor: Url, object: Undoable) -> Self {
        Self {
            id,
            kind: UndoType::Undo,
            actor: actor.into(),
            object,
        }
    }
}

#[async_trait::async_trait]
impl Activity for Undo {
    type DataType = Context;
    type Error = Error;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        self.actor.inner()
    }

    async fn verify(&self, data: &Data) -> Result<(), Error> {
        same_origin(self.actor.inner(), &self.id)?;
        let undone_actor = match &self.object {
            Undoable::Follow(f) => f.actor.inner(),
            Undoable::Block(b) => b.actor.inner(),
            Undoable::EmojiReact(r) => r.actor.inner(),
            Undoable::Like(l) => l.actor.inner(),
            Undoable::Reference(id) => {
                same_origin(self.actor.inner(), id)?;
                return self.verify_reaction_reference(id, data).await;
            }
        };
        if undone_actor != self.actor.inner() {
            return Err(Error::InvalidActivity(
                "an actor can only undo its own activities".into(),
            ));
        }
        Ok(())
    }

    async fn receive(self, data: &Data) -> Result<(), Error> {
        match &self.object {
            Undoable::EmojiReact(r) => {
                return apply_reaction(&r.actor, &r.object, &r.content, Step::Remove, data).await;
            }
            Undoable::Like(l) => {
                return apply_reaction(&l.actor, &l.object, l.emoji(), Step::Remove, data).await;
            }
            Undoable::Reference(id) => return self.undo_reaction_by_id(id, data).await,
            Undoable::Follow(_) | Undoable::Block(_) => {}
        }
        let actor = self.actor.dereference(data).await?;
        match self.object {
            Undoable::Follow(follow) => {
                if let Some(group) = local_group(&follow.object, data) {
                    data.chat.remote_leave(actor.id(), group).await?;
                    return Ok(());
                }
                let followed = local_user(&follow.object, data).await?;
                data.chat.remote_unfollow(actor.id(), followed).await?;
            }
            Undoable::Block(block) => {
                let blocked = local_user(block.object.inner(), data).await?;
                match data.chat.unblock(actor.id(), blocked).await {
                    Ok(()) | Err(ChatError::NotFound(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Undoable::EmojiReact(_) | Undoable::Like(_) | Undoable::Reference(_) => {}
        }
        Ok(())
    }
}

impl Undo {
    /// A received reaction named by its id must be the Undo's actor's
    /// (403 otherwise); an id this server does not hold passes, to be
    /// ignored.
    async fn verify_reaction_reference(&self, id: &Url, data: &Data) -> Result<(), Error> {
        let Some(reaction) = data.chat.reaction_by_ap_id(id.as_str()).await? else {
            return Ok(());
        };
        let actor = self.actor.dereference(data).await?;
        if reaction.user_id != actor.id() {
            return Err(Error::Chat(ChatError::Forbidden(
                "an actor can only undo its own reactions".into(),
            )));
        }
        Ok(())
    }

    /// Removes the received reaction whose activity id is `id`, if it is held.
    async fn undo_reaction_by_id(&self, id: &Url, data: &Data) -> Result<(), Error> {
        let Some(reaction) = data.chat.reaction_by_ap_id(id.as_str()).await? else {
            tracing::debug!(%id, "an Undo of an activity this server does not hold ignored");
            return Ok(());
        };
        let actor = self.actor.dereference(data).await?;
        let change = ReactionChange {
            message: reaction.message_id,
            emoji: reaction.emoji,
        };
        data.chat.unreact(actor.id(), change).await?;
        Ok(())
    }
}
