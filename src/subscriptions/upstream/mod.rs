//! Subscriptions that a subgraph resolves itself, over `graphql-transport-ws`.
//!
//! [`Upstreams`] keeps one WebSocket per subgraph URL and multiplexes every subscription to that
//! subgraph over it. Identical subscriptions (same URL, query and variables) are sent upstream
//! once and fanned out to every local stream, because a thousand clients watching the same field
//! should cost the subgraph one subscription, not a thousand. The upstream subscription is
//! completed when its last local stream is dropped, and the socket is closed when it carries no
//! subscription any more.

mod connection;
mod protocol;

use crate::telemetry::redact::loggable_url;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures::stream::{self, BoxStream, StreamExt};
use http::HeaderMap;
use serde_json::{Map, Value};
use tokio::sync::{broadcast, mpsc, watch};

/// The events of one upstream subscription as one local consumer sees them. It ends after the
/// subgraph completes the subscription, after an [`UpstreamEvent::Failed`], or after the errors
/// of a subscription the subgraph refused.
pub type UpstreamStream = BoxStream<'static, UpstreamEvent>;

#[derive(Debug, Clone, PartialEq)]
pub enum UpstreamEvent {
    /// The `data` object of a `next` payload.
    Data(Value),
    /// The GraphQL errors of a `next` payload (partial data is not passed on), or of an `error`
    /// message, after which the stream ends.
    Errors(Vec<Value>),
    /// This consumer fell more than [`UpstreamOptions::buffer`] events behind and this many of
    /// the oldest were dropped; the events after them follow.
    Lost(u64),
    /// The socket or the protocol failed. Always the last item.
    Failed(String),
}

impl UpstreamError {
    /// What went wrong without the URL or the socket's own words, which can describe the
    /// private network: for clients, while the whole error goes to the log.
    pub fn reason(&self) -> &'static str {
        match self {
            UpstreamError::InvalidUrl { .. } => "its subscription URL is not valid",
            UpstreamError::Connect { .. } => "could not connect",
            UpstreamError::Handshake { .. } => "it did not accept the subscription connection",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    #[error("invalid subscription URL `{}`: {message}", loggable_url(url))]
    InvalidUrl { url: String, message: String },
    /// TCP, TLS or the WebSocket handshake failed or timed out.
    #[error(
        "cannot open a subscription socket to `{}`: {message}",
        loggable_url(url)
    )]
    Connect { url: String, message: String },
    /// The socket opened but the `connection_init` handshake did not succeed.
    #[error(
        "`{}` did not accept the subscription connection: {message}",
        loggable_url(url)
    )]
    Handshake { url: String, message: String },
}

/// Limits of the upstream client. The defaults suit a gateway; tests shorten them.
#[derive(Debug, Clone)]
pub struct UpstreamOptions {
    /// For TCP connect plus the WebSocket handshake.
    pub connect_timeout: Duration,
    /// For the subgraph's `connection_ack` after our `connection_init`.
    pub ack_timeout: Duration,
    /// Events one consumer may be behind the newest before the oldest are dropped for it (it gets
    /// [`UpstreamEvent::Lost`] and carries on). The events sit once in a ring per upstream
    /// subscription, so memory is bounded by this times the number of distinct upstream
    /// subscriptions, whatever the number of consumers.
    pub buffer: usize,
    /// How often Seam pings the subgraph; a socket that has sent nothing at all (not even the
    /// `pong`) for a whole interval after a ping is given up, because a subgraph whose host
    /// vanished never closes the socket itself. `None` never pings.
    pub keepalive: Option<Duration>,
}

impl Default for UpstreamOptions {
    fn default() -> Self {
        UpstreamOptions {
            connect_timeout: Duration::from_secs(5),
            ack_timeout: Duration::from_secs(5),
            buffer: 1024,
            keepalive: Some(Duration::from_secs(15)),
        }
    }
}

/// The upstream subscription client of one gateway. Clones share the connections.
#[derive(Clone, Default)]
pub struct Upstreams {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Upstreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("Upstreams")
            .field("connections", &state.connections.len())
            .finish()
    }
}

#[derive(Default)]
struct Shared {
    options: UpstreamOptions,
    /// Ids are unique across connections too, so a log line names one subscription.
    next_id: AtomicU64,
    state: Mutex<State>,
}

/// Who is subscribed to what. Both the consumers (when they drop) and the connection tasks (when
/// a subscription or the socket ends) change it, always under the lock and never across an await.
#[derive(Default)]
struct State {
    connections: HashMap<Arc<str>, ConnectionEntry>,
}

