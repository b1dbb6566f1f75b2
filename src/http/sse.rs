//! GraphQL over Server-Sent Events, "distinct connections" mode: one HTTP request per operation,
//! each response an `event: next`, then `event: complete` when the operation ends.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::{BufMut, Bytes, BytesMut};

use super::clients::StreamingSlot;
use super::service::{into_stream, Endpoint};
use super::streaming::{framed_body, Framing};
use crate::pipeline::Answer;

pub(super) const EVENT_STREAM: &str = "text/event-stream";

/// Whether the client asked for an event stream.
pub(super) fn accepts(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|accept| accept.contains(EVENT_STREAM))
}

/// Streams the answer: a subscription's responses, or a query's one response, each as an
/// `event: next`. A request error is answered as JSON before any stream begins. `slot` counts
/// the client as open until the stream ends.
pub(super) fn respond<S>(
    endpoint: &Endpoint<S>,
    media: super::MediaType,
    answer: Answer,
    slot: StreamingSlot,
) -> Response {
    let responses = match into_stream(answer) {
        Ok(responses) => responses,
        Err(refused) => return super::stream_refusal(media, refused),
    };
    let framing = Framing {
        start: b"",
        frame: next_event,
        heartbeat: b":\n\n",
        end: b"event: complete\ndata:\n\n",
        every: endpoint.settings.sse_keep_alive,
    };
    let shutdown = endpoint.settings.clients.shutdown().clone();
    let mut response = framed_body(responses, framing, slot, shutdown).into_response();
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

/// `event: next` with the body as its data. A body is one line of JSON as the gateway writes it;
/// should one ever hold a line break, each line becomes a `data:` line, which SSE joins back.
fn next_event(body: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(body.len() + 20);
    out.put_slice(b"event: next\n");
    for line in body.split(|b| *b == b'\n') {
        out.put_slice(b"data: ");
        out.put_slice(line.strip_suffix(b"\r").unwrap_or(line));
        out.put_u8(b'\n');
    }
    out.put_u8(b'\n');
    out.freeze()
}
