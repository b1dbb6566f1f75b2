//! Header rules: which client headers reach the subgraphs, over HTTP and WebSocket, for queries
//! and for the sockets of subgraph subscriptions. Two real async-graphql subgraphs record the
//! headers of every request they get (HTTP POSTs and WebSocket upgrades alike).

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_graphql::{Context, EmptyMutation, Object, Schema, SimpleObject, Subscription, ID};
use async_graphql_axum::{GraphQL, GraphQLSubscription};
use axum::extract::Request;
use axum::middleware::{from_fn, Next};
use axum::routing::post_service;
use axum::Router;
use futures::{SinkExt, Stream, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use common::spawn_router;
use seam::config::Config;

const WAIT: Duration = Duration::from_secs(10);

/// What one subgraph request carried: method, and headers with lower-case names.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    headers: Vec<(String, String)>,
}

impl Seen {
    fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn is_upgrade(&self) -> bool {
        self.method == "GET" && self.get("upgrade").is_some()
    }
}

type Log = Arc<Mutex<Vec<Seen>>>;

fn recording_headers(router: Router) -> (Router, Log) {
    let log: Log = Arc::default();
    let sink = log.clone();
    let router = router.layer(from_fn(move |request: Request, next: Next| {
        let sink = sink.clone();
        async move {
            let headers = request
                .headers()
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("?").to_owned()))
                .collect();
            sink.lock().unwrap().push(Seen {
                method: request.method().to_string(),
                headers,
            });
            next.run(request).await
        }
    }));
    (router, log)
}

// ---------------------------------------------------------------------------------------------
// `users` owns `User.name` and a `ticks` subscription; `reviews` adds `User.reviews`.

#[derive(SimpleObject)]
struct User {
    id: ID,
    name: String,
}

struct UsersQuery;

#[Object(name = "Query")]
impl UsersQuery {
    async fn me(&self) -> User {
        User {
            id: ID("1".into()),
            name: "Ada".into(),
        }
    }

    #[graphql(entity)]
    async fn user_by_id(&self, id: ID) -> User {
        User {
            id,
            name: "Ada".into(),
        }
    }
}

struct UsersSubscription;

#[Subscription(name = "Subscription")]
impl UsersSubscription {
    /// 1, 2, 3, … every 100 ms, for as long as the socket stays open.
    async fn ticks(&self, _ctx: &Context<'_>) -> impl Stream<Item = i32> {
        futures::stream::unfold(0, |n| async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Some((n + 1, n + 1))
        })
    }
}

fn users() -> Router {
    let schema = Schema::build(UsersQuery, EmptyMutation, UsersSubscription)
        .enable_federation()
        .enable_subscription_in_federation()
        .finish();
    Router::new().route(
        "/graphql",
        post_service(GraphQL::new(schema.clone())).get_service(GraphQLSubscription::new(schema)),
    )
}

#[derive(SimpleObject)]
#[graphql(name = "User")]
struct UserReviews {
    id: ID,
    reviews: Vec<String>,
}

struct ReviewsQuery;

#[Object(name = "Query")]
impl ReviewsQuery {
    async fn review_count(&self) -> i32 {
        1
    }

    #[graphql(entity)]
    async fn user_by_id(&self, id: ID) -> UserReviews {
        UserReviews {
            id,
            reviews: vec!["Great".into()],
        }
    }
}

fn reviews() -> Router {
    let schema = Schema::build(
        ReviewsQuery,
        EmptyMutation,
        async_graphql::EmptySubscription,
    )
    .enable_federation()
    .finish();
    Router::new().route_service("/graphql", GraphQL::new(schema))
}

// ---------------------------------------------------------------------------------------------

struct Setup {
    url: String,
    ws_url: String,
    users: Log,
    reviews: Log,
}

/// Both subgraphs and a gateway in front of them with the `headers:` section `rules` (YAML).
async fn setup(rules: &str) -> Setup {
    let (users, users_log) = recording_headers(users());
    let (reviews, reviews_log) = recording_headers(reviews());
    let users_addr = spawn_router(users).await;
    let reviews_addr = spawn_router(reviews).await;
    let yaml = format!(
        "subgraphs:\n  - name: users\n    url: http://{users_addr}/graphql\n  - name: reviews\n    url: http://{reviews_addr}/graphql\n{rules}"
    );
    let config = Config::from_yaml_str(&yaml, Path::new(".")).expect("config");
    let gateway = seam::startup::gateway_from_config(&config, &reqwest::Client::new())
        .await
        .expect("gateway");
    users_log.lock().unwrap().clear();
    reviews_log.lock().unwrap().clear();
    let addr = spawn_router(seam::http::router(gateway)).await;
    Setup {
        url: format!("http://{addr}/graphql"),
        ws_url: format!("ws://{addr}/graphql"),
        users: users_log,
        reviews: reviews_log,
    }
}

