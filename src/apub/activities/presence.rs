//! `Presence`: Confab's extension activity by which a user's server tells
//! the servers of their contacts that the user is `online`, `away` or
//! `offline`. Ephemeral: never stored (not even its id, see
//! [`InboxActivity::is_ephemeral`](super::InboxActivity::is_ephemeral)),
//! sent best-effort and again every refresh interval while the user is
//! connected; the status holds until `endTime` unless a newer one comes.
//! Servers that do not know the type acknowledge and ignore it.

use super::same_origin;
use crate::apub::context::{Context, Data};
use crate::apub::objects::person::ApubUser;
use crate::apub::wire;
use crate::chat::views::Status;
use crate::error::Error;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::traits::Activity;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use url::Url;

/// The `type` of a [`Presence`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PresenceType {
    Presence,
}

/// The JSON-LD terms of Confab's ephemeral activities (`Presence` and
/// `Typing`), added to the `@context` of what is sent.
pub fn terms() -> Value {
    json!({
        "Presence": "https://w3id.org/confab#Presence",
        "Typing": "https://w3id.org/confab#Typing",
        "status": "https://w3id.org/confab#status",
        "typing": "https://w3id.org/confab#typing"
    })
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Presence {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: PresenceType,
    #[serde(deserialize_with = "wire::reference")]
    pub actor: ObjectId<ApubUser>,
    #[serde(default, deserialize_with = "wire::addressees")]
    pub to: Vec<Url>,
    pub status: Status,
    /// When the sender made it: a receiver ignores one older than the
    /// last it applied for the same actor (late, or replayed).
    pub published: DateTime<Utc>,
    /// Until when the status holds unless another `Presence` comes; the
    /// receiver keeps it for `endTime - published` (both by the sender's
    /// clock), at most 15 minutes.
    pub end_time: DateTime<Utc>,
}

impl Presence {
    /// `actor` is `status` from `published` to `end_time`, told to `to`.
    pub fn new(
        id: Url,
        actor: Url,
        to: Vec<Url>,
        status: Status,
        published: DateTime<Utc>,
        end_time: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            kind: PresenceType::Presence,
            actor: actor.into(),
            to,
            status,
            published,
            end_time,
        }
    }
}

#[async_trait::async_trait]
impl Activity for Presence {
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
        if self.end_time <= self.published {
            return Err(Error::InvalidActivity(
                "a Presence must end after it is published".into(),
            ));
        }
        Ok(())
    }

    async fn receive(self, data: &Data) -> Result<(), Error> {
        let user = self.actor.dereference(data).await?;
        let validity = (self.end_time - self.published)
            .to_std()
            .unwrap_or_default();
        data.chat
            .receive_presence(user.id(), self.status, self.published, validity)
            .await?;
        Ok(())
    }
}
