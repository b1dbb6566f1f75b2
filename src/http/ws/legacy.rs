//! The legacy `graphql-ws` protocol of subscriptions-transport-ws: `connection_init` ▶
//! `connection_ack` and `ka` keep-alives, then `start` ▶ `data`* ▶ `complete` per operation,
//! `stop` from the client, `connection_terminate` to leave. Bad messages get an `error` (or a
//! `connection_error` when the text is not JSON at all) and the connection stays open, as that
//! protocol's clients expect. A `connection_init` whose token is refused gets a
//! `connection_error` and the socket is closed.

use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket};
use futures::stream::StreamExt;
use serde_json::{json, Value};
use tokio::time::{interval_at, Instant, Interval, MissedTickBehavior};

use super::envelope::Envelope;
use super::{
    admit, forward_events, init_payload, on_read_error, on_shutdown, Disconnected, OperationEvent,
    Operations, Outbox, LEGACY_NEXT,
};
use crate::context::RequestContext;
use crate::http::service::{Endpoint, OperationService};
use crate::pipeline::GraphqlRequest;

/// Close codes, borrowed from graphql-transport-ws: the legacy protocol defines none, and these
/// tell a client what went wrong better than a bare close.
const INIT_TIMEOUT: u16 = 4408;
const TOO_MANY_INITS: u16 = 4429;
/// After the `connection_error` that refuses a token, as subscriptions-transport-ws's own server
/// closes a connection its `onConnect` rejected.
const CONNECTION_REFUSED: u16 = 1011;

enum ClientMessage {
    ConnectionInit { payload: Option<Value> },
    Start { id: String, payload: GraphqlRequest },
    Stop { id: String },
    ConnectionTerminate,
}

impl ClientMessage {
    /// The message an envelope holds, or why it is not one of the protocol's.
    fn from_envelope(envelope: &Envelope) -> Result<ClientMessage, String> {
        let id = || {
            envelope
                .id()
                .ok_or_else(|| "the message has no string `id`".to_owned())
        };
        Ok(match envelope.kind.as_str() {
            "connection_init" => ClientMessage::ConnectionInit {
                payload: envelope.payload_value(),
            },
            "start" => ClientMessage::Start {
                id: id()?,
                payload: envelope.request()?,
            },
            "stop" => ClientMessage::Stop { id: id()? },
            "connection_terminate" => ClientMessage::ConnectionTerminate,
            other => return Err(format!("unknown message type `{other}`")),
        })
    }
}