impl Setup {
    async fn query(&self, headers: &[(&str, &str)]) -> Value {
        let mut request = reqwest::Client::new()
            .post(&self.url)
            .json(&json!({ "query": "{ me { name reviews } }" }));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let answer: Value = request
            .send()
            .await
            .expect("gateway")
            .json()
            .await
            .expect("json");
        assert_eq!(
            answer,
            json!({ "data": { "me": { "name": "Ada", "reviews": ["Great"] } } })
        );
        answer
    }

    /// The single POST each subgraph got since the last call, then forgets them.
    fn last_posts(&self) -> (Seen, Seen) {
        let take = |log: &Log| {
            let mut log = log.lock().unwrap();
            let posts: Vec<Seen> = log.drain(..).filter(|s| s.method == "POST").collect();
            assert_eq!(posts.len(), 1, "{posts:?}");
            posts.into_iter().next().expect("one")
        };
        (take(&self.users), take(&self.reviews))
    }
}

#[tokio::test]
async fn authorization_reaches_subgraphs_only_when_a_rule_says_so() {
    let bare = setup("").await;
    bare.query(&[("authorization", "Bearer secret"), ("cookie", "sid=1")])
        .await;
    let (users, reviews) = bare.last_posts();
    for seen in [&users, &reviews] {
        assert_eq!(seen.get("authorization"), None, "{seen:?}");
        assert_eq!(seen.get("cookie"), None, "{seen:?}");
    }

    let ruled =
        setup("headers:\n  all:\n    request:\n      - propagate: { named: Authorization }\n")
            .await;
    ruled
        .query(&[("authorization", "Bearer secret"), ("cookie", "sid=1")])
        .await;
    let (users, reviews) = ruled.last_posts();
    for seen in [&users, &reviews] {
        assert_eq!(seen.get("authorization"), Some("Bearer secret"), "{seen:?}");
        assert_eq!(seen.get("cookie"), None, "{seen:?}");
    }
}

#[tokio::test]
async fn rename_default_insert_and_remove_apply_all_first_then_per_subgraph() {
    std::env::set_var("SEAM_TEST_HEADERS_KEY", "from-env");
    let setup = setup(
        r#"headers:
  all:
    request:
      - propagate: { named: x-tenant, rename: x-tenant-id, default: public }
      - insert: { name: x-gateway, value: seam }
      - insert: { name: x-api-key, value: "${SEAM_TEST_HEADERS_KEY}" }
  subgraphs:
    reviews:
      request:
        - remove: { named: x-gateway }
        - insert: { name: x-only-reviews, value: "yes" }
"#,
    )
    .await;
    setup.query(&[]).await;
    let (users, reviews) = setup.last_posts();
    assert_eq!(users.get("x-tenant-id"), Some("public"));
    assert_eq!(users.get("x-gateway"), Some("seam"));
    assert_eq!(users.get("x-api-key"), Some("from-env"));
    assert_eq!(users.get("x-only-reviews"), None);
    assert_eq!(reviews.get("x-tenant-id"), Some("public"));
    assert_eq!(reviews.get("x-gateway"), None);
    assert_eq!(reviews.get("x-only-reviews"), Some("yes"));

    setup.query(&[("x-tenant", "acme")]).await;
    let (users, reviews) = setup.last_posts();
    assert_eq!(users.get("x-tenant-id"), Some("acme"));
    assert_eq!(users.get("x-tenant"), None, "renamed, not copied");
    assert_eq!(reviews.get("x-tenant-id"), Some("acme"));
}

#[tokio::test]
async fn regex_rules_copy_matching_headers_but_never_hop_by_hop_ones() {
    let setup = setup(
        "headers:\n  all:\n    request:\n      - propagate: { matching: '.*' }\n      - remove: { matching: '^x-drop' }\n",
    )
    .await;
    setup
        .query(&[
            ("x-trace", "t1"),
            ("x-drop-me", "gone"),
            ("te", "trailers"),
            ("keep-alive", "timeout=5"),
            ("proxy-authorization", "Basic abc"),
            ("proxy-foo", "bar"),
            ("proxy", "http://evil.example"),
            ("expect", "x-whatever"),
            ("accept-encoding", "identity"),
        ])
        .await;
    let (users, reviews) = setup.last_posts();
    for seen in [&users, &reviews] {
        assert_eq!(seen.get("x-trace"), Some("t1"), "{seen:?}");
        for never in [
            "x-drop-me",
            "te",
            "keep-alive",
            "proxy-authorization",
            "proxy-foo",
            "proxy",
            "expect",
        ] {
            assert_eq!(seen.get(never), None, "{never} in {seen:?}");
        }
        // Seam's own request headers, not the client's.
        assert_eq!(seen.get("content-type"), Some("application/json"));
        assert_ne!(seen.get("accept-encoding"), Some("identity"), "{seen:?}");
    }
    // The Host a subgraph sees is its own address, not the gateway's.
    let gateway_host = setup
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/graphql");
    assert_ne!(users.get("host"), Some(gateway_host));
}

