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
    /// Seconds after `at` when the bucket is full again.
    full_after: f64,
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
        self.check_with(key, now, self.rate, self.burst)
    }

    /// [`RateLimiter::check`] with this key's own rate and burst (per-app limits).
    pub fn check_with(&self, key: &K, now: Instant, rate: f64, burst: f64) -> bool {
        if rate <= 0.0 {
            return true;
        }
        let mut map = self.shard(key).lock();
        let b = map.entry(key.clone()).or_insert(Bucket {
            tokens: burst,
            at: now,
            full_after: 0.0,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(burst);
        b.at = now;
        let ok = b.tokens >= 1.0;
        if ok {
            b.tokens -= 1.0;
        }
        b.full_after = (burst - b.tokens) / rate;
        ok
    }

    /// True when `key` has a token now, without taking it: for limits that
    /// are checked before the work and charged only for some outcomes
    /// (failed logins).
    pub fn peek(&self, key: &K, now: Instant) -> bool {
        if self.rate <= 0.0 {
            return true;
        }
        let map = self.shard(key).lock();
        map.get(key).is_none_or(|b| {
            let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
            (b.tokens + elapsed * self.rate).min(self.burst) >= 1.0
        })
    }

    /// Forgets buckets that have refilled; returns how many remain.
    pub fn sweep(&self, now: Instant) -> usize {
        let mut left = 0;
        for s in &self.shards {
            let mut m = s.lock();
            m.retain(|_, b| now.saturating_duration_since(b.at).as_secs_f64() < b.full_after);
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
        // "b" took one token at t0 and is full again at 500 ms: forgotten;
        // "a" is empty at 500 ms and full only at 2 s: kept.
        assert_eq!(l.sweep(t0 + Duration::from_millis(600)), 1);
        assert_eq!(l.sweep(t0 + Duration::from_secs(5)), 0);
        // peek looks without taking.
        let p = RateLimiter::new(1.0, 1.0);
        assert!(p.peek(&"k", t0) && p.peek(&"k", t0));
        assert!(p.check(&"k", t0));
        assert!(!p.peek(&"k", t0));
        assert!(p.peek(&"k", t0 + Duration::from_secs(1)));
        let off = RateLimiter::new(0.0, 0.0);
        assert!((0..1000).all(|_| off.check(&"x", t0)));
        // Per-key rates: 1 a second, burst 2.
        assert!(off.check_with(&"y", t0, 1.0, 2.0));
        assert!(off.check_with(&"y", t0, 1.0, 2.0));
        assert!(!off.check_with(&"y", t0, 1.0, 2.0));
        assert!(off.check_with(&"y", t0 + Duration::from_secs(1), 1.0, 2.0));
        assert_eq!(off.sweep(t0 + Duration::from_millis(1500)), 1);
        assert_eq!(off.sweep(t0 + Duration::from_secs(4)), 0);
    }
}
