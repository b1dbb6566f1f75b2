//! The Redis bridge against real Redis servers: the machine's shared one (127.0.0.1:6379) and,
//! for the fault test, a private `redis-server` this test starts, kills and restarts.

mod bridge_support;

use std::time::{Duration, Instant};

use bridge_support::{
    assert_quiet, eventually, free_port, next_event, unique, wait_for_port, Server, REDIS_URL,
};
use bytes::Bytes;
use seam::bridge::redis::RedisBridge;
use seam::bridge::{Bridge, BridgeError};
use seam::config::{BridgeBackend, BridgeConfig};

/// How many Redis subscribers `channel` has, asked on a connection of its own.
async fn numsub(url: &str, channel: &str) -> usize {
    let client = redis::Client::open(url).expect("redis url");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect to redis");
    let (name, count): (String, usize) = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(channel)
        .query_async(&mut connection)
        .await
        .expect("PUBSUB NUMSUB");
    assert_eq!(name, channel);
    count
}

#[tokio::test]
async fn events_published_by_one_gateway_reach_another() {
    let subscriber = RedisBridge::new(REDIS_URL, "").expect("bridge");
    let publisher = RedisBridge::new(REDIS_URL, "").expect("bridge");
    let topic = unique("roundtrip");
    let mut stream = subscriber.subscribe(&topic).await.expect("subscribe");

    publisher
        .publish(&topic, Bytes::from_static(b"{\"n\":1}"))
        .await
        .expect("publish");
    assert_eq!(next_event(&mut stream, "the event").await, "{\"n\":1}");

    // Other topics do not leak in.
    publisher
        .publish(&unique("other"), Bytes::from_static(b"nope"))
        .await
        .expect("publish elsewhere");
    assert_quiet(&mut stream, "an event of another topic").await;
}

#[tokio::test]
async fn streams_of_one_topic_share_one_redis_subscription() {
    let bridge = RedisBridge::new(REDIS_URL, "").expect("bridge");
    let topic = unique("refcount");
    assert_eq!(numsub(REDIS_URL, &topic).await, 0);

    let mut first = bridge.subscribe(&topic).await.expect("subscribe");
    let mut second = bridge.subscribe(&topic).await.expect("subscribe");
    assert_eq!(numsub(REDIS_URL, &topic).await, 1);

    bridge
        .publish(&topic, Bytes::from_static(b"both"))
        .await
        .expect("publish");
    assert_eq!(next_event(&mut first, "first's event").await, "both");
    assert_eq!(next_event(&mut second, "second's event").await, "both");

    drop(first);
    // The remaining stream keeps the subscription and its events.
    bridge
        .publish(&topic, Bytes::from_static(b"second only"))
        .await
        .expect("publish");
    assert_eq!(
        next_event(&mut second, "second's event").await,
        "second only"
    );
    assert_eq!(numsub(REDIS_URL, &topic).await, 1);

    drop(second);
    eventually(
        Duration::from_secs(3),
        "the channel is unsubscribed",
        || {
            let topic = topic.clone();
            async move { numsub(REDIS_URL, &topic).await == 0 }
        },
    )
    .await;

    // Subscribing again after the release works and subscribes anew.
    let mut again = bridge.subscribe(&topic).await.expect("subscribe again");
    assert_eq!(numsub(REDIS_URL, &topic).await, 1);
    bridge
        .publish(&topic, Bytes::from_static(b"again"))
        .await
        .expect("publish");
    assert_eq!(
        next_event(&mut again, "the event after resubscribing").await,
        "again"
    );
}

