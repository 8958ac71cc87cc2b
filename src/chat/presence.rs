//! Presence: each user's status derived from all their live sessions on this
//! node (online if any session is online, away if all are away, offline with
//! none), pushed to their contacts when it changes, never to blocked users.
//!
//! Across servers: a local user's status also goes, as a federation
//! [`Signal`], to their contacts on other servers (unless the user turned
//! that off, never across a block or to a blocked instance), and is
//! announced again every refresh interval while they are connected. What a
//! remote user's server says about them is kept in memory until the
//! validity the announcement gave runs out: a server that falls silent
//! makes its users look offline (see [`presence_ticker`]).

use super::events::Notice;
use super::federation::Signal;
use super::views::Status;
use super::{Chat, ChatError, ChatResult};
use crate::db::ids::UserId;
use crate::db::users as user_rows;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Mutex, Weak};
use std::time::{Duration, Instant};
use utoipa::ToSchema;

/// Identifies one live session (one WebSocket) of a user on this node.
pub type SessionId = u64;

/// Live sessions and what each says about its user; and what the servers
/// of remote contacts last said about theirs.
#[derive(Default)]
pub struct Presence {
    sessions: Mutex<HashMap<UserId, HashMap<SessionId, Status>>>,
    /// Remote users with a contact here: at most one entry per remote
    /// contact, dropped when it lapses.
    remote: Mutex<HashMap<UserId, RemoteStatus>>,
}

/// What a remote user's server last announced.
#[derive(Debug, Clone, Copy)]
struct RemoteStatus {
    status: Status,
    /// When the announcement lapses unless another one comes.
    until: Instant,
    /// When the remote server made it (older ones arriving late are
    /// ignored, and so is a replay).
    published: DateTime<Utc>,
}

/// The longest validity a remote announcement is granted, whatever it asks.
pub const MAX_REMOTE_VALIDITY: Duration = Duration::from_secs(900);

/// How long a lapsed remote status is remembered: longer than the inbox's
/// signature window (an hour), so a replayed announcement is older than
/// the one remembered.
const REPLAY_WINDOW: Duration = Duration::from_secs(2 * 3600);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
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

    /// The user's status: from their sessions here, else from what their
    /// server announced (until it lapses), else offline.
    pub fn status(&self, user: UserId) -> Status {
        let local = Self::derive(lock(&self.sessions).get(&user));
        if local != Status::Offline {
            return local;
        }
        lock(&self.remote)
            .get(&user)
            .filter(|r| r.until > Instant::now())
            .map_or(Status::Offline, |r| r.status)
    }

    /// Users with a live session here.
    fn connected(&self) -> Vec<UserId> {
        lock(&self.sessions).keys().copied().collect()
    }

    /// Records what `user`'s server announced; returns the status shown
    /// before, or `None` if the announcement is older than the last one.
    fn set_remote(&self, user: UserId, announced: RemoteStatus) -> Option<Status> {
        let mut remote = lock(&self.remote);
        let before = match remote.get(&user) {
            Some(old) if old.published >= announced.published => return None,
            Some(old) if old.until > Instant::now() => old.status,
            _ => Status::Offline,
        };
        remote.insert(user, announced);
        Some(before)
    }

    /// Turns the remote statuses that lapsed offline; returns the users who
    /// were shown online or away until now. A lapsed entry is kept for
    /// [`REPLAY_WINDOW`] (its `published` still refuses a replay of an
    /// older announcement), then dropped.
    fn expire_remote(&self) -> Vec<UserId> {
        let now = Instant::now();
        let mut lapsed = vec![];
        lock(&self.remote).retain(|user, r| {
            if r.until > now {
                return true;
            }
            if r.status != Status::Offline {
                lapsed.push(*user);
                r.status = Status::Offline;
            }
            now.duration_since(r.until) < REPLAY_WINDOW
        });
        lapsed
    }
}

/// A user's own privacy settings (`/api/v1/account/settings`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AccountSettings {
    /// Whether contacts on other servers see the user's status (online,
    /// away, offline). Off: they see the user offline.
    pub share_presence_remote: bool,
    /// Whether the other members of the user's conversations see how far
    /// the user has read. Off: they do not, and the user does not see
    /// theirs either (`chat::receipts`).
    pub share_read_receipts: bool,
}

