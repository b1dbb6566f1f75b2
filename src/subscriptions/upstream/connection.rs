//! The task that owns one WebSocket to one subgraph: it connects, does the `connection_init`
//! handshake, sends the subscribes and completes the consumers ask for, and routes each message
//! from the subgraph to the ring of the subscription it belongs to.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use http::HeaderMap;
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::time::{Instant, Interval, MissedTickBehavior};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::SEC_WEBSOCKET_PROTOCOL;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::protocol::{self, ServerMessage};
use super::{Command, ConnectionEntry, Item, Readiness, Shared, UpstreamError, UpstreamEvent};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long one write to the subgraph may take when keep-alive is off (otherwise its period).
const WRITE_TIMEOUT_WITHOUT_KEEPALIVE: Duration = Duration::from_secs(15);

/// Starts the task for a new connection to `url` and returns its registry entry. The caller
/// holds the state lock, so the task cannot touch the registry before the entry is in it.
pub(super) fn spawn(
    shared: Arc<Shared>,
    key: Arc<str>,
    url: Arc<str>,
    headers: HeaderMap,
) -> ConnectionEntry {
    let serial = shared.next_id.fetch_add(1, Ordering::Relaxed) + 1;
    let (commands, command_receiver) = mpsc::unbounded_channel();
    let (ready_sender, ready) = watch::channel(Readiness::Connecting);
    let task = Task {
        shared,
        key: key.clone(),
        url,
        headers,
        serial,
        commands: command_receiver,
        operations: HashMap::new(),
    };
    tokio::spawn(task.run(ready_sender));
    ConnectionEntry {
        url: key,
        serial,
        commands,
        ready,
        operations: HashMap::new(),
    }
}

struct Task {
    shared: Arc<Shared>,
    /// The connection's registry key: the URL and the headers it was opened with.
    key: Arc<str>,
    url: Arc<str>,
    /// Sent with the WebSocket handshake: what the header rules forward.
    headers: HeaderMap,
    serial: u64,
    commands: mpsc::UnboundedReceiver<Command>,
    /// The rings of the subscriptions sent on this socket, by id.
    operations: HashMap<u64, broadcast::Sender<Item>>,
}

/// Why the socket is being given up; becomes the `Failed` every consumer receives.
struct Failure(String);

impl Task {
    async fn run(mut self, ready: watch::Sender<Readiness>) {
        let mut socket = match self.open().await {
            Ok(socket) => socket,
            Err(error) => {
                tracing::warn!(url = %crate::telemetry::redact::loggable_url(&self.url), %error, "upstream subscription connection failed");
                self.shared.forget_connection(&self.key, self.serial);
                let _ = ready.send(Readiness::Failed(error.clone()));
                self.fail_all(&format!("{error}"));
                return;
            }
        };
        let _ = ready.send(Readiness::Ready);
        let write_timeout = self.write_timeout();
        match self.serve(&mut socket).await {
            Ok(()) => {
                // Every consumer is gone: say goodbye properly so the subgraph frees its side.
                close(&mut socket, None, write_timeout).await;
            }
            Err(Failure(reason)) => {
                tracing::warn!(url = %crate::telemetry::redact::loggable_url(&self.url), ?reason, "upstream subscription connection lost");
                self.shared.forget_connection(&self.key, self.serial);
                // Consumers hear first: the goodbye may wait on a subgraph that stopped reading.
                self.fail_all(&reason);
                close(&mut socket, None, write_timeout).await;
            }
        }
    }

    /// Bounds every write and close: a subgraph that stops reading would otherwise hold this
    /// task in one `send`, where neither keep-alive nor the consumers' commands are seen, and
    /// every subscription multiplexed on the socket would stall without a word. The keep-alive
    /// period is the natural bound, as a socket quiet for that long is given up anyway.
    fn write_timeout(&self) -> Duration {
        self.shared
            .options
            .keepalive
            .unwrap_or(WRITE_TIMEOUT_WITHOUT_KEEPALIVE)
    }

