//! Rate limits over real HTTP and WebSocket, in front of the demo subgraphs: per client (by a
//! header or by address) and for the whole gateway, in memory and in the machine's Redis
//! (127.0.0.1:6379) shared by two gateways. Every quota refills over an hour, so no bucket can
//! refill while a test runs, however slow the machine.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use seam::config::Config;
use seam::Gateway;

const PATIENCE: Duration = Duration::from_secs(120);
const REDIS_URL: &str = "redis://127.0.0.1:6379";
const QUERY: &str = "{ topProducts(first: 1) { upc } }";

struct Served {
    addr: std::net::SocketAddr,
    client: reqwest::Client,
}

async fn subgraph_lines() -> String {
    let mut yaml = String::from("subgraphs:\n");
    for (name, router) in common::demo_routers() {
        let addr = common::spawn_router(router).await;
        yaml.push_str(&format!(
            "  - name: {name}\n    url: http://{addr}/graphql\n"
        ));
    }
    yaml
}

async fn gateway(yaml: &str) -> (Config, Arc<Gateway>) {
    let config = Config::from_yaml_str(yaml, Path::new(".")).expect("config");
    let gateway = seam::startup::gateway_from_config(&config, &reqwest::Client::new())
        .await
        .expect("gateway");
    (config, gateway)
}

/// Served as a bare router: the gateway does not learn client addresses.
async fn serve(rate_limit: &str) -> Served {
    let served = common::serve_demo("", rate_limit).await;
    Served {
        addr: served
            .base
            .trim_start_matches("http://")
            .parse()
            .expect("the gateway's address"),
        client: reqwest::Client::new(),
    }
}

/// Served by Seam's own server, which tells the gateway each client's address.
async fn serve_with_addresses(rate_limit: &str) -> Served {
    let (config, gateway) = gateway(&format!("{}{rate_limit}", subgraph_lines().await)).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = seam::http::server::serve_gateway(listener, gateway, Some(&config)).await;
    });
    Served {
        addr,
        client: reqwest::Client::new(),
    }
}

struct Answered {
    status: StatusCode,
    retry_after: Option<u64>,
    body: Value,
}

impl Served {
    async fn post(&self, client_id: Option<&str>) -> Answered {
        let mut request = self
            .client
            .post(format!("http://{}/graphql", self.addr))
            .json(&json!({ "query": QUERY }))
            .timeout(PATIENCE);
        if let Some(id) = client_id {
            request = request.header("x-client-id", id);
        }
        let response = request.send().await.expect("gateway answers");
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        Answered {
            status,
            retry_after,
            body: response.json().await.expect("a JSON body"),
        }
    }
}

impl Answered {
    #[track_caller]
    fn assert_served(&self) {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        assert!(self.body["data"]["topProducts"].is_array(), "{}", self.body);
    }

    /// Refused with 429, `RATE_LIMITED` and a `Retry-After` within the hour-long period.
    #[track_caller]
    fn assert_limited(&self, whose: &str) {
        assert_eq!(self.status, StatusCode::TOO_MANY_REQUESTS, "{}", self.body);
        assert_eq!(
            self.body["errors"][0]["extensions"]["code"], "RATE_LIMITED",
            "{}",
            self.body
        );
        let message = self.body["errors"][0]["message"].as_str().unwrap_or("");
        assert!(message.contains(whose), "{message}");
        let retry_after = self.retry_after.expect("a Retry-After header");
        assert!((1..=3600).contains(&retry_after), "{retry_after}");
        assert!(self.body.get("data").is_none(), "{}", self.body);
    }
}

