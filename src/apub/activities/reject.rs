//! `Reject{Follow}`: the remote user declined a local user's invitation, or
//! ended the contact (Mastodon removes a follower this way).

use super::accept::{Answered, FollowRef};
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
        self.object.answered(data, self.actor.inner()).map(|_| ())
    }

    async fn receive(self, data: &Data) -> Result<(), Error> {
        let answerer = self.actor.dereference(data).await?;
        match self.object.answered(data, self.actor.inner())? {
            Answered::Game(message) => {
                data.chat
                    .answer_game(answerer.id(), message, GameAnswer::Decline)
                    .await?;
            }
            Answered::Follow { follower } => {
                let follower = super::local_user(&follower, data).await?;
                data.chat
                    .remote_unfollow(answerer.id(), follower.id())
                    .await?;
            }
        }
        Ok(())
    }
}
