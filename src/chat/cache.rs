//! What the send path needs to know, kept in memory: each conversation's
//! members, rights and read-only flag, who blocks whom, and which direct
//! conversation belongs to a pair of users. Entries are
//! dropped by the operations that change them (membership, contacts,
//! blocks, account deletion), so a send reads no database row to check its
//! rights. A global epoch stops a load that raced with a change from
//! storing what it read.
//!
//! One node only: with several nodes, invalidation must travel on the bus
//! (the multi-node issue).

use super::views::{ConversationKind, Rights};
use crate::db::ids::{ConversationId, UserId};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// Who may write in a conversation and who receives it.
#[derive(Debug)]
pub struct Access {
    pub kind: ConversationKind,
    pub members: Vec<(UserId, Rights)>,
    pub read_only: bool,
    /// Members who live on other servers (their messages federate).
    pub remote: Vec<UserId>,
    /// A group hosted on another server (its host relays remote messages).
    pub mirror: bool,
}

impl Access {
    pub fn rights_of(&self, user: UserId) -> Option<Rights> {
        self.members
            .iter()
            .find(|(u, _)| *u == user)
            .map(|(_, r)| *r)
    }

    pub fn member_ids(&self) -> Vec<UserId> {
        self.members.iter().map(|(u, _)| *u).collect()
    }
}

#[derive(Default)]
pub struct AccessCache {
    conversations: RwLock<HashMap<ConversationId, Arc<Access>>>,
    /// For each user, the users who block them.
    blockers: RwLock<HashMap<UserId, Arc<HashSet<UserId>>>>,
    /// Direct conversations by their key (the pair of users): every message
    /// a remote user sends names only its recipient.
    directs: RwLock<HashMap<String, ConversationId>>,
    /// Local users' ids by lowercased name: every activity a remote server
    /// sends names its local recipient by URL. Only names that exist are
    /// kept, so the map is at most as large as the user table.
    local_users: RwLock<HashMap<String, UserId>>,
    epoch: AtomicU64,
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

impl AccessCache {
    /// Read before loading from the database; pass to `put_*`.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    pub fn conversation(&self, id: ConversationId) -> Option<Arc<Access>> {
        read(&self.conversations).get(&id).cloned()
    }

    pub fn put_conversation(&self, id: ConversationId, access: Arc<Access>, epoch: u64) {
        let mut map = write(&self.conversations);
        if self.epoch() == epoch {
            map.insert(id, access);
        }
    }

    pub fn blockers(&self, user: UserId) -> Option<Arc<HashSet<UserId>>> {
        read(&self.blockers).get(&user).cloned()
    }

    pub fn put_blockers(&self, user: UserId, blockers: Arc<HashSet<UserId>>, epoch: u64) {
        let mut map = write(&self.blockers);
        if self.epoch() == epoch {
            map.insert(user, blockers);
        }
    }

    pub fn direct(&self, key: &str) -> Option<ConversationId> {
        read(&self.directs).get(key).copied()
    }

    pub fn put_direct(&self, key: String, id: ConversationId, epoch: u64) {
        let mut map = write(&self.directs);
        if self.epoch() == epoch {
            map.insert(key, id);
        }
    }

    /// A conversation's members or rights changed.
    pub fn forget_conversation(&self, id: ConversationId) {
        let mut map = write(&self.conversations);
        self.epoch.fetch_add(1, Ordering::AcqRel);
        map.remove(&id);
    }

    pub fn local_user(&self, name: &str) -> Option<UserId> {
        read(&self.local_users).get(name).copied()
    }

    pub fn put_local_user(&self, name: String, id: UserId, epoch: u64) {
        let mut map = write(&self.local_users);
        if self.epoch() == epoch {
            map.insert(name, id);
        }
    }

    /// Contacts, blocks or accounts changed: drop everything.
    pub fn clear(&self) {
        let mut conversations = write(&self.conversations);
        let mut blockers = write(&self.blockers);
        let mut directs = write(&self.directs);
        let mut local_users = write(&self.local_users);
        self.epoch.fetch_add(1, Ordering::AcqRel);
        conversations.clear();
        blockers.clear();
        directs.clear();
        local_users.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access() -> Arc<Access> {
        Arc::new(Access {
            kind: ConversationKind::Group,
            members: vec![],
            read_only: false,
            remote: vec![],
            mirror: false,
        })
    }

    #[test]
    fn a_load_that_raced_with_a_change_is_not_stored() {
        let cache = AccessCache::default();
        let id = ConversationId::new();
        let before = cache.epoch();
        cache.forget_conversation(ConversationId::new());
        cache.put_conversation(id, access(), before);
        assert!(cache.conversation(id).is_none(), "stale load refused");
        cache.put_conversation(id, access(), cache.epoch());
        assert!(cache.conversation(id).is_some());
        let user = UserId::new();
        cache.put_blockers(user, Arc::new(HashSet::new()), cache.epoch());
        cache.clear();
        assert!(cache.conversation(id).is_none() && cache.blockers(user).is_none());
    }
}
