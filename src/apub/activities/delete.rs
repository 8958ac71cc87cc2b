//! `Delete`: the author deleted a message they sent us (it becomes a
//! tombstone here too), the host deleted a group we mirror, or a remote
//! account deleted itself (`Delete{Person}`, actor == object; Mastodon
//! sends it when an account is deleted or suspended). A `Delete` of
//! something unknown is a no-op.

use super::same_origin;
use crate::apub::context::{Context, Data};
use crate::apub::objects::note::{Note, ObjectRef, Tombstone};
use crate::apub::objects::person::ApubUser;
use crate::apub::wire;
use crate::chat::ChatError;
use crate::error::Error;
use activitypub_federation::kinds::activity::DeleteType;
use activitypub_federation::traits::Activity;
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delete {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: DeleteType,
    #[serde(deserialize_with = "wire::reference")]
    pub actor: Url,
    #[serde(default, deserialize_with = "wire::addressees")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "wire::addressees")]
    pub cc: Vec<Url>,
    pub object: ObjectRef,
}

impl Delete {
    /// `actor` deletes what `object` names (a group, by its host).
    pub fn of(id: Url, actor: Url, to: Vec<Url>, object: Url) -> Self {
        Self {
            id,
            kind: DeleteType::Delete,
            actor,
            to,
            cc: vec![],
            object: ObjectRef::Id(object),
        }
    }

    /// The `Delete` of `note` by its author: a `Tombstone` that was a
    /// `Note`, to the addressees of the note.
    pub fn of_note(id: Url, note: &Note) -> Self {
        Self {
            id,
            kind: DeleteType::Delete,
            actor: note.attributed_to.clone(),
            to: note.to.clone(),
            cc: vec![],
            object: ObjectRef::Object(Tombstone::of_note(note.id.clone())),
        }
    }

    /// Tombstones the message the `Delete` names, if we have it.
    pub async fn apply_to_message(&self, data: &Data) -> Result<(), Error> {
        let Some(author) = ApubUser::read_known(&self.actor, data).await? else {
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

#[async_trait::async_trait]
impl Activity for Delete {
    type DataType = Context;
    type Error = Error;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        &self.actor
    }

    async fn verify(&self, _data: &Data) -> Result<(), Error> {
        same_origin(&self.actor, self.object.id())
    }

    async fn receive(self, data: &Data) -> Result<(), Error> {
        if self.object.id() == &self.actor {
            // The actor signed it (the inbox checked) and deletes itself: a
            // group removes our mirror; an account (deleted or suspended by
            // its server) leaves contacts and conversations here, its
            // messages staying without an author.
            data.chat.remove_mirror(self.actor.as_str()).await?;
            data.chat.remove_remote_user(self.actor.as_str()).await?;
            data.actors.forget(&self.actor);
            return Ok(());
        }
        self.apply_to_message(data).await
    }
}
