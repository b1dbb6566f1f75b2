//! GraphQL over WebSocket on `/graphql`: `graphql-transport-ws` (the graphql-ws library's
//! protocol) and the legacy `graphql-ws` (subscriptions-transport-ws), chosen by subprotocol.
//!
//! Each connection is one task: it reads the client's messages, polls the connection's running
//! operations and writes to the socket, all in one `select!`. An operation is polled only when
//! the task is ready to write its next message, so a slow client holds back its own (bounded)
//! streams and nothing queues up here; one that stops reading altogether is disconnected once a
//! send has waited [`ProtocolSettings::send_timeout`].

mod envelope;
mod legacy;
mod transport;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use bytes::Bytes;
use futures::stream::{self, BoxStream, SplitSink, StreamExt};
use futures::SinkExt;
use serde_json::value::RawValue;
use tokio_stream::StreamMap;

use super::service::{errors_array, into_stream, Endpoint, OperationService, ProtocolSettings};
use crate::context::RequestContext;
use crate::pipeline::GraphqlRequest;

const TRANSPORT_WS: &str = "graphql-transport-ws";
const LEGACY_WS: &str = "graphql-ws";

/// What a socket reads at a time; client messages are small (`subscribe`, `ping`).
const READ_BUFFER_BYTES: usize = 1024;

/// Frames queued together are written once they pass this size, or at the flush that ends a
/// burst; a lone frame is flushed at once.
const WRITE_BUFFER_BYTES: usize = 4096;

/// RFC 6455 close codes both protocols use when the server, not the protocol, ends a socket.
mod close {
    /// The server is shutting down.
    pub const GOING_AWAY: u16 = 1001;
    /// The client sent a message over `limits.max_ws_message_bytes`.
    pub const MESSAGE_TOO_BIG: u16 = 1009;
}

/// Upgrades the connection; `handshake` is the upgrade request's context, which every operation
/// on the socket starts from.
pub(super) fn upgrade<S: OperationService>(
    upgrade: WebSocketUpgrade,
    endpoint: Arc<Endpoint<S>>,
    mut handshake: RequestContext,
) -> Response {
    // One queue for every subscription on the socket: they all wait behind the same writes.
    handshake.stream_queue = Some(crate::context::StreamQueue::new());
    // Refused before the handshake, so the client gets a status and a GraphQL error it can
    // read instead of a socket that closes at once.
    let slot = match endpoint
        .settings
        .clients
        .admit(crate::telemetry::StreamKind::WebSocket)
    {
        Ok(slot) => slot,
        Err(refusal) => return refusal.into_response(),
    };
    // Small buffers: most sockets sit idle holding one subscription, and tungstenite's 128 KiB
    // defaults would make each cost that much. Larger messages still grow the read buffer. The
    // write buffer holds a burst of small frames until the flush that ends it (or until it
    // passes this size), so they leave in one write.
    // The frame size is capped too: tungstenite reads a whole frame before it checks the
    // message size, so a single huge frame would be buffered first.
    let max_message = endpoint.settings.max_ws_message_bytes;
    let upgrade = upgrade
        .protocols([TRANSPORT_WS, LEGACY_WS])
        .max_message_size(max_message)
        .max_frame_size(max_message)
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES);
    let protocol = upgrade
        .selected_protocol()
        .and_then(|p| p.to_str().ok())
        .map(str::to_owned);
    upgrade.on_upgrade(move |socket| async move {
        let _slot = slot;
        match protocol.as_deref() {
            Some(TRANSPORT_WS) => transport::serve(socket, endpoint, handshake).await,
            Some(LEGACY_WS) => legacy::serve(socket, endpoint, handshake).await,
            // The handshake has no way to refuse a subprotocol, so the socket is closed at once.
            _ => {
                let (sink, _) = socket.split();
                let _ = Outbox::new(sink, &endpoint.settings)
                    .close(4406, "Subprotocol not acceptable")
                    .await;
            }
        }
    })
}

/// A socket error that is the client's message being over the size limit (tungstenite reports
/// it as a read error); anything else means the socket is gone.
fn is_message_too_big(error: &axum::Error) -> bool {
    std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<tungstenite::Error>())
        .is_some_and(|error| matches!(error, tungstenite::Error::Capacity(_)))
}

/// Ends the connection after a read error: with 1009 when the message was too big, as RFC 6455
/// asks, so the client learns why; silently when the socket is gone.
async fn on_read_error(out: &mut Outbox, error: &axum::Error, limit: usize) -> Disconnected {
    if is_message_too_big(error) {
        let reason = format!("message too big: the limit is {limit} bytes");
        let _ = out.close(close::MESSAGE_TOO_BIG, &reason).await;
    }
    Disconnected
}

/// Ends the connection because the server shuts down: 1001, so clients reconnect elsewhere.
async fn on_shutdown(out: &mut Outbox) -> Disconnected {
    let _ = out
        .close(close::GOING_AWAY, "the server is shutting down")
        .await;
    Disconnected
}

