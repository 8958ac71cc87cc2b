//! Keyed token buckets kept in memory, for limits on what one client or one
//! account may do (failed logins, sign-ups). Memory is bounded: a bucket
//! that has refilled is the same as no bucket and is swept when the map is
//! full, and past that the map sheds arbitrary entries rather than grow.
//!
//! Imports nothing from the crate: callers pick the keys.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How much may be done: `burst` at once, refilled evenly over `per`.
#[derive(Debug, Clone, Copy)]
pub struct Quota {
    pub burst: u32,
    pub per: Duration,
}

impl Quota {
    /// Tokens regained per second.
    fn rate(&self) -> f64 {
        f64::from(self.burst) / self.per.as_secs_f64().max(f64::MIN_POSITIVE)
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A token bucket per key, at most `max_keys` of them.
#[derive(Debug)]
pub struct RateLimiter<K> {
    quota: Quota,
    max_keys: usize,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    pub fn new(quota: Quota, max_keys: usize) -> Self {
        Self {
            quota,
            max_keys: max_keys.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token of `key`'s bucket, or says how long until one is
    /// back. A quota with `burst` 0 never limits.
    pub fn try_take(&self, key: &K) -> Result<(), Duration> {
        if self.quota.burst == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = self.lock();
        if !buckets.contains_key(key) && buckets.len() >= self.max_keys {
            self.shed(&mut buckets, now);
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: f64::from(self.quota.burst),
            at: now,
        });
        self.refill(bucket, now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.quota.rate();
            Err(Duration::from_secs_f64(wait))
        }
    }

    /// Returns the token a [`try_take`](Self::try_take) took, when what it
    /// paid for did not count (a login that succeeded).
    pub fn give_back(&self, key: &K) {
        let mut buckets = self.lock();
        if let Some(bucket) = buckets.get_mut(key) {
            bucket.tokens = (bucket.tokens + 1.0).min(f64::from(self.quota.burst));
        }
    }

    /// How many keys are held (for tests of the memory bound).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn refill(&self, bucket: &mut Bucket, now: Instant) {
        let gained = now.duration_since(bucket.at).as_secs_f64() * self.quota.rate();
        bucket.tokens = (bucket.tokens + gained).min(f64::from(self.quota.burst));
        bucket.at = now;
    }

    /// Drops the buckets that have refilled, then, if still over 90% full,
    /// arbitrary ones: an attacker with many keys can make a bucket be
    /// forgotten early, but never make memory grow.
    fn shed(&self, buckets: &mut HashMap<K, Bucket>, now: Instant) {
        let burst = f64::from(self.quota.burst);
        let rate = self.quota.rate();
        buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
        let keep = self.max_keys - self.max_keys / 10 - 1;
        if buckets.len() > keep {
            let excess: Vec<K> = buckets.keys().take(buckets.len() - keep).cloned().collect();
            for key in excess {
                buckets.remove(&key);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Bucket>> {
        // A panic while holding the lock leaves consistent buckets.
        self.buckets.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(burst: u32, per_s: u64) -> Quota {
        Quota {
            burst,
            per: Duration::from_secs(per_s),
        }
    }

    #[test]
    fn burst_then_refused_with_a_wait() {
        let limiter = RateLimiter::new(quota(3, 300), 10);
        for _ in 0..3 {
            assert!(limiter.try_take(&"a").is_ok());
        }
        let wait = limiter.try_take(&"a").unwrap_err();
        assert!(wait > Duration::from_secs(90) && wait <= Duration::from_secs(100));
        assert!(limiter.try_take(&"b").is_ok(), "keys are independent");
    }

    #[test]
    fn given_back_tokens_count_again() {
        let limiter = RateLimiter::new(quota(1, 300), 10);
        assert!(limiter.try_take(&"a").is_ok());
        limiter.give_back(&"a");
        assert!(limiter.try_take(&"a").is_ok());
        assert!(limiter.try_take(&"a").is_err());
    }

    #[test]
    fn zero_burst_never_limits() {
        let limiter = RateLimiter::new(quota(0, 1), 10);
        for _ in 0..100 {
            assert!(limiter.try_take(&1).is_ok());
        }
        assert!(limiter.is_empty());
    }

    #[test]
    fn memory_stays_bounded() {
        let limiter = RateLimiter::new(quota(5, 3600), 100);
        for key in 0..10_000 {
            let _ = limiter.try_take(&key);
            assert!(limiter.len() <= 100);
        }
    }
}
