//! Conversations of both kinds: loading them, membership checks, the list
//! with unread counts, direct chats between contacts, muting. Changes to
//! groups live in `groups`.

use super::events::Notice;
use super::views::{Conversation, ConversationSummary, Message, Rights};
use super::{Chat, ChatError, ChatResult};
use crate::db::conversations::{self as rows, ConversationRow, MemberRow};
use crate::db::ids::{ConversationId, UserId};
use crate::db::join_requests as join_rows;
use crate::db::messages::{self as message_rows};
use crate::db::{contacts as contact_rows, DbConn, DbError};
use chrono::Utc;
use std::collections::HashSet;

/// `<smaller id>:<larger id>`: the key that makes a pair's direct chat unique.
pub(crate) fn direct_key(a: UserId, b: UserId) -> String {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    format!("{lo}:{hi}")
}

impl Chat {
    /// The conversation with its members, `NotFound` if it does not exist.
    pub(crate) async fn load_conversation(
        &self,
        conn: &mut DbConn<'_>,
        id: ConversationId,
    ) -> ChatResult<Conversation> {
        let row = rows::find(conn, id)
            .await?
            .ok_or(ChatError::NotFound("conversation"))?;
        let members = rows::members(conn, id).await?;
        let read_only = self.direct_read_only(conn, &row, &members).await?;
        let last = message_rows::latest(conn, id, None).await?.map(|m| m.id);
        Ok(Conversation::from_rows(row, &members, read_only, last)?)
    }

    /// A direct chat is read-only unless its two users are contacts and
    /// neither blocks the other.
    async fn direct_read_only(
        &self,
        conn: &mut DbConn<'_>,
        row: &ConversationRow,
        members: &[MemberRow],
    ) -> ChatResult<bool> {
        if row.kind != "direct" {
            return Ok(false);
        }
        let [a, b] = members else { return Ok(true) };
        let (a, b) = (a.user_id, b.user_id);
        let contact = contact_rows::between(conn, a, b).await?;
        let accepted = contact.is_some_and(|c| c.state == "accepted");
        Ok(!accepted || contact_rows::either_blocks(conn, a, b).await?)
    }

    /// The conversation and `user`'s rights in it; a conversation the user
    /// is not in is `NotFound` (its existence is not revealed).
    pub(crate) async fn membership(
        &self,
        conn: &mut DbConn<'_>,
        id: ConversationId,
        user: UserId,
    ) -> ChatResult<(Conversation, Rights)> {
        let conversation = self.load_conversation(conn, id).await?;
        let rights = conversation
            .rights_of(user)
            .ok_or(ChatError::NotFound("conversation"))?;
        Ok((conversation, rights))
    }

    /// Every conversation of `user`, most recently active first.
    pub async fn list_conversations(&self, user: UserId) -> ChatResult<Vec<ConversationSummary>> {
        let mut conn = self.db.read().await?;
        let mut summaries = vec![];
        for (row, member) in rows::for_user(&mut conn, user).await? {
            summaries.push(self.summary(&mut conn, row, member).await?);
        }
        // Most recent activity: the newest message, or the last change.
        let activity = |s: &ConversationSummary| {
            let message = s.last_message.as_ref().map(|m| m.created_at);
            message.map_or(s.conversation.updated_at, |m| {
                m.max(s.conversation.updated_at)
            })
        };
        summaries.sort_by_key(|s| std::cmp::Reverse(activity(s)));
        Ok(summaries)
    }

    pub async fn conversation_summary(
        &self,
        user: UserId,
        id: ConversationId,
    ) -> ChatResult<ConversationSummary> {
        let mut conn = self.db.read().await?;
        let member = rows::member(&mut conn, id, user)
            .await?
            .ok_or(ChatError::NotFound("conversation"))?;
        let row = rows::find(&mut conn, id)
            .await?
            .ok_or(ChatError::NotFound("conversation"))?;
        self.summary(&mut conn, row, member).await
    }

