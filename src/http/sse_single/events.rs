//! The event stream of one open single-connection stream: every operation's responses as
//! `event: next` with `{"id": …, "payload": …}`, and `event: complete` with `{"id": …}` when an
//! operation ends, was stopped, or the server shuts down.
//!
//! The operations' response streams live here and nowhere else, polled only when hyper asks for
//! the next chunk: a slow reader holds them back rather than filling a buffer, and when the
//! client goes away dropping this drops them all (their subscriptions end with them).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::future::FutureExt;
use futures::stream::{self, BoxStream, Stream, StreamExt};
use tokio_stream::StreamMap;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use super::registry::{OperationKey, Reservation, Streams};
use crate::http::sse::event;

/// The open stream's events, as a stream of SSE chunks.
pub(super) struct Events {
    reservation: Arc<Reservation>,
    streams: Arc<Streams>,
    token: Box<str>,
    /// Each operation's responses, then `None` when they end.
    running: StreamMap<OperationKey, BoxStream<'static, Option<Bytes>>>,
    /// Events due before any response (the `complete`s of stopped operations).
    due: VecDeque<Bytes>,
    shutdown: Pin<Box<WaitForCancellationFutureOwned>>,
    /// Shutting down: send what is due, then end.
    ending: bool,
}

impl Events {
    pub(super) fn new(
        reservation: Arc<Reservation>,
        streams: Arc<Streams>,
        token: Box<str>,
        shutdown: CancellationToken,
    ) -> Self {
        Events {
            reservation,
            streams,
            token,
            running: StreamMap::new(),
            due: VecDeque::new(),
            shutdown: Box::pin(shutdown.cancelled_owned()),
            ending: false,
        }
    }

    /// Takes up the operations that arrived and drops those the client stopped.
    fn take_news(&mut self, cx: &Context<'_>) {
        let (arrived, stopped) = self.reservation.take_news(cx);
        for operation in arrived {
            let responses = operation
                .responses
                .map(Some)
                .chain(stream::once(async { None }))
                .boxed();
            self.running.insert(operation.key, responses);
        }
        for key in stopped {
            if self.running.remove(&key).is_some() {
                self.due.push_back(complete(&key));
            }
        }
    }

    /// The server is shutting down: every operation is told it is complete, then the stream
    /// ends, so the client knows it missed nothing and need not treat the end as a failure.
    fn end_all(&mut self, cx: &Context<'_>) {
        self.ending = true;
        self.take_news(cx);
        for key in self.running.keys() {
            self.due.push_back(complete(key));
        }
        self.running.clear();
        self.reservation.close();
    }
}

impl Stream for Events {
    type Item = Bytes;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let this = &mut *self;
        if !this.ending && this.shutdown.poll_unpin(cx).is_ready() {
            this.end_all(cx);
        }
        if let Some(chunk) = this.due.pop_front() {
            return Poll::Ready(Some(chunk));
        }
        if this.ending {
            return Poll::Ready(None);
        }
        this.take_news(cx);
        if let Some(chunk) = this.due.pop_front() {
            return Poll::Ready(Some(chunk));
        }
        match this.running.poll_next_unpin(cx) {
            Poll::Ready(Some((key, Some(body)))) => Poll::Ready(Some(next(&key, &body))),
            Poll::Ready(Some((key, None))) => {
                this.reservation.finished(&key);
                Poll::Ready(Some(complete(&key)))
            }
            // No operation running: the stream stays open for the next one, and `take_news`
            // registered to be woken when it arrives.
            Poll::Ready(None) | Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Events {
    /// The client went away (or the stream ended): the token is forgotten, and operations
    /// still arriving are refused.
    fn drop(&mut self) {
        self.reservation.close();
        self.streams.remove(&self.token);
    }
}

fn next(key: &OperationKey, body: &[u8]) -> Bytes {
    event(
        b"next",
        &[b"{\"id\":", &key.quoted_id, b",\"payload\":", body, b"}"],
    )
}

fn complete(key: &OperationKey) -> Bytes {
    event(b"complete", &[b"{\"id\":", &key.quoted_id, b"}"])
}
