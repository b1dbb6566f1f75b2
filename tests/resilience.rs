//! Resilience per subgraph, against real subgraphs on 127.0.0.1 that fail, hang and flap, each
//! counting the requests it received: retries (only for queries, on 503, connect errors and
//! timeouts, within a budget and the request's deadline), the circuit breaker (opens, fails
//! fast, half-opens with one probe, closes), health checks feeding it, `/ready`, connection
//! pools and h2c.
//!
//! Two subgraphs: `catalog` owns `Product` (upc, name) and `products`; `stock` adds
//! `Product.inStock`, has a root field `stockStatus` and a mutation `reserve`, and misbehaves
//! as the test tells it. Every wait is for a condition, with a generous deadline.

mod common;
mod resilience_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use resilience_support::{
    closed_port_url, serve_counting, serve_h2c, Behaviour, Gateway, Stock, WAIT,
};

/// One fetch to `stock` (its root field) beside one to `catalog`.
const BOTH_ROOTS: &str = "{ products { name } stockStatus }";
/// A `catalog` root fetch followed by a `stock` `_entities` fetch.
const ENTITIES: &str = "{ products { upc inStock } }";
const MUTATION: &str = r#"mutation { reserve(upc: "1") }"#;

fn codes(response: &Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_owned())
        .collect()
}

fn assert_catalog_data_flows(response: &Value) {
    assert_eq!(
        response["data"]["products"],
        json!([{ "name": "Product 1" }, { "name": "Product 2" }]),
        "the healthy subgraph's data must keep flowing: {response}"
    );
}

#[tokio::test]
async fn a_query_fetch_is_retried_on_503_up_to_max_attempts_root_and_entities_alike() {
    let stock = Stock::new(Behaviour::Unavailable);
    let gw = Gateway::start(
        &stock,
        "",
        "traffic:\n  all:\n    retry: { max_attempts: 3, min_delay: 5ms, max_delay: 20ms }\n    breaker: { enabled: false }\n",
    )
    .await;

    let response = gw.query(BOTH_ROOTS).await;
    assert_catalog_data_flows(&response);
    assert_eq!(response["data"]["stockStatus"], Value::Null, "{response}");
    assert_eq!(codes(&response), ["SUBREQUEST_HTTP_ERROR"], "{response}");
    assert_eq!(response["errors"][0]["extensions"]["http"]["status"], 503);
    assert_eq!(stock.hits(), 3, "the root fetch is sent three times");

    let response = gw.query(ENTITIES).await;
    assert_eq!(
        response["data"]["products"],
        json!([{ "upc": "1", "inStock": null }, { "upc": "2", "inStock": null }]),
        "{response}"
    );
    assert_eq!(
        stock.hits(),
        6,
        "the `_entities` fetch is sent three times too"
    );
}

#[tokio::test]
async fn a_flapping_subgraph_is_answered_by_the_retry() {
    let stock = Stock::new(Behaviour::Up);
    let gw = Gateway::start(
        &stock,
        "    timeout: 500ms\n",
        "traffic:\n  all:\n    retry: { max_attempts: 2, min_delay: 5ms, max_delay: 20ms }\n",
    )
    .await;

    stock.then(&[Behaviour::Unavailable]);
    let response = gw.query(BOTH_ROOTS).await;
    assert_eq!(response["data"]["stockStatus"], "in stock", "{response}");
    assert!(response.get("errors").is_none(), "{response}");
    assert_eq!(stock.hits(), 2, "one 503, then the retry's answer");

    stock.then(&[Behaviour::Hang]);
    let response = gw.query(ENTITIES).await;
    assert_eq!(
        response["data"]["products"],
        json!([{ "upc": "1", "inStock": true }, { "upc": "2", "inStock": false }]),
        "the hanging attempt times out and the retry answers: {response}"
    );
    assert_eq!(stock.hits(), 4);
}

#[tokio::test]
async fn mutations_are_sent_exactly_once_even_when_they_fail() {
    let stock = Stock::new(Behaviour::Unavailable);
    let gw = Gateway::start(
        &stock,
        "    timeout: 300ms\n",
        "traffic:\n  all:\n    retry: { max_attempts: 5, min_delay: 5ms, max_delay: 20ms }\n    breaker: { enabled: false }\n",
    )
    .await;

    let response = gw.query(MUTATION).await;
    assert_eq!(response["data"]["reserve"], Value::Null, "{response}");
    assert_eq!(codes(&response), ["SUBREQUEST_HTTP_ERROR"], "{response}");
    assert_eq!(stock.mutations(), 1, "a 503 mutation is not sent again");

    stock.set(Behaviour::Hang);
    let response = gw.query(MUTATION).await;
    assert_eq!(codes(&response), ["SUBREQUEST_HTTP_ERROR"], "{response}");
    assert_eq!(
        stock.mutations(),
        2,
        "a timed-out mutation is not sent again"
    );
    assert_eq!(stock.hits(), 2);

    // The same subgraph, the same failure, a query: retried, so retries are on.
    stock.set(Behaviour::Unavailable);
    gw.query(BOTH_ROOTS).await;
    assert_eq!(stock.hits(), 7, "the query is sent five times");
}

