//! The bridge: the pub/sub layer between services that announce events and the gateways whose
//! clients subscribe to them.
//!
//! A [`Bridge`] is deliberately small — publish bytes to a topic, subscribe to a topic as a
//! stream — so that an embedding application can bring its own. Seam ships three, chosen by
//! `bridge.backend` in the config: [`memory`] (in-process, the default), [`redis`] (Pub/Sub) and
//! [`nats`] (core subjects).

mod fanout;
pub mod memory;
pub mod nats;
pub mod redis;

use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;

/// The events of one topic, in publication order. Dropping the stream unsubscribes; a backend
/// keeps one upstream subscription per topic however many streams are open.
pub type EventStream = BoxStream<'static, Result<Bytes, EventsLost>>;

/// This many events were dropped for one stream because it read slower than they came (a
/// backend buffers a bounded number per stream); the stream goes on with the next. Seam tells
/// the clients of the subscription reading it (`SUBSCRIPTION_EVENTS_LOST`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventsLost(pub u64);

#[derive(Debug, Clone, thiserror::Error)]
pub enum BridgeError {
    /// The backend cannot be reached (connection refused, dropped, timed out).
    #[error("the {backend} bridge is unavailable: {message}")]
    Unavailable {
        backend: &'static str,
        message: String,
    },
    /// The topic is not one the backend accepts (empty, or characters it forbids).
    #[error("invalid topic `{topic}`: {message}")]
    InvalidTopic { topic: String, message: String },
}

impl BridgeError {
    /// The error code a client gets: a topic the backend refuses is the request's fault, an
    /// unreachable backend is not.
    pub fn code(&self) -> &'static str {
        match self {
            BridgeError::Unavailable { .. } => "BRIDGE_UNAVAILABLE",
            BridgeError::InvalidTopic { .. } => "INVALID_EVENT_TOPIC",
        }
    }

    /// What a client is told: the backend's own words (a socket error naming the private
    /// network's addresses) stay in the log.
    pub fn client_message(&self) -> String {
        match self {
            BridgeError::Unavailable { backend, .. } => {
                format!("the {backend} bridge is unavailable")
            }
            invalid @ BridgeError::InvalidTopic { .. } => invalid.to_string(),
        }
    }
}

pub trait Bridge: Send + Sync + 'static {
    /// Publishes one event; resolves once the backend has taken it.
    fn publish<'a>(
        &'a self,
        topic: &'a str,
        payload: Bytes,
    ) -> BoxFuture<'a, Result<(), BridgeError>>;

    /// Subscribes to `topic`; events published after this resolves are delivered.
    fn subscribe<'a>(&'a self, topic: &'a str) -> BoxFuture<'a, Result<EventStream, BridgeError>>;

    /// Connection health counters, for metrics and tests. A backend without a connection (the
    /// in-process one) has nothing to count.
    fn stats(&self) -> BridgeStats {
        BridgeStats::default()
    }
}

/// How often a networked bridge lost its server and came back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BridgeStats {
    /// Connections re-established after a loss.
    pub reconnects: u64,
    /// Losses while at least one topic had subscribers: each is a window in which events
    /// published by others were not received (Pub/Sub keeps no history to replay).
    pub gaps: u64,
}

pub type SharedBridge = Arc<dyn Bridge>;

/// The bridge the config names. Redis and NATS connect lazily and reconnect on their own, so a
/// backend that is down at startup is reported by the first publish or subscribe, not here;
/// only a url the client library cannot read is an error now.
pub fn from_config(config: &crate::config::BridgeConfig) -> Result<SharedBridge, BridgeError> {
    use crate::config::BridgeBackend;
    let prefix = config.prefix.clone().unwrap_or_default();
    let url = || {
        config.url.clone().ok_or_else(|| BridgeError::Unavailable {
            backend: config.backend.as_str(),
            message: "no `bridge.url` is configured".to_owned(),
        })
    };
    match config.backend {
        BridgeBackend::Memory => Ok(Arc::new(memory::MemoryBridge::new())),
        BridgeBackend::Redis => Ok(Arc::new(redis::RedisBridge::new(&url()?, prefix)?)),
        BridgeBackend::Nats => Ok(Arc::new(nats::NatsBridge::new(url()?, prefix))),
    }
}
