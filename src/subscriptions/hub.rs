//! Fan-out: clients with the same subscription (operation, variables, topic, schema generation)
//! share one event source and one execution per event.
//!
//! Each shared subscription is one task writing complete responses into a bounded ring (see
//! [`super::ring`]); each client reads the ring at its own pace. The ring is the client's queue: a
//! client more than [`CLIENT_QUEUE`] responses behind has lost responses, and one whose stream
//! has more than `limits.max_stream_queue_bytes` waiting across its subscriptions is dropped;
//! either gets one final error and its stream ends, while the task and every other client carry
//! on. Memory per shared subscription is bounded by the ring, whatever the clients do.
//!
//! Clients hold the shared state; when the last one goes, its drop stops the task, which drops
//! the event source (unsubscribing from the bridge) and leaves the registry.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use bytes::Bytes;
use futures::future::{BoxFuture, FutureExt};
use futures::{Stream, StreamExt};
use tokio::sync::oneshot;

use super::ring::{Delivery, Read, Ring};
use super::ResponseStream;
use crate::context::StreamQueue;
use crate::response::GraphqlError;

/// Responses one client may have waiting; a client further behind is closed with an error.
pub const CLIENT_QUEUE: usize = 256;

/// What identifies a shareable subscription. Everything that can change a response is in it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ShareKey {
    /// The planned operation's address, unique while the subscription holds it: it stands for
    /// the document, the operation name, the override labels and the schema generation.
    pub operation: usize,
    /// The coerced variables as JSON text (object keys sorted, so equal values give equal text).
    pub variables: String,
    /// What the header rules forward for the client (see `Subgraphs::forwarded_fingerprint`):
    /// clients the subgraphs would tell apart never share.
    pub forwarded: u64,
    pub source: String,
}

type Registry = Mutex<HashMap<ShareKey, Weak<Shared>>>;

/// Every shared subscription of a gateway.
#[derive(Clone, Default)]
pub struct Hub {
    registry: Arc<Registry>,
    /// Clients closed for falling behind, ever (for `/metrics`).
    slow_clients: Arc<AtomicU64>,
}

/// One shared subscription, held by its clients.
pub struct Shared {
    key: ShareKey,
    registry: Weak<Registry>,
    ring: Arc<Ring>,
    /// The start, run as its own task by the first client and awaited by every client: a
    /// client that leaves while it runs cancels nothing for the others.
    starting: Mutex<Option<Starting>>,
    /// Taken by the task; the sender half below stops the task when this is dropped.
    stop_signal: Mutex<Option<oneshot::Receiver<()>>>,
    _stop: oneshot::Sender<()>,
    /// The task has ended (source finished or failed to start): new clients start afresh.
    finished: Arc<AtomicBool>,
}

type Starting = futures::future::Shared<BoxFuture<'static, Result<(), GraphqlError>>>;

/// What the task of a shared subscription works with. Dropped in any way (the source ended, the
/// task was stopped or failed), it ends the clients' streams after what they have not read yet.
pub struct Feed {
    ring: Arc<Ring>,
    stop: oneshot::Receiver<()>,
    finished: Arc<AtomicBool>,
}

impl Hub {
    /// Joins the shared subscription of `key`, creating it if there is none; the client is in
    /// the ring before anything can be sent, so it misses nothing after joining. `queue` counts
    /// what its stream has waiting across the stream's subscriptions, `limit` how much may wait.
    pub fn join(&self, key: ShareKey, queue: Arc<StreamQueue>, limit: usize) -> Client {
        let mut registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(shared) = registry.get(&key).and_then(Weak::upgrade) {
            if !shared.finished.load(Ordering::Acquire) {
                let reader = shared.ring.join(queue, limit);
                return Client { shared, reader };
            }
        }
        let ring = Arc::new(Ring::new(CLIENT_QUEUE, self.slow_clients.clone()));
        let reader = ring.join(queue, limit);
        let (stop, stop_signal) = oneshot::channel();
        let shared = Arc::new(Shared {
            key: key.clone(),
            registry: Arc::downgrade(&self.registry),
            ring,
            starting: Mutex::new(None),
            stop_signal: Mutex::new(Some(stop_signal)),
            _stop: stop,
            finished: Arc::default(),
        });
        registry.insert(key, Arc::downgrade(&shared));
        Client { shared, reader }
    }

    /// Clients closed so far for falling behind (their queue's length or their stream's bytes).
    pub fn slow_clients(&self) -> u64 {
        self.slow_clients.load(Ordering::Relaxed)
    }

