//! The subscription engine through `Gateway::subscribe`: an event subgraph (an SDL with no URL)
//! whose subscription fields are fed by the in-process bridge, completed per event from real
//! fixture subgraphs over HTTP.

mod common;
mod support;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use serde_json::{json, Value};

use seam::bridge::memory::MemoryBridge;
use seam::bridge::Bridge;
use seam::config::Config;
use seam::subscriptions::{EventModel, ResponseStream};
use seam::supergraph::Supergraph;
use seam::{Gateway, GraphqlRequest};
use support::fixture::FixtureSubgraph;

const PRODUCTS: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { product(upc: ID!): Product }
type Product @key(fields: "upc") { upc: ID! name: String price: Int }"#;

const REVIEWS: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { review(id: ID!): Review }
type Review @key(fields: "id") { id: ID! body: String author: User product: Product }
type User @key(fields: "id") { id: ID! }
type Product @key(fields: "upc") { upc: ID! }"#;

const ACCOUNTS: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { me: User }
type User @key(fields: "id") { id: ID! username: String }"#;

const EVENTS: &str = r#"extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  @link(url: "https://seam.dev/bridge/v0.1", import: ["@subscribe", "@publish"])

type Review @key(fields: "id", resolvable: false) { id: ID! }

input ReviewInput { id: ID! productUpc: ID! }

type Subscription {
  reviewAdded(productUpc: ID): Review
    @subscribe(topic: "reviews", filter: "productUpc == {args.productUpc}")
  reviewsOf(productUpc: ID): Review @subscribe(topic: "reviews.{args.productUpc}")
}

type Mutation {
  announceReview(review: ReviewInput!): Boolean @publish(topic: "reviews")
  announceReviewOf(review: ReviewInput!): Review
    @publish(topic: "reviews.{args.review.productUpc}")
}"#;

const FULL_REVIEW: &str = "id body product { name price } author { username }";

struct Harness {
    gateway: Arc<Gateway>,
    bridge: MemoryBridge,
    config: Config,
    /// The gateway over HTTP, for mutations.
    url: String,
    reviews: common::Recorded,
    products: common::Recorded,
}

async fn subgraph(sdl: &str, data: Value) -> (String, common::Recorded) {
    let (router, recorded) = common::recording(FixtureSubgraph::new(sdl).data(data).router());
    let addr = common::spawn_router(router).await;
    (format!("http://{addr}/graphql"), recorded)
}

fn write_events_sdl(sdl: &str) -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("seam-events-{}-{n}.graphql", std::process::id()));
    std::fs::write(&path, sdl).expect("write the event subgraph SDL");
    path
}

async fn harness() -> Harness {
    harness_with(EVENTS).await
}

async fn harness_with(events_sdl: &str) -> Harness {
    let (config, reviews, products) = config_with(events_sdl).await;
    harness_of(config, reviews, products).await
}

/// A harness whose streaming clients may have `bytes` of responses waiting.
async fn harness_with_stream_queue(bytes: u64) -> Harness {
    let (mut config, reviews, products) = config_with(EVENTS).await;
    config.limits.max_stream_queue_bytes = bytes;
    harness_of(config, reviews, products).await
}

async fn harness_of(
    config: Config,
    reviews: common::Recorded,
    products: common::Recorded,
) -> Harness {
    let client = reqwest::Client::new();
    let sdl = seam::startup::supergraph_sdl(&config, &client)
        .await
        .expect("compose");
    let supergraph = Supergraph::parse(&sdl).expect("supergraph");
    let events = EventModel::from_config(&config, &supergraph).expect("event model");
    let bridge = MemoryBridge::new();
    let gateway = Arc::new(Gateway::new(
        seam::pipeline::Settings::from_config(Some(&config)),
        Arc::new(bridge.clone()),
    ));
    gateway.swap_schema(supergraph, events);
    let addr = common::spawn_router(seam::http::router(gateway.clone())).await;
    reviews.lock().unwrap().clear();
    products.lock().unwrap().clear();
    Harness {
        gateway,
        bridge,
        config,
        url: format!("http://{addr}/graphql"),
        reviews,
        products,
    }
}