/// A change to [`AccountSettings`]; absent fields stay as they are.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountSettingsChange {
    #[serde(default)]
    pub share_presence_remote: Option<bool>,
    #[serde(default)]
    pub share_read_receipts: Option<bool>,
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
            self.federate_presence(user, after).await?;
        }
        Ok(())
    }

    /// Tells the servers of `user`'s remote contacts that their status is
    /// `status`, if they share presence beyond this server.
    async fn federate_presence(&self, user: UserId, status: Status) -> ChatResult<()> {
        if self.federation.is_none() {
            return Ok(());
        }
        let shares = user_rows::find_by_id(&mut self.db.read().await?, user)
            .await?
            .is_some_and(|row| row.domain.is_none() && row.share_presence_remote);
        if !shares {
            return Ok(());
        }
        self.send_presence(user, status).await
    }

    /// Hands `user`'s `status` for their remote contacts to federation,
    /// whatever their setting says.
    async fn send_presence(&self, user: UserId, status: Status) -> ChatResult<()> {
        let Some(federation) = &self.federation else {
            return Ok(());
        };
        let recipients = self.remote_presence_audience(user).await?;
        if !recipients.is_empty() {
            federation.signal(Signal::Presence {
                user,
                status,
                recipients,
            });
        }
        Ok(())
    }

    /// The contacts of `user` who see their presence and live on another
    /// server that is not blocked.
    async fn remote_presence_audience(&self, user: UserId) -> ChatResult<Vec<UserId>> {
        let audience = self.presence_audience(user).await?;
        self.on_open_instances(audience).await
    }

    /// Those of `users` who live on another server that is not blocked.
    pub(crate) async fn on_open_instances(&self, users: Vec<UserId>) -> ChatResult<Vec<UserId>> {
        let mut remote = vec![];
        for other in users {
            let row = user_rows::find_by_id(&mut self.db.read().await?, other).await?;
            let Some(domain) = row.and_then(|r| r.domain) else {
                continue;
            };
            let host = domain.split(':').next().unwrap_or_default();
            if !self.is_instance_blocked(&host.to_ascii_lowercase()).await? {
                remote.push(other);
            }
        }
        Ok(remote)
    }

    /// What the server of remote user `user` announced about them: shown to
    /// their contacts here (not across a block) until `validity` (at most
    /// [`MAX_REMOTE_VALIDITY`]) runs out. Refused when nobody here sees
    /// their presence; an announcement older than the last one is ignored.
    pub async fn receive_presence(
        &self,
        user: UserId,
        status: Status,
        published: DateTime<Utc>,
        validity: Duration,
    ) -> ChatResult<()> {
        let audience = self.presence_audience(user).await?;
        if audience.is_empty() {
            return Err(ChatError::Forbidden(
                "nobody here has this user as a contact".into(),
            ));
        }
        let announced = RemoteStatus {
            status,
            until: Instant::now() + validity.min(MAX_REMOTE_VALIDITY),
            published,
        };
        let Some(before) = self.presence.set_remote(user, announced) else {
            return Ok(());
        };
        if before != status {
            self.notify(audience, Notice::StatusChanged { user, status });
        }
        Ok(())
    }

    /// Remote users whose status lapsed look offline to their contacts.
    async fn expire_remote_presence(&self) -> ChatResult<()> {
        for user in self.presence.expire_remote() {
            let audience = self.presence_audience(user).await?;
            self.notify(
                audience,
                Notice::StatusChanged {
                    user,
                    status: Status::Offline,
                },
            );
        }
        Ok(())
    }

    /// Announces `user`'s status to their remote contacts' servers if they
    /// are connected here (a no-op for remote users).
    pub(crate) async fn announce_presence(&self, user: UserId) -> ChatResult<()> {
        let status = Presence::derive(lock(&self.presence.sessions).get(&user));
        if status == Status::Offline {
            return Ok(());
        }
        self.federate_presence(user, status).await
    }

    /// Announces every connected local user's status again to their
    /// remote contacts' servers (which otherwise let it lapse).
    async fn announce_presence_again(&self) -> ChatResult<()> {
        if self.federation.is_none() {
            return Ok(());
        }
        for user in self.presence.connected() {
            self.announce_presence(user).await?;
        }
        Ok(())
    }

    /// The caller's privacy settings.
    pub async fn account_settings(&self, user: UserId) -> ChatResult<AccountSettings> {
        let row = user_rows::find_by_id(&mut self.db.read().await?, user)
            .await?
            .ok_or(ChatError::NotFound("user"))?;
        Ok(AccountSettings {
            share_presence_remote: row.share_presence_remote,
            share_read_receipts: row.share_read_receipts,
        })
    }

    /// Changes the caller's privacy settings; answers all of them.
    pub async fn change_account_settings(
        &self,
        user: UserId,
        change: AccountSettingsChange,
    ) -> ChatResult<AccountSettings> {
        let before = self.account_settings(user).await?;
        if let Some(share) = change.share_presence_remote {
            self.set_share_presence_remote(user, &before, share).await?;
        }
        if let Some(share) = change.share_read_receipts {
            if share != before.share_read_receipts
                && !user_rows::set_share_read_receipts(&mut self.db.write().await?, user, share)
                    .await?
            {
                return Err(ChatError::NotFound("user"));
            }
        }
        self.account_settings(user).await
    }

    /// Turns sharing presence with remote contacts on or off. Off tells the
    /// remote contacts' servers `offline` now; on tells them the current
    /// status.
    async fn set_share_presence_remote(
        &self,
        user: UserId,
        before: &AccountSettings,
        share: bool,
    ) -> ChatResult<()> {
        if share == before.share_presence_remote {
            return Ok(());
        }
        if !user_rows::set_share_presence_remote(&mut self.db.write().await?, user, share).await? {
            return Err(ChatError::NotFound("user"));
        }
        let status = self.status(user);
        if status != Status::Offline {
            // Off: a last word, `offline`; on: the current status.
            let shown = if share { status } else { Status::Offline };
            self.send_presence(user, shown).await?;
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

/// Runs until the chat is gone: every second, lapsed remote statuses turn
/// offline; every `refresh`, connected local users are announced again to
/// their remote contacts' servers.
pub async fn presence_ticker(chat: Weak<Chat>, refresh: Duration) {
    let mut ticks = tokio::time::interval(Duration::from_secs(1).min(refresh));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut announced = Instant::now();
    loop {
        ticks.tick().await;
        let Some(chat) = chat.upgrade() else { return };
        if let Err(e) = chat.expire_remote_presence().await {
            tracing::warn!("expiring remote presence failed: {e}");
        }
        if announced.elapsed() >= refresh {
            announced = Instant::now();
            if let Err(e) = chat.announce_presence_again().await {
                tracing::warn!("announcing presence again failed: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn announced(status: Status, at_s: i64, valid: Duration) -> RemoteStatus {
        RemoteStatus {
            status,
            until: Instant::now() + valid,
            published: DateTime::from_timestamp(at_s, 0).unwrap(),
        }
    }

    #[test]
    fn a_remote_status_holds_until_it_lapses_and_older_ones_are_ignored() {
        let presence = Presence::default();
        let bob = UserId::new();
        let long = Duration::from_secs(60);
        assert_eq!(presence.status(bob), Status::Offline);
        let before = presence.set_remote(bob, announced(Status::Online, 100, long));
        assert_eq!(before, Some(Status::Offline));
        assert_eq!(presence.status(bob), Status::Online);
        // Late or replayed: ignored.
        assert_eq!(
            presence.set_remote(bob, announced(Status::Away, 100, long)),
            None
        );
        assert_eq!(
            presence.set_remote(bob, announced(Status::Away, 99, long)),
            None
        );
        assert_eq!(presence.status(bob), Status::Online);
        let before = presence.set_remote(bob, announced(Status::Away, 101, long));
        assert_eq!(before, Some(Status::Online));
        assert_eq!(presence.status(bob), Status::Away);
        assert!(presence.expire_remote().is_empty(), "nothing lapsed yet");
        // One that lapses at once: shown offline, and reported once.
        presence.set_remote(bob, announced(Status::Online, 102, Duration::ZERO));
        assert_eq!(presence.status(bob), Status::Offline);
        assert_eq!(presence.expire_remote(), vec![bob]);
        assert!(presence.expire_remote().is_empty());
        // A replay of an older announcement stays refused after the lapse.
        assert_eq!(
            presence.set_remote(bob, announced(Status::Online, 101, long)),
            None
        );
        assert_eq!(presence.status(bob), Status::Offline);
        // A lapsed offline is not reported (nobody was shown anything).
        presence.set_remote(bob, announced(Status::Offline, 103, Duration::ZERO));
        assert!(presence.expire_remote().is_empty());
    }

    #[test]
    fn local_sessions_come_before_what_a_server_announced() {
        let presence = Presence::default();
        let ada = UserId::new();
        presence.set(ada, 1, Some(Status::Away));
        let long = Duration::from_secs(60);
        presence.set_remote(ada, announced(Status::Online, 100, long));
        assert_eq!(presence.status(ada), Status::Away);
        presence.set(ada, 1, None);
        assert_eq!(presence.status(ada), Status::Online);
    }
}
