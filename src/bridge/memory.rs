//! The in-process bridge: one broadcast channel per topic, created on first use and removed when
//! its last subscriber leaves.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::future::BoxFuture;
use tokio::sync::broadcast;

use super::fanout::{shared_stream, TOPIC_CAPACITY};
use super::{Bridge, BridgeError, EventStream};

type Topics = Arc<Mutex<HashMap<String, broadcast::Sender<Bytes>>>>;

#[derive(Default, Clone)]
pub struct MemoryBridge {
    topics: Topics,
}

impl MemoryBridge {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many topics have subscribers; for tests of cleanup.
    pub fn topic_count(&self) -> usize {
        lock(&self.topics).len()
    }
}

fn lock(topics: &Topics) -> std::sync::MutexGuard<'_, HashMap<String, broadcast::Sender<Bytes>>> {
    topics.lock().unwrap_or_else(|e| e.into_inner())
}

/// Held by each stream of a topic; the last one to go removes the topic, so topics named after
/// client arguments do not pile up.
struct TopicShare {
    topics: Topics,
    topic: String,
}

impl Drop for TopicShare {
    fn drop(&mut self) {
        let mut topics = lock(&self.topics);
        // The stream's own receiver is already gone (it is dropped before its share).
        if topics
            .get(&self.topic)
            .is_some_and(|sender| sender.receiver_count() == 0)
        {
            topics.remove(&self.topic);
        }
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
            if let Some(sender) = lock(&self.topics).get(topic) {
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
            let receiver = lock(&self.topics)
                .entry(topic.to_owned())
                .or_insert_with(|| broadcast::channel(TOPIC_CAPACITY).0)
                .subscribe();
            let share = TopicShare {
                topics: self.topics.clone(),
                topic: topic.to_owned(),
            };
            Ok(shared_stream(receiver, "memory", topic, share))
        })
    }
}

fn empty_topic() -> BridgeError {
    BridgeError::InvalidTopic {
        topic: String::new(),
        message: "a topic must not be empty".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_topic_lives_as_long_as_its_streams() {
        let bridge = MemoryBridge::new();
        let first = bridge.subscribe("t").await.expect("subscribed");
        let second = bridge.subscribe("t").await.expect("subscribed");
        assert_eq!(bridge.topic_count(), 1);
        drop(first);
        assert_eq!(bridge.topic_count(), 1);
        drop(second);
        assert_eq!(bridge.topic_count(), 0);
        // Publishing to a topic nobody listens to is fine and creates nothing.
        bridge
            .publish("t", Bytes::from_static(b"{}"))
            .await
            .expect("published");
        assert_eq!(bridge.topic_count(), 0);
    }
}
