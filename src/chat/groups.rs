//! Groups: creating them, their name and topic, members and rights,
//! ownership, leaving and deleting. A group hosted on another server (a
//! mirror) is checked here the same way, then changed by asking its host.

use super::events::Notice;
use super::federation::{GroupCommand, Outgoing};
use super::validate;
use super::views::{Conversation, ConversationKind, Message, Rights};
use super::writer::Stored;
use super::{Chat, ChatError, ChatResult};
use crate::db::conversations::{self as rows, ConversationChanges, ConversationRow, MemberRow};
use crate::db::ids::{ConversationId, UserId};
use crate::db::messages::MessageRow;
use crate::db::users as user_rows;
use crate::db::{contacts as contact_rows, DbConn};
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;

pub const GROUP_NAME_MAX: usize = 64;
pub const TOPIC_MAX: usize = 256;
pub const GROUP_MEMBERS_MAX: usize = 10_000;

/// A new group (`conversation.create`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    /// 1-64 characters: letters, digits, spaces and `!?-_().&#,<>`.
    pub name: String,
    #[serde(default)]
    pub topic: String,
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// Other members (ids or names); they join with `write` rights.
    #[serde(default)]
    pub members: Vec<String>,
}

/// Changes to a group (`conversation.update`); absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupChanges {
    pub name: Option<String>,
    pub topic: Option<String>,
    #[serde(default, deserialize_with = "super::users::present")]
    #[schema(value_type = Option<String>, nullable)]
    pub avatar_url: Option<Option<String>>,
}

fn group_name(name: &str) -> ChatResult<String> {
    let name = name.trim();
    let allowed = |c: char| c.is_alphanumeric() || c == ' ' || "!?-_().&#,<>".contains(c);
    if name.is_empty() || name.chars().count() > GROUP_NAME_MAX || !name.chars().all(allowed) {
        return Err(ChatError::invalid(
            "name",
            "1-64 characters from letters, digits, spaces and !?-_().&#,<>",
        ));
    }
    Ok(name.to_owned())
}

impl Chat {
    /// Creates a group owned by `creator`; the other members get `write`.
    pub async fn create_group(&self, creator: UserId, new: NewGroup) -> ChatResult<Conversation> {
        let name = group_name(&new.name)?;
        validate::multi_line("topic", &new.topic, TOPIC_MAX)?;
        let avatar_url = new
            .avatar_url
            .map(|u| validate::web_url("avatar_url", &u))
            .transpose()?;
        if new.members.len() >= GROUP_MEMBERS_MAX {
            return Err(ChatError::invalid(
                "members",
                format!("at most {GROUP_MEMBERS_MAX}"),
            ));
        }
        let others = self.resolve_users(&new.members).await?;
        if others.contains(&creator) {
            return Err(ChatError::invalid("members", "you are already the owner"));
        }
        let mut conn = self.db.write().await?;
        for other in &others {
            self.refuse_if_blocked(&mut conn, creator, *other).await?;
        }
        let now = Utc::now().naive_utc();
        let row = ConversationRow {
            id: ConversationId::new(),
            kind: "group".into(),
            name: Some(name),
            topic: new.topic,
            avatar_url,
            creator_id: Some(creator),
            direct_key: None,
            created_at: now,
            updated_at: now,
            ap_id: None,
            public_key_pem: None,
            private_key_pem: None,
            inbox: None,
        };
        let member = |user, rights: Rights| MemberRow {
            conversation_id: row.id,
            user_id: user,
            rights: rights.level(),
            joined_at: now,
            last_read: None,
            muted: false,
        };
        let mut members = vec![member(creator, Rights::Owner)];
        members.extend(others.iter().map(|u| member(*u, Rights::Write)));
        rows::insert(&mut conn, &row, &members).await?;
        let conversation = self.load_conversation(&mut conn, row.id).await?;
        drop(conn);
        self.notify(
            conversation.member_ids(),
            Notice::ConversationCreated(conversation.clone()),
        );
        self.federate_group(row.id, vec![]).await?;
        Ok(conversation)
    }

