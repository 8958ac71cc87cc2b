//! History pages: the newest messages of a conversation, the page before or
//! after a message, or the page around one (a search result opened in its
//! context). Every page is read as a member, without the messages of users
//! the reader blocks.

use super::views::Message;
use super::{Chat, ChatError, ChatResult};
use crate::db::ids::{ConversationId, MessageId, UserId};
use crate::db::messages::{self as rows, MessageRow};
use crate::db::DbConn;
use serde::Serialize;
use utoipa::ToSchema;

/// Most messages in one page.
pub const HISTORY_MAX: i64 = 100;

/// One page of history, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessagePage {
    pub messages: Vec<Message>,
    /// Whether more messages lie beyond this page in the paging direction
    /// (around a message: in either direction).
    pub more: bool,
    /// Around a message only: whether older messages lie before this page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub older: Option<bool>,
    /// Around a message only: whether newer messages lie after this page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newer: Option<bool>,
}

impl MessagePage {
    /// A page read in one direction.
    pub(super) fn one_way(messages: Vec<Message>, more: bool) -> Self {
        Self {
            messages,
            more,
            older: None,
            newer: None,
        }
    }
}

/// Which page of history to read: the newest, `before` and/or `after` a
/// message, or `around` one (alone).
#[derive(Debug, Clone, Copy, Default)]
pub struct PageRequest {
    pub before: Option<MessageId>,
    pub after: Option<MessageId>,
    pub around: Option<MessageId>,
    pub limit: i64,
}

impl Chat {
    /// A page of a conversation's history, without messages from users the
    /// reader blocks.
    pub async fn history(
        &self,
        user: UserId,
        conversation: ConversationId,
        page: PageRequest,
    ) -> ChatResult<MessagePage> {
        if !(1..=HISTORY_MAX).contains(&page.limit) {
            return Err(ChatError::invalid("limit", format!("1 to {HISTORY_MAX}")));
        }
        if page.around.is_some() && (page.before.is_some() || page.after.is_some()) {
            return Err(ChatError::invalid("around", "not with before or after"));
        }
        let mut conn = self.db.read().await?;
        self.membership(&mut conn, conversation, user).await?;
        if let Some(centre) = page.around {
            return self
                .around(&mut conn, user, conversation, centre, page.limit)
                .await;
        }
        let rows = rows::page(
            &mut conn,
            conversation,
            page.before,
            page.after,
            page.limit + 1,
        )
        .await?;
        let more = rows.len() as i64 > page.limit;
        let rows: Vec<MessageRow> = if page.after.is_some() {
            rows.into_iter().take(page.limit as usize).collect()
        } else {
            // Newest-first pages drop the oldest extra row.
            rows.into_iter().skip(usize::from(more)).collect()
        };
        let messages = self.visible(&mut conn, user, rows).await?;
        Ok(MessagePage::one_way(messages, more))
    }

    /// Up to `limit` messages with `centre` in the middle (or as near as
    /// the ends of the history allow). `centre` must be a message of this
    /// conversation that `user` sees.
    async fn around(
        &self,
        conn: &mut DbConn<'_>,
        user: UserId,
        conversation: ConversationId,
        centre: MessageId,
        limit: i64,
    ) -> ChatResult<MessagePage> {
        let not_here =
            || ChatError::invalid("around", "not a message of this conversation you can read");
        let row = rows::find(conn, centre)
            .await?
            .filter(|r| r.conversation_id == conversation)
            .ok_or_else(not_here)?;
        // `limit` on each side is one more than a side can take, which
        // tells whether messages lie beyond it.
        let older = rows::page(conn, conversation, Some(centre), None, limit).await?;
        let newer = rows::page(conn, conversation, None, Some(centre), limit).await?;
        let (take_older, take_newer) = split_around(older.len(), newer.len(), limit as usize - 1);
        let (has_older, has_newer) = (older.len() > take_older, newer.len() > take_newer);
        // The older side comes oldest first: its nearest are its last.
        let skip = older.len() - take_older;
        let mut page: Vec<MessageRow> = older.into_iter().skip(skip).collect();
        page.push(row);
        page.extend(newer.into_iter().take(take_newer));
        let messages = self.visible(conn, user, page).await?;
        if !messages.iter().any(|m| m.id == centre) {
            return Err(not_here());
        }
        Ok(MessagePage {
            messages,
            more: has_older || has_newer,
            older: Some(has_older),
            newer: Some(has_newer),
        })
    }
}

/// How many of the `older` and `newer` neighbours a page with `room` places
/// beside its centre takes: half each, the unused places of a short side
/// going to the other.
fn split_around(older: usize, newer: usize, room: usize) -> (usize, usize) {
    let take_older = older.min((room / 2).max(room.saturating_sub(newer)));
    (take_older, newer.min(room - take_older))
}

#[cfg(test)]
mod tests {
    use super::split_around;

    #[test]
    fn the_centre_sits_in_the_middle_unless_an_end_is_near() {
        assert_eq!(split_around(100, 100, 9), (4, 5));
        assert_eq!(split_around(2, 100, 9), (2, 7));
        assert_eq!(split_around(100, 1, 9), (8, 1));
        assert_eq!(split_around(0, 0, 9), (0, 0));
        assert_eq!(split_around(3, 2, 9), (3, 2));
        assert_eq!(split_around(5, 5, 0), (0, 0));
    }
}
