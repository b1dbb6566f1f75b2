//! The demo's subscription flow end to end, for the tests that run it over every protocol and
//! bridge backend: the demo subgraphs on real ports, gateways in front of them over real HTTP,
//! and a subscriber for each client protocol that reads the real wire format.
//!
//! Subscribing is asynchronous on every protocol (the WebSocket ones do not even answer a
//! `subscribe`), so a subscriber is [`Subscriber::sync`]ed before a test counts on events: it
//! adds probe reviews until one arrives. Bridges deliver a topic's events in order, so once one
//! probe arrived every later review will too; no sleep has to guess how long that takes.
#![allow(dead_code)]

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use seam::bridge::SharedBridge;
use seam::config::Config;

/// What the README's demo subscribes to; `$upc` filters by product.
pub const REVIEW_ADDED: &str = "subscription($upc: String) { reviewAdded(productUpc: $upc) { body product { name price } author { username } } }";

/// How long a test waits for one response before failing.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A name no other test (or earlier run) uses, for bodies and bridge prefixes.
pub fn unique(name: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{name}{}x{nanos}x{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The demo subgraphs on free ports, `reviews` publishing on `bridge`, as the `subgraphs:`
/// section of a config (with the events subgraph).
pub async fn demo_subgraphs(bridge: SharedBridge) -> String {
    let spawned =
        seam::demo::spawn_subgraphs_with_bridge("127.0.0.1".parse().expect("ip"), 0, Some(bridge))
            .await
            .expect("demo subgraphs start");
    let mut yaml = String::from("subgraphs:\n");
    for subgraph in spawned {
        yaml.push_str(&format!(
            "  - name: {}\n    url: {}\n",
            subgraph.name, subgraph.url
        ));
    }
    yaml.push_str(&format!(
        "  - name: events\n    sdl: {}/schemas/events.graphql\n",
        env!("CARGO_MANIFEST_DIR")
    ));
    yaml
}

pub fn config(yaml: &str) -> Config {
    Config::from_yaml_str(yaml, Path::new(".")).expect("a valid config")
}

/// A gateway reached over HTTP (in this process or a `seam` binary).
pub struct Gateway {
    pub base: String,
    pub client: reqwest::Client,
}

impl Gateway {
    pub fn at(base: String) -> Self {
        Gateway {
            base,
            client: reqwest::Client::new(),
        }
    }

    /// A gateway serving `config` on a free port; with `bridge`, on that bridge instead of the
    /// one the config names.
    pub async fn start(config: &Config, bridge: Option<SharedBridge>) -> Self {
        let client = reqwest::Client::new();
        let gateway = seam::startup::gateway_from_config_with_bridge(config, &client, bridge)
            .await
            .expect("the demo gateway starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the gateway port");
        let addr = listener.local_addr().expect("local addr");
        let router = seam::http::router(gateway);
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Gateway {
            base: format!("http://{addr}"),
            client,
        }
    }

    pub fn url(&self) -> String {
        format!("{}/graphql", self.base)
    }

    /// `addReview` through the gateway; fails the test unless it succeeded.
    pub async fn add_review(&self, upc: u32, author: u32, body: &str) {
        let response: Value = self
            .client
            .post(self.url())
            .json(&json!({
                "query": "mutation($upc: String!, $author: ID!, $body: String!) { addReview(productUpc: $upc, authorId: $author, body: $body) { id body } }",
                "variables": { "upc": upc.to_string(), "author": author.to_string(), "body": body },
            }))
            .send()
            .await
            .expect("the gateway answers")
            .json()
            .await
            .expect("a JSON answer");
        assert_eq!(
            response["data"]["addReview"]["body"], body,
            "addReview failed: {response}"
        );
    }

    /// Subscribes to [`REVIEW_ADDED`] over `protocol`, filtered to product `upc` if given.
    pub async fn subscribe(&self, protocol: Protocol, upc: Option<u32>) -> Subscriber {
        let variables = match upc {
            Some(upc) => json!({ "upc": upc.to_string() }),
            None => json!({}),
        };
        let request = json!({ "query": REVIEW_ADDED, "variables": variables });
        Subscriber::start(self, protocol, request).await
    }
}

/// The response the demo's data gives for a review of product `upc` by user `author` (see
/// `src/demo/data.rs`: product `n` is "Product n" at `99 + (n * 7919) % 150000` cents, user `n`
/// is "user{n}").
pub fn expected_review(upc: u32, author: u32, body: &str) -> Value {
    json!({ "data": { "reviewAdded": {
        "body": body,
        "product": { "name": format!("Product {upc}"), "price": 99 + (upc * 7919) % 150_000 },
        "author": { "username": format!("user{author}") },
    } } })
}

/// The body of a `reviewAdded` response.
pub fn body_of(response: &Value) -> &str {
    response["data"]["reviewAdded"]["body"]
        .as_str()
        .unwrap_or_default()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `graphql-transport-ws`, the graphql-ws library's protocol.
    TransportWs,
    /// `graphql-ws`, subscriptions-transport-ws's protocol.
    LegacyWs,
    /// GraphQL over SSE, distinct connections.
    Sse,
    /// Apollo's multipart subscriptions.
    Multipart,
}

pub const ALL_PROTOCOLS: [Protocol; 4] = [
    Protocol::TransportWs,
    Protocol::LegacyWs,
    Protocol::Sse,
    Protocol::Multipart,
];

/// What a subscriber saw, in the protocol's own terms mapped onto one vocabulary.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// A response (`next`, `data`, an SSE `next` event, a multipart `payload`).
    Next(Value),
    /// The server completed the operation.
    Complete,
    /// An operation error message (WebSocket protocols).
    Error(Value),
    /// The connection ended: a WebSocket close frame's code, or `None` for a bare end.
    Closed(Option<u16>),
}

/// One subscription over a real connection. A task reads the connection and hands over what it
/// parsed, so waiting with a timeout never loses half a message; dropping the subscriber drops
/// the connection.
pub struct Subscriber {
    pub protocol: Protocol,
    frames: mpsc::UnboundedReceiver<Frame>,
    reader: JoinHandle<()>,
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl Subscriber {
    async fn start(gateway: &Gateway, protocol: Protocol, request: Value) -> Self {
        let (sender, frames) = mpsc::unbounded_channel();
        let reader = match protocol {
            Protocol::TransportWs | Protocol::LegacyWs => {
                let socket = ws_connect(gateway, protocol).await;
                tokio::spawn(read_ws(socket, protocol, request, sender))
            }
            Protocol::Sse => {
                let response = http_stream(gateway, "text/event-stream", request).await;
                tokio::spawn(read_sse(response, sender))
            }
            Protocol::Multipart => {
                let accept = "multipart/mixed;subscriptionSpec=\"1.0\", application/json";
                let response = http_stream(gateway, accept, request).await;
                tokio::spawn(read_multipart(response, sender))
            }
        };
        Subscriber {
            protocol,
            frames,
            reader,
        }
    }

    /// The next frame within `within`, if any.
    pub async fn frame_within(&mut self, within: Duration) -> Option<Frame> {
        tokio::time::timeout(within, self.frames.recv())
            .await
            .ok()
            .map(|frame| frame.unwrap_or(Frame::Closed(None)))
    }

    /// The next response; fails on anything else or after [`PATIENCE`].
    pub async fn next_response(&mut self) -> Value {
        match self.frame_within(PATIENCE).await {
            Some(Frame::Next(response)) => response,
            other => panic!(
                "{:?}: expected a response within {PATIENCE:?}, got {other:?}",
                self.protocol
            ),
        }
    }

    /// The next response whose body is `body`, skipping reviews other tests added (only for
    /// tests that share a bridge topic with others).
    pub async fn next_with_body(&mut self, body: &str) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.frame_within(left).await {
                Some(Frame::Next(response)) if body_of(&response) == body => return response,
                Some(Frame::Next(_)) => continue,
                other => panic!(
                    "{:?}: expected the review {body:?}, got {other:?}",
                    self.protocol
                ),
            }
        }
    }

    /// Asserts nothing arrives for `quiet` (heartbeats are not frames).
    pub async fn assert_quiet(&mut self, quiet: Duration) {
        if let Some(frame) = self.frame_within(quiet).await {
            panic!("{:?}: expected nothing, got {frame:?}", self.protocol);
        }
    }

    /// [`sync`] for this subscriber alone; nothing but probes may arrive meanwhile.
    pub async fn sync(&mut self, gateway: &Gateway, upc: u32) {
        let others = sync(gateway, upc, &mut [self]).await;
        assert_eq!(others, Vec::<Value>::new(), "responses besides the probes");
    }
}

