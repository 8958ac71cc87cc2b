//! The registry of live sessions on this node and the fan-out: each event
//! is serialised once and queued to every session of its audience while it
//! is published (the hub is the bus's [`LocalListener`]), so a request's
//! pushes are queued before its reply is written. A session whose queue is
//! full is cut off (it reconnects and catches up); it stays registered, and
//! counts toward the user's cap, until its socket is gone.

use crate::chat::events::{ChatEvent, LocalListener, SessionEnd};
use crate::db::ids::UserId;
use axum::extract::ws::Utf8Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use tokio::sync::mpsc;

pub use crate::chat::presence::SessionId;

/// What the hub queues to a session.
#[derive(Debug)]
pub enum Outbound {
    /// A push frame, serialised once and shared by every recipient.
    Frame(Utf8Bytes),
    /// Close the session with this reason (1008), e.g. `account_deleted`.
    Close(&'static str),
}

/// One registered session: its queue, or `None` once it was cut off and
/// only waits for its socket to close.
struct Entry {
    id: SessionId,
    queue: Option<mpsc::Sender<Outbound>>,
    /// The token generation the session was opened with.
    generation: i64,
}

type Sessions = HashMap<UserId, Vec<Entry>>;

/// Live sessions by user.
#[derive(Default)]
pub struct Hub {
    sessions: RwLock<Sessions>,
    next_id: AtomicU64,
}

/// Unregisters its session when dropped, however the socket ended.
pub struct SessionGuard {
    hub: Arc<Hub>,
    user: UserId,
    pub id: SessionId,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.hub.unregister(self.user, self.id);
        metrics::gauge!("confab_ws_sessions").decrement(1);
    }
}

impl Hub {
    /// Registers a session, opened with a token of `generation`, unless
    /// `user` already has `cap` of them; frames for `user` arrive on the
    /// returned queue. Checked and registered under one lock, so concurrent
    /// upgrades cannot exceed the cap.
    pub fn register(
        self: &Arc<Self>,
        user: UserId,
        generation: i64,
        queue: usize,
        cap: usize,
    ) -> Option<(SessionGuard, mpsc::Receiver<Outbound>)> {
        let (tx, rx) = mpsc::channel(queue.max(1));
        let id = {
            let mut sessions = self.write();
            let list = sessions.entry(user).or_default();
            if list.len() >= cap {
                return None;
            }
            let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
            list.push(Entry {
                id,
                queue: Some(tx),
                generation,
            });
            id
        };
        metrics::gauge!("confab_ws_sessions").increment(1);
        let guard = SessionGuard {
            hub: self.clone(),
            user,
            id,
        };
        Some((guard, rx))
    }

    fn unregister(&self, user: UserId, id: SessionId) {
        let mut sessions = self.write();
        if let Some(list) = sessions.get_mut(&user) {
            list.retain(|entry| entry.id != id);
            if list.is_empty() {
                sessions.remove(&user);
            }
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Sessions> {
        self.sessions.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Sessions> {
        self.sessions.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `frame` to every session of `audience`; sessions that cannot
    /// keep up lose their queue (their socket then closes with
    /// `slow_consumer`) but stay registered until their socket is gone.
    pub fn deliver(&self, audience: &[UserId], frame: &Utf8Bytes) {
        let mut slow = vec![];
        let mut sent = 0;
        {
            let sessions = self.read();
            for user in audience {
                for entry in sessions.get(user).into_iter().flatten() {
                    let Some(tx) = &entry.queue else { continue };
                    match tx.try_send(Outbound::Frame(frame.clone())) {
                        Ok(()) => sent += 1,
                        Err(mpsc::error::TrySendError::Full(_)) => slow.push((*user, entry.id)),
                        Err(mpsc::error::TrySendError::Closed(_)) => {}
                    }
                }
            }
        }
        metrics::counter!("confab_pushes_sent_total").increment(sent);
        metrics::counter!("confab_pushes_dropped_total").increment(slow.len() as u64);
        for (user, id) in slow {
            tracing::warn!(%user, session = id, "session queue full; disconnecting slow consumer");
            self.cut_off(user, id);
        }
    }

    /// Drops the queue of session `id`, which ends it with `slow_consumer`
    /// once it has written what was queued.
    fn cut_off(&self, user: UserId, id: SessionId) {
        let mut sessions = self.write();
        let entries = sessions.get_mut(&user).into_iter().flatten();
        for entry in entries.filter(|entry| entry.id == id) {
            entry.queue = None;
        }
    }

    /// Ends the sessions of `user` with `reason`: those opened with a token
    /// older than `below_generation` when given, all otherwise.
    fn close_user(&self, user: UserId, reason: &'static str, below_generation: Option<i64>) {
        let mut sessions = self.write();
        let entries = sessions.get_mut(&user).into_iter().flatten();
        let older = |entry: &&mut Entry| below_generation.is_none_or(|g| entry.generation < g);
        for entry in entries.filter(older) {
            if let Some(tx) = entry.queue.take() {
                let _ = tx.try_send(Outbound::Close(reason));
            }
        }
    }
}

impl LocalListener for Hub {
    /// Queues a `Notify` to its audience's sessions; closes the sessions an
    /// account change ends.
    fn on_event(&self, event: &ChatEvent) {
        match event {
            ChatEvent::Notify { audience, notice } => match serde_json::to_string(notice) {
                Ok(json) => self.deliver(audience, &Utf8Bytes::from(json)),
                Err(e) => tracing::error!("cannot serialise a notice: {e}"),
            },
            ChatEvent::UserDeleted { user } => {
                self.close_user(*user, SessionEnd::AccountDeleted.as_str(), None)
            }
            ChatEvent::SessionsEnded {
                user,
                reason,
                below_generation,
            } => self.close_user(*user, reason.as_str(), *below_generation),
            ChatEvent::UserCreated { .. } | ChatEvent::UserUpdated { .. } => {}
        }
    }
}
