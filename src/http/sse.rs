//! GraphQL over Server-Sent Events, "distinct connections" mode: one HTTP request per operation,
//! each response an `event: next`, then `event: complete` when the operation ends. (The
//! single-connection mode, one stream for many operations, is `sse_single`.)

use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::{BufMut, Bytes, BytesMut};
use futures::StreamExt;

use super::clients::StreamingSlot;
use super::service::{into_stream, Endpoint};
use super::streaming::{framed_body, Framing};
use crate::pipeline::{Answer, Outcome};

/// Streams the answer: a subscription's responses, or a query's one response, each as an
/// `event: next`. A request error (parse, validation, variables, an unknown persisted query) is
/// an `event: next` with the errors too, on a 200 stream: graphql-sse's distinct-connections
/// mode asks it (a 400 fails an `EventSource` and its client retries, never showing the
/// errors). Refusals of the request itself (authentication, rate limits, an unreadable body)
/// keep their HTTP status. `slot` counts the client as open until the stream ends.
pub(super) fn respond<S>(
    endpoint: &Endpoint<S>,
    media: super::MediaType,
    answer: Answer,
    slot: StreamingSlot,
) -> Response {
    let responses = match answer {
        Answer::Single(refused)
            if matches!(
                refused.outcome,
                Outcome::RequestError | Outcome::PersistedQueryNotFound
            ) =>
        {
            futures::stream::once(std::future::ready(refused.body)).boxed()
        }
        answer => match into_stream(answer) {
            Ok(responses) => responses,
            Err(refused) => return super::respond(media, refused.outcome, refused.body),
        },
    };
    let framing = Framing {
        start: b"",
        frame: next_event,
        heartbeat: b":\n\n",
        end: b"event: complete\ndata:\n\n",
        every: endpoint.settings.sse_keep_alive,
    };
    let shutdown = endpoint.settings.clients.shutdown().clone();
    event_stream(framed_body(responses, framing, slot, shutdown))
}

/// A response streaming `body` as server-sent events.
pub(super) fn event_stream(body: Body) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Tells nginx-style proxies not to hold events back in their buffers.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// `event: next` with the body as its data.
fn next_event(body: Bytes) -> Bytes {
    event(b"next", &[&body])
}

/// An SSE event named `name` whose data is `data` written one after the other. Response bodies
/// are single lines of JSON as the gateway writes them; should one ever hold a line break, each
/// line becomes a `data:` line of its own, which SSE joins back.
pub(super) fn event(name: &[u8], data: &[&[u8]]) -> Bytes {
    let length: usize = data.iter().map(|piece| piece.len()).sum();
    let mut out = BytesMut::with_capacity(length + name.len() + 17);
    out.put_slice(b"event: ");
    out.put_slice(name);
    out.put_slice(b"\ndata: ");
    for piece in data {
        let mut lines = piece.split(|b| *b == b'\n');
        if let Some(first) = lines.next() {
            out.put_slice(first);
        }
        for line in lines {
            out.put_slice(b"\ndata: ");
            out.put_slice(line);
        }
    }
    out.put_slice(b"\n\n");
    // A `\r` ending a line would end it twice: SSE takes it as a line break of its own.
    if memchr::memchr(b'\r', &out).is_some() {
        return out[..]
            .split(|b| *b == b'\n')
            .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
            .collect::<Vec<_>>()
            .join(&b'\n')
            .into();
    }
    out.freeze()
}
