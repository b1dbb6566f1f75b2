//! `GET /metrics` scraped over HTTP and parsed: the counters move for operations, subgraph
//! calls, the operation cache, refusals by each rule and a failed reload; the operation-name
//! label is capped; the endpoint can be switched off.

mod common;
mod support;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use common::{serve_demo, spawn_router, ServedDemo};

/// One scrape: each sample line `name{labels} value`, keyed by everything before the value.
struct Scrape(HashMap<String, f64>);

impl Scrape {
    async fn of(demo: &ServedDemo) -> Self {
        let response = reqwest::get(format!("{}/metrics", demo.base))
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        Self::parse(&response.text().await.unwrap())
    }

    fn parse(text: &str) -> Self {
        let mut samples = HashMap::new();
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').expect("a sample line");
            samples.insert(series.to_owned(), value.parse::<f64>().expect("a number"));
        }
        Scrape(samples)
    }

    /// The value of `name` whose labels include every `labels` pair (0 when absent), summed
    /// over the series that match.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0
            .iter()
            .filter(|(series, _)| {
                let (series_name, rest) = series.split_once('{').unwrap_or((series, ""));
                series_name == name
                    && labels
                        .iter()
                        .all(|(key, value)| rest.contains(&format!("{key}=\"{value}\"")))
            })
            .map(|(_, value)| value)
            .sum()
    }
}

