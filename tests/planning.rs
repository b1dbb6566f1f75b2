//! Preparing new documents (parse ▶ limits ▶ validate ▶ plan) happens once per document, in a
//! bounded pool off the async workers, within a time limit, and the operation cache holding the
//! results is bounded by bytes.

mod common;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use seam::Gateway;

const PATIENCE: Duration = Duration::from_secs(120);

struct Served {
    gateway: Arc<Gateway>,
    url: String,
    base: String,
    client: reqwest::Client,
}

/// The demo subgraphs behind a gateway with `top_level` config lines.
async fn serve(top_level: &str) -> Served {
    let served = common::serve_demo("", top_level).await;
    Served {
        gateway: served.gateway,
        url: served.url,
        base: served.base,
        client: reqwest::Client::new(),
    }
}

impl Served {
    async fn post(&self, query: &str) -> Value {
        self.client
            .post(&self.url)
            .json(&json!({ "query": query }))
            .timeout(PATIENCE)
            .send()
            .await
            .expect("gateway")
            .json()
            .await
            .expect("json")
    }

    async fn stats(&self) -> seam::pipeline::prepare::CacheStats {
        self.gateway
            .schema_state()
            .expect("schema")
            .operation_cache_stats()
            .await
    }
}

/// `{ a0: __typename a1: __typename … }` with `n` aliases: slow to parse and validate, with
/// nothing for the subgraphs to do.
fn aliases(n: usize) -> String {
    let mut query = String::from("{");
    for i in 0..n {
        query.push_str(&format!(" a{i}: __typename"));
    }
    query.push_str(" }");
    query
}

const RAISED: &str = "limits:\n  max_tokens: 10000000\n  max_aliases: unlimited\n  max_root_fields: unlimited\n  max_fields: unlimited\n  max_body_bytes: 67108864\n";

#[tokio::test]
async fn identical_new_documents_arriving_together_are_prepared_once() {
    let served = serve("").await;
    let query = "{ topProducts(first: 3) { upc name reviews { body } } }";
    let before = served.stats().await;
    let answers = futures::future::join_all((0..16).map(|_| served.post(query))).await;
    for answer in &answers {
        assert_eq!(answer, &answers[0]);
    }
    assert_eq!(
        answers[0]["data"]["topProducts"][2]["upc"], "3",
        "{}",
        answers[0]
    );
    let after = served.stats().await;
    assert_eq!(after.preparations - before.preparations, 1, "{after:?}");
    // Later requests of the document are answered from the cache.
    served.post(query).await;
    assert!(served.stats().await.hits > after.hits);
}

#[tokio::test]
async fn the_operation_cache_is_bounded_by_bytes_not_by_entries() {
    let served = serve("limits:\n  operation_cache_bytes: 1048576\n").await;
    // Each distinct document of about 6 KB is estimated at over 100 KB of parsed and planned
    // state, so a 1 MiB cache holds about ten of them whatever arrives.
    let padding = "# padding\n".repeat(600);
    for i in 0..60 {
        let query = format!("{padding}{{ me {{ id }} n{i}: __typename }}");
        let answer = served.post(&query).await;
        assert_eq!(answer["data"]["me"]["id"], "1", "{answer}");
    }
    let stats = served.stats().await;
    assert_eq!(stats.preparations, 60, "{stats:?}");
    assert!(stats.entries > 0 && stats.entries <= 10, "{stats:?}");
}

#[tokio::test]
async fn a_document_that_cannot_be_prepared_in_time_is_refused_and_others_still_run() {
    let served = serve(&format!("{RAISED}  planning_timeout: 20ms\n")).await;
    // Prepared before the heavy document arrives: a cached operation needs no planning thread,
    // so it runs even while the refused document still occupies one.
    let prepared = served.post("{ me { id } }").await;
    assert_eq!(prepared, json!({ "data": { "me": { "id": "1" } } }));
    let answer = served.post(&aliases(200_000)).await;
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "PLANNING_TIMEOUT",
        "{answer}"
    );
    assert!(answer.get("data").is_none());
    let answer = served.post("{ me { id } }").await;
    assert_eq!(answer, json!({ "data": { "me": { "id": "1" } } }));
}

#[tokio::test]
async fn cached_operations_and_health_are_served_while_the_planning_pool_is_busy() {
    let served = Arc::new(
        serve(&format!(
            "{RAISED}  planning_threads: 1\n  planning_timeout: 5m\n"
        ))
        .await,
    );
    let cached = "{ me { id } }";
    served.post(cached).await;
    let before = served.stats().await;

    // A document that takes the only planning thread for seconds.
    let heavy = tokio::spawn({
        let served = served.clone();
        async move { served.post(&aliases(300_000)).await }
    });
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while served.stats().await.preparations == before.preparations {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the heavy document never started"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // Meanwhile the async workers are free: health and cached operations answer.
    let health = served
        .client
        .get(format!("{}/health", served.base))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), 200);
    assert_eq!(
        served.post(cached).await,
        json!({ "data": { "me": { "id": "1" } } })
    );
    assert!(
        !heavy.is_finished(),
        "the heavy document finished before the others were served; make it heavier"
    );
    let answer = heavy.await.expect("heavy request");
    assert_eq!(answer["data"]["a299999"], "Query");
}
