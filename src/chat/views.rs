//! What clients see of conversations, members, messages and contacts: the
//! shapes pushed over the WebSocket and returned by the REST reads.

use crate::db::contacts::ContactRow;
use crate::db::conversations::{ConversationRow, MemberRow};
use crate::db::ids::{ConversationId, MessageId, UserId};
use crate::db::messages::MessageRow;
use crate::db::DbError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A member's rights; each implies the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Rights {
    Read = 1,
    Write = 2,
    Admin = 3,
    Owner = 4,
}

impl Rights {
    pub fn level(self) -> i32 {
        self as i32
    }

    pub fn from_level(level: i32) -> Result<Self, DbError> {
        Ok(match level {
            1 => Rights::Read,
            2 => Rights::Write,
            3 => Rights::Admin,
            4 => Rights::Owner,
            other => return Err(DbError::Corrupt(format!("members.rights = {other}"))),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConversationKind {
    Direct,
    Group,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Member {
    pub user: UserId,
    pub rights: Rights,
    pub joined_at: DateTime<Utc>,
}

impl TryFrom<&MemberRow> for Member {
    type Error = DbError;
    fn try_from(row: &MemberRow) -> Result<Self, DbError> {
        Ok(Member {
            user: row.user_id,
            rights: Rights::from_level(row.rights)?,
            joined_at: row.joined_at.and_utc(),
        })
    }
}

/// A conversation as every member sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Conversation {
    pub id: ConversationId,
    pub kind: ConversationKind,
    /// Groups only.
    pub name: Option<String>,
    pub topic: String,
    pub avatar_url: Option<String>,
    pub creator: Option<UserId>,
    pub members: Vec<Member>,
    /// A direct conversation is read-only while its two users are not
    /// contacts or one blocks the other.
    pub read_only: bool,
    pub last_message_id: Option<MessageId>,
    /// `null` for conversations hosted on this server; for a group hosted
    /// on another server, its ActivityPub id (it is managed there).
    pub hosted_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Conversation {
    pub fn from_rows(
        row: ConversationRow,
        members: &[MemberRow],
        read_only: bool,
        last_message_id: Option<MessageId>,
    ) -> Result<Self, DbError> {
        Ok(Conversation {
            id: row.id,
            kind: if row.kind == "direct" {
                ConversationKind::Direct
            } else {
                ConversationKind::Group
            },
            name: row.name,
            topic: row.topic,
            avatar_url: row.avatar_url,
            creator: row.creator_id,
            members: members
                .iter()
                .map(Member::try_from)
                .collect::<Result<_, _>>()?,
            read_only,
            last_message_id,
            hosted_by: row.ap_id,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }

    pub fn member_ids(&self) -> Vec<UserId> {
        self.members.iter().map(|m| m.user).collect()
    }

    pub fn rights_of(&self, user: UserId) -> Option<Rights> {
        self.members
            .iter()
            .find(|m| m.user == user)
            .map(|m| m.rights)
    }
}

/// A conversation with the viewer's own membership state.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversationSummary {
    pub conversation: Conversation,
    pub rights: Rights,
    pub unread: i64,
    pub last_read: Option<MessageId>,
    pub muted: bool,
    pub last_message: Option<Message>,
    /// Open requests to join, for admins of a group hosted here (0
    /// otherwise): what waits for them in the group's settings.
    pub join_requests: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Text,
    GameInvite,
    /// One sticker of a pack, in `sticker`; the body is its `:shortcode:`.
    Sticker,
    System,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GameState {
    Pending,
    Accepted,
    Declined,
    Expired,
}

/// A game invitation carried by a `game_invite` message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GameInvite {
    pub game: String,
    #[schema(value_type = Option<Object>)]
    pub settings: Option<serde_json::Value>,
    pub state: GameState,
    /// Who may answer; `null`: any other member.
    pub invitee: Option<UserId>,
    pub answered_by: Option<UserId>,
    pub expires_at: DateTime<Utc>,
}

impl GameInvite {
    /// The state as of `now`: a pending invitation past its time is expired.
    pub fn current(mut self, now: DateTime<Utc>) -> Self {
        if self.state == GameState::Pending && now >= self.expires_at {
            self.state = GameState::Expired;
        }
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub id: MessageId,
    pub conversation: ConversationId,
    /// `null` for system messages whose author was deleted.
    pub author: Option<UserId>,
    pub kind: MessageKind,
    /// Plain text (system messages: a JSON description of the change).
    pub body: String,
    pub reply_to: Option<MessageId>,
    pub game: Option<GameInvite>,
    /// The sender's request id, so its other sessions can match the echo.
    pub client_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    /// A deleted message is a tombstone: empty body, `deleted: true`.
    pub deleted: bool,
    /// The reactions the reader sees, by emoji in the order first used;
    /// left out when there are none (so always in a new message's push).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<super::reactions::Reaction>,
    /// Files and images, in the order sent, with links valid for a while
    /// (`media_link_ttl_s`); left out when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<super::media::MediaItem>,
    /// The members it mentions (`@name`, `@name@host`), in the order
    /// named; left out when it mentions nobody. A mentioned member's
    /// client notifies them even in a muted conversation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<UserId>,
    /// The preview of its first link, once this server has made it (it
    /// comes later, in a `message.preview` push); left out until then and
    /// for messages without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<super::previews::LinkPreview>,
    /// A `sticker` message's sticker (also once removed from its pack);
    /// left out for other kinds and for a deleted message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticker: Option<super::stickers::Sticker>,
}

impl TryFrom<MessageRow> for Message {
    type Error = DbError;
    fn try_from(row: MessageRow) -> Result<Self, DbError> {
        let kind = match row.kind.as_str() {
            "text" => MessageKind::Text,
            "game_invite" => MessageKind::GameInvite,
            "sticker" => MessageKind::Sticker,
            "system" => MessageKind::System,
            other => return Err(DbError::Corrupt(format!("messages.kind = {other}"))),
        };
        let game = match &row.game {
            Some(json) => Some(
                serde_json::from_str::<GameInvite>(json)
                    .map_err(|e| DbError::Corrupt(format!("messages.game of {}: {e}", row.id)))?
                    .current(Utc::now()),
            ),
            None => None,
        };
        Ok(Message {
            id: row.id,
            conversation: row.conversation_id,
            author: row.author_id,
            kind,
            body: row.body,
            reply_to: row.reply_to,
            game,
            client_id: row.client_id,
            created_at: row.created_at.and_utc(),
            edited_at: row.edited_at.map(|t| t.and_utc()),
            deleted: row.deleted_at.is_some(),
            reactions: vec![],
            attachments: vec![],
            preview: None,
            sticker: None,
            mentions: match &row.mentions {
                Some(json) => serde_json::from_str(json).map_err(|e| {
                    DbError::Corrupt(format!("messages.mentions of {}: {e}", row.id))
                })?,
                None => vec![],
            },
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactState {
    /// They invited you.
    PendingIncoming,
    /// You invited them.
    PendingOutgoing,
    Accepted,
    /// Nothing (after a decline, cancel, removal or block).
    None,
}

/// A contact or invitation, from the viewer's side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Contact {
    pub user: UserId,
    pub state: ContactState,
    pub since: DateTime<Utc>,
}

impl Contact {
    pub fn from_row(row: &ContactRow, viewer: UserId) -> Self {
        let (user, state) = match (row.state.as_str(), row.requester_id == viewer) {
            ("accepted", true) => (row.addressee_id, ContactState::Accepted),
            ("accepted", false) => (row.requester_id, ContactState::Accepted),
            (_, true) => (row.addressee_id, ContactState::PendingOutgoing),
            (_, false) => (row.requester_id, ContactState::PendingIncoming),
        };
        Contact {
            user,
            state,
            since: row.updated_at.and_utc(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Online,
    Away,
    Offline,
}