    /// Tells federation that a group hosted here changed.
    async fn federate_group(
        &self,
        conversation: ConversationId,
        removed: Vec<UserId>,
    ) -> ChatResult<()> {
        self.federate(Outgoing::Group {
            conversation,
            removed,
        })
        .await
    }

    /// Adding someone who blocks you, or whom you block, looks like adding
    /// someone who does not exist.
    async fn refuse_if_blocked(
        &self,
        conn: &mut DbConn<'_>,
        actor: UserId,
        other: UserId,
    ) -> ChatResult<()> {
        if contact_rows::either_blocks(conn, actor, other).await? {
            return Err(ChatError::NotFound("user"));
        }
        Ok(())
    }

    /// The group hosted here, checked to be a group where `actor` has at
    /// least `needed`.
    pub(super) async fn group_as(
        &self,
        conn: &mut DbConn<'_>,
        id: ConversationId,
        actor: UserId,
        needed: Rights,
    ) -> ChatResult<(Conversation, Rights)> {
        let (conversation, rights) = self.managed_group_as(conn, id, actor, needed).await?;
        if let Some(host) = &conversation.hosted_by {
            return Err(super::mirrors::not_here(host));
        }
        Ok((conversation, rights))
    }

    /// The group (hosted here or mirrored), checked to be a group where
    /// `actor` has at least `needed`. On a mirror the rights are the host's
    /// last word, so a change refused here would be refused there too.
    async fn managed_group_as(
        &self,
        conn: &mut DbConn<'_>,
        id: ConversationId,
        actor: UserId,
        needed: Rights,
    ) -> ChatResult<(Conversation, Rights)> {
        let (conversation, rights) = self.membership(conn, id, actor).await?;
        if conversation.kind != ConversationKind::Group {
            return Err(ChatError::invalid("conversation", "this is not a group"));
        }
        if rights < needed {
            return Err(ChatError::Forbidden(format!(
                "this needs {needed:?} rights in the group"
            )));
        }
        Ok((conversation, rights))
    }

    /// Renames a group or changes its topic or avatar (admins).
    pub async fn update_group(
        &self,
        actor: UserId,
        id: ConversationId,
        changes: GroupChanges,
    ) -> ChatResult<Conversation> {
        let name = changes.name.as_deref().map(group_name).transpose()?;
        if let Some(topic) = &changes.topic {
            validate::multi_line("topic", topic, TOPIC_MAX)?;
        }
        let avatar_url = match changes.avatar_url {
            Some(Some(url)) => Some(Some(validate::web_url("avatar_url", &url)?)),
            other => other,
        };
        let mut conn = self.db.write().await?;
        let (before, _) = self
            .managed_group_as(&mut conn, id, actor, Rights::Admin)
            .await?;
        if before.hosted_by.is_some() {
            drop(conn);
            if avatar_url.is_some() {
                return Err(ChatError::invalid(
                    "avatar_url",
                    "a group hosted on another server keeps its host's avatar",
                ));
            }
            let command = GroupCommand::Update {
                name,
                topic: changes.topic,
            };
            return self.ask_host(actor, before, vec![command]).await;
        }
        let renamed = name
            .as_ref()
            .filter(|n| before.name.as_ref() != Some(*n))
            .cloned();
        let update = ConversationChanges {
            name,
            topic: changes.topic,
            avatar_url,
            updated_at: Utc::now().naive_utc(),
        };
        rows::update(&mut conn, id, &update).await?;
        let conversation = self.load_conversation(&mut conn, id).await?;
        drop(conn);
        // The system line, then the state change (`docs/protocol.md`).
        if let Some(name) = renamed {
            let what = serde_json::json!({"action": "renamed", "name": name});
            self.system_message(&conversation, actor, what).await?;
        }
        self.notify(
            conversation.member_ids(),
            Notice::ConversationUpdated(conversation.clone()),
        );
        self.federate_group(id, vec![]).await?;
        Ok(conversation)
    }

