//! `Follow`: of a user, a contact invitation (between two Confab users a
//! contact is a mutual follow; a follow of a user who already has us as a
//! contact, the reciprocal one, is accepted at once); of a group hosted
//! here, a request to join it (see `apub::joins`).

use super::{local_group, local_user, same_origin, user_named};
use crate::apub::context::{Context, Data};
use crate::apub::objects::person::ApubUser;
use crate::apub::wire;
use crate::chat::views::ContactState;
use crate::error::Error;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::kinds::activity::FollowType;
use activitypub_federation::traits::Activity;
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Follow {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: FollowType,
    #[serde(deserialize_with = "wire::reference")]
    pub actor: ObjectId<ApubUser>,
    /// A user or a group.
    #[serde(deserialize_with = "wire::reference")]
    pub object: Url,
}

impl Follow {
    pub fn new(id: Url, actor: &ApubUser, object: &ApubUser) -> Self {
        Self::of(id, actor, &object.ap_id)
    }

    /// `actor` follows the user or group `object`.
    pub fn of(id: Url, actor: &ApubUser, object: &Url) -> Self {
        Follow {
            id,
            kind: FollowType::Follow,
            actor: actor.ap_id.clone().into(),
            object: object.clone(),
        }
    }
}

#[async_trait::async_trait]
impl Activity for Follow {
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
        if !data.config.is_local(&self.object) {
            return Err(Error::InvalidActivity(
                "the followed actor is not on this server".into(),
            ));
        }
        Ok(())
    }

    async fn receive(self, data: &Data) -> Result<(), Error> {
        let follower = self.actor.dereference(data).await?;
        if let Some(group) = local_group(&self.object, data) {
            return crate::apub::joins::follow_received(data, group, follower.id(), &self.id).await;
        }
        let followed = local_user(&self.object, data).await?;
        let contact = data
            .chat
            .remote_follow(follower.id(), followed, self.id.as_str())
            .await?;
        if contact.state == ContactState::Accepted {
            // The answer is signed by the followed user: read in full.
            let followed = user_named(&self.object, data).await?;
            data.queue
                .accept_follow(&followed, &follower, &self)
                .await?;
        }
        Ok(())
    }
}