#[tokio::test]
async fn connect_errors_are_retried_for_queries_and_never_for_mutations() {
    // Nothing listens, so attempts cannot be counted at the subgraph: the breaker counts them,
    // and opens at `min_requests` failures.
    async fn breaker_after(operation: &str, min_requests: u32) -> String {
        let stock = Stock::new(Behaviour::Up);
        let gw = Gateway::start_with_stock_url(
            &stock,
            Some(closed_port_url().await),
            "",
            &format!(
                "traffic:\n  all:\n    retry: {{ max_attempts: 3, min_delay: 5ms, max_delay: 20ms }}\n    breaker: {{ min_requests: {min_requests}, failure_rate: 1.0, open_for: 1m }}\n"
            ),
        )
        .await;
        let response = gw.query(operation).await;
        assert_eq!(codes(&response), ["SUBREQUEST_HTTP_ERROR"], "{response}");
        gw.breaker("stock").await
    }
    assert_eq!(
        breaker_after(BOTH_ROOTS, 3).await,
        "open",
        "the query made 3 attempts"
    );
    assert_eq!(
        breaker_after(MUTATION, 2).await,
        "closed",
        "the mutation made 1 attempt"
    );
}

#[tokio::test]
async fn the_retry_budget_stops_retries_under_a_sustained_outage() {
    let stock = Stock::new(Behaviour::Unavailable);
    let gw = Gateway::start(
        &stock,
        "",
        "traffic:\n  all:\n    retry:\n      max_attempts: 3\n      min_delay: 1ms\n      max_delay: 2ms\n      budget: { ratio: 0.1, min_per_second: 0, window: 60s }\n    breaker: { enabled: false }\n",
    )
    .await;

    let queries = 30;
    for _ in 0..queries {
        gw.query(BOTH_ROOTS).await;
    }
    // Without a budget: 3 attempts each, 90 requests. With one retry per ten requests: 33.
    let hits = stock.hits();
    assert!(hits > queries, "some retries are allowed: {hits}");
    assert!(
        hits <= queries + queries / 10 + 3,
        "retries stayed within the budget: {hits}"
    );
}

#[tokio::test]
async fn retries_wait_no_longer_than_the_requests_deadline() {
    // The first backoff alone is longer than the whole request may take.
    let stock = Stock::new(Behaviour::Unavailable);
    let gw = Gateway::start(
        &stock,
        "",
        "limits:\n  request_timeout: 2s\ntraffic:\n  all:\n    retry: { max_attempts: 3, min_delay: 20s, max_delay: 20s }\n",
    )
    .await;

    let (status, response) = gw.post(json!({ "query": BOTH_ROOTS })).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "answered, not cut off by the deadline: {response}"
    );
    assert_catalog_data_flows(&response);
    assert_eq!(codes(&response), ["SUBREQUEST_HTTP_ERROR"], "{response}");
    assert_eq!(stock.hits(), 1);
}

#[tokio::test]
async fn nothing_hangs_when_a_subgraph_hangs() {
    let stock = Stock::new(Behaviour::Hang);
    let gw = Arc::new(Gateway::start(&stock, "    timeout: 300ms\n", "").await);
    let answers = futures::future::join_all((0..5).map(|_| {
        let gw = gw.clone();
        async move { tokio::time::timeout(WAIT, gw.query(ENTITIES)).await }
    }))
    .await;
    for answer in answers {
        let response = answer.expect("answered before the test's deadline");
        let codes = codes(&response);
        assert!(!codes.is_empty(), "{response}");
        assert!(
            codes.iter().all(|c| c == "SUBREQUEST_HTTP_ERROR"),
            "{response}"
        );
        assert_eq!(response["data"]["products"][0]["upc"], "1", "{response}");
    }
}

