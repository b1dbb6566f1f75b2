//! The demo end to end: `reviewAdded` backed by the bridge. A client subscribes over each
//! protocol, `addReview` goes through the gateway to the reviews subgraph, which publishes the
//! new review's key on the bridge, and the subscriber receives the review completed with data
//! from products and accounts. Everything runs over real sockets: the demo subgraphs and the
//! gateway on ports of their own, the clients speaking each protocol's wire format.

mod protocols_support;
mod subscriptions_support;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use protocols_support::{Closed, WsClient};
use seam::bridge::SharedBridge;
use subscriptions_support::{
    body_of, demo_subgraphs, expected_review, sync, Gateway, Protocol, REVIEW_ADDED,
};

/// The demo in this process: subgraphs and gateway sharing one in-process bridge.
async fn demo() -> Gateway {
    let bridge: SharedBridge = Arc::new(seam::bridge::memory::MemoryBridge::new());
    let yaml = demo_subgraphs(bridge.clone()).await;
    Gateway::start(&subscriptions_support::config(&yaml), Some(bridge)).await
}

const QUIET: Duration = Duration::from_millis(400);

/// Two reviews of different products by different users: each arrives as its own response,
/// completed from products (name, price) and reviews/accounts (username), and nothing else.
async fn each_review_arrives_completed(protocol: Protocol) {
    let demo = demo().await;
    let mut subscriber = demo.subscribe(protocol, None).await;
    subscriber.sync(&demo, 1).await;

    demo.add_review(7, 3, "Sturdy and light").await;
    assert_eq!(
        subscriber.next_response().await,
        expected_review(7, 3, "Sturdy and light")
    );
    demo.add_review(42, 20, "Arrived late \"but\" fine").await;
    assert_eq!(
        subscriber.next_response().await,
        expected_review(42, 20, "Arrived late \"but\" fine")
    );
    subscriber.assert_quiet(QUIET).await;
}

/// `productUpc` filters: a filtered subscriber gets only its product's reviews, while an
/// unfiltered one on the same gateway shows the others were announced too.
async fn a_product_filter_keeps_only_that_products_reviews(protocol: Protocol) {
    let demo = demo().await;
    let mut filtered = demo.subscribe(protocol, Some(2)).await;
    let mut everything = demo.subscribe(protocol, None).await;
    let others = sync(&demo, 2, &mut [&mut filtered, &mut everything]).await;
    assert_eq!(others, Vec::<Value>::new());

    let added = [
        (1, 4, "one"),
        (2, 5, "two"),
        (3, 6, "three"),
        (2, 7, "two again"),
        (20, 8, "twenty"),
    ];
    for (upc, author, body) in added {
        demo.add_review(upc, author, body).await;
    }
    for (upc, author, body) in added {
        assert_eq!(
            everything.next_response().await,
            expected_review(upc, author, body)
        );
    }
    for (upc, author, body) in added.iter().filter(|(upc, ..)| *upc == 2) {
        assert_eq!(
            filtered.next_response().await,
            expected_review(*upc, *author, body)
        );
    }
    filtered.assert_quiet(QUIET).await;
    everything.assert_quiet(Duration::ZERO).await;
}

/// Twenty reviews added one after the other arrive in that order, once each.
async fn reviews_arrive_in_order_once_each(protocol: Protocol) {
    let demo = demo().await;
    let mut subscriber = demo.subscribe(protocol, None).await;
    subscriber.sync(&demo, 1).await;

    let added: Vec<(u32, u32, String)> = (1..=20)
        .map(|n| (n % 7 + 1, n % 20 + 1, format!("review {n:02}")))
        .collect();
    for (upc, author, body) in &added {
        demo.add_review(*upc, *author, body).await;
    }
    let mut received = Vec::new();
    for _ in &added {
        received.push(subscriber.next_response().await);
    }
    let expected: Vec<Value> = added
        .iter()
        .map(|(upc, author, body)| expected_review(*upc, *author, body))
        .collect();
    assert_eq!(
        received.iter().map(body_of).collect::<Vec<_>>(),
        expected.iter().map(body_of).collect::<Vec<_>>(),
        "in order, once each"
    );
    assert_eq!(received, expected);
    subscriber.assert_quiet(QUIET).await;
}

macro_rules! demo_flow_over {
    ($module:ident, $protocol:expr) => {
        mod $module {
            use super::*;

            #[tokio::test]
            async fn each_new_review_arrives_completed_from_three_subgraphs() {
                each_review_arrives_completed($protocol).await;
            }

            #[tokio::test]
            async fn a_product_filter_keeps_only_that_products_reviews() {
                super::a_product_filter_keeps_only_that_products_reviews($protocol).await;
            }

            #[tokio::test]
            async fn twenty_reviews_arrive_in_order_once_each() {
                reviews_arrive_in_order_once_each($protocol).await;
            }
        }
    };
}