/// Adds probe reviews of product `upc` through `gateway` until each subscriber has received one,
/// then reads every subscriber up to the last probe sent: afterwards each review added is
/// delivered to each of them, and nothing is pending. Returns the other responses that came
/// meanwhile (other tests' reviews on a shared topic), which strict tests expect to be none.
pub async fn sync(gateway: &Gateway, upc: u32, subscribers: &mut [&mut Subscriber]) -> Vec<Value> {
    sync_within(gateway, upc, subscribers, Duration::from_secs(30)).await
}

pub async fn sync_within(
    gateway: &Gateway,
    upc: u32,
    subscribers: &mut [&mut Subscriber],
    limit: Duration,
) -> Vec<Value> {
    let marker = format!("{} #", unique("probe"));
    let deadline = Instant::now() + limit;
    let mut others = Vec::new();
    // The last probe each subscriber received, once it received one.
    let mut received: Vec<Option<String>> = vec![None; subscribers.len()];
    let mut sent = 0;
    while received.contains(&None) {
        assert!(
            Instant::now() < deadline,
            "no probe review reached every subscriber within {limit:?}"
        );
        gateway.add_review(upc, 1, &format!("{marker}{sent}")).await;
        sent += 1;
        for (subscriber, received) in subscribers.iter_mut().zip(received.iter_mut()) {
            while received.is_none() {
                match subscriber.frame_within(Duration::from_millis(200)).await {
                    Some(Frame::Next(response)) if body_of(&response).starts_with(&marker) => {
                        *received = Some(body_of(&response).to_owned());
                    }
                    Some(Frame::Next(response)) => others.push(response),
                    None => break,
                    Some(other) => {
                        panic!("{:?}: while probing, got {other:?}", subscriber.protocol)
                    }
                }
            }
        }
    }
    // The probes after the first one a subscriber received follow it in order.
    let last = format!("{marker}{}", sent - 1);
    for (subscriber, mut received) in subscribers.iter_mut().zip(received) {
        while received.as_deref() != Some(last.as_str()) {
            let response = subscriber.next_response().await;
            let body = body_of(&response);
            if body.starts_with(&marker) {
                received = Some(body.to_owned());
            } else {
                others.push(response);
            }
        }
    }
    others
}

