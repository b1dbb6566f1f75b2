//! What the networked backends share: one upstream subscription per topic fans out to every
//! local stream through a broadcast channel, and a stream releases its share when dropped.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::sync::broadcast;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;

use super::{EventStream, EventsLost};

/// Events a topic buffers for a local stream that has not read them yet. Streams are read by
/// the gateway's own fan-out tasks, which read continuously; one that lags loses the oldest
/// events, and reads how many it lost ([`super::EventsLost`]).
pub(super) const TOPIC_CAPACITY: usize = 4096;

/// The events `receiver` gets, ending never on its own (the sender lives as long as the topic
/// has streams), holding `share` until the stream is dropped.
pub(super) fn shared_stream(
    receiver: broadcast::Receiver<Bytes>,
    backend: &'static str,
    topic: &str,
    share: impl Send + 'static,
) -> EventStream {
    let topic = topic.to_owned();
    let events = BroadcastStream::new(receiver).map(move |item| match item {
        Ok(payload) => Ok(payload),
        Err(BroadcastStreamRecvError::Lagged(lost)) => {
            tracing::warn!(backend, topic = %topic, lost, "bridge subscriber lagged; events dropped");
            Err(EventsLost(lost))
        }
    });
    Shared {
        events: events.boxed(),
        _share: Box::new(share),
    }
    .boxed()
}

/// A stream that keeps its topic subscription alive: dropping it drops the share, whose `Drop`
/// gives the subscription back.
struct Shared {
    events: EventStream,
    _share: Box<dyn Send>,
}

impl Stream for Shared {
    type Item = Result<Bytes, EventsLost>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.events.poll_next_unpin(cx)
    }
}