async fn config_with(events_sdl: &str) -> (Config, common::Recorded, common::Recorded) {
    let (products_url, products) = subgraph(
        PRODUCTS,
        json!({ "Product": [
            { "upc": "1", "name": "Table", "price": 899 },
            { "upc": "2", "name": "Couch", "price": 1299 } ] }),
    )
    .await;
    let (reviews_url, reviews) = subgraph(
        REVIEWS,
        json!({ "Review": [
            { "id": "r1", "body": "Love it", "author": { "id": "u1" }, "product": { "upc": "1" } },
            { "id": "r2", "body": "Too soft", "author": { "id": "u2" }, "product": { "upc": "2" } } ] }),
    )
    .await;
    let (accounts_url, _) = subgraph(
        ACCOUNTS,
        json!({ "User": [ { "id": "u1", "username": "ada" }, { "id": "u2", "username": "alan" } ] }),
    )
    .await;
    let events_path = write_events_sdl(events_sdl);
    // These tests count executions per event, which sharing identical subgraph requests in
    // flight would hide: it is off here.
    let yaml = format!(
        "subgraphs:\n  - name: products\n    url: {products_url}\n  - name: reviews\n    url: {reviews_url}\n  - name: accounts\n    url: {accounts_url}\n  - name: events\n    sdl: {}\ntraffic:\n  dedupe_subgraph_requests: false\n",
        events_path.display()
    );
    let config = Config::from_yaml_str(&yaml, std::path::Path::new(".")).expect("config");
    (config, reviews, products)
}

impl Harness {
    async fn subscribe(&self, query: &str, variables: Value) -> ResponseStream {
        match self.try_subscribe(query, variables).await {
            Ok(stream) => stream,
            Err(errors) => panic!("subscribe failed: {errors}"),
        }
    }

    /// The stream, or the request error's body.
    async fn try_subscribe(&self, query: &str, variables: Value) -> Result<ResponseStream, Value> {
        let request = GraphqlRequest {
            query: Some(query.to_owned()),
            variables: variables.as_object().cloned().map(Into::into),
            ..Default::default()
        };
        self.gateway
            .subscribe(request)
            .await
            .map_err(|response| serde_json::from_slice(&response.body).expect("error body"))
    }

    async fn publish(&self, topic: &str, event: Value) {
        self.publish_raw(topic, event.to_string()).await;
    }

    async fn publish_raw(&self, topic: &str, text: impl Into<String>) {
        self.bridge
            .publish(topic, Bytes::from(text.into()))
            .await
            .expect("publish");
    }

    async fn mutate(&self, query: &str) -> Value {
        let response = reqwest::Client::new()
            .post(&self.url)
            .json(&json!({ "query": query }))
            .send()
            .await
            .expect("gateway reachable");
        response.json().await.expect("JSON answer")
    }
}

async fn next(stream: &mut ResponseStream) -> Value {
    let body = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("a response within 5s")
        .expect("the stream is still open");
    serde_json::from_slice(&body).expect("a JSON response")
}

/// Nothing arrives for a while (for events that must be filtered or skipped).
async fn quiet(stream: &mut ResponseStream) {
    if let Ok(item) = tokio::time::timeout(Duration::from_millis(200), stream.next()).await {
        panic!(
            "expected nothing, got {:?}",
            item.map(|b| String::from_utf8_lossy(&b).into_owned())
        );
    }
}

fn full_review(id: &str) -> Value {
    match id {
        "r1" => json!({ "id": "r1", "body": "Love it",
            "product": { "name": "Table", "price": 899 }, "author": { "username": "ada" } }),
        _ => json!({ "id": "r2", "body": "Too soft",
            "product": { "name": "Couch", "price": 1299 }, "author": { "username": "alan" } }),
    }
}

