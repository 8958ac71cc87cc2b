//! The seam between the domain and federation. After a change by a **local**
//! user commits, [`Chat`](super::Chat) hands an [`Outgoing`] to the
//! [`Federation`] port; `apub` implements it by queueing activities for the
//! remote users concerned (durably, before the local user is answered).
//! Changes made by remote actors (arriving through the inbox) are handed
//! over too; federation relays them only where this server is the authority
//! (a group hosted here), since the actor's own server federated the rest.
//! The port also reads what the domain needs from other servers: a group
//! hosted elsewhere that a local user asks to join.
//!
//! Presence and typing are [`Signal`]s: ephemeral, sent best-effort and at
//! once, never stored or retried (a lost one is corrected by the next, or
//! lapses on the receiving server).

use super::views::{Rights, Status};
use super::ChatResult;
use crate::db::contacts::ContactRow;
use crate::db::ids::{ConversationId, MessageId, ReportId, UserId};
use crate::db::media::{AttachmentRow, MediaRow};
use crate::db::messages::MessageRow;
use std::future::Future;
use std::pin::Pin;
use url::Url;

/// What happened to a contact link between two users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactChange {
    /// The requester invited the addressee (`Follow`).
    Invited,
    /// The addressee accepted (`Accept{Follow}` and the reciprocal `Follow`).
    Accepted,
    /// The addressee declined (`Reject{Follow}`).
    Declined,
    /// The requester withdrew the invitation (`Undo{Follow}`).
    Cancelled,
    /// Either side ended the contact (`Undo{Follow}` and `Reject{Follow}`).
    Removed,
}

/// A change by a local user that remote users may need to hear about.
#[derive(Debug, Clone)]
pub enum Outgoing {
    Contact {
        actor: UserId,
        change: ContactChange,
        /// The link as it was when the change happened.
        row: ContactRow,
    },
    /// `blocker` blocked (or unblocked) `blocked`.
    Block {
        blocker: UserId,
        blocked: UserId,
        active: bool,
        /// When lifted: the id of the `Block` federation sent for it, so
        /// that the `Undo` names it (`None` if none was sent).
        undone: Option<String>,
    },
    /// A message was stored, edited or deleted by its author (local, or
    /// remote in a group hosted here, which relays it).
    Message {
        message: MessageId,
        /// The message as just stored, when the caller has it (saves
        /// reads on the send path).
        stored: Option<Box<StoredMessage>>,
        change: MessageChange,
        /// Remote members who may see it (blocks applied).
        recipients: Vec<UserId>,
    },
    /// `actor` added (or removed) the reaction `emoji` to `message`: a
    /// local user, or a remote member of a group hosted here (relayed).
    Reaction {
        message: MessageId,
        actor: UserId,
        emoji: String,
        /// When the reaction was made (names its activity, also in the
        /// `Undo` of a removal).
        made_at: chrono::NaiveDateTime,
        added: bool,
        /// Remote members who may see it (blocks applied).
        recipients: Vec<UserId>,
    },
    /// A local user answered a remote user's game invitation.
    GameAnswer {
        message: MessageId,
        answerer: UserId,
        accepted: bool,
    },
    /// A group hosted here changed (name, topic, members or rights):
    /// its remote members, and those just `removed`, get the new state.
    Group {
        conversation: ConversationId,
        removed: Vec<UserId>,
    },
    /// A request to join a group hosted here was answered (`Accept` or
    /// `Reject` of the remote user's `Follow`).
    JoinAnswered {
        conversation: ConversationId,
        user: UserId,
        follow_id: String,
        approved: bool,
    },
    /// Local `user` asks the group hosted elsewhere whose id is `group` to
    /// let them in (`Follow{Group}` to its `inbox`).
    JoinGroup {
        user: UserId,
        group: String,
        inbox: String,
    },
    /// Local `user` left the group hosted elsewhere whose id is `group`
    /// (`Undo{Follow}` to its `inbox`).
    LeftGroup {
        user: UserId,
        group: String,
        inbox: String,
    },
    /// An admin asks the host of the mirrored group `conversation` to
    /// change it; the host's new state comes back as `Update{Group}`.
    ManageGroup {
        actor: UserId,
        conversation: ConversationId,
        command: GroupCommand,
    },
    /// A local user's report about remote user `target` (and `messages`
    /// of theirs), to forward to the target's server as a `Flag`.
    Flag {
        report: ReportId,
        target: UserId,
        messages: Vec<MessageId>,
        comment: String,
    },
    /// A group hosted here was deleted; `members` were its remote members.
    GroupDeleted {
        conversation: ConversationId,
        members: Vec<UserId>,
    },
}

/// A message as the writer stored it, and its attachments when known.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    pub row: MessageRow,
    /// Each attachment with its media, in order; `None` when the caller
    /// does not have them (federation reads them).
    pub attachments: Option<Vec<(AttachmentRow, MediaRow)>>,
}

impl StoredMessage {
    /// A stored row whose attachments are to be read when needed.
    pub fn row(row: MessageRow) -> Self {
        Self {
            row,
            attachments: None,
        }
    }
}

/// Something live that other servers may show but nobody stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// Local `user`'s status is now `status`; `recipients` are their
    /// remote contacts allowed to see it (blocks and blocked instances
    /// applied, the user shares presence beyond this server).
    Presence {
        user: UserId,
        status: Status,
        recipients: Vec<UserId>,
    },
    /// `user` started or stopped typing in `conversation`; `recipients` are
    /// its remote members who may be told (blocks applied). Federation
    /// sends it where this server speaks for the typist: from a local user
    /// to the other members' servers (or to the host of a group hosted
    /// elsewhere), and from a group hosted here to its members' servers.
    Typing {
        user: UserId,
        conversation: ConversationId,
        typing: bool,
        recipients: Vec<UserId>,
    },
}

/// A change to a group hosted elsewhere, asked of its host.
#[derive(Debug, Clone)]
pub enum GroupCommand {
    /// Rename it or change its topic (`Update{Group}` by the admin).
    Update {
        name: Option<String>,
        topic: Option<String>,
    },
    /// Make `user` a member with `rights`, or change their rights (`Add`).
    Admit { user: UserId, rights: Rights },
    /// Take `user` out (`Remove`).
    Remove { user: UserId },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageChange {
    Created,
    Updated,
    Deleted,
}

/// A group hosted on another server, as its host describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteGroup {
    /// Its ActivityPub id (its URL).
    pub id: String,
    /// Where its activities go.
    pub inbox: String,
    /// Its name (empty if it has none).
    pub name: String,
}

/// What the domain asks of federation.
pub trait Federation: Send + Sync {
    /// Queues the activities for an [`Outgoing`] change. Returns once they
    /// are stored, so an acknowledged change cannot lose its deliveries.
    fn outgoing(
        &self,
        change: Outgoing,
    ) -> Pin<Box<dyn Future<Output = ChatResult<()>> + Send + '_>>;

    /// Sends `signal` best-effort, without waiting and without storing it:
    /// a full budget drops it rather than queueing.
    fn signal(&self, signal: Signal);

    /// Fetches the group whose id is `group` from its server (refusing
    /// private addresses outside test rigs). A group hosted here is
    /// `Invalid`, an address federation may not reach `Refused`, a server
    /// that does not answer or has no such group `NotFound`.
    fn remote_group<'a>(
        &'a self,
        group: &'a Url,
    ) -> Pin<Box<dyn Future<Output = ChatResult<RemoteGroup>> + Send + 'a>>;
}