// ---------------------------------------------------------------------------------------------
// WebSocket clients.

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str, payload: Value) -> Socket {
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": payload }),
    )
    .await;
    assert_eq!(next_message(&mut socket).await["type"], "connection_ack");
    socket
}

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::text(message.to_string()))
        .await
        .expect("send");
}

async fn next_message(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(WAIT, socket.next())
            .await
            .expect("a message in time")
            .expect("socket open")
            .expect("socket ok");
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(text.as_str()).expect("json");
            if value["type"] == "ping" {
                send(socket, json!({ "type": "pong" })).await;
                continue;
            }
            return value;
        }
    }
}

const RULES: &str = "headers:\n  all:\n    request:\n      - propagate: { named: authorization }\n      - propagate: { named: x-tenant, rename: x-tenant-id }\n";

#[tokio::test]
async fn connection_init_payload_entries_count_as_client_headers() {
    let setup = setup(RULES).await;
    let mut socket = connect(
        &setup.ws_url,
        json!({ "Authorization": "Bearer ws-token", "headers": { "x-tenant": "acme" } }),
    )
    .await;
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ me { name reviews } }" } }),
    )
    .await;
    let next = next_message(&mut socket).await;
    assert_eq!(
        next["payload"],
        json!({ "data": { "me": { "name": "Ada", "reviews": ["Great"] } } })
    );
    let (users, reviews) = setup.last_posts();
    for seen in [&users, &reviews] {
        assert_eq!(
            seen.get("authorization"),
            Some("Bearer ws-token"),
            "{seen:?}"
        );
        assert_eq!(seen.get("x-tenant-id"), Some("acme"), "{seen:?}");
    }
}

fn upgrades(log: &Log) -> Vec<Seen> {
    log.lock()
        .unwrap()
        .iter()
        .filter(|s| s.is_upgrade())
        .cloned()
        .collect()
}

async fn first_tick(socket: &mut Socket, id: &str) {
    send(
        socket,
        json!({ "id": id, "type": "subscribe", "payload": { "query": "subscription { ticks }" } }),
    )
    .await;
    let next = next_message(socket).await;
    assert_eq!(next["type"], "next", "{next}");
    assert!(next["payload"]["data"]["ticks"].is_i64(), "{next}");
}

#[tokio::test]
async fn subgraph_subscription_sockets_carry_the_forwarded_headers_and_are_shared_only_by_equals() {
    let setup = setup(RULES).await;
    let mut ada = connect(&setup.ws_url, json!({ "authorization": "Bearer ada" })).await;
    first_tick(&mut ada, "a").await;
    let mut bob = connect(&setup.ws_url, json!({ "authorization": "Bearer bob" })).await;
    first_tick(&mut bob, "b").await;
    let mut ada_again = connect(&setup.ws_url, json!({ "authorization": "Bearer ada" })).await;
    first_tick(&mut ada_again, "c").await;

    let sockets = upgrades(&setup.users);
    let mut tokens: Vec<&str> = sockets
        .iter()
        .filter_map(|s| s.get("authorization"))
        .collect();
    tokens.sort();
    // One upstream socket per set of forwarded headers: Ada's second client shares hers.
    assert_eq!(tokens, vec!["Bearer ada", "Bearer bob"], "{sockets:?}");
    assert!(sockets.iter().all(|s| s.get("cookie").is_none()));
}

#[tokio::test]
async fn without_rules_subscription_sockets_carry_no_client_headers() {
    let setup = setup("").await;
    let mut socket = connect(&setup.ws_url, json!({ "authorization": "Bearer ada" })).await;
    first_tick(&mut socket, "a").await;
    let deadline = Instant::now() + WAIT;
    let sockets = loop {
        let sockets = upgrades(&setup.users);
        if !sockets.is_empty() || Instant::now() > deadline {
            break sockets;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(sockets.len(), 1);
    assert_eq!(sockets[0].get("authorization"), None, "{sockets:?}");
}