#[tokio::test]
async fn each_event_is_completed_from_the_subgraphs_that_own_its_fields() {
    let h = harness().await;
    let mut stream = h
        .subscribe(
            &format!("subscription {{ reviewAdded {{ {FULL_REVIEW} }} }}"),
            json!({}),
        )
        .await;
    h.publish(
        "reviews",
        json!({ "__typename": "Review", "id": "r1", "productUpc": "1" }),
    )
    .await;
    assert_eq!(
        next(&mut stream).await,
        json!({ "data": { "reviewAdded": full_review("r1") } })
    );
    // `__typename` may be left out of an event whose field returns an object type.
    h.publish("reviews", json!({ "id": "r2", "productUpc": "2" }))
        .await;
    assert_eq!(
        next(&mut stream).await,
        json!({ "data": { "reviewAdded": full_review("r2") } })
    );
    // One `_entities` call to reviews per event; products was asked once per event too.
    assert_eq!(h.reviews.lock().unwrap().len(), 2);
    assert_eq!(h.products.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn responses_are_shaped_like_a_query_with_aliases_and_error_paths() {
    let h = harness().await;
    let mut stream = h
        .subscribe(
            "subscription { added: reviewAdded { key: id text: body product { name } } }",
            json!({}),
        )
        .await;
    h.publish("reviews", json!({ "id": "r1" })).await;
    assert_eq!(
        next(&mut stream).await,
        json!({ "data": { "added": { "key": "r1", "text": "Love it", "product": { "name": "Table" } } } })
    );
    // An event for a review no subgraph knows: its fields are null, the null is explained.
    h.publish("reviews", json!({ "id": "nope" })).await;
    let response = next(&mut stream).await;
    assert_eq!(
        response["data"],
        json!({ "added": { "key": "nope", "text": null, "product": null } })
    );
    // An event without the key the planner needs: the entity fetch cannot run, and says where.
    h.publish("reviews", json!({ "productUpc": "1" })).await;
    let response = next(&mut stream).await;
    assert_eq!(response["data"], json!({ "added": null }), "{response}");
    assert_eq!(
        response["errors"][0]["path"],
        json!(["added", "key"]),
        "{response}"
    );
}

#[tokio::test]
async fn topics_are_filled_from_the_field_arguments() {
    let h = harness().await;
    let mut couch = h
        .subscribe(
            "subscription($upc: ID) { reviewsOf(productUpc: $upc) { id body } }",
            json!({ "upc": "2" }),
        )
        .await;
    h.publish("reviews.1", json!({ "id": "r1" })).await;
    h.publish("reviews.2", json!({ "id": "r2" })).await;
    assert_eq!(
        next(&mut couch).await,
        json!({ "data": { "reviewsOf": { "id": "r2", "body": "Too soft" } } })
    );
    quiet(&mut couch).await;
    // A topic needs its arguments: without one, nothing is subscribed.
    let error = h
        .try_subscribe("subscription { reviewsOf { id } }", json!({}))
        .await
        .err()
        .expect("a request error");
    assert_eq!(
        error["errors"][0]["extensions"]["code"],
        "INVALID_EVENT_TOPIC"
    );
}

#[tokio::test]
async fn filters_keep_matching_events_and_absent_arguments_do_not_filter() {
    let h = harness().await;
    let mut couch = h
        .subscribe(
            r#"subscription { reviewAdded(productUpc: "2") { id } }"#,
            json!({}),
        )
        .await;
    let mut all = h
        .subscribe(
            "subscription { reviewAdded(productUpc: null) { id } }",
            json!({}),
        )
        .await;
    h.publish("reviews", json!({ "id": "r1", "productUpc": "1" }))
        .await;
    // An ID argument matches a number of the same text.
    h.publish("reviews", json!({ "id": "r2", "productUpc": 2 }))
        .await;
    assert_eq!(
        next(&mut couch).await,
        json!({ "data": { "reviewAdded": { "id": "r2" } } })
    );
    quiet(&mut couch).await;
    assert_eq!(
        next(&mut all).await,
        json!({ "data": { "reviewAdded": { "id": "r1" } } })
    );
    assert_eq!(
        next(&mut all).await,
        json!({ "data": { "reviewAdded": { "id": "r2" } } })
    );
}

#[tokio::test]
async fn events_that_are_not_json_objects_are_skipped() {
    let h = harness().await;
    let mut stream = h
        .subscribe("subscription { reviewAdded { id } }", json!({}))
        .await;
    h.publish_raw("reviews", "not json").await;
    h.publish_raw("reviews", "[1, 2]").await;
    h.publish_raw("reviews", "42").await;
    h.publish_raw("reviews", "null").await;
    h.publish("reviews", json!({ "id": "r1" })).await;
    assert_eq!(
        next(&mut stream).await,
        json!({ "data": { "reviewAdded": { "id": "r1" } } })
    );
    quiet(&mut stream).await;
}

#[tokio::test]
async fn identical_subscriptions_share_one_execution_per_event() {
    let h = harness().await;
    let query = "subscription($upc: ID) { reviewAdded(productUpc: $upc) { id body } }";
    let mut first = h.subscribe(query, json!({ "upc": "1" })).await;
    let mut second = h.subscribe(query, json!({ "upc": "1" })).await;
    let mut other = h.subscribe(query, json!({ "upc": "2" })).await;
    assert_eq!(h.gateway.active_subscriptions(), 2);
    for _ in 0..3 {
        h.publish("reviews", json!({ "id": "r1", "productUpc": "1" }))
            .await;
    }
    let expected = json!({ "data": { "reviewAdded": { "id": "r1", "body": "Love it" } } });
    for _ in 0..3 {
        assert_eq!(next(&mut first).await, expected);
        assert_eq!(next(&mut second).await, expected);
    }
    quiet(&mut other).await;
    // Three events, one `_entities` request each, however many clients listen.
    assert_eq!(h.reviews.lock().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_client_is_closed_while_a_fast_one_gets_everything() {
    let h = harness().await;
    let query = "subscription { reviewAdded { id } }";
    let mut fast = h.subscribe(query, json!({})).await;
    let mut slow = h.subscribe(query, json!({})).await;
    const EVENTS: usize = 600;
    let reader = tokio::spawn(async move {
        let mut ids = Vec::new();
        while ids.len() < EVENTS {
            let response = next(&mut fast).await;
            ids.push(
                response["data"]["reviewAdded"]["id"]
                    .as_str()
                    .map(str::to_owned),
            );
        }
        ids
    });
    for i in 0..EVENTS {
        h.publish("reviews", json!({ "id": format!("e{i}") })).await;
        if i % 50 == 49 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let ids = reader.await.expect("the fast reader");
    let expected: Vec<Option<String>> = (0..EVENTS).map(|i| Some(format!("e{i}"))).collect();
    assert_eq!(ids, expected, "the fast client gets every event, in order");
    // The slow client never read: it gets one error, then its stream ends.
    let error = next(&mut slow).await;
    assert_eq!(
        error["errors"][0]["extensions"]["code"],
        "SUBSCRIPTION_CLIENT_TOO_SLOW"
    );
    assert!(error.get("data").is_none());
    let end = tokio::time::timeout(Duration::from_secs(1), slow.next()).await;
    assert!(matches!(end, Ok(None)), "the slow client's stream ends");
}

/// An event whose response is about `size` bytes: its id carries the bulk.
fn bulky_event(i: usize, size: usize) -> Value {
    json!({ "id": format!("e{i}-{}", "x".repeat(size)) })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_with_more_bytes_waiting_than_its_budget_is_closed_and_a_reader_keeps_up() {
    let h = harness_with_stream_queue(8192).await;
    let query = "subscription { reviewAdded { id } }";
    let mut fast = h.subscribe(query, json!({})).await;
    let mut slow = h.subscribe(query, json!({})).await;
    // Ten responses of 2 KB: far fewer than the 256 a queue holds, more bytes than the budget.
    const COUNT: usize = 10;
    for i in 0..COUNT {
        h.publish("reviews", bulky_event(i, 2000)).await;
        let response = next(&mut fast).await;
        let id = response["data"]["reviewAdded"]["id"].as_str().unwrap_or("");
        assert!(
            id.starts_with(&format!("e{i}-")),
            "the reader gets event {i}"
        );
    }
    let error = next(&mut slow).await;
    assert_eq!(
        error["errors"][0]["extensions"]["code"], "SUBSCRIPTION_CLIENT_TOO_SLOW",
        "{error}"
    );
    let message = error["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains("8192 bytes"), "{message}");
    let end = tokio::time::timeout(Duration::from_secs(5), slow.next()).await;
    assert!(matches!(end, Ok(None)), "the slow client's stream ends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_that_stops_reading_has_its_subscriptions_closed_not_buffered() {
    let h = harness_with_stream_queue(65536).await;
    let ws_url = h.url.replacen("http://", "ws://", 1);
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(ws_url)
            .expect("ws request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        http::HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("handshake");
    use futures::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let send = |value: Value| Message::text(value.to_string());
    socket
        .send(send(json!({ "type": "connection_init" })))
        .await
        .expect("init");
    let ack = socket.next().await.expect("ack").expect("ack");
    assert!(ack.to_text().unwrap_or("").contains("connection_ack"));
    // Two subscriptions (different aliases: not shared with each other) on one connection.
    for (id, alias) in [("a", "first"), ("b", "second")] {
        let query = format!("subscription {{ {alias}: reviewAdded {{ id }} }}");
        let message = json!({ "id": id, "type": "subscribe", "payload": { "query": query } });
        socket.send(send(message)).await.expect("subscribe");
    }
    while h.gateway.active_subscriptions() < 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The client reads nothing while responses of 50 KB are produced for both subscriptions,
    // until both are dropped: more than the sockets' buffers take (a few MB), and fewer
    // responses than a queue's 256 — without a byte budget they would wait in the queues.
    const MOST: usize = 250;
    let started = std::time::Instant::now();
    let mut published = 0;
    while published < MOST && h.gateway.live_state().await.slow_subscription_clients < 2 {
        for _ in 0..10 {
            h.publish("reviews", bulky_event(published, 50_000)).await;
            published += 1;
        }
    }
    while h.gateway.live_state().await.slow_subscription_clients < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the stalled connection's subscriptions were never dropped ({published} events)"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Then it reads: each subscription ends with SUBSCRIPTION_CLIENT_TOO_SLOW and `complete`.
    let mut too_slow = std::collections::BTreeSet::new();
    let mut completed = std::collections::BTreeSet::new();
    let mut delivered = 0;
    while completed.len() < 2 {
        let message = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .expect("a message in time")
            .expect("the socket is open")
            .expect("no socket error");
        let Message::Text(text) = message else {
            continue;
        };
        let message: Value = serde_json::from_str(text.as_str()).expect("JSON");
        let id = message["id"].as_str().unwrap_or("").to_owned();
        match message["type"].as_str() {
            Some("next") if message["payload"]["errors"].is_array() => {
                let code = &message["payload"]["errors"][0]["extensions"]["code"];
                assert_eq!(code, "SUBSCRIPTION_CLIENT_TOO_SLOW", "{message}");
                too_slow.insert(id);
            }
            Some("next") => delivered += 1,
            Some("complete") => {
                completed.insert(id);
            }
            Some("ping") => socket
                .send(send(json!({ "type": "pong" })))
                .await
                .expect("pong"),
            _ => panic!("unexpected message {message}"),
        }
    }
    assert_eq!(
        too_slow, completed,
        "each subscription ended with the error"
    );
    assert!(
        delivered < 2 * published,
        "some responses were dropped, not queued"
    );
    // The connection itself carries on.
    while h.gateway.active_subscriptions() > 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let message = json!({ "id": "c", "type": "subscribe",
        "payload": { "query": "subscription { reviewAdded { id } }" } });
    socket.send(send(message)).await.expect("subscribe again");
    while h.gateway.active_subscriptions() < 1 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    h.publish("reviews", json!({ "id": "after" })).await;
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("the new subscription's event")
            .expect("open")
            .expect("no error");
        if let Message::Text(text) = message {
            let message: Value = serde_json::from_str(text.as_str()).expect("JSON");
            assert_eq!(message["payload"]["data"]["reviewAdded"]["id"], "after");
            break;
        }
    }
}

#[tokio::test]
async fn the_last_client_leaving_releases_the_bridge_topic() {
    let h = harness().await;
    let query = "subscription { reviewAdded { id } }";
    let first = h.subscribe(query, json!({})).await;
    let mut second = h.subscribe(query, json!({})).await;
    assert_eq!(h.bridge.topic_count(), 1);
    drop(first);
    h.publish("reviews", json!({ "id": "r1" })).await;
    assert_eq!(
        next(&mut second).await,
        json!({ "data": { "reviewAdded": { "id": "r1" } } })
    );
    assert_eq!(h.bridge.topic_count(), 1);
    drop(second);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while h.bridge.topic_count() > 0 || h.gateway.active_subscriptions() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the topic was never released"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // A new subscriber afterwards starts afresh.
    let mut again = h.subscribe(query, json!({})).await;
    h.publish("reviews", json!({ "id": "r2" })).await;
    assert_eq!(
        next(&mut again).await,
        json!({ "data": { "reviewAdded": { "id": "r2" } } })
    );
}

#[tokio::test]
async fn publish_mutations_send_their_arguments_as_the_event() {
    let h = harness().await;
    let mut stream = h
        .subscribe(
            &format!("subscription {{ reviewAdded {{ {FULL_REVIEW} }} }}"),
            json!({}),
        )
        .await;
    let answer = h
        .mutate(r#"mutation { announceReview(review: { id: "r2", productUpc: "2" }) }"#)
        .await;
    assert_eq!(answer, json!({ "data": { "announceReview": true } }));
    assert_eq!(
        next(&mut stream).await,
        json!({ "data": { "reviewAdded": full_review("r2") } })
    );
    // A field returning the entity answers the event, completed like a subscription event; its
    // topic comes from the input's field.
    let mut couch = h
        .subscribe(
            r#"subscription { reviewsOf(productUpc: "1") { id } }"#,
            json!({}),
        )
        .await;
    let answer = h
        .mutate(
            r#"mutation { announceReviewOf(review: { id: "r1", productUpc: "1" }) { id body } }"#,
        )
        .await;
    assert_eq!(
        answer,
        json!({ "data": { "announceReviewOf": { "id": "r1", "body": "Love it" } } })
    );
    assert_eq!(
        next(&mut couch).await,
        json!({ "data": { "reviewsOf": { "id": "r1" } } })
    );
}

#[tokio::test]
async fn open_subscriptions_survive_a_schema_reload() {
    let h = harness().await;
    let mut stream = h
        .subscribe("subscription { reviewAdded { id body } }", json!({}))
        .await;
    let client = reqwest::Client::new();
    let sdl = seam::startup::supergraph_sdl(&h.config, &client)
        .await
        .expect("compose");
    let supergraph = Supergraph::parse(&sdl).expect("supergraph");
    let events = EventModel::from_config(&h.config, &supergraph).expect("event model");
    h.gateway.swap_schema(supergraph, events);
    h.publish("reviews", json!({ "id": "r1" })).await;
    assert_eq!(
        next(&mut stream).await,
        json!({ "data": { "reviewAdded": { "id": "r1", "body": "Love it" } } })
    );
}

#[tokio::test]
async fn subscribe_refuses_what_it_cannot_serve() {
    let h = harness().await;
    let error = h
        .try_subscribe("{ review(id: \"r1\") { id } }", json!({}))
        .await
        .err()
        .expect("a query is not a subscription");
    assert_eq!(
        error["errors"][0]["extensions"]["code"],
        "NOT_A_SUBSCRIPTION"
    );
    let error = h
        .try_subscribe("subscription { nothing { id } }", json!({}))
        .await
        .err()
        .expect("an unknown field");
    assert_eq!(
        error["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
}

#[tokio::test]
async fn startup_reports_broken_event_directives_by_field() {
    let broken = EVENTS.replace("reviews.{args.productUpc}", "reviews.{args.upc}");
    let (config, _, _) = config_with(&broken).await;
    let error = seam::startup::gateway_from_config(&config, &reqwest::Client::new())
        .await
        .err()
        .expect("a broken topic stops startup");
    assert_eq!(
        error.to_string(),
        "event subgraph `events`, field Subscription.reviewsOf: the topic uses `{args.upc}`, \
         but the field has no argument `upc`"
    );
    // Served from the config, the event subgraph works end to end.
    let (config, _, _) = config_with(EVENTS).await;
    let gateway = seam::startup::gateway_from_config(&config, &reqwest::Client::new())
        .await
        .expect("gateway");
    let request = GraphqlRequest {
        query: Some("subscription { reviewAdded { id body } }".into()),
        ..Default::default()
    };
    let Ok(mut stream) = gateway.subscribe(request).await else {
        panic!("subscribe failed");
    };
    gateway
        .bridge()
        .publish("reviews", Bytes::from_static(br#"{"id":"r2"}"#))
        .await
        .expect("publish");
    assert_eq!(
        next(&mut stream).await,
        json!({ "data": { "reviewAdded": { "id": "r2", "body": "Too soft" } } })
    );
}

/// A bridge written by the embedding application: one tokio broadcast channel per topic, and
/// a record of every publish. Nothing of Seam's own backends is involved.
#[derive(Default)]
struct AppBridge {
    topics:
        std::sync::Mutex<std::collections::HashMap<String, tokio::sync::broadcast::Sender<Bytes>>>,
    published: std::sync::Mutex<Vec<(String, Value)>>,
}

impl AppBridge {
    fn channel(&self, topic: &str) -> tokio::sync::broadcast::Sender<Bytes> {
        self.topics
            .lock()
            .unwrap()
            .entry(topic.to_owned())
            .or_insert_with(|| tokio::sync::broadcast::channel(16).0)
            .clone()
    }
}

impl Bridge for AppBridge {
    fn publish<'a>(
        &'a self,
        topic: &'a str,
        payload: Bytes,
    ) -> futures::future::BoxFuture<'a, Result<(), seam::bridge::BridgeError>> {
        Box::pin(async move {
            let event = serde_json::from_slice(&payload).unwrap_or(Value::Null);
            self.published
                .lock()
                .unwrap()
                .push((topic.to_owned(), event));
            let _ = self.channel(topic).send(payload);
            Ok(())
        })
    }

    fn subscribe<'a>(
        &'a self,
        topic: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<seam::bridge::EventStream, seam::bridge::BridgeError>>
    {
        Box::pin(async move {
            let receiver = self.channel(topic).subscribe();
            let events = tokio_stream::wrappers::BroadcastStream::new(receiver)
                .filter_map(|item| std::future::ready(item.ok().map(Ok)));
            Ok(events.boxed())
        })
    }
}

#[tokio::test]
async fn a_bridge_the_application_wrote_carries_events_both_ways() {
    let (config, _, _) = config_with(EVENTS).await;
    let bridge = Arc::new(AppBridge::default());
    let gateway = Gateway::builder()
        .config(config)
        .bridge(bridge.clone())
        .build_gateway()
        .await
        .expect("gateway with the application's bridge");
    let request = GraphqlRequest::new("subscription { reviewAdded { id body product { name } } }");
    let mut stream = gateway.subscribe(request).await.ok().expect("subscribed");
    // Subscribing reached the application's bridge.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while bridge.channel("reviews").receiver_count() == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never subscribed to `reviews`"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // A mutation of the event subgraph publishes through it, and the subscriber gets the event
    // completed with the other subgraphs' fields.
    let response = gateway
        .execute(GraphqlRequest::new(
            "mutation { announceReview(review: { id: \"r1\", productUpc: \"1\" }) }",
        ))
        .await;
    assert_eq!(
        serde_json::from_slice::<Value>(&response.body).expect("json"),
        json!({ "data": { "announceReview": true } })
    );
    assert_eq!(
        bridge.published.lock().unwrap().clone(),
        vec![(
            "reviews".to_owned(),
            json!({ "id": "r1", "productUpc": "1" })
        )]
    );
    assert_eq!(
        next(&mut stream).await,
        json!({ "data": { "reviewAdded": { "id": "r1", "body": "Love it", "product": { "name": "Table" } } } })
    );
}

/// A subscription whose completion fetches stall while its topic gets more events than the
/// bridge buffers for it loses the oldest, is told how many, and goes on with the newest.
#[tokio::test]
async fn a_subscription_behind_its_topic_is_told_what_it_lost_and_goes_on() {
    let (mut config, _, _) = config_with(EVENTS).await;
    // `reviews` answers only while the gate is open (it is for composing).
    let (open, gate) = tokio::sync::watch::channel(true);
    let reviews = FixtureSubgraph::new(REVIEWS)
        .data(json!({ "Review": [ { "id": "r1", "body": "Love it" } ] }))
        .router()
        .layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let mut gate = gate.clone();
                async move {
                    let _ = gate.wait_for(|open| *open).await;
                    next.run(request).await
                }
            },
        ));
    let reviews_url = format!("http://{}/graphql", common::spawn_router(reviews).await);
    for subgraph in &mut config.subgraphs {
        if subgraph.name == "reviews" {
            subgraph.url = Some(reviews_url.clone());
        }
    }
    let (reviews, products) = (common::Recorded::default(), common::Recorded::default());
    let h = harness_of(config, reviews, products).await;
    let _ = open.send(false);
    let mut stream = h
        .subscribe(
            r#"subscription { reviewAdded(productUpc: "1") { id body } }"#,
            json!({}),
        )
        .await;
    // Events this subscription filters out still take their place in the topic's buffer.
    const FLOOD: usize = 4096 + 500;
    h.publish("reviews", json!({ "id": "r1", "productUpc": "1" }))
        .await;
    for _ in 0..FLOOD {
        h.publish("reviews", json!({ "id": "r1", "productUpc": "2" }))
            .await;
    }
    const LAST: usize = 5;
    for _ in 0..LAST {
        h.publish("reviews", json!({ "id": "r1", "productUpc": "1" }))
            .await;
    }
    let _ = open.send(true);

    let mut lost = None;
    let mut delivered_after_loss = 0;
    while delivered_after_loss < LAST {
        let response = next(&mut stream).await;
        if response["errors"][0]["extensions"]["code"] == "SUBSCRIPTION_EVENTS_LOST" {
            assert!(lost.is_none(), "told once: {response}");
            lost = Some(response);
            continue;
        }
        assert_eq!(
            response,
            json!({ "data": { "reviewAdded": { "id": "r1", "body": "Love it" } } })
        );
        if lost.is_some() {
            delivered_after_loss += 1;
        }
    }
    let lost = lost.expect("told of the loss");
    let message = lost["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("`reviews`"), "{message}");
    assert!(lost.get("data").is_none(), "{lost}");
    quiet(&mut stream).await;
}

/// `limits.max_response_bytes` bounds an event's response too, also when the event needs no
/// fetch and its last value is what passes the limit.
#[tokio::test]
async fn an_event_response_past_the_response_limit_is_refused() {
    let (mut config, reviews, products) = config_with(EVENTS).await;
    config.limits.max_response_bytes = seam::config::limits::Limit::Max(1024);
    let h = harness_of(config, reviews, products).await;
    let mut stream = h
        .subscribe("subscription { reviewAdded { id } }", json!({}))
        .await;
    h.publish("reviews", json!({ "id": "x".repeat(5000) }))
        .await;
    let refused = next(&mut stream).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "RESPONSE_TOO_LARGE",
        "{refused}"
    );
    h.publish("reviews", json!({ "id": "small" })).await;
    assert_eq!(
        next(&mut stream).await,
        json!({ "data": { "reviewAdded": { "id": "small" } } })
    );
}

/// A bridge that refuses topics with `*` as NATS does, and is unreachable for topics under
/// `down.`, saying so in a socket's words.
struct RefusingBridge;

impl Bridge for RefusingBridge {
    fn publish<'a>(
        &'a self,
        topic: &'a str,
        _: Bytes,
    ) -> futures::future::BoxFuture<'a, Result<(), seam::bridge::BridgeError>> {
        Box::pin(async move { Err(refusal(topic)) })
    }

    fn subscribe<'a>(
        &'a self,
        topic: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<seam::bridge::EventStream, seam::bridge::BridgeError>>
    {
        Box::pin(async move { Err(refusal(topic)) })
    }
}

fn refusal(topic: &str) -> seam::bridge::BridgeError {
    if topic.contains('*') {
        seam::bridge::BridgeError::InvalidTopic {
            topic: topic.to_owned(),
            message: "a topic must not hold `*`".to_owned(),
        }
    } else {
        seam::bridge::BridgeError::Unavailable {
            backend: "nats",
            message: "Connection refused (os error 111) to 10.1.2.3:4222".to_owned(),
        }
    }
}

/// A topic the backend refuses is the request's fault (`INVALID_EVENT_TOPIC`); an unreachable
/// backend is `BRIDGE_UNAVAILABLE`, without the backend's own words.
#[tokio::test]
async fn bridge_refusals_say_whose_fault_without_the_backends_words() {
    let (config, _, _) = config_with(EVENTS).await;
    let gateway = Gateway::builder()
        .config(config)
        .bridge(Arc::new(RefusingBridge))
        .build_gateway()
        .await
        .expect("gateway");
    let refused = |upc: &str| {
        GraphqlRequest::new(format!(
            r#"subscription {{ reviewsOf(productUpc: "{upc}") {{ id }} }}"#
        ))
    };
    let publish = |upc: &str| {
        GraphqlRequest::new(format!(
            r#"mutation {{ announceReviewOf(review: {{ id: "r1", productUpc: "{upc}" }}) {{ id }} }}"#
        ))
    };
    for (upc, code) in [("*", "INVALID_EVENT_TOPIC"), ("1", "BRIDGE_UNAVAILABLE")] {
        let body = match gateway.subscribe(refused(upc)).await {
            Ok(_) => panic!("subscribed to a refused topic"),
            Err(response) => response.body,
        };
        let mut answers = vec![serde_json::from_slice::<Value>(&body).expect("json")];
        let response = gateway.execute(publish(upc)).await;
        answers.push(serde_json::from_slice(&response.body).expect("json"));
        for answer in answers {
            assert_eq!(answer["errors"][0]["extensions"]["code"], code, "{answer}");
            let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
            assert!(!message.contains("os error"), "{message}");
            assert!(!message.contains("10.1.2.3"), "{message}");
        }
    }
}
