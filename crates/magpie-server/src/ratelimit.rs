//! Token-bucket rate limits keyed by account or IP address.
//!
//! Buckets live in sharded maps. A bucket that has refilled completely holds
//! no information, so [`RateLimiter::sweep`] drops it; memory is bounded by
//! the keys active within one refill period.

use parking_lot::Mutex;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::time::Instant;

const SHARDS: usize = 32;

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A token bucket per key: `rate` tokens per second, at most `burst` stored.
pub struct RateLimiter<K> {
    rate: f64,
    burst: f64,
    shards: Vec<Mutex<HashMap<K, Bucket>>>,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    /// A limiter; a rate of 0 allows everything.
    pub fn new(rate: f64, burst: f64) -> Self {
        RateLimiter {
            rate,
            burst,
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    fn shard(&self, key: &K) -> &Mutex<HashMap<K, Bucket>> {
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        &self.shards[(h.finish() as usize) % SHARDS]
    }

    /// Takes one token for `key`; false when the key is over its limit.
    pub fn check(&self, key: &K, now: Instant) -> bool {
        if self.rate <= 0.0 {
            return true;
        }
        let mut map = self.shard(key).lock();
        let b = map.entry(key.clone()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.rate).min(self.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Forgets buckets that have refilled; returns how many remain.
    pub fn sweep(&self, now: Instant) -> usize {
        if self.rate <= 0.0 {
            return 0;
        }
        let full_after = self.burst / self.rate;
        let mut left = 0;
        for s in &self.shards {
            let mut m = s.lock();
            m.retain(|_, b| now.saturating_duration_since(b.at).as_secs_f64() < full_after);
            left += m.len();
        }
        left
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_refill_then_sweep() {
        let l = RateLimiter::new(2.0, 3.0);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check(&"a", t0));
        }
        assert!(!l.check(&"a", t0));
        assert!(l.check(&"b", t0), "keys are independent");
        assert!(l.check(&"a", t0 + Duration::from_millis(500)));
        assert!(!l.check(&"a", t0 + Duration::from_millis(500)));
        assert_eq!(l.sweep(t0 + Duration::from_millis(600)), 2);
        assert_eq!(l.sweep(t0 + Duration::from_secs(5)), 0);
        let off = RateLimiter::new(0.0, 0.0);
        assert!((0..1000).all(|_| off.check(&"x", t0)));
    }
}
