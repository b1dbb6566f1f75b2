//! The upstream subscription client against real subgraphs over real sockets: an async-graphql
//! subgraph serving `graphql-transport-ws`, and hand-scripted WebSocket servers for the failures
//! async-graphql will not produce (closing mid-subscription, never acknowledging, pinging).

use http::HeaderMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::{Context, EmptyMutation, Object, Schema, Subscription};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use futures::{stream, Stream, StreamExt};
use seam::subscriptions::upstream::{
    UpstreamError, UpstreamEvent, UpstreamOptions, UpstreamStream, Upstreams,
};
use serde_json::{json, Map, Value};
use tokio::sync::broadcast;

const WAIT: Duration = Duration::from_secs(5);

const FEED: &str = "subscription Feed($topic: String!) { feed(topic: $topic) }";

// ---------------------------------------------------------------------------------------------
// An async-graphql subgraph whose subscription resolver counts how often it is started and how
// often its stream is dropped, so the tests see what reached the subgraph.

#[derive(Clone, Default)]
struct Probe {
    /// Subscriptions the subgraph started (one per upstream `subscribe`).
    started: Arc<AtomicUsize>,
    /// Subscription streams the subgraph dropped (on `complete` or a closed socket).
    ended: Arc<AtomicUsize>,
    connections: Arc<AtomicUsize>,
    disconnections: Arc<AtomicUsize>,
}

impl Probe {
    fn started(&self) -> usize {
        self.started.load(Ordering::SeqCst)
    }
    fn ended(&self) -> usize {
        self.ended.load(Ordering::SeqCst)
    }
    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
    fn disconnections(&self) -> usize {
        self.disconnections.load(Ordering::SeqCst)
    }
}

/// Counts the end of one resolver stream when it is dropped.
struct EndOfStream(Arc<AtomicUsize>);

impl Drop for EndOfStream {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// (topic, body) pairs published by the test; a body of `"fail"` becomes a resolver error.
type Feed = broadcast::Sender<(String, String)>;

struct Query;

#[Object]
impl Query {
    async fn ok(&self) -> bool {
        true
    }
}

struct Subscription;

#[Subscription]
impl Subscription {
    /// 1, 2, …, `to`, then the subscription completes.
    async fn count(&self, to: i32) -> impl Stream<Item = i32> {
        stream::iter(1..=to)
    }

    /// What the test publishes on `topic`.
    async fn feed(
        &self,
        ctx: &Context<'_>,
        topic: String,
    ) -> impl Stream<Item = async_graphql::Result<String>> {
        let probe = ctx.data_unchecked::<Probe>().clone();
        let events = ctx.data_unchecked::<Feed>().subscribe();
        probe.started.fetch_add(1, Ordering::SeqCst);
        let end = EndOfStream(probe.ended.clone());
        stream::unfold((events, end), move |(mut events, end)| {
            let topic = topic.clone();
            async move {
                loop {
                    match events.recv().await {
                        Ok((to, body)) if to == topic => {
                            let item = if body == "fail" {
                                Err(async_graphql::Error::new("the feed failed"))
                            } else {
                                Ok(body)
                            };
                            return Some((item, (events, end)));
                        }
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            }
        })
    }
}

type FeedSchema = Schema<Query, EmptyMutation, Subscription>;

#[derive(Clone)]
struct Subgraph {
    schema: FeedSchema,
    probe: Probe,
}

async fn graphql_ws(
    State(subgraph): State<Subgraph>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            subgraph.probe.connections.fetch_add(1, Ordering::SeqCst);
            GraphQLWebSocket::new(socket, subgraph.schema.clone(), protocol)
                .serve()
                .await;
            subgraph.probe.disconnections.fetch_add(1, Ordering::SeqCst);
        })
}

/// Starts the feed subgraph; returns its WebSocket URL, the probe and the publisher.
async fn feed_subgraph() -> (String, Probe, Feed) {
    let probe = Probe::default();
    let (feed, _) = broadcast::channel(64);
    let schema = Schema::build(Query, EmptyMutation, Subscription)
        .data(probe.clone())
        .data(feed.clone())
        .finish();
    let router = Router::new()
        .route("/ws", get(graphql_ws))
        .with_state(Subgraph {
            schema,
            probe: probe.clone(),
        });
    let addr = serve(router).await;
    (format!("ws://{addr}/ws"), probe, feed)
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serve");
    });
    addr
}

// ---------------------------------------------------------------------------------------------
// A scripted graphql-transport-ws server: `script` gets each accepted socket.