#[tokio::test]
async fn the_prefix_from_the_config_names_the_channel() {
    let prefix = format!("{}:", unique("prefix"));
    let config = BridgeConfig {
        backend: BridgeBackend::Redis,
        url: Some(REDIS_URL.to_owned()),
        prefix: Some(prefix.clone()),
        publish_token: None,
    };
    let bridge = seam::bridge::from_config(&config).expect("bridge from config");
    let mut stream = bridge.subscribe("reviews.1").await.expect("subscribe");
    let channel = format!("{prefix}reviews.1");
    assert_eq!(numsub(REDIS_URL, &channel).await, 1);

    // A service publishing with plain Redis on the prefixed channel reaches the stream.
    let client = redis::Client::open(REDIS_URL).expect("redis url");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let receivers: usize = redis::cmd("PUBLISH")
        .arg(&channel)
        .arg("{\"from\":\"redis-cli\"}")
        .query_async(&mut connection)
        .await
        .expect("PUBLISH");
    assert_eq!(receivers, 1);
    assert_eq!(
        next_event(&mut stream, "the plain Redis event").await,
        "{\"from\":\"redis-cli\"}"
    );

    // A gateway without the prefix publishes elsewhere.
    let unprefixed = RedisBridge::new(REDIS_URL, "").expect("bridge");
    unprefixed
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
async fn a_thousand_events_arrive_in_order() {
    let subscriber = RedisBridge::new(REDIS_URL, "").expect("bridge");
    let publisher = RedisBridge::new(REDIS_URL, "").expect("bridge");
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
async fn an_empty_topic_is_refused() {
    let bridge = RedisBridge::new(REDIS_URL, "").expect("bridge");
    assert!(matches!(
        bridge.subscribe("").await,
        Err(BridgeError::InvalidTopic { .. })
    ));
    assert!(matches!(
        bridge.publish("", Bytes::new()).await,
        Err(BridgeError::InvalidTopic { .. })
    ));
}

#[tokio::test]
async fn a_redis_that_is_down_fails_fast() {
    let url = format!("redis://127.0.0.1:{}", free_port());
    let bridge = RedisBridge::new(&url, "").expect("bridge");
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
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
}

/// Redis killed and restarted on the same port: the stream stays open, the bridge resubscribes
/// on its own, events published after the restart arrive once each and in order, and the gap
/// is counted; publishing while Redis is down errors quickly.
#[tokio::test]
async fn the_bridge_survives_a_redis_restart() {
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let mut server = Server::redis(port);
    wait_for_port(port).await;

    let subscriber = RedisBridge::new(&url, "").expect("bridge");
    let publisher = RedisBridge::new(&url, "").expect("bridge");
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
    assert_eq!(subscriber.stats().gaps, 0);

    server.kill();

    let start = Instant::now();
    let refused = publisher.publish(&topic, Bytes::from_static(b"lost")).await;
    assert!(
        matches!(refused, Err(BridgeError::Unavailable { .. })),
        "{refused:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "publishing while Redis is down took {:?}",
        start.elapsed()
    );
    eventually(Duration::from_secs(5), "the gap is counted", || async {
        subscriber.stats().gaps == 1
    })
    .await;

    server.restart();
    wait_for_port(port).await;
    eventually(
        Duration::from_secs(15),
        "the subscriber reconnects",
        || async { subscriber.stats().reconnects >= 1 },
    )
    .await;
    assert_eq!(numsub(&url, &topic).await, 1, "resubscribed on its own");

    // The publisher's connection manager reconnects on its next use; warm it up with events
    // the subscriber will see but that the test does not count as numbered ones.
    let mut warm = false;
    for attempt in 0..50 {
        if publisher
            .publish(&topic, Bytes::from(format!("warmup{attempt}")))
            .await
            .is_ok()
        {
            warm = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(warm, "the publisher never came back");
    for n in 3..=12 {
        publisher
            .publish(&topic, Bytes::from(format!("e{n}")))
            .await
            .expect("publish after the restart");
    }

    let mut numbered = Vec::new();
    while numbered.len() < 10 {
        let event = next_event(&mut stream, "events after the restart").await;
        let text = String::from_utf8(event.to_vec()).expect("utf-8");
        assert_ne!(text, "lost", "an event refused while down was delivered");
        if !text.starts_with("warmup") {
            numbered.push(text);
        }
    }
    let expected: Vec<String> = (3..=12).map(|n| format!("e{n}")).collect();
    assert_eq!(numbered, expected, "in order and once each");
    assert_quiet(&mut stream, "no duplicate after the restart").await;
    assert_eq!(subscriber.stats().gaps, 1);
    assert_eq!(subscriber.stats().reconnects, 1);
}

/// The subscriber connection PINGs Redis every few seconds to notice a silently dead
/// connection; the PINGs themselves must not be mistaken for failures.
#[tokio::test]
async fn an_idle_subscription_stays_connected() {
    let bridge = RedisBridge::new(REDIS_URL, "").expect("bridge");
    let topic = unique("idle");
    let mut stream = bridge.subscribe(&topic).await.expect("subscribe");
    tokio::time::sleep(Duration::from_secs(11)).await;
    bridge
        .publish(&topic, Bytes::from_static(b"still here"))
        .await
        .expect("publish");
    assert_eq!(
        next_event(&mut stream, "the event after idling").await,
        "still here"
    );
    assert_eq!(bridge.stats(), Default::default(), "no reconnect, no gap");
}
