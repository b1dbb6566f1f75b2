//! Subscription fields a subgraph resolves itself. The `reviews` subgraph is a real async-graphql
//! federation subgraph whose `Subscription.reviewAdded` is served over `graphql-transport-ws`;
//! `products` owns `Product.name`. Seam composes both, subscribes to `reviews` upstream and
//! completes every event with `products`' fields, as it would a query.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::{Context, EmptyMutation, Object, Schema, SimpleObject, Subscription, ID};
use async_graphql_axum::{GraphQL, GraphQLProtocol, GraphQLSubscription, GraphQLWebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::{get, post_service};
use axum::Router;
use futures::{stream, SinkExt, Stream, StreamExt};
use serde_json::{json, Value};
use tokio::sync::{broadcast, watch};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use common::{recording, spawn_router, Recorded};
use seam::config::Config;
use seam::subscriptions::ResponseStream;
use seam::{Gateway, GraphqlRequest};

const WAIT: Duration = Duration::from_secs(5);

const REVIEWS: &str =
    "subscription($upc: ID) { added: reviewAdded(upc: $upc) { body product { upc name } } }";

// ---------------------------------------------------------------------------------------------
// The reviews subgraph: `reviewAdded` streams what the test publishes, and counts how often the
// subgraph started and ended such a subscription.

#[derive(Clone, Default)]
struct Probe {
    started: Arc<AtomicUsize>,
    ended: Arc<AtomicUsize>,
}

impl Probe {
    fn started(&self) -> usize {
        self.started.load(Ordering::SeqCst)
    }
    fn ended(&self) -> usize {
        self.ended.load(Ordering::SeqCst)
    }
}

/// Counts the end of a resolver stream (on `complete` or a closed socket) when it is dropped.
struct EndOfStream(Arc<AtomicUsize>);

impl Drop for EndOfStream {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// What the test publishes: (product upc, review body); a body of `"fail"` becomes an error.
type Feed = broadcast::Sender<(String, String)>;

#[derive(SimpleObject, Clone)]
#[graphql(unresolvable = "upc")]
struct Product {
    upc: ID,
}

#[derive(SimpleObject, Clone)]
struct Review {
    body: String,
    product: Product,
}

struct ReviewsQuery;

#[Object(name = "Query")]
impl ReviewsQuery {
    async fn review_count(&self) -> i32 {
        0
    }
}

struct ReviewsSubscription;

#[Subscription(name = "Subscription")]
impl ReviewsSubscription {
    /// Each review published for `upc` (every review when `upc` is null).
    async fn review_added(
        &self,
        ctx: &Context<'_>,
        upc: Option<ID>,
    ) -> impl Stream<Item = async_graphql::Result<Review>> {
        let probe = ctx.data_unchecked::<Probe>().clone();
        let events = ctx.data_unchecked::<Feed>().subscribe();
        probe.started.fetch_add(1, Ordering::SeqCst);
        let end = EndOfStream(probe.ended.clone());
        stream::unfold((events, end), move |(mut events, end)| {
            let wanted = upc.clone();
            async move {
                loop {
                    match events.recv().await {
                        Ok((upc, body)) if wanted.as_ref().is_none_or(|w| w.0 == upc) => {
                            let item = if body == "fail" {
                                Err(async_graphql::Error::new("the review feed failed"))
                            } else {
                                Ok(Review {
                                    body,
                                    product: Product { upc: ID(upc) },
                                })
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

type ReviewsSchema = Schema<ReviewsQuery, EmptyMutation, ReviewsSubscription>;

#[derive(Clone)]
struct ReviewsSocket {
    schema: ReviewsSchema,
    /// Turning it to `true` drops every open socket, as a subgraph that dies does.
    killed: watch::Receiver<bool>,
}

/// `graphql-transport-ws` at `/ws`, served by async-graphql until the subgraph is killed.
async fn reviews_ws(
    State(socket): State<ReviewsSocket>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| async move {
            let mut killed = socket.killed.clone();
            tokio::select! {
                _ = GraphQLWebSocket::new(stream, socket.schema, protocol).serve() => {}
                _ = killed.wait_for(|killed| *killed) => {}
            }
        })
}

struct Reviews {
    router: Router,
    probe: Probe,
    feed: Feed,
    kill: watch::Sender<bool>,
}

/// Queries and `_service` on `POST /graphql`; subscriptions on `/ws` and, through
/// async-graphql-axum's own `GraphQLSubscription`, on `GET /graphql` (the URL Seam assumes when
/// the config names none).
fn reviews() -> Reviews {
    let probe = Probe::default();
    let (feed, _) = broadcast::channel(64);
    let (kill, killed) = watch::channel(false);
    let schema = Schema::build(ReviewsQuery, EmptyMutation, ReviewsSubscription)
        .enable_federation()
        .enable_subscription_in_federation()
        .data(probe.clone())
        .data(feed.clone())
        .finish();
    let router = Router::new()
        .route(
            "/graphql",
            post_service(GraphQL::new(schema.clone()))
                .get_service(GraphQLSubscription::new(schema.clone())),
        )
        .route("/ws", get(reviews_ws))
        .with_state(ReviewsSocket { schema, killed });
    Reviews {
        router,
        probe,
        feed,
        kill,
    }
}

// ---------------------------------------------------------------------------------------------
// The products subgraph: `Product.name` for any upc.

struct ProductsQuery;

#[Object(name = "Query")]
impl ProductsQuery {
    #[graphql(entity)]
    async fn product_by_upc(&self, upc: ID) -> Named {
        Named {
            name: format!("Product {}", upc.0),
            upc,
        }
    }
}

#[derive(SimpleObject)]
#[graphql(name = "Product")]
struct Named {
    upc: ID,
    name: String,
}

fn products() -> Router {
    let schema = Schema::build(
        ProductsQuery,
        EmptyMutation,
        async_graphql::EmptySubscription,
    )
    .enable_federation()
    .finish();
    Router::new().route_service("/graphql", GraphQL::new(schema))
}

// ---------------------------------------------------------------------------------------------

struct Setup {
    gateway: Arc<Gateway>,
    probe: Probe,
    feed: Feed,
    kill: watch::Sender<bool>,
    /// Requests `products` received (the `_entities` fetches that complete events).
    products: Recorded,
}

/// Both subgraphs and a gateway composed from them; `reviews_yaml` is added to the reviews entry.
async fn setup(reviews_yaml: impl FnOnce(&str) -> String) -> Setup {
    let reviews = reviews();
    let reviews_addr = spawn_router(reviews.router).await;
    let (products_router, products) = recording(products());
    let products_addr = spawn_router(products_router).await;
    // Entity fetches are counted per event: sharing identical subgraph requests in flight
    // would hide them, so it is off here.
    let yaml = format!(
        "subgraphs:\n  - name: reviews\n    url: http://{reviews_addr}/graphql\n{}  - name: products\n    url: http://{products_addr}/graphql\ntraffic:\n  dedupe_subgraph_requests: false\n",
        reviews_yaml(&reviews_addr.to_string())
    );
    let config = Config::from_yaml_str(&yaml, Path::new(".")).expect("config");
    let gateway = seam::startup::gateway_from_config(&config, &reqwest::Client::new())
        .await
        .expect("gateway composes");
    products.lock().expect("lock").clear();
    Setup {
        gateway,
        probe: reviews.probe,
        feed: reviews.feed,
        kill: reviews.kill,
        products,
    }
}

/// The usual setup: subscriptions go to the subgraph's `/ws`.
async fn setup_ws() -> Setup {
    setup(|addr| format!("    subscription_url: ws://{addr}/ws\n")).await
}

impl Setup {
    async fn subscribe(&self, query: &str, variables: Value) -> ResponseStream {
        self.try_subscribe(query, variables)
            .await
            .unwrap_or_else(|body| panic!("subscribe failed: {body}"))
    }

    async fn try_subscribe(&self, query: &str, variables: Value) -> Result<ResponseStream, Value> {
        let request = GraphqlRequest {
            query: Some(query.to_owned()),
            variables: serde_json::from_value(variables).expect("variables"),
            ..GraphqlRequest::default()
        };
        self.gateway
            .subscribe(request)
            .await
            .map_err(|response| serde_json::from_slice(&response.body).expect("JSON errors"))
    }

    fn publish(&self, upc: &str, body: &str) {
        self.feed
            .send((upc.to_owned(), body.to_owned()))
            .expect("the subgraph listens");
    }

    fn entity_fetches(&self) -> usize {
        self.products
            .lock()
            .expect("lock")
            .iter()
            .filter(|r| r["query"].as_str().is_some_and(|q| q.contains("_entities")))
            .count()
    }
}

async fn next(stream: &mut ResponseStream) -> Option<Value> {
    let body = tokio::time::timeout(WAIT, stream.next())
        .await
        .expect("the subscription neither answered nor ended in time")?;
    Some(serde_json::from_slice(&body).expect("a JSON response"))
}

async fn eventually(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn review(body: &str, upc: &str) -> Value {
    json!({ "data": { "added": {
        "body": body,
        "product": { "upc": upc, "name": format!("Product {upc}") },
    } } })
}

// ---------------------------------------------------------------------------------------------

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_message(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(WAIT, socket.next())
            .await
            .expect("a message in time")
            .expect("socket open")
            .expect("a frame");
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(&text).expect("JSON message");
            if value["type"] != "ping" {
                return value;
            }
        }
    }
}

#[tokio::test]
async fn events_reach_a_websocket_client_completed_from_the_other_subgraph() {
    let setup = setup_ws().await;
    let addr = spawn_router(seam::http::router(setup.gateway.clone())).await;
    let mut request = format!("ws://{addr}/graphql")
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("Seam accepts the WebSocket");
    socket
        .send(Message::text(
            json!({ "type": "connection_init" }).to_string(),
        ))
        .await
        .expect("init");
    assert_eq!(next_message(&mut socket).await["type"], "connection_ack");
    let subscribe = json!({ "id": "1", "type": "subscribe",
        "payload": { "query": REVIEWS, "variables": { "upc": "2" } } });
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .expect("subscribe");
    eventually("the subgraph started the subscription", || {
        setup.probe.started() == 1
    })
    .await;

    // The argument reached the subgraph: the review of product 1 is not for this client.
    setup.publish("1", "not for us");
    setup.publish("2", "Sturdy");
    setup.publish("2", "Wobbly");
    for body in ["Sturdy", "Wobbly"] {
        let message = next_message(&mut socket).await;
        assert_eq!(message["type"], "next", "{message}");
        assert_eq!(message["id"], "1");
        assert_eq!(message["payload"], review(body, "2"));
    }
    assert_eq!(setup.entity_fetches(), 2, "one `_entities` fetch per event");

    // `complete` from the client ends the subscription at the subgraph too.
    socket
        .send(Message::text(
            json!({ "id": "1", "type": "complete" }).to_string(),
        ))
        .await
        .expect("complete");
    eventually("the subgraph ended the subscription", || {
        setup.probe.ended() == 1
    })
    .await;
}

#[tokio::test]
async fn identical_clients_share_one_upstream_subscription() {
    let setup = setup_ws().await;
    let variables = json!({ "upc": "1" });
    let mut first = setup.subscribe(REVIEWS, variables.clone()).await;
    let mut second = setup.subscribe(REVIEWS, variables.clone()).await;
    // Another operation text asking the subgraph the same thing shares the upstream too.
    let named = REVIEWS.replacen("subscription", "subscription Watch", 1);
    let mut third = setup.subscribe(&named, variables).await;
    eventually("the subgraph started the subscription", || {
        setup.probe.started() == 1
    })
    .await;

    setup.publish("1", "Shared");
    for stream in [&mut first, &mut second, &mut third] {
        assert_eq!(next(stream).await, Some(review("Shared", "1")));
    }
    assert_eq!(
        setup.probe.started(),
        1,
        "the subgraph was subscribed twice"
    );
    // The two identical clients share one execution per event; the named one runs its own.
    assert_eq!(setup.gateway.active_subscriptions(), 2);
    assert_eq!(setup.entity_fetches(), 2);
}

#[tokio::test]
async fn the_upstream_is_completed_when_its_last_client_leaves() {
    let setup = setup_ws().await;
    let first = setup.subscribe(REVIEWS, json!({ "upc": "3" })).await;
    let mut second = setup.subscribe(REVIEWS, json!({ "upc": "3" })).await;
    eventually("the subgraph started the subscription", || {
        setup.probe.started() == 1
    })
    .await;

    drop(first);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(setup.probe.ended(), 0, "completed while a client was left");
    setup.publish("3", "Still here");
    assert_eq!(next(&mut second).await, Some(review("Still here", "3")));

    drop(second);
    eventually("the subgraph ended the subscription", || {
        setup.probe.ended() == 1
    })
    .await;
    eventually("the shared subscription is gone", || {
        setup.gateway.active_subscriptions() == 0
    })
    .await;

    // A new client starts a new upstream subscription.
    let mut again = setup.subscribe(REVIEWS, json!({ "upc": "3" })).await;
    eventually("the subgraph started it again", || {
        setup.probe.started() == 2
    })
    .await;
    setup.publish("3", "Back");
    assert_eq!(next(&mut again).await, Some(review("Back", "3")));
}

#[tokio::test]
async fn a_dying_subgraph_ends_the_subscription_with_an_error() {
    let setup = setup_ws().await;
    let mut stream = setup.subscribe(REVIEWS, json!({})).await;
    eventually("the subgraph started the subscription", || {
        setup.probe.started() == 1
    })
    .await;
    setup.publish("1", "Before");
    assert_eq!(next(&mut stream).await, Some(review("Before", "1")));

    setup.kill.send(true).expect("kill the subgraph's sockets");
    let last = next(&mut stream).await.expect("a final error response");
    assert!(last.get("data").is_none(), "{last}");
    let errors = last["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{last}");
    assert_eq!(
        errors[0]["extensions"]["code"], "SUBSCRIPTION_UPSTREAM_FAILED",
        "{last}"
    );
    assert!(
        errors[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("`reviews`")),
        "{last}"
    );
    assert_eq!(next(&mut stream).await, None, "the stream goes on");
    eventually("the shared subscription is gone", || {
        setup.gateway.active_subscriptions() == 0
    })
    .await;
}

#[tokio::test]
async fn subgraph_errors_reach_the_client_at_their_paths_and_events_go_on() {
    let setup = setup_ws().await;
    let mut stream = setup.subscribe(REVIEWS, json!({ "upc": "4" })).await;
    eventually("the subgraph started the subscription", || {
        setup.probe.started() == 1
    })
    .await;
    setup.publish("4", "fail");
    setup.publish("4", "Fine again");

    let failed = next(&mut stream).await.expect("the error response");
    // `reviewAdded` is non-null, so the error nulls `data`; the path uses the client's alias.
    assert_eq!(failed["data"], Value::Null, "{failed}");
    let errors = failed["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{failed}");
    assert_eq!(errors[0]["message"], "the review feed failed");
    assert_eq!(errors[0]["path"], json!(["added"]));
    assert_eq!(next(&mut stream).await, Some(review("Fine again", "4")));
    assert_eq!(
        setup.entity_fetches(),
        1,
        "an event without data was completed"
    );
}

#[tokio::test]
async fn without_a_subscription_url_the_http_url_is_used_over_websocket() {
    let setup = setup(|_| String::new()).await;
    let mut stream = setup.subscribe(REVIEWS, json!({ "upc": "5" })).await;
    eventually("the subgraph started the subscription", || {
        setup.probe.started() == 1
    })
    .await;
    setup.publish("5", "Via /graphql");
    assert_eq!(next(&mut stream).await, Some(review("Via /graphql", "5")));
}

#[tokio::test]
async fn a_subgraph_that_cannot_be_reached_is_a_request_error() {
    // Bound and never listened on, for the whole test: connections are refused, and no server
    // started meanwhile can be given the port.
    let closed = tokio::net::TcpSocket::new_v4().expect("socket");
    closed
        .bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .expect("bind");
    let closed_addr = closed.local_addr().expect("addr");
    let setup = setup(|_| format!("    subscription_url: ws://{closed_addr}/ws\n")).await;
    let error = match setup.try_subscribe(REVIEWS, json!({})).await {
        Ok(_) => panic!("subscribed to a subgraph that is not there"),
        Err(body) => body,
    };
    assert_eq!(
        error["errors"][0]["extensions"]["code"], "SUBSCRIPTION_UPSTREAM_FAILED",
        "{error}"
    );
    assert_eq!(setup.gateway.active_subscriptions(), 0);
}
