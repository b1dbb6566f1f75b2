//! A response body that streams framed GraphQL responses with heartbeats in between: the shape
//! SSE and multipart share. Only one frame is produced at a time, when hyper asks for it, so a
//! slow reader holds back the (bounded) response stream instead of growing a buffer here.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use futures::stream::{self, StreamExt};
use tokio::time::{interval_at, Instant, Interval, MissedTickBehavior};

use crate::subscriptions::ResponseStream;

/// How one protocol frames its parts.
#[derive(Clone, Copy)]
pub(super) struct Framing {
    /// Wraps one response body.
    pub frame: fn(&[u8]) -> Bytes,
    /// Sent when nothing else was for `every`.
    pub heartbeat: &'static [u8],
    /// Sent once after the last response.
    pub end: &'static [u8],
    pub every: Duration,
}

enum State {
    Streaming {
        responses: ResponseStream,
        ticks: Interval,
    },
    Ended,
}

pub(super) fn framed_body(responses: ResponseStream, framing: Framing) -> Body {
    let mut ticks = interval_at(Instant::now() + framing.every, framing.every);
    // After a stall, one heartbeat is enough; a burst of them would say nothing more.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let initial = State::Streaming { responses, ticks };
    let frames = stream::unfold(initial, move |state| async move {
        let State::Streaming {
            mut responses,
            mut ticks,
        } = state
        else {
            return None;
        };
        let chunk = tokio::select! {
            next = responses.next() => match next {
                Some(body) => {
                    ticks.reset();
                    (framing.frame)(&body)
                }
                None => return Some((Bytes::from_static(framing.end), State::Ended)),
            },
            _ = ticks.tick() => Bytes::from_static(framing.heartbeat),
        };
        Some((chunk, State::Streaming { responses, ticks }))
    });
    Body::from_stream(frames.map(Ok::<_, Infallible>))
}
