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

use super::activities::{local_group, new_activity_id};
use super::context::Data;
use super::html;
use super::objects::group::{group_context, rights_name};
use super::outbox::{url, Queue};
use crate::chat::federation::GroupCommand;
use crate::chat::{ChatError, ChatResult};
use crate::db::ids::{ConversationId, UserId};
use crate::error::Error;
use serde_json::json;
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
        let activity_id = url(&new_activity_id(&self.base()))?;
        let mut activity = match command {
            GroupCommand::Update { name, topic } => {
                let name = name.or(mirror.name.clone()).unwrap_or_default();
                let topic = topic.unwrap_or(mirror.topic.clone());
                let handle = group.rsplit('/').next().unwrap_or_default();
                json!({
                    "type": "Update",
                    "object": {
                        "id": group, "type": "Group", "preferredUsername": handle,
                        "name": name, "summary": html::paragraphs(&topic), "inbox": inbox,
                        "publicKey": {
                            "id": format!("{group}#main-key"), "owner": group,
                            "publicKeyPem": mirror.public_key_pem.clone().unwrap_or_default(),
                        },
                    },
                })
            }
            GroupCommand::Admit { user, rights } => json!({
                "type": "Add", "object": self.actor(user).await?.ap_id, "target": group,
                "rights": rights_name(rights),
            }),
            GroupCommand::Remove { user } => json!({
                "type": "Remove", "object": self.actor(user).await?.ap_id, "target": group,
            }),
        };
        activity["id"] = json!(activity_id);
        activity["actor"] = json!(admin.ap_id);
        activity["to"] = json!([group]);
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