    /// Deletes a group (its owner); members are told.
    pub async fn delete_group(&self, actor: UserId, id: ConversationId) -> ChatResult<()> {
        let mut conn = self.db.write().await?;
        let (conversation, _) = self.group_as(&mut conn, id, actor, Rights::Owner).await?;
        let remote = rows::remote_members(&mut conn, id).await?;
        drop(conn);
        // Queued while the group (and its signing key) still exists.
        self.federate(Outgoing::GroupDeleted {
            conversation: id,
            members: remote,
        })
        .await?;
        rows::delete(&mut self.db.write().await?, id).await?;
        self.cache.forget_conversation(id);
        self.notify(
            conversation.member_ids(),
            Notice::ConversationDeleted { conversation: id },
        );
        Ok(())
    }

    /// Adds members with `rights` (admins may grant up to `write`, owners up
    /// to `admin`).
    pub async fn add_members(
        &self,
        actor: UserId,
        id: ConversationId,
        users: &[String],
        rights: Rights,
    ) -> ChatResult<Conversation> {
        let users = self.resolve_users(users).await?;
        if users.is_empty() {
            return Err(ChatError::invalid("users", "name at least one user"));
        }
        let mut conn = self.db.write().await?;
        let (before, actor_rights) = self
            .managed_group_as(&mut conn, id, actor, Rights::Admin)
            .await?;
        check_grant(actor_rights, rights)?;
        if before.members.len() + users.len() > GROUP_MEMBERS_MAX {
            return Err(ChatError::invalid(
                "users",
                format!("a group has at most {GROUP_MEMBERS_MAX} members"),
            ));
        }
        for user in &users {
            if before.rights_of(*user).is_some() {
                return Err(ChatError::Conflict(format!("{user} is already a member")));
            }
            self.refuse_if_blocked(&mut conn, actor, *user).await?;
        }
        if before.hosted_by.is_some() {
            drop(conn);
            let commands = users
                .iter()
                .map(|&user| GroupCommand::Admit { user, rights })
                .collect();
            return self.ask_host(actor, before, commands).await;
        }
        let now = Utc::now().naive_utc();
        let new_rows: Vec<MemberRow> = users
            .iter()
            .map(|u| MemberRow {
                conversation_id: id,
                user_id: *u,
                rights: rights.level(),
                joined_at: now,
                last_read: None,
                muted: false,
            })
            .collect();
        rows::add_members(&mut conn, &new_rows).await?;
        self.cache.forget_conversation(id);
        let conversation = self.load_conversation(&mut conn, id).await?;
        drop(conn);
        // New members learn of the conversation before any of its messages;
        // then everyone gets the system lines, then the earlier members the
        // state change (`docs/protocol.md`).
        self.notify(
            users.clone(),
            Notice::ConversationCreated(conversation.clone()),
        );
        for user in &users {
            let what = serde_json::json!({"action": "member_added", "user": user});
            self.system_message(&conversation, actor, what).await?;
        }
        let old: Vec<UserId> = before.member_ids();
        self.notify(old, Notice::ConversationUpdated(conversation.clone()));
        self.federate_group(id, vec![]).await?;
        self.approve_requests_of(id, &users).await?;
        Ok(conversation)
    }