demo_flow_over!(graphql_transport_ws, Protocol::TransportWs);
demo_flow_over!(legacy_graphql_ws, Protocol::LegacyWs);
demo_flow_over!(sse, Protocol::Sse);
demo_flow_over!(multipart, Protocol::Multipart);

// Bad messages against the real demo gateway: each gets its protocol's error, and the gateway
// keeps serving (the protocol tests cover the full list against a scripted service).

fn ws_url(demo: &Gateway) -> String {
    demo.url().replace("http://", "ws://")
}

/// The next message that is not a legacy keep-alive.
async fn recv(client: &mut WsClient) -> Value {
    loop {
        let message = client.recv().await;
        if message["type"] != "ka" {
            return message;
        }
    }
}

async fn transport_client(demo: &Gateway) -> WsClient {
    let mut client = WsClient::connect(&ws_url(demo), Some("graphql-transport-ws")).await;
    client.send(json!({ "type": "connection_init" })).await;
    assert_eq!(recv(&mut client).await, json!({ "type": "connection_ack" }));
    client
}

fn subscribe(id: &str, query: &str, variables: Value) -> Value {
    json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } })
}

fn assert_error_code(message: &Value, id: &str, code: &str) {
    assert_eq!(message["type"], "error", "{message}");
    assert_eq!(message["id"], id, "{message}");
    assert_eq!(
        message["payload"][0]["extensions"]["code"], code,
        "{message}"
    );
}

/// Operations the gateway refuses get an `error` for their id; the connection stays open and a
/// valid subscription on it then gets its reviews.
#[tokio::test]
async fn graphql_transport_ws_refuses_bad_operations_and_keeps_the_connection() {
    let demo = demo().await;
    let mut client = transport_client(&demo).await;
    let cases = [
        (
            "unknown-field",
            "subscription { reviewDeleted { id } }",
            json!({}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "syntax",
            "subscription { reviewAdded { body }",
            json!({}),
            "GRAPHQL_PARSE_FAILED",
        ),
        (
            "bad-variable",
            REVIEW_ADDED,
            json!({ "upc": { "not": "a string" } }),
            "VALIDATION_INVALID_TYPE_VARIABLE",
        ),
    ];
    for (id, query, variables, code) in cases {
        client.send(subscribe(id, query, variables)).await;
        let refused = recv(&mut client).await;
        assert_error_code(&refused, id, code);
    }
    // A query over the socket: one `next`, then `complete`.
    client
        .send(subscribe(
            "query",
            "{ topProducts(first: 1) { name } }",
            json!({}),
        ))
        .await;
    assert_eq!(
        recv(&mut client).await,
        json!({ "id": "query", "type": "next", "payload": { "data": { "topProducts": [{ "name": "Product 1" }] } } })
    );
    assert_eq!(
        recv(&mut client).await,
        json!({ "id": "query", "type": "complete" })
    );
    client
        .send(subscribe("live", REVIEW_ADDED, json!({ "upc": "5" })))
        .await;
    // The subscription is live once a review of product 5 comes through.
    let mut body = String::new();
    for attempt in 0..50 {
        demo.add_review(5, 2, &format!("after the errors {attempt}"))
            .await;
        if let Ok(message) =
            tokio::time::timeout(Duration::from_millis(200), recv(&mut client)).await
        {
            assert_eq!(message["id"], "live", "{message}");
            body = body_of(&message["payload"]).to_owned();
            break;
        }
    }
    assert!(body.starts_with("after the errors"), "no review arrived");
}

/// The protocol's breaches close the socket with its close codes.
#[tokio::test]
async fn graphql_transport_ws_closes_with_the_protocol_code_for_each_breach() {
    let demo = demo().await;
    let url = ws_url(&demo);

    let mut early = WsClient::connect(&url, Some("graphql-transport-ws")).await;
    early.send(subscribe("1", REVIEW_ADDED, json!({}))).await;
    assert_eq!(early.closed().await.code, 4401, "subscribe before init");

    let mut garbage = transport_client(&demo).await;
    garbage.send_text("{\"type\": \"subscribe\", ").await;
    assert_eq!(garbage.closed().await.code, 4400, "not JSON");

    let mut unknown = transport_client(&demo).await;
    unknown
        .send(json!({ "type": "unsubscribe", "id": "1" }))
        .await;
    assert_eq!(unknown.closed().await.code, 4400, "unknown message type");

    let mut binary = transport_client(&demo).await;
    binary.send_binary(b"\x00\x01").await;
    assert_eq!(binary.closed().await.code, 4400, "binary frame");

    let mut twice = transport_client(&demo).await;
    twice.send(json!({ "type": "connection_init" })).await;
    assert_eq!(
        twice.closed().await,
        Closed {
            code: 4429,
            reason: "Too many initialisation requests".into()
        }
    );

    let mut duplicate = transport_client(&demo).await;
    duplicate
        .send(subscribe("same", REVIEW_ADDED, json!({})))
        .await;
    duplicate
        .send(subscribe("same", REVIEW_ADDED, json!({})))
        .await;
    assert_eq!(duplicate.closed().await.code, 4409, "a live id reused");

    // The gateway still serves: a fresh subscriber gets a review.
    let mut subscriber = demo.subscribe(Protocol::TransportWs, None).await;
    subscriber.sync(&demo, 3).await;
}

/// The legacy protocol answers bad messages with `connection_error` / `error`, and a refused
/// operation with its errors as a result, and keeps the connection, as its clients expect; a
/// good `start` afterwards works.
#[tokio::test]
async fn legacy_graphql_ws_answers_bad_messages_with_errors_and_keeps_the_connection() {
    let demo = demo().await;
    let mut client = WsClient::connect(&ws_url(&demo), Some("graphql-ws")).await;
    client.send(json!({ "type": "connection_init" })).await;
    assert_eq!(recv(&mut client).await, json!({ "type": "connection_ack" }));

    client.send_text("not json at all").await;
    assert_eq!(recv(&mut client).await["type"], "connection_error");

    client
        .send(json!({ "type": "start", "id": "no-payload" }))
        .await;
    let refused = recv(&mut client).await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["id"], "no-payload", "{refused}");

    client
        .send(json!({ "type": "start", "id": "invalid", "payload": { "query": "subscription { reviewAdded { nope } }" } }))
        .await;
    // A refused operation is a result with its errors, then `complete`, as the protocol's
    // reference server answers one.
    let refused = recv(&mut client).await;
    assert_eq!(refused["type"], "data", "{refused}");
    assert_eq!(refused["id"], "invalid", "{refused}");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{refused}"
    );
    assert_eq!(
        recv(&mut client).await,
        json!({ "id": "invalid", "type": "complete" })
    );

    client
        .send(json!({ "type": "start", "id": "live", "payload": { "query": REVIEW_ADDED, "variables": { "upc": "9" } } }))
        .await;
    let mut delivered = None;
    for attempt in 0..50 {
        demo.add_review(9, 4, &format!("legacy {attempt}")).await;
        if let Ok(message) =
            tokio::time::timeout(Duration::from_millis(200), recv(&mut client)).await
        {
            delivered = Some(message);
            break;
        }
    }
    let message = delivered.expect("a review arrives after the bad messages");
    assert_eq!(message["type"], "data", "{message}");
    assert_eq!(message["id"], "live", "{message}");
    assert_eq!(
        message["payload"]["data"]["reviewAdded"]["author"]["username"],
        "user4"
    );

    client.send(json!({ "type": "stop", "id": "live" })).await;
    client.send(json!({ "type": "connection_terminate" })).await;
    assert_eq!(client.closed().await.code, 1000);
}