async fn scripted<F, Fut>(script: F) -> String
where
    F: Fn(WebSocket) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let handler = move |upgrade: WebSocketUpgrade| {
        let script = script.clone();
        async move {
            upgrade
                .protocols(["graphql-transport-ws"])
                .on_upgrade(script)
        }
    };
    let addr = serve(Router::new().route("/ws", get(handler))).await;
    format!("ws://{addr}/ws")
}

/// The next text message as JSON; `None` when the client closed.
async fn read_json(socket: &mut WebSocket) -> Option<Value> {
    loop {
        match socket.recv().await? {
            Ok(Message::Text(text)) => {
                return Some(serde_json::from_str(text.as_str()).expect("client sent JSON"))
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

async fn send_json(socket: &mut WebSocket, value: Value) {
    socket
        .send(Message::Text(value.to_string().into()))
        .await
        .expect("send to client");
}

/// Reads `connection_init` and acknowledges it.
async fn accept_init(socket: &mut WebSocket) {
    let init = read_json(socket).await.expect("connection_init");
    assert_eq!(init["type"], "connection_init");
    send_json(socket, json!({ "type": "connection_ack" })).await;
}

// ---------------------------------------------------------------------------------------------

fn vars(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("variables must be an object"),
    }
}

fn topic(name: &str) -> Map<String, Value> {
    vars(json!({ "topic": name }))
}

async fn next(stream: &mut UpstreamStream) -> Option<UpstreamEvent> {
    tokio::time::timeout(WAIT, stream.next())
        .await
        .expect("the stream neither yielded nor ended in time")
}

async fn eventually(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn data(value: Value) -> Option<UpstreamEvent> {
    Some(UpstreamEvent::Data(value))
}

#[tokio::test]
async fn events_flow_and_a_completed_subscription_ends_the_stream() {
    let (url, probe, _feed) = feed_subgraph().await;
    let upstreams = Upstreams::new();
    let mut count = upstreams
        .subscribe(
            &url,
            HeaderMap::new(),
            "subscription($to: Int!) { count(to: $to) }",
            vars(json!({ "to": 3 })),
        )
        .await
        .expect("subscribe");
    assert_eq!(next(&mut count).await, data(json!({ "count": 1 })));
    assert_eq!(next(&mut count).await, data(json!({ "count": 2 })));
    assert_eq!(next(&mut count).await, data(json!({ "count": 3 })));
    assert_eq!(next(&mut count).await, None);
    // The subgraph completed the only subscription, so the socket is closed too.
    eventually("the socket is closed", || probe.disconnections() == 1).await;
    assert_eq!(upstreams.connection_count(), 0);
}

#[tokio::test]
async fn identical_subscriptions_share_one_upstream_and_others_share_the_socket() {
    let (url, probe, feed) = feed_subgraph().await;
    let upstreams = Upstreams::new();
    let mut first = upstreams
        .subscribe(&url, HeaderMap::new(), FEED, topic("a"))
        .await
        .expect("subscribe");
    eventually("the subgraph started the feed", || probe.started() == 1).await;
    let mut second = upstreams
        .clone()
        .subscribe(&url, HeaderMap::new(), FEED, topic("a"))
        .await
        .expect("subscribe");

    feed.send(("a".into(), "hello".into())).expect("publish");
    assert_eq!(next(&mut first).await, data(json!({ "feed": "hello" })));
    assert_eq!(next(&mut second).await, data(json!({ "feed": "hello" })));
    assert_eq!(
        probe.started(),
        1,
        "the second subscribe reached the subgraph"
    );

    let mut other = upstreams
        .subscribe(&url, HeaderMap::new(), FEED, topic("b"))
        .await
        .expect("subscribe");
    eventually("the subgraph started the second feed", || {
        probe.started() == 2
    })
    .await;
    feed.send(("b".into(), "for b".into())).expect("publish");
    feed.send(("a".into(), "for a".into())).expect("publish");
    assert_eq!(next(&mut other).await, data(json!({ "feed": "for b" })));
    assert_eq!(next(&mut first).await, data(json!({ "feed": "for a" })));
    assert_eq!(next(&mut second).await, data(json!({ "feed": "for a" })));
    assert_eq!(probe.connections(), 1, "subscriptions were not multiplexed");
    assert_eq!(upstreams.connection_count(), 1);
}

#[tokio::test]
async fn dropping_every_stream_completes_upstream_and_closes_the_socket() {
    let (url, probe, feed) = feed_subgraph().await;
    let upstreams = Upstreams::new();
    let first = upstreams
        .subscribe(&url, HeaderMap::new(), FEED, topic("a"))
        .await
        .expect("subscribe");
    let mut second = upstreams
        .subscribe(&url, HeaderMap::new(), FEED, topic("a"))
        .await
        .expect("subscribe");
    let other = upstreams
        .subscribe(&url, HeaderMap::new(), FEED, topic("b"))
        .await
        .expect("subscribe");
    eventually("the subgraph started both feeds", || probe.started() == 2).await;

    drop(first);
    // One consumer is left: the upstream subscription must go on.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(probe.ended(), 0, "completed while a consumer was left");
    feed.send(("a".into(), "still here".into()))
        .expect("publish");
    assert_eq!(
        next(&mut second).await,
        data(json!({ "feed": "still here" }))
    );

    // The last consumer of `a` leaves: `complete` ends it while `b` keeps the socket open.
    drop(second);
    eventually("the subgraph dropped the feed", || probe.ended() == 1).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(probe.disconnections(), 0, "closed while `b` was open");
    assert_eq!(upstreams.connection_count(), 1);

    drop(other);
    eventually("the subgraph dropped both feeds", || probe.ended() == 2).await;
    eventually("the socket is closed", || probe.disconnections() == 1).await;
    assert_eq!(upstreams.connection_count(), 0);

    // A new subscribe opens a new connection and a new upstream subscription.
    let mut again = upstreams
        .subscribe(&url, HeaderMap::new(), FEED, topic("a"))
        .await
        .expect("subscribe");
    eventually("the subgraph started the feed again", || {
        probe.started() == 3
    })
    .await;
    feed.send(("a".into(), "back".into())).expect("publish");
    assert_eq!(next(&mut again).await, data(json!({ "feed": "back" })));
    assert_eq!(probe.connections(), 2);
}

#[tokio::test]
async fn errors_in_events_are_passed_on_and_the_stream_goes_on() {
    let (url, probe, feed) = feed_subgraph().await;
    let upstreams = Upstreams::new();
    let mut events = upstreams
        .subscribe(&url, HeaderMap::new(), FEED, topic("e"))
        .await
        .expect("subscribe");
    eventually("the subgraph started the feed", || probe.started() == 1).await;
    feed.send(("e".into(), "fail".into())).expect("publish");
    feed.send(("e".into(), "fine".into())).expect("publish");
    match next(&mut events).await {
        Some(UpstreamEvent::Errors(errors)) => {
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0]["message"], "the feed failed");
        }
        other => panic!("expected errors, got {other:?}"),
    }
    assert_eq!(next(&mut events).await, data(json!({ "feed": "fine" })));
}

#[tokio::test]
async fn a_subscription_the_subgraph_rejects_yields_its_errors_and_ends() {
    let (url, _probe, _feed) = feed_subgraph().await;
    let upstreams = Upstreams::new();
    let query = "subscription { noSuchField }";
    for attempt in 0..2 {
        // The second attempt must not join the finished first one (it would wait forever).
        let mut events = upstreams
            .subscribe(&url, HeaderMap::new(), query, Map::new())
            .await
            .expect("subscribe");
        match next(&mut events).await {
            Some(UpstreamEvent::Errors(errors)) => assert!(
                errors[0]["message"]
                    .as_str()
                    .is_some_and(|message| message.contains("noSuchField")),
                "attempt {attempt}: {errors:?}"
            ),
            other => panic!("attempt {attempt}: expected errors, got {other:?}"),
        }
        assert_eq!(next(&mut events).await, None, "attempt {attempt}");
    }
}

#[tokio::test]
async fn a_lagging_consumer_loses_the_oldest_events_without_holding_back_the_others() {
    let (url, probe, feed) = feed_subgraph().await;
    let upstreams = Upstreams::with_options(UpstreamOptions {
        buffer: 2,
        ..UpstreamOptions::default()
    });
    let mut reader = upstreams
        .subscribe(&url, HeaderMap::new(), FEED, topic("l"))
        .await
        .expect("subscribe");
    let mut idle = upstreams
        .subscribe(&url, HeaderMap::new(), FEED, topic("l"))
        .await
        .expect("subscribe");
    eventually("the subgraph started the feed", || probe.started() == 1).await;
    for n in 0..6 {
        feed.send(("l".into(), format!("event {n}")))
            .expect("publish");
        assert_eq!(
            next(&mut reader).await,
            data(json!({ "feed": format!("event {n}") }))
        );
    }
    // Told how many it lost, then the newest the ring still holds, and the stream goes on.
    assert_eq!(next(&mut idle).await, Some(UpstreamEvent::Lost(4)));
    for n in 4..6 {
        assert_eq!(
            next(&mut idle).await,
            data(json!({ "feed": format!("event {n}") }))
        );
    }
    feed.send(("l".into(), "later".into())).expect("publish");
    assert_eq!(next(&mut reader).await, data(json!({ "feed": "later" })));
    assert_eq!(next(&mut idle).await, data(json!({ "feed": "later" })));
    drop(idle);
    feed.send(("l".into(), "after".into())).expect("publish");
    assert_eq!(next(&mut reader).await, data(json!({ "feed": "after" })));
    assert_eq!(probe.ended(), 0);
}

#[tokio::test]
async fn a_subgraph_that_closes_the_socket_fails_every_stream() {
    let url = scripted(|mut socket: WebSocket| async move {
        accept_init(&mut socket).await;
        for _ in 0..2 {
            let subscribe = read_json(&mut socket).await.expect("subscribe");
            assert_eq!(subscribe["type"], "subscribe");
            let id = subscribe["id"].clone();
            send_json(
                &mut socket,
                json!({ "id": id, "type": "next", "payload": { "data": { "n": 1 } } }),
            )
            .await;
        }
        let _ = socket
            .send(Message::Close(Some(CloseFrame {
                code: 1011,
                reason: "shutting down".into(),
            })))
            .await;
    })
    .await;
    let upstreams = Upstreams::new();
    let mut first = upstreams
        .subscribe(&url, HeaderMap::new(), "subscription { n }", Map::new())
        .await
        .expect("subscribe");
    let mut second = upstreams
        .subscribe(&url, HeaderMap::new(), "subscription { n m }", Map::new())
        .await
        .expect("subscribe");
    for stream in [&mut first, &mut second] {
        assert_eq!(next(stream).await, data(json!({ "n": 1 })));
        match next(stream).await {
            Some(UpstreamEvent::Failed(reason)) => {
                assert!(reason.contains("1011"), "{reason}")
            }
            other => panic!("expected Failed, got {other:?}"),
        }
        assert_eq!(next(stream).await, None);
    }
    assert_eq!(upstreams.connection_count(), 0);
}

#[tokio::test]
async fn a_subgraph_that_sends_garbage_fails_the_streams() {
    let url = scripted(|mut socket: WebSocket| async move {
        accept_init(&mut socket).await;
        read_json(&mut socket).await.expect("subscribe");
        let _ = socket.send(Message::Text("{ not json".into())).await;
        // Keep the socket open: the client must give up on its own.
        while read_json(&mut socket).await.is_some() {}
    })
    .await;
    let upstreams = Upstreams::new();
    let mut events = upstreams
        .subscribe(&url, HeaderMap::new(), "subscription { n }", Map::new())
        .await
        .expect("subscribe");
    assert!(matches!(
        next(&mut events).await,
        Some(UpstreamEvent::Failed(_))
    ));
    assert_eq!(next(&mut events).await, None);
}

#[tokio::test]
async fn pings_from_the_subgraph_are_answered() {
    let url = scripted(|mut socket: WebSocket| async move {
        accept_init(&mut socket).await;
        send_json(&mut socket, json!({ "type": "ping" })).await;
        let mut id = None;
        let mut ponged = false;
        while id.is_none() || !ponged {
            let message = read_json(&mut socket).await.expect("a message");
            match message["type"].as_str() {
                Some("subscribe") => id = Some(message["id"].clone()),
                Some("pong") => ponged = true,
                other => panic!("unexpected {other:?}"),
            }
        }
        // Only a client that answered the ping gets its event.
        send_json(
            &mut socket,
            json!({ "id": id, "type": "next", "payload": { "data": { "ponged": true } } }),
        )
        .await;
        while read_json(&mut socket).await.is_some() {}
    })
    .await;
    let upstreams = Upstreams::new();
    let mut events = upstreams
        .subscribe(
            &url,
            HeaderMap::new(),
            "subscription { ponged }",
            Map::new(),
        )
        .await
        .expect("subscribe");
    assert_eq!(next(&mut events).await, data(json!({ "ponged": true })));
}

#[tokio::test]
async fn a_closed_port_is_an_error_at_once() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let upstreams = Upstreams::new();
    let started = Instant::now();
    let result = upstreams
        .subscribe(
            &format!("ws://{addr}/ws"),
            HeaderMap::new(),
            FEED,
            topic("x"),
        )
        .await;
    assert!(
        matches!(result, Err(UpstreamError::Connect { .. })),
        "{:?}",
        result.err()
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(upstreams.connection_count(), 0);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    // Accepts TCP (the backlog does) but never speaks WebSocket.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let silent = format!("ws://{}/ws", listener.local_addr().expect("addr"));
    // Speaks WebSocket but never acknowledges `connection_init`.
    let unacknowledging =
        scripted(
            |mut socket: WebSocket| async move { while read_json(&mut socket).await.is_some() {} },
        )
        .await;
    let upstreams = Upstreams::with_options(UpstreamOptions {
        connect_timeout: Duration::from_millis(300),
        ack_timeout: Duration::from_millis(300),
        ..UpstreamOptions::default()
    });

    let started = Instant::now();
    let (first, second) = tokio::join!(
        upstreams.subscribe(&silent, HeaderMap::new(), FEED, topic("x")),
        upstreams.subscribe(&silent, HeaderMap::new(), FEED, topic("y")),
    );
    assert!(matches!(first, Err(UpstreamError::Connect { .. })));
    assert!(matches!(second, Err(UpstreamError::Connect { .. })));
    let result = upstreams
        .subscribe(&unacknowledging, HeaderMap::new(), FEED, topic("x"))
        .await;
    assert!(matches!(result, Err(UpstreamError::Handshake { .. })));
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(upstreams.connection_count(), 0);
    drop(listener);
}

#[tokio::test]
async fn a_url_that_is_not_a_websocket_is_refused() {
    let result = Upstreams::new()
        .subscribe(
            "http://127.0.0.1:1/graphql",
            HeaderMap::new(),
            FEED,
            topic("x"),
        )
        .await;
    assert!(matches!(result, Err(UpstreamError::InvalidUrl { .. })));
}

#[tokio::test]
async fn keepalive_pings_keep_a_live_subgraph_and_give_up_on_a_mute_one() {
    let options = UpstreamOptions {
        keepalive: Some(Duration::from_millis(100)),
        ..UpstreamOptions::default()
    };

    // async-graphql answers our pings: the subscription outlives many intervals.
    let (url, probe, feed) = feed_subgraph().await;
    let upstreams = Upstreams::with_options(options.clone());
    let mut live = upstreams
        .subscribe(&url, HeaderMap::new(), FEED, topic("k"))
        .await
        .expect("subscribe");
    eventually("the subgraph started the feed", || probe.started() == 1).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    feed.send(("k".into(), "alive".into())).expect("publish");
    assert_eq!(next(&mut live).await, data(json!({ "feed": "alive" })));

    // This one acknowledges, then reads everything and answers nothing, pings included.
    let mute = scripted(|mut socket: WebSocket| async move {
        accept_init(&mut socket).await;
        while read_json(&mut socket).await.is_some() {}
    })
    .await;
    let mut events = upstreams
        .subscribe(&mute, HeaderMap::new(), "subscription { n }", Map::new())
        .await
        .expect("subscribe");
    let started = Instant::now();
    match next(&mut events).await {
        Some(UpstreamEvent::Failed(reason)) => assert!(reason.contains("ping"), "{reason}"),
        other => panic!("expected Failed, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(next(&mut events).await, None);
    // The live subgraph's socket is not affected.
    feed.send(("k".into(), "still alive".into()))
        .expect("publish");
    assert_eq!(
        next(&mut live).await,
        data(json!({ "feed": "still alive" }))
    );
}

#[tokio::test]
async fn a_subgraph_that_stops_reading_fails_every_stream_on_its_socket() {
    // Acknowledges, then never reads again: once the socket buffers are full, a write to it
    // waits for ever.
    let deaf = scripted(|mut socket: WebSocket| async move {
        accept_init(&mut socket).await;
        std::future::pending::<()>().await;
        drop(socket);
    })
    .await;
    let keepalive = Duration::from_millis(300);
    let upstreams = Upstreams::with_options(UpstreamOptions {
        keepalive: Some(keepalive),
        ..UpstreamOptions::default()
    });
    // A subscribe far larger than the loopback socket buffers: its write never finishes.
    let mut huge = upstreams
        .subscribe(
            &deaf,
            HeaderMap::new(),
            "subscription($pad: String!) { n(pad: $pad) }",
            vars(json!({ "pad": "x".repeat(32 << 20) })),
        )
        .await
        .expect("subscribe");
    // Another subscription on the same socket, queued behind that write.
    let mut small = upstreams
        .subscribe(&deaf, HeaderMap::new(), "subscription { n }", Map::new())
        .await
        .expect("subscribe");
    let started = Instant::now();
    for stream in [&mut huge, &mut small] {
        match next(stream).await {
            Some(UpstreamEvent::Failed(reason)) => {
                assert!(reason.contains("did not read"), "{reason}")
            }
            other => panic!("expected Failed, got {other:?}"),
        }
        assert_eq!(next(stream).await, None);
    }
    assert!(
        started.elapsed() < keepalive * 10,
        "{:?}",
        started.elapsed()
    );
    assert_eq!(upstreams.connection_count(), 0);
}
