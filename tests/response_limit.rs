//! `limits.max_response_bytes`: a few kilobytes of query can ask for gigabytes (nested entity
//! lists multiply, aliases repeat), so a response is refused with `RESPONSE_TOO_LARGE` once it
//! would pass the limit — counted while answers are merged, before the gateway holds the tree,
//! and again while the response is written — and smaller responses are untouched.

mod common;

use serde_json::Value;

use common::{demo_routers, TestGateway};

async fn gateway(limit: &str) -> TestGateway {
    TestGateway::compose_with_config(
        demo_routers(),
        "",
        &format!("limits:\n  max_response_bytes: {limit}\n"),
    )
    .await
}

fn assert_too_large(response: &Value) {
    // It failed while executing: `data` is there, null.
    assert_eq!(response.get("data"), Some(&Value::Null), "{response}");
    let errors = response["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{response}");
    assert_eq!(
        errors[0]["extensions"]["code"], "RESPONSE_TOO_LARGE",
        "{response}"
    );
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("limits.max_response_bytes"),
        "{response}"
    );
}

/// Nested entity lists: each level's answer fills every place its entities appear.
fn nested(levels: usize) -> String {
    let mut selection = "name".to_owned();
    for _ in 0..levels {
        selection = format!("name reviews {{ body product {{ {selection} }} }}");
    }
    format!("{{ topProducts(first: 5) {{ {selection} }} }}")
}

#[tokio::test]
async fn nested_entity_lists_past_the_limit_are_refused_before_the_rest_is_fetched() {
    let unlimited = gateway("unlimited").await;
    let query = nested(3);
    let whole = unlimited.query(&query).await;
    assert!(whole.get("errors").is_none(), "{whole}");
    let size = whole.to_string().len();
    let calls_whole: usize = unlimited
        .subgraphs
        .iter()
        .map(|s| s.requests.lock().unwrap().len())
        .sum();

    // Well under what the whole response takes: refused, and the fetches after the budget ran
    // out were never made.
    let limited = gateway(&(size / 4).to_string()).await;
    let response = limited.query(&query).await;
    assert_too_large(&response);
    let calls_limited: usize = limited
        .subgraphs
        .iter()
        .map(|s| s.requests.lock().unwrap().len())
        .sum();
    assert!(
        calls_limited < calls_whole,
        "{calls_limited} subgraph calls, as many as the whole response's {calls_whole}"
    );

    // With room for it, the same query is answered whole.
    let roomy = gateway(&(size * 4).to_string()).await;
    assert_eq!(roomy.query(&query).await, whole);
}

#[tokio::test]
async fn what_the_gateway_answers_itself_is_bounded_as_the_response_is_written() {
    // Introspection is the gateway's own: no subgraph answer is merged for it, while aliases
    // repeat it in the written response.
    let aliases: Vec<String> = (0..20)
        .map(|i| format!("s{i}: __schema {{ types {{ name fields {{ name }} }} }}"))
        .collect();
    let query = format!("{{ {} }}", aliases.join(" "));
    let unlimited = gateway("unlimited").await;
    let whole = unlimited.query(&query).await;
    assert!(whole.get("errors").is_none(), "{whole}");
    let size = whole.to_string().len();
    assert!(size > 20_000, "{size}");

    let limited = gateway(&(size / 4).to_string()).await;
    assert_too_large(&limited.query(&query).await);
    let roomy = gateway(&(size * 2).to_string()).await;
    assert_eq!(roomy.query(&query).await, whole);
}

#[tokio::test]
async fn the_default_limit_leaves_ordinary_responses_alone() {
    let gw = TestGateway::demo().await;
    let response = gw
        .query("{ topProducts(first: 5) { upc name reviews { body author { name } } } }")
        .await;
    assert!(response.get("errors").is_none(), "{response}");
    assert_eq!(
        response["data"]["topProducts"].as_array().map(Vec::len),
        Some(5)
    );
}
