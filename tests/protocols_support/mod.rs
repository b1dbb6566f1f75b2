//! A scripted `SubscriptionService` behind Seam's real `/graphql` router on a real port, and a
//! WebSocket client, for the protocol tests. The subscription engine is not needed: the test
//! decides what each subscription yields and sees when the protocol drops a stream.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use seam::http::{graphql_router, OperationService, ProtocolSettings};
use seam::pipeline::{Answer, GatewayResponse, GraphqlRequest, Outcome};
use seam::{RequestContext, Transport};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for anything before failing.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// One live subscription the service handed out: the test pushes its events and sees it close.
pub struct Feed {
    pub query: String,
    /// The context the operation ran with (its headers include the `connection_init` payload).
    pub context: RequestContext,
    /// `None` once the test ended the stream.
    events: Mutex<Option<mpsc::Sender<Bytes>>>,
}

/// Answers by what the query text contains:
/// - queries: `hello` ▶ `{"data":{"hello":"world"}}`; a `mutation` over GET ▶ 405; anything
///   else ▶ a validation error;
/// - subscriptions: `broken` ▶ refused with a validation error; `count` ▶ three responses, then
///   the end; anything else ▶ a live [`Feed`] the test drives.
#[derive(Default)]
pub struct Scripted {
    feeds: Mutex<Vec<Arc<Feed>>>,
}

fn refusal(outcome: Outcome, message: &str, code: &str) -> GatewayResponse {
    let body =
        serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    GatewayResponse::new(outcome, body.to_string().into_bytes())
}

