//! The bridge: the pub/sub layer between services that announce events and the gateways whose
//! clients subscribe to them.
//!
//! A [`Bridge`] is deliberately small — publish bytes to a topic, subscribe to a topic as a
//! stream — so that an embedding application can bring its own. Seam ships three, chosen by
//! `bridge.backend` in the config: [`memory`] (in-process, the default), `redis` (Pub/Sub) and
//! `nats` (core subjects).

pub mod memory;

use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;

/// The events of one topic, in publication order. Dropping the stream unsubscribes; a backend
/// keeps one upstream subscription per topic however many streams are open.
pub type EventStream = BoxStream<'static, Bytes>;

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

pub trait Bridge: Send + Sync + 'static {
    /// Publishes one event; resolves once the backend has taken it.
    fn publish<'a>(
        &'a self,
        topic: &'a str,
        payload: Bytes,
    ) -> BoxFuture<'a, Result<(), BridgeError>>;

    /// Subscribes to `topic`; events published after this resolves are delivered.
    fn subscribe<'a>(&'a self, topic: &'a str) -> BoxFuture<'a, Result<EventStream, BridgeError>>;
}

pub type SharedBridge = Arc<dyn Bridge>;

/// The bridge the config names. Redis and NATS connect lazily and reconnect on their own, so a
/// backend that is down at startup is reported by the first publish or subscribe, not here.
pub fn from_config(config: &crate::config::BridgeConfig) -> Result<SharedBridge, BridgeError> {
    use crate::config::BridgeBackend;
    match config.backend {
        BridgeBackend::Memory => Ok(Arc::new(memory::MemoryBridge::new())),
        BridgeBackend::Redis | BridgeBackend::Nats => Err(BridgeError::Unavailable {
            backend: if config.backend == BridgeBackend::Redis {
                "redis"
            } else {
                "nats"
            },
            message: "this backend is not built in yet".to_owned(),
        }),
    }
}
