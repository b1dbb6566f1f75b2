//! The Redis backend: Pub/Sub, for gateways and services that run apart.
//!
//! Two connections, because a Redis connection in subscribe mode accepts no other commands:
//! publishing goes through a [`ConnectionManager`] (which reconnects on its own), and one
//! subscriber connection per gateway carries every topic. That connection is owned by a single
//! task, so SUBSCRIBE/UNSUBSCRIBE and message delivery happen in one order: a topic is
//! subscribed upstream once however many local streams listen, and unsubscribed when the last
//! one is dropped. When the connection drops (Redis restarted, network cut), the task
//! reconnects with backoff and resubscribes every live topic while the local streams stay open;
//! the window in between is a gap (Pub/Sub keeps no history), logged and counted.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSubSink, PubSubStream};
use redis::{AsyncCommands, RedisError};
use tokio::sync::{broadcast, mpsc, oneshot, OnceCell};

use super::fanout::{shared_stream, TOPIC_CAPACITY};
use super::{Bridge, BridgeError, BridgeStats, EventStream};

const BACKEND: &str = "redis";
/// Bounds one connection attempt, so a Redis that is down is reported instead of waited for.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Bounds one SUBSCRIBE, UNSUBSCRIBE or PING on the subscriber connection.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(3);
/// Bounds a whole publish, reconnection attempts included: a caller never hangs on a dead Redis.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(2);
/// A killed server closes its sockets, but a cut network does not: a periodic PING notices a
/// connection that is silently gone.
const PING_INTERVAL: Duration = Duration::from_secs(5);
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// A Redis Pub/Sub bridge. Cloning is cheap and shares the connections.
#[derive(Clone)]
pub struct RedisBridge {
    shared: Arc<Shared>,
}

struct Shared {
    client: redis::Client,
    prefix: String,
    /// Created on first publish: building one needs a running Tokio runtime.
    publisher: OnceCell<ConnectionManager>,
    /// Commands to the subscriber task, started on first subscribe. Dropping the last handle
    /// (bridge or stream) drops this sender, which ends the task and closes its connection.
    subscriber: OnceLock<mpsc::UnboundedSender<Command>>,
    registry: Arc<Registry>,
}

/// What both the bridge handles and the subscriber task see.
#[derive(Default)]
struct Registry {
    /// Live topics by Redis channel name (prefix included).
    topics: Mutex<HashMap<String, Topic>>,
    reconnects: AtomicU64,
    gaps: AtomicU64,
}

struct Topic {
    sender: broadcast::Sender<Bytes>,
    streams: usize,
}

enum Command {
    /// Make sure `channel` is subscribed upstream, then answer on `done`.
    Subscribe {
        channel: String,
        done: oneshot::Sender<Result<(), BridgeError>>,
    },
    /// The last stream of `channel` is gone (unless one came back since).
    Unsubscribe { channel: String },
}

impl RedisBridge {
    /// A bridge to the Redis at `url` (`redis://host:port/db`), prefixing every topic with
    /// `prefix`. Nothing connects until the first publish or subscribe.
    pub fn new(url: &str, prefix: impl Into<String>) -> Result<Self, BridgeError> {
        let client = redis::Client::open(url).map_err(|error| BridgeError::Unavailable {
            backend: BACKEND,
            message: format!(
                "`{}` is not a Redis url: {error}",
                crate::telemetry::redact::loggable_url(url)
            ),
        })?;
        Ok(Self {
            shared: Arc::new(Shared {
                client,
                prefix: prefix.into(),
                publisher: OnceCell::new(),
                subscriber: OnceLock::new(),
                registry: Arc::default(),
            }),
        })
    }

    fn channel(&self, topic: &str) -> Result<String, BridgeError> {
        if topic.is_empty() {
            return Err(BridgeError::InvalidTopic {
                topic: String::new(),
                message: "a topic must not be empty".to_owned(),
            });
        }
        Ok(format!("{}{topic}", self.shared.prefix))
    }

    async fn publisher(&self) -> Result<ConnectionManager, BridgeError> {
        let manager = self
            .shared
            .publisher
            .get_or_try_init(|| async {
                // One retry inside the manager: the caller's timeout, not a long retry schedule,
                // decides how long a publish may take.
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_response_timeout(Some(COMMAND_TIMEOUT))
                    .set_number_of_retries(1)
                    .set_min_delay(MIN_BACKOFF)
                    .set_max_delay(MAX_BACKOFF);
                ConnectionManager::new_lazy_with_config(self.shared.client.clone(), config)
                    .map_err(|error| unavailable(&error.to_string()))
            })
            .await?;
        Ok(manager.clone())
    }

    fn commands(&self) -> &mpsc::UnboundedSender<Command> {
        self.shared.subscriber.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            tokio::spawn(run_subscriber(
                self.shared.client.clone(),
                self.shared.registry.clone(),
                receiver,
            ));
            sender
        })
    }
}

