//! In-flight deduplication of subgraph requests (issue 11): identical requests in flight together
//! share one call to a real subgraph; requests whose forwarded headers differ never share, and
//! mutations are never shared.
//!
//! The subgraph holds every call until it has seen `expected` calls or a few seconds passed, so
//! requests overlap whatever the machine's speed. Without sharing it sees `expected` calls at
//! once; with sharing it sees fewer and answers when the wait is over.

mod common;
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_graphql::{Context, EmptySubscription, Object, Schema};
use serde_json::{json, Value};

/// How long the subgraph holds calls waiting for more to arrive.
const HOLD: Duration = Duration::from_secs(3);

#[derive(Clone)]
struct Counter {
    calls: Arc<AtomicUsize>,
    expected: usize,
}

impl Counter {
    async fn arrive(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + HOLD;
        while self.calls.load(Ordering::SeqCst) < self.expected
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

struct Query;

#[Object]
impl Query {
    /// Echoes the Authorization header the gateway forwarded.
    async fn whoami(&self, ctx: &Context<'_>) -> String {
        ctx.data_unchecked::<Counter>().arrive().await;
        ctx.data_opt::<Forwarded>()
            .map(|f| f.0.clone())
            .unwrap_or_default()
    }
}

struct Mutation;

#[Object]
impl Mutation {
    async fn bump(&self, ctx: &Context<'_>) -> i32 {
        ctx.data_unchecked::<Counter>().arrive().await;
        1
    }
}

struct Forwarded(String);

async fn gateway(expected: usize) -> (common::TestGateway, Counter) {
    let counter = Counter {
        calls: Arc::default(),
        expected,
    };
    let schema = Schema::build(Query, Mutation, EmptySubscription)
        .data(counter.clone())
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
    let gw = common::TestGateway::compose_with_config(
        vec![("echo", router)],
        "",
        "headers:\n  all:\n    request:\n      - propagate: { named: Authorization }\n",
    )
    .await;
    counter.calls.store(0, Ordering::SeqCst);
    (gw, counter)
}

async fn post_all(gw: &common::TestGateway, bodies: Vec<(Value, Option<&str>)>) -> Vec<Value> {
    let calls = bodies.into_iter().map(|(body, token)| {
        let mut request = gw.client.post(&gw.url).json(&body);
        if let Some(token) = token {
            request = request.header("authorization", token);
        }
        async move {
            request
                .send()
                .await
                .expect("send")
                .json::<Value>()
                .await
                .expect("json")
        }
    });
    futures::future::join_all(calls).await
}

#[tokio::test]
async fn identical_queries_in_flight_share_one_subgraph_call() {
    let (gw, counter) = gateway(5).await;
    let body = json!({ "query": "{ whoami }" });
    let answers = post_all(
        &gw,
        (0..5)
            .map(|_| (body.clone(), Some("Bearer same")))
            .collect(),
    )
    .await;
    for answer in &answers {
        assert_eq!(answer, &json!({ "data": { "whoami": "Bearer same" } }));
    }
    let calls = counter.calls.load(Ordering::SeqCst);
    assert!(calls < 5, "5 identical queries made {calls} subgraph calls");
    // Every request that made no call of its own is counted as shared.
    assert_eq!(shared_total(&gw).await, Some(5 - calls as u64));
}

/// `seam_subgraph_requests_shared_total` of the `echo` subgraph (`None` without the series).
async fn shared_total(gw: &common::TestGateway) -> Option<u64> {
    let series = "seam_subgraph_requests_shared_total{subgraph=\"echo\"}";
    gw.metric(series)
        .await
        .map(|value| value.parse().expect("a count"))
}

#[tokio::test]
async fn requests_whose_forwarded_headers_differ_never_share() {
    let (gw, counter) = gateway(4).await;
    let body = json!({ "query": "{ whoami }" });
    let tokens = ["Bearer a", "Bearer b", "Bearer a", "Bearer b"];
    let answers = post_all(
        &gw,
        tokens.iter().map(|t| (body.clone(), Some(*t))).collect(),
    )
    .await;
    for (answer, token) in answers.iter().zip(tokens) {
        assert_eq!(answer, &json!({ "data": { "whoami": token } }), "{token}");
    }
    assert!(counter.calls.load(Ordering::SeqCst) >= 2);
}

#[tokio::test]
async fn identical_mutations_are_each_sent() {
    let (gw, counter) = gateway(3).await;
    let body = json!({ "query": "mutation { bump }" });
    let answers = post_all(&gw, (0..3).map(|_| (body.clone(), None)).collect()).await;
    for answer in &answers {
        assert_eq!(answer, &json!({ "data": { "bump": 1 } }));
    }
    assert_eq!(counter.calls.load(Ordering::SeqCst), 3);
    assert_eq!(
        shared_total(&gw).await,
        Some(0),
        "no mutation counts as shared"
    );
}

#[tokio::test]
async fn switched_off_every_identical_query_is_sent() {
    let counter = Counter {
        calls: Arc::default(),
        expected: 3,
    };
    let schema = Schema::build(Query, Mutation, EmptySubscription)
        .data(counter.clone())
        .enable_federation()
        .finish();
    let gw = common::TestGateway::compose_with_config(
        vec![("echo", support::graphql_router(schema))],
        "",
        "traffic:\n  dedupe_subgraph_requests: false\n",
    )
    .await;
    counter.calls.store(0, Ordering::SeqCst);
    let body = json!({ "query": "{ whoami }" });
    post_all(&gw, (0..3).map(|_| (body.clone(), None)).collect()).await;
    assert_eq!(counter.calls.load(Ordering::SeqCst), 3);
}
