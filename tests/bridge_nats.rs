//! The NATS bridge against real NATS servers: the machine's shared one (127.0.0.1:4222) and
//! private `nats-server`s (with their monitoring endpoint, to count subscriptions) that the
//! tests start, kill and restart.

mod bridge_support;

use std::time::{Duration, Instant};

use bridge_support::{
    assert_quiet, eventually, free_port, next_event, unique, wait_for_port, Server, NATS_URL,
};
use bytes::Bytes;
use seam::bridge::nats::NatsBridge;
use seam::bridge::{Bridge, BridgeError};
use seam::config::{BridgeBackend, BridgeConfig};

/// How many subscriptions on `subject` the server at `monitor_port` holds, over all clients.
async fn subscriptions(monitor_port: u16, subject: &str) -> usize {
    let connz: serde_json::Value =
        reqwest::get(format!("http://127.0.0.1:{monitor_port}/connz?subs=1"))
            .await
            .expect("connz")
            .json()
            .await
            .expect("connz json");
    connz["connections"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| {
            c["subscriptions_list"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|s| s.as_str() == Some(subject))
        .count()
}

async fn private_server() -> (Server, u16, u16) {
    let port = free_port();
    let monitor = free_port();
    let server = Server::nats(port, monitor);
    wait_for_port(port).await;
    wait_for_port(monitor).await;
    (server, port, monitor)
}

#[tokio::test]
async fn events_published_by_one_gateway_reach_another() {
    let subscriber = NatsBridge::new(NATS_URL, "");
    let publisher = NatsBridge::new(NATS_URL, "");
    let topic = unique("roundtrip");
    let mut stream = subscriber.subscribe(&topic).await.expect("subscribe");
    publisher
        .publish(&topic, Bytes::from_static(b"{\"n\":1}"))
        .await
        .expect("publish");
    assert_eq!(next_event(&mut stream, "the event").await, "{\"n\":1}");
    publisher
        .publish(&unique("other"), Bytes::from_static(b"nope"))
        .await
        .expect("publish elsewhere");
    assert_quiet(&mut stream, "an event of another topic").await;
}

#[tokio::test]
async fn streams_of_one_topic_share_one_nats_subscription() {
    let (_server, port, monitor) = private_server().await;
    let bridge = NatsBridge::new(format!("nats://127.0.0.1:{port}"), "");
    let topic = unique("refcount");

    let mut first = bridge.subscribe(&topic).await.expect("subscribe");
    let mut second = bridge.subscribe(&topic).await.expect("subscribe");
    eventually(Duration::from_secs(3), "one subscription", || async {
        subscriptions(monitor, &topic).await == 1
    })
    .await;

    bridge
        .publish(&topic, Bytes::from_static(b"both"))
        .await
        .expect("publish");
    assert_eq!(next_event(&mut first, "first's event").await, "both");
    assert_eq!(next_event(&mut second, "second's event").await, "both");

    drop(first);
    bridge
        .publish(&topic, Bytes::from_static(b"second only"))
        .await
        .expect("publish");
    assert_eq!(
        next_event(&mut second, "second's event").await,
        "second only"
    );
    assert_eq!(subscriptions(monitor, &topic).await, 1);

    drop(second);
    eventually(
        Duration::from_secs(3),
        "the subject is unsubscribed",
        || async { subscriptions(monitor, &topic).await == 0 },
    )
    .await;

    let mut again = bridge.subscribe(&topic).await.expect("subscribe again");
    bridge
        .publish(&topic, Bytes::from_static(b"again"))
        .await
        .expect("publish");
    assert_eq!(
        next_event(&mut again, "the event after resubscribing").await,
        "again"
    );
    assert_eq!(subscriptions(monitor, &topic).await, 1);
}

#[tokio::test]
async fn the_prefix_from_the_config_names_the_subject() {
    let prefix = format!("{}.", unique("prefix"));
    let config = BridgeConfig {
        backend: BridgeBackend::Nats,
        url: Some(NATS_URL.to_owned()),
        prefix: Some(prefix.clone()),
        publish_token: None,
    };
    let bridge = seam::bridge::from_config(&config).expect("bridge from config");
    let mut stream = bridge.subscribe("reviews.1").await.expect("subscribe");

    // A service publishing with a plain NATS client on the prefixed subject reaches the stream.
    let plain = async_nats::connect(NATS_URL).await.expect("connect");
    plain
        .publish(format!("{prefix}reviews.1"), Bytes::from_static(b"plain"))
        .await
        .expect("publish");
    plain.flush().await.expect("flush");
    assert_eq!(
        next_event(&mut stream, "the plain NATS event").await,
        "plain"
    );

    // A gateway without the prefix publishes elsewhere.
    NatsBridge::new(NATS_URL, "")
        .publish("reviews.1", Bytes::from_static(b"unprefixed"))
        .await
        .expect("publish");
    bridge
        .publish("reviews.1", Bytes::from_static(b"prefixed"))
        .await
        .expect("publish");
    assert_eq!(
        next_event(&mut stream, "the prefixed event").await,
        "prefixed"
    );
}

#[tokio::test]
async fn topics_nats_cannot_carry_are_refused() {
    let bridge = NatsBridge::new(NATS_URL, "");
    for topic in [
        "",
        "has space",
        "tab\there",
        "a.*",
        "a.>",
        "a..b",
        ".a",
        "a.",
    ] {
        assert!(
            matches!(
                bridge.subscribe(topic).await,
                Err(BridgeError::InvalidTopic { .. })
            ),
            "subscribe {topic:?}"
        );
        assert!(
            matches!(
                bridge.publish(topic, Bytes::new()).await,
                Err(BridgeError::InvalidTopic { .. })
            ),
            "publish {topic:?}"
        );
    }
}

#[tokio::test]
async fn a_thousand_events_arrive_in_order() {
    let subscriber = NatsBridge::new(NATS_URL, "");
    let publisher = NatsBridge::new(NATS_URL, "");
    let topic = unique("order");
    let mut stream = subscriber.subscribe(&topic).await.expect("subscribe");
    for n in 0..1000 {
        publisher
            .publish(&topic, Bytes::from(n.to_string()))
            .await
            .expect("publish");
    }
    for n in 0..1000 {
        assert_eq!(
            next_event(&mut stream, "the next event").await,
            n.to_string()
        );
    }
    assert_quiet(&mut stream, "no event beyond the thousand").await;
}

#[tokio::test]
async fn a_nats_that_is_down_fails_fast() {
    let bridge = NatsBridge::new(format!("nats://127.0.0.1:{}", free_port()), "");
    let start = Instant::now();
    assert!(matches!(
        bridge.publish("t", Bytes::from_static(b"x")).await,
        Err(BridgeError::Unavailable { .. })
    ));
    assert!(matches!(
        bridge.subscribe("t").await,
        Err(BridgeError::Unavailable { .. })
    ));
    assert!(
        start.elapsed() < Duration::from_secs(6),
        "took {:?}",
        start.elapsed()
    );
}

/// NATS killed and restarted on the same port: the stream stays open, the client resubscribes,
/// events published after the restart arrive once each and in order, the gap is counted, and
/// publishing while NATS is down errors quickly.
#[tokio::test]
async fn the_bridge_survives_a_nats_restart() {
    let (mut server, port, monitor) = private_server().await;
    let url = format!("nats://127.0.0.1:{port}");
    let subscriber = NatsBridge::new(url.clone(), "");
    let publisher = NatsBridge::new(url, "");
    let topic = unique("fault");
    let mut stream = subscriber.subscribe(&topic).await.expect("subscribe");
    for n in 1..=2 {
        publisher
            .publish(&topic, Bytes::from(format!("e{n}")))
            .await
            .expect("publish before the restart");
    }
    assert_eq!(next_event(&mut stream, "e1").await, "e1");
    assert_eq!(next_event(&mut stream, "e2").await, "e2");

    server.kill();
    eventually(Duration::from_secs(5), "the gap is counted", || async {
        subscriber.stats().gaps == 1
    })
    .await;
    let start = Instant::now();
    let refused = publisher.publish(&topic, Bytes::from_static(b"lost")).await;
    assert!(
        matches!(refused, Err(BridgeError::Unavailable { .. })),
        "{refused:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "publishing while NATS is down took {:?}",
        start.elapsed()
    );

    server.restart();
    wait_for_port(port).await;
    eventually(
        Duration::from_secs(20),
        "both clients reconnect",
        || async { subscriber.stats().reconnects >= 1 && publisher.stats().reconnects >= 1 },
    )
    .await;
    eventually(
        Duration::from_secs(5),
        "resubscribed on its own",
        || async { subscriptions(monitor, &topic).await == 1 },
    )
    .await;
    for n in 3..=12 {
        publisher
            .publish(&topic, Bytes::from(format!("e{n}")))
            .await
            .expect("publish after the restart");
    }
    for n in 3..=12 {
        let event = next_event(&mut stream, "events after the restart").await;
        assert_eq!(
            event,
            format!("e{n}"),
            "in order, once each, nothing refused"
        );
    }
    assert_quiet(&mut stream, "no duplicate after the restart").await;
    assert_eq!(subscriber.stats().gaps, 1);
    assert_eq!(subscriber.stats().reconnects, 1);
}
