//! Multipart HTTP subscriptions as Apollo clients speak them: `multipart/mixed` with the boundary
//! `graphql`, each response wrapped as `{"payload": …}`, and `{}` parts as heartbeats.
//!
//! A reader knows a part is complete only when it sees the delimiter after it (Apollo Client
//! splits the body on `\r\n--graphql`), so every part is written together with the delimiter
//! that closes it: the client reads each event the moment it arrives, not when the next event or
//! heartbeat does. The body is `\r\n--graphql`, then per part
//! `\r\ncontent-type: application/json\r\n\r\n{…}\r\n--graphql`, and `--\r\n` at the end,
//! which makes the last delimiter the closing `--graphql--`.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::{BufMut, Bytes, BytesMut};

use super::clients::StreamingSlot;
use super::service::Endpoint;
use super::streaming::{framed_body, Framing};
use crate::subscriptions::ResponseStream;

const CONTENT_TYPE: &str = "multipart/mixed;boundary=\"graphql\";subscriptionSpec=\"1.0\"";
const PART_HEAD: &[u8] = b"\r\ncontent-type: application/json\r\n\r\n";
const DELIMITER: &[u8] = b"\r\n--graphql";

/// Streams a subscription's responses as multipart parts (a query's single response is
/// answered as plain JSON before this is reached). `slot` counts the client as open until the
/// stream ends.
pub(super) fn respond<S>(
    endpoint: &Endpoint<S>,
    responses: ResponseStream,
    slot: StreamingSlot,
) -> Response {
    let framing = Framing {
        start: DELIMITER,
        frame: payload_part,
        heartbeat: b"\r\ncontent-type: application/json\r\n\r\n{}\r\n--graphql",
        end: b"--\r\n",
        every: endpoint.settings.multipart_heartbeat,
    };
    let shutdown = endpoint.settings.clients.shutdown().clone();
    let mut response = framed_body(responses, framing, slot, shutdown).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// One part carrying a response, `{"payload": <response>}`, and the delimiter that closes it.
fn payload_part(body: Bytes) -> Bytes {
    let mut out = BytesMut::with_capacity(PART_HEAD.len() + body.len() + 32);
    out.put_slice(PART_HEAD);
    out.put_slice(b"{\"payload\":");
    out.put_slice(&body);
    out.put_slice(b"}");
    out.put_slice(DELIMITER);
    out.freeze()
}