    /// Connects and completes the `connection_init` / `connection_ack` handshake.
    async fn open(&mut self) -> Result<Socket, UpstreamError> {
        let connect_error = |message: String| UpstreamError::Connect {
            url: self.url.to_string(),
            message,
        };
        let mut request = self
            .url
            .as_ref()
            .into_client_request()
            .map_err(|error| connect_error(error.to_string()))?;
        for (name, value) in &self.headers {
            request.headers_mut().append(name.clone(), value.clone());
        }
        request.headers_mut().insert(
            SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(protocol::SUBPROTOCOL),
        );
        let timeout = self.shared.options.connect_timeout;
        let (mut socket, _) =
            tokio::time::timeout(timeout, tokio_tungstenite::connect_async(request))
                .await
                .map_err(|_| connect_error(format!("no answer within {timeout:?}")))?
                .map_err(|error| connect_error(error.to_string()))?;

        let handshake_error = |message: String| UpstreamError::Handshake {
            url: self.url.to_string(),
            message,
        };
        let timeout = self.shared.options.ack_timeout;
        tokio::time::timeout(
            timeout,
            socket.send(Message::text(protocol::connection_init())),
        )
        .await
        .map_err(|_| handshake_error(format!("`connection_init` not sent within {timeout:?}")))?
        .map_err(|error| handshake_error(error.to_string()))?;
        let acknowledged = tokio::time::timeout(timeout, async {
            loop {
                let Some(message) = socket.next().await else {
                    return Err("the socket closed before `connection_ack`".to_owned());
                };
                let message = message.map_err(|error| error.to_string())?;
                let text = match message {
                    Message::Text(text) => text,
                    Message::Close(frame) => return Err(closed_by_subgraph(frame.as_ref())),
                    // Frame-level pings are answered by tungstenite itself.
                    _ => continue,
                };
                match protocol::parse(text.as_bytes())? {
                    ServerMessage::ConnectionAck => return Ok(()),
                    ServerMessage::Ping => socket
                        .send(Message::text(protocol::pong()))
                        .await
                        .map_err(|error| error.to_string())?,
                    ServerMessage::Pong => {}
                    other => return Err(format!("{other:?} before `connection_ack`")),
                }
            }
        })
        .await
        .map_err(|_| handshake_error(format!("no `connection_ack` within {timeout:?}")))?;
        if let Err(message) = acknowledged {
            close(&mut socket, None, timeout).await;
            return Err(handshake_error(message));
        }
        Ok(socket)
    }

    /// Runs until every consumer is gone (`Ok`) or the socket fails (`Err`).
    async fn serve(&mut self, socket: &mut Socket) -> Result<(), Failure> {
        let mut keepalive = self.shared.options.keepalive.map(|period| {
            let mut ticks = tokio::time::interval_at(Instant::now() + period, period);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            ticks
        });
        let mut heard_since_ping = true;
        let within = self.write_timeout();
        loop {
            tokio::select! {
                () = tick(&mut keepalive) => {
                    if !heard_since_ping {
                        return Err(Failure(
                            "the subgraph did not answer a ping in time".to_owned(),
                        ));
                    }
                    heard_since_ping = false;
                    send(socket, protocol::ping(), within).await?;
                }
                command = self.commands.recv() => match command {
                    Some(Command::Subscribe { id, message, events }) => {
                        self.operations.insert(id, events);
                        send(socket, message, within).await?;
                    }
                    Some(Command::Complete { id }) => {
                        // Already gone if the subgraph completed it first; nothing to tell then.
                        if self.operations.remove(&id).is_some() {
                            send(socket, protocol::complete(id), within).await?;
                        }
                    }
                    None => return Ok(()),
                },
                message = socket.next() => {
                    let message = match message {
                        Some(Ok(message)) => message,
                        Some(Err(error)) => return Err(Failure(format!(
                            "the subscription socket to the subgraph failed: {error}"
                        ))),
                        None => return Err(Failure(
                            "the subgraph closed the subscription socket".to_owned(),
                        )),
                    };
                    heard_since_ping = true;
                    self.receive(socket, message).await?;
                }
            }
        }
    }

