//! `Flag`: a report, as Mastodon sends and accepts it. Ours is sent by the
//! instance actor to the reported user's server (`object`: the reported
//! actor, then the reported messages; `content`: the reporter's comment;
//! the reporter is not named). One received, signed by a remote user or
//! their server's instance actor, lands in the moderators' queue for each
//! local user it names (objects that are not ours are ignored; a `Flag`
//! with none of ours is refused).

use super::{local_user, same_origin};
use crate::apub::context::{Context, Data};
use crate::apub::wire;
use crate::chat::flags::ReceivedFlag;
use crate::chat::ChatError;
use crate::error::Error;
use activitypub_federation::kinds::activity::FlagType;
use activitypub_federation::traits::Activity;
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flag {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: FlagType,
    #[serde(deserialize_with = "wire::reference")]
    pub actor: Url,
    /// The reported actor and objects (ids or embedded objects).
    #[serde(deserialize_with = "wire::addressees")]
    pub object: Vec<Url>,
    /// The comment (Mastodon sends an empty string when there is none).
    #[serde(default, deserialize_with = "wire::string_or_null")]
    pub content: String,
}

impl Flag {
    /// `actor` (our instance actor) reports `target` and `objects` of
    /// theirs, with `comment`.
    pub fn new(id: Url, actor: Url, target: Url, objects: Vec<Url>, comment: String) -> Self {
        Self {
            id,
            kind: FlagType::Flag,
            actor,
            object: std::iter::once(target).chain(objects).collect(),
            content: comment,
        }
    }

    /// The local users and messages the `Flag` names.
    async fn local_objects(&self, data: &Data) -> Result<ReceivedFlag, Error> {
        let urls = data.urls();
        let mut flag = ReceivedFlag {
            origin: self.actor.to_string(),
            activity_id: self.id.to_string(),
            users: vec![],
            messages: vec![],
            comment: self.content.clone(),
        };
        for object in self.object.iter().filter(|o| data.config.is_local(o)) {
            if let Some(message) = urls.message_id(object) {
                flag.messages.push(message);
            } else if urls.user_name(object).is_some() {
                match local_user(object, data).await {
                    Ok(user) if !flag.users.contains(&user) => flag.users.push(user),
                    Ok(_) | Err(Error::Chat(ChatError::NotFound(_))) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(flag)
    }
}

#[async_trait::async_trait]
impl Activity for Flag {
    type DataType = Context;
    type Error = Error;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        &self.actor
    }

    async fn verify(&self, data: &Data) -> Result<(), Error> {
        same_origin(&self.actor, &self.id)?;
        if !self.object.iter().any(|o| data.config.is_local(o)) {
            return Err(Error::InvalidActivity(
                "the Flag names nothing of this server".into(),
            ));
        }
        Ok(())
    }

    async fn receive(self, data: &Data) -> Result<(), Error> {
        let flag = self.local_objects(data).await?;
        if flag.users.is_empty() && flag.messages.is_empty() {
            tracing::debug!(id = %self.id, "Flag about no known user or message ignored");
            return Ok(());
        }
        let reports = data.chat.receive_flag(flag).await?;
        tracing::info!(id = %self.id, reports, "Flag received");
        Ok(())
    }
}