#[tokio::test]
async fn the_breaker_opens_fails_fast_half_opens_and_closes() {
    let stock = Stock::new(Behaviour::Unavailable);
    let gw = Gateway::start(
        &stock,
        "",
        "traffic:\n  all:\n    retry: { max_attempts: 1 }\n    breaker: { min_requests: 4, failure_rate: 0.5, open_for: 6s, window: 1m }\n",
    )
    .await;

    for _ in 0..4 {
        let response = gw.query(BOTH_ROOTS).await;
        assert_eq!(codes(&response), ["SUBREQUEST_HTTP_ERROR"], "{response}");
    }
    assert_eq!(stock.hits(), 4);
    let (status, ready) = gw.ready().await;
    assert_eq!(status, StatusCode::OK, "the schema still serves: {ready}");
    assert_eq!(
        ready,
        json!({ "status": "READY", "subgraphs": { "catalog": "closed", "stock": "open" } })
    );

    // Open: the subgraph's fields fail at once, the subgraph sees nothing, the rest flows.
    let response = gw.query(BOTH_ROOTS).await;
    assert_catalog_data_flows(&response);
    assert_eq!(response["data"]["stockStatus"], Value::Null);
    assert_eq!(codes(&response), ["SUBREQUEST_CIRCUIT_OPEN"], "{response}");
    assert_eq!(response["errors"][0]["extensions"]["service"], "stock");
    assert_eq!(response["errors"][0]["path"], json!(["stockStatus"]));
    assert_eq!(stock.hits(), 4, "no request while open");

    // Half-open: one probe; it fails, so the breaker opens again at once.
    gw.wait_for_breaker("stock", "half_open").await;
    let response = gw.query(BOTH_ROOTS).await;
    assert_eq!(
        codes(&response),
        ["SUBREQUEST_HTTP_ERROR"],
        "the probe: {response}"
    );
    assert_eq!(stock.hits(), 5);
    let response = gw.query(BOTH_ROOTS).await;
    assert_eq!(codes(&response), ["SUBREQUEST_CIRCUIT_OPEN"], "{response}");
    assert_eq!(stock.hits(), 5);

    // The subgraph recovers: the next probe succeeds and closes the breaker.
    stock.set(Behaviour::Up);
    gw.wait_for_breaker("stock", "half_open").await;
    let response = gw.query(BOTH_ROOTS).await;
    assert_eq!(response["data"]["stockStatus"], "in stock", "{response}");
    assert_eq!(stock.hits(), 6);
    assert_eq!(gw.breaker("stock").await, "closed");
    let response = gw.query(ENTITIES).await;
    assert!(response.get("errors").is_none(), "{response}");
    assert_eq!(stock.hits(), 7);
}

#[tokio::test]
async fn a_reload_keeps_each_subgraphs_breaker_and_its_state_is_readable() {
    let stock = Stock::new(Behaviour::Unavailable);
    let gw = Gateway::start(
        &stock,
        "",
        "traffic:\n  all:\n    retry: { max_attempts: 1 }\n    breaker: { min_requests: 1, open_for: 1m }\n",
    )
    .await;
    gw.query(BOTH_ROOTS).await;
    gw.reload();
    let response = gw.query(BOTH_ROOTS).await;
    assert_eq!(codes(&response), ["SUBREQUEST_CIRCUIT_OPEN"], "{response}");
    assert_eq!(stock.hits(), 1);
    let states: Vec<(String, &str)> = gw
        .gateway
        .breaker_states()
        .into_iter()
        .map(|(name, state)| (name, state.as_str()))
        .collect();
    assert_eq!(
        states,
        [
            ("catalog".to_owned(), "closed"),
            ("stock".to_owned(), "open")
        ]
    );
}

#[tokio::test]
async fn a_half_open_breaker_lets_exactly_one_probe_through() {
    let stock = Stock::new(Behaviour::Unavailable);
    let gw = Arc::new(
        Gateway::start(
            &stock,
            "",
            // Identical requests in flight would share the probe instead of being refused.
            "traffic:\n  dedupe_subgraph_requests: false\n  all:\n    retry: { max_attempts: 1 }\n    breaker: { min_requests: 1, open_for: 5s }\n",
        )
        .await,
    );
    gw.query(BOTH_ROOTS).await;
    assert_eq!(gw.breaker("stock").await, "open");

    // The probe is held at the subgraph until the other requests have been answered.
    stock.set(Behaviour::Gated);
    gw.wait_for_breaker("stock", "half_open").await;
    let finished = Arc::new(AtomicUsize::new(0));
    let queries = (0..3).map(|_| {
        let (gw, finished) = (gw.clone(), finished.clone());
        async move {
            let response = gw.query(BOTH_ROOTS).await;
            finished.fetch_add(1, Ordering::SeqCst);
            response
        }
    });
    let release = async {
        while finished.load(Ordering::SeqCst) < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        stock.open_gate();
    };
    let (responses, ()) = tokio::time::timeout(
        WAIT,
        futures::future::join(futures::future::join_all(queries), release),
    )
    .await
    .expect("two requests were refused while the probe was held");

    let mut outcomes: Vec<Vec<String>> = responses.iter().map(codes).collect();
    outcomes.sort();
    assert_eq!(
        outcomes,
        [
            vec![],
            vec!["SUBREQUEST_CIRCUIT_OPEN".to_owned()],
            vec!["SUBREQUEST_CIRCUIT_OPEN".to_owned()]
        ],
        "{responses:?}"
    );
    assert_eq!(stock.hits(), 2, "the opening failure and one probe");
    assert_eq!(gw.breaker("stock").await, "closed");
}

