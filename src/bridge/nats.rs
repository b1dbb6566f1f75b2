//! The NATS backend: core subjects (no JetStream), for gateways and services that run apart.
//!
//! One client connection per gateway carries publishing and every subscription. async-nats
//! reconnects and resubscribes on its own; what this module adds is the sharing (one NATS
//! subscription per topic however many local streams listen, unsubscribed when the last one is
//! dropped), topic checks, the prefix, fast failure while the server is away, and counting the
//! gaps a reconnection leaves (core NATS keeps no history to replay).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_nats::client::RequestErrorKind;
use async_nats::connection::State;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::StreamExt;
use tokio::sync::{broadcast, OnceCell};

use super::fanout::{shared_stream, TOPIC_CAPACITY};
use super::{Bridge, BridgeError, BridgeStats, EventStream};
use crate::config::forbidden_in_nats_subject as forbidden;

const BACKEND: &str = "nats";
/// Bounds connecting, so a NATS that is down is reported instead of waited for.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Bounds a subscribe or publish round with the server.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// A NATS core bridge. Cloning is cheap and shares the connection.
#[derive(Clone)]
pub struct NatsBridge {
    shared: Arc<Shared>,
}

struct Shared {
    url: String,
    prefix: String,
    /// Connected on first use: connecting needs a running Tokio runtime and may fail, and a
    /// server that is down at startup should not stop the gateway from serving queries.
    client: OnceCell<async_nats::Client>,
    /// Live topics by NATS subject (prefix included).
    topics: Mutex<HashMap<String, Topic>>,
    /// Locks of the subjects whose first NATS subscription is being made, so two streams racing
    /// for a new topic make one, while other topics (each a server round trip or two) go ahead.
    creating: CreatingLocks,
    counters: Arc<Counters>,
}

/// A lock per subject whose first NATS subscription is being made (see [`creating`]).
type CreatingLocks = Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>;

struct Topic {
    sender: broadcast::Sender<Bytes>,
    streams: usize,
    /// The task that owns the NATS subscriber; aborting it drops the subscriber, which sends
    /// UNSUB.
    forwarder: tokio::task::AbortHandle,
}

/// Fed by the client's connection events.
#[derive(Default)]
struct Counters {
    reconnects: AtomicU64,
    gaps: AtomicU64,
    live_topics: AtomicUsize,
    disconnected: AtomicBool,
}

impl Counters {
    fn observe(&self, event: &async_nats::Event) {
        match event {
            async_nats::Event::Disconnected => {
                self.disconnected.store(true, Ordering::Relaxed);
                let live = self.live_topics.load(Ordering::Relaxed);
                if live > 0 {
                    self.gaps.fetch_add(1, Ordering::Relaxed);
                }
                tracing::warn!(
                    backend = BACKEND,
                    topics = live,
                    "bridge disconnected; events published until it is back are not received"
                );
            }
            async_nats::Event::Connected => {
                if self.disconnected.swap(false, Ordering::Relaxed) {
                    self.reconnects.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        backend = BACKEND,
                        topics = self.live_topics.load(Ordering::Relaxed),
                        "bridge reconnected and resubscribed"
                    );
                }
            }
            other => tracing::debug!(backend = BACKEND, event = %other, "bridge event"),
        }
    }
}

impl NatsBridge {
    /// A bridge to the NATS server(s) at `url` (`nats://host:4222`, or a comma-separated list),
    /// prefixing every topic with `prefix`. Nothing connects until the first publish or
    /// subscribe.
    pub fn new(url: impl Into<String>, prefix: impl Into<String>) -> Self {
        Self {
            shared: Arc::new(Shared {
                url: url.into(),
                prefix: prefix.into(),
                client: OnceCell::new(),
                topics: Mutex::default(),
                creating: Arc::default(),
                counters: Arc::default(),
            }),
        }
    }

    fn subject(&self, topic: &str) -> Result<String, BridgeError> {
        if topic.is_empty() {
            return Err(BridgeError::InvalidTopic {
                topic: String::new(),
                message: "a topic must not be empty".to_owned(),
            });
        }
        let subject = format!("{}{topic}", self.shared.prefix);
        check_subject(&subject).map_err(|message| BridgeError::InvalidTopic {
            topic: topic.to_owned(),
            message,
        })?;
        Ok(subject)
    }

