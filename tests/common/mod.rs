//! Test harness: real subgraphs on 127.0.0.1 port 0, a real Seam in front over real HTTP, and a
//! record of every request each subgraph received (to assert on batching and "no call made").
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::middleware::{from_fn, Next};
use axum::response::Response;
use axum::Router;
use serde_json::{json, Value};

use seam::config::Config;

/// The demo subgraphs behind a gateway built from YAML: `per_subgraph` lines under each
/// subgraph, `top_level` lines after them; served with that config's HTTP settings.
pub struct ServedDemo {
    pub gateway: Arc<seam::Gateway>,
    pub url: String,
    pub base: String,
}

pub async fn serve_demo(per_subgraph: &str, top_level: &str) -> ServedDemo {
    let mut yaml = String::from("subgraphs:\n");
    for (name, router) in demo_routers() {
        let addr = spawn_router(router).await;
        yaml.push_str(&format!(
            "  - name: {name}\n    url: http://{addr}/graphql\n{per_subgraph}"
        ));
    }
    yaml.push_str(top_level);
    let config = Config::from_yaml_str(&yaml, Path::new(".")).expect("config");
    let gateway = seam::startup::gateway_from_config(&config, &reqwest::Client::new())
        .await
        .expect("gateway");
    let settings = seam::http::ProtocolSettings::from_config(Some(&config), Default::default());
    let addr = spawn_router(seam::http::router_with(gateway.clone(), settings)).await;
    ServedDemo {
        gateway,
        url: format!("http://{addr}/graphql"),
        base: format!("http://{addr}"),
    }
}

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
    config_with_top_level(subgraphs, extra, "")
}

