//! Emoji reactions to messages: adding and removing them (`message.react`,
//! `message.unreact`), and the summary each reader sees, in history and in
//! the `message.reactions` push.
//!
//! The rules (`docs/protocol.md`): every member who can read the
//! conversation may react, read-only members included (as Telegram and
//! Slack let readers react), but not in a read-only conversation (a direct
//! chat closed by a block or a removed contact). A reaction is one Unicode
//! emoji, stored in its fully-qualified form. A reader does not see the
//! reactions of users they block (as Element hides ignored users' events),
//! nor may anyone react to a message they cannot see.
//!
//! Reactions federate like messages: a local user's reaction (and its
//! removal) goes to the conversation's remote members, and a group hosted
//! here relays those of its remote members ([`Outgoing::Reaction`]).
//! Reactions received from other servers come in through [`Chat::react`]
//! and [`Chat::unreact`] too, under the same rules.
//!
//! Must not import axum, activitypub_federation, `api`, `ws` or `apub`.

use super::cache::Access;
use super::events::Notice;
use super::federation::Outgoing;
use super::views::ConversationKind;
use super::views::Message;
use super::{Chat, ChatError, ChatResult};
use crate::db::ids::{ConversationId, MessageId, UserId};
use crate::db::messages::{self as message_rows, MessageRow};
use crate::db::reactions::{self as rows, Added, Bounds, ReactionRow};
use crate::db::DbConn;
use chrono::{NaiveDateTime, SubsecRound};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use utoipa::ToSchema;

/// Distinct emoji on one message.
pub const EMOJI_PER_MESSAGE_MAX: i64 = 20;
/// Reactions of one user on one message.
pub const REACTIONS_PER_USER_MAX: i64 = 10;
/// Users named per emoji in a summary (the oldest reactions first).
pub const USERS_SHOWN_MAX: usize = 10;
/// Longest accepted `emoji` value, in bytes (the longest emoji sequences,
/// families with skin tones, are 35).
const EMOJI_BYTES_MAX: usize = 64;

/// One emoji's reactions on a message, as one reader sees them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub struct Reaction {
    pub emoji: String,
    /// Everyone the reader sees reacting with it.
    pub count: i64,
    /// Whether the reader is one of them.
    pub me: bool,
    /// The first of them, oldest first, at most [`USERS_SHOWN_MAX`].
    pub users: Vec<UserId>,
}

/// A message's reactions: the result of `message.react` and
/// `message.unreact` and the data of the `message.reactions` push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MessageReactions {
    pub message: MessageId,
    pub conversation: ConversationId,
    pub reactions: Vec<Reaction>,
}

/// `message.react` and `message.unreact`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReactionChange {
    pub message: MessageId,
    pub emoji: String,
}

/// `emoji` as stored: the fully-qualified form of one Unicode emoji
/// (skin tones and ZWJ sequences included), or 422 `invalid`.
pub fn checked_emoji(emoji: &str) -> ChatResult<String> {
    let found = (emoji.len() <= EMOJI_BYTES_MAX)
        .then(|| emojis::get(emoji))
        .flatten();
    found
        .map(|e| e.as_str().to_owned())
        .ok_or_else(|| ChatError::invalid("emoji", "must be one Unicode emoji"))
}

/// The summary of `rows` (one message's reactions, oldest first) that
/// `viewer` sees, leaving out the users for which `hidden` holds.
pub fn summarise(
    rows: &[ReactionRow],
    viewer: UserId,
    hidden: impl Fn(UserId) -> bool,
) -> Vec<Reaction> {
    let mut out: Vec<Reaction> = vec![];
    for row in rows.iter().filter(|r| !hidden(r.user_id)) {
        let at = match out.iter().position(|r| r.emoji == row.emoji) {
            Some(at) => at,
            None => {
                out.push(Reaction {
                    emoji: row.emoji.clone(),
                    count: 0,
                    me: false,
                    users: vec![],
                });
                out.len() - 1
            }
        };
        let reaction = &mut out[at];
        reaction.count += 1;
        reaction.me |= row.user_id == viewer;
        if reaction.users.len() < USERS_SHOWN_MAX {
            reaction.users.push(row.user_id);
        }
    }
    out
}

impl Chat {
    /// Adds `user`'s reaction; reacting twice with one emoji changes
    /// nothing. Readers of the message get `message.reactions`.
    pub async fn react(
        &self,
        user: UserId,
        change: ReactionChange,
    ) -> ChatResult<MessageReactions> {
        self.add_reaction(user, change, None).await
    }

    /// [`Chat::react`] for a remote user's reaction that another server
    /// sent as the activity `ap_id`, kept so that an `Undo` naming only
    /// that id finds it.
    pub async fn react_remote(
        &self,
        user: UserId,
        change: ReactionChange,
        ap_id: &str,
    ) -> ChatResult<MessageReactions> {
        self.add_reaction(user, change, Some(ap_id.to_owned()))
            .await
    }

