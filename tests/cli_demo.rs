//! The README's first command, through the real binary: `seam demo` starts the example subgraphs
//! and the gateway, and a query across all four subgraphs works; `seam serve --supergraph` serves
//! the checked-in supergraph against the demo's subgraphs.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `seam` with `args`, waits for "listening" on stderr, and returns the lines printed before it.
fn start(args: &[&str]) -> (Killed, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_seam"))
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("seam starts");
    let stderr = child.stderr.take().expect("stderr");
    let child = Killed(child);
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("stderr line");
        let done = line.contains("listening on");
        lines.push(line);
        if done || Instant::now() > deadline {
            break;
        }
    }
    (child, lines)
}

async fn post(url: &str, query: &str) -> Value {
    reqwest::Client::new()
        .post(url)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("gateway answers")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn demo_command_serves_a_query_across_all_four_subgraphs() {
    let port = free_port();
    let (_demo, lines) = start(&["demo", "--listen", &format!("127.0.0.1:{port}")]);
    assert!(
        lines.iter().any(|l| l.contains("listening on")),
        "{lines:?}"
    );
    for name in ["accounts", "products", "reviews", "inventory"] {
        assert!(
            lines.iter().any(|l| l.contains(name)),
            "{name} listed in {lines:?}"
        );
    }
    let response = post(
        &format!("http://127.0.0.1:{port}/graphql"),
        "{ topProducts(first: 1) { name shippingEstimate inStock reviews { author { username name } } } }",
    )
    .await;
    assert_eq!(
        response,
        json!({ "data": { "topProducts": [{
            "name": "Product 1", "shippingEstimate": 190, "inStock": true,
            "reviews": [
                { "author": { "username": "user1", "name": "Ada Lovelace" } },
                { "author": { "username": "user8", "name": "Dennis Ritchie" } },
                { "author": { "username": "user15", "name": "Sophie Wilson" } },
                { "author": { "username": "user2", "name": "Alan Turing" } }
            ]
        }] } })
    );
    let health = reqwest::get(format!("http://127.0.0.1:{port}/ready"))
        .await
        .expect("ready");
    assert!(health.status().is_success());
}

#[tokio::test]
async fn serve_with_a_supergraph_file_and_config_urls() {
    // Subgraphs from the library on free ports; the supergraph file's URLs are overridden by the config.
    let subgraphs = seam::demo::spawn_subgraphs("127.0.0.1".parse().unwrap())
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("seam-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut yaml = String::from("subgraphs:\n");
    for s in &subgraphs {
        yaml.push_str(&format!("  - name: {}\n    url: {}\n", s.name, s.url));
    }
    let config = dir.join("seam.yaml");
    std::fs::write(&config, yaml).unwrap();
    let supergraph = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/supergraph.graphql");
    let port = free_port();
    let (_serve, lines) = start(&[
        "serve",
        "--supergraph",
        supergraph,
        "--config",
        config.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{port}"),
    ]);
    assert!(
        lines.iter().any(|l| l.contains("listening on")),
        "{lines:?}"
    );
    let response = post(
        &format!("http://127.0.0.1:{port}/graphql"),
        "{ topReviews(first: 1) { body author { name } product { name price } } }",
    )
    .await;
    assert_eq!(
        response,
        json!({ "data": { "topReviews": [{
            "body": "Product 1: Not what I hoped for.",
            "author": { "name": "Ada Lovelace" },
            "product": { "name": "Product 1", "price": 8018 }
        }] } })
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `--bridge` URL of no known backend stops the demo before it starts anything, saying what
/// was expected.
#[test]
fn a_bridge_url_of_an_unknown_kind_is_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_seam"))
        .args([
            "demo",
            "--listen",
            &format!("127.0.0.1:{}", free_port()),
            "--bridge",
            "http://127.0.0.1:6379",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("seam runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert_eq!(
        stderr.trim(),
        "error: --bridge http://127.0.0.1:6379: expected redis://HOST:PORT, rediss://HOST:PORT \
         or nats://HOST:PORT"
    );
}

/// Beside a supergraph file the config's sections name the file's subgraphs: a name it does not
/// have (a typo) stops startup naming the key, instead of a setting silently dropped.
#[test]
fn a_config_beside_a_supergraph_may_name_only_its_subgraphs() {
    let dir = std::env::temp_dir().join(format!("seam-cli-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let supergraph = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/supergraph.graphql");
    for (yaml, key) in [
        (
            "traffic:\n  subgraphs:\n    prodcts:\n      dedupe_subgraph_requests: false\n",
            "traffic.subgraphs.prodcts",
        ),
        (
            "subgraphs:\n  - name: acounts\n    url: http://127.0.0.1:1/graphql\n",
            "subgraphs[0].name",
        ),
        (
            "headers:\n  subgraphs:\n    reveiws:\n      request:\n        - propagate: { named: x-a }\n",
            "headers.subgraphs.reveiws",
        ),
    ] {
        let config = dir.join("seam.yaml");
        std::fs::write(&config, yaml).unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_seam"))
            .args([
                "serve",
                "--supergraph",
                supergraph,
                "--config",
                config.to_str().unwrap(),
                "--listen",
                &format!("127.0.0.1:{}", free_port()),
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .expect("seam runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{yaml}: {stderr}");
        assert!(stderr.contains(key), "{yaml}: {stderr}");
        assert!(stderr.contains("products"), "lists the file's subgraphs: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A supergraph composed with an event subgraph gives it no URL: served without its `sdl` in the
/// config it could only fail at every request, so startup refuses it; with the entry it starts.
#[test]
fn a_supergraph_with_an_event_subgraph_needs_its_sdl_in_the_config() {
    let dir = std::env::temp_dir().join(format!("seam-cli-events-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let schemas = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas");
    let mut yaml = String::from("subgraphs:\n");
    for (name, port) in [
        ("accounts", 1),
        ("products", 2),
        ("reviews", 3),
        ("inventory", 4),
    ] {
        yaml.push_str(&format!(
            "  - name: {name}\n    url: http://127.0.0.1:{port}/graphql\n    sdl: {schemas}/{name}.graphql\n"
        ));
    }
    let events = format!("  - name: events\n    sdl: {schemas}/events.graphql\n");
    let composing = dir.join("compose.yaml");
    std::fs::write(&composing, format!("{yaml}{events}")).unwrap();
    let composed = Command::new(env!("CARGO_BIN_EXE_seam"))
        .args(["compose", "--config", composing.to_str().unwrap()])
        .output()
        .expect("seam runs");
    assert!(
        composed.status.success(),
        "{}",
        String::from_utf8_lossy(&composed.stderr)
    );
    let supergraph = dir.join("supergraph.graphql");
    std::fs::write(&supergraph, &composed.stdout).unwrap();

    let refused = Command::new(env!("CARGO_BIN_EXE_seam"))
        .args([
            "serve",
            "--supergraph",
            supergraph.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{}", free_port()),
        ])
        .env_remove("SEAM_CONFIG")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("seam runs");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(stderr.contains("`events` has no URL"), "{stderr}");

    let beside = dir.join("beside.yaml");
    std::fs::write(&beside, format!("subgraphs:\n{events}")).unwrap();
    let (_serving, lines) = start(&[
        "serve",
        "--supergraph",
        supergraph.to_str().unwrap(),
        "--config",
        beside.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{}", free_port()),
    ]);
    assert!(
        lines.iter().any(|l| l.contains("listening on")),
        "{lines:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
