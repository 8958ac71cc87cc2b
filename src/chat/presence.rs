//! Presence: each user's status derived from all their live sessions on this
//! node (online if any session is online, away if all are away, offline with
//! none), pushed to their contacts when it changes, never to blocked users.

use super::events::Notice;
use super::views::Status;
use super::{Chat, ChatResult};
use crate::db::ids::UserId;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use utoipa::ToSchema;

/// Identifies one live session (one WebSocket) of a user on this node.
pub type SessionId = u64;

/// Live sessions and what each says about its user.
#[derive(Default)]
pub struct Presence {
    sessions: Mutex<HashMap<UserId, HashMap<SessionId, Status>>>,
}

impl Presence {
    fn derive(sessions: Option<&HashMap<SessionId, Status>>) -> Status {
        match sessions {
            Some(s) if s.values().any(|st| *st == Status::Online) => Status::Online,
            Some(s) if !s.is_empty() => Status::Away,
            _ => Status::Offline,
        }
    }

    /// Sets (or with `None` removes) one session's status; returns the
    /// user's status before and after.
    fn set(&self, user: UserId, session: SessionId, status: Option<Status>) -> (Status, Status) {
        let mut all = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let before = Self::derive(all.get(&user));
        let entry = all.entry(user).or_default();
        match status {
            Some(status) => {
                entry.insert(session, status);
            }
            None => {
                entry.remove(&session);
            }
        }
        if entry.is_empty() {
            all.remove(&user);
        }
        (before, Self::derive(all.get(&user)))
    }

    pub fn status(&self, user: UserId) -> Status {
        Self::derive(
            self.sessions
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&user),
        )
    }
}

/// A contact's status (`status.get`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserStatus {
    pub user: UserId,
    pub status: Status,
}

impl Chat {
    /// A session of `user` opened (online) or changed to `status`.
    pub async fn set_session_status(
        &self,
        user: UserId,
        session: SessionId,
        status: Status,
    ) -> ChatResult<()> {
        let status = (status != Status::Offline).then_some(status);
        self.apply_presence(user, session, status).await
    }

    /// A session of `user` ended, however it ended.
    pub async fn session_closed(&self, user: UserId, session: SessionId) -> ChatResult<()> {
        self.apply_presence(user, session, None).await
    }

    async fn apply_presence(
        &self,
        user: UserId,
        session: SessionId,
        status: Option<Status>,
    ) -> ChatResult<()> {
        let (before, after) = self.presence.set(user, session, status);
        if before != after {
            let audience = self.presence_audience(user).await?;
            self.notify(
                audience,
                Notice::StatusChanged {
                    user,
                    status: after,
                },
            );
        }
        Ok(())
    }

    pub fn status(&self, user: UserId) -> Status {
        self.presence.status(user)
    }

    /// The status of each of `user`'s contacts (blocked ones excluded).
    pub async fn contact_statuses(&self, user: UserId) -> ChatResult<Vec<UserStatus>> {
        Ok(self
            .presence_audience(user)
            .await?
            .into_iter()
            .map(|other| UserStatus {
                user: other,
                status: self.presence.status(other),
            })
            .collect())
    }

    /// After a block the two stop seeing each other: each looks offline.
    pub(crate) fn presence_blocked(&self, a: UserId, b: UserId) {
        self.tell_presence(a, b, |_| Status::Offline);
    }
}