async fn ws_connect(gateway: &Gateway, protocol: Protocol) -> Socket {
    let subprotocol = match protocol {
        Protocol::TransportWs => "graphql-transport-ws",
        _ => "graphql-ws",
    };
    let mut request = gateway
        .url()
        .replace("http://", "ws://")
        .into_client_request()
        .expect("ws request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(subprotocol),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the WebSocket connects");
    send(&mut socket, json!({ "type": "connection_init" })).await;
    loop {
        let message = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("connection_ack in time")
            .expect("the socket is open")
            .expect("a frame");
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(text.as_str()).expect("JSON");
            assert_eq!(value["type"], "connection_ack", "{value}");
            return socket;
        }
    }
}

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::text(message.to_string()))
        .await
        .expect("send on the WebSocket");
}

async fn read_ws(
    mut socket: Socket,
    protocol: Protocol,
    request: Value,
    frames: mpsc::UnboundedSender<Frame>,
) {
    let kind = match protocol {
        Protocol::TransportWs => "subscribe",
        _ => "start",
    };
    send(
        &mut socket,
        json!({ "id": "1", "type": kind, "payload": request }),
    )
    .await;
    loop {
        let frame = match socket.next().await {
            Some(Ok(Message::Text(text))) => {
                let value: Value = serde_json::from_str(text.as_str()).expect("JSON message");
                match value["type"].as_str().unwrap_or_default() {
                    "next" | "data" => Frame::Next(value["payload"].clone()),
                    "complete" => Frame::Complete,
                    "error" | "connection_error" => Frame::Error(value["payload"].clone()),
                    "ka" | "pong" => continue,
                    "ping" => {
                        send(&mut socket, json!({ "type": "pong" })).await;
                        continue;
                    }
                    other => panic!("unexpected message type {other:?}: {value}"),
                }
            }
            Some(Ok(Message::Close(frame))) => Frame::Closed(frame.map(|f| u16::from(f.code))),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => Frame::Closed(None),
        };
        let closed = matches!(frame, Frame::Closed(_));
        if frames.send(frame).is_err() || closed {
            return;
        }
    }
}