struct Connection<S> {
    endpoint: Arc<Endpoint<S>>,
    out: Outbox,
    operations: Operations,
    /// Set once acknowledged; operations may start only then.
    context: Option<Arc<RequestContext>>,
    /// What the upgrade request said; the `connection_init` payload is laid over it.
    handshake: RequestContext,
    keep_alive: Interval,
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
    let every = endpoint.settings.keep_alive;
    let mut keep_alive = interval_at(Instant::now() + every, every);
    keep_alive.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut connection = Connection {
        out: Outbox::new(sink, &endpoint.settings),
        endpoint,
        operations: Operations::default(),
        context: None,
        handshake,
        keep_alive,
    };
    loop {
        let acknowledged = connection.context.is_some();
        let step = tokio::select! {
            message = incoming.next() => match message {
                Some(Ok(message)) => connection.on_message(message).await,
                Some(Err(error)) => {
                    Err(on_read_error(&mut connection.out, &error, max_message).await)
                }
                None => Err(Disconnected),
            },
            () = &mut shutdown => Err(on_shutdown(&mut connection.out).await),
            () = &mut init_timeout, if !acknowledged => {
                let _ = connection
                    .out
                    .close(INIT_TIMEOUT, "Connection initialisation timeout")
                    .await;
                Err(Disconnected)
            }
            _ = connection.keep_alive.tick(), if acknowledged => {
                connection.out.send(r#"{"type":"ka"}"#.to_owned()).await
            }
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
            // Read as the JSON text it carries, as the protocol's reference server reads it.
            Message::Binary(bytes) => match axum::extract::ws::Utf8Bytes::try_from(bytes) {
                Ok(text) => text,
                Err(_) => {
                    return self
                        .connection_error("a binary frame that is not UTF-8 text")
                        .await
                }
            },
            Message::Ping(_) | Message::Pong(_) => return Ok(()),
            Message::Close(_) => return Err(self.out.answer_close().await),
        };
        let envelope = match Envelope::parse(text.as_str()) {
            Ok(envelope) => envelope,
            Err(e) if e.is_data() => {
                let reason = "invalid message: not an object with a string `type`";
                return self.error(None, reason).await;
            }
            Err(e) => {
                return self
                    .connection_error(&format!("the message is not JSON: {e}"))
                    .await
            }
        };
        let message = match ClientMessage::from_envelope(&envelope) {
            Ok(message) => message,
            Err(e) => {
                let reason = format!("invalid message: {e}");
                return self.error(envelope.id().as_deref(), &reason).await;
            }
        };
        match message {
            ClientMessage::ConnectionInit { payload } => {
                if self.context.is_some() {
                    return self
                        .refuse(TOO_MANY_INITS, "Too many initialisation requests")
                        .await;
                }
                let init_payload = match init_payload(payload) {
                    Ok(payload) => payload,
                    Err(reason) => return self.connection_error(reason).await,
                };
                let context = Arc::new(
                    self.handshake
                        .clone()
                        .with_init_payload(init_payload.as_ref()),
                );
                // A refused token: `connection_error` with the reason, then the socket closes.
                if let Err(reason) = self.endpoint.service.admit_connection(&context).await {
                    self.connection_error(&reason).await?;
                    return self.refuse(CONNECTION_REFUSED, "Forbidden").await;
                }
                self.context = Some(context);
                self.out
                    .send(r#"{"type":"connection_ack"}"#.to_owned())
                    .await?;
                // The first keep-alive right away tells the client the server sends them.
                self.keep_alive.reset();
                self.out.send(r#"{"type":"ka"}"#.to_owned()).await
            }
            ClientMessage::Start { id, payload } => {
                let Some(context) = self.context.clone() else {
                    return self
                        .error(Some(&id), "send connection_init before starting operations")
                        .await;
                };
                // As subscriptions-transport-ws servers do, a reused id replaces its operation.
                self.operations.stop(&id);
                let (running, limit) =
                    (self.operations.len(), self.endpoint.settings.max_operations);
                if !admit(&mut self.out, running, limit, &id, LEGACY_NEXT).await? {
                    return Ok(());
                }
                self.operations
                    .start(id, &self.endpoint.service, payload, context);
                Ok(())
            }
            ClientMessage::Stop { id } => {
                self.operations.stop(&id);
                Ok(())
            }
            ClientMessage::ConnectionTerminate => {
                let _ = self.out.close(1000, "").await;
                Err(Disconnected)
            }
        }
    }

    async fn on_event(&mut self, id: String, event: OperationEvent) -> Result<(), Disconnected> {
        forward_events(&mut self.out, &mut self.operations, id, event, LEGACY_NEXT).await
    }

    /// An `error` for one operation (or none, when the message had no id).
    async fn error(&mut self, id: Option<&str>, message: &str) -> Result<(), Disconnected> {
        let mut error = json!({ "type": "error", "payload": { "message": message } });
        if let (Some(id), Some(object)) = (id, error.as_object_mut()) {
            object.insert("id".to_owned(), Value::String(id.to_owned()));
        }
        self.out.send(error.to_string()).await
    }

    async fn connection_error(&mut self, message: &str) -> Result<(), Disconnected> {
        let error = json!({ "type": "connection_error", "payload": { "message": message } });
        self.out.send(error.to_string()).await
    }

    async fn refuse(&mut self, code: u16, reason: &str) -> Result<(), Disconnected> {
        let _ = self.out.close(code, reason).await;
        Err(Disconnected)
    }
}