impl Bridge for RedisBridge {
    fn publish<'a>(
        &'a self,
        topic: &'a str,
        payload: Bytes,
    ) -> BoxFuture<'a, Result<(), BridgeError>> {
        Box::pin(async move {
            let channel = self.channel(topic)?;
            let mut connection = self.publisher().await?;
            let attempts = async {
                let mut result = Ok(());
                // The manager starts reconnecting when a command fails with an I/O error but
                // still fails that command: the second attempt rides the new connection.
                for _ in 0..2 {
                    result = connection
                        .publish::<_, _, usize>(&channel, payload.as_ref())
                        .await
                        .map(|_| ());
                    match &result {
                        Err(error) if error.is_io_error() || error.is_connection_dropped() => {}
                        _ => break,
                    }
                }
                result
            };
            match tokio::time::timeout(PUBLISH_TIMEOUT, attempts).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(error)) => Err(unavailable(&error.to_string())),
                Err(_) => Err(unavailable(&format!(
                    "no answer to PUBLISH within {PUBLISH_TIMEOUT:?}"
                ))),
            }
        })
    }

    fn subscribe<'a>(&'a self, topic: &'a str) -> BoxFuture<'a, Result<EventStream, BridgeError>> {
        Box::pin(async move {
            let channel = self.channel(topic)?;
            let receiver = {
                let mut topics = lock(&self.shared.registry.topics);
                let entry = topics.entry(channel.clone()).or_insert_with(|| Topic {
                    sender: broadcast::channel(TOPIC_CAPACITY).0,
                    streams: 0,
                });
                entry.streams += 1;
                entry.sender.subscribe()
            };
            // Taken before anything can fail or be cancelled, so the count is always given back.
            let share = Share {
                shared: self.shared.clone(),
                channel: channel.clone(),
            };
            let (done, confirmed) = oneshot::channel();
            self.commands()
                .send(Command::Subscribe { channel, done })
                .map_err(|_| unavailable("the subscriber task has stopped"))?;
            // The task answers within a connect and a command timeout; the bound is a backstop.
            match tokio::time::timeout(CONNECT_TIMEOUT + COMMAND_TIMEOUT, confirmed).await {
                Ok(Ok(Ok(()))) => Ok(shared_stream(receiver, BACKEND, topic, share)),
                Ok(Ok(Err(error))) => Err(error),
                Ok(Err(_)) => Err(unavailable("the subscriber task has stopped")),
                Err(_) => Err(unavailable("no answer to SUBSCRIBE in time")),
            }
        })
    }

    fn stats(&self) -> BridgeStats {
        let registry = &self.shared.registry;
        BridgeStats {
            reconnects: registry.reconnects.load(Ordering::Relaxed),
            gaps: registry.gaps.load(Ordering::Relaxed),
        }
    }
}

/// One local stream's hold on its topic.
struct Share {
    shared: Arc<Shared>,
    channel: String,
}

impl Drop for Share {
    fn drop(&mut self) {
        let mut topics = lock(&self.shared.registry.topics);
        let Some(topic) = topics.get_mut(&self.channel) else {
            return;
        };
        topic.streams = topic.streams.saturating_sub(1);
        if topic.streams == 0 {
            topics.remove(&self.channel);
            drop(topics);
            if let Some(commands) = self.shared.subscriber.get() {
                // A stopped task has no subscription left to undo.
                let _ = commands.send(Command::Unsubscribe {
                    channel: std::mem::take(&mut self.channel),
                });
            }
        }
    }
}

impl Registry {
    fn live_channels(&self) -> Vec<String> {
        lock(&self.topics).keys().cloned().collect()
    }

    fn is_live(&self, channel: &str) -> bool {
        lock(&self.topics).contains_key(channel)
    }

    fn deliver(&self, channel: &str, payload: &[u8]) {
        if let Some(topic) = lock(&self.topics).get(channel) {
            // No receiver left is not an error: the last stream is being dropped.
            let _ = topic.sender.send(Bytes::copy_from_slice(payload));
        }
    }
}

/// Why the subscriber connection stopped serving.
enum Ended {
    /// Every bridge handle is gone: nothing will ever subscribe again.
    Closed,
    /// The connection failed; reconnect.
    Lost(String),
}

