//! Hot reload by watching files: a changed config file or supergraph file is read again and its
//! schema swapped in; a broken one leaves the old schema serving.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use seam::config::Config;
use seam::startup::{reload_from_files, spawn_file_watch, WatchedFiles};
use seam::Gateway;

const V1: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { hello: String }"#;
const V2: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { hello: String world: String }"#;
/// Long enough for a loaded machine; the tests wait for a condition, never for this long.
const PATIENCE: Duration = Duration::from_secs(60);
const CHECK_EVERY: Duration = Duration::from_millis(50);

/// A subgraph that answers both versions' fields; its SDL comes from files.
fn greetings() -> Router {
    Router::new().route(
        "/graphql",
        post(|| async { Json(json!({ "data": { "hello": "hi", "world": "earth" } })) }),
    )
}

fn temp_dir() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("seam-reload-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("v1.graphql"), V1).expect("v1");
    std::fs::write(dir.join("second.graphql"), V2).expect("v2");
    dir
}

fn config_text(subgraph: std::net::SocketAddr, sdl: &str) -> String {
    format!("subgraphs:\n  - name: greetings\n    url: http://{subgraph}/graphql\n    sdl: {sdl}\n")
}

/// Replaces `path` the way editors and ConfigMaps do: a new file renamed over the old one.
fn replace(path: &Path, text: &str) {
    let staged = path.with_extension("staged");
    std::fs::write(&staged, text).expect("write");
    std::fs::rename(&staged, path).expect("rename");
}

async fn serve(gateway: Arc<Gateway>) -> String {
    let addr = common::spawn_router(seam::http::router(gateway)).await;
    format!("http://{addr}/graphql")
}

/// A gateway built from the config file at `path`, watching it, served: its URL.
async fn watched_gateway(path: &Path) -> String {
    let config = Config::load(path).expect("config");
    let client = reqwest::Client::new();
    let gateway = seam::startup::gateway_from_config(&config, &client)
        .await
        .expect("gateway");
    let files = WatchedFiles {
        config: Some(path.to_owned()),
        supergraph: None,
    };
    spawn_file_watch(gateway.clone(), files, Some(config), CHECK_EVERY, client);
    serve(gateway).await
}

async fn ask(url: &str, query: &str) -> Value {
    reqwest::Client::new()
        .post(url)
        .json(&json!({ "query": query }))
        .timeout(PATIENCE)
        .send()
        .await
        .expect("gateway answers")
        .json()
        .await
        .expect("JSON")
}

async fn until_world_is_served(url: &str) -> bool {
    let until = Instant::now() + PATIENCE;
    while Instant::now() < until {
        if ask(url, "{ world }").await["data"]["world"] == "earth" {
            return true;
        }
        tokio::time::sleep(CHECK_EVERY).await;
    }
    false
}

