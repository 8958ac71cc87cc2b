//! `Update{Note}`: the author edited a message they sent us.

use super::create::check_note;
use crate::apub::context::{Context, Data};
use crate::apub::objects::note::Note;
use crate::apub::objects::person::ApubUser;
use crate::error::Error;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::kinds::activity::UpdateType;
use activitypub_federation::traits::Activity;
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Update {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: UpdateType,
    pub actor: ObjectId<ApubUser>,
    pub object: Note,
}

#[async_trait::async_trait]
impl Activity for Update {
    type DataType = Context;
    type Error = Error;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        self.actor.inner()
    }

    async fn verify(&self, data: &Data) -> Result<(), Error> {
        check_note(&self.object, self.actor.inner(), data).map(|_| ())
    }

    async fn receive(self, data: &Data) -> Result<(), Error> {
        let author = self.actor.dereference(data).await?;
        let message = data
            .chat
            .remote_message(author.id(), self.object.id.as_str())
            .await?;
        data.chat
            .edit_message(author.id(), message.id, self.object.text())
            .await?;
        Ok(())
    }
}
