//! The demo end to end: `reviewAdded` backed by the bridge. A client subscribes over each
//! protocol, `addReview` goes through the gateway to the reviews subgraph, which publishes the
//! new review's key on the bridge, and the subscriber receives the review completed with data
//! from products and accounts.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use common::spawn_router;
use seam::bridge::SharedBridge;
use seam::config::Config;

const SUBSCRIPTION: &str =
    "subscription($upc: String) { reviewAdded(productUpc: $upc) { body product { upc name price } author { username } } }";

struct Demo {
    base: String,
    client: reqwest::Client,
}

/// The demo subgraphs and a gateway sharing `bridge`, all in this process.
async fn demo(bridge: SharedBridge, bridge_yaml: &str) -> Demo {
    let routers = vec![
        ("accounts", seam::demo::accounts_router()),
        ("products", seam::demo::products_router()),
        (
            "reviews",
            seam::demo::reviews_router_with_bridge(bridge.clone()),
        ),
        ("inventory", seam::demo::inventory_router()),
    ];
    let mut yaml = String::from("subgraphs:\n");
    for (name, router) in routers {
        let addr = spawn_router(router).await;
        yaml.push_str(&format!(
            "  - name: {name}\n    url: http://{addr}/graphql\n"
        ));
    }
    yaml.push_str(&format!(
        "  - name: events\n    sdl: {}/schemas/events.graphql\n{bridge_yaml}",
        env!("CARGO_MANIFEST_DIR")
    ));
    let config = Config::from_yaml_str(&yaml, Path::new(".")).expect("demo config");
    let client = reqwest::Client::new();
    let gateway = seam::startup::gateway_from_config_with_bridge(&config, &client, Some(bridge))
        .await
        .expect("demo gateway");
    let addr = spawn_router(seam::http::router(gateway)).await;
    Demo {
        base: format!("http://{addr}"),
        client,
    }
}

impl Demo {
    async fn add_review(&self, upc: &str, body: &str) -> Value {
        self.client
            .post(format!("{}/graphql", self.base))
            .json(&json!({
                "query": "mutation($upc: String!, $body: String!) { addReview(productUpc: $upc, authorId: \"1\", body: $body) { id } }",
                "variables": { "upc": upc, "body": body },
            }))
            .send()
            .await
            .expect("gateway reachable")
            .json()
            .await
            .expect("JSON")
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn ws_subscribe(base: &str, variables: Value) -> Socket {
    let mut request = format!("{}/graphql", base.replace("http://", "ws://"))
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket connects");
    socket
        .send(Message::text(
            json!({ "type": "connection_init" }).to_string(),
        ))
        .await
        .expect("send init");
    let ack = next_message(&mut socket).await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    socket
        .send(Message::text(
            json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIPTION, "variables": variables } })
                .to_string(),
        ))
        .await
        .expect("send subscribe");
    socket
}

async fn next_message(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a message within 5 s")
            .expect("socket open")
            .expect("a frame");
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(&text).expect("JSON message");
            if value["type"] == "ping" {
                continue;
            }
            return value;
        }
    }
}

/// Waits until the subscription reached the bridge: events published before that are not seen.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

fn expected_review(body: &str) -> Value {
    json!({ "data": { "reviewAdded": {
        "body": body,
        "product": { "upc": "1", "name": "Product 1", "price": Value::Null },
        "author": { "username": Value::Null },
    } } })
}

#[tokio::test]
async fn websocket_subscriber_receives_each_new_review_completed_from_three_subgraphs() {
    let bridge: SharedBridge = Arc::new(seam::bridge::memory::MemoryBridge::new());
    let demo = demo(bridge, "").await;
    let mut socket = ws_subscribe(&demo.base, json!({})).await;
    settle().await;
    let added = demo.add_review("1", "Great table").await;
    assert!(added["errors"].is_null(), "{added}");
    let message = next_message(&mut socket).await;
    assert_eq!(message["type"], "next", "{message}");
    let review = &message["payload"]["data"]["reviewAdded"];
    assert_eq!(review["body"], "Great table");
    assert_eq!(review["product"]["upc"], "1");
    assert!(review["product"]["name"].is_string(), "{message}");
    assert!(review["product"]["price"].is_number(), "{message}");
    assert!(review["author"]["username"].is_string(), "{message}");
    let _ = expected_review;
}
