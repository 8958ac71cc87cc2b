//! `Add{Person}` to a group hosted here, sent by one of its admins from
//! another server: the person becomes a member with `rights` (Confab's
//! term; default `write`), or gets those rights if a member already.
//! Other `Add`s (Mastodon's pinned posts) are acknowledged and ignored.

use super::{local_group, same_origin, user_named};
use crate::apub::context::{Context, Data};
use crate::apub::objects::group::parse_rights;
use crate::apub::objects::note::ObjectRef;
use crate::apub::objects::person::ApubUser;
use crate::apub::wire;
use crate::chat::views::Rights;
use crate::error::Error;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::kinds::activity::AddType;
use activitypub_federation::traits::Activity;
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Add {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: AddType,
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
    #[serde(default)]
    pub rights: Option<String>,
}

impl Add {
    /// Admin `actor` asks the host of `group` to admit `user` with `rights`.
    pub fn member(id: Url, actor: Url, user: Url, group: Url, rights: &str) -> Self {
        Self {
            id,
            kind: AddType::Add,
            actor: actor.into(),
            object: ObjectRef::Id(user),
            target: group.clone(),
            to: vec![group],
            rights: Some(rights.to_owned()),
        }
    }
}

#[async_trait::async_trait]
impl Activity for Add {
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
        let rights = self.rights.as_deref().map_or(Rights::Write, parse_rights);
        data.chat
            .admit_member(admin.id(), group, user, rights)
            .await?;
        Ok(())
    }
}
