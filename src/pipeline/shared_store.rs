//! The Redis connection of the stores that replicas share (APQ entries, rate-limit counters).
//!
//! These stores make the gateway better but are not needed to answer a request, so a Redis that
//! is away must cost a request little and fail it never: every command is bounded by a short
//! timeout, errors are returned for the caller to fall back on, and an outage is logged once
//! when it starts and once when it ends rather than once per request. While Redis is away, one
//! command per [`RETRY_EVERY`] tries it again and the others give up at once, so an outage does
//! not add a timeout to every request.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

/// Bounds one command, connecting included: a request never waits long on a Redis that is away.
const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);
/// While Redis is away, how often a command tries it again.
const RETRY_EVERY: Duration = Duration::from_secs(1);

pub(super) struct SharedStore {
    /// What the store is for, in log records (`"APQ store"`).
    what: &'static str,
    /// `None` when the URL could not make a client (config validation makes that rare).
    client: Option<redis::Client>,
    /// Created on first use: building one needs a running Tokio runtime.
    manager: OnceCell<ConnectionManager>,
    /// Whether the last command failed, so an outage is logged when it starts and ends.
    down: AtomicBool,
    /// When a command last tried Redis during an outage, in milliseconds since `started`.
    last_try_ms: AtomicU64,
    started: Instant,
}

impl SharedStore {
    pub(super) fn new(what: &'static str, url: &str) -> Self {
        let client = match redis::Client::open(url) {
            Ok(client) => Some(client),
            Err(error) => {
                tracing::error!(store = what, %error, "cannot use the Redis url; the store is off");
                None
            }
        };
        SharedStore {
            what,
            client,
            manager: OnceCell::new(),
            down: AtomicBool::new(false),
            last_try_ms: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    /// Runs `command`; `None` when Redis did not answer in time or answered with an error.
    pub(super) async fn query<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> Option<T> {
        if self.down.load(Ordering::Relaxed) && !self.may_retry() {
            return None;
        }
        let outcome = tokio::time::timeout(COMMAND_TIMEOUT, self.try_query(command)).await;
        let error = match outcome {
            Ok(Ok(value)) => {
                if self.down.swap(false, Ordering::Relaxed) {
                    tracing::info!(store = self.what, "Redis answers again");
                }
                return Some(value);
            }
            Ok(Err(error)) => error,
            Err(_) => format!("no answer within {COMMAND_TIMEOUT:?}"),
        };
        self.last_try_ms.store(
            u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        if !self.down.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                store = self.what,
                %error,
                "Redis is unavailable; requests go on without it until it answers again"
            );
        }
        None
    }

    /// During an outage: whether this command is the one that tries Redis again.
    fn may_retry(&self) -> bool {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.last_try_ms.load(Ordering::Relaxed);
        let every = u64::try_from(RETRY_EVERY.as_millis()).unwrap_or(u64::MAX);
        now.saturating_sub(last) >= every
            && self
                .last_try_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    async fn try_query<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> Result<T, String> {
        let client = self.client.as_ref().ok_or("no usable Redis url")?;
        let manager = self
            .manager
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(COMMAND_TIMEOUT))
                    .set_response_timeout(Some(COMMAND_TIMEOUT))
                    .set_number_of_retries(1);
                ConnectionManager::new_lazy_with_config(client.clone(), config)
                    .map_err(|error| error.to_string())
            })
            .await?;
        let mut connection = manager.clone();
        command
            .query_async(&mut connection)
            .await
            .map_err(|error| error.to_string())
    }
}