#[tokio::test]
async fn a_changed_config_file_is_read_again() {
    let dir = temp_dir();
    let subgraph = common::spawn_router(greetings()).await;
    let path = dir.join("seam.yaml");
    std::fs::write(&path, config_text(subgraph, "v1.graphql")).expect("config");
    let config = Config::load(&path).expect("config");
    let client = reqwest::Client::new();
    let gateway = seam::startup::gateway_from_config(&config, &client)
        .await
        .expect("gateway");
    let files = WatchedFiles {
        config: Some(path.clone()),
        supergraph: None,
    };
    spawn_file_watch(
        gateway.clone(),
        files.clone(),
        Some(config),
        CHECK_EVERY,
        client.clone(),
    );
    let url = serve(gateway.clone()).await;
    let before = ask(&url, "{ world }").await;
    assert_eq!(
        before["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{before}"
    );

    replace(&path, &config_text(subgraph, "second.graphql"));
    assert!(
        until_world_is_served(&url).await,
        "the new field became queryable"
    );

    // A broken config is refused with a message naming it, and nothing is swapped.
    std::fs::write(&path, "subgraphs: [").expect("broken config");
    let error = reload_from_files(&gateway, &files, &client)
        .await
        .expect_err("a broken config is refused");
    assert!(error.to_string().contains("seam.yaml"), "{error}");
    assert_eq!(
        ask(&url, "{ hello world }").await,
        json!({ "data": { "hello": "hi", "world": "earth" } })
    );
}

#[tokio::test]
async fn a_changed_supergraph_file_is_read_again() {
    let dir = temp_dir();
    let subgraph = common::spawn_router(greetings()).await;
    let client = reqwest::Client::new();
    let mut supergraphs = Vec::new();
    for sdl in ["v1.graphql", "second.graphql"] {
        let config = Config::from_yaml_str(&config_text(subgraph, sdl), &dir).expect("config");
        supergraphs.push(
            seam::startup::supergraph_sdl(&config, &client)
                .await
                .expect("composes"),
        );
    }
    let path = dir.join("supergraph.graphql");
    std::fs::write(&path, &supergraphs[0]).expect("supergraph");
    let gateway = seam::startup::gateway_from_supergraph(&supergraphs[0], None).expect("gateway");
    let files = WatchedFiles {
        config: None,
        supergraph: Some(path.clone()),
    };
    spawn_file_watch(
        gateway.clone(),
        files.clone(),
        None,
        CHECK_EVERY,
        client.clone(),
    );
    let url = serve(gateway.clone()).await;
    assert_eq!(
        ask(&url, "{ hello }").await,
        json!({ "data": { "hello": "hi" } })
    );

    replace(&path, &supergraphs[1]);
    assert!(
        until_world_is_served(&url).await,
        "the new field became queryable"
    );

    std::fs::write(&path, "type Query { oops").expect("broken supergraph");
    assert!(reload_from_files(&gateway, &files, &client).await.is_err());
    assert_eq!(
        ask(&url, "{ hello world }").await,
        json!({ "data": { "hello": "hi", "world": "earth" } })
    );
}

#[tokio::test]
async fn with_watch_files_off_a_changed_config_file_is_not_read() {
    let dir = temp_dir();
    let subgraph = common::spawn_router(greetings()).await;
    let client = reqwest::Client::new();
    let off = "watch_files: false\n";
    // Two gateways that differ only in the switch, their files changed alike: the watching one
    // is the witness that the changes were there to be seen.
    let mut urls = Vec::new();
    let mut paths = Vec::new();
    for (name, extra) in [("watched.yaml", ""), ("unwatched.yaml", off)] {
        let path = dir.join(name);
        std::fs::write(&path, config_text(subgraph, "v1.graphql") + extra).expect("config");
        let config = Config::load(&path).expect("config");
        let gateway = seam::startup::gateway_from_config(&config, &client)
            .await
            .expect("gateway");
        let files = WatchedFiles {
            config: Some(path.clone()),
            supergraph: None,
        };
        let watching = spawn_file_watch(
            gateway.clone(),
            files,
            Some(config),
            CHECK_EVERY,
            client.clone(),
        );
        assert_eq!(watching, extra.is_empty(), "{name}");
        urls.push(serve(gateway).await);
        paths.push(path);
    }
    let (watched, unwatched) = (&urls[0], &urls[1]);
    let serves_world = |url: &str| {
        let url = url.to_owned();
        async move { ask(&url, "{ world }").await["data"]["world"] == "earth" }
    };
    let mut writes = 0;
    // To the second schema and back, each change rewritten now and then until the watching
    // gateway has it (the watcher may take its first look after a write).
    for (sdl, world) in [("second.graphql", true), ("v1.graphql", false)] {
        let texts = [config_text(subgraph, sdl), config_text(subgraph, sdl) + off];
        let until = Instant::now() + PATIENCE;
        let mut rewrite_at = Instant::now();
        loop {
            if Instant::now() >= rewrite_at {
                writes += 1;
                for (path, text) in paths.iter().zip(&texts) {
                    replace(path, &format!("{text}# write {writes}\n"));
                }
                rewrite_at = Instant::now() + Duration::from_secs(2);
            }
            assert!(
                !serves_world(unwatched).await,
                "the gateway with watch_files: false reloaded"
            );
            if serves_world(watched).await == world {
                break;
            }
            assert!(
                Instant::now() < until,
                "the watching gateway never reloaded"
            );
            tokio::time::sleep(CHECK_EVERY).await;
        }
    }
    assert!(!serves_world(unwatched).await);
}

/// A subgraph answering `{ hello }` with its own word, for telling two instances apart.
fn greeting(word: &'static str) -> Router {
    Router::new().route(
        "/graphql",
        post(move || async move { Json(json!({ "data": { "hello": word } })) }),
    )
}

async fn until_hello_is(url: &str, word: &str) -> bool {
    let until = Instant::now() + PATIENCE;
    while Instant::now() < until {
        if ask(url, "{ hello }").await["data"]["hello"] == word {
            return true;
        }
        tokio::time::sleep(CHECK_EVERY).await;
    }
    false
}

/// `url` follows the file like the rest of `subgraphs`: the gateway calls the new address, not
/// only names it in its supergraph.
#[tokio::test]
async fn a_subgraph_moved_in_the_config_file_is_called_at_its_new_url() {
    let dir = temp_dir();
    let one = common::spawn_router(greeting("one")).await;
    let two = common::spawn_router(greeting("two")).await;
    let path = dir.join("seam.yaml");
    std::fs::write(&path, config_text(one, "v1.graphql")).expect("config");
    let url = watched_gateway(&path).await;
    assert!(until_hello_is(&url, "one").await);

    // The file's size changes too: the watch compares modification time and size, and a
    // filesystem with coarse timestamps can give the new file the old one's time.
    replace(
        &path,
        &format!(
            "{}# moved to another address\n",
            config_text(two, "v1.graphql")
        ),
    );
    assert!(
        until_hello_is(&url, "two").await,
        "requests went on to the old address"
    );
}

/// A subgraph whose SDL is fetched (`_service`), counting the fetches: each poll fetches it.
fn counted_sdl_subgraph(fetches: Arc<std::sync::atomic::AtomicUsize>) -> Router {
    const SDL: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { ping: String }"#;
    Router::new().route(
        "/graphql",
        post(move |Json(body): Json<Value>| {
            let fetches = fetches.clone();
            async move {
                let query = body["query"].as_str().unwrap_or_default();
                if query.contains("_service") {
                    fetches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    Json(json!({ "data": { "_service": { "sdl": SDL } } }))
                } else {
                    Json(json!({ "data": { "ping": "pong" } }))
                }
            }
        }),
    )
}

/// With `poll_interval` too, the poller recomposes from the file as it was last read: an edit
/// the watch picked up is not undone at the next poll.
#[tokio::test]
async fn polling_does_not_undo_an_edit_of_the_config_file() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let dir = temp_dir();
    let greetings = common::spawn_router(greetings()).await;
    let fetches = Arc::new(AtomicUsize::new(0));
    let pinger = common::spawn_router(counted_sdl_subgraph(fetches.clone())).await;
    let text = |sdl: &str| {
        config_text(greetings, sdl)
            + &format!("  - name: pinger\n    url: http://{pinger}/graphql\n")
    };
    let path = dir.join("seam.yaml");
    std::fs::write(&path, text("v1.graphql")).expect("config");
    let config = Config::load(&path).expect("config");
    let client = reqwest::Client::new();
    let gateway = seam::startup::gateway_from_config(&config, &client)
        .await
        .expect("gateway");
    seam::startup::spawn_hot_reload(gateway.clone(), config.clone(), CHECK_EVERY, client.clone());
    let files = WatchedFiles {
        config: Some(path.clone()),
        supergraph: None,
    };
    spawn_file_watch(gateway.clone(), files, Some(config), CHECK_EVERY, client);
    let url = serve(gateway).await;
    assert_eq!(ask(&url, "{ ping }").await["data"]["ping"], "pong");

    replace(&path, &text("second.graphql"));
    assert!(until_world_is_served(&url).await, "the edit was read");
    // Three more polls: the first would have gone back to the startup config's schema.
    let seen = fetches.load(Ordering::SeqCst);
    let until = Instant::now() + PATIENCE;
    while fetches.load(Ordering::SeqCst) < seen + 3 {
        assert!(Instant::now() < until, "the poller stopped polling");
        tokio::time::sleep(CHECK_EVERY).await;
    }
    let answer = ask(&url, "{ hello world }").await;
    assert_eq!(
        answer,
        json!({ "data": { "hello": "hi", "world": "earth" } }),
        "a poll undid the edit"
    );
}

