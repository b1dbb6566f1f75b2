//! The `graphql-transport-ws` protocol: `connection_init` ▶ `connection_ack`, then `subscribe`
//! ▶ `next`* ▶ `complete` per operation, `ping`/`pong` at any time, and a close code for every
//! breach of the protocol.
//!
//! The server pings an acknowledged client every [`ProtocolSettings::ping_interval`] and drops a
//! client that has sent nothing by the next ping, without a close frame, as graphql-ws servers
//! terminate a socket that missed its pong: a peer that is gone would never read one.
//!
//! [`ProtocolSettings::ping_interval`]: crate::http::ProtocolSettings::ping_interval

use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket};
use futures::stream::StreamExt;
use serde_json::Value;
use tokio::time::{interval_at, Instant, Interval, MissedTickBehavior};

use super::envelope::Envelope;
use super::{
    admit, forward_events, init_payload, on_read_error, on_shutdown, Disconnected, OperationEvent,
    Operations, Outbox, TRANSPORT_NEXT,
};
use crate::context::RequestContext;
use crate::http::service::{Endpoint, OperationService};
use crate::pipeline::GraphqlRequest;

/// The protocol's close codes.
mod close {
    pub const BAD_REQUEST: u16 = 4400;
    pub const UNAUTHORIZED: u16 = 4401;
    /// The `connection_init` carried a token that is refused (or none where one is required).
    pub const FORBIDDEN: u16 = 4403;
    pub const INIT_TIMEOUT: u16 = 4408;
    pub const DUPLICATE_ID: u16 = 4409;
    pub const TOO_MANY_INITS: u16 = 4429;
}

enum ClientMessage {
    ConnectionInit { payload: Option<Value> },
    Ping,
    Pong,
    Subscribe { id: String, payload: GraphqlRequest },
    Complete { id: String },
}

impl ClientMessage {
    /// The message an envelope holds; `None` for one the protocol does not have, or without
    /// the members its type needs.
    fn from_envelope(envelope: &Envelope) -> Option<ClientMessage> {
        Some(match envelope.kind.as_str() {
            "connection_init" => ClientMessage::ConnectionInit {
                payload: envelope.payload_value(),
            },
            "ping" => ClientMessage::Ping,
            "pong" => ClientMessage::Pong,
            "subscribe" => ClientMessage::Subscribe {
                id: envelope.id()?,
                payload: envelope.request().ok()?,
            },
            "complete" => ClientMessage::Complete { id: envelope.id()? },
            _ => return None,
        })
    }
}

struct Connection<S> {
    endpoint: Arc<Endpoint<S>>,
    out: Outbox,
    operations: Operations,
    init_received: bool,
    /// Set once acknowledged; operations may start only then.
    context: Option<Arc<RequestContext>>,
    /// What the upgrade request said; the `connection_init` payload is laid over it.
    handshake: RequestContext,
    ping: Interval,
    /// Whether the client sent anything since the last `ping`; a live client at least answers
    /// it with a `pong`.
    heard_since_ping: bool,
}

pub(super) async fn serve<S: OperationService>(
    socket: WebSocket,
    endpoint: Arc<Endpoint<S>>,
    handshake: RequestContext,
) {
    let (sink, mut incoming) = socket.split();
    let shutdown = endpoint
        .settings
        .clients
        .shutdown()
        .clone()
        .cancelled_owned();
    tokio::pin!(shutdown);
    let max_message = endpoint.settings.max_ws_message_bytes;
    let init_timeout = tokio::time::sleep(endpoint.settings.connection_init_timeout);
    tokio::pin!(init_timeout);
    let every = endpoint.settings.ping_interval;
    let mut ping = interval_at(Instant::now() + every, every);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut connection = Connection {
        out: Outbox::new(sink, &endpoint.settings),
        endpoint,
        operations: Operations::default(),
        init_received: false,
        context: None,
        handshake,
        ping,
        heard_since_ping: true,
    };
    loop {
        let acknowledged = connection.context.is_some();
        let step = tokio::select! {
            message = incoming.next() => match message {
                Some(Ok(message)) => {
                    connection.heard_since_ping = true;
                    connection.on_message(message).await
                }
                Some(Err(error)) => {
                    Err(on_read_error(&mut connection.out, &error, max_message).await)
                }
                None => Err(Disconnected),
            },
            () = &mut shutdown => Err(on_shutdown(&mut connection.out).await),
            () = &mut init_timeout, if !connection.init_received => {
                let _ = connection
                    .out
                    .close(close::INIT_TIMEOUT, "Connection initialisation timeout")
                    .await;
                Err(Disconnected)
            }
            _ = connection.ping.tick(), if acknowledged => connection.on_ping_due().await,
            (id, event) = connection.operations.next() => connection.on_event(id, event).await,
        };
        if step.is_err() {
            break;
        }
    }
}