async fn post(demo: &ServedDemo, body: serde_json::Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(&demo.url)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn operations_subgraph_calls_and_the_cache_are_counted() {
    let demo = serve_demo("", "").await;
    let before = Scrape::of(&demo).await;
    assert_eq!(before.get("seam_operations_total", &[]), 0.0);
    let query = "query Top { topProducts(first: 2) { name reviews { body } } }";
    for _ in 0..3 {
        let response = post(&demo, json!({ "query": query })).await;
        assert_eq!(response.status(), 200);
    }
    let after = Scrape::of(&demo).await;
    let ok = [("operation", "Top"), ("kind", "query"), ("outcome", "ok")];
    assert_eq!(after.get("seam_operations_total", &ok), 3.0);
    assert_eq!(after.get("seam_operation_duration_seconds_count", &ok), 3.0);
    assert!(after.get("seam_operation_duration_seconds_sum", &ok) > 0.0);
    assert_eq!(after.get("seam_operation_cache_misses_total", &[]), 1.0);
    assert_eq!(after.get("seam_operation_cache_hits_total", &[]), 2.0);
    assert_eq!(after.get("seam_operation_cache_entries", &[]), 1.0);
    for subgraph in ["products", "reviews"] {
        let labels = [("subgraph", subgraph), ("outcome", "ok")];
        assert_eq!(
            after.get("seam_subgraph_requests_total", &labels),
            3.0,
            "{subgraph}"
        );
        assert_eq!(
            after.get("seam_subgraph_request_duration_seconds_count", &labels),
            3.0
        );
    }
    assert_eq!(
        after.get("seam_subgraph_requests_total", &[("subgraph", "accounts")]),
        0.0,
        "a subgraph the plan does not reach is not counted"
    );
    assert_eq!(
        after.get("seam_circuit_breaker_state", &[("subgraph", "products")]),
        0.0
    );
    assert_eq!(
        after.get("seam_open_streams", &[("transport", "websocket")]),
        0.0
    );

    // A response with errors is an operation with the `errors` outcome.
    let response = post(&demo, json!({ "query": "query Me { me { id username } }" })).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let expected_outcome = if body["errors"].is_null() {
        "ok"
    } else {
        "errors"
    };
    let scrape = Scrape::of(&demo).await;
    assert_eq!(
        scrape.get(
            "seam_operations_total",
            &[("operation", "Me"), ("outcome", expected_outcome)]
        ),
        1.0
    );
}

#[tokio::test]
async fn refusals_are_counted_by_the_code_of_each_rule() {
    let demo = serve_demo("", "limits:\n  max_depth: 3\n").await;
    // CSRF prevention, at the edge: a simple content type with no preflight header.
    let csrf = reqwest::Client::new()
        .post(&demo.url)
        .header("content-type", "text/plain")
        .body(r#"{"query":"{ topProducts { name } }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(csrf.status(), 400);
    // A limit, in the pipeline.
    let deep = post(
        &demo,
        json!({
            "query": "query Deep { topProducts { reviews { author { reviews { body } } } } }",
            "operationName": "Deep",
        }),
    )
    .await;
    assert!(deep.text().await.unwrap().contains("MAX_DEPTH_LIMIT"));
    // Validation, twice.
    for _ in 0..2 {
        post(&demo, json!({ "query": "query Bad { nope }" })).await;
    }
    // A mutation over GET.
    let get = reqwest::Client::new()
        .get(format!(
            "{}?query=mutation%20M%20%7B%20__typename%20%7D",
            demo.url
        ))
        .header("apollo-require-preflight", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    // Bodies that are not a GraphQL request, twice.
    for body in ["{not json", r#"{"query": 42}"#] {
        let unreadable = reqwest::Client::new()
            .post(&demo.url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(unreadable.status(), 400);
    }

    let scrape = Scrape::of(&demo).await;
    let refused = |code| scrape.get("seam_requests_refused_total", &[("code", code)]);
    assert_eq!(refused("CSRF_PREVENTION"), 1.0);
    assert_eq!(refused("MAX_DEPTH_LIMIT"), 1.0);
    assert_eq!(refused("GRAPHQL_VALIDATION_FAILED"), 2.0);
    assert_eq!(refused("BAD_REQUEST"), 2.0);
    assert_eq!(scrape.get("seam_requests_refused_total", &[]), 7.0);
    assert_eq!(
        scrape.get(
            "seam_operations_total",
            &[("operation", "Deep"), ("outcome", "refused")]
        ),
        1.0
    );
    assert_eq!(
        scrape.get("seam_operations_total", &[("outcome", "refused")]),
        4.0,
        "the CSRF refusal never reached the pipeline"
    );
}

#[tokio::test]
async fn operation_names_beyond_the_cap_share_one_series() {
    let demo = serve_demo("", "telemetry:\n  metrics:\n    max_operation_names: 2\n").await;
    for name in ["First", "Second", "Third", "Fourth", "First"] {
        let query = format!("query {name} {{ topProducts(first: 1) {{ name }} }}");
        post(&demo, json!({ "query": query })).await;
    }
    post(
        &demo,
        json!({ "query": "{ topProducts(first: 1) { upc } }" }),
    )
    .await;
    let scrape = Scrape::of(&demo).await;
    let count = |name| scrape.get("seam_operations_total", &[("operation", name)]);
    assert_eq!(count("First"), 2.0);
    assert_eq!(count("Second"), 1.0);
    assert_eq!(count("Third"), 0.0);
    assert_eq!(count("other"), 2.0);
    assert_eq!(count("anonymous"), 1.0);
}

/// A document refused before it is parsed counts under the name the client gave only when that
/// could be a GraphQL name: junk names do not use up the capped name labels.
#[tokio::test]
async fn requested_names_that_no_document_could_declare_take_no_label() {
    let demo = serve_demo("", "telemetry:\n  metrics:\n    max_operation_names: 2\n").await;
    for name in ["a b", "x\ny", "", "ünï", "1st"] {
        post(&demo, json!({ "query": "{ broken", "operationName": name })).await;
    }
    post(
        &demo,
        json!({ "query": "{ broken", "operationName": "Named" }),
    )
    .await;
    let query = "query Real { topProducts(first: 1) { name } }";
    post(&demo, json!({ "query": query })).await;
    let scrape = Scrape::of(&demo).await;
    let count = |name| scrape.get("seam_operations_total", &[("operation", name)]);
    assert_eq!(count("anonymous"), 5.0);
    assert_eq!(count("Named"), 1.0);
    assert_eq!(count("Real"), 1.0);
    assert_eq!(count("other"), 0.0);
}

#[tokio::test]
async fn metrics_can_be_switched_off_or_served_apart() {
    let off = serve_demo("", "telemetry:\n  metrics:\n    enabled: false\n").await;
    let response = reqwest::get(format!("{}/metrics", off.base)).await.unwrap();
    assert_eq!(response.status(), 404);

    // The router for `telemetry.metrics.listen` serves the same gateway's metrics.
    let demo = serve_demo("", "").await;
    post(
        &demo,
        json!({ "query": "query Apart { topProducts(first: 1) { name } }" }),
    )
    .await;
    let apart = spawn_router(seam::http::telemetry::metrics_router(
        demo.gateway.clone(),
        seam::http::StreamingClients::default(),
    ))
    .await;
    let text = reqwest::get(format!("http://{apart}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let scrape = Scrape::parse(&text);
    assert_eq!(
        scrape.get("seam_operations_total", &[("operation", "Apart")]),
        1.0
    );
}

#[tokio::test]
async fn a_failed_reload_is_counted_and_the_old_schema_keeps_serving() {
    let dir = std::env::temp_dir().join(format!("seam-metrics-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let supergraph = dir.join("supergraph.graphql");
    std::fs::write(&supergraph, common::demo_supergraph_sdl()).unwrap();
    let demo = serve_demo("", "").await;
    seam::startup::spawn_file_watch(
        demo.gateway.clone(),
        seam::startup::WatchedFiles {
            config: None,
            supergraph: Some(supergraph.clone()),
        },
        None,
        Duration::from_millis(50),
        reqwest::Client::new(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut broken = String::from("type Query { this is not a supergraph");
    let mut rewrite_at = Instant::now();
    loop {
        // Rewritten now and then until the watcher sees it: it may take its first look after
        // a write, and a file that keeps changing is never read (it waits for it to settle).
        if Instant::now() >= rewrite_at {
            broken.push('#');
            std::fs::write(&supergraph, &broken).unwrap();
            rewrite_at = Instant::now() + Duration::from_secs(2);
        }
        let scrape = Scrape::of(&demo).await;
        if scrape.get("seam_reloads_total", &[("outcome", "failure")]) >= 1.0 {
            assert_eq!(
                scrape.get("seam_reloads_total", &[("outcome", "success")]),
                0.0
            );
            break;
        }
        assert!(Instant::now() < deadline, "no failed reload was counted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let response = post(
        &demo,
        json!({ "query": "{ topProducts(first: 1) { name } }" }),
    )
    .await;
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["data"]["topProducts"][0]["name"].is_string(), "{body}");
    let _ = std::fs::remove_dir_all(Path::new(&dir));
}

/// A client that gives up before its answer is counted as `cancelled`, not left out.
#[tokio::test]
async fn an_operation_the_client_abandons_is_counted_as_cancelled() {
    let mut yaml = String::from("subgraphs:\n");
    for (name, router) in common::demo_routers() {
        let router = if name == "inventory" {
            support::faulty(router, support::Fault::Slow(Duration::from_secs(60)))
        } else {
            router
        };
        let addr = spawn_router(router).await;
        yaml.push_str(&format!(
            "  - name: {name}\n    url: http://{addr}/graphql\n"
        ));
    }
    let config = seam::config::Config::from_yaml_str(&yaml, Path::new(".")).expect("config");
    let gateway = seam::startup::gateway_from_config(&config, &reqwest::Client::new())
        .await
        .expect("gateway");
    let settings = seam::http::ProtocolSettings::from_config(Some(&config), Default::default());
    let addr = spawn_router(seam::http::router_with(gateway.clone(), settings)).await;
    let demo = ServedDemo {
        gateway,
        url: format!("http://{addr}/graphql"),
        base: format!("http://{addr}"),
    };
    let abandoned = reqwest::Client::new()
        .post(&demo.url)
        .json(&json!({
            "query": "query Patience { topProducts(first: 1) { inStock } }",
            "operationName": "Patience",
        }))
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(abandoned.is_err(), "the client gave up");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let scrape = Scrape::of(&demo).await;
        let cancelled = scrape.get(
            "seam_operations_total",
            &[("operation", "Patience"), ("outcome", "cancelled")],
        );
        if cancelled == 1.0 {
            break;
        }
        assert!(Instant::now() < deadline, "never counted as cancelled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
