//! Groups hosted on other servers, mirrored here for their local members.
//! The host is the authority: it sends the group's state (name, topic,
//! members and rights) and relays its messages; this server keeps a copy so
//! local members see the group and get the same events as in a local group.
//! Messages written here go to the host, which checks rights again.

use super::events::Notice;
use super::messages::RemoteMessage;
use super::views::{Message, Rights};
use super::{Chat, ChatError, ChatResult};
use crate::db::conversations::{self as rows, ConversationRow, MemberRow};
use crate::db::ids::{ConversationId, UserId};
use crate::db::sent_join_requests as sent_rows;
use crate::db::users as user_rows;
use chrono::NaiveDateTime;
use std::collections::HashMap;

/// A group's state as its host sent it.
#[derive(Debug, Clone)]
pub struct GroupSnapshot {
    pub ap_id: String,
    pub inbox: String,
    pub public_key_pem: String,
    pub name: String,
    pub topic: String,
    pub members: Vec<(UserId, Rights)>,
    /// When the host made the snapshot; older ones are ignored.
    pub updated: NaiveDateTime,
}

impl Chat {
    /// Applies a host's snapshot: creates the mirror when it first names a
    /// local member, updates members and rights, and drops the mirror when
    /// no local member is left. Local members are told as for a local group.
    pub async fn apply_group_snapshot(&self, snapshot: GroupSnapshot) -> ChatResult<()> {
        let mut conn = self.db.write().await?;
        let mut local = vec![];
        for (user, _) in &snapshot.members {
            if user_rows::find_by_id(&mut conn, *user)
                .await?
                .is_some_and(|u| u.domain.is_none())
            {
                local.push(*user);
            }
        }
        // Local members' requests to join are answered by now.
        sent_rows::delete_for(&mut conn, &snapshot.ap_id, &local).await?;
        let existing = rows::find_by_ap_id(&mut conn, &snapshot.ap_id).await?;
        let Some(row) = existing else {
            if local.is_empty() {
                return Ok(());
            }
            let row = ConversationRow {
                id: ConversationId::new(),
                kind: "group".into(),
                name: Some(snapshot.name.clone()),
                topic: snapshot.topic.clone(),
                avatar_url: None,
                creator_id: None,
                direct_key: None,
                created_at: snapshot.updated,
                updated_at: snapshot.updated,
                ap_id: Some(snapshot.ap_id.clone()),
                public_key_pem: Some(snapshot.public_key_pem.clone()),
                private_key_pem: None,
                inbox: Some(snapshot.inbox.clone()),
            };
            let members: Vec<MemberRow> = snapshot
                .members
                .iter()
                .map(|(user, rights)| member_row(row.id, *user, *rights, snapshot.updated))
                .collect();
            rows::insert(&mut conn, &row, &members).await?;
            let conversation = self.load_conversation(&mut conn, row.id).await?;
            self.notify(local, Notice::ConversationCreated(conversation));
            return Ok(());
        };
        if snapshot.updated <= row.updated_at {
            return Ok(());
        }
        if local.is_empty() {
            let gone = rows::members(&mut conn, row.id).await?;
            rows::delete(&mut conn, row.id).await?;
            self.cache.forget_conversation(row.id);
            let audience = gone.iter().map(|m| m.user_id).collect();
            self.notify(
                audience,
                Notice::ConversationRemoved {
                    conversation: row.id,
                },
            );
            return Ok(());
        }
        rows::set_mirror(
            &mut conn,
            row.id,
            &snapshot.name,
            &snapshot.topic,
            &snapshot.public_key_pem,
            &snapshot.inbox,
            snapshot.updated,
        )
        .await?;
        let before: HashMap<UserId, i32> = rows::members(&mut conn, row.id)
            .await?
            .into_iter()
            .map(|m| (m.user_id, m.rights))
            .collect();
        let after: HashMap<UserId, Rights> = snapshot.members.iter().copied().collect();
        let mut removed = vec![];
        for user in before.keys().filter(|u| !after.contains_key(u)) {
            rows::remove_member(&mut conn, row.id, *user).await?;
            removed.push(*user);
        }
        let mut added = vec![];
        for (user, rights) in &after {
            match before.get(user) {
                None => {
                    rows::add_members(
                        &mut conn,
                        &[member_row(row.id, *user, *rights, snapshot.updated)],
                    )
                    .await?;
                    added.push(*user);
                }
                Some(level) if *level != rights.level() => {
                    rows::set_rights(&mut conn, row.id, *user, rights.level()).await?;
                }
                Some(_) => {}
            }
        }
        self.cache.forget_conversation(row.id);
        let conversation = self.load_conversation(&mut conn, row.id).await?;
        drop(conn);
        self.notify(
            removed,
            Notice::ConversationRemoved {
                conversation: row.id,
            },
        );
        let (new, old): (Vec<UserId>, Vec<UserId>) = conversation
            .member_ids()
            .into_iter()
            .partition(|u| added.contains(u));
        self.notify(new, Notice::ConversationCreated(conversation.clone()));
        self.notify(old, Notice::ConversationUpdated(conversation));
        Ok(())
    }

    /// The host deleted the group.
    pub async fn remove_mirror(&self, ap_id: &str) -> ChatResult<()> {
        let mut conn = self.db.write().await?;
        let Some(row) = rows::find_by_ap_id(&mut conn, ap_id).await? else {
            return Ok(());
        };
        let members = rows::members(&mut conn, row.id).await?;
        rows::delete(&mut conn, row.id).await?;
        self.cache.forget_conversation(row.id);
        let audience = members.iter().map(|m| m.user_id).collect();
        self.notify(
            audience,
            Notice::ConversationDeleted {
                conversation: row.id,
            },
        );
        Ok(())
    }

    /// A message by remote `author` in a group: hosted here (then the
    /// author's rights are checked as for a local member, and the message is
    /// relayed to the other servers), or mirrored (relayed by its host).
    pub async fn receive_group_message(
        &self,
        author: UserId,
        conversation: ConversationId,
        message: RemoteMessage<'_>,
    ) -> ChatResult<Message> {
        self.store_remote(author, conversation, message).await
    }
}

fn member_row(
    conversation: ConversationId,
    user: UserId,
    rights: Rights,
    at: NaiveDateTime,
) -> MemberRow {
    MemberRow {
        conversation_id: conversation,
        user_id: user,
        rights: rights.level(),
        joined_at: at,
        last_read: None,
        muted: false,
    }
}

/// Refuses what only a group's host may decide.
pub(crate) fn not_here(host: &str) -> ChatError {
    ChatError::Forbidden(format!(
        "this group is hosted by {host}; it is managed there"
    ))
}
