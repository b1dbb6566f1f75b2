//! Test harness: real subgraphs on 127.0.0.1 port 0, a real Seam in front over real HTTP, and a
//! record of every request each subgraph received (to assert on batching and "no call made").
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::middleware::{from_fn, Next};
use axum::response::Response;
use axum::Router;
use serde_json::{json, Value};

use seam::config::Config;

/// Request bodies a subgraph received, in order.
pub type Recorded = Arc<Mutex<Vec<Value>>>;

pub async fn spawn_router(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind test port");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

/// Wraps `router` so every JSON request body is recorded.
pub fn recording(router: Router) -> (Router, Recorded) {
    let recorded: Recorded = Arc::default();
    let sink = recorded.clone();
    let router = router.layer(from_fn(move |request: Request, next: Next| {
        let sink = sink.clone();
        async move {
            let (parts, body) = request.into_parts();
            let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
            if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
                sink.lock().unwrap().push(value);
            }
            let response: Response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            response
        }
    }));
    (router, recorded)
}

pub struct TestSubgraph {
    pub name: String,
    pub url: String,
    pub requests: Recorded,
}

pub struct TestGateway {
    pub url: String,
    pub base: String,
    pub client: reqwest::Client,
    pub subgraphs: Vec<TestSubgraph>,
}

async fn start_subgraphs(subgraphs: Vec<(&str, Router)>) -> Vec<TestSubgraph> {
    let mut out = Vec::new();
    for (name, router) in subgraphs {
        let (router, requests) = recording(router);
        let addr = spawn_router(router).await;
        out.push(TestSubgraph {
            name: name.to_owned(),
            url: format!("http://{addr}/graphql"),
            requests,
        });
    }
    out
}

fn config_for(subgraphs: &[TestSubgraph], extra: &str) -> Config {
    let mut yaml = String::from("subgraphs:\n");
    for s in subgraphs {
        yaml.push_str(&format!(
            "  - name: {}\n    url: {}\n{extra}",
            s.name, s.url
        ));
    }
    Config::from_yaml_str(&yaml, Path::new(".")).expect("test config")
}

impl TestGateway {
    /// Subgraphs composed by Seam itself (`seam serve --config`).
    pub async fn compose(subgraphs: Vec<(&str, Router)>) -> Self {
        Self::compose_with(subgraphs, "").await
    }

    /// Like [`compose`], with extra YAML lines per subgraph (e.g. `"    timeout: 300ms\n"`).
    pub async fn compose_with(subgraphs: Vec<(&str, Router)>, per_subgraph_yaml: &str) -> Self {
        let subgraphs = start_subgraphs(subgraphs).await;
        let config = config_for(&subgraphs, per_subgraph_yaml);
        let client = reqwest::Client::new();
        let gateway = seam::startup::gateway_from_config(&config, &client)
            .await
            .expect("gateway from config");
        for s in &subgraphs {
            s.requests.lock().unwrap().clear(); // forget the `_service` fetches
        }
        Self::serve(gateway, subgraphs).await
    }

    /// A supergraph SDL composed elsewhere (`seam serve --supergraph FILE`); subgraph URLs come
    /// from the running test subgraphs by name.
    pub async fn supergraph(sdl: &str, subgraphs: Vec<(&str, Router)>) -> Self {
        Self::supergraph_with(sdl, subgraphs, "").await
    }

    pub async fn supergraph_with(
        sdl: &str,
        subgraphs: Vec<(&str, Router)>,
        per_subgraph_yaml: &str,
    ) -> Self {
        let subgraphs = start_subgraphs(subgraphs).await;
        let config = config_for(&subgraphs, per_subgraph_yaml);
        let gateway = seam::startup::gateway_from_supergraph(sdl, Some(&config))
            .expect("gateway from supergraph");
        Self::serve(gateway, subgraphs).await
    }

    /// The four demo subgraphs, composed by Seam.
    pub async fn demo() -> Self {
        Self::compose(demo_routers()).await
    }

    async fn serve(gateway: Arc<seam::gateway::Gateway>, subgraphs: Vec<TestSubgraph>) -> Self {
        let addr = spawn_router(seam::http::router(gateway)).await;
        TestGateway {
            url: format!("http://{addr}/graphql"),
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            subgraphs,
        }
    }

    /// POSTs a JSON body; returns the status and the parsed response.
    pub async fn post(&self, body: Value) -> (reqwest::StatusCode, Value) {
        let response = self
            .client
            .post(&self.url)
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

    pub async fn query_with(&self, query: &str, variables: Value) -> Value {
        self.post(json!({ "query": query, "variables": variables }))
            .await
            .1
    }

    pub fn subgraph(&self, name: &str) -> &TestSubgraph {
        self.subgraphs
            .iter()
            .find(|s| s.name == name)
            .expect("subgraph by name")
    }

    /// Bodies the named subgraph received since the last `clear_requests`.
    pub fn requests_to(&self, name: &str) -> Vec<Value> {
        self.subgraph(name).requests.lock().unwrap().clone()
    }

    pub fn clear_requests(&self) {
        for s in &self.subgraphs {
            s.requests.lock().unwrap().clear();
        }
    }

    pub fn total_requests(&self) -> usize {
        self.subgraphs
            .iter()
            .map(|s| s.requests.lock().unwrap().len())
            .sum()
    }
}

pub fn demo_routers() -> Vec<(&'static str, Router)> {
    vec![
        ("accounts", seam::demo::accounts_router()),
        ("products", seam::demo::products_router()),
        ("reviews", seam::demo::reviews_router()),
        ("inventory", seam::demo::inventory_router()),
    ]
}

/// The checked-in demo supergraph (as `seam compose` printed it).
pub fn demo_supergraph_sdl() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schemas/supergraph.graphql"
    ))
    .expect("schemas/supergraph.graphql")
}
