//! `Update{Note}`: the author edited a message they sent us. `Update{Group}`
//! by the group: the host of a group we mirror sent its new state (name,
//! topic, members and rights). `Update{Group}` by a person: an admin on
//! another server renames a group hosted here or changes its topic.
//! `Update{Person}`: a remote user changed their profile (or key); Mastodon
//! sends it to followers, and contacts follow each other.

use super::create::check_note;
use super::same_origin;
use crate::apub::context::{Context, Data};
use crate::apub::group_admin::hosted_group;
use crate::apub::html;
use crate::apub::objects::group::Group;
use crate::apub::objects::note::Note;
use crate::apub::objects::person::{ApubUser, Person};
use crate::apub::wire;
use crate::chat::groups::GroupChanges;
use crate::error::Error;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::kinds::activity::UpdateType;
use activitypub_federation::traits::{Activity, Object};
use serde::{Deserialize, Serialize};
use url::Url;

/// What can be updated.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UpdateObject {
    Group(Box<Group>),
    Note(Box<Note>),
    /// Last: a `Person`'s `type` is not checked (`Service`, `Application`…).
    Person(Box<Person>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Update {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: UpdateType,
    #[serde(deserialize_with = "wire::reference")]
    pub actor: Url,
    #[serde(default, deserialize_with = "wire::addressees")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "wire::addressees")]
    pub cc: Vec<Url>,
    pub object: UpdateObject,
}

impl Update {
    /// `actor`'s `Update` of `group`: the host's new state to members, or
    /// an admin's change asked of the host.
    pub fn of_group(id: Url, actor: Url, to: Vec<Url>, group: Group) -> Self {
        Self {
            id,
            kind: UpdateType::Update,
            actor,
            to,
            cc: vec![],
            object: UpdateObject::Group(Box::new(group)),
        }
    }

    /// The `Update` of an edited `note`, by its author, to its addressees.
    pub fn of_note(id: Url, note: Note) -> Self {
        Self {
            id,
            kind: UpdateType::Update,
            actor: note.attributed_to.clone(),
            to: note.to.clone(),
            cc: vec![],
            object: UpdateObject::Note(Box::new(note)),
        }
    }
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
                    // Only an admin's change to a group hosted here.
                    hosted_group(&group.id, data)?;
                }
                same_origin(&self.actor, &self.id)
            }
            UpdateObject::Person(person) => {
                if *person.id.inner() != self.actor {
                    return Err(Error::InvalidActivity(
                        "an actor updates only itself".into(),
                    ));
                }
                same_origin(&self.actor, &self.id)?;
                ApubUser::verify(person, &self.actor, data).await
            }
        }
    }

    async fn receive(self, data: &Data) -> Result<(), Error> {
        match self.object {
            UpdateObject::Note(note) => {
                if check_note(&note, &self.actor, data)?.is_none() {
                    return Ok(()); // an edited public post
                }
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
            UpdateObject::Person(person) => {
                // Stored over the old copy, as a fetch would be.
                let user = ApubUser::from_json(*person, data).await?;
                data.chat.remote_user_updated(user.id());
            }
            UpdateObject::Group(group) if group.id != self.actor => {
                let id = hosted_group(&group.id, data)?;
                let admin = ObjectId::<ApubUser>::from(self.actor)
                    .dereference(data)
                    .await?;
                let changes = GroupChanges {
                    name: group.name,
                    topic: group.summary.as_deref().map(html::to_text),
                    avatar_url: None,
                };
                data.chat.update_group(admin.id(), id, changes).await?;
            }
            UpdateObject::Group(group) => {
                let snapshot = group.snapshot(data).await?;
                data.chat.apply_group_snapshot(snapshot).await?;
            }
        }
        Ok(())
    }
}
