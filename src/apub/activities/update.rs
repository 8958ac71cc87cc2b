//! `Update{Note}`: the author edited a message they sent us. `Update{Group}`:
//! the host of a group we mirror sent its new state (name, topic, members
//! and rights).

use super::create::check_note;
use super::same_origin;
use crate::apub::context::{Context, Data};
use crate::apub::objects::group::Group;
use crate::apub::objects::note::Note;
use crate::apub::objects::person::ApubUser;
use crate::error::Error;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::kinds::activity::UpdateType;
use activitypub_federation::traits::Activity;
use serde::{Deserialize, Serialize};
use url::Url;

/// What can be updated.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UpdateObject {
    Group(Box<Group>),
    Note(Box<Note>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Update {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: UpdateType,
    pub actor: Url,
    pub object: UpdateObject,
}

#[async_trait::async_trait]
impl Activity for Update {
    type DataType = Context;
    type Error = Error;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        &self.actor
    }

    async fn verify(&self, data: &Data) -> Result<(), Error> {
        match &self.object {
            UpdateObject::Note(note) => check_note(note, &self.actor, data).map(|_| ()),
            UpdateObject::Group(group) => {
                if group.id != self.actor {
                    return Err(Error::InvalidActivity("only a group updates itself".into()));
                }
                same_origin(&self.actor, &self.id)
            }
        }
    }

    async fn receive(self, data: &Data) -> Result<(), Error> {
        match self.object {
            UpdateObject::Note(note) => {
                let author = ObjectId::<ApubUser>::from(self.actor)
                    .dereference(data)
                    .await?;
                let message = data
                    .chat
                    .remote_message(author.id(), note.id.as_str())
                    .await?;
                data.chat
                    .edit_message(author.id(), message.id, note.text())
                    .await?;
            }
            UpdateObject::Group(group) => {
                let snapshot = group.snapshot(data).await?;
                data.chat.apply_group_snapshot(snapshot).await?;
            }
        }
        Ok(())
    }
}