    async fn receive(&mut self, socket: &mut Socket, message: Message) -> Result<(), Failure> {
        let parsed = match &message {
            Message::Text(text) => protocol::parse(text.as_bytes()),
            Message::Binary(bytes) => protocol::parse(bytes),
            Message::Close(frame) => return Err(Failure(closed_by_subgraph(frame.as_ref()))),
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => return Ok(()),
        };
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err(problem) => {
                // The protocol's answer to a message it cannot read: close with 4400.
                let frame = CloseFrame {
                    code: CloseCode::Library(4400),
                    reason: "invalid message".into(),
                };
                close(socket, Some(frame), self.write_timeout()).await;
                return Err(Failure(format!("the subgraph sent {problem}")));
            }
        };
        match parsed {
            ServerMessage::Next { id, event } => {
                if let Some(events) = self.operations.get(&id) {
                    // No receiver means every consumer left and a `complete` is on its way.
                    let _ = events.send(Item::Event(Arc::new(event)));
                }
            }
            ServerMessage::Error { id, errors } => {
                if let Some(events) = self.operations.remove(&id) {
                    self.shared.forget_operation(&self.key, self.serial, id);
                    let _ = events.send(Item::Event(Arc::new(UpstreamEvent::Errors(errors))));
                    let _ = events.send(Item::End);
                }
            }
            ServerMessage::Complete { id } => {
                if let Some(events) = self.operations.remove(&id) {
                    self.shared.forget_operation(&self.key, self.serial, id);
                    let _ = events.send(Item::End);
                }
            }
            ServerMessage::Ping => send(socket, protocol::pong(), self.write_timeout()).await?,
            ServerMessage::Pong | ServerMessage::ConnectionAck => {}
        }
        Ok(())
    }

    /// Ends every subscription of this connection with `Failed`, including subscribes still
    /// queued, so no consumer is left waiting on a socket that is gone.
    fn fail_all(&mut self, reason: &str) {
        let failed = Item::Event(Arc::new(UpstreamEvent::Failed(reason.to_owned())));
        for (_, events) in self.operations.drain() {
            let _ = events.send(failed.clone());
        }
        self.commands.close();
        while let Ok(command) = self.commands.try_recv() {
            if let Command::Subscribe { events, .. } = command {
                let _ = events.send(failed.clone());
            }
        }
    }
}

/// The next keep-alive tick, or never when keep-alive is off.
async fn tick(keepalive: &mut Option<Interval>) {
    match keepalive {
        Some(ticks) => {
            ticks.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// Writes one message, failing the socket when it is not out `within`.
async fn send(socket: &mut Socket, text: String, within: Duration) -> Result<(), Failure> {
    match tokio::time::timeout(within, socket.send(Message::text(text))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(Failure(format!(
            "could not write to the subgraph's subscription socket: {error}"
        ))),
        Err(_) => Err(Failure(format!(
            "the subgraph did not read from its subscription socket within {within:?}"
        ))),
    }
}

/// Sends a close frame if that finishes `within`; the socket is dropped after it either way.
async fn close(socket: &mut Socket, frame: Option<CloseFrame>, within: Duration) {
    let _ = tokio::time::timeout(within, socket.close(frame)).await;
}

fn closed_by_subgraph(frame: Option<&CloseFrame>) -> String {
    match frame {
        Some(frame) if !frame.reason.is_empty() => format!(
            "the subgraph closed the subscription socket ({}: {})",
            u16::from(frame.code),
            frame.reason
        ),
        Some(frame) => format!(
            "the subgraph closed the subscription socket ({})",
            u16::from(frame.code)
        ),
        None => "the subgraph closed the subscription socket".to_owned(),
    }
}
