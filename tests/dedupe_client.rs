//! In-flight deduplication of client requests (issue 11, `traffic.dedupe_client_requests`):
//! identical queries in flight together share one execution; queries whose forwarded headers
//! differ, mutations, and queries that arrive after an answer never share; the client that
//! started an execution may leave without breaking it for the others; the switch is off by
//! default. And `seam serve --supergraph FILE --config FILE` honours a config holding only
//! `traffic`.
//!
//! The subgraph holds every call until the test opens its gate, and the test waits for the
//! gateway's own count of waiting clients before opening it, so the requests overlap whatever
//! the machine's speed and nothing depends on timing. Subgraph request sharing is switched off
//! in every gateway here: it would merge the identical subgraph calls the counts rely on.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_graphql::{Context, EmptySubscription, Object, Schema, ID};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use seam::pipeline::SharedQueries;

/// How long a condition may take to come true before the test fails.
const PATIENCE: Duration = Duration::from_secs(20);

/// Holds the subgraph's resolvers until opened, counting the calls that reached it.
#[derive(Clone)]
struct Gate {
    calls: Arc<AtomicUsize>,
    open: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Gate {
    fn new() -> Self {
        Gate {
            calls: Arc::default(),
            open: Arc::new(tokio::sync::watch::channel(false).0),
        }
    }

    async fn pass(&self) -> usize {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let mut open = self.open.subscribe();
        let _ = open.wait_for(|open| *open).await;
        call
    }

    fn open(&self) {
        self.open.send_replace(true);
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

struct Query;

#[Object]
impl Query {
    async fn item(&self, ctx: &Context<'_>, id: ID) -> String {
        ctx.data_unchecked::<Gate>().pass().await;
        format!("item {}", id.as_str())
    }

    /// Echoes the Authorization header the gateway forwarded.
    async fn whoami(&self, ctx: &Context<'_>) -> String {
        ctx.data_unchecked::<Gate>().pass().await;
        ctx.data_opt::<Forwarded>()
            .map(|f| f.0.clone())
            .unwrap_or_default()
    }

    async fn fail(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let call = ctx.data_unchecked::<Gate>().pass().await;
        Err(format!("failure number {call}").into())
    }
}

struct Mutation;

#[Object]
impl Mutation {
    async fn bump(&self, ctx: &Context<'_>) -> usize {
        ctx.data_unchecked::<Gate>().pass().await
    }
}

struct Forwarded(String);

/// The held subgraph, answering on `/graphql`.
async fn held_subgraph(gate: &Gate) -> SocketAddr {
    let schema = Schema::build(Query, Mutation, EmptySubscription)
        .data(gate.clone())
        .enable_federation()
        .finish();
    let router = axum::Router::new().route(
        "/graphql",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, request: async_graphql_axum::GraphQLRequest| {
                let schema = schema.clone();
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    async_graphql_axum::GraphQLResponse::from(
                        schema
                            .execute(request.into_inner().data(Forwarded(auth)))
                            .await,
                    )
                }
            },
        ),
    );
    common::spawn_router(router).await
}

struct Setup {
    gateway: Arc<seam::Gateway>,
    addr: SocketAddr,
    url: String,
    gate: Gate,
    client: reqwest::Client,
}

/// A gateway in front of the held subgraph, with `traffic` switches and other top-level YAML.
async fn setup(traffic: &str, top_level: &str) -> Setup {
    let gate = Gate::new();
    let subgraph = held_subgraph(&gate).await;
    let yaml = format!(
        "subgraphs:\n  - name: held\n    url: http://{subgraph}/graphql\n\
         traffic:\n  dedupe_subgraph_requests: false\n{traffic}{top_level}"
    );
    let config = seam::config::Config::from_yaml_str(&yaml, Path::new(".")).expect("config");
    let gateway = seam::startup::gateway_from_config(&config, &reqwest::Client::new())
        .await
        .expect("gateway");
    let addr = common::spawn_router(seam::http::router(gateway.clone())).await;
    Setup {
        gateway,
        addr,
        url: format!("http://{addr}/graphql"),
        gate,
        client: reqwest::Client::new(),
    }
}

const SHARING: &str = "  dedupe_client_requests: true\n";
const FORWARD_AUTHORIZATION: &str =
    "headers:\n  all:\n    request:\n      - propagate: { named: Authorization }\n";

impl Setup {
    /// Sends `body` (with `token` as Authorization) on its own task.
    fn send(
        &self,
        body: Value,
        token: Option<&str>,
    ) -> tokio::task::JoinHandle<(reqwest::StatusCode, Value)> {
        let mut request = self.client.post(&self.url).json(&body);
        if let Some(token) = token {
            request = request.header("authorization", token);
        }
        tokio::spawn(async move {
            let response = request.send().await.expect("gateway reachable");
            let status = response.status();
            (status, response.json::<Value>().await.expect("JSON answer"))
        })
    }

