//! The fault-test rig of `tests/resilience.rs`: a healthy `catalog` subgraph, a `stock` subgraph
//! whose behaviour the test sets (answer, 503, hang, hold until released) and which counts what
//! it received, the gateway in front of both over real HTTP, and servers that count connections
//! or speak only h2c.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::{EmptySubscription, Object, SDLExportOptions, Schema, SimpleObject};
use axum::body::{to_bytes, Body, Bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{from_fn, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::common::spawn_router;

/// How long a test waits for anything before it calls it a hang.
pub const WAIT: Duration = Duration::from_secs(20);

pub mod catalog {
    use super::*;

    #[derive(SimpleObject, Clone)]
    pub struct Product {
        pub upc: String,
        pub name: String,
    }

    fn product(upc: &str) -> Product {
        Product {
            upc: upc.to_owned(),
            name: format!("Product {upc}"),
        }
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn products(&self) -> Vec<Product> {
            vec![product("1"), product("2")]
        }

        #[graphql(entity)]
        async fn find_product_by_upc(&self, upc: String) -> Product {
            product(&upc)
        }
    }

    pub fn schema() -> Schema<Query, async_graphql::EmptyMutation, EmptySubscription> {
        Schema::build(Query, async_graphql::EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish()
    }
}

pub mod stock {
    use super::*;

    pub struct Product {
        pub upc: String,
    }

    #[Object]
    impl Product {
        async fn upc(&self) -> &str {
            &self.upc
        }

        async fn in_stock(&self) -> Option<bool> {
            Some(self.upc == "1")
        }
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn stock_status(&self) -> Option<&str> {
            Some("in stock")
        }

        #[graphql(entity)]
        async fn find_product_by_upc(&self, upc: String) -> Product {
            Product { upc }
        }
    }

    pub struct Mutation;

    #[Object]
    impl Mutation {
        async fn reserve(&self, upc: String) -> Option<bool> {
            Some(!upc.is_empty())
        }
    }

    pub fn schema() -> Schema<Query, Mutation, EmptySubscription> {
        Schema::build(Query, Mutation, EmptySubscription)
            .enable_federation()
            .finish()
    }
}

/// What `stock` does with a GraphQL request (its `_service` answer always works).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Up,
    /// 503 with a body that is not GraphQL, as a proxy in front of a restarting service says.
    Unavailable,
    /// Never answers.
    Hang,
    /// Waits until the test opens the gate once per request, then answers.
    Gated,
}

#[derive(Default)]
struct Counters {
    hits: AtomicUsize,
    mutations: AtomicUsize,
    health_checks: AtomicUsize,
}

struct Control {
    behaviour: Mutex<Behaviour>,
    /// Behaviours for the next requests, before `behaviour` applies again.
    script: Mutex<VecDeque<Behaviour>>,
    counters: Counters,
    gate: tokio::sync::Semaphore,
    versions: Mutex<Vec<http::Version>>,
}

/// The `stock` subgraph's controls and counts; [`Stock::router`] serves it.
#[derive(Clone)]
pub struct Stock(Arc<Control>);

impl Stock {
    pub fn new(behaviour: Behaviour) -> Self {
        Stock(Arc::new(Control {
            behaviour: Mutex::new(behaviour),
            script: Mutex::default(),
            counters: Counters::default(),
            gate: tokio::sync::Semaphore::new(0),
            versions: Mutex::default(),
        }))
    }

    pub fn set(&self, behaviour: Behaviour) {
        *self.0.behaviour.lock().unwrap() = behaviour;
    }

    /// The next requests meet `behaviours` in order, then the set behaviour again.
    pub fn then(&self, behaviours: &[Behaviour]) {
        self.0.script.lock().unwrap().extend(behaviours);
    }

    /// GraphQL requests received, `_service` aside.
    pub fn hits(&self) -> usize {
        self.0.counters.hits.load(Ordering::SeqCst)
    }

    pub fn mutations(&self) -> usize {
        self.0.counters.mutations.load(Ordering::SeqCst)
    }

    pub fn health_checks(&self) -> usize {
        self.0.counters.health_checks.load(Ordering::SeqCst)
    }

    /// The HTTP versions of the GraphQL requests it answered.
    pub fn versions(&self) -> Vec<http::Version> {
        self.0.versions.lock().unwrap().clone()
    }

    /// Lets one held request through.
    pub fn open_gate(&self) {
        self.0.gate.add_permits(1);
    }

    pub fn router(&self) -> Router {
        let control = self.0.clone();
        let inner = graphql_router(stock::schema());
        let graphql = move |request: Request| {
            let control = control.clone();
            let inner = inner.clone();
            async move {
                let version = request.version();
                let body = to_bytes(request.into_body(), usize::MAX)
                    .await
                    .unwrap_or_default();
                let query = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| v["query"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                if query.contains("_service") {
                    return forward(inner, body).await;
                }
                let counters = &control.counters;
                counters.hits.fetch_add(1, Ordering::SeqCst);
                if query.trim_start().starts_with("mutation") {
                    counters.mutations.fetch_add(1, Ordering::SeqCst);
                }
                let scripted = control.script.lock().unwrap().pop_front();
                let behaviour = scripted.unwrap_or(*control.behaviour.lock().unwrap());
                match behaviour {
                    Behaviour::Up => {}
                    Behaviour::Unavailable => {
                        return (StatusCode::SERVICE_UNAVAILABLE, "upstream unavailable")
                            .into_response()
                    }
                    Behaviour::Hang => std::future::pending::<()>().await,
                    Behaviour::Gated => {
                        if let Ok(permit) = control.gate.acquire().await {
                            permit.forget();
                        }
                    }
                }
                control.versions.lock().unwrap().push(version);
                forward(inner, body).await
            }
        };
        let control = self.0.clone();
        let health = move || {
            let control = control.clone();
            async move {
                control
                    .counters
                    .health_checks
                    .fetch_add(1, Ordering::SeqCst);
                match *control.behaviour.lock().unwrap() {
                    Behaviour::Up => StatusCode::OK,
                    _ => StatusCode::SERVICE_UNAVAILABLE,
                }
            }
        };
        Router::new()
            .route("/graphql", post(graphql))
            .route("/health", get(health))
    }
}

fn graphql_router<Q, M>(schema: Schema<Q, M, EmptySubscription>) -> Router
where
    Q: async_graphql::ObjectType + 'static,
    M: async_graphql::ObjectType + 'static,
{
    Router::new().route_service("/graphql", async_graphql_axum::GraphQL::new(schema))
}

async fn forward(inner: Router, body: Bytes) -> Response {
    let request = Request::post("/graphql")
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("request");
    match inner.oneshot(request).await {
        Ok(response) => response.into_response(),
        Err(never) => match never {},
    }
}

/// `catalog` and `stock` composed, with URLs the config replaces.
fn supergraph_sdl() -> String {
    let options = SDLExportOptions::new().federation().compose_directive();
    let sdls = [
        ("catalog", catalog::schema().sdl_with_options(options)),
        ("stock", stock::schema().sdl_with_options(options)),
    ]
    .map(|(name, sdl)| seam::sources::SubgraphSdl {
        name: name.into(),
        url: Some(format!("http://{name}.invalid/graphql")),
        sdl,
        ..Default::default()
    });
    seam::compose::compose(&sdls).expect("catalog and stock compose")
}

/// Seam over HTTP in front of `catalog` and `stock`.
pub struct Gateway {
    base: String,
    client: reqwest::Client,
    catalog_versions: Arc<Mutex<Vec<http::Version>>>,
    pub gateway: Arc<seam::Gateway>,
    config: seam::config::Config,
}

impl Gateway {
    /// `stock_yaml`: lines under stock's subgraph entry (e.g. `"    timeout: 300ms\n"`);
    /// `top_yaml`: top-level sections (`traffic:`, `limits:`).
    pub async fn start(stock: &Stock, stock_yaml: &str, top_yaml: &str) -> Self {
        Self::start_with_stock_url(stock, None, stock_yaml, top_yaml).await
    }

    /// Like [`Gateway::start`], with stock at `stock_url` instead of a server of its router.
    pub async fn start_with_stock_url(
        stock: &Stock,
        stock_url: Option<String>,
        stock_yaml: &str,
        top_yaml: &str,
    ) -> Self {
        let catalog_versions: Arc<Mutex<Vec<http::Version>>> = Arc::default();
        let sink = catalog_versions.clone();
        let catalog = graphql_router(catalog::schema()).layer(from_fn(
            move |request: Request, next: Next| {
                let sink = sink.clone();
                async move {
                    sink.lock().unwrap().push(request.version());
                    next.run(request).await
                }
            },
        ));
        let catalog_url = format!("http://{}/graphql", spawn_router(catalog).await);
        let stock_url = match stock_url {
            Some(url) => url,
            None => format!("http://{}/graphql", spawn_router(stock.router()).await),
        };
        let yaml = format!(
            "subgraphs:\n  - name: catalog\n    url: {catalog_url}\n  - name: stock\n    url: {stock_url}\n{stock_yaml}{top_yaml}"
        );
        let config = seam::config::Config::from_yaml_str(&yaml, std::path::Path::new("."))
            .unwrap_or_else(|e| panic!("test config: {e}\n{yaml}"));
        let gateway = seam::startup::gateway_from_supergraph(&supergraph_sdl(), Some(&config))
            .expect("gateway");
        let settings = seam::http::ProtocolSettings::from_config(Some(&config), Default::default());
        let addr = spawn_router(seam::http::router_with(gateway.clone(), settings)).await;
        Gateway {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            catalog_versions,
            gateway,
            config,
        }
    }

    /// Swaps in a new schema generation, as a hot reload does.
    pub fn reload(&self) {
        let supergraph = seam::startup::supergraph_model(&supergraph_sdl(), Some(&self.config))
            .expect("supergraph");
        self.gateway.swap_supergraph(supergraph);
    }

    pub async fn post(&self, body: Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&body)
            .send()
            .await
            .expect("gateway reachable");
        let status = response.status();
        let text = response.text().await.expect("body");
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("gateway answered non-JSON ({e}): {text}"));
        (status, value)
    }

    pub async fn query(&self, query: &str) -> Value {
        self.post(json!({ "query": query })).await.1
    }

    pub async fn ready(&self) -> (StatusCode, Value) {
        let response = self
            .client
            .get(format!("{}/ready", self.base))
            .send()
            .await
            .expect("gateway reachable");
        let status = response.status();
        (status, response.json().await.expect("JSON body"))
    }

    /// The breaker state `/ready` reports for `subgraph`.
    pub async fn breaker(&self, subgraph: &str) -> String {
        let (_, ready) = self.ready().await;
        ready["subgraphs"][subgraph]
            .as_str()
            .unwrap_or_else(|| panic!("no state for {subgraph}: {ready}"))
            .to_owned()
    }

    pub async fn wait_for_breaker(&self, subgraph: &str, state: &str) {
        let waited = tokio::time::timeout(WAIT, async {
            while self.breaker(subgraph).await != state {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        assert!(waited.is_ok(), "{subgraph}'s breaker never became {state}");
    }

    pub fn catalog_versions(&self) -> Vec<http::Version> {
        self.catalog_versions.lock().unwrap().clone()
    }
}

/// An HTTP URL on 127.0.0.1 where nothing listens. The port stays bound, never listening, for
/// the rest of the test process: connections to it are refused, and no server another test
/// starts meanwhile can be given it (a released port can be, and would then answer instead).
pub async fn closed_port_url() -> String {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .expect("bind");
    let addr = socket.local_addr().expect("local addr");
    std::mem::forget(socket);
    format!("http://{addr}/graphql")
}

/// Serves `router` over HTTP/1.1 and counts the connections it accepted.
pub async fn serve_counting(router: Router) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let service = TowerToHyperService::new(router.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (format!("http://{addr}/graphql"), accepted)
}

/// Serves `router` over HTTP/2 in cleartext only (h2c with prior knowledge): an HTTP/1.1
/// request gets no answer.
pub async fn serve_h2c(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = TowerToHyperService::new(router.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}