impl OperationService for Scripted {
    async fn run(&self, context: Arc<RequestContext>, request: GraphqlRequest) -> Answer {
        let query = request.query.unwrap_or_default();
        if !query.trim_start().starts_with("subscription") {
            return Answer::Single(execute(&query, context.transport));
        }
        if !context.transport.streams() {
            return Answer::Single(refusal(
                Outcome::RequestError,
                "subscriptions need a streaming transport",
                "SUBSCRIPTION_NOT_SUPPORTED",
            ));
        }
        if query.contains("broken") {
            return Answer::Single(refusal(
                Outcome::RequestError,
                "Cannot query field \"broken\" on type \"Subscription\".",
                "GRAPHQL_VALIDATION_FAILED",
            ));
        }
        if query.contains("count") {
            let responses = (1..=3).map(|n| Bytes::from(format!(r#"{{"data":{{"count":{n}}}}}"#)));
            return Answer::Stream(futures::stream::iter(responses).boxed());
        }
        let (events, receiver) = mpsc::channel(8);
        let feed = Arc::new(Feed {
            query,
            context: (*context).clone(),
            events: Mutex::new(Some(events)),
        });
        self.feeds.lock().unwrap().push(feed);
        Answer::Stream(tokio_stream::wrappers::ReceiverStream::new(receiver).boxed())
    }
}

/// Queries: `hello` ▶ `{"data":{"hello":"world"}}`; a `mutation` over GET ▶ 405; anything
/// else ▶ a validation error.
fn execute(query: &str, transport: Transport) -> GatewayResponse {
    if query.contains("mutation") && !transport.allows_mutations() {
        return refusal(
            Outcome::MethodNotAllowed,
            "mutations must be sent with POST",
            "METHOD_NOT_ALLOWED",
        );
    }
    if query.contains("hello") {
        return GatewayResponse::new(Outcome::Executed, br#"{"data":{"hello":"world"}}"#.to_vec());
    }
    refusal(
        Outcome::RequestError,
        "Cannot query field",
        "GRAPHQL_VALIDATION_FAILED",
    )
}

impl Feed {
    /// A header of the operation's context.
    pub fn header(&self, name: &str) -> Option<String> {
        self.context
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

impl Scripted {
    /// The `index`-th live subscription, once it has started.
    pub async fn feed(&self, index: usize) -> Arc<Feed> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            if let Some(feed) = self.feeds.lock().unwrap().get(index) {
                return feed.clone();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "subscription {index} never started"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub fn feeds_started(&self) -> usize {
        self.feeds.lock().unwrap().len()
    }
}

impl Feed {
    fn sender(&self) -> mpsc::Sender<Bytes> {
        self.events
            .lock()
            .unwrap()
            .clone()
            .expect("the test has not ended this stream")
    }

    pub async fn push(&self, body: &str) {
        self.sender()
            .send(Bytes::from(body.to_owned()))
            .await
            .expect("the subscription is still open");
    }

    /// Pushes unless the protocol dropped the stream meanwhile; `false` then.
    pub async fn try_push(&self, body: &str) -> bool {
        let Some(sender) = self.events.lock().unwrap().clone() else {
            return false;
        };
        sender.send(Bytes::from(body.to_owned())).await.is_ok()
    }

    /// Ends the stream, as a source that has nothing more to say.
    pub fn end(&self) {
        self.events.lock().unwrap().take();
    }

    /// Waits until the protocol dropped the stream (the client left or completed it).
    pub async fn dropped(&self) {
        let sender = self.sender();
        tokio::time::timeout(PATIENCE, sender.closed())
            .await
            .expect("the protocol never dropped the subscription's stream");
    }

    pub fn is_dropped(&self) -> bool {
        self.sender().is_closed()
    }
}

/// Short timings, so timeouts and keep-alives show within a test.
pub fn quick_settings() -> ProtocolSettings {
    ProtocolSettings {
        connection_init_timeout: Duration::from_millis(400),
        keep_alive: Duration::from_millis(150),
        sse_keep_alive: Duration::from_millis(150),
        multipart_heartbeat: Duration::from_millis(150),
        // Pings, send timeouts and the operation limit keep their defaults here: the tests of
        // those start a server with their own settings.
        ..ProtocolSettings::default()
    }
}

pub struct Server {
    pub addr: SocketAddr,
    pub service: Arc<Scripted>,
}

impl Server {
    pub async fn start() -> Self {
        Self::start_with(quick_settings()).await
    }

    /// Served as `seam serve` serves: each request knows its client's address (per-client caps
    /// count by it).
    pub async fn start_with(settings: ProtocolSettings) -> Self {
        let service = Arc::new(Scripted::default());
        let router = graphql_router(service.clone(), settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind test port");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await;
        });
        Server { addr, service }
    }

    pub fn http_url(&self) -> String {
        format!("http://{}/graphql", self.addr)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/graphql", self.addr)
    }
}

/// A WebSocket client speaking raw JSON messages.
pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// How a server ended the connection.
#[derive(Debug, PartialEq, Eq)]
pub struct Closed {
    pub code: u16,
    pub reason: String,
}

impl WsClient {
    /// Connects offering `subprotocol` (none when `None`).
    pub async fn connect(url: &str, subprotocol: Option<&str>) -> Self {
        let mut request = url.into_client_request().expect("ws request");
        if let Some(protocol) = subprotocol {
            request.headers_mut().insert(
                "sec-websocket-protocol",
                HeaderValue::from_str(protocol).expect("protocol header"),
            );
        }
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("websocket handshake");
        let chosen = response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok());
        assert_eq!(chosen, subprotocol, "the server chose another subprotocol");
        WsClient { socket }
    }

    pub async fn send(&mut self, message: Value) {
        self.send_text(&message.to_string()).await;
    }

    /// A graphql-transport-ws `subscribe` of `query` under `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str) {
        self.send(json!({ "id": id, "type": "subscribe", "payload": { "query": query } }))
            .await;
    }

    /// Asserts the next message is the `complete` of operation `id`.
    pub async fn expect_complete(&mut self, id: &str) {
        assert_eq!(self.recv().await, json!({ "id": id, "type": "complete" }));
    }

    pub async fn send_text(&mut self, text: &str) {
        self.socket
            .send(Message::text(text.to_owned()))
            .await
            .expect("send");
    }

    pub async fn send_binary(&mut self, bytes: &[u8]) {
        self.socket
            .send(Message::binary(bytes.to_vec()))
            .await
            .expect("send");
    }

    /// The next JSON message; fails on a close or after [`PATIENCE`].
    pub async fn recv(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(PATIENCE, self.socket.next())
                .await
                .expect("no message in time")
                .expect("the socket ended")
                .expect("socket error");
            match message {
                Message::Text(text) => {
                    return serde_json::from_str(text.as_str()).expect("a JSON message")
                }
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("expected a text message, got {other:?}"),
            }
        }
    }

    /// Waits for the server to close the connection, failing on any other message than a legacy
    /// keep-alive.
    pub async fn closed(&mut self) -> Closed {
        loop {
            let message = tokio::time::timeout(PATIENCE, self.socket.next())
                .await
                .expect("the server did not close in time");
            match message {
                Some(Ok(Message::Close(Some(frame)))) => {
                    return Closed {
                        code: u16::from(frame.code),
                        reason: frame.reason.to_string(),
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Text(text))) if text.as_str() == r#"{"type":"ka"}"# => continue,
                Some(Ok(other)) => panic!("expected a close, got {other:?}"),
                Some(Err(e)) => panic!("expected a close frame, got the error {e}"),
                None => panic!("the socket ended without a close frame"),
            }
        }
    }

    /// Closes the connection with `code`, as a client ending it does, and returns the server's
    /// answering Close frame (RFC 6455 §5.5.1); fails when the server drops the socket instead.
    pub async fn close_with(&mut self, code: u16) -> Closed {
        let frame = tokio_tungstenite::tungstenite::protocol::CloseFrame {
            code: code.into(),
            reason: "bye".into(),
        };
        self.socket
            .send(Message::Close(Some(frame)))
            .await
            .expect("send the close");
        self.closed().await
    }

    /// Waits for the server to drop the connection without a close frame, failing on any message
    /// but frame-level pings.
    pub async fn dropped_by_server(&mut self) {
        loop {
            let message = tokio::time::timeout(PATIENCE, self.socket.next())
                .await
                .expect("the server did not drop the connection in time");
            match message {
                None | Some(Err(_)) => return,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(other)) => panic!("expected the connection to end, got {other:?}"),
            }
        }
    }

    /// Asserts nothing arrives for `quiet` (the keep-alive timings are much longer).
    pub async fn silent_for(&mut self, quiet: Duration) {
        if let Ok(message) = tokio::time::timeout(quiet, self.socket.next()).await {
            panic!("expected silence, got {message:?}");
        }
    }
}