    async fn client(&self) -> Result<async_nats::Client, BridgeError> {
        let client = self
            .shared
            .client
            .get_or_try_init(|| async {
                let counters = self.shared.counters.clone();
                let options = async_nats::ConnectOptions::new()
                    .connection_timeout(CONNECT_TIMEOUT)
                    .max_reconnects(None)
                    .event_callback(move |event| {
                        counters.observe(&event);
                        futures::future::ready(())
                    });
                match tokio::time::timeout(
                    CONNECT_TIMEOUT,
                    options.connect(self.shared.url.as_str()),
                )
                .await
                {
                    Ok(Ok(client)) => Ok(client),
                    Ok(Err(error)) => Err(unavailable(&error.to_string())),
                    Err(_) => Err(unavailable(&format!(
                        "no connection within {CONNECT_TIMEOUT:?}"
                    ))),
                }
            })
            .await?;
        Ok(client.clone())
    }

    fn connected(&self, client: &async_nats::Client) -> Result<(), BridgeError> {
        match client.connection_state() {
            State::Connected => Ok(()),
            state => Err(unavailable(&format!("the connection is {state}"))),
        }
    }

    /// A stream of `subject`'s existing NATS subscription, if it has one.
    fn join(&self, subject: &str, topic: &str) -> Option<EventStream> {
        let mut topics = lock(&self.shared.topics);
        let entry = topics.get_mut(subject)?;
        entry.streams += 1;
        let receiver = entry.sender.subscribe();
        drop(topics);
        Some(shared_stream(receiver, BACKEND, topic, self.share(subject)))
    }

    fn share(&self, subject: &str) -> Share {
        Share {
            shared: self.shared.clone(),
            subject: subject.to_owned(),
        }
    }
}

impl Bridge for NatsBridge {
    fn publish<'a>(
        &'a self,
        topic: &'a str,
        payload: Bytes,
    ) -> BoxFuture<'a, Result<(), BridgeError>> {
        Box::pin(async move {
            let subject = self.subject(topic)?;
            let client = self.client().await?;
            // While disconnected the client would queue the event and send it after reconnecting,
            // minutes later perhaps; the caller is better told now.
            self.connected(&client)?;
            let send = async {
                client
                    .publish(subject, payload)
                    .await
                    .map_err(|error| unavailable(&error.to_string()))?;
                client
                    .flush()
                    .await
                    .map_err(|error| unavailable(&error.to_string()))
            };
            match tokio::time::timeout(COMMAND_TIMEOUT, send).await {
                Ok(result) => result,
                Err(_) => Err(unavailable(&format!(
                    "the event was not sent within {COMMAND_TIMEOUT:?}"
                ))),
            }
        })
    }

    fn subscribe<'a>(&'a self, topic: &'a str) -> BoxFuture<'a, Result<EventStream, BridgeError>> {
        Box::pin(async move {
            let subject = self.subject(topic)?;
            if let Some(stream) = self.join(&subject, topic) {
                return Ok(stream);
            }
            let client = self.client().await?;
            self.connected(&client)?;
            let _creating = creating(&self.shared.creating, &subject).await;
            // Another stream may have made the subscription while this one waited.
            if let Some(stream) = self.join(&subject, topic) {
                return Ok(stream);
            }
            let mut subscriber = match tokio::time::timeout(
                COMMAND_TIMEOUT,
                client.subscribe(subject.clone()),
            )
            .await
            {
                Ok(Ok(subscriber)) => subscriber,
                Ok(Err(error)) => return Err(unavailable(&error.to_string())),
                Err(_) => return Err(unavailable("no answer to SUB in time")),
            };
            sync_with_server(&client).await?;
            let (sender, receiver) = broadcast::channel(TOPIC_CAPACITY);
            let forward = sender.clone();
            let forwarder = tokio::spawn(async move {
                while let Some(message) = subscriber.next().await {
                    // No receiver left is not an error: the last stream is being dropped.
                    let _ = forward.send(message.payload);
                }
            });
            lock(&self.shared.topics).insert(
                subject.clone(),
                Topic {
                    sender,
                    streams: 1,
                    forwarder: forwarder.abort_handle(),
                },
            );
            self.shared
                .counters
                .live_topics
                .fetch_add(1, Ordering::Relaxed);
            Ok(shared_stream(
                receiver,
                BACKEND,
                topic,
                self.share(&subject),
            ))
        })
    }

    fn stats(&self) -> BridgeStats {
        let counters = &self.shared.counters;
        BridgeStats {
            reconnects: counters.reconnects.load(Ordering::Relaxed),
            gaps: counters.gaps.load(Ordering::Relaxed),
        }
    }
}

