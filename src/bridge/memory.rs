//! The in-process bridge: one broadcast channel per topic, created on first use and removed when
//! its last subscriber leaves.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::StreamExt;
use tokio::sync::broadcast;

use super::{Bridge, BridgeError, EventStream};

/// Events a topic buffers for a subscriber that has not read them yet. Subscribers are the
/// gateway's own fan-out tasks, which read continuously; a lagging one loses the oldest events
/// and the loss is logged.
const TOPIC_CAPACITY: usize = 4096;

#[derive(Default, Clone)]
pub struct MemoryBridge {
    topics: Arc<Mutex<HashMap<String, broadcast::Sender<Bytes>>>>,
}

impl MemoryBridge {
    pub fn new() -> Self {
        Self::default()
    }

    fn sender(&self, topic: &str) -> broadcast::Sender<Bytes> {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        topics
            .entry(topic.to_owned())
            .or_insert_with(|| broadcast::channel(TOPIC_CAPACITY).0)
            .clone()
    }

    /// How many topics have subscribers; for tests of cleanup.
    pub fn topic_count(&self) -> usize {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        topics.retain(|_, sender| sender.receiver_count() > 0);
        topics.len()
    }
}

impl Bridge for MemoryBridge {
    fn publish<'a>(
        &'a self,
        topic: &'a str,
        payload: Bytes,
    ) -> BoxFuture<'a, Result<(), BridgeError>> {
        Box::pin(async move {
            // Refused like `subscribe` does, so a publisher learns of the mistake whatever the
            // backend.
            if topic.is_empty() {
                return Err(empty_topic());
            }
            let topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(sender) = topics.get(topic) {
                // No receiver is not an error: nobody listens to this topic right now.
                let _ = sender.send(payload);
            }
            Ok(())
        })
    }

    fn subscribe<'a>(&'a self, topic: &'a str) -> BoxFuture<'a, Result<EventStream, BridgeError>> {
        Box::pin(async move {
            if topic.is_empty() {
                return Err(empty_topic());
            }
            let receiver = self.sender(topic).subscribe();
            let name = topic.to_owned();
            let stream = tokio_stream::wrappers::BroadcastStream::new(receiver).filter_map(
                move |item| {
                    let name = name.clone();
                    async move {
                        match item {
                            Ok(payload) => Some(payload),
                            Err(tokio_stream::wrappers::errors::BroadcastStreamRecvError::Lagged(n)) => {
                                tracing::warn!(topic = %name, lost = n, "memory bridge subscriber lagged");
                                None
                            }
                        }
                    }
                },
            );
            Ok(stream.boxed())
        })
    }
}

fn empty_topic() -> BridgeError {
    BridgeError::InvalidTopic {
        topic: String::new(),
        message: "a topic must not be empty".to_owned(),
    }
}