    async fn summary(
        &self,
        conn: &mut DbConn<'_>,
        row: ConversationRow,
        member: MemberRow,
    ) -> ChatResult<ConversationSummary> {
        let members = rows::members(conn, row.id).await?;
        let read_only = self.direct_read_only(conn, &row, &members).await?;
        let mut last_message = message_rows::latest(conn, row.id, Some(member.user_id))
            .await?
            .map(Message::try_from)
            .transpose()?;
        self.attach_media(conn, last_message.as_mut_slice()).await?;
        let unread = rows::unread_count(conn, row.id, member.user_id, member.last_read).await?;
        let rights = Rights::from_level(member.rights)?;
        let answers_joins = row.kind == "group" && row.ap_id.is_none() && rights >= Rights::Admin;
        let join_requests = if answers_joins {
            join_rows::count(conn, row.id).await?
        } else {
            0
        };
        Ok(ConversationSummary {
            conversation: Conversation::from_rows(
                row,
                &members,
                read_only,
                last_message.as_ref().map(|m| m.id),
            )?,
            rights,
            unread,
            last_read: member.last_read,
            muted: member.muted,
            last_message,
            join_requests,
        })
    }

    /// Resolves user references (ids or names) to ids, refusing unknown
    /// users and duplicates.
    pub(super) async fn resolve_users(&self, refs: &[String]) -> ChatResult<Vec<UserId>> {
        let mut ids = Vec::with_capacity(refs.len());
        let mut seen = HashSet::new();
        for key in refs {
            let id = self.resolve_user(key).await?;
            if !seen.insert(id) {
                return Err(ChatError::invalid(
                    "members",
                    format!("{key} is listed twice"),
                ));
            }
            ids.push(id);
        }
        Ok(ids)
    }

    /// The direct conversation of `user` and `other`, created if needed;
    /// they must be contacts.
    pub async fn open_direct(&self, user: UserId, other: UserId) -> ChatResult<Conversation> {
        if user == other {
            return Err(ChatError::invalid(
                "with",
                "a direct conversation needs another user",
            ));
        }
        let mut conn = self.db.write().await?;
        let contact = contact_rows::between(&mut conn, user, other).await?;
        if contact.is_none_or(|c| c.state != "accepted") {
            return Err(ChatError::Forbidden(
                "direct conversations are only between contacts".into(),
            ));
        }
        let (conversation, created) = self.ensure_direct(&mut conn, user, other).await?;
        if created {
            self.notify(
                conversation.member_ids(),
                Notice::ConversationCreated(conversation.clone()),
            );
        }
        Ok(conversation)
    }

    /// Finds or creates the pair's direct conversation; `true` if created.
    pub(crate) async fn ensure_direct(
        &self,
        conn: &mut DbConn<'_>,
        a: UserId,
        b: UserId,
    ) -> ChatResult<(Conversation, bool)> {
        let key = direct_key(a, b);
        if let Some(row) = rows::find_direct(conn, &key).await? {
            return Ok((self.load_conversation(conn, row.id).await?, false));
        }
        let now = Utc::now().naive_utc();
        let row = ConversationRow {
            id: ConversationId::new(),
            kind: "direct".into(),
            name: None,
            topic: String::new(),
            avatar_url: None,
            creator_id: Some(a),
            direct_key: Some(key.clone()),
            created_at: now,
            updated_at: now,
            ap_id: None,
            public_key_pem: None,
            private_key_pem: None,
            inbox: None,
        };
        let member = |user| MemberRow {
            conversation_id: row.id,
            user_id: user,
            rights: Rights::Write.level(),
            joined_at: now,
            last_read: None,
            muted: false,
        };
        match rows::insert(conn, &row, &[member(a), member(b)]).await {
            Ok(()) => Ok((self.load_conversation(conn, row.id).await?, true)),
            // Created concurrently: use that one.
            Err(DbError::UniqueViolation) => {
                let existing = rows::find_direct(conn, &key)
                    .await?
                    .ok_or(ChatError::NotFound("conversation"))?;
                Ok((self.load_conversation(conn, existing.id).await?, false))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn set_muted(
        &self,
        actor: UserId,
        id: ConversationId,
        muted: bool,
    ) -> ChatResult<()> {
        let mut conn = self.db.write().await?;
        self.membership(&mut conn, id, actor).await?;
        rows::set_muted(&mut conn, id, actor, muted).await?;
        Ok(())
    }
}
