//! `poll_interval`: Seam re-fetches SDLs, recomposes and swaps the schema; a broken update keeps the
//! old schema serving.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

const V1: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { hello: String }"#;
const V2: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { hello: String world: String }"#;

/// A subgraph whose SDL can be changed while it runs.
fn changing_subgraph(sdl: Arc<Mutex<String>>) -> Router {
    Router::new().route(
        "/graphql",
        post(move |Json(request): Json<Value>| {
            let sdl = sdl.clone();
            async move {
                let query = request["query"].as_str().unwrap_or_default();
                if query.contains("_service") {
                    let sdl = sdl.lock().unwrap().clone();
                    Json(json!({ "data": { "_service": { "sdl": sdl } } }))
                } else {
                    Json(json!({ "data": { "hello": "hi", "world": "earth" } }))
                }
            }
        }),
    )
}

async fn wait_for(deadline: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let until = Instant::now() + deadline;
    while Instant::now() < until {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn schema_changes_are_picked_up_and_broken_updates_are_skipped() {
    let sdl = Arc::new(Mutex::new(V1.to_owned()));
    let addr = common::spawn_router(changing_subgraph(sdl.clone())).await;
    let yaml = format!(
        "subgraphs:\n  - name: greetings\n    url: http://{addr}/graphql\npoll_interval: 100ms\n"
    );
    let config = seam::config::Config::from_yaml_str(&yaml, Path::new(".")).unwrap();
    let client = reqwest::Client::new();
    let gateway = seam::startup::gateway_from_config(&config, &client)
        .await
        .unwrap();
    seam::startup::spawn_hot_reload(
        gateway.clone(),
        config.clone(),
        Duration::from_millis(100),
        client.clone(),
    );
    let gw = common::spawn_router(seam::http::router(gateway)).await;
    let url = format!("http://{gw}/graphql");
    let ask = |query: &'static str| {
        let client = client.clone();
        let url = url.clone();
        async move {
            let r: Value = client
                .post(&url)
                .json(&json!({ "query": query }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            r
        }
    };

    let before = ask("{ world }").await;
    assert_eq!(
        before["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{before}"
    );

    *sdl.lock().unwrap() = V2.to_owned();
    let reloaded = wait_for(Duration::from_secs(5), async || {
        ask("{ world }").await["data"]["world"] == "earth"
    })
    .await;
    assert!(reloaded, "the new field became queryable");

    // A broken SDL is not swapped in: the last good schema keeps serving.
    *sdl.lock().unwrap() = "type Query { oops".to_owned();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let after = ask("{ hello world }").await;
    assert_eq!(
        after,
        json!({ "data": { "hello": "hi", "world": "earth" } })
    );
}
