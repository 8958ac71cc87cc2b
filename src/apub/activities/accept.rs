//! `Accept{Follow}`: the remote user accepted a local user's invitation.

use super::follow::Follow;
use super::same_origin;
use crate::apub::context::{Context, Data};
use crate::apub::objects::person::ApubUser;
use crate::chat::messages::GameAnswer;
use crate::error::Error;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::kinds::activity::AcceptType;
use activitypub_federation::traits::Activity;
use serde::{Deserialize, Serialize};
use url::Url;

/// The `Follow` an `Accept` or `Reject` answers: embedded (Mastodon,
/// Confab) or only its id (then it must be one of ours).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FollowRef {
    Embedded(Follow),
    Id(Url),
}

impl FollowRef {
    /// A game invitation written here that this `Accept` or `Reject`
    /// answers (its object is the invitation's `Note` id).
    pub fn game_invitation(&self, data: &Data) -> Option<crate::db::ids::MessageId> {
        match self {
            FollowRef::Id(id) => super::create::local_message(id, data),
            FollowRef::Embedded(_) => None,
        }
    }

    /// `(follower, followed)` of the answered `Follow`. A bare id is
    /// resolved from our own follow ids (`/follows/{follower}/{followed}/…`).
    pub fn pair(&self, data: &Data, answerer: &Url) -> Result<(Url, Url), Error> {
        match self {
            FollowRef::Embedded(follow) => {
                Ok((follow.actor.inner().clone(), follow.object.inner().clone()))
            }
            FollowRef::Id(id) => {
                let base = data.config.public_base();
                let name = id
                    .as_str()
                    .strip_prefix(&format!("{base}/users/"))
                    .and_then(|rest| rest.split_once("/follows/"))
                    .map(|(name, _)| name)
                    .ok_or_else(|| Error::InvalidActivity(format!("unknown Follow {id}")))?;
                let follower = Url::parse(&format!("{base}/users/{name}"))
                    .map_err(|e| Error::InvalidActivity(e.to_string()))?;
                Ok((follower, answerer.clone()))
            }
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Accept {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: AcceptType,
    pub actor: ObjectId<ApubUser>,
    pub object: FollowRef,
}

#[async_trait::async_trait]
impl Activity for Accept {
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
        if self.object.game_invitation(data).is_some() {
            return Ok(());
        }
        let (_, followed) = self.object.pair(data, self.actor.inner())?;
        if followed != *self.actor.inner() {
            return Err(Error::InvalidActivity(
                "only the followed actor can accept".into(),
            ));
        }
        Ok(())
    }

    async fn receive(self, data: &Data) -> Result<(), Error> {
        if let Some(message) = self.object.game_invitation(data) {
            let answerer = self.actor.dereference(data).await?;
            data.chat
                .answer_game(answerer.id(), message, GameAnswer::Accept)
                .await?;
            return Ok(());
        }
        let (follower, _) = self.object.pair(data, self.actor.inner())?;
        let follower = super::local_user(&follower, data).await?;
        let followed = self.actor.dereference(data).await?;
        let link = data.chat.contact_link(follower.id(), followed.id()).await?;
        if link.is_some_and(|l| l.state == "pending" && l.requester_id == follower.id()) {
            data.chat
                .accept_contact(followed.id(), follower.id())
                .await?;
        }
        Ok(())
    }
}
