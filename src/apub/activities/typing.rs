//! `Typing`: Confab's extension activity by which a user's server tells
//! the other members' servers that the user started (`typing: true`) or
//! stopped typing. In a direct chat it goes to the other user; in a group
//! it goes to the group's host (`target` names the group), which relays it
//! to the members' servers as `Announce{Typing}` like a message. Ephemeral:
//! never stored, never retried, rate-limited per user on both sides.

use super::{local_group, local_user, same_origin};
use crate::apub::context::{Context, Data};
use crate::apub::objects::person::ApubUser;
use crate::apub::wire;
use crate::error::Error;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::traits::Activity;
use serde::{Deserialize, Serialize};
use url::Url;

/// The `type` of a [`Typing`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TypingType {
    Typing,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Typing {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: TypingType,
    #[serde(deserialize_with = "wire::reference")]
    pub actor: ObjectId<ApubUser>,
    #[serde(default, deserialize_with = "wire::addressees")]
    pub to: Vec<Url>,
    /// The group typed in; absent in a direct chat.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "wire::optional_reference"
    )]
    pub target: Option<Url>,
    /// Started (`true`) or stopped (`false`).
    pub typing: bool,
}

impl Typing {
    pub fn new(id: Url, actor: Url, to: Vec<Url>, target: Option<Url>, typing: bool) -> Self {
        Self {
            id,
            kind: TypingType::Typing,
            actor: actor.into(),
            to,
            target,
            typing,
        }
    }
}

#[async_trait::async_trait]
impl Activity for Typing {
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

    /// In a group hosted here, `chat` checks membership and relays; in a
    /// direct chat, each local recipient who has a direct chat with the
    /// typist is told. A group hosted elsewhere hears it from its host,
    /// never from a member's server.
    async fn receive(self, data: &Data) -> Result<(), Error> {
        let typist = self.actor.dereference(data).await?;
        if let Some(group) = &self.target {
            let conversation = local_group(group, data).ok_or_else(|| {
                Error::Chat(crate::chat::ChatError::Forbidden(
                    "typing in a group goes to the server that hosts it".into(),
                ))
            })?;
            data.chat
                .typing(typist.id(), conversation, self.typing)
                .await?;
            return Ok(());
        }
        let mut told = false;
        for recipient in self.to.iter().filter(|to| data.config.is_local(to)) {
            let recipient = local_user(recipient, data).await?;
            let conversation = data
                .chat
                .direct_conversation(typist.id(), recipient)
                .await?;
            data.chat
                .typing(typist.id(), conversation, self.typing)
                .await?;
            told = true;
        }
        if !told {
            return Err(Error::InvalidActivity(
                "a Typing names no user of this server".into(),
            ));
        }
        Ok(())
    }
}
