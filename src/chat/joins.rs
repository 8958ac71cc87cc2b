//! Joining groups across servers. A remote actor asks to join a group hosted
//! here with `Follow{Group}`: a member (someone an admin already added) is
//! accepted at once, anyone else waits as a join request until an admin
//! approves or declines it. A local user's own requests to groups hosted
//! elsewhere are kept until the group answers or the user withdraws. A
//! local member of a group hosted elsewhere leaves it here and the host is
//! told.

use super::events::Notice;
use super::federation::Outgoing;
use super::views::{ConversationKind, Rights};
use super::{Chat, ChatError, ChatResult};
use crate::db::contacts as contact_rows;
use crate::db::conversations as rows;
use crate::db::ids::{ConversationId, UserId};
use crate::db::join_requests::{self as join_rows, JoinRequestRow};
use crate::db::sent_join_requests::{self as sent_rows, SentJoinRequestRow};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;
use utoipa::ToSchema;

/// A request to join a group, as its admins see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JoinRequest {
    pub conversation: ConversationId,
    pub user: UserId,
    pub requested_at: DateTime<Utc>,
}

impl From<&JoinRequestRow> for JoinRequest {
    fn from(row: &JoinRequestRow) -> Self {
        JoinRequest {
            conversation: row.conversation_id,
            user: row.user_id,
            requested_at: row.created_at.and_utc(),
        }
    }
}

/// A request the user sent to join a group hosted elsewhere, waiting for
/// the group's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SentJoinRequest {
    /// The group's URL (its ActivityPub id).
    pub group: String,
    /// Its name when the request was sent.
    pub name: String,
    pub requested_at: DateTime<Utc>,
}

impl From<SentJoinRequestRow> for SentJoinRequest {
    fn from(row: SentJoinRequestRow) -> Self {
        SentJoinRequest {
            group: row.group_id,
            name: row.group_name,
            requested_at: row.created_at.and_utc(),
        }
    }
}

/// What became of a `Follow{Group}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinOutcome {
    /// Already a member (an admin added them): accept at once.
    Member,
    /// Waiting for an admin.
    Pending,
}

impl Chat {
    /// A remote `user` asks to join group `id` hosted here with the `Follow`
    /// `follow_id`.
    pub async fn request_join(
        &self,
        user: UserId,
        id: ConversationId,
        follow_id: &str,
    ) -> ChatResult<JoinOutcome> {
        let mut conn = self.db.write().await?;
        let conversation = self.load_conversation(&mut conn, id).await?;
        if conversation.kind != ConversationKind::Group || conversation.hosted_by.is_some() {
            return Err(ChatError::NotFound("group"));
        }
        if conversation.rights_of(user).is_some() {
            return Ok(JoinOutcome::Member);
        }
        for admin in admins(&conversation) {
            if contact_rows::either_blocks(&mut conn, admin, user).await? {
                return Err(ChatError::Forbidden(
                    "this group does not take requests from you".into(),
                ));
            }
        }
        let row = JoinRequestRow {
            conversation_id: id,
            user_id: user,
            follow_id: follow_id.to_owned(),
            created_at: Utc::now().naive_utc(),
        };
        join_rows::upsert(&mut conn, &row).await?;
        let stored = join_rows::find(&mut conn, id, user)
            .await?
            .ok_or(ChatError::NotFound("join request"))?;
        drop(conn);
        self.notify(
            admins(&conversation),
            Notice::JoinRequested(JoinRequest::from(&stored)),
        );
        Ok(JoinOutcome::Pending)
    }

    /// The open requests to join group `id` (admins only).
    pub async fn join_requests(
        &self,
        actor: UserId,
        id: ConversationId,
    ) -> ChatResult<Vec<JoinRequest>> {
        let mut conn = self.db.read().await?;
        self.group_as(&mut conn, id, actor, Rights::Admin).await?;
        let rows = join_rows::for_conversation(&mut conn, id).await?;
        Ok(rows.iter().map(JoinRequest::from).collect())
    }

    /// Approves `user`'s request: they join with `rights` (the same limits
    /// as adding a member) and their server gets `Accept{Follow}`.
    pub async fn approve_join(
        &self,
        actor: UserId,
        id: ConversationId,
        user: UserId,
        rights: Rights,
    ) -> ChatResult<super::views::Conversation> {
        self.open_request(actor, id, user).await?;
        self.add_members(actor, id, &[user.to_string()], rights)
            .await
    }