    async fn until(&self, what: &str, condition: impl Fn(&Setup) -> bool) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !condition(self) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}: {} subgraph calls, {:?}",
                self.gate.calls(),
                self.gateway.shared_queries()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Waits until the subgraph holds `calls` calls and `waiting` clients wait for shared
    /// executions.
    async fn until_held(&self, calls: usize, waiting: usize) {
        self.until(&format!("{calls} calls, {waiting} waiting"), |s| {
            s.gate.calls() == calls && s.gateway.shared_queries().waiting == waiting
        })
        .await;
    }

    async fn metric(&self, name: &str) -> String {
        let base = format!("http://{}", self.addr);
        common::metric_series(&self.client, &base, name)
            .await
            .unwrap_or_else(|| "absent".to_owned())
    }
}

async fn answers(
    handles: Vec<tokio::task::JoinHandle<(reqwest::StatusCode, Value)>>,
) -> Vec<Value> {
    let mut out = Vec::new();
    for handle in handles {
        let (status, body) = handle.await.expect("request task");
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        out.push(body);
    }
    out
}

fn item_query(id: &str) -> Value {
    json!({ "query": "query Item($id: ID!) { item(id: $id) }", "variables": { "id": id } })
}

#[tokio::test]
async fn identical_queries_in_flight_share_one_execution_and_others_do_not() {
    let s = setup(SHARING, "").await;
    let mut handles: Vec<_> = (0..3).map(|_| s.send(item_query("1"), None)).collect();
    // Other variables: another query.
    handles.push(s.send(item_query("2"), None));
    s.until_held(2, 4).await;
    assert_eq!(s.gateway.shared_queries().executions, 2);
    s.gate.open();
    let answers = answers(handles).await;
    for answer in &answers[..3] {
        assert_eq!(answer, &json!({ "data": { "item": "item 1" } }));
    }
    assert_eq!(answers[3], json!({ "data": { "item": "item 2" } }));
    assert_eq!(s.gate.calls(), 2, "one execution per distinct query");
    assert_eq!(s.metric("seam_client_requests_shared_total").await, "2");
    s.until("the table to empty", |s| {
        s.gateway.shared_queries() == SharedQueries::default()
    })
    .await;
}

#[tokio::test]
async fn clients_whose_forwarded_authorization_differs_never_share() {
    let s = setup(SHARING, FORWARD_AUTHORIZATION).await;
    let body = json!({ "query": "{ whoami }" });
    let tokens = ["Bearer a", "Bearer b", "Bearer a"];
    let handles = tokens
        .iter()
        .map(|t| s.send(body.clone(), Some(t)))
        .collect();
    // The second `Bearer a` joins the first; `Bearer b` runs on its own.
    s.until_held(2, 3).await;
    s.gate.open();
    for (answer, token) in answers(handles).await.iter().zip(tokens) {
        assert_eq!(answer, &json!({ "data": { "whoami": token } }), "{token}");
    }
    assert_eq!(s.gate.calls(), 2);
}

#[tokio::test]
async fn headers_that_no_rule_forwards_do_not_keep_queries_apart() {
    let s = setup(SHARING, "").await;
    let body = json!({ "query": "{ whoami }" });
    let handles = ["Bearer a", "Bearer b"]
        .iter()
        .map(|t| s.send(body.clone(), Some(t)))
        .collect();
    s.until_held(1, 2).await;
    s.gate.open();
    for answer in answers(handles).await {
        assert_eq!(answer, json!({ "data": { "whoami": "" } }));
    }
    assert_eq!(s.gate.calls(), 1);
}