/// What one running operation reports to its connection.
enum OperationEvent {
    /// A response body.
    Next(Bytes),
    /// The operation was refused before it ran: the `errors` array of the refusal.
    Refused(Box<RawValue>),
    /// The operation ended normally.
    Complete,
}

/// The operations running on one connection, by client-chosen id. Removing an id drops its
/// stream, which frees whatever the stream held upstream.
#[derive(Default)]
struct Operations {
    running: StreamMap<String, BoxStream<'static, OperationEvent>>,
}

impl Operations {
    fn contains(&self, id: &str) -> bool {
        self.running.contains_key(id)
    }

    fn len(&self) -> usize {
        self.running.len()
    }

    fn start<S: OperationService>(
        &mut self,
        id: String,
        service: &Arc<S>,
        request: GraphqlRequest,
        context: Arc<RequestContext>,
    ) {
        let service = service.clone();
        // The opening future is boxed on its own so its (large) state is freed once the
        // operation runs, instead of staying inline in the stream of every idle subscription.
        let events = stream::once(Box::pin(async move {
            let span = crate::http::telemetry::websocket_operation_span(&context);
            let answer = tracing::Instrument::instrument(service.run(context, request), span).await;
            match into_stream(answer) {
                Ok(responses) => responses
                    .map(OperationEvent::Next)
                    .chain(stream::once(async { OperationEvent::Complete }))
                    .boxed(),
                Err(refused) => {
                    let errors = errors_array(&refused.body);
                    stream::once(async move { OperationEvent::Refused(errors) }).boxed()
                }
            }
        }))
        .flatten()
        .boxed();
        self.running.insert(id, events);
    }

    fn stop(&mut self, id: &str) {
        self.running.remove(id);
    }

    /// The next event of any operation; never resolves while none runs. Cancel-safe.
    async fn next(&mut self) -> (String, OperationEvent) {
        loop {
            if self.running.is_empty() {
                std::future::pending::<()>().await;
            }
            if let Some(event) = self.running.next().await {
                return event;
            }
        }
    }
}

/// The writing half of the socket.
struct Outbox {
    sink: SplitSink<WebSocket, Message>,
    /// Every send waits for its flush (no write buffer), so a client that stops reading would
    /// hold the connection task, and every subscription on it, in one send forever.
    send_timeout: Duration,
}

/// The socket is gone; the connection task ends.
struct Disconnected;

/// At most this many events that are ready together go out in one write: enough to empty a
/// burst, few enough that a busy operation cannot keep the connection from reading its client.
const EVENTS_PER_WRITE: usize = 32;

/// Sends what operation `id` reported, together with whatever the connection's operations have
/// ready right now, in one write and one flush: a client then reads a burst in one go instead of
/// a frame per read. An event that is alone is flushed at once, never held back for company.
/// `next_kind` is the protocol's name for a response: `next` in graphql-transport-ws, `data` in
/// the legacy protocol; the rest is the same in both.
async fn forward_events(
    out: &mut Outbox,
    operations: &mut Operations,
    id: String,
    event: OperationEvent,
    next_kind: &str,
) -> Result<(), Disconnected> {
    queue_event(out, operations, id, event, next_kind).await?;
    for _ in 1..EVENTS_PER_WRITE {
        let Some((id, event)) = futures::FutureExt::now_or_never(operations.next()) else {
            break;
        };
        queue_event(out, operations, id, event, next_kind).await?;
    }
    out.flush().await
}

/// Queues the message for one event in the socket's write buffer (written when it fills or on
/// the flush after the batch).
async fn queue_event(
    out: &mut Outbox,
    operations: &mut Operations,
    id: String,
    event: OperationEvent,
    next_kind: &str,
) -> Result<(), Disconnected> {
    match event {
        OperationEvent::Next(body) => match message_with_payload(next_kind, &id, &body) {
            Some(text) => out.queue(text).await,
            None => {
                tracing::warn!(operation = %id, "dropped a response that is not UTF-8");
                Ok(())
            }
        },
        OperationEvent::Refused(errors) => {
            operations.stop(&id);
            for text in refusal(next_kind, &id, errors.get().as_bytes()) {
                out.queue(text).await?;
            }
            Ok(())
        }
        OperationEvent::Complete => {
            operations.stop(&id);
            out.queue(message_without_payload("complete", &id)).await
        }
    }
}

impl Outbox {
    fn new(sink: SplitSink<WebSocket, Message>, settings: &ProtocolSettings) -> Self {
        Outbox {
            sink,
            send_timeout: settings.send_timeout,
        }
    }

    async fn send(&mut self, text: String) -> Result<(), Disconnected> {
        self.write(Message::Text(text.into())).await
    }

    async fn close(&mut self, code: u16, reason: &str) -> Result<(), Disconnected> {
        let frame = CloseFrame {
            code,
            reason: close_reason(reason).into(),
        };
        self.write(Message::Close(Some(frame))).await
    }

