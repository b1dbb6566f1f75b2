//! Persisted operations over real HTTP, in front of the demo subgraphs: automatic persisted
//! queries (Apollo's protocol) in memory and in the machine's Redis (127.0.0.1:6379), and
//! persisted documents from Apollo and Relay manifests, with and without `only_persisted`.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use seam::config::Config;
use seam::Gateway;

const PATIENCE: Duration = Duration::from_secs(120);
const REDIS_URL: &str = "redis://127.0.0.1:6379";
const QUERY: &str = "{ topProducts(first: 2) { upc name } }";

struct Served {
    url: String,
    client: reqwest::Client,
}

/// Demo subgraphs for gateways built apart from `common::serve_demo`.
async fn subgraph_lines() -> String {
    let mut yaml = String::from("subgraphs:\n");
    for (name, router) in common::demo_routers() {
        let addr = common::spawn_router(router).await;
        yaml.push_str(&format!(
            "  - name: {name}\n    url: http://{addr}/graphql\n"
        ));
    }
    yaml
}

async fn gateway(subgraphs: &str, top_level: &str) -> Result<Arc<Gateway>, String> {
    let config = Config::from_yaml_str(&format!("{subgraphs}{top_level}"), Path::new("."))
        .map_err(|e| e.to_string())?;
    seam::startup::gateway_from_config(&config, &reqwest::Client::new())
        .await
        .map_err(|e| e.to_string())
}

async fn serve(top_level: &str) -> Served {
    let served = common::serve_demo("", top_level).await;
    Served {
        url: served.url,
        client: reqwest::Client::new(),
    }
}

impl Served {
    async fn post(&self, body: Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(&self.url)
            .json(&body)
            .timeout(PATIENCE)
            .send()
            .await
            .expect("gateway answers");
        let status = response.status();
        (status, response.json().await.expect("a JSON body"))
    }

    /// A GET as browsers' GraphQL clients send it: with a header that passes CSRF prevention.
    async fn get(&self, params: &[(&str, String)]) -> (StatusCode, Value) {
        let response = self
            .client
            .get(&self.url)
            .header("apollo-require-preflight", "true")
            .query(params)
            .timeout(PATIENCE)
            .send()
            .await
            .expect("gateway answers");
        let status = response.status();
        (status, response.json().await.expect("a JSON body"))
    }
}

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn apq(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<no code>")
}

/// The demo's answer to `QUERY`, asked as a plain query; the persisted forms must match it.
async fn expected(served: &Served) -> Value {
    let (status, body) = served.post(json!({ "query": QUERY })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"]["topProducts"].as_array().map(Vec::len),
        Some(2),
        "{body}"
    );
    body
}