fn unique(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("seam-test:{what}:{}:{nanos}:", std::process::id())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[tokio::test]
async fn each_client_named_by_a_header_has_its_own_bucket() {
    let served = serve(
        "rate_limit:\n  per_client:\n    requests: 3\n    per: 1h\n    header: x-client-id\n",
    )
    .await;
    for _ in 0..3 {
        served.post(Some("alice")).await.assert_served();
    }
    served.post(Some("alice")).await.assert_limited("client");
    served.post(Some("alice")).await.assert_limited("client");
    // Another client is not held back by the first one.
    for _ in 0..3 {
        served.post(Some("bob")).await.assert_served();
    }
    served.post(Some("bob")).await.assert_limited("client");
}

#[tokio::test]
async fn the_global_limit_holds_for_all_clients_together() {
    let served = serve("rate_limit:\n  global: { requests: 3, per: 1h }\n").await;
    served.post(Some("a")).await.assert_served();
    served.post(Some("b")).await.assert_served();
    served.post(None).await.assert_served();
    served.post(Some("c")).await.assert_limited("gateway");
}

#[tokio::test]
async fn without_a_header_the_client_is_its_address() {
    // Every request of this test comes from 127.0.0.1, so they share one bucket whatever
    // header they carry.
    let served =
        serve_with_addresses("rate_limit:\n  per_client: { requests: 2, per: 1h }\n").await;
    served.post(Some("a")).await.assert_served();
    served.post(Some("b")).await.assert_served();
    served.post(None).await.assert_limited("client");
}

#[tokio::test]
async fn each_websocket_subscribe_counts() {
    let served = serve("rate_limit:\n  global: { requests: 2, per: 1h }\n").await;
    let mut request = format!("ws://{}/graphql", served.addr)
        .into_client_request()
        .expect("ws request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio::time::timeout(PATIENCE, tokio_tungstenite::connect_async(request))
        .await
        .expect("connect in time")
        .expect("connect");
    let mut messages = vec![json!({ "type": "connection_init" })];
    for id in ["1", "2", "3"] {
        messages.push(json!({ "id": id, "type": "subscribe", "payload": { "query": QUERY } }));
    }
    for message in messages {
        socket
            .send(Message::text(message.to_string()))
            .await
            .expect("send");
    }
    let mut answers: Vec<Value> = Vec::new();
    // connection_ack, then `next`+`complete` for two operations and one `error`.
    while answers
        .iter()
        .filter(|m| m["type"] == "complete" || m["type"] == "error")
        .count()
        < 3
    {
        let message = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("an answer in time")
            .expect("the socket stays open")
            .expect("a message");
        if let Message::Text(text) = message {
            answers.push(serde_json::from_str(&text).expect("JSON"));
        }
    }
    // The three operations run side by side on the socket, so which of them finds the bucket
    // empty is not fixed: two answer, one is refused.
    let first = |id: &str| answers.iter().find(|m| m["id"] == id).cloned();
    let firsts: Vec<Value> = ["1", "2", "3"].iter().filter_map(|id| first(id)).collect();
    assert_eq!(firsts.len(), 3, "{answers:?}");
    let answered = firsts.iter().filter(|m| m["type"] == "next").count();
    let refused: Vec<&Value> = firsts.iter().filter(|m| m["type"] == "error").collect();
    assert_eq!((answered, refused.len()), (2, 1), "{answers:?}");
    assert_eq!(
        refused[0]["payload"][0]["extensions"]["code"], "RATE_LIMITED",
        "{answers:?}"
    );
    // The gateway's bucket is empty for plain HTTP too.
    served.post(None).await.assert_limited("gateway");
}

#[tokio::test]
async fn gateways_sharing_a_redis_share_their_limits() {
    let prefix = unique("rate");
    let section = format!(
        "rate_limit:\n  store: redis\n  redis_url: {REDIS_URL}\n  prefix: \"{prefix}\"\n  \
         per_client: {{ requests: 3, per: 1h, header: x-client-id }}\n  \
         global: {{ requests: 5, per: 1h }}\n"
    );
    let first = serve(&section).await;
    let second = serve(&section).await;
    first.post(Some("carol")).await.assert_served();
    second.post(Some("carol")).await.assert_served();
    first.post(Some("carol")).await.assert_served();
    // Carol's three are spent on both replicas together.
    second.post(Some("carol")).await.assert_limited("client");
    first.post(Some("carol")).await.assert_limited("client");
    // Dave has his own count; the gateway's five are spent after his second request.
    second.post(Some("dave")).await.assert_served();
    first.post(Some("dave")).await.assert_served();
    second.post(Some("dave")).await.assert_limited("gateway");

    let client = redis::Client::open(REDIS_URL).expect("redis url");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut connection)
        .await
        .expect("KEYS");
    assert_eq!(keys.len(), 3, "{keys:?}");
    for key in keys {
        let ttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(&mut connection)
            .await
            .expect("PTTL");
        assert!(ttl > 0 && ttl <= 3_600_000, "{key}: {ttl}");
        let _: i64 = redis::cmd("DEL")
            .arg(&key)
            .query_async(&mut connection)
            .await
            .expect("DEL");
    }
}

#[tokio::test]
async fn a_redis_that_is_away_lets_requests_through() {
    let served = serve(&format!(
        "rate_limit:\n  store: redis\n  redis_url: redis://127.0.0.1:{}\n  \
         global: {{ requests: 1, per: 1h }}\n",
        free_port()
    ))
    .await;
    for _ in 0..3 {
        served.post(None).await.assert_served();
    }
}
