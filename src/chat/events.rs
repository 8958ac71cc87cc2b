//! Domain events and the bus seam that carries them to every node's
//! listeners (WebSocket hubs, later federation). The bus implementations live
//! in `crate::bus`; the domain only knows this trait.

use super::views::{Contact, Conversation, Message, Status};
use crate::db::ids::{ConversationId, MessageId, UserId};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// Something that changed and that live listeners may need to know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ChatEvent {
    UserCreated {
        user: UserId,
    },
    UserUpdated {
        user: UserId,
    },
    UserDeleted {
        user: UserId,
    },
    /// End the live sessions of `user` with `reason`: those opened with a
    /// token older than `below_generation` when it is given (so a session
    /// opened with the fresh token survives), all of them otherwise.
    SessionsEnded {
        user: UserId,
        reason: SessionEnd,
        below_generation: Option<i64>,
    },
    /// Tell every live session of every user in `audience`.
    Notify {
        audience: Vec<UserId>,
        notice: Box<Notice>,
    },
}

/// Why the server ends a user's live sessions; the WebSocket close reason
/// clients show (`docs/protocol.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionEnd {
    /// The user changed their password (or an admin reset it).
    PasswordChanged,
    /// The user logged out their other sessions.
    SessionsRevoked,
    /// The session's token no longer works (seen by the periodic check:
    /// a password change or revocation made by another process).
    TokenRevoked,
    /// A moderator or admin suspended the account.
    AccountSuspended,
    /// An admin changed the account's role; reconnect to get the new one.
    RoleChanged,
    /// The account was deleted.
    AccountDeleted,
}

impl SessionEnd {
    /// The close reason sent in the WebSocket close frame.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionEnd::PasswordChanged => "password_changed",
            SessionEnd::SessionsRevoked => "sessions_revoked",
            SessionEnd::TokenRevoked => "token_revoked",
            SessionEnd::AccountSuspended => "account_suspended",
            SessionEnd::RoleChanged => "role_changed",
            SessionEnd::AccountDeleted => "account_deleted",
        }
    }
}

/// What users are told; serialised as a WebSocket push frame
/// `{"type": "<name>", "data": {...}}` (see `docs/protocol.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Notice {
    #[serde(rename = "message.created")]
    MessageCreated(Message),
    /// Edited, deleted (tombstone) or a game invitation answered.
    #[serde(rename = "message.updated")]
    MessageUpdated(Message),
    /// A message's reactions changed: the summary its receiver sees.
    #[serde(rename = "message.reactions")]
    MessageReactions(super::reactions::MessageReactions),
    /// A message's link preview is ready.
    #[serde(rename = "message.preview")]
    MessagePreview(super::previews::MessagePreview),
    /// A group's pinned messages changed: the list its receiver sees.
    #[serde(rename = "conversation.pins")]
    Pins(super::pins::Pins),
    #[serde(rename = "conversation.created")]
    ConversationCreated(Conversation),
    /// Renamed, new topic, members or rights changed, read-only changed.
    #[serde(rename = "conversation.updated")]
    ConversationUpdated(Conversation),
    /// The owner deleted the group.
    #[serde(rename = "conversation.deleted")]
    ConversationDeleted { conversation: ConversationId },
    /// You left or were removed.
    #[serde(rename = "conversation.removed")]
    ConversationRemoved { conversation: ConversationId },
    /// Your read marker moved (on another of your sessions).
    #[serde(rename = "message.read")]
    ReadMarker {
        conversation: ConversationId,
        message: MessageId,
        unread: i64,
    },
    /// To the other members who may see it: a member's read marker moved
    /// (`chat::receipts`).
    #[serde(rename = "conversation.read_by")]
    ReadReceipt(super::receipts::ReadReceipt),
    /// To a group's admins: someone on another server asks to join.
    #[serde(rename = "conversation.join_requested")]
    JoinRequested(super::joins::JoinRequest),
    /// To a group's admins: a join request was approved, declined or withdrawn.
    #[serde(rename = "conversation.join_resolved")]
    JoinResolved {
        conversation: ConversationId,
        user: UserId,
        approved: bool,
    },
    /// To the requester: a group hosted elsewhere declined the request.
    #[serde(rename = "conversation.join_declined")]
    JoinDeclined { group: String },
    /// To the requester's sessions: they asked a group hosted elsewhere to
    /// let them in (the request now waits).
    #[serde(rename = "conversation.join_sent")]
    JoinSent(super::joins::SentJoinRequest),
    /// To the requester's sessions: they withdrew that request.
    #[serde(rename = "conversation.join_cancelled")]
    JoinCancelled { group: String },
    /// To the reporter's sessions: a moderator resolved their report.
    #[serde(rename = "report.resolved")]
    ReportResolved {
        report: crate::db::ids::ReportId,
        action: super::reports::ResolveAction,
    },
    #[serde(rename = "contact.updated")]
    ContactUpdated(Contact),
    #[serde(rename = "contact.blocked")]
    BlockUpdated { user: UserId, blocked: bool },
    #[serde(rename = "status.changed")]
    StatusChanged { user: UserId, status: Status },
    #[serde(rename = "typing")]
    Typing {
        conversation: ConversationId,
        user: UserId,
        typing: bool,
    },
}

/// Receives every event of this node synchronously, inside
/// [`EventBus::publish`]: the WebSocket hub, so that a push is in its
/// sessions' queues when `publish` returns (`docs/protocol.md`, ordering).
pub trait LocalListener: Send + Sync {
    /// Handles `event`; must not block and must not publish.
    fn on_event(&self, event: &ChatEvent);
}

/// Publishes events to every subscriber on every node.
pub trait EventBus: Send + Sync {
    /// Sends `event` to all current subscribers; never blocks.
    fn publish(&self, event: ChatEvent);
    /// A receiver of every event published from now on.
    fn subscribe(&self) -> broadcast::Receiver<ChatEvent>;
}
