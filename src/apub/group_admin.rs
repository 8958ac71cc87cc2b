//! Managing a group from a server that mirrors it. An admin's change goes
//! to the group's inbox, signed by the admin; the host checks their rights
//! as for a local admin, applies it, and sends everyone the new state
//! (`Update{Group}` by the group).
//!
//! - rename or topic: `Update{Group}` whose actor is the admin (not the
//!   group), carrying the group with its new `name` and `summary`;
//! - add a member, or change a member's rights: `Add{Person}` with the
//!   group as `target` and Confab's `rights` term;
//! - remove a member: `Remove{Person}` with the group as `target`.

use super::activities::add::Add;
use super::activities::local_group;
use super::activities::remove::Remove;
use super::activities::update::Update;
use super::context::Data;
use super::html;
use super::objects::group::{group_context, rights_name, Group};
use super::objects::person::PublicKey;
use super::outbox::{url, with_context, Queue};
use crate::chat::federation::GroupCommand;
use crate::chat::{ChatError, ChatResult};
use crate::db::ids::{ConversationId, UserId};
use crate::error::Error;
use activitypub_federation::kinds::actor::GroupType;
use url::Url;

impl Queue {
    /// Sends `actor`'s change of the mirrored group `id` to its host.
    pub(super) async fn manage_group(
        &self,
        actor: UserId,
        id: ConversationId,
        command: GroupCommand,
    ) -> ChatResult<()> {
        let mirror = self.conversation(id).await?;
        let (Some(group), Some(inbox)) = (mirror.ap_id.clone(), mirror.inbox.clone()) else {
            return Err(ChatError::Internal(format!("{id} is not a mirror")));
        };
        let admin = self.actor(actor).await?;
        self.ensure_key(&admin).await?;
        let activity_id = url(&self.urls().new_activity())?;
        let (id, by, group_url) = (activity_id.clone(), admin.ap_id.clone(), url(&group)?);
        let mut activity = match command {
            GroupCommand::Update { name, topic } => {
                let name = name.or(mirror.name.clone()).unwrap_or_default();
                let topic = topic.unwrap_or(mirror.topic.clone());
                let changed = Group {
                    id: group_url.clone(),
                    kind: GroupType::Group,
                    preferred_username: group.rsplit('/').next().unwrap_or_default().into(),
                    name: Some(name),
                    summary: Some(html::paragraphs(&topic)),
                    inbox: url(&inbox)?,
                    endpoints: None,
                    public_key: PublicKey {
                        id: format!("{group}#main-key"),
                        owner: group_url.clone(),
                        public_key_pem: mirror.public_key_pem.clone().unwrap_or_default(),
                    },
                    updated: None,
                    members: None,
                };
                with_context(Update::of_group(id, by, vec![group_url], changed))?
            }
            GroupCommand::Admit { user, rights } => {
                let user = self.actor(user).await?.ap_id;
                with_context(Add::member(id, by, user, group_url, rights_name(rights)))?
            }
            GroupCommand::Remove { user } => {
                let user = self.actor(user).await?.ap_id;
                with_context(Remove::member(id, by, user, group_url))?
            }
        };
        activity["@context"] = group_context();
        self.enqueue_to(
            &admin.ap_id,
            activity,
            &activity_id,
            &[(url(&inbox)?, None)],
            None,
        )
        .await
    }
}

/// The group hosted here that an admin's activity changes (`target`, or
/// the updated group).
pub fn hosted_group(group: &Url, data: &Data) -> Result<ConversationId, Error> {
    local_group(group, data).ok_or_else(|| {
        Error::InvalidActivity(format!("{group} is not a group hosted on this server"))
    })
}
