//! Groups hosted here on the wire: the group actor and its key, its state
//! (`Update{Group}` with members and rights) and its deletion.

use super::{lock, retired_key, url, with_context, Queue};
use crate::apub::activities::delete::Delete;
use crate::apub::activities::update::Update;
use crate::apub::objects::group::{rights_name, ApubGroup, GroupMember};
use crate::apub::objects::person::ApubUser;
use crate::chat::views::Rights;
use crate::chat::{ChatError, ChatResult};
use crate::db::conversations::{self as conversation_rows, ConversationRow};
use crate::db::ids::{ConversationId, UserId};
use crate::db::settings;
use chrono::Utc;

impl Queue {
    /// A group hosted here as an actor, with a keypair made on first use.
    pub(in crate::apub) async fn group_actor(
        &self,
        mut row: ConversationRow,
    ) -> ChatResult<ApubGroup> {
        if row.private_key_pem.is_none() {
            let (public, private) =
                tokio::task::spawn_blocking(crate::apub::keys::generate_keypair)
                    .await
                    .map_err(|e| ChatError::Internal(e.to_string()))?
                    .map_err(ChatError::Internal)?;
            let mut conn = self.db.write().await?;
            conversation_rows::set_keypair_once(&mut conn, row.id, &public, &private).await?;
            row = conversation_rows::find(&mut conn, row.id)
                .await?
                .ok_or(ChatError::NotFound("conversation"))?;
            lock(&self.conversations).remove(&row.id);
        }
        ApubGroup::from_row(row, &self.base()).map_err(|e| ChatError::Internal(e.to_string()))
    }

    /// Sends a group's state (members and rights included) to its remote
    /// members and to those just removed from it.
    pub(in crate::apub) async fn group(
        &self,
        id: ConversationId,
        removed: &[UserId],
    ) -> ChatResult<()> {
        let mut conn = self.db.read().await?;
        let Some(row) = conversation_rows::find(&mut conn, id).await? else {
            return Ok(());
        };
        if row.kind != "group" || row.ap_id.is_some() {
            return Ok(());
        }
        // A group only federates once it has (or just lost) a remote member.
        let remote_members = conversation_rows::remote_members(&mut conn, id).await?;
        drop(conn);
        let mut removed_remote = vec![];
        for user in removed {
            let user = self.actor(*user).await?;
            if !user.is_local() {
                removed_remote.push(user);
            }
        }
        if remote_members.is_empty() && removed_remote.is_empty() {
            return Ok(());
        }
        let (snapshot, mut recipients) = self.group_members(id).await?;
        recipients.extend(removed_remote);
        let group = self.group_actor(row).await?;
        let mut object = group.to_group(&self.base());
        object.updated = Some(Utc::now());
        object.members = Some(snapshot);
        let activity_id = url(&self.urls().new_activity())?;
        let to = recipients.iter().map(|r| r.ap_id.clone()).collect();
        let update = Update::of_group(activity_id.clone(), group.ap_id.clone(), to, object);
        let mut update = with_context(update)?;
        update["@context"] = crate::apub::objects::group::group_context();
        self.enqueue(&group.ap_id, update, &activity_id, &recipients, None)
            .await
    }

    /// The members of a group hosted here as the wire lists them, and
    /// those of them who are remote.
    pub(in crate::apub) async fn group_members(
        &self,
        id: ConversationId,
    ) -> ChatResult<(Vec<GroupMember>, Vec<ApubUser>)> {
        let members = conversation_rows::members(&mut self.db.read().await?, id).await?;
        let mut listed = vec![];
        let mut remote = vec![];
        for member in &members {
            let user = self.actor(member.user_id).await?;
            let rights = Rights::from_level(member.rights).map_err(ChatError::from)?;
            listed.push(GroupMember {
                actor: user.ap_id.clone(),
                rights: rights_name(rights).into(),
            });
            if !user.is_local() {
                remote.push(user);
            }
        }
        Ok((listed, remote))
    }

    /// Tells the remote members that a group hosted here is gone. The
    /// group's key is kept (retired) so the `Delete` can still be signed.
    pub(super) async fn group_deleted(
        &self,
        id: ConversationId,
        members: &[UserId],
    ) -> ChatResult<()> {
        let Some(row) = conversation_rows::find(&mut self.db.read().await?, id).await? else {
            return Ok(());
        };
        if row.ap_id.is_some() {
            return Ok(());
        }
        let mut recipients = vec![];
        for user in members {
            let user = self.actor(*user).await?;
            if !user.is_local() {
                recipients.push(user);
            }
        }
        if recipients.is_empty() {
            return Ok(());
        }
        let group = self.group_actor(row).await?;
        let pem = group.row.private_key_pem.clone().unwrap_or_default();
        settings::get_or_insert(
            &mut self.db.write().await?,
            &retired_key(group.ap_id.as_str()),
            || pem,
        )
        .await?;
        let activity_id = url(&format!("{}/delete", group.ap_id))?;
        let delete = Delete::of(
            activity_id.clone(),
            group.ap_id.clone(),
            vec![],
            group.ap_id.clone(),
        );
        self.enqueue(
            &group.ap_id,
            with_context(delete)?,
            &activity_id,
            &recipients,
            None,
        )
        .await
    }
}
