//! Reports from other servers: a received `Flag` becomes one report in the
//! moderators' queue per local user it names. Each server may hold only so
//! many open reports here.

use super::reports::{ids_json, ReportState, MAX_COMMENT_CHARS};
use super::{Chat, ChatError, ChatResult};
use crate::db::ids::{MessageId, ReportId, UserId};
use crate::db::messages as message_rows;
use crate::db::reports::{self as rows, ReportRow};
use chrono::Utc;

/// Open reports that `Flag`s from one server may have at once.
pub const MAX_OPEN_PER_SERVER: i64 = 100;
/// Messages one received `Flag` may name, at most (more are ignored).
pub const MAX_FLAG_OBJECTS: usize = 20;

/// A `Flag` from another server, about users and messages of ours.
#[derive(Debug, Clone)]
pub struct ReceivedFlag {
    /// The actor that sent it (a user or the server's instance actor).
    pub origin: String,
    /// The `Flag`'s id.
    pub activity_id: String,
    /// Local users named.
    pub users: Vec<UserId>,
    /// Local messages named.
    pub messages: Vec<MessageId>,
    pub comment: String,
}

impl Chat {
    /// Stores another server's `Flag` as one report per reported local
    /// user (with the messages of theirs it names). A server may hold
    /// only so many open reports.
    pub async fn receive_flag(&self, flag: ReceivedFlag) -> ChatResult<usize> {
        let comment: String = flag.comment.chars().take(MAX_COMMENT_CHARS).collect();
        let mut conn = self.db.read().await?;
        let mut by_user: Vec<(UserId, Vec<MessageId>)> =
            flag.users.iter().map(|u| (*u, vec![])).collect();
        for id in flag.messages.iter().take(MAX_FLAG_OBJECTS) {
            let Some(author) = message_rows::find(&mut conn, *id)
                .await?
                .and_then(|m| m.author_id)
            else {
                continue;
            };
            match by_user.iter_mut().find(|(u, _)| *u == author) {
                Some((_, messages)) => messages.push(*id),
                None => by_user.push((author, vec![*id])),
            }
        }
        let prefix = origin_prefix(&flag.origin);
        if rows::open_count_from(&mut conn, &prefix).await? + by_user.len() as i64
            > MAX_OPEN_PER_SERVER
        {
            return Err(ChatError::RateLimited(
                "too many open reports from this server".into(),
            ));
        }
        drop(conn);
        let now = Utc::now().naive_utc();
        let mut conn = self.db.write().await?;
        for (user, messages) in &by_user {
            let row = ReportRow {
                id: ReportId::new(),
                reporter_id: None,
                origin: Some(flag.origin.clone()),
                activity_id: Some(flag.activity_id.clone()),
                target_id: Some(*user),
                message_ids: ids_json(messages)?,
                comment: comment.clone(),
                forwarded: false,
                state: ReportState::Open.as_str().into(),
                action_taken: None,
                note: None,
                resolved_by: None,
                resolved_at: None,
                created_at: now,
            };
            rows::insert(&mut conn, &row).await?;
        }
        Ok(by_user.len())
    }
}

/// `scheme://host[:port]/` of an actor id: what its server's actors share.
fn origin_prefix(origin: &str) -> String {
    match url::Url::parse(origin) {
        Ok(url) => format!("{}/", url.origin().ascii_serialization()),
        Err(_) => origin.to_owned(),
    }
}