/// A config listing `subgraphs` (each with the `per_subgraph` YAML lines) followed by the
/// `top_level` YAML lines (e.g. `"override_labels: [my-label]\n"`).
fn config_with_top_level(
    subgraphs: &[TestSubgraph],
    per_subgraph: &str,
    top_level: &str,
) -> Config {
    let mut yaml = String::from("subgraphs:\n");
    for s in subgraphs {
        yaml.push_str(&format!(
            "  - name: {}\n    url: {}\n{per_subgraph}",
            s.name, s.url
        ));
    }
    yaml.push_str(top_level);
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

    /// Like [`compose_with`], with top-level YAML lines too (e.g. `"introspection: false\n"`).
    pub async fn compose_with_config(
        subgraphs: Vec<(&str, Router)>,
        per_subgraph_yaml: &str,
        top_level_yaml: &str,
    ) -> Self {
        let subgraphs = start_subgraphs(subgraphs).await;
        let config = config_with_top_level(&subgraphs, per_subgraph_yaml, top_level_yaml);
        let gateway = seam::startup::gateway_from_config(&config, &reqwest::Client::new())
            .await
            .expect("gateway from config");
        for s in &subgraphs {
            s.requests.lock().unwrap().clear();
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

    /// Like [`supergraph_with`], with top-level YAML lines (e.g. an `auth:` section).
    pub async fn supergraph_with_config(
        sdl: &str,
        subgraphs: Vec<(&str, Router)>,
        top_level_yaml: &str,
    ) -> Self {
        let subgraphs = start_subgraphs(subgraphs).await;
        let config = config_with_top_level(&subgraphs, "", top_level_yaml);
        let gateway = seam::startup::gateway_from_supergraph(sdl, Some(&config))
            .expect("gateway from supergraph");
        Self::serve(gateway, subgraphs).await
    }

    /// The four demo subgraphs, composed by Seam.
    pub async fn demo() -> Self {
        Self::compose(demo_routers()).await
    }

    async fn serve(gateway: Arc<seam::Gateway>, subgraphs: Vec<TestSubgraph>) -> Self {
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

    /// The value of one series of `GET /metrics`, as [`metric_series`] reads it.
    pub async fn metric(&self, series: &str) -> Option<String> {
        metric_series(&self.client, &self.base, series).await
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

/// Where the federation parity scenarios live: one directory of subgraph SDLs (`<name>.graphql`),
/// their data (`<name>.json`) and the supergraphs Apollo and Hive composed from them.
pub fn scenario_dir(scenario: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/federation")
        .join(scenario)
}

/// The subgraph names of a scenario: its `<name>.graphql` files, bar the `supergraph.*` outputs.
pub fn scenario_subgraphs(dir: &Path) -> Vec<String> {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().to_str().map(str::to_owned))
        .filter(|file| !file.starts_with("supergraph."))
        .filter_map(|file| file.strip_suffix(".graphql").map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// The URL composition tools are given for a subgraph in the checked-in supergraphs (see
/// tests/fixtures/compose/compose.mjs); the tests route by subgraph name instead.
pub fn placeholder_url(subgraph: &str) -> String {
    format!("http://{subgraph}.invalid/graphql")
}

/// One federation scenario served three ways over one set of running subgraphs: Seam composing
/// from a config (`seam serve --config`), and Seam serving the supergraphs Apollo's and Hive's
/// composition libraries produced (`seam serve --supergraph`). Each answer must be the same and
/// right, whoever composed the supergraph.
pub struct Parity {
    pub dir: PathBuf,
    /// `("seam", …)`, `("apollo", …)`, `("hive", …)`.
    pub gateways: Vec<(&'static str, TestGateway)>,
    /// Our composition of the scenario's SDL files, with the placeholder URLs.
    pub composed_sdl: String,
}

impl Parity {
    /// Starts `routers` (one per `<name>.graphql` of the scenario, by that name) once, and the
    /// three gateways over them.
    pub async fn start(scenario: &str, routers: Vec<(&str, Router)>) -> Self {
        Self::start_with(scenario, routers, "").await
    }

    /// Like [`Parity::start`], with top-level YAML lines added to every gateway's config (e.g.
    /// `"override_labels: [my-label]\n"`).
    pub async fn start_with(
        scenario: &str,
        routers: Vec<(&str, Router)>,
        extra_config_yaml: &str,
    ) -> Self {
        let dir = scenario_dir(scenario);
        let expected = scenario_subgraphs(&dir);
        let mut given: Vec<String> = routers.iter().map(|(name, _)| name.to_string()).collect();
        given.sort();
        assert_eq!(
            given,
            expected,
            "routers must match the subgraph SDL files of {}",
            dir.display()
        );

        let composed_sdl = compose_scenario(&dir, &expected);
        let subgraphs = start_subgraphs(routers).await;
        let config = config_with_top_level(&subgraphs, "", extra_config_yaml);
        let client = reqwest::Client::new();
        let composed = seam::startup::gateway_from_config(&config, &client)
            .await
            .expect("seam composes the scenario from its running subgraphs");
        let mut gateways = vec![(
            "seam",
            TestGateway::serve(composed, share(&subgraphs)).await,
        )];
        for tool in ["apollo", "hive"] {
            let path = dir.join(format!("supergraph.{tool}.graphql"));
            let sdl = std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!(
                    "cannot read {} ({e}); run `npm run compose` in tests/fixtures/compose",
                    path.display()
                )
            });
            let gateway = seam::startup::gateway_from_supergraph(&sdl, Some(&config))
                .unwrap_or_else(|e| panic!("seam cannot serve the {tool} supergraph: {e}"));
            gateways.push((tool, TestGateway::serve(gateway, share(&subgraphs)).await));
        }
        for s in &subgraphs {
            s.requests.lock().unwrap().clear(); // forget the `_service` fetches
        }
        Parity {
            dir,
            gateways,
            composed_sdl,
        }
    }

    /// Sends the query to every gateway; panics naming each gateway whose answer is not
    /// `expected`, with both JSONs.
    pub async fn assert_query(&self, query: &str, variables: Value, expected: Value) {
        let mut wrong = Vec::new();
        for (label, gateway) in &self.gateways {
            let (_, answer) = gateway
                .post(json!({ "query": query, "variables": variables }))
                .await;
            if answer != expected {
                wrong.push(format!(
                    "{label} answered:\n{}",
                    serde_json::to_string_pretty(&answer).unwrap_or_default()
                ));
            }
        }
        assert!(
            wrong.is_empty(),
            "query {query}\nexpected:\n{}\n{}",
            serde_json::to_string_pretty(&expected).unwrap_or_default(),
            wrong.join("\n")
        );
    }

    /// Seam's plan for `query` over our composed supergraph, as `tests/plans.rs` prints it.
    pub fn plan(&self, query: &str) -> String {
        let supergraph =
            seam::supergraph::Supergraph::parse(&self.composed_sdl).expect("our supergraph parses");
        seam::plan::plan_text(&supergraph, query, None, Default::default())
            .unwrap_or_else(|e| panic!("cannot plan {query}: {e}"))
    }

    /// Like [`Parity::plan`], over the supergraph `tool` composed (`"seam"`, `"apollo"` or
    /// `"hive"`), with exactly the progressive-override labels `labels` switched on.
    pub fn plan_with_labels(&self, tool: &str, query: &str, labels: &[&str]) -> String {
        let sdl = match tool {
            "seam" => self.composed_sdl.clone(),
            _ => {
                let path = self.dir.join(format!("supergraph.{tool}.graphql"));
                std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
            }
        };
        let supergraph = seam::supergraph::Supergraph::parse(&sdl)
            .unwrap_or_else(|e| panic!("the {tool} supergraph does not parse: {e}"));
        let names: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
        let active = supergraph.labels_named(&names);
        seam::plan::plan_text(&supergraph, query, None, active)
            .unwrap_or_else(|e| panic!("cannot plan {query}: {e}"))
    }

    /// The gateway serving the supergraph `tool` composed (`"seam"`, `"apollo"` or `"hive"`).
    pub fn gateway(&self, tool: &str) -> &TestGateway {
        self.gateways
            .iter()
            .find(|(label, _)| *label == tool)
            .map(|(_, gateway)| gateway)
            .unwrap_or_else(|| panic!("no {tool} gateway"))
    }

    /// Like [`Parity::assert_query`], through the named gateways only (for a supergraph one
    /// composition cannot produce yet).
    pub async fn assert_query_on(
        &self,
        tools: &[&str],
        query: &str,
        variables: Value,
        expected: Value,
    ) {
        let mut wrong = Vec::new();
        for tool in tools {
            let (_, answer) = self
                .gateway(tool)
                .post(json!({ "query": query, "variables": variables }))
                .await;
            if answer != expected {
                wrong.push(format!(
                    "{tool} answered:\n{}",
                    serde_json::to_string_pretty(&answer).unwrap_or_default()
                ));
            }
        }
        assert!(
            wrong.is_empty(),
            "query {query}\nexpected:\n{}\n{}",
            serde_json::to_string_pretty(&expected).unwrap_or_default(),
            wrong.join("\n")
        );
    }

    /// Every gateway's answer to `query`, by tool name.
    pub async fn answers(&self, query: &str, variables: Value) -> Vec<(&'static str, Value)> {
        let mut out = Vec::new();
        for (label, gateway) in &self.gateways {
            let (_, answer) = gateway
                .post(json!({ "query": query, "variables": variables }))
                .await;
            out.push((*label, answer));
        }
        out
    }

    /// Asserts every gateway refuses `query` before planning: a validation error whose message
    /// mentions `mention`, and no `data`.
    pub async fn assert_invalid(&self, query: &str, variables: Value, mention: &str) {
        for (label, answer) in self.answers(query, variables).await {
            let errors = answer["errors"].as_array().cloned().unwrap_or_default();
            assert!(
                !errors.is_empty()
                    && errors
                        .iter()
                        .all(|e| e["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"),
                "{label} did not refuse {query}: {answer}"
            );
            assert!(
                errors
                    .iter()
                    .any(|e| e["message"].as_str().is_some_and(|m| m.contains(mention))),
                "{label}'s errors for {query} do not mention {mention}: {answer}"
            );
            assert!(
                answer.get("data").is_none_or(Value::is_null),
                "{label} answered data for {query}: {answer}"
            );
        }
    }

    /// Requests the named subgraph received (from all three gateways) since the last clear.
    pub fn requests_to(&self, subgraph: &str) -> Vec<Value> {
        self.gateways[0].1.requests_to(subgraph)
    }

    pub fn clear_requests(&self) {
        self.gateways[0].1.clear_requests();
    }
}

/// Our composition of the scenario's SDL files, with the placeholder URLs the other tools got,
/// so a snapshot of it does not depend on the ports the test subgraphs run on.
pub fn compose_scenario(dir: &Path, subgraphs: &[String]) -> String {
    let sdls: Vec<seam::sources::SubgraphSdl> = subgraphs
        .iter()
        .map(|name| {
            let path = dir.join(format!("{name}.graphql"));
            seam::sources::SubgraphSdl {
                name: name.clone(),
                url: Some(placeholder_url(name)),
                sdl: std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display())),
                ..seam::sources::SubgraphSdl::default()
            }
        })
        .collect();
    seam::compose::compose(&sdls).unwrap_or_else(|e| panic!("seam cannot compose: {e}"))
}

/// Another handle on the same running subgraphs (the request records are shared).
fn share(subgraphs: &[TestSubgraph]) -> Vec<TestSubgraph> {
    subgraphs
        .iter()
        .map(|s| TestSubgraph {
            name: s.name.clone(),
            url: s.url.clone(),
            requests: s.requests.clone(),
        })
        .collect()
}

/// The value of one series (`name{labels}` as Prometheus writes it) of the `GET /metrics` of
/// the gateway at `base`, or `None` while the series does not exist.
pub async fn metric_series(client: &reqwest::Client, base: &str, series: &str) -> Option<String> {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics reachable")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.trim().to_owned())
}
