//! Read receipts: how far the other members of a conversation have read
//! (their read markers), for members who share them. A user who turns
//! `share_read_receipts` off is shown to nobody and sees nobody's, as in
//! WhatsApp or Signal. Blocks hide receipts both ways. Only local members'
//! markers exist here: remote users' servers keep theirs.
//!
//! Must not import axum, activitypub_federation, `api`, `ws` or `apub`.

use super::events::Notice;
use super::{Chat, ChatResult};
use crate::db::contacts as contact_rows;
use crate::db::conversations as rows;
use crate::db::ids::{ConversationId, MessageId, UserId};
use crate::db::DbConn;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use utoipa::ToSchema;

/// How far one member has read: the `conversation.read_by` push, and an
/// entry of [`ReadBy`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReadReceipt {
    pub conversation: ConversationId,
    pub user: UserId,
    /// The member's read marker: the newest message they have read.
    pub message: MessageId,
}

/// The other members' read markers that the viewer may see
/// (`conversation.read_by`, `GET /api/v1/conversations/{id}/read-by`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReadBy {
    pub conversation: ConversationId,
    /// By user id; empty while the viewer does not share their own.
    pub readers: Vec<ReadReceipt>,
}

impl Chat {
    /// The read markers of the other members of `conversation` that
    /// `viewer` may see: those who share theirs, set a marker, and neither
    /// block the viewer nor are blocked by them; none when the viewer does
    /// not share their own.
    pub async fn read_by(
        &self,
        viewer: UserId,
        conversation: ConversationId,
    ) -> ChatResult<ReadBy> {
        let mut conn = self.db.read().await?;
        self.membership(&mut conn, conversation, viewer).await?;
        let sharing = rows::receipt_members(&mut conn, conversation).await?;
        let readers = if sharing.iter().any(|(user, _)| *user == viewer) {
            let hidden = blocked_either_way(&mut conn, viewer).await?;
            sharing
                .into_iter()
                .filter(|(user, _)| *user != viewer && !hidden.contains(user))
                .filter_map(|(user, marker)| {
                    marker.map(|message| ReadReceipt {
                        conversation,
                        user,
                        message,
                    })
                })
                .collect()
        } else {
            vec![]
        };
        Ok(ReadBy {
            conversation,
            readers,
        })
    }

    /// Tells the members who may see it that `reader`'s marker moved to
    /// `message` (nobody when `reader` does not share).
    pub(super) async fn push_read_receipt(
        &self,
        reader: UserId,
        conversation: ConversationId,
        message: MessageId,
    ) -> ChatResult<()> {
        let mut conn = self.db.read().await?;
        let sharing = rows::receipt_members(&mut conn, conversation).await?;
        if !sharing.iter().any(|(user, _)| *user == reader) {
            return Ok(());
        }
        let hidden = blocked_either_way(&mut conn, reader).await?;
        drop(conn);
        let audience = sharing
            .into_iter()
            .map(|(user, _)| user)
            .filter(|user| *user != reader && !hidden.contains(user))
            .collect();
        let receipt = ReadReceipt {
            conversation,
            user: reader,
            message,
        };
        self.notify(audience, Notice::ReadReceipt(receipt));
        Ok(())
    }
}

/// The users `user` blocks and those who block `user`.
async fn blocked_either_way(conn: &mut DbConn<'_>, user: UserId) -> ChatResult<HashSet<UserId>> {
    let mut hidden: HashSet<UserId> = contact_rows::blocked_by(conn, user)
        .await?
        .into_iter()
        .collect();
    hidden.extend(contact_rows::blockers_of(conn, user).await?);
    Ok(hidden)
}