/// A subgraph's `sdl` file is watched like the config: editing it in place reloads.
#[tokio::test]
async fn a_changed_sdl_file_is_read_again() {
    let dir = temp_dir();
    let subgraph = common::spawn_router(greetings()).await;
    let path = dir.join("seam.yaml");
    let sdl = dir.join("v1.graphql");
    std::fs::write(&path, config_text(subgraph, "v1.graphql")).expect("config");
    let url = watched_gateway(&path).await;
    assert_eq!(
        ask(&url, "{ world }").await["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    replace(&sdl, V2);
    assert!(
        until_world_is_served(&url).await,
        "the sdl file's new field became queryable"
    );
}

/// A reload whose SDL fetch fails (a subgraph restarting) is tried again, so the edit is not
/// lost until the next one.
#[tokio::test]
async fn a_reload_that_could_not_reach_a_subgraph_is_retried() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let dir = temp_dir();
    let greetings = common::spawn_router(greetings()).await;
    let down = Arc::new(AtomicBool::new(false));
    let refused = Arc::new(AtomicUsize::new(0));
    let flaky = {
        let (down, refused) = (down.clone(), refused.clone());
        let inner = counted_sdl_subgraph(Arc::new(AtomicUsize::new(0)));
        inner.layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let (down, refused) = (down.clone(), refused.clone());
                async move {
                    if down.load(Ordering::SeqCst) {
                        refused.fetch_add(1, Ordering::SeqCst);
                        return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
                    }
                    next.run(request).await
                }
            },
        ))
    };
    let flaky = common::spawn_router(flaky).await;
    let text = |sdl: &str| {
        config_text(greetings, sdl)
            + &format!("  - name: pinger\n    url: http://{flaky}/graphql\n")
    };
    let path = dir.join("seam.yaml");
    std::fs::write(&path, text("v1.graphql")).expect("config");
    let url = watched_gateway(&path).await;
    assert_eq!(ask(&url, "{ ping }").await["data"]["ping"], "pong");

    down.store(true, Ordering::SeqCst);
    replace(&path, &text("second.graphql"));
    let until = Instant::now() + PATIENCE;
    while refused.load(Ordering::SeqCst) == 0 {
        assert!(
            Instant::now() < until,
            "the reload never asked the subgraph"
        );
        tokio::time::sleep(CHECK_EVERY).await;
    }
    down.store(false, Ordering::SeqCst);
    assert!(
        until_world_is_served(&url).await,
        "the failed reload was not tried again"
    );
}
