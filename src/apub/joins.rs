//! Joining groups with `Follow{Group}` (FEP-1b12). Out: a local user asks
//! a group hosted elsewhere to let them in (the group is fetched for
//! `chat` through [`super::port::Port`]), or leaves it (`Undo{Follow}`).
//! In (see `activities/follow.rs`): the group hosted here answers with
//! `Accept` or `Reject` of the requester's `Follow`, signed by the group.

use super::activities::accept::{Accept, FollowRef};
use super::activities::announce::Relayed;
use super::activities::follow::Follow;
use super::activities::reject::Reject;
use super::activities::undo::{Undo, Undoable};
use super::context::{Context, Data};
use super::lookup;
use super::objects::group::ApubGroup;
use super::outbox::{url, with_context, Queue};
use crate::chat::federation::RemoteGroup;
use crate::chat::{ChatError, ChatResult};
use crate::db::conversations as conversation_rows;
use crate::db::ids::{ConversationId, UserId};
use crate::error::Error;
use activitypub_federation::config::FederationConfig;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::kinds::activity::UndoType;
use activitypub_federation::traits::Actor;
use url::Url;

/// The group whose id is `group`, hosted on another server, fetched (and
/// stored) through the federation library, which refuses private addresses
/// outside rigs.
pub(super) async fn fetch_group(
    federation: &FederationConfig<Context>,
    group: &Url,
) -> ChatResult<RemoteGroup> {
    let data: Data = federation.to_request_data();
    if data.config.is_local(group) {
        return Err(ChatError::invalid(
            "group",
            "this group is hosted here: one of its admins can add you",
        ));
    }
    let group: ApubGroup = ObjectId::<ApubGroup>::from(group.clone())
        .dereference(&data)
        .await
        .map_err(|e| match lookup::classify(e, lookup::Looked::Group) {
            Error::Chat(e) => e,
            Error::Refused(why) => ChatError::Refused(why),
            other => ChatError::Internal(other.to_string()),
        })?;
    Ok(RemoteGroup {
        id: group.ap_id.to_string(),
        inbox: group.inbox().to_string(),
        name: group.row.name.clone().unwrap_or_default(),
    })
}

impl Queue {
    /// Sends local `user`'s `Follow` of the remote group `group` to its
    /// `inbox`.
    pub(super) async fn join_group(
        &self,
        user: UserId,
        group: &str,
        inbox: &str,
    ) -> ChatResult<()> {
        let actor = self.actor(user).await?;
        self.ensure_key(&actor).await?;
        let id = url(&self.urls().new_join(&actor.row.name))?;
        let follow = Follow::of(id.clone(), &actor, &url(group)?);
        self.enqueue_to(
            &actor.ap_id,
            with_context(&follow)?,
            &id,
            &[(url(inbox)?, None)],
            None,
        )
        .await
    }

    /// Local `user` left the remote group `group`: `Undo{Follow}` to its inbox.
    pub(super) async fn left_group(
        &self,
        user: UserId,
        group: &str,
        inbox: &str,
    ) -> ChatResult<()> {
        let actor = self.actor(user).await?;
        self.ensure_key(&actor).await?;
        let group = url(group)?;
        let follow_id = url(&self.urls().new_join(&actor.row.name))?;
        let follow = Follow::of(follow_id, &actor, &group);
        let id = url(&self.urls().new_activity())?;
        let undo = Undo {
            id: id.clone(),
            kind: UndoType::Undo,
            actor: actor.ap_id.clone().into(),
            object: Undoable::Follow(follow),
        };
        self.enqueue_to(
            &actor.ap_id,
            with_context(undo)?,
            &id,
            &[(url(inbox)?, None)],
            None,
        )
        .await
    }

    /// Group `conversation` (hosted here) answers remote `user`'s `Follow`:
    /// `Accept` (then the group's state follows) or `Reject`.
    pub(super) async fn join_answered(
        &self,
        conversation: ConversationId,
        user: UserId,
        follow_id: &str,
        approved: bool,
    ) -> ChatResult<()> {
        let requester = self.actor(user).await?;
        if requester.is_local() {
            return Ok(());
        }
        let Some(row) = conversation_rows::find(&mut self.db.read().await?, conversation).await?
        else {
            return Ok(());
        };
        let group = self.group_actor(row).await?;
        let follow = Follow::of(url(follow_id)?, &requester, &group.ap_id);
        let id = url(&self.urls().new_activity())?;
        let (actor, object) = (group.ap_id.clone(), FollowRef::Embedded(follow));
        let answer = if approved {
            Relayed::Accept(Accept::of(id.clone(), actor, vec![], object))
        } else {
            Relayed::Reject(Reject::of(id.clone(), actor, vec![], object))
        };
        self.enqueue_to(
            &group.ap_id,
            with_context(answer)?,
            &id,
            &[(requester.delivery_inbox(), Some(user))],
            None,
        )
        .await
    }
}

/// Answers a `Follow` of group `conversation` (hosted here) by remote
/// `user`: a member is accepted at once, anyone else waits for an admin.
pub async fn follow_received(
    data: &Data,
    conversation: ConversationId,
    user: UserId,
    follow_id: &Url,
) -> Result<(), Error> {
    use crate::chat::joins::JoinOutcome;
    match data
        .chat
        .request_join(user, conversation, follow_id.as_str())
        .await?
    {
        JoinOutcome::Member => {
            data.queue
                .join_answered(conversation, user, follow_id.as_str(), true)
                .await?;
            // A member asking again (their server lost the group) gets its
            // state again; a new member gets it when they are added.
            data.queue.group(conversation, &[]).await?;
        }
        JoinOutcome::Pending => {}
    }
    Ok(())
}