#[tokio::test]
async fn identical_mutations_each_execute() {
    let s = setup(SHARING, "").await;
    let body = json!({ "query": "mutation { bump }" });
    let handles = (0..2).map(|_| s.send(body.clone(), None)).collect();
    // Shared, they would stop at one call.
    s.until_held(2, 0).await;
    s.gate.open();
    let mut bumps: Vec<Value> = answers(handles)
        .await
        .into_iter()
        .map(|a| a["data"]["bump"].clone())
        .collect();
    bumps.sort_by_key(|b| b.as_u64());
    assert_eq!(bumps, [json!(1), json!(2)]);
    assert_eq!(s.metric("seam_client_requests_shared_total").await, "0");
}

#[tokio::test]
async fn an_error_answer_goes_only_to_the_queries_in_flight_with_it() {
    let s = setup(SHARING, "").await;
    let body = json!({ "query": "{ fail }" });
    let handles = (0..2).map(|_| s.send(body.clone(), None)).collect();
    s.until_held(1, 2).await;
    s.gate.open();
    for answer in answers(handles).await {
        assert_eq!(answer["data"], Value::Null, "{answer}");
        assert_eq!(
            answer["errors"][0]["message"], "failure number 1",
            "{answer}"
        );
    }
    s.until("the table to empty", |s| {
        s.gateway.shared_queries() == SharedQueries::default()
    })
    .await;
    // The gate is open now: a later identical query executes again and fails anew.
    let later = answers(vec![s.send(body, None)]).await;
    assert_eq!(later[0]["errors"][0]["message"], "failure number 2");
    assert_eq!(s.gate.calls(), 2);
}

/// A POST on a connection of its own, which the test can drop mid-request.
async fn raw_post(addr: SocketAddr, body: &Value) -> tokio::net::TcpStream {
    let body = body.to_string();
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "POST /graphql HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send request");
    stream
}

#[tokio::test]
async fn the_client_that_started_an_execution_may_leave_without_breaking_it() {
    let s = setup(SHARING, "").await;
    let first = raw_post(s.addr, &item_query("7")).await;
    s.until_held(1, 1).await;
    let second = s.send(item_query("7"), None);
    s.until_held(1, 2).await;
    // The first client goes away; the server notices and drops its request.
    drop(first);
    s.until_held(1, 1).await;
    assert_eq!(s.gateway.shared_queries().executions, 1);
    s.gate.open();
    assert_eq!(
        answers(vec![second]).await[0],
        json!({ "data": { "item": "item 7" } })
    );
    assert_eq!(s.gate.calls(), 1);
}

#[tokio::test]
async fn an_execution_every_client_left_is_dropped_and_not_joined() {
    let s = setup(SHARING, "").await;
    let only = raw_post(s.addr, &item_query("8")).await;
    s.until_held(1, 1).await;
    drop(only);
    s.until("the abandoned execution to leave the table", |s| {
        s.gateway.shared_queries() == SharedQueries::default()
    })
    .await;
    // The same query again starts an execution of its own.
    let again = s.send(item_query("8"), None);
    s.until_held(2, 1).await;
    s.gate.open();
    assert_eq!(
        answers(vec![again]).await[0],
        json!({ "data": { "item": "item 8" } })
    );
}

#[tokio::test]
async fn off_by_default_identical_queries_each_execute() {
    let s = setup("", "").await;
    let handles = (0..2).map(|_| s.send(item_query("1"), None)).collect();
    // Shared, they would stop at one call.
    s.until_held(2, 0).await;
    s.gate.open();
    for answer in answers(handles).await {
        assert_eq!(answer, json!({ "data": { "item": "item 1" } }));
    }
    assert_eq!(s.gateway.shared_queries(), SharedQueries::default());
}

// ---- `seam serve --supergraph FILE --config FILE`, with the real binary ----

/// `seam serve` as a child process; killed when dropped.
struct SeamProcess {
    child: std::process::Child,
    base: String,
    /// Its supergraph and config files.
    dir: std::path::PathBuf,
}

