//! Every per-request step is linear in the size of the query: with the limits raised, 100,000
//! aliases are parsed, planned, executed and shaped. A step that scanned its siblings per field
//! (as shaping, merging and planning once did) takes minutes here instead of seconds, and the
//! request misses the generous deadline below. No timing is asserted beyond that deadline.

mod common;

use std::time::Duration;

use serde_json::{json, Value};

/// Far beyond what a linear gateway needs for these queries in a debug build on a loaded
/// machine, far below what a quadratic one needs for 100,000 aliases (hours in a debug build).
const DEADLINE: Duration = Duration::from_secs(240);

/// The gateway's own time limits are raised with the size limits: a loaded machine running a
/// debug build must not turn a slow answer into a refusal.
const RAISED: &str = "limits:\n  max_tokens: 10000000\n  max_aliases: unlimited\n  max_root_fields: unlimited\n  max_fields: unlimited\n  max_body_bytes: 67108864\n  operation_cache_bytes: 1073741824\n  planning_timeout: 200s\n  request_timeout: 220s\n";

/// One heavy query at a time: run side by side on two cores they only slow each other down.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Served {
    url: String,
    client: reqwest::Client,
}

/// The demo subgraphs behind a gateway whose limits are raised.
async fn serve() -> Served {
    let served = common::serve_demo("    timeout: 200s\n", RAISED).await;
    Served {
        url: served.url,
        client: reqwest::Client::new(),
    }
}

impl Served {
    async fn post(&self, query: &str) -> Value {
        self.client
            .post(&self.url)
            .json(&json!({ "query": query }))
            .timeout(DEADLINE)
            .send()
            .await
            .expect("an answer before the deadline")
            .json()
            .await
            .expect("json")
    }
}

/// `{ prefix a0: field a1: field … suffix }`.
fn aliased(n: usize, field: &str) -> String {
    let mut query = String::with_capacity(n * (field.len() + 10));
    for i in 0..n {
        query.push_str(&format!(" a{i}: {field}"));
    }
    query
}

#[tokio::test]
async fn a_hundred_thousand_aliases_of_a_root_field_are_answered() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let served = serve().await;
    let n = 100_000;
    let answer = served
        .post(&format!("{{{}}}", aliased(n, "me { id }")))
        .await;
    let data = answer["data"].as_object().expect("data");
    assert!(answer.get("errors").is_none(), "{:?}", answer.get("errors"));
    assert_eq!(data.len(), n);
    for i in [0, 1, n / 2, n - 1] {
        assert_eq!(data[&format!("a{i}")], json!({ "id": "1" }));
    }
}

#[tokio::test]
async fn a_hundred_thousand_aliases_of_typename_are_answered() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let served = serve().await;
    let n = 100_000;
    let answer = served
        .post(&format!("{{{}}}", aliased(n, "__typename")))
        .await;
    let data = answer["data"].as_object().expect("data");
    assert_eq!(data.len(), n);
    assert_eq!(data[&format!("a{}", n - 1)], "Query");
}

#[tokio::test]
async fn a_hundred_thousand_aliases_of_a_field_from_another_subgraph_share_one_entity_fetch() {
    // `Product.upc` comes from products, `Product.inStock` from inventory: every alias of
    // `inStock` rides in one `_entities` fetch.
    let _turn = ONE_AT_A_TIME.lock().await;
    let served = serve().await;
    let n = 100_000;
    let answer = served
        .post(&format!(
            "{{ topProducts(first: 2) {{ upc {} }} }}",
            aliased(n, "inStock")
        ))
        .await;
    assert!(answer.get("errors").is_none(), "{:?}", answer.get("errors"));
    let products = answer["data"]["topProducts"].as_array().expect("products");
    assert_eq!(products.len(), 2);
    for product in products {
        let product = product.as_object().expect("product");
        assert_eq!(product.len(), n + 1);
        let first = &product["a0"];
        assert!(first.is_boolean(), "{first}");
        assert_eq!(&product[&format!("a{}", n - 1)], first);
    }
}

#[tokio::test]
async fn five_hundred_aliases_of_a_list_field_that_jumps_per_alias_are_answered() {
    // Each alias is its own response path, so each needs its own entity fetch, all sent at once.
    // Kept to 500: ten thousand simultaneous connections to one test subgraph overflow the
    // machine's listen backlog (SYN cookies), which tests the machine, not the gateway.
    let _turn = ONE_AT_A_TIME.lock().await;
    let served = serve().await;
    let n = 500;
    let answer = served
        .post(&format!(
            "{{ {} }}",
            aliased(n, "topProducts(first: 1) { upc inStock }")
        ))
        .await;
    assert!(answer.get("errors").is_none(), "{:?}", answer.get("errors"));
    let data = answer["data"].as_object().expect("data");
    assert_eq!(data.len(), n);
    let last = &data[&format!("a{}", n - 1)];
    assert_eq!(last, &data["a0"]);
    assert!(last[0]["inStock"].is_boolean(), "{last}");
}