/// Returns once the server has processed everything this client sent before, so a
/// subscription is in place before `subscribe` resolves. A request to a fresh inbox nobody
/// listens on is answered by the server itself ("no responders"): a round trip, in order.
async fn sync_with_server(client: &async_nats::Client) -> Result<(), BridgeError> {
    let probe = client.request(client.new_inbox(), Bytes::new());
    match tokio::time::timeout(COMMAND_TIMEOUT, probe).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) if error.kind() == RequestErrorKind::NoResponders => Ok(()),
        Ok(Err(error)) => Err(unavailable(&error.to_string())),
        Err(_) => Err(unavailable("the server did not answer in time")),
    }
}

/// Holds `subject`'s creation lock until dropped.
async fn creating(locks: &CreatingLocks, subject: &str) -> CreatingGuard {
    let lock = lock(locks).entry(subject.to_owned()).or_default().clone();
    // The guard exists before the wait, so a caller dropped while waiting still cleans up.
    let mut guard = CreatingGuard {
        locks: locks.clone(),
        subject: subject.to_owned(),
        lock,
        held: None,
    };
    guard.held = Some(guard.lock.clone().lock_owned().await);
    guard
}

/// One subject's creation lock, held or waited for; the map entry goes with the last of them.
struct CreatingGuard {
    locks: CreatingLocks,
    subject: String,
    lock: Arc<tokio::sync::Mutex<()>>,
    held: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for CreatingGuard {
    fn drop(&mut self) {
        self.held.take();
        let mut locks = lock(&self.locks);
        // Ours and the map's: nobody else holds or waits for this subject, and nobody can start
        // to without the map's lock, which is ours now.
        if Arc::strong_count(&self.lock) == 2 {
            locks.remove(&self.subject);
        }
    }
}

/// One local stream's hold on its topic.
struct Share {
    shared: Arc<Shared>,
    subject: String,
}

impl Drop for Share {
    fn drop(&mut self) {
        let mut topics = lock(&self.shared.topics);
        let Some(topic) = topics.get_mut(&self.subject) else {
            return;
        };
        topic.streams = topic.streams.saturating_sub(1);
        if topic.streams == 0 {
            if let Some(topic) = topics.remove(&self.subject) {
                topic.forwarder.abort();
                self.shared
                    .counters
                    .live_topics
                    .fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}

/// Topics are literal subjects: wildcards would subscribe to other topics' events, and
/// whitespace breaks the protocol line.
fn check_subject(subject: &str) -> Result<(), String> {
    if let Some(bad) = subject.chars().find(|c| forbidden(*c)) {
        return Err(format!(
            "NATS subjects cannot contain {bad:?} (no whitespace, `*` or `>`)"
        ));
    }
    if subject.split('.').any(str::is_empty) {
        return Err(
            "NATS subjects are `.`-separated non-empty tokens (no leading, trailing or double `.`)"
                .to_owned(),
        );
    }
    Ok(())
}

fn unavailable(message: &str) -> BridgeError {
    BridgeError::Unavailable {
        backend: BACKEND,
        message: message.to_owned(),
    }
}

/// The topic map's lock is never held across an await; a poisoned map is still consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const SHORT: Duration = Duration::from_millis(50);

    #[tokio::test]
    async fn creating_one_subject_does_not_wait_for_another() {
        let locks = CreatingLocks::default();
        let first = creating(&locks, "a").await;
        let other = tokio::time::timeout(SHORT, creating(&locks, "b")).await;
        assert!(other.is_ok(), "subject b waited for subject a");
        let same = tokio::time::timeout(SHORT, creating(&locks, "a")).await;
        assert!(same.is_err(), "two creations of subject a ran at once");
        drop(other);
        drop(first);
        assert!(lock(&locks).is_empty(), "{:?}", lock(&locks).keys());
    }

    #[tokio::test]
    async fn a_waiter_gets_the_subject_when_the_holder_is_done() {
        let locks = CreatingLocks::default();
        let first = creating(&locks, "a").await;
        let waiter = tokio::spawn({
            let locks = locks.clone();
            async move {
                let _held = creating(&locks, "a").await;
            }
        });
        tokio::time::sleep(SHORT).await;
        assert!(!waiter.is_finished());
        drop(first);
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .expect("the waiter got the lock")
            .expect("the waiter ran");
        assert!(lock(&locks).is_empty());
    }
}
