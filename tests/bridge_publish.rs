//! `POST /bridge/publish` over real HTTP to a gateway built from a config, with the memory
//! backend and with the real Redis.

mod bridge_support;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bridge_support::{free_port, next_event, unique, REDIS_URL};
use seam::bridge::redis::RedisBridge;
use seam::bridge::Bridge;
use seam::config::Config;
use seam::Gateway;
use serde_json::{json, Value};

/// A gateway serving the demo supergraph with `bridge_yaml` as its `bridge:` section.
async fn gateway(bridge_yaml: &str) -> (Arc<Gateway>, String) {
    let yaml = format!("supergraph: schemas/supergraph.graphql\n{bridge_yaml}");
    let config =
        Config::from_yaml_str(&yaml, Path::new(env!("CARGO_MANIFEST_DIR"))).expect("test config");
    let gateway = Gateway::builder()
        .config(config)
        .build_gateway()
        .await
        .expect("gateway");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let router = seam::http::router(gateway.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (gateway, format!("http://{addr}/bridge/publish"))
}

const TOKEN_CONFIG: &str = "bridge:\n  publish_token: ${SEAM_TEST_PUBLISH_TOKEN:-letmein}\n";

async fn post(url: &str, token: Option<&str>, body: &str) -> (u16, Option<Value>) {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).ok())
}

#[tokio::test]
async fn without_a_token_in_the_config_the_endpoint_does_not_exist() {
    let (_, url) = gateway("").await;
    let (status, _) = post(&url, Some("anything"), r#"{"topic":"t","payload":1}"#).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_refused() {
    let (gateway, url) = gateway(TOKEN_CONFIG).await;
    let topic = unique("auth");
    let mut stream = gateway.bridge().subscribe(&topic).await.expect("subscribe");
    let body = json!({"topic": topic, "payload": {"n": 1}}).to_string();

    let (status, error) = post(&url, None, &body).await;
    assert_eq!(status, 401);
    let error = error.expect("a JSON error");
    assert_eq!(error["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert_eq!(post(&url, Some("letmeout"), &body).await.0, 401);
    assert_eq!(
        post(&url, Some("letmein "), &body).await.0,
        202,
        "surrounding spaces are not part of the token"
    );

    let response = reqwest::Client::new()
        .post(&url)
        .header("authorization", "Basic bGV0bWVpbg==")
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .map(|v| v.as_bytes()),
        Some(&b"Bearer"[..])
    );

    // Only the accepted request published.
    assert_eq!(
        next_event(&mut stream, "the authorised event").await,
        r#"{"n":1}"#
    );
    bridge_support::assert_quiet(&mut stream, "refused requests publish nothing").await;
}

#[tokio::test]
async fn bad_bodies_get_a_clear_error() {
    let (_, url) = gateway(TOKEN_CONFIG).await;
    let cases = [
        ("not json", "the body must be a JSON object"),
        (r#"["t", 1]"#, "not a JSON object"),
        (r#"{"topic":"t"}"#, "missing field `payload`"),
        (r#"{"payload":1}"#, "missing field `topic`"),
        (r#"{"topic":7,"payload":1}"#, "invalid type"),
        (
            r#"{"topic":"t","payload":1,"extra":true}"#,
            "unknown field `extra`",
        ),
        (r#"{"topic":"","payload":1}"#, "a topic must not be empty"),
    ];
    for (body, mention) in cases {
        let (status, error) = post(&url, Some("letmein"), body).await;
        assert_eq!(status, 400, "{body}");
        let error = error.expect("a JSON error");
        let message = error["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(mention), "{body}: {message}");
        assert_eq!(error["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    }
}

#[tokio::test]
async fn an_accepted_event_is_published_as_sent() {
    let (gateway, url) = gateway(TOKEN_CONFIG).await;
    let topic = unique("accepted");
    let mut stream = gateway.bridge().subscribe(&topic).await.expect("subscribe");
    // The payload's JSON text goes out as it came in, spacing and key order included.
    let body = format!(
        r#"{{"topic": "{topic}", "payload": {{"upc": "1", "body":  "Great", "a": null}}}}"#
    );
    let (status, answer) = post(&url, Some("letmein"), &body).await;
    assert_eq!(status, 202);
    assert_eq!(answer, Some(json!({"published": true})));
    assert_eq!(
        next_event(&mut stream, "the published event").await,
        r#"{"upc": "1", "body":  "Great", "a": null}"#
    );

    let body = json!({"topic": topic, "payload": null}).to_string();
    assert_eq!(post(&url, Some("letmein"), &body).await.0, 202);
    assert_eq!(next_event(&mut stream, "a null payload").await, "null");
}

#[tokio::test]
async fn over_redis_the_event_reaches_another_gateway() {
    let prefix = format!("{}:", unique("publish"));
    let (_, url) = gateway(&format!(
        "bridge:\n  backend: redis\n  url: {REDIS_URL}\n  prefix: \"{prefix}\"\n  publish_token: letmein\n"
    ))
    .await;
    let other_gateway = RedisBridge::new(REDIS_URL, prefix).expect("bridge");
    let mut stream = other_gateway.subscribe("reviews").await.expect("subscribe");
    let (status, _) = post(
        &url,
        Some("letmein"),
        r#"{"topic":"reviews","payload":[1,2]}"#,
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(
        next_event(&mut stream, "the event over Redis").await,
        "[1,2]"
    );
}

#[tokio::test]
async fn a_bridge_that_is_down_answers_503_quickly() {
    let port = free_port();
    let (_, url) = gateway(&format!(
        "bridge:\n  backend: redis\n  url: redis://127.0.0.1:{port}\n  publish_token: letmein\n"
    ))
    .await;
    let start = Instant::now();
    let (status, error) = post(&url, Some("letmein"), r#"{"topic":"t","payload":1}"#).await;
    assert_eq!(status, 503);
    assert_eq!(
        error.expect("a JSON error")["errors"][0]["extensions"]["code"],
        "BRIDGE_UNAVAILABLE"
    );
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "took {:?}",
        start.elapsed()
    );
}
