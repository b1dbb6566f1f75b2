//! A real subgraph (with a query that takes as long as it is told) and an event subgraph fed by
//! the bridge, behind Seam's own server loop — in this process, or as the `seam` binary — and
//! clients that speak raw HTTP/1.1, SSE, multipart and both WebSocket protocols.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_graphql::{Context, EmptyMutation, EmptySubscription, Object, Schema};
use async_graphql_axum::GraphQL;
use axum::Router;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use seam::config::Config;
use seam::http::server::{serve, ServerSettings};
use seam::http::ProtocolSettings;

/// How long a test waits for something that must happen.
pub const PATIENCE: Duration = Duration::from_secs(15);

pub const PUBLISH_TOKEN: &str = "server-tests-token";

pub const TICKS: &str = "subscription { ticks { n } }";

const EVENTS_SDL: &str = r#"
extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  @link(url: "https://seam.dev/bridge/v0.1", import: ["@subscribe"])

type Subscription {
  ticks: Tick! @subscribe(topic: "ticks")
}

type Tick {
  n: Int!
}
"#;

/// How many `slow` queries the subgraph has begun.
#[derive(Clone, Default)]
pub struct Started(Arc<AtomicUsize>);

impl Started {
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    /// Waits until `n` slow queries have reached the subgraph.
    pub async fn reached(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while self.count() < n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the slow query never reached the subgraph"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

struct Query;

#[Object]
impl Query {
    async fn hello(&self) -> &'static str {
        "world"
    }

    /// Answers after `ms` milliseconds.
    async fn slow(&self, ctx: &Context<'_>, ms: u64) -> String {
        if let Ok(started) = ctx.data::<Started>() {
            started.0.fetch_add(1, Ordering::SeqCst);
        }
        tokio::time::sleep(Duration::from_millis(ms)).await;
        format!("slept {ms} ms")
    }
}

/// The subgraph on a free port; its URL and its counter of slow queries begun.
pub async fn spawn_subgraph() -> (String, Started) {
    let started = Started::default();
    let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .data(started.clone())
        .finish();
    let router = Router::new().route_service("/graphql", GraphQL::new(schema));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the subgraph");
    let addr = listener.local_addr().expect("subgraph address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (format!("http://{addr}/graphql"), started)
}

/// A scratch directory with the event subgraph's SDL.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "seam-server-tests-{name}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    std::fs::write(dir.join("events.graphql"), EVENTS_SDL).expect("events SDL");
    dir
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A config for the subgraph at `url`, the event subgraph and the publish endpoint, with
/// `extra` (top-level YAML, e.g. a `limits:` section) appended.
pub fn config_yaml(url: &str, dir: &Path, extra: &str) -> String {
    format!(
        "subgraphs:\n  - name: things\n    url: {url}\n    timeout: 10m\n  - name: events\n    sdl: {}\n\
         bridge:\n  publish_token: {PUBLISH_TOKEN}\n{extra}",
        dir.join("events.graphql").display()
    )
}

/// Seam in this process, served by its own server loop with the config's limits.
pub struct Seam {
    pub addr: std::net::SocketAddr,
    pub started: Started,
    pub shutdown: CancellationToken,
    pub client: reqwest::Client,
    pub served: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Seam {
    /// Starts with `extra` config YAML (e.g. "limits:\n  idle_timeout: 500ms\n").
    pub async fn start(extra: &str) -> Self {
        let (url, started) = spawn_subgraph().await;
        let dir = scratch_dir("inproc");
        let config = Config::from_yaml_str(&config_yaml(&url, &dir, extra), Path::new("."))
            .expect("a valid config");
        let client = reqwest::Client::new();
        let gateway = seam::startup::gateway_from_config(&config, &client)
            .await
            .expect("the gateway starts");
        let shutdown = CancellationToken::new();
        let protocol = ProtocolSettings::default().with_limits(&config.limits, shutdown.clone());
        let clients = protocol.clients.clone();
        let app = seam::http::router_with(gateway, protocol);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the gateway");
        let addr = listener.local_addr().expect("gateway address");
        let settings = ServerSettings::from_config(Some(&config));
        let served = tokio::spawn(serve(listener, app, settings, clients));
        Seam {
            addr,
            started,
            shutdown,
            client,
            served,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/graphql", self.addr)
    }

    /// POSTs `query` to `/graphql`; the status and the JSON body.
    pub async fn query(&self, query: &str) -> (u16, Value) {
        post_query(&self.client, &self.url("/graphql"), query).await
    }

    /// Publishes a tick until `receivers` have each seen one, so they are known to be
    /// subscribed (subscribing is asynchronous on every protocol).
    pub async fn publish_tick(&self, n: i64) {
        publish_tick(&self.client, &self.url("/bridge/publish"), n).await;
    }
}

pub async fn post_query(client: &reqwest::Client, url: &str, query: &str) -> (u16, Value) {
    let response = client
        .post(url)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("the gateway answers");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

pub async fn publish_tick(client: &reqwest::Client, url: &str, n: i64) {
    let response = client
        .post(url)
        .bearer_auth(PUBLISH_TOKEN)
        .json(&json!({ "topic": "ticks", "payload": { "n": n } }))
        .send()
        .await
        .expect("the publish endpoint answers");
    assert_eq!(response.status().as_u16(), 202, "publish failed");
}

/// The `extensions.code` of a body's first error.
pub fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

/// Reads from a raw socket until the server closes it; fails if it does not within
/// [`PATIENCE`]. What was read before the close is returned.
pub async fn closed_by_server(stream: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_) => panic!("the server kept the connection open"),
            Ok(Ok(0)) | Ok(Err(_)) => return seen,
            Ok(Ok(n)) => seen.extend_from_slice(&buffer[..n]),
        }
    }
}

/// One HTTP/1.1 exchange on a raw keep-alive connection: the status and the body.
pub async fn exchange(
    stream: &mut TcpStream,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, String) {
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: seam\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    read_response(stream).await
}

/// Reads one response with a `content-length` body.
pub async fn read_response(stream: &mut TcpStream) -> (u16, String) {
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        if let Some(end) = find(&seen, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&seen[..end]).to_string();
            let status: u16 = head
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .expect("a status line");
            let length: usize = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .unwrap_or(0);
            let body_start = end + 4;
            while seen.len() < body_start + length {
                let n = tokio::time::timeout(PATIENCE, stream.read(&mut buffer))
                    .await
                    .expect("the body in time")
                    .expect("read");
                assert!(n > 0, "the connection closed in the middle of a body");
                seen.extend_from_slice(&buffer[..n]);
            }
            let body = String::from_utf8_lossy(&seen[body_start..body_start + length]).to_string();
            return (status, body);
        }
        let n = tokio::time::timeout(PATIENCE, stream.read(&mut buffer))
            .await
            .expect("a response in time")
            .expect("read");
        assert!(n > 0, "the connection closed before a response");
        seen.extend_from_slice(&buffer[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// An HTTP stream (SSE or multipart) read as text as it arrives.
pub struct TextStream {
    pub status: u16,
    pub body: Value,
    response: Option<reqwest::Response>,
    pub text: String,
}

impl TextStream {
    /// POSTs a subscription with `accept`; a refusal's JSON body is kept in `body`.
    pub async fn open(client: &reqwest::Client, url: &str, accept: &str, query: &str) -> Self {
        let response = client
            .post(url)
            .header("accept", accept)
            .json(&json!({ "query": query }))
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status().as_u16();
        if status != 200 {
            let body = response.json().await.unwrap_or(Value::Null);
            return TextStream {
                status,
                body,
                response: None,
                text: String::new(),
            };
        }
        TextStream {
            status,
            body: Value::Null,
            response: Some(response),
            text: String::new(),
        }
    }

    pub async fn sse(client: &reqwest::Client, url: &str, query: &str) -> Self {
        Self::open(client, url, "text/event-stream", query).await
    }

    pub async fn multipart(client: &reqwest::Client, url: &str, query: &str) -> Self {
        Self::open(
            client,
            url,
            "multipart/mixed;subscriptionSpec=\"1.0\", application/json",
            query,
        )
        .await
    }

    /// Reads until the text so far contains `needle`.
    pub async fn until(&mut self, needle: &str) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        let response = self.response.as_mut().expect("an open stream");
        while !self.text.contains(needle) {
            match tokio::time::timeout_at(deadline, response.chunk()).await {
                Err(_) => panic!("`{needle}` did not arrive; got {:?}", self.text),
                Ok(Ok(Some(chunk))) => self.text.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(_) => panic!("the stream ended before `{needle}`; got {:?}", self.text),
            }
        }
    }

    /// Reads to the end of the stream; fails if it does not end in time.
    pub async fn read_to_end(&mut self) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        let response = self.response.as_mut().expect("an open stream");
        loop {
            match tokio::time::timeout_at(deadline, response.chunk()).await {
                Err(_) => panic!("the stream did not end; got {:?}", self.text),
                Ok(Ok(Some(chunk))) => self.text.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(Err(error)) => panic!("the stream broke: {error}; got {:?}", self.text),
                Ok(Ok(None)) => return,
            }
        }
    }
}

/// A WebSocket client of either GraphQL protocol.
pub struct Ws {
    socket: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>,
}

/// The outcome of a WebSocket handshake: a socket, or the HTTP refusal.
pub enum Handshake {
    Open(Box<Ws>),
    Refused(u16, Value),
}

impl Ws {
    pub async fn handshake(url: &str, subprotocol: &str) -> Handshake {
        let mut request = url.into_client_request().expect("ws request");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_str(subprotocol).expect("protocol"),
        );
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => Handshake::Open(Box::new(Ws { socket })),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let status = response.status().as_u16();
                let body = response
                    .body()
                    .as_ref()
                    .and_then(|b| serde_json::from_slice(b).ok())
                    .unwrap_or(Value::Null);
                Handshake::Refused(status, body)
            }
            Err(other) => panic!("websocket handshake failed: {other}"),
        }
    }

    /// Connects and completes `connection_init` ▶ `connection_ack`.
    pub async fn connect(url: &str, subprotocol: &str) -> Ws {
        let Handshake::Open(ws) = Self::handshake(url, subprotocol).await else {
            panic!("the WebSocket was refused");
        };
        let mut ws = *ws;
        ws.send(json!({ "type": "connection_init" })).await;
        assert_eq!(ws.recv().await["type"], "connection_ack");
        ws
    }

    /// Subscribes `id` to `query` in this socket's protocol.
    pub async fn subscribe(&mut self, legacy: bool, id: &str, query: &str) {
        let kind = if legacy { "start" } else { "subscribe" };
        self.send(json!({ "id": id, "type": kind, "payload": { "query": query } }))
            .await;
    }

    pub async fn send(&mut self, message: Value) {
        self.send_text(message.to_string()).await;
    }

    pub async fn send_text(&mut self, text: String) {
        self.socket.send(Message::text(text)).await.expect("send");
    }

    /// The next JSON message other than a legacy keep-alive.
    pub async fn recv(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(PATIENCE, self.socket.next())
                .await
                .expect("a message in time")
                .expect("the socket is open")
                .expect("no socket error");
            if let Message::Text(text) = message {
                let value: Value = serde_json::from_str(text.as_str()).expect("JSON");
                if value["type"] != "ka" {
                    return value;
                }
            }
        }
    }

    /// The close code the server ended the socket with (skipping other messages).
    pub async fn close_code(&mut self) -> u16 {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Err(_) => panic!("the server did not close the socket"),
                Ok(Some(Ok(Message::Close(Some(frame))))) => return u16::from(frame.code),
                Ok(Some(Ok(Message::Close(None)))) => panic!("a close frame without a code"),
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(error))) => panic!("socket error before a close frame: {error}"),
                Ok(None) => panic!("the socket ended without a close frame"),
            }
        }
    }
}

/// Publishes a tick every 100 ms until dropped: subscribing is asynchronous on every protocol,
/// so a subscriber is known to be subscribed once it has received one.
pub struct Ticker(tokio::task::JoinHandle<()>);

impl Ticker {
    pub fn start(base: &str) -> Self {
        let url = format!("{base}/bridge/publish");
        let client = reqwest::Client::new();
        Ticker(tokio::spawn(async move {
            for n in 1.. {
                publish_tick(&client, &url, n).await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }))
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.0.abort();
    }
}