    /// The received reaction whose activity id is `ap_id`, if it is held.
    pub async fn reaction_by_ap_id(&self, ap_id: &str) -> ChatResult<Option<ReactionRow>> {
        Ok(rows::find_by_ap_id(&mut self.db.read().await?, ap_id).await?)
    }

    async fn add_reaction(
        &self,
        user: UserId,
        change: ReactionChange,
        ap_id: Option<String>,
    ) -> ChatResult<MessageReactions> {
        let emoji = checked_emoji(&change.emoji)?;
        let (message, access) = self.reactable(user, change.message).await?;
        // Microseconds, which both backends keep: the time names the
        // reaction's activity, and its removal must name it again.
        let made_at = chrono::Utc::now().naive_utc().trunc_subsecs(6);
        let row = ReactionRow {
            message_id: message.id,
            user_id: user,
            emoji: emoji.clone(),
            created_at: made_at,
            ap_id,
        };
        let bounds = Bounds {
            emoji_per_message: EMOJI_PER_MESSAGE_MAX,
            per_user: REACTIONS_PER_USER_MAX,
        };
        let added = rows::add(&mut self.db.write().await?, &row, bounds).await?;
        match added {
            Added::New => {
                let summary = self.publish_reactions(&message, &access, user).await?;
                let change = (emoji, made_at, true);
                self.federate_reaction(&message, &access, user, change)
                    .await?;
                Ok(summary)
            }
            Added::Already => self.reactions_of(&message, user).await,
            Added::NoMessage => Err(ChatError::NotFound("message")),
            Added::TooManyEmoji => Err(ChatError::LimitReached(format!(
                "a message takes at most {EMOJI_PER_MESSAGE_MAX} different emoji"
            ))),
            Added::TooManyOfUser => Err(ChatError::LimitReached(format!(
                "you may react at most {REACTIONS_PER_USER_MAX} times to a message"
            ))),
        }
    }

    /// Removes `user`'s reaction; removing one that is not there changes
    /// nothing. Readers of the message get `message.reactions`.
    pub async fn unreact(
        &self,
        user: UserId,
        change: ReactionChange,
    ) -> ChatResult<MessageReactions> {
        let emoji = checked_emoji(&change.emoji)?;
        let (message, access) = self.reactable(user, change.message).await?;
        let at = chrono::Utc::now().naive_utc();
        let removed =
            rows::remove(&mut self.db.write().await?, message.id, user, &emoji, at).await?;
        if let Some(made_at) = removed {
            let summary = self.publish_reactions(&message, &access, user).await?;
            let change = (emoji, made_at, false);
            self.federate_reaction(&message, &access, user, change)
                .await?;
            Ok(summary)
        } else {
            self.reactions_of(&message, user).await
        }
    }

    /// The message `user` wants to react to, if they may: a live, non-system
    /// message they can see, in a conversation they are a member of that is
    /// not read-only. Unknown and hidden messages are both 404.
    async fn reactable(
        &self,
        user: UserId,
        message: MessageId,
    ) -> ChatResult<(MessageRow, Arc<Access>)> {
        let row = message_rows::find(&mut self.db.read().await?, message)
            .await?
            .filter(|m| m.deleted_at.is_none())
            .ok_or(ChatError::NotFound("message"))?;
        let access = self.access(row.conversation_id).await?;
        if access.rights_of(user).is_none() {
            return Err(ChatError::NotFound("message"));
        }
        if let Some(author) = row.author_id {
            // Hidden from a reader who blocks its author.
            if self.blockers(author).await?.contains(&user) {
                return Err(ChatError::NotFound("message"));
            }
        }
        if access.read_only {
            return Err(ChatError::Forbidden(
                "this conversation is read-only".into(),
            ));
        }
        if row.kind == "system" {
            return Err(ChatError::Forbidden(
                "system messages take no reactions".into(),
            ));
        }
        Ok((row, access))
    }

    /// Tells federation about `actor`'s reaction `(emoji, made at, added)`
    /// when this server speaks for it: the actor is local, or a remote
    /// member of a group hosted here (which relays it). The remote members
    /// who block the message's author or the actor are left out.
    async fn federate_reaction(
        &self,
        message: &MessageRow,
        access: &Access,
        actor: UserId,
        (emoji, made_at, added): (String, NaiveDateTime, bool),
    ) -> ChatResult<()> {
        if access.remote.is_empty() {
            return Ok(());
        }
        let relays = access.kind == ConversationKind::Group && !access.mirror;
        if access.remote.contains(&actor) && !relays {
            return Ok(());
        }
        let mut recipients = self.audience(access.remote.clone(), actor).await?;
        if let Some(author) = message.author_id {
            recipients = self.audience(recipients, author).await?;
        }
        recipients.retain(|u| *u != actor);
        if recipients.is_empty() && !access.mirror {
            return Ok(());
        }
        self.federate(Outgoing::Reaction {
            message: message.id,
            actor,
            emoji,
            made_at,
            added,
            recipients,
        })
        .await
    }