struct ConnectionEntry {
    /// Shared with the consumers, which need it to find their way back when they drop.
    url: Arc<str>,
    /// Tells this connection from a later one to the same URL, so that a task that failed does
    /// not remove its successor.
    serial: u64,
    /// Dropping the sender (by removing the entry) tells the task to close the socket.
    commands: mpsc::UnboundedSender<Command>,
    ready: watch::Receiver<Readiness>,
    /// Keys are shared with the consumers rather than each holding a copy of the query text.
    operations: HashMap<Arc<OperationKey>, Operation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct OperationKey {
    query: String,
    /// Canonical JSON (object keys sorted), so that the same variables in another order share.
    variables: String,
}

struct Operation {
    id: u64,
    events: broadcast::Sender<Item>,
    consumers: usize,
}

/// What the connection task puts into an operation's ring. Events are behind an `Arc` so that the
/// ring holds each once; every consumer clones the JSON when it takes it out.
#[derive(Debug, Clone)]
enum Item {
    Event(Arc<UpstreamEvent>),
    /// The subgraph completed the subscription.
    End,
}

enum Command {
    Subscribe {
        id: u64,
        message: String,
        events: broadcast::Sender<Item>,
    },
    Complete {
        id: u64,
    },
}

#[derive(Debug, Clone)]
enum Readiness {
    Connecting,
    Ready,
    Failed(UpstreamError),
}

impl Upstreams {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_options(options: UpstreamOptions) -> Self {
        Upstreams {
            shared: Arc::new(Shared {
                options,
                ..Shared::default()
            }),
        }
    }

    /// Subscribes to `query` at the `graphql-transport-ws` endpoint `url`, joining an identical
    /// subscription already running. Resolves once the connection is acknowledged, so a subgraph
    /// that is down is an `Err` here (within the connect and ack timeouts) rather than a stream
    /// that fails at once.
    ///
    /// `headers` go with the WebSocket handshake. Sockets are shared only between subscriptions
    /// with the same headers, because a subgraph authorises a connection by what it carried.
    pub async fn subscribe(
        &self,
        url: &str,
        headers: HeaderMap,
        query: &str,
        variables: Map<String, Value>,
    ) -> Result<UpstreamStream, UpstreamError> {
        self.subscribe_traced(url, headers, HeaderMap::new(), query, variables)
            .await
    }

    /// [`UpstreamClient::subscribe`] with the subscription's W3C trace headers (`traceparent`,
    /// `tracestate`). They go with the handshake of a socket this subscription opens, but are
    /// not part of what decides sharing: every subscription has a trace of its own, and
    /// sockets would never be shared if it counted. A socket shared by later subscriptions
    /// keeps the trace of the one that opened it.
    pub async fn subscribe_traced(
        &self,
        url: &str,
        headers: HeaderMap,
        trace: HeaderMap,
        query: &str,
        variables: Map<String, Value>,
    ) -> Result<UpstreamStream, UpstreamError> {
        check_url(url)?;
        let connection_key = connection_key(url, &headers);
        let key = Arc::new(OperationKey {
            query: query.to_owned(),
            variables: canonical_json(&Value::Object(variables.clone())),
        });
        let (events, consumer, mut ready) = {
            let mut state = self.shared.lock();
            let connection = match state.connections.get_mut(&connection_key) {
                Some(connection) => connection,
                None => {
                    let mut handshake = headers;
                    handshake.extend(trace);
                    let connection = connection::spawn(
                        self.shared.clone(),
                        connection_key.clone(),
                        Arc::from(url),
                        handshake,
                    );
                    state
                        .connections
                        .entry(connection.url.clone())
                        .or_insert(connection)
                }
            };
            let (key, operation) = match connection.operations.entry(key) {
                Entry::Occupied(entry) => (entry.key().clone(), entry.into_mut()),
                Entry::Vacant(entry) => {
                    let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed) + 1;
                    let (events, _) = broadcast::channel(self.shared.options.buffer.max(1));
                    // The task ends only after its entry has left the registry, so this send
                    // cannot fail while we see the entry under the lock; a queued subscribe is
                    // failed by the task if the socket dies before it is sent.
                    let _ = connection.commands.send(Command::Subscribe {
                        id,
                        message: protocol::subscribe(id, query, &variables),
                        events: events.clone(),
                    });
                    let key = entry.key().clone();
                    let operation = entry.insert(Operation {
                        id,
                        events,
                        consumers: 0,
                    });
                    (key, operation)
                }
            };
            operation.consumers += 1;
            let consumer = Consumer {
                shared: self.shared.clone(),
                url: connection.url.clone(),
                serial: connection.serial,
                key,
                id: operation.id,
            };
            (
                operation.events.subscribe(),
                consumer,
                connection.ready.clone(),
            )
        };
        // From here on, returning early drops `consumer`, which gives the subscription back.
        loop {
            match &*ready.borrow_and_update() {
                Readiness::Ready => break,
                Readiness::Failed(error) => return Err(error.clone()),
                Readiness::Connecting => {}
            }
            if ready.changed().await.is_err() {
                return Err(UpstreamError::Handshake {
                    url: url.to_owned(),
                    message: "the connection ended during the handshake".to_owned(),
                });
            }
        }
        Ok(consumer_stream(events, consumer))
    }

