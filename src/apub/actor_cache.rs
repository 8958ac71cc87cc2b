//! Remote actors read recently, by id. Every inbox request reads its
//! sender twice (to check the signature, then to apply the activity) and
//! remote actors change rarely, so a minute-old copy saves two queries per
//! activity. A fetch of the actor (its key rotated, its profile changed)
//! replaces the copy.

use super::objects::person::ApubUser;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use url::Url;

/// How long a copy is used.
const TTL: Duration = Duration::from_secs(60);
/// Copies kept at most; the cache starts over when it is full.
const CAPACITY: usize = 10_000;

#[derive(Default)]
pub struct ActorCache(Mutex<HashMap<Url, (ApubUser, Instant)>>);

impl ActorCache {
    /// The copy of remote actor `id`, if it is fresh.
    pub fn get(&self, id: &Url) -> Option<ApubUser> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(id)
            .filter(|(_, at)| at.elapsed() < TTL)
            .map(|(actor, _)| actor.clone())
    }

    /// Keeps a copy of a remote actor just read or fetched.
    pub fn put(&self, actor: &ApubUser) {
        if actor.is_local() {
            return;
        }
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(actor.ap_id.clone(), (actor.clone(), Instant::now()));
    }

    /// Forgets remote actor `id` (its account was deleted).
    pub fn forget(&self, id: &Url) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(id);
    }
}