    /// Declines `user`'s request; their server gets `Reject{Follow}`.
    pub async fn decline_join(
        &self,
        actor: UserId,
        id: ConversationId,
        user: UserId,
    ) -> ChatResult<()> {
        self.open_request(actor, id, user).await?;
        self.answer_request(id, user, false).await
    }

    /// `user`'s request to join group `id`, checking that `actor` may answer it.
    async fn open_request(
        &self,
        actor: UserId,
        id: ConversationId,
        user: UserId,
    ) -> ChatResult<JoinRequestRow> {
        let mut conn = self.db.read().await?;
        self.group_as(&mut conn, id, actor, Rights::Admin).await?;
        join_rows::find(&mut conn, id, user)
            .await?
            .ok_or(ChatError::NotFound("join request"))
    }

    /// Approves the open requests of `users`, just added to group `id`
    /// (however they were added).
    pub(crate) async fn approve_requests_of(
        &self,
        id: ConversationId,
        users: &[UserId],
    ) -> ChatResult<()> {
        let open = join_rows::for_conversation(&mut self.db.read().await?, id).await?;
        for request in open.iter().filter(|r| users.contains(&r.user_id)) {
            self.answer_request(id, request.user_id, true).await?;
        }
        Ok(())
    }

    /// Closes `user`'s open request, if any, and answers it.
    async fn answer_request(
        &self,
        id: ConversationId,
        user: UserId,
        approved: bool,
    ) -> ChatResult<()> {
        let mut conn = self.db.write().await?;
        let Some(request) = join_rows::find(&mut conn, id, user).await? else {
            return Ok(());
        };
        join_rows::delete(&mut conn, id, user).await?;
        let conversation = self.load_conversation(&mut conn, id).await?;
        drop(conn);
        self.notify(
            admins(&conversation),
            Notice::JoinResolved {
                conversation: id,
                user,
                approved,
            },
        );
        self.federate(Outgoing::JoinAnswered {
            conversation: id,
            user,
            follow_id: request.follow_id,
            approved,
        })
        .await
    }

    /// A remote `user` undid their `Follow` of group `id`: a pending request
    /// is withdrawn, a member leaves.
    pub async fn remote_leave(&self, user: UserId, id: ConversationId) -> ChatResult<()> {
        let mut conn = self.db.write().await?;
        if join_rows::delete(&mut conn, id, user).await? {
            let conversation = self.load_conversation(&mut conn, id).await?;
            drop(conn);
            self.notify(
                admins(&conversation),
                Notice::JoinResolved {
                    conversation: id,
                    user,
                    approved: false,
                },
            );
            return Ok(());
        }
        drop(conn);
        match self.leave(user, id).await {
            Err(ChatError::NotFound(_)) => Ok(()),
            other => other,
        }
    }

    /// A local member leaves a group hosted elsewhere: they are out at once
    /// here, the host is told (`Undo{Follow}`), and the mirror goes when no
    /// local member is left.
    pub(crate) async fn leave_mirror(
        &self,
        user: UserId,
        conversation: &super::views::Conversation,
    ) -> ChatResult<()> {
        let mut conn = self.db.write().await?;
        let row = rows::find(&mut conn, conversation.id)
            .await?
            .ok_or(ChatError::NotFound("conversation"))?;
        let (Some(group), Some(inbox)) = (row.ap_id, row.inbox) else {
            return Err(ChatError::invalid(
                "conversation",
                "this group is hosted here",
            ));
        };
        rows::remove_member(&mut conn, conversation.id, user).await?;
        let remote = rows::remote_members(&mut conn, conversation.id).await?;
        let local_left = conversation
            .member_ids()
            .iter()
            .any(|m| *m != user && !remote.contains(m));
        if !local_left {
            rows::delete(&mut conn, conversation.id).await?;
        }
        drop(conn);
        self.cache.forget_conversation(conversation.id);
        self.notify(
            vec![user],
            Notice::ConversationRemoved {
                conversation: conversation.id,
            },
        );
        if local_left {
            let conversation = self
                .load_conversation(&mut self.db.read().await?, conversation.id)
                .await?;
            self.notify(
                conversation.member_ids(),
                Notice::ConversationUpdated(conversation),
            );
        }
        self.federate(Outgoing::LeftGroup { user, group, inbox })
            .await
    }