    /// How many shared subscriptions are running (for tests and metrics).
    pub fn active(&self) -> usize {
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        registry.values().filter(|w| w.strong_count() > 0).count()
    }
}

/// One client's place in a shared subscription.
pub struct Client {
    shared: Arc<Shared>,
    reader: u64,
}

impl Client {
    /// Starts the shared task the first time; later clients wait for that start and share its
    /// outcome. `start` gets the feed and must hand it a source (see [`Feed::run`]).
    pub async fn start<F, Fut>(&self, start: F) -> Result<(), GraphqlError>
    where
        F: FnOnce(Feed) -> Fut,
        Fut: std::future::Future<Output = Result<(), GraphqlError>> + Send + 'static,
    {
        let shared = &self.shared;
        let starting = {
            let mut slot = shared.starting.lock().unwrap_or_else(|e| e.into_inner());
            match &*slot {
                Some(starting) => starting.clone(),
                None => {
                    let stop = shared
                        .stop_signal
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .take();
                    let starting = match stop {
                        Some(stop) => {
                            let feed = Feed {
                                ring: shared.ring.clone(),
                                stop,
                                finished: shared.finished.clone(),
                            };
                            let task = tokio::spawn(start(feed));
                            async move {
                                task.await.unwrap_or_else(|e| {
                                    Err(GraphqlError::new(
                                        format!("the subscription failed to start: {e}"),
                                        "INTERNAL_SERVER_ERROR",
                                    ))
                                })
                            }
                            .boxed()
                            .shared()
                        }
                        None => futures::future::ready(Err(GraphqlError::new(
                            "the subscription was already started",
                            "INTERNAL_SERVER_ERROR",
                        )))
                        .boxed()
                        .shared(),
                    };
                    *slot = Some(starting.clone());
                    starting
                }
            }
        };
        let outcome = starting.await;
        if outcome.is_err() {
            shared.finished.store(true, Ordering::Release);
        }
        outcome
    }

    /// The client's responses: each shared response in order, then the end; or, for a client
    /// that fell more than [`CLIENT_QUEUE`] responses or its stream's byte budget behind, one
    /// error response and the end.
    pub fn into_stream(self) -> ResponseStream {
        futures::stream::unfold(Some(self), |client| async move {
            let client = client?;
            let message = match client.shared.ring.read(client.reader).await {
                Read::Item(Delivery::Response(body)) => return Some((body, Some(client))),
                Read::Item(Delivery::Complete) | Read::Empty => return None,
                Read::Lagged(lost) => {
                    tracing::warn!(lost, "subscription client too slow; closing it");
                    format!(
                        "this client fell more than {CLIENT_QUEUE} responses behind and lost \
                         {lost}; the subscription is closed"
                    )
                }
                Read::Evicted { limit } => {
                    tracing::warn!(limit, "subscription client too slow; closing it");
                    format!(
                        "this client had more than {limit} bytes of responses waiting \
                         (limits.max_stream_queue_bytes); the subscription is closed"
                    )
                }
            };
            let error = GraphqlError::new(message, "SUBSCRIPTION_CLIENT_TOO_SLOW");
            let body = crate::execute::shape::errors_body(&[error]);
            Some((Bytes::from(body), None))
        })
        .boxed()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.shared.ring.leave(self.reader);
    }
}

impl Feed {
    /// Delivers `responses` to the clients until the source ends or the last client leaves.
    pub async fn run(mut self, responses: impl Stream<Item = Bytes> + Send) {
        let mut responses = std::pin::pin!(responses);
        loop {
            tokio::select! {
                // Resolves (with an error) when the last client drops the shared state.
                _ = &mut self.stop => break,
                next = responses.next() => match next {
                    Some(body) => self.ring.push(Delivery::Response(body)),
                    None => {
                        self.finished.store(true, Ordering::Release);
                        break;
                    }
                }
            }
        }
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        // However the task ended (a panic included): later clients start afresh.
        self.finished.store(true, Ordering::Release);
        self.ring.end();
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        let Some(registry) = self.registry.upgrade() else {
            return;
        };
        let mut registry = registry.lock().unwrap_or_else(|e| e.into_inner());
        // A newer subscription may have taken the key after this one was abandoned.
        if registry
            .get(&self.key)
            .is_some_and(|weak| weak.strong_count() == 0)
        {
            registry.remove(&self.key);
        }
    }
}
