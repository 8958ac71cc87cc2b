//! `EmojiReact` (Pleroma/Akkoma, Misskey): a user reacts to a message with
//! one emoji (`content`). Confab sends it for a local user's reaction, to
//! the other member's server in a direct chat and to the host of a group
//! (which relays it as `Announce{EmojiReact}`); `Undo{EmojiReact}` takes it
//! back. Received, it is applied through `chat::reactions` under the same
//! rules as a local reaction (a member who can read the message, blocks
//! applied). Custom emoji (`:name:` with an `Emoji` tag) are refused: a
//! reaction here is one Unicode emoji.

use super::same_origin;
use crate::apub::context::{Context, Data};
use crate::apub::objects::person::ApubUser;
use crate::apub::wire;
use crate::chat::reactions::ReactionChange;
use crate::chat::ChatError;
use crate::error::Error;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::traits::Activity;
use serde::{Deserialize, Serialize};
use url::Url;

/// The `type` of an [`EmojiReact`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EmojiReactType {
    EmojiReact,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmojiReact {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: EmojiReactType,
    #[serde(deserialize_with = "wire::reference")]
    pub actor: ObjectId<ApubUser>,
    /// The message reacted to (its id, or the embedded object).
    #[serde(deserialize_with = "wire::reference")]
    pub object: Url,
    /// The emoji.
    #[serde(default, deserialize_with = "wire::string_or_null")]
    pub content: String,
    #[serde(default, deserialize_with = "wire::addressees")]
    pub to: Vec<Url>,
}

impl EmojiReact {
    /// `actor` reacts to `object` with `emoji`, telling `to`.
    pub fn new(id: Url, actor: Url, object: Url, emoji: String, to: Vec<Url>) -> Self {
        Self {
            id,
            kind: EmojiReactType::EmojiReact,
            actor: actor.into(),
            object,
            content: emoji,
            to,
        }
    }
}

/// The message `object` names, if this server has it: one written here
/// (`/messages/{id}`) or a copy of a remote one (by its ActivityPub id).
async fn message_named(
    object: &Url,
    data: &Data,
) -> Result<Option<crate::db::ids::MessageId>, Error> {
    if data.config.is_local(object) {
        return Ok(super::create::local_message(object, data));
    }
    Ok(data.chat.message_id_by_ap_id(object.as_str()).await?)
}

/// The Unicode emoji a reaction's text names, or 422: a custom emoji
/// (`:blobcat:`, Misskey's `:blobcat@.:`) is refused, as anything that is
/// not one Unicode emoji.
pub(super) fn reaction_emoji(text: &str) -> Result<String, Error> {
    let text = text.trim();
    if text.len() > 2 && text.starts_with(':') && text.ends_with(':') {
        return Err(Error::Chat(ChatError::invalid(
            "content",
            "custom emoji reactions are not supported: a reaction is one Unicode emoji",
        )));
    }
    Ok(crate::chat::reactions::checked_emoji(text)?)
}

/// What a received reaction activity does.
#[derive(Debug, Clone, Copy)]
pub(super) enum Step<'a> {
    /// Adds the reaction made by the activity with this id.
    Add(&'a Url),
    /// Removes it.
    Remove,
}

/// Adds or removes `actor`'s reaction `emoji` to the message `object`. A
/// message this server does not have (a post it does not keep) is ignored.
pub(super) async fn apply_reaction(
    actor: &ObjectId<ApubUser>,
    object: &Url,
    emoji: &str,
    step: Step<'_>,
    data: &Data,
) -> Result<(), Error> {
    let emoji = reaction_emoji(emoji)?;
    let Some(message) = message_named(object, data).await? else {
        tracing::debug!(%object, "a reaction to a message we do not have ignored");
        return Ok(());
    };
    let reactor = actor.dereference(data).await?;
    let change = ReactionChange { message, emoji };
    match step {
        Step::Add(id) => {
            data.chat
                .react_remote(reactor.id(), change, id.as_str())
                .await?;
        }
        Step::Remove => {
            data.chat.unreact(reactor.id(), change).await?;
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl Activity for EmojiReact {
    type DataType = Context;
    type Error = Error;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        self.actor.inner()
    }

    async fn verify(&self, _data: &Data) -> Result<(), Error> {
        same_origin(self.actor.inner(), &self.id)?;
        reaction_emoji(&self.content).map(|_| ())
    }

    async fn receive(self, data: &Data) -> Result<(), Error> {
        let step = Step::Add(&self.id);
        apply_reaction(&self.actor, &self.object, &self.content, step, data).await
    }
}
