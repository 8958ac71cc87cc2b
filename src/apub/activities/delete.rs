//! `Delete`: the author deleted a message they sent us (it becomes a
//! tombstone here too). A `Delete` of an unknown object is a no-op.

use super::same_origin;
use crate::apub::context::{Context, Data};
use crate::apub::objects::note::ObjectRef;
use crate::apub::objects::person::ApubUser;
use crate::chat::ChatError;
use crate::error::Error;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::kinds::activity::DeleteType;
use activitypub_federation::traits::Activity;
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delete {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: DeleteType,
    pub actor: ObjectId<ApubUser>,
    pub object: ObjectRef,
}

#[async_trait::async_trait]
impl Activity for Delete {
    type DataType = Context;
    type Error = Error;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        self.actor.inner()
    }

    async fn verify(&self, _data: &Data) -> Result<(), Error> {
        same_origin(self.actor.inner(), self.object.id())
    }

    async fn receive(self, data: &Data) -> Result<(), Error> {
        if self.object.id() == self.actor.inner() {
            // An account deletion: its messages stay until an admin acts.
            return Ok(());
        }
        let Some(author) = ApubUser::read_known(self.actor.inner(), data).await? else {
            return Ok(());
        };
        let message = match data
            .chat
            .remote_message(author.id(), self.object.id().as_str())
            .await
        {
            Ok(message) => message,
            Err(ChatError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        data.chat.delete_message(author.id(), message.id).await?;
        Ok(())
    }
}
