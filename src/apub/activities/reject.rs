//! `Reject`: of a `Follow`, the remote user declined a local user's
//! invitation or ended the contact (Mastodon removes a follower this way),
//! or a group declined a local user's request to join; of a game
//! invitation, the game was declined.

use super::accept::{Answered, FollowRef};
use super::same_origin;
use crate::apub::context::{Context, Data};
use crate::apub::objects::person::ApubUser;
use crate::apub::wire;
use crate::chat::games::GameAnswer;
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
    #[serde(deserialize_with = "wire::reference")]
    pub actor: ObjectId<ApubUser>,
    #[serde(
        default,
        deserialize_with = "wire::addressees",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub to: Vec<Url>,
    pub object: FollowRef,
}

impl Reject {
    /// `actor`'s `Reject` of `object` (a `Follow`, or a game invitation's
    /// `Note`), to `to`.
    pub fn of(id: Url, actor: Url, to: Vec<Url>, object: FollowRef) -> Self {
        Self {
            id,
            kind: RejectType::Reject,
            actor: actor.into(),
            to,
            object,
        }
    }
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
        self.object
            .answered(data, self.actor.inner())
            .await
            .map(|_| ())
    }

    async fn receive(self, data: &Data) -> Result<(), Error> {
        match self.object.answered(data, self.actor.inner()).await? {
            Answered::Join { follower, group } => {
                let follower = super::local_user(&follower, data).await?;
                data.chat.join_declined(follower, group.as_str()).await?;
            }
            Answered::Game(message) => {
                let answerer = self.actor.dereference(data).await?;
                data.chat
                    .answer_game(answerer.id(), message, GameAnswer::Decline)
                    .await?;
            }
            Answered::Follow { follower } => {
                let answerer = self.actor.dereference(data).await?;
                let follower = super::local_user(&follower, data).await?;
                data.chat.remote_unfollow(answerer.id(), follower).await?;
            }
        }
        Ok(())
    }
}