/// POSTs a streaming request and checks the stream began (a refusal fails the test).
async fn http_stream(gateway: &Gateway, accept: &str, request: Value) -> reqwest::Response {
    let response = gateway
        .client
        .post(gateway.url())
        .header("accept", accept)
        .json(&request)
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(response.status(), 200, "{accept}: the stream was refused");
    response
}

/// Reads SSE events (`event: next` / `event: complete`), skipping `:` keep-alive comments.
async fn read_sse(mut response: reqwest::Response, frames: mpsc::UnboundedSender<Frame>) {
    let mut buffer = String::new();
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            let mut name = "";
            let mut data = Vec::new();
            for line in event.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    name = value.trim();
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push(value.trim_start());
                }
            }
            let frame = match name {
                "next" => Frame::Next(serde_json::from_str(&data.join("\n")).expect("JSON data")),
                "complete" => Frame::Complete,
                "" => continue,
                other => panic!("unexpected SSE event {other:?}: {event:?}"),
            };
            if frames.send(frame).is_err() {
                return;
            }
        }
        match response.chunk().await {
            Ok(Some(chunk)) => buffer.push_str(std::str::from_utf8(&chunk).expect("UTF-8")),
            Ok(None) | Err(_) => {
                let _ = frames.send(Frame::Closed(None));
                return;
            }
        }
    }
}

/// Reads multipart parts the way Apollo Client does: a part is complete when the delimiter
/// after it (`\r\n--graphql`) has arrived; `--` after a delimiter closes the body. `{}`
/// heartbeats are skipped.
async fn read_multipart(mut response: reqwest::Response, frames: mpsc::UnboundedSender<Frame>) {
    const DELIMITER: &str = "\r\n--graphql";
    let mut buffer = String::new();
    let mut opened = false;
    loop {
        while let Some(at) = buffer.find(DELIMITER) {
            let message = buffer[..at].to_owned();
            buffer.drain(..at + DELIMITER.len());
            if !opened {
                assert!(
                    message.is_empty(),
                    "text before the first delimiter: {message:?}"
                );
                opened = true;
                continue;
            }
            let body = message
                .split_once("\r\n\r\n")
                .map(|(_, body)| body)
                .unwrap_or_else(|| panic!("a part without headers: {message:?}"));
            let part: Value = serde_json::from_str(body).expect("a JSON part");
            if part == json!({}) {
                continue;
            }
            let frame = match part.get("payload") {
                Some(payload) if !payload.is_null() => Frame::Next(payload.clone()),
                _ => Frame::Error(part),
            };
            if frames.send(frame).is_err() {
                return;
            }
        }
        if opened && buffer.starts_with("--") {
            buffer.clear();
            if frames.send(Frame::Complete).is_err() {
                return;
            }
        }
        match response.chunk().await {
            Ok(Some(chunk)) => buffer.push_str(std::str::from_utf8(&chunk).expect("UTF-8")),
            Ok(None) | Err(_) => {
                let _ = frames.send(Frame::Closed(None));
                return;
            }
        }
    }
}