#[tokio::test]
async fn health_checks_open_the_breaker_without_traffic_and_close_it() {
    let stock = Stock::new(Behaviour::Unavailable);
    let gw = Gateway::start(
        &stock,
        "",
        "traffic:\n  all:\n    breaker: { open_for: 5s }\n  subgraphs:\n    stock:\n      health_check: { path: /health, interval: 50ms, unhealthy_after: 2 }\n",
    )
    .await;

    gw.wait_for_breaker("stock", "open").await;
    let response = gw.query(BOTH_ROOTS).await;
    assert_catalog_data_flows(&response);
    assert_eq!(codes(&response), ["SUBREQUEST_CIRCUIT_OPEN"], "{response}");
    assert_eq!(stock.hits(), 0, "no GraphQL request reached the subgraph");
    assert!(stock.health_checks() >= 2);

    stock.set(Behaviour::Up);
    gw.wait_for_breaker("stock", "closed").await;
    let response = gw.query(BOTH_ROOTS).await;
    assert_eq!(response["data"]["stockStatus"], "in stock", "{response}");
    assert_eq!(stock.hits(), 1);
}

#[tokio::test]
async fn a_query_health_check_of_a_down_subgraph_can_make_ready_fail_when_configured() {
    let stock = Stock::new(Behaviour::Up);
    let gw = Gateway::start_with_stock_url(
        &stock,
        Some(closed_port_url().await),
        "",
        "traffic:\n  unready_on_open_breaker: true\n  subgraphs:\n    stock:\n      health_check: { query: '{ __typename }', interval: 50ms, unhealthy_after: 1 }\n",
    )
    .await;
    gw.wait_for_breaker("stock", "open").await;
    let (status, ready) = gw.ready().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{ready}");
    assert_eq!(ready["status"], "NOT_READY");
    assert_eq!(ready["subgraphs"]["stock"], "open");
}

#[tokio::test]
async fn h2c_subgraphs_are_called_over_http2_with_prior_knowledge() {
    let stock = Stock::new(Behaviour::Up);
    let h2c_url = format!("http://{}/graphql", serve_h2c(stock.router()).await);

    // Without prior knowledge, Seam speaks HTTP/1.1 and an h2c-only subgraph cannot answer.
    let gw = Gateway::start_with_stock_url(&stock, Some(h2c_url.clone()), "", "").await;
    let response = gw.query(BOTH_ROOTS).await;
    assert_catalog_data_flows(&response);
    assert_eq!(codes(&response), ["SUBREQUEST_HTTP_ERROR"], "{response}");

    let gw = Gateway::start_with_stock_url(
        &stock,
        Some(h2c_url),
        "",
        "traffic:\n  subgraphs:\n    stock:\n      http2: prior_knowledge\n",
    )
    .await;
    let response = gw.query(ENTITIES).await;
    assert!(response.get("errors").is_none(), "{response}");
    let response = gw.query(BOTH_ROOTS).await;
    assert_eq!(response["data"]["stockStatus"], "in stock", "{response}");
    assert!(stock.versions().iter().all(|v| *v == http::Version::HTTP_2));
    assert!(stock.hits() >= 2);
    // The shared client of the other subgraphs still speaks HTTP/1.1.
    assert!(gw
        .catalog_versions()
        .iter()
        .all(|v| *v == http::Version::HTTP_11));
}

#[tokio::test]
async fn idle_connections_follow_the_pool_settings() {
    async fn connections_for(traffic_yaml: &str, pause: Duration) -> usize {
        let stock = Stock::new(Behaviour::Up);
        let (url, accepted) = serve_counting(stock.router()).await;
        let gw = Gateway::start_with_stock_url(&stock, Some(url), "", traffic_yaml).await;
        for _ in 0..3 {
            let response = gw.query(BOTH_ROOTS).await;
            assert_eq!(response["data"]["stockStatus"], "in stock", "{response}");
            tokio::time::sleep(pause).await;
        }
        accepted.load(Ordering::SeqCst)
    }
    let no_pause = Duration::ZERO;
    assert_eq!(
        connections_for("", no_pause).await,
        1,
        "kept alive and reused"
    );
    assert_eq!(
        connections_for(
            "traffic:\n  subgraphs:\n    stock:\n      pool: { max_idle_per_host: 0 }\n",
            no_pause
        )
        .await,
        3,
        "none kept idle"
    );
    assert_eq!(
        connections_for(
            "traffic:\n  subgraphs:\n    stock:\n      pool: { idle_timeout: 50ms }\n",
            Duration::from_millis(500)
        )
        .await,
        3,
        "closed after 50ms idle"
    );
}
