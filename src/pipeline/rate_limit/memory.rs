//! Token buckets in this process (governor's GCRA, which behaves as a token bucket): a client
//! may spend `requests` at once, then one more every `per / requests`.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config;

/// Forgetting idle clients takes a scan of every bucket, so it runs once per this many checks.
const SWEEP_EVERY: u64 = 4096;

pub(super) struct Buckets {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    checks: AtomicU64,
}

impl Buckets {
    pub(super) fn new(quota: config::Quota) -> Self {
        let burst = NonZeroU32::new(quota.requests).unwrap_or(NonZeroU32::MIN);
        let refill = (quota.per / burst.get()).max(Duration::from_nanos(1));
        let quota = Quota::with_period(refill)
            .unwrap_or_else(|| Quota::per_second(burst))
            .allow_burst(burst);
        Buckets {
            limiter: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// Takes a token from `key`'s bucket, or says how long until one is there.
    pub(super) fn take(&self, key: &str) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            // Full buckets are the same as no bucket; dropping them bounds memory by the
            // clients seen within one period.
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&key.to_owned())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_holds_its_quota_and_says_when_it_refills() {
        let buckets = Buckets::new(config::Quota {
            requests: 3,
            per: Duration::from_secs(3600),
        });
        for _ in 0..3 {
            assert_eq!(buckets.take("a"), Ok(()));
        }
        let wait = buckets.take("a").unwrap_err();
        // One token comes back every 20 minutes.
        assert!(
            wait > Duration::from_secs(60) && wait <= Duration::from_secs(1200),
            "{wait:?}"
        );
        assert_eq!(buckets.take("b"), Ok(()));
    }
}