    /// Local `user` asks the group at `group` (its URL; the group is hosted
    /// on another server) to let them in. The group is fetched through the
    /// federation port and sent a `Follow`; the host's `Accept` is followed
    /// by the group's state, which makes it appear here. Returns the
    /// group's id, as its host spells it.
    pub async fn ask_to_join(&self, user: UserId, group: &str) -> ChatResult<String> {
        let invalid = || ChatError::invalid("group", "give the group's URL (https://host/...)");
        let url = Url::parse(group).map_err(|_| invalid())?;
        let host = match url.host_str() {
            Some(host) if matches!(url.scheme(), "http" | "https") => host.to_ascii_lowercase(),
            _ => return Err(invalid()),
        };
        let federation = self
            .federation
            .as_ref()
            .ok_or_else(|| ChatError::Forbidden("this server does not federate".into()))?;
        if self.is_instance_blocked(&host).await? {
            return Err(ChatError::Refused(format!(
                "federation with {host} is blocked"
            )));
        }
        self.check_not_joined(user, url.as_str()).await?;
        let remote = federation.remote_group(&url).await?;
        self.federate(Outgoing::JoinGroup {
            user,
            group: remote.id.clone(),
            inbox: remote.inbox.clone(),
        })
        .await?;
        self.join_sent(user, &remote.id, &remote.inbox, &remote.name)
            .await?;
        Ok(remote.id)
    }

    /// Local `user` asked the group `group` hosted elsewhere (inbox
    /// `inbox`, named `name`) to let them in; their sessions are told.
    async fn join_sent(
        &self,
        user: UserId,
        group: &str,
        inbox: &str,
        name: &str,
    ) -> ChatResult<SentJoinRequest> {
        let row = SentJoinRequestRow {
            user_id: user,
            group_id: group.to_owned(),
            group_inbox: inbox.to_owned(),
            group_name: name.chars().take(64).collect(),
            created_at: Utc::now().naive_utc(),
        };
        sent_rows::upsert(&mut self.db.write().await?, &row).await?;
        let sent = SentJoinRequest::from(row);
        self.notify(vec![user], Notice::JoinSent(sent.clone()));
        Ok(sent)
    }

    /// `user`'s requests to groups hosted elsewhere still waiting, oldest
    /// first.
    pub async fn sent_join_requests(&self, user: UserId) -> ChatResult<Vec<SentJoinRequest>> {
        let rows = sent_rows::for_user(&mut self.db.read().await?, user).await?;
        Ok(rows.into_iter().map(SentJoinRequest::from).collect())
    }

    /// `user` withdraws their request to join `group`: the group is told
    /// (`Undo{Follow}`), and so are the user's other sessions.
    pub async fn cancel_join_request(&self, user: UserId, group: &str) -> ChatResult<()> {
        let row = sent_rows::take(&mut self.db.write().await?, user, group)
            .await?
            .ok_or(ChatError::NotFound("join request"))?;
        self.notify(
            vec![user],
            Notice::JoinCancelled {
                group: row.group_id.clone(),
            },
        );
        self.federate(Outgoing::LeftGroup {
            user,
            group: row.group_id,
            inbox: row.group_inbox,
        })
        .await
    }

    /// A group hosted elsewhere declined local `user`'s request to join.
    pub async fn join_declined(&self, user: UserId, group: &str) -> ChatResult<()> {
        sent_rows::take(&mut self.db.write().await?, user, group).await?;
        self.notify(
            vec![user],
            Notice::JoinDeclined {
                group: group.to_owned(),
            },
        );
        Ok(())
    }

    /// Refuses a request to join a group `user` already belongs to (here a
    /// mirror with that id).
    async fn check_not_joined(&self, user: UserId, group: &str) -> ChatResult<()> {
        let mut conn = self.db.read().await?;
        if let Some(row) = rows::find_by_ap_id(&mut conn, group).await? {
            let members = rows::members(&mut conn, row.id).await?;
            if members.iter().any(|m| m.user_id == user) {
                return Err(ChatError::Conflict(
                    "you are already a member of this group".into(),
                ));
            }
        }
        Ok(())
    }
}

/// Those who answer join requests: admins and the owner.
fn admins(conversation: &super::views::Conversation) -> Vec<UserId> {
    conversation
        .members
        .iter()
        .filter(|m| m.rights >= Rights::Admin)
        .map(|m| m.user)
        .collect()
}