    /// The summary `user` sees now.
    async fn reactions_of(
        &self,
        message: &MessageRow,
        user: UserId,
    ) -> ChatResult<MessageReactions> {
        let mut conn = self.db.read().await?;
        let all = rows::for_messages(&mut conn, &[message.id]).await?;
        let mut reactors: Vec<UserId> = all.iter().map(|r| r.user_id).collect();
        reactors.sort_unstable();
        reactors.dedup();
        let mut hidden = HashSet::new();
        for reactor in reactors {
            if self.blockers(reactor).await?.contains(&user) {
                hidden.insert(reactor);
            }
        }
        Ok(MessageReactions {
            message: message.id,
            conversation: message.conversation_id,
            reactions: summarise(&all, user, |u| hidden.contains(&u)),
        })
    }

    /// Pushes `message.reactions` to every member who sees the message and
    /// `actor`'s reactions, each their own summary (readers with the same
    /// summary share one push); returns `actor`'s.
    async fn publish_reactions(
        &self,
        message: &MessageRow,
        access: &Access,
        actor: UserId,
    ) -> ChatResult<MessageReactions> {
        let all = rows::for_messages(&mut self.db.read().await?, &[message.id]).await?;
        let mut readers = access.member_ids();
        if let Some(author) = message.author_id {
            readers = self.audience(readers, author).await?;
        }
        readers = self.audience(readers, actor).await?;
        let mut reactors: Vec<UserId> = all.iter().map(|r| r.user_id).collect();
        reactors.sort_unstable();
        reactors.dedup();
        let mut blockers = HashMap::new();
        for reactor in reactors {
            blockers.insert(reactor, self.blockers(reactor).await?);
        }
        let hides = |reader: UserId| {
            let blockers = &blockers;
            move |u: UserId| blockers.get(&u).is_some_and(|b| b.contains(&reader))
        };
        let mut pushes: HashMap<Vec<Reaction>, Vec<UserId>> = HashMap::new();
        for reader in readers {
            let summary = summarise(&all, reader, hides(reader));
            pushes.entry(summary).or_default().push(reader);
        }
        for (reactions, audience) in pushes {
            self.notify(
                audience,
                Notice::MessageReactions(MessageReactions {
                    message: message.id,
                    conversation: message.conversation_id,
                    reactions,
                }),
            );
        }
        Ok(MessageReactions {
            message: message.id,
            conversation: message.conversation_id,
            reactions: summarise(&all, actor, hides(actor)),
        })
    }

    /// Fills in the reactions of `messages` as `reader` sees them (without
    /// those of the users in `blocked`).
    pub(super) async fn attach_reactions(
        &self,
        conn: &mut DbConn<'_>,
        reader: UserId,
        blocked: &HashSet<UserId>,
        messages: &mut [Message],
    ) -> ChatResult<()> {
        let ids: Vec<MessageId> = messages.iter().map(|m| m.id).collect();
        let all = rows::for_messages(conn, &ids).await?;
        if all.is_empty() {
            return Ok(());
        }
        let mut by_message: HashMap<MessageId, Vec<ReactionRow>> = HashMap::new();
        for row in all {
            by_message.entry(row.message_id).or_default().push(row);
        }
        for message in messages {
            if let Some(rows) = by_message.get(&message.id) {
                message.reactions = summarise(rows, reader, |u| blocked.contains(&u));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_are_one_emoji_in_fully_qualified_form() {
        assert_eq!(checked_emoji("👍").unwrap(), "👍");
        assert_eq!(checked_emoji("👍🏽").unwrap(), "👍🏽");
        assert_eq!(checked_emoji("❤️").unwrap(), "❤️");
        assert!(checked_emoji("👩‍👩‍👧‍👦").is_ok());
        for bad in ["", "a", "👍👍", ":smile:", "👍 ", "x".repeat(100).as_str()] {
            assert!(checked_emoji(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn summaries_count_in_order_and_hide_blocked_users() {
        let (a, b, c) = (UserId::new(), UserId::new(), UserId::new());
        let message = MessageId::new();
        let at = chrono::Utc::now().naive_utc();
        let row = |user, emoji: &str| ReactionRow {
            message_id: message,
            user_id: user,
            emoji: emoji.into(),
            created_at: at,
            ap_id: None,
        };
        let rows = [row(a, "👍"), row(b, "🎉"), row(c, "👍")];
        let seen = summarise(&rows, a, |_| false);
        assert_eq!(seen.len(), 2);
        assert_eq!(
            (seen[0].emoji.as_str(), seen[0].count, seen[0].me),
            ("👍", 2, true)
        );
        assert_eq!(seen[0].users, vec![a, c]);
        assert_eq!(
            (seen[1].emoji.as_str(), seen[1].count, seen[1].me),
            ("🎉", 1, false)
        );
        let seen = summarise(&rows, a, |u| u == b);
        assert_eq!(seen.len(), 1);
    }
}
