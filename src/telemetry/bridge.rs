//! Counting the bridge's traffic without the backends knowing: the gateway's bridge is wrapped
//! once, so every publish and every event a subscription receives passes through here.

use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::StreamExt;

use super::Metrics;
use crate::bridge::{Bridge, BridgeError, BridgeStats, EventStream, SharedBridge};

pub struct CountedBridge {
    inner: SharedBridge,
    metrics: Arc<Metrics>,
}

impl CountedBridge {
    pub fn wrap(inner: SharedBridge, metrics: Arc<Metrics>) -> SharedBridge {
        Arc::new(CountedBridge { inner, metrics })
    }
}

impl Bridge for CountedBridge {
    fn publish<'a>(
        &'a self,
        topic: &'a str,
        payload: Bytes,
    ) -> BoxFuture<'a, Result<(), BridgeError>> {
        Box::pin(async move {
            self.inner.publish(topic, payload).await?;
            self.metrics.bridge_event_out();
            Ok(())
        })
    }

    fn subscribe<'a>(&'a self, topic: &'a str) -> BoxFuture<'a, Result<EventStream, BridgeError>> {
        Box::pin(async move {
            let events = self.inner.subscribe(topic).await?;
            let metrics = self.metrics.clone();
            Ok(events
                .inspect(move |event| {
                    if event.is_ok() {
                        metrics.bridge_event_in()
                    }
                })
                .boxed())
        })
    }

    fn stats(&self) -> BridgeStats {
        self.inner.stats()
    }
}
