//! A response body that streams framed GraphQL responses with heartbeats in between: the shape
//! SSE and multipart share. Only one frame is produced at a time, when hyper asks for it, so a
//! slow reader holds back the (bounded) response stream instead of growing a buffer here.
//!
//! When the server shuts down, the stream ends as if the operation had: with the protocol's end
//! frame, so the client knows it was told everything and need not treat it as a failure.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use futures::stream::{self, StreamExt};
use tokio::time::{interval_at, Instant, Interval, MissedTickBehavior};

use tokio_util::sync::CancellationToken;

use super::clients::StreamingSlot;
use crate::subscriptions::ResponseStream;

/// How one protocol frames its parts.
#[derive(Clone, Copy)]
pub(super) struct Framing {
    /// Sent at once when the stream starts (may be empty).
    pub start: &'static [u8],
    /// Wraps one response body.
    pub frame: fn(Bytes) -> Bytes,
    /// Sent when nothing else was for `every`.
    pub heartbeat: &'static [u8],
    /// Sent once after the last response (nothing when empty).
    pub end: &'static [u8],
    pub every: Duration,
}

enum State {
    Streaming {
        responses: ResponseStream,
        ticks: Interval,
        shutdown: CancellationToken,
        /// Counts this stream among the open streaming clients until the body is dropped.
        slot: StreamingSlot,
    },
    Ended,
}

pub(super) fn framed_body(
    responses: ResponseStream,
    framing: Framing,
    slot: StreamingSlot,
    shutdown: CancellationToken,
) -> Body {
    let mut ticks = interval_at(Instant::now() + framing.every, framing.every);
    // After a stall, one heartbeat is enough; a burst of them would say nothing more.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let initial = State::Streaming {
        responses,
        ticks,
        shutdown,
        slot,
    };
    let frames = stream::unfold(initial, move |state| async move {
        let State::Streaming {
            mut responses,
            mut ticks,
            shutdown,
            slot,
        } = state
        else {
            return None;
        };
        let chunk = tokio::select! {
            biased;
            () = shutdown.cancelled() => return end(framing),
            next = responses.next() => match next {
                Some(body) => {
                    ticks.reset();
                    (framing.frame)(body)
                }
                None => return end(framing),
            },
            _ = ticks.tick() => Bytes::from_static(framing.heartbeat),
        };
        let state = State::Streaming {
            responses,
            ticks,
            shutdown,
            slot,
        };
        Some((chunk, state))
    });
    let start = (!framing.start.is_empty()).then(|| Bytes::from_static(framing.start));
    Body::from_stream(stream::iter(start).chain(frames).map(Ok::<_, Infallible>))
}

/// The end frame, then nothing.
fn end(framing: Framing) -> Option<(Bytes, State)> {
    (!framing.end.is_empty()).then(|| (Bytes::from_static(framing.end), State::Ended))
}