fn unique(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("seam-test:{what}:{}:{nanos}:", std::process::id())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn write_temp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique("manifest").replace(':', "-"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write manifest");
    path
}

// ---------------------------------------------------------------------------------------------
// Automatic persisted queries
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn apq_registers_a_checked_hash_and_then_serves_the_hash_alone() {
    let served = serve("").await;
    let expected = expected(&served).await;
    let hash = sha256(QUERY);

    // The hash alone, unknown: Apollo's answer, which makes clients send the query.
    let (status, body) = served.post(json!({ "extensions": apq(&hash) })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
    assert!(body.get("data").is_none(), "{body}");

    // A query whose hash is not the one sent is refused, and not registered.
    let (status, body) = served
        .post(json!({ "query": "{ topProducts(first: 1) { upc } }", "extensions": apq(&hash) }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(code(&body), "PERSISTED_QUERY_HASH_MISMATCH", "{body}");
    let (_, body) = served.post(json!({ "extensions": apq(&hash) })).await;
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");

    // Hash and query: run and registered (the hash may come in upper case).
    let (status, body) = served
        .post(json!({ "query": QUERY, "extensions": apq(&hash.to_uppercase()) }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, expected);

    // From now on the hash alone runs it, over POST and GET.
    let (status, body) = served.post(json!({ "extensions": apq(&hash) })).await;
    assert_eq!((status, &body), (StatusCode::OK, &expected));
    let (status, body) = served.get(&[("extensions", apq(&hash).to_string())]).await;
    assert_eq!((status, &body), (StatusCode::OK, &expected));
}

#[tokio::test]
async fn apq_works_over_get_from_the_first_request() {
    let served = serve("").await;
    let expected = expected(&served).await;
    let query = "{ topProducts(first: 2) { upc name } }";
    let hash = sha256(query);
    let (status, body) = served.get(&[("extensions", apq(&hash).to_string())]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
    let (status, body) = served
        .get(&[
            ("query", query.to_owned()),
            ("extensions", apq(&hash).to_string()),
        ])
        .await;
    assert_eq!((status, &body), (StatusCode::OK, &expected));
    let (status, body) = served.get(&[("extensions", apq(&hash).to_string())]).await;
    assert_eq!((status, &body), (StatusCode::OK, &expected));
}

#[tokio::test]
async fn a_query_that_does_not_validate_is_not_registered() {
    let served = serve("").await;
    let broken = "{ topProducts { noSuchField } }";
    let hash = sha256(broken);
    let (_, body) = served
        .post(json!({ "query": broken, "extensions": apq(&hash) }))
        .await;
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    let (_, body) = served.post(json!({ "extensions": apq(&hash) })).await;
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
}

#[tokio::test]
async fn apq_refuses_other_versions_and_can_be_switched_off() {
    let served = serve("").await;
    let (status, body) = served
        .post(json!({ "query": QUERY, "extensions": { "persistedQuery": { "version": 2, "sha256Hash": sha256(QUERY) } } }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        code(&body),
        "PERSISTED_QUERY_VERSION_NOT_SUPPORTED",
        "{body}"
    );

    let off = serve("persisted_queries:\n  apq:\n    enabled: false\n").await;
    let expected = expected(&off).await;
    let (status, body) = off.post(json!({ "extensions": apq(&sha256(QUERY)) })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_SUPPORTED", "{body}");
    // A client that sends the query too is served without the store.
    let (status, body) = off
        .post(json!({ "query": QUERY, "extensions": apq(&sha256(QUERY)) }))
        .await;
    assert_eq!((status, &body), (StatusCode::OK, &expected));
}

/// Only `persistedQuery`'s `version` and `sha256Hash` are read; other members, there or beside
/// it, change nothing, and a `persistedQuery` of another shape is refused as APQ clients expect.
#[tokio::test]
async fn apq_reads_its_members_whatever_else_extensions_holds() {
    let served = serve("").await;
    let expected = expected(&served).await;
    let hash = sha256(QUERY);
    let with_junk = json!({
        "junk": [{ "a": [1, { "b": null }] }, "x"],
        "persistedQuery": { "junk": { "c": [] }, "version": 1, "sha256Hash": hash, "d": [2] },
    });
    let (status, body) = served
        .post(json!({ "query": QUERY, "extensions": with_junk }))
        .await;
    assert_eq!((status, &body), (StatusCode::OK, &expected));
    let (status, body) = served.post(json!({ "extensions": with_junk })).await;
    assert_eq!((status, &body), (StatusCode::OK, &expected));

    for (persisted, wanted) in [
        (json!("x"), "PERSISTED_QUERY_VERSION_NOT_SUPPORTED"),
        (json!([1, hash]), "PERSISTED_QUERY_VERSION_NOT_SUPPORTED"),
        (
            json!({ "version": "1", "sha256Hash": hash }),
            "PERSISTED_QUERY_VERSION_NOT_SUPPORTED",
        ),
        (
            json!({ "version": [1], "sha256Hash": hash }),
            "PERSISTED_QUERY_VERSION_NOT_SUPPORTED",
        ),
        (json!({ "version": 1, "sha256Hash": 5 }), "BAD_REQUEST"),
        (json!({ "version": 1, "sha256Hash": [hash] }), "BAD_REQUEST"),
        (json!({ "version": 1 }), "BAD_REQUEST"),
    ] {
        let (status, body) = served
            .post(json!({ "extensions": { "persistedQuery": persisted } }))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{persisted}: {body}");
        assert_eq!(code(&body), wanted, "{persisted}: {body}");
    }
}

#[tokio::test]
async fn gateways_sharing_a_redis_share_their_apq_entries() {
    let prefix = unique("apq");
    let section = format!(
        "persisted_queries:\n  apq:\n    store: redis\n    redis_url: {REDIS_URL}\n    \
         prefix: \"{prefix}\"\n    ttl: 10m\n"
    );
    let first = serve(&section).await;
    let second = serve(&section).await;
    let expected = expected(&first).await;
    let hash = sha256(QUERY);

    let (_, body) = second.post(json!({ "extensions": apq(&hash) })).await;
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
    let (status, body) = first
        .post(json!({ "query": QUERY, "extensions": apq(&hash) }))
        .await;
    assert_eq!((status, &body), (StatusCode::OK, &expected));
    // The other replica knows the hash it never saw a query for.
    let (status, body) = second.post(json!({ "extensions": apq(&hash) })).await;
    assert_eq!((status, &body), (StatusCode::OK, &expected));

    // Stored under the prefix, with the configured time to live.
    let client = redis::Client::open(REDIS_URL).expect("redis url");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let key = format!("{prefix}{hash}");
    let stored: Option<String> = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut connection)
        .await
        .expect("GET");
    assert_eq!(stored.as_deref(), Some(QUERY));
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut connection)
        .await
        .expect("PTTL");
    assert!(ttl > 0 && ttl <= 600_000, "{ttl}");
    let _: i64 = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut connection)
        .await
        .expect("DEL");
}

#[tokio::test]
async fn a_redis_that_is_away_still_serves_requests_that_carry_their_query() {
    let served = serve(&format!(
        "persisted_queries:\n  apq:\n    store: redis\n    redis_url: redis://127.0.0.1:{}\n",
        free_port()
    ))
    .await;
    let expected = expected(&served).await;
    let hash = sha256(QUERY);
    for _ in 0..2 {
        let (status, body) = served
            .post(json!({ "query": QUERY, "extensions": apq(&hash) }))
            .await;
        assert_eq!((status, &body), (StatusCode::OK, &expected));
        let (status, body) = served.post(json!({ "extensions": apq(&hash) })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
    }
}

// ---------------------------------------------------------------------------------------------
// Persisted documents (trusted documents)
// ---------------------------------------------------------------------------------------------

fn apollo_manifest() -> PathBuf {
    let manifest = json!({
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [
            { "id": "top-two", "body": QUERY, "name": null, "type": "query" },
            { "id": sha256(QUERY), "body": QUERY, "name": null, "type": "query" },
        ]
    });
    write_temp("manifest.json", &manifest.to_string())
}

#[tokio::test]
async fn documents_of_an_apollo_manifest_run_by_id() {
    let manifest = apollo_manifest();
    let served = serve(&format!(
        "persisted_queries:\n  manifest: {}\n",
        manifest.display()
    ))
    .await;
    let expected = expected(&served).await;
    for body in [
        json!({ "documentId": "top-two" }),
        json!({ "doc_id": "top-two" }),
        json!({ "documentId": "top-two", "query": QUERY }),
        // Apollo clients send the manifest id as the APQ hash.
        json!({ "extensions": apq(&sha256(QUERY)) }),
    ] {
        let (status, answer) = served.post(body.clone()).await;
        assert_eq!((status, &answer), (StatusCode::OK, &expected), "{body}");
    }
    let (status, answer) = served.get(&[("documentId", "top-two".to_owned())]).await;
    assert_eq!((status, &answer), (StatusCode::OK, &expected));

    let (status, answer) = served.post(json!({ "documentId": "nope" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(code(&answer), "PERSISTED_QUERY_NOT_IN_LIST", "{answer}");
    let (status, answer) = served
        .post(json!({ "documentId": "top-two", "query": "{ me { id } }" }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    // Other queries still run: the manifest alone does not restrict.
    let (status, answer) = served
        .post(json!({ "query": "{ topProducts(first: 1) { upc } }" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer["data"]["topProducts"].is_array(), "{answer}");
}

#[tokio::test]
async fn only_persisted_refuses_everything_but_manifest_documents() {
    let manifest = write_temp(
        "relay.json",
        &json!({ "q1": QUERY, "q2": "{ topProducts(first: 1) { upc } }" }).to_string(),
    );
    let served = serve(&format!(
        "persisted_queries:\n  manifest: {}\n  only_persisted: true\n",
        manifest.display()
    ))
    .await;
    let (status, body) = served.post(json!({ "doc_id": "q1" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"]["topProducts"].as_array().map(Vec::len),
        Some(2),
        "{body}"
    );
    let (status, body) = served.get(&[("doc_id", "q2".to_owned())]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"]["topProducts"].as_array().map(Vec::len),
        Some(1),
        "{body}"
    );

    // A query, even one the manifest holds, and an APQ registration are both refused.
    for request in [
        json!({ "query": QUERY }),
        json!({ "query": "{ me { id } }", "extensions": apq(&sha256("{ me { id } }")) }),
    ] {
        let (status, body) = served.post(request.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{request}: {body}");
        assert_eq!(code(&body), "PERSISTED_QUERY_ONLY", "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("documentId")),
            "{body}"
        );
    }
    let (status, body) = served.post(json!({ "documentId": "q3" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(code(&body), "PERSISTED_QUERY_NOT_IN_LIST", "{body}");
}

#[tokio::test]
async fn a_broken_manifest_stops_startup_naming_the_file() {
    let subgraphs = subgraph_lines().await;
    let broken = write_temp("broken.json", "{\"q1\": 42}");
    let error = gateway(
        &subgraphs,
        &format!("persisted_queries:\n  manifest: {}\n", broken.display()),
    )
    .await
    .err()
    .expect("a broken manifest is refused");
    assert!(error.contains(&broken.display().to_string()), "{error}");
    assert!(error.contains("`q1` is not a string"), "{error}");

    let missing = broken.with_file_name("missing.json");
    let error = gateway(
        &subgraphs,
        &format!("persisted_queries:\n  manifest: {}\n", missing.display()),
    )
    .await
    .err()
    .expect("a missing manifest is refused");
    assert!(error.contains("persisted_queries.manifest"), "{error}");
    assert!(error.contains(&missing.display().to_string()), "{error}");
}
