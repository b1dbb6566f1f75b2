//! The demo's subscription across gateways, for every bridge backend: two gateways in front of
//! the same demo subgraphs, each with its own bridge built from its config, the reviews subgraph
//! publishing on a bridge of the same backend. A review added through one gateway reaches the
//! WebSocket subscribers of both, completed from the subgraphs.
//!
//! Redis (127.0.0.1:6379) and NATS (127.0.0.1:4222) are shared with other tests and runs, and the
//! demo's topic is fixed (`reviews.added`), so each test gets its own `bridge.prefix`: its events
//! are on channels no one else uses, and the tests can expect exactly their own reviews.

mod bridge_support;
mod subscriptions_support;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use bridge_support::{free_port, wait_for_port, Server, NATS_URL, REDIS_URL};
use seam::bridge::SharedBridge;
use seam::config::{BridgeBackend, BridgeConfig};
use subscriptions_support::{
    config, demo_subgraphs, expected_review, sync, sync_within, unique, Gateway, Protocol,
};

const QUIET: Duration = Duration::from_millis(500);

/// The `bridge:` section of a config, and the same as a value (for the reviews subgraph's
/// bridge, which is not built from a gateway config).
fn bridge_section(backend: BridgeBackend, url: Option<&str>, prefix: Option<&str>) -> String {
    let mut yaml = format!("bridge:\n  backend: {}\n", backend.as_str());
    if let Some(url) = url {
        yaml.push_str(&format!("  url: \"{url}\"\n"));
    }
    if let Some(prefix) = prefix {
        yaml.push_str(&format!("  prefix: \"{prefix}\"\n"));
    }
    yaml
}

/// The demo subgraphs publishing on a bridge built from `bridge`, and two gateway configs in
/// front of them with that same `bridge:` section.
async fn shared_demo(
    bridge: &BridgeConfig,
    section: &str,
    subgraph_bridge: SharedBridge,
) -> seam::config::Config {
    let subgraphs = demo_subgraphs(subgraph_bridge).await;
    let config = config(&format!("{subgraphs}{section}"));
    assert_eq!(&config.bridge, bridge, "the YAML says what the test means");
    config
}

/// Reviews added through either gateway reach the subscribers of both, once each, in order.
async fn both_gateways_see_every_review(a: &Gateway, b: &Gateway) {
    let upc = 11;
    let mut on_a = a.subscribe(Protocol::TransportWs, Some(upc)).await;
    let mut on_b = b.subscribe(Protocol::TransportWs, Some(upc)).await;
    // Probes through A reach B's subscriber: the bridge carries them between the gateways.
    let others = sync(a, upc, &mut [&mut on_a, &mut on_b]).await;
    assert_eq!(others, Vec::<Value>::new());

    a.add_review(upc, 6, "added through A").await;
    b.add_review(upc, 9, "added through B").await;
    for subscriber in [&mut on_b, &mut on_a] {
        assert_eq!(
            subscriber.next_response().await,
            expected_review(upc, 6, "added through A")
        );
        assert_eq!(
            subscriber.next_response().await,
            expected_review(upc, 9, "added through B")
        );
    }
    on_a.assert_quiet(QUIET).await;
    on_b.assert_quiet(Duration::ZERO).await;
}

/// Two gateways on networked bridges: each builds its own bridge from its config.
async fn networked(backend: BridgeBackend, url: &str, prefix: String) {
    let bridge = BridgeConfig {
        backend,
        url: Some(url.to_owned()),
        prefix: Some(prefix),
        publish_token: None,
    };
    let section = bridge_section(backend, bridge.url.as_deref(), bridge.prefix.as_deref());
    let for_reviews = seam::bridge::from_config(&bridge).expect("the reviews subgraph's bridge");
    let config = shared_demo(&bridge, &section, for_reviews).await;
    let a = Gateway::start(&config, None).await;
    let b = Gateway::start(&config, None).await;
    both_gateways_see_every_review(&a, &b).await;
}

#[tokio::test]
async fn redis_carries_reviews_between_two_gateways() {
    let prefix = format!("seamtest:{}:", unique("e2e"));
    networked(BridgeBackend::Redis, REDIS_URL, prefix).await;
}

#[tokio::test]
async fn nats_carries_reviews_between_two_gateways() {
    let prefix = format!("seamtest.{}.", unique("e2e"));
    networked(BridgeBackend::Nats, NATS_URL, prefix).await;
}

/// The in-process bridge reaches only what shares its instance: both gateways and the reviews
/// subgraph are handed the one bridge (the config says `memory`).
#[tokio::test]
async fn memory_carries_reviews_between_two_gateways_sharing_the_instance() {
    let bridge = BridgeConfig::default();
    let section = bridge_section(BridgeBackend::Memory, None, None);
    let shared: SharedBridge = Arc::new(seam::bridge::memory::MemoryBridge::new());
    let config = shared_demo(&bridge, &section, shared.clone()).await;
    let a = Gateway::start(&config, Some(shared.clone())).await;
    let b = Gateway::start(&config, Some(shared)).await;
    both_gateways_see_every_review(&a, &b).await;
}

/// Redis killed (SIGKILL) and restarted on the same port under a live subscription: the
/// client's connection stays open (no close, no complete), reviews added after the restart
/// arrive in order and once each, and the one added while Redis was down is lost (Pub/Sub keeps
/// no history), never delivered late.
#[tokio::test]
async fn a_subscription_survives_a_redis_restart() {
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let mut server = Server::redis(port);
    wait_for_port(port).await;

    let bridge = BridgeConfig {
        backend: BridgeBackend::Redis,
        url: Some(url.clone()),
        prefix: None,
        publish_token: None,
    };
    let section = bridge_section(BridgeBackend::Redis, Some(&url), None);
    let for_reviews = seam::bridge::from_config(&bridge).expect("bridge");
    let config = shared_demo(&bridge, &section, for_reviews).await;
    let gateway = Gateway::start(&config, None).await;

    let mut subscriber = gateway.subscribe(Protocol::TransportWs, None).await;
    subscriber.sync(&gateway, 1).await;
    gateway.add_review(1, 2, "before the restart").await;
    assert_eq!(
        subscriber.next_response().await,
        expected_review(1, 2, "before the restart")
    );

    server.kill();
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err(),
        "Redis is down"
    );
    // The review is stored; its announcement fails (logged by the subgraph) and is lost.
    gateway.add_review(1, 3, "while Redis is down").await;
    subscriber.assert_quiet(QUIET).await;

    server.restart();
    wait_for_port(port).await;
    // Both the gateway's subscriber connection and the subgraph's publisher reconnect on their
    // own; probes show when both are back. Anything but probes and responses is a failure here:
    // a close or a completion would end the sync with a panic.
    let others = sync_within(&gateway, 1, &mut [&mut subscriber], Duration::from_secs(40)).await;
    assert_eq!(others, Vec::<Value>::new(), "nothing from the outage");

    let after: Vec<(u32, u32, String)> = (1..=10)
        .map(|n| (n % 3 + 1, n + 1, format!("after the restart {n}")))
        .collect();
    for (upc, author, body) in &after {
        gateway.add_review(*upc, *author, body).await;
    }
    for (upc, author, body) in &after {
        assert_eq!(
            subscriber.next_response().await,
            expected_review(*upc, *author, body)
        );
    }
    subscriber.assert_quiet(QUIET).await;
}
