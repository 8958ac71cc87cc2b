//! `Reject{Follow}`: the remote user declined a local user's invitation, or
//! ended the contact (Mastodon removes a follower this way).

use super::accept::FollowRef;
use super::same_origin;
use crate::apub::context::{Context, Data};
use crate::apub::objects::person::ApubUser;
use crate::chat::messages::GameAnswer;
use crate::error::Error;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::kinds::activity::RejectType;
use activitypub_federation::traits::Activity;
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reject {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: RejectType,
    pub actor: ObjectId<ApubUser>,
    pub object: FollowRef,
}

#[async_trait::async_trait]
impl Activity for Reject {
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
                "only the followed actor can reject".into(),
            ));
        }
        Ok(())
    }

    async fn receive(self, data: &Data) -> Result<(), Error> {
        if let Some(message) = self.object.game_invitation(data) {
            let answerer = self.actor.dereference(data).await?;
            data.chat
                .answer_game(answerer.id(), message, GameAnswer::Decline)
                .await?;
            return Ok(());
        }
        let (follower, _) = self.object.pair(data, self.actor.inner())?;
        let follower = super::local_user(&follower, data).await?;
        let rejecter = self.actor.dereference(data).await?;
        data.chat
            .remote_unfollow(rejecter.id(), follower.id())
            .await?;
        Ok(())
    }
}
