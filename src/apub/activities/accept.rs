//! `Accept`: of a `Follow`, the remote user accepted a local user's
//! invitation or a group let a local user in; of a game invitation, the
//! game was accepted.

use super::follow::Follow;
use super::same_origin;
use crate::apub::context::{Context, Data};
use crate::apub::objects::person::ApubUser;
use crate::apub::wire;
use crate::chat::games::GameAnswer;
use crate::db::ids::MessageId;
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

/// What an `Accept` or `Reject` answers.
pub enum Answered {
    /// A game invitation this server decides about.
    Game(MessageId),
    /// A `Follow` of the answering actor by the local actor `follower`.
    Follow { follower: Url },
    /// Local `follower`'s request to join the answering `group`.
    Join { follower: Url, group: Url },
}

impl FollowRef {
    /// What this answer by `answerer` is about, checked: a game invitation
    /// (written here, or posted in a group hosted here), or a follow of the
    /// answerer itself.
    pub async fn answered(&self, data: &Data, answerer: &Url) -> Result<Answered, Error> {
        if let FollowRef::Id(id) = self {
            if let Some(message) = crate::apub::games::answered_message(id, data).await? {
                return Ok(Answered::Game(message));
            }
        }
        let (follower, followed) = self.pair(data, answerer)?;
        if followed != *answerer {
            return Err(Error::InvalidActivity(
                "only the followed actor can answer a follow".into(),
            ));
        }
        if data.urls().is_join(self.id()) {
            return Ok(Answered::Join {
                follower,
                group: followed,
            });
        }
        Ok(Answered::Follow { follower })
    }

    fn id(&self) -> &Url {
        match self {
            FollowRef::Embedded(follow) => &follow.id,
            FollowRef::Id(id) => id,
        }
    }

    /// `(follower, followed)` of the answered `Follow`. A bare id is
    /// resolved from our own follow ids (`/users/{name}/follows/…`).
    fn pair(&self, data: &Data, answerer: &Url) -> Result<(Url, Url), Error> {
        match self {
            FollowRef::Embedded(follow) => {
                Ok((follow.actor.inner().clone(), follow.object.clone()))
            }
            FollowRef::Id(id) => {
                let urls = data.urls();
                let name = urls
                    .follower(id)
                    .ok_or_else(|| Error::InvalidActivity(format!("unknown Follow {id}")))?;
                let follower = Url::parse(&urls.user(name))
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

impl Accept {
    /// `actor`'s `Accept` of `object` (a `Follow`, or a game invitation's
    /// `Note`), to `to`.
    pub fn of(id: Url, actor: Url, to: Vec<Url>, object: FollowRef) -> Self {
        Self {
            id,
            kind: AcceptType::Accept,
            actor: actor.into(),
            to,
            object,
        }
    }
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
        self.object
            .answered(data, self.actor.inner())
            .await
            .map(|_| ())
    }

    async fn receive(self, data: &Data) -> Result<(), Error> {
        match self.object.answered(data, self.actor.inner()).await? {
            Answered::Join { group, .. } => {
                // The group's state, which makes it appear here, follows.
                tracing::debug!(%group, "join request accepted");
            }
            Answered::Game(message) => {
                let answerer = self.actor.dereference(data).await?;
                data.chat
                    .answer_game(answerer.id(), message, GameAnswer::Accept)
                    .await?;
            }
            Answered::Follow { follower } => {
                let answerer = self.actor.dereference(data).await?;
                let follower = super::local_user(&follower, data).await?;
                let link = data.chat.contact_link(follower, answerer.id()).await?;
                if link.is_some_and(|l| l.state == "pending" && l.requester_id == follower) {
                    data.chat.accept_contact(answerer.id(), follower).await?;
                }
            }
        }
        Ok(())
    }
}