    /// How many sockets are open or opening (for tests and metrics).
    pub fn connection_count(&self) -> usize {
        self.shared.lock().connections.len()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent across a panic elsewhere: every change is a single insert
        // or remove, so a poisoned lock is still safe to use.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets operation `id` once the subgraph ended it, so that a later identical subscribe
    /// starts a new one instead of joining a finished one. Closes the socket if it was the last.
    fn forget_operation(&self, url: &str, serial: u64, id: u64) {
        let mut state = self.lock();
        let Some(connection) = state.connections.get_mut(url) else {
            return;
        };
        if connection.serial != serial {
            return;
        }
        connection
            .operations
            .retain(|_, operation| operation.id != id);
        if connection.operations.is_empty() {
            state.connections.remove(url);
        }
    }

    /// Forgets a connection that failed, so the next subscribe opens a new one.
    fn forget_connection(&self, url: &str, serial: u64) {
        let mut state = self.lock();
        if state.connections.get(url).map(|c| c.serial) == Some(serial) {
            state.connections.remove(url);
        }
    }
}

/// The registry key of a socket: its URL, and the headers it opens with in a canonical order.
fn connection_key(url: &str, headers: &HeaderMap) -> Arc<str> {
    if headers.is_empty() {
        return Arc::from(url);
    }
    let mut pairs: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect();
    pairs.sort();
    let mut key = url.to_owned();
    for (name, value) in pairs {
        key.push('\n');
        key.push_str(name);
        key.push(':');
        key.push_str(&String::from_utf8_lossy(value));
    }
    Arc::from(key)
}

/// One local stream's share of an upstream subscription; dropping it gives the share back.
struct Consumer {
    shared: Arc<Shared>,
    url: Arc<str>,
    serial: u64,
    key: Arc<OperationKey>,
    id: u64,
}

impl Drop for Consumer {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        let Some(connection) = state.connections.get_mut(&self.url) else {
            return;
        };
        if connection.serial != self.serial {
            return;
        }
        let Some(operation) = connection.operations.get_mut(&self.key) else {
            return;
        };
        if operation.id != self.id {
            return;
        }
        operation.consumers -= 1;
        if operation.consumers > 0 {
            return;
        }
        connection.operations.remove(&self.key);
        let _ = connection.commands.send(Command::Complete { id: self.id });
        if connection.operations.is_empty() {
            // Dropping the command sender lets the task send the `complete` above, then close.
            state.connections.remove(&self.url);
        }
    }
}

fn consumer_stream(events: broadcast::Receiver<Item>, consumer: Consumer) -> UpstreamStream {
    stream::unfold(Some((events, consumer)), |state| async move {
        let (mut events, consumer) = state?;
        match events.recv().await {
            Ok(Item::Event(event)) => {
                let event = UpstreamEvent::clone(&event);
                let last = matches!(event, UpstreamEvent::Failed(_));
                Some((event, (!last).then_some((events, consumer))))
            }
            Ok(Item::End) => None,
            Err(broadcast::error::RecvError::Lagged(lost)) => {
                Some((UpstreamEvent::Lost(lost), Some((events, consumer))))
            }
            // The task always ends an operation with `End` or `Failed`; this is the safety net
            // that keeps a consumer from waiting forever if it did not.
            Err(broadcast::error::RecvError::Closed) => Some((
                UpstreamEvent::Failed("the upstream subscription ended unexpectedly".to_owned()),
                None,
            )),
        }
    })
    .boxed()
}

fn check_url(url: &str) -> Result<(), UpstreamError> {
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    match scheme {
        Some("ws") | Some("wss") => Ok(()),
        _ => Err(UpstreamError::InvalidUrl {
            url: url.to_owned(),
            message: "expected a ws:// or wss:// URL".to_owned(),
        }),
    }
}

/// JSON with object keys sorted at every level, independent of how `serde_json::Map` orders them
/// in this build (another crate may switch on `preserve_order`).
fn canonical_json(value: &Value) -> String {
    fn write(value: &Value, out: &mut String) {
        match value {
            Value::Object(object) => {
                let mut entries: Vec<_> = object.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                out.push('{');
                for (index, (key, value)) in entries.into_iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(key.clone()).to_string());
                    out.push(':');
                    write(value, out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_ignores_key_order() {
        let a = json!({ "b": [1, { "y": 2, "x": 1 }], "a": "s" });
        let b = json!({ "a": "s", "b": [1, { "x": 1, "y": 2 }] });
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(canonical_json(&a), r#"{"a":"s","b":[1,{"x":1,"y":2}]}"#);
    }

    #[test]
    fn only_websocket_urls_are_accepted() {
        assert!(check_url("ws://127.0.0.1:1/ws").is_ok());
        assert!(check_url("wss://example.com/ws").is_ok());
        assert!(matches!(
            check_url("http://example.com/graphql"),
            Err(UpstreamError::InvalidUrl { .. })
        ));
    }
}
