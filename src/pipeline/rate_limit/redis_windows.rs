//! Counters in Redis, shared by replicas: a fixed window per key. The first request of a window
//! creates the counter with the window's length as its expiry; requests past `requests` in the
//! window are refused until the counter expires. One Lua script does both steps, so replicas
//! never race between incrementing and setting the expiry.
//!
//! A fixed window (not a token bucket) because it costs one round trip and one key per client;
//! the price is that a client may spend up to twice its quota around a window's edge.

use std::time::Duration;

use super::super::shared_store::SharedStore;
use crate::config::Quota;

const SCRIPT: &str = "\
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}";

pub(super) struct Windows {
    store: SharedStore,
    requests: u32,
    window_ms: u64,
}

impl Windows {
    pub(super) fn new(store: SharedStore, quota: Quota) -> Self {
        Windows {
            store,
            requests: quota.requests,
            window_ms: u64::try_from(quota.per.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// Counts a request for `key`, or says how long until its window ends. A Redis that is away
    /// admits the request (fail open): losing the limit for a while is better than refusing
    /// every client.
    pub(super) async fn take(&self, key: &str) -> Result<(), Duration> {
        let mut command = redis::cmd("EVAL");
        command.arg(SCRIPT).arg(1).arg(key).arg(self.window_ms);
        match self.store.query::<(u64, i64)>(&command).await {
            Some((count, ttl_ms)) if count > u64::from(self.requests) => {
                Err(Duration::from_millis(u64::try_from(ttl_ms).unwrap_or(0)))
            }
            _ => Ok(()),
        }
    }
}
