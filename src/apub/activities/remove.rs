//! `Remove{Person}` from a group hosted here, sent by one of its admins
//! from another server (the same limits as for a local admin). Other
//! `Remove`s (Mastodon's unpinned posts) are acknowledged and ignored.

use super::{local_group, same_origin, user_named};
use crate::apub::context::{Context, Data};
use crate::apub::objects::note::ObjectRef;
use crate::apub::objects::person::ApubUser;
use crate::apub::wire;
use crate::error::Error;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::kinds::activity::RemoveType;
use activitypub_federation::traits::Activity;
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Remove {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: RemoveType,
    #[serde(deserialize_with = "wire::reference")]
    pub actor: ObjectId<ApubUser>,
    pub object: ObjectRef,
    #[serde(deserialize_with = "wire::reference")]
    pub target: Url,
    #[serde(
        default,
        deserialize_with = "wire::addressees",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub to: Vec<Url>,
}

impl Remove {
    /// Admin `actor` asks the host of `group` to take `user` out.
    pub fn member(id: Url, actor: Url, user: Url, group: Url) -> Self {
        Self {
            id,
            kind: RemoveType::Remove,
            actor: actor.into(),
            object: ObjectRef::Id(user),
            target: group.clone(),
            to: vec![group],
        }
    }
}

#[async_trait::async_trait]
impl Activity for Remove {
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

    async fn receive(self, data: &Data) -> Result<(), Error> {
        let Some(group) = local_group(&self.target, data) else {
            // Mastodon pins posts this way (`target`: a featured collection).
            return Ok(());
        };
        let admin = self.actor.dereference(data).await?;
        let user = user_named(self.object.id(), data).await?.id();
        data.chat.remove_member(admin.id(), group, user).await?;
        Ok(())
    }
}