/// Owns the subscriber connection for the bridge's lifetime: connect, resubscribe, serve
/// commands and messages, and on failure start over with backoff.
async fn run_subscriber(
    client: redis::Client,
    registry: Arc<Registry>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let mut backoff = MIN_BACKOFF;
    let mut lost_at: Option<Instant> = None;
    loop {
        match connect(&client, &registry).await {
            Ok((sink, stream, subscribed)) => {
                if let Some(since) = lost_at.take() {
                    registry.reconnects.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        backend = BACKEND,
                        topics = subscribed.len(),
                        down_ms = since.elapsed().as_millis() as u64,
                        "bridge reconnected and resubscribed"
                    );
                }
                backoff = MIN_BACKOFF;
                match serve(&registry, sink, stream, subscribed, &mut commands).await {
                    Ended::Closed => return,
                    Ended::Lost(reason) => {
                        lost_at = Some(Instant::now());
                        let live = lock(&registry.topics).len();
                        if live > 0 {
                            registry.gaps.fetch_add(1, Ordering::Relaxed);
                        }
                        tracing::warn!(
                            backend = BACKEND,
                            topics = live,
                            %reason,
                            "bridge lost its subscriber connection; events published until it is \
                             back are not received"
                        );
                    }
                }
            }
            Err(reason) => {
                tracing::debug!(backend = BACKEND, %reason, retry_ms = backoff.as_millis() as u64, "bridge cannot connect");
                if !refuse_while_down(&mut commands, backoff, &reason).await {
                    return;
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// A fresh subscriber connection, subscribed to every live topic.
async fn connect(
    client: &redis::Client,
    registry: &Registry,
) -> Result<(PubSubSink, PubSubStream, HashSet<String>), String> {
    let pubsub = match tokio::time::timeout(CONNECT_TIMEOUT, client.get_async_pubsub()).await {
        Ok(Ok(pubsub)) => pubsub,
        Ok(Err(error)) => return Err(error.to_string()),
        Err(_) => return Err(format!("no connection within {CONNECT_TIMEOUT:?}")),
    };
    let (mut sink, stream) = pubsub.split();
    let live = registry.live_channels();
    if !live.is_empty() {
        timed(sink.subscribe(&live)).await?;
    }
    Ok((sink, stream, live.into_iter().collect()))
}

/// Serves one connection until it fails or the bridge is gone. `subscribed` is what this
/// connection is subscribed to, which can trail the registry by the commands still queued.
async fn serve(
    registry: &Registry,
    mut sink: PubSubSink,
    mut stream: PubSubStream,
    mut subscribed: HashSet<String>,
    commands: &mut mpsc::UnboundedReceiver<Command>,
) -> Ended {
    let mut ping =
        tokio::time::interval_at(tokio::time::Instant::now() + PING_INTERVAL, PING_INTERVAL);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            message = stream.next() => match message {
                Some(message) => {
                    registry.deliver(message.get_channel_name(), message.get_payload_bytes());
                }
                None => return Ended::Lost("the connection closed".to_owned()),
            },
            command = commands.recv() => match command {
                None => return Ended::Closed,
                Some(Command::Subscribe { channel, done }) => {
                    if subscribed.contains(&channel) {
                        let _ = done.send(Ok(()));
                        continue;
                    }
                    match timed(sink.subscribe(&channel)).await {
                        Ok(()) => {
                            subscribed.insert(channel);
                            let _ = done.send(Ok(()));
                        }
                        Err(reason) => {
                            let _ = done.send(Err(unavailable(&reason)));
                            return Ended::Lost(reason);
                        }
                    }
                }
                Some(Command::Unsubscribe { channel }) => {
                    // A stream may have come back for the channel since the command was sent.
                    if registry.is_live(&channel) || !subscribed.remove(&channel) {
                        continue;
                    }
                    if let Err(reason) = timed(sink.unsubscribe(&channel)).await {
                        return Ended::Lost(reason);
                    }
                }
            },
            _ = ping.tick() => {
                if let Err(reason) = timed(sink.ping::<redis::Value>()).await {
                    return Ended::Lost(reason);
                }
            }
        }
    }
}

/// Waits `backoff` before the next connection attempt, failing every subscription asked for
/// meanwhile so no caller waits on a Redis that is down. False when the bridge is gone.
async fn refuse_while_down(
    commands: &mut mpsc::UnboundedReceiver<Command>,
    backoff: Duration,
    reason: &str,
) -> bool {
    let sleep = tokio::time::sleep(backoff);
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            _ = &mut sleep => return true,
            command = commands.recv() => match command {
                None => return false,
                Some(Command::Subscribe { done, .. }) => {
                    let _ = done.send(Err(unavailable(reason)));
                }
                // Nothing is subscribed while disconnected; the next connection subscribes
                // only the topics still live.
                Some(Command::Unsubscribe { .. }) => {}
            },
        }
    }
}

/// A subscriber-connection command with [`COMMAND_TIMEOUT`]; every failure is a lost
/// connection, since the protocol state after a failed command cannot be trusted.
async fn timed<T>(
    command: impl std::future::Future<Output = Result<T, RedisError>>,
) -> Result<T, String> {
    match tokio::time::timeout(COMMAND_TIMEOUT, command).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!("no answer within {COMMAND_TIMEOUT:?}")),
    }
}

fn unavailable(message: &str) -> BridgeError {
    BridgeError::Unavailable {
        backend: BACKEND,
        message: message.to_owned(),
    }
}

/// The registry's lock is never held across an await or a call that can panic, so poisoning
/// can only come from a bug elsewhere; the map is still consistent then.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