impl<S: OperationService> Connection<S> {
    async fn on_message(&mut self, message: Message) -> Result<(), Disconnected> {
        let text = match message {
            Message::Text(text) => text,
            // The protocol says only that messages are JSON text; its reference server reads a
            // binary frame as that text too.
            Message::Binary(bytes) => match axum::extract::ws::Utf8Bytes::try_from(bytes) {
                Ok(text) => text,
                Err(_) => {
                    return self
                        .refuse(
                            close::BAD_REQUEST,
                            "Invalid message received: a binary frame that is not UTF-8 text",
                        )
                        .await
                }
            },
            // Socket-level pings are answered by the socket itself.
            Message::Ping(_) | Message::Pong(_) => return Ok(()),
            Message::Close(_) => return Err(self.out.answer_close().await),
        };
        // Said in the protocol's words, not the JSON library's.
        const NOT_OURS: &str = "Invalid message received: not a graphql-transport-ws message";
        let message = match Envelope::parse(text.as_str()) {
            Ok(envelope) => match ClientMessage::from_envelope(&envelope) {
                Some(message) => message,
                None => return self.refuse(close::BAD_REQUEST, NOT_OURS).await,
            },
            Err(e) => {
                let reason = if e.is_data() {
                    NOT_OURS
                } else {
                    "Invalid message received: not JSON"
                };
                return self.refuse(close::BAD_REQUEST, reason).await;
            }
        };
        match message {
            ClientMessage::ConnectionInit { payload } => {
                if self.init_received {
                    return self
                        .refuse(close::TOO_MANY_INITS, "Too many initialisation requests")
                        .await;
                }
                self.init_received = true;
                let init_payload = match init_payload(payload) {
                    Ok(payload) => payload,
                    Err(reason) => return self.refuse(close::BAD_REQUEST, reason).await,
                };
                let context = Arc::new(
                    self.handshake
                        .clone()
                        .with_init_payload(init_payload.as_ref()),
                );
                // A refused token closes the connection, as the protocol asks of a server that
                // rejects a `connection_init`.
                if let Err(reason) = self.endpoint.service.admit_connection(&context).await {
                    let reason = format!("Forbidden: {reason}");
                    return self.refuse(close::FORBIDDEN, &reason).await;
                }
                self.context = Some(context);
                self.ping.reset();
                self.out
                    .send(r#"{"type":"connection_ack"}"#.to_owned())
                    .await
            }
            ClientMessage::Ping => self.out.send(r#"{"type":"pong"}"#.to_owned()).await,
            ClientMessage::Pong => Ok(()),
            ClientMessage::Subscribe { id, payload } => {
                let Some(context) = self.context.clone() else {
                    return self.refuse(close::UNAUTHORIZED, "Unauthorized").await;
                };
                if self.operations.contains(&id) {
                    let reason = format!("Subscriber for {id} already exists");
                    return self.refuse(close::DUPLICATE_ID, &reason).await;
                }
                let (running, limit) =
                    (self.operations.len(), self.endpoint.settings.max_operations);
                if !admit(&mut self.out, running, limit, &id, TRANSPORT_NEXT).await? {
                    return Ok(());
                }
                self.operations
                    .start(id, &self.endpoint.service, payload, context);
                Ok(())
            }
            // The client is done with it: dropping the stream frees it upstream, and nothing
            // more is sent for this id.
            ClientMessage::Complete { id } => {
                self.operations.stop(&id);
                Ok(())
            }
        }
    }

    async fn on_event(&mut self, id: String, event: OperationEvent) -> Result<(), Disconnected> {
        forward_events(
            &mut self.out,
            &mut self.operations,
            id,
            event,
            TRANSPORT_NEXT,
        )
        .await
    }

    /// Pings the client, or gives it up when it left the previous ping unanswered.
    async fn on_ping_due(&mut self) -> Result<(), Disconnected> {
        if !self.heard_since_ping {
            tracing::debug!("a graphql-transport-ws client did not answer a ping; dropping it");
            return Err(Disconnected);
        }
        self.heard_since_ping = false;
        self.out.send(r#"{"type":"ping"}"#.to_owned()).await
    }

    /// Closes the socket with `code`; the connection ends either way.
    async fn refuse(&mut self, code: u16, reason: &str) -> Result<(), Disconnected> {
        let _ = self.out.close(code, reason).await;
        Err(Disconnected)
    }
}