impl Drop for SeamProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Serves the held subgraph's supergraph file with a config of `config_yaml` beside it.
async fn seam_serve(gate: &Gate, name: &str, config_yaml: &str) -> SeamProcess {
    let subgraph = held_subgraph(gate).await;
    let compose = format!("subgraphs:\n  - name: held\n    url: http://{subgraph}/graphql\n");
    let compose = seam::config::Config::from_yaml_str(&compose, Path::new(".")).expect("config");
    let sdl = seam::startup::supergraph_sdl(&compose, &reqwest::Client::new())
        .await
        .expect("supergraph");
    let dir =
        std::env::temp_dir().join(format!("seam-dedupe-client-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    std::fs::write(dir.join("supergraph.graphql"), sdl).expect("supergraph file");
    std::fs::write(dir.join("seam.yaml"), config_yaml).expect("config file");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_seam"))
        .arg("serve")
        .arg("--supergraph")
        .arg(dir.join("supergraph.graphql"))
        .arg("--config")
        .arg(dir.join("seam.yaml"))
        .args(["--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("seam starts");
    let stderr = child.stderr.take().expect("stderr");
    let (found, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(rest) = line.strip_prefix("seam listening on http://") {
                let _ = found.send(rest.trim_end_matches("/graphql").to_owned());
            }
            eprintln!("seam: {line}");
        }
    });
    // Killed on drop from here on, should the test fail.
    let mut process = SeamProcess {
        child,
        base: String::new(),
        dir,
    };
    let address = tokio::task::spawn_blocking(move || address.recv_timeout(PATIENCE))
        .await
        .expect("reader")
        .expect("seam did not say where it listens (see its log above)");
    process.base = format!("http://{address}");
    process
}

impl SeamProcess {
    fn send(
        &self,
        body: Value,
        token: Option<&str>,
    ) -> tokio::task::JoinHandle<(reqwest::StatusCode, Value)> {
        let mut request = reqwest::Client::new()
            .post(format!("{}/graphql", self.base))
            .json(&body);
        if let Some(token) = token {
            request = request.header("authorization", token);
        }
        tokio::spawn(async move {
            let response = request.send().await.expect("seam reachable");
            let status = response.status();
            (status, response.json::<Value>().await.expect("JSON answer"))
        })
    }

    async fn shared_total(&self) -> Option<u64> {
        let text = reqwest::get(format!("{}/metrics", self.base))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix("seam_client_requests_shared_total "))?
            .parse()
            .ok()
    }
}

async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    mut check: impl FnMut() -> F,
) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn seam_serve_honours_a_config_holding_only_traffic_beside_a_supergraph_file() {
    let gate = Gate::new();
    let seam = seam_serve(
        &gate,
        "traffic-only",
        "traffic:\n  dedupe_subgraph_requests: false\n  dedupe_client_requests: true\n",
    )
    .await;
    let handles = (0..3).map(|_| seam.send(item_query("1"), None)).collect();
    // Ignored, the config would leave client sharing off: three executions, one subgraph call
    // (subgraph sharing on by default), and nothing counted as shared.
    eventually("one call and two shared queries", || async {
        gate.calls() == 1 && seam.shared_total().await == Some(2)
    })
    .await;
    gate.open();
    for answer in answers(handles).await {
        assert_eq!(answer, json!({ "data": { "item": "item 1" } }));
    }
    assert_eq!(gate.calls(), 1);
}

#[tokio::test]
async fn seam_serve_honours_traffic_and_headers_beside_a_supergraph_file() {
    let gate = Gate::new();
    let config = format!("traffic:\n  dedupe_subgraph_requests: false\n{FORWARD_AUTHORIZATION}");
    let seam = seam_serve(&gate, "traffic-headers", &config).await;
    let body = json!({ "query": "{ whoami }" });
    let handles = (0..2)
        .map(|_| seam.send(body.clone(), Some("Bearer z")))
        .collect();
    // With subgraph sharing on (the default) the two identical calls would be one.
    eventually("two subgraph calls", || async { gate.calls() == 2 }).await;
    gate.open();
    for answer in answers(handles).await {
        assert_eq!(answer, json!({ "data": { "whoami": "Bearer z" } }));
    }
}