/// SSE and multipart refuse a bad subscription before it starts, with GraphQL errors (over SSE
/// in a `next` event, as graphql-sse asks; over multipart as one JSON answer); the gateway keeps
/// streaming to good ones.
#[tokio::test]
async fn http_streams_refuse_bad_subscriptions_with_graphql_errors() {
    let demo = demo().await;
    let accepts = [
        "text/event-stream",
        "multipart/mixed;subscriptionSpec=\"1.0\", application/json",
    ];
    for accept in accepts {
        let invalid = demo
            .client
            .post(demo.url())
            .header("accept", accept)
            .json(&json!({ "query": "subscription { reviewAdded { nope } }" }))
            .send()
            .await
            .expect("answer");
        let status = invalid.status();
        let text = invalid.text().await.expect("a body");
        let json = match text.strip_prefix("event: next\ndata: ") {
            Some(events) => events.split('\n').next().unwrap_or_default(),
            None => text.as_str(),
        };
        let body: Value = serde_json::from_str(json).expect("a JSON body");
        assert_eq!(status, 200, "{accept}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
            "{accept}: {body}"
        );

        let malformed = demo
            .client
            .post(demo.url())
            .header("accept", accept)
            .header("content-type", "application/json")
            .body("{\"query\": ")
            .send()
            .await
            .expect("answer");
        assert_eq!(malformed.status(), 400, "{accept}");
    }
    let mut sse = demo.subscribe(Protocol::Sse, None).await;
    let mut multipart = demo.subscribe(Protocol::Multipart, None).await;
    let others = sync(&demo, 4, &mut [&mut sse, &mut multipart]).await;
    assert_eq!(others, Vec::<Value>::new());
}