    /// Sends the Close frame RFC 6455 asks in answer to the client's (the socket queues it, with
    /// the client's code, when it reads theirs; a flush writes it). Without it the client sees
    /// the connection end abnormally (1006), and graphql-ws clients then back off for seconds
    /// before the next operation instead of reconnecting at once.
    async fn answer_close(&mut self) -> Disconnected {
        let _ = self.flush().await;
        Disconnected
    }

    /// Adds a message to the write buffer without flushing it.
    async fn queue(&mut self, text: String) -> Result<(), Disconnected> {
        let message = Message::Text(text.into());
        Self::within(self.send_timeout, self.sink.feed(message)).await
    }

    async fn flush(&mut self) -> Result<(), Disconnected> {
        Self::within(self.send_timeout, self.sink.flush()).await
    }

    async fn write(&mut self, message: Message) -> Result<(), Disconnected> {
        Self::within(self.send_timeout, self.sink.send(message)).await
    }

    async fn within(
        send_timeout: Duration,
        sending: impl std::future::Future<Output = Result<(), axum::Error>>,
    ) -> Result<(), Disconnected> {
        match tokio::time::timeout(send_timeout, sending).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Disconnected),
            Err(_) => {
                tracing::debug!(
                    timeout = ?send_timeout,
                    "a WebSocket client stopped reading; disconnecting it"
                );
                Err(Disconnected)
            }
        }
    }
}

/// The message type of a result in the legacy protocol (subscriptions-transport-ws).
const LEGACY_NEXT: &str = "data";
/// The message type of a result in graphql-transport-ws.
const TRANSPORT_NEXT: &str = "next";

/// Whether a connection running `running` operations may start one more; when it may not, the
/// client is told as for any operation the gateway refused ([`refusal`]): its other operations
/// and the connection go on.
async fn admit(
    out: &mut Outbox,
    running: usize,
    limit: usize,
    id: &str,
    next_kind: &str,
) -> Result<bool, Disconnected> {
    if running < limit {
        return Ok(true);
    }
    let errors = serde_json::json!([{
        "message": format!("too many operations on this connection (at most {limit})"),
        "extensions": { "code": "TOO_MANY_OPERATIONS" },
    }]);
    for text in refusal(next_kind, id, errors.to_string().as_bytes()) {
        out.queue(text).await?;
    }
    out.flush().await?;
    Ok(false)
}

/// The messages that tell a client its operation was refused, given the GraphQL `errors` array:
/// graphql-transport-ws has an `error` message whose payload is that array; the legacy
/// protocol's `error` carries one error object, so its reference server sends a refused
/// operation's errors as a result (`data` with `{"errors": …}`) and then `complete`, which its
/// client shows whole.
fn refusal(next_kind: &str, id: &str, errors: &[u8]) -> Vec<String> {
    if next_kind == LEGACY_NEXT {
        let mut payload = Vec::with_capacity(errors.len() + 12);
        payload.extend_from_slice(b"{\"errors\":");
        payload.extend_from_slice(errors);
        payload.push(b'}');
        message_with_payload(LEGACY_NEXT, id, &payload)
            .into_iter()
            .chain(std::iter::once(message_without_payload("complete", id)))
            .collect()
    } else {
        message_with_payload("error", id, errors)
            .into_iter()
            .collect()
    }
}

/// A close reason must fit in 123 bytes; longer ones are cut at a character boundary.
fn close_reason(reason: &str) -> String {
    const LIMIT: usize = 123;
    if reason.len() <= LIMIT {
        return reason.to_owned();
    }
    let mut end = LIMIT;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_owned()
}

/// `{"id":<id>,"type":<kind>,"payload":<payload>}` written directly: the payload is already JSON
/// (a response body from the gateway), so it is not parsed again for every client.
fn message_with_payload(kind: &str, id: &str, payload: &[u8]) -> Option<String> {
    let id = serde_json::to_string(id).ok()?;
    let mut out = Vec::with_capacity(payload.len() + id.len() + kind.len() + 32);
    out.extend_from_slice(b"{\"id\":");
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(b",\"type\":\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",\"payload\":");
    out.extend_from_slice(payload);
    out.push(b'}');
    String::from_utf8(out).ok()
}

/// `{"id":<id>,"type":<kind>}`.
fn message_without_payload(kind: &str, id: &str) -> String {
    serde_json::json!({ "id": id, "type": kind }).to_string()
}

/// The `connection_init` payload: an object, or nothing.
fn init_payload(
    payload: Option<serde_json::Value>,
) -> Result<Option<serde_json::Value>, &'static str> {
    match payload {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(object @ serde_json::Value::Object(_)) => Ok(Some(object)),
        Some(_) => Err("the connection_init payload must be an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_are_cut_at_a_character_boundary() {
        let long = "é".repeat(100);
        let cut = close_reason(&long);
        assert!(cut.len() <= 123);
        assert_eq!(cut, "é".repeat(61));
    }

    #[test]
    fn payload_messages_embed_the_body_as_is() {
        let text = message_with_payload("next", "a\"b", br#"{"data":{"x":1}}"#);
        assert_eq!(
            text.as_deref(),
            Some(r#"{"id":"a\"b","type":"next","payload":{"data":{"x":1}}}"#)
        );
    }
}
