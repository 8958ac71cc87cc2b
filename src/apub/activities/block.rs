//! `Block`: a remote user blocks a local one. Their direct chat turns
//! read-only and nothing of the blocked user reaches the blocker.

use super::{local_user, same_origin};
use crate::apub::context::{Context, Data};
use crate::apub::objects::person::ApubUser;
use crate::apub::wire;
use crate::error::Error;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::kinds::activity::BlockType;
use activitypub_federation::traits::Activity;
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Block {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: BlockType,
    #[serde(deserialize_with = "wire::reference")]
    pub actor: ObjectId<ApubUser>,
    #[serde(deserialize_with = "wire::reference")]
    pub object: ObjectId<ApubUser>,
}

#[async_trait::async_trait]
impl Activity for Block {
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
        let blocker = self.actor.dereference(data).await?;
        let blocked = local_user(self.object.inner(), data).await?;
        data.chat.block(blocker.id(), blocked).await?;
        Ok(())
    }
}