    /// Removes a member (admins remove those below admin; the owner anyone).
    pub async fn remove_member(
        &self,
        actor: UserId,
        id: ConversationId,
        target: UserId,
    ) -> ChatResult<Conversation> {
        let mut conn = self.db.write().await?;
        let (before, actor_rights) = self
            .managed_group_as(&mut conn, id, actor, Rights::Admin)
            .await?;
        let target_rights = before
            .rights_of(target)
            .ok_or(ChatError::NotFound("member"))?;
        if target == actor {
            return Err(ChatError::invalid(
                "user",
                "use conversation.leave to leave",
            ));
        }
        if target_rights >= actor_rights {
            return Err(ChatError::Forbidden(
                "you may only remove members below your rights".into(),
            ));
        }
        if before.hosted_by.is_some() {
            drop(conn);
            let command = GroupCommand::Remove { user: target };
            return self.ask_host(actor, before, vec![command]).await;
        }
        self.drop_member(conn, id, actor, target, "member_removed")
            .await
    }

    /// Takes `target` out of the group, records `action` as a system
    /// message, tells `target` and the remaining members.
    async fn drop_member(
        &self,
        mut conn: DbConn<'_>,
        id: ConversationId,
        actor: UserId,
        target: UserId,
        action: &str,
    ) -> ChatResult<Conversation> {
        rows::remove_member(&mut conn, id, target).await?;
        self.cache.forget_conversation(id);
        let conversation = self.load_conversation(&mut conn, id).await?;
        drop(conn);
        self.notify(
            vec![target],
            Notice::ConversationRemoved { conversation: id },
        );
        let what = serde_json::json!({"action": action, "user": target});
        self.system_message(&conversation, actor, what).await?;
        self.notify(
            conversation.member_ids(),
            Notice::ConversationUpdated(conversation.clone()),
        );
        self.federate_group(id, vec![target]).await?;
        Ok(conversation)
    }

    /// Changes a member's rights (admins: between read and write for those
    /// below admin; the owner: up to admin). Ownership moves only by transfer.
    pub async fn set_rights(
        &self,
        actor: UserId,
        id: ConversationId,
        target: UserId,
        rights: Rights,
    ) -> ChatResult<Conversation> {
        let mut conn = self.db.write().await?;
        let (before, actor_rights) = self
            .managed_group_as(&mut conn, id, actor, Rights::Admin)
            .await?;
        let target_rights = before
            .rights_of(target)
            .ok_or(ChatError::NotFound("member"))?;
        if target == actor {
            return Err(ChatError::Forbidden(
                "you cannot change your own rights".into(),
            ));
        }
        if target_rights >= actor_rights {
            return Err(ChatError::Forbidden(
                "you may only change members below your rights".into(),
            ));
        }
        check_grant(actor_rights, rights)?;
        if before.hosted_by.is_some() {
            drop(conn);
            let command = GroupCommand::Admit {
                user: target,
                rights,
            };
            return self.ask_host(actor, before, vec![command]).await;
        }
        rows::set_rights(&mut conn, id, target, rights.level()).await?;
        self.cache.forget_conversation(id);
        let conversation = self.load_conversation(&mut conn, id).await?;
        drop(conn);
        self.notify(
            conversation.member_ids(),
            Notice::ConversationUpdated(conversation.clone()),
        );
        if rights != target_rights {
            let what =
                serde_json::json!({"action": "rights_changed", "user": target, "rights": rights});
            self.system_message(&conversation, actor, what).await?;
        }
        self.federate_group(id, vec![]).await?;
        Ok(conversation)
    }

    /// Sends an admin's change of a mirrored group to its host, which
    /// applies it and sends everyone the new state. Answers the group as it
    /// is until then.
    async fn ask_host(
        &self,
        actor: UserId,
        group: Conversation,
        commands: Vec<GroupCommand>,
    ) -> ChatResult<Conversation> {
        for command in commands {
            self.federate(Outgoing::ManageGroup {
                actor,
                conversation: group.id,
                command,
            })
            .await?;
        }
        Ok(group)
    }

    /// A group hosted here, changed by one of its admins from another
    /// server: `user` becomes a member with `rights`, or gets `rights` if a
    /// member already (the same limits as for a local admin).
    pub async fn admit_member(
        &self,
        actor: UserId,
        id: ConversationId,
        user: UserId,
        rights: Rights,
    ) -> ChatResult<Conversation> {
        let mut conn = self.db.read().await?;
        let (group, _) = self.group_as(&mut conn, id, actor, Rights::Admin).await?;
        drop(conn);
        match group.rights_of(user) {
            Some(current) if current == rights => Ok(group),
            Some(_) => self.set_rights(actor, id, user, rights).await,
            None => {
                self.add_members(actor, id, &[user.to_string()], rights)
                    .await
            }
        }
    }

    /// Makes `target` (a user of this server) the owner; the old owner
    /// becomes an admin.
    pub async fn transfer_ownership(
        &self,
        actor: UserId,
        id: ConversationId,
        target: UserId,
    ) -> ChatResult<Conversation> {
        let mut conn = self.db.write().await?;
        let (before, _) = self.group_as(&mut conn, id, actor, Rights::Owner).await?;
        if target == actor || before.rights_of(target).is_none() {
            return Err(ChatError::NotFound("member"));
        }
        // The owner alone may delete the group or hand it on, and only on
        // the server that hosts it: a remote owner could do neither.
        let remote = user_rows::find_by_id(&mut conn, target)
            .await?
            .is_some_and(|u| u.domain.is_some());
        if remote {
            return Err(ChatError::invalid(
                "user",
                "the owner must be a user of this server, which hosts the group",
            ));
        }
        rows::transfer_ownership(&mut conn, id, actor, target).await?;
        self.cache.forget_conversation(id);
        let conversation = self.load_conversation(&mut conn, id).await?;
        drop(conn);
        self.notify(
            conversation.member_ids(),
            Notice::ConversationUpdated(conversation.clone()),
        );
        let what = serde_json::json!({"action": "owner_changed", "user": target});
        self.system_message(&conversation, actor, what).await?;
        self.federate_group(id, vec![]).await?;
        Ok(conversation)
    }

    /// Leaves a group. The owner must transfer ownership first, unless they
    /// are the last member (then the group is deleted).
    pub async fn leave(&self, actor: UserId, id: ConversationId) -> ChatResult<()> {
        let mut conn = self.db.write().await?;
        let (before, rights) = self.membership(&mut conn, id, actor).await?;
        if before.kind != ConversationKind::Group {
            return Err(ChatError::invalid("conversation", "this is not a group"));
        }
        if before.hosted_by.is_some() {
            drop(conn);
            return self.leave_mirror(actor, &before).await;
        }
        if rights == Rights::Owner {
            if before.members.len() > 1 {
                return Err(ChatError::Forbidden(
                    "transfer ownership before leaving".into(),
                ));
            }
            rows::delete(&mut conn, id).await?;
            self.cache.forget_conversation(id);
            self.notify(
                vec![actor],
                Notice::ConversationDeleted { conversation: id },
            );
            return Ok(());
        }
        self.drop_member(conn, id, actor, actor, "member_left")
            .await?;
        Ok(())
    }

    /// Stores and pushes a `system` message describing a change.
    pub(super) async fn system_message(
        &self,
        conversation: &Conversation,
        actor: UserId,
        what: serde_json::Value,
    ) -> ChatResult<Message> {
        // Through the writer like every message, so ids and commit order
        // agree; the caller has released its write connection.
        let row = MessageRow::new(conversation.id, Some(actor), "system", what.to_string());
        match self.writer.write(row, conversation.member_ids()).await? {
            Stored::New(row, _) | Stored::Existing(row) => Ok(Message::try_from(row)?),
        }
    }
}

/// Admins grant at most `write`; the owner at most `admin`.
fn check_grant(actor: Rights, granted: Rights) -> ChatResult<()> {
    let ceiling = if actor == Rights::Owner {
        Rights::Admin
    } else {
        Rights::Write
    };
    if granted > ceiling {
        return Err(ChatError::Forbidden(format!(
            "you may grant at most {ceiling:?} rights"
        )));
    }
    Ok(())
}
