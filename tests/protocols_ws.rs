//! GraphQL over WebSocket on `/graphql`: both subprotocols, with a real client on a real socket.
//! Subscriptions come from a scripted service (tests/protocols_support); queries also run
//! against the real gateway over the demo subgraphs.

mod common;
mod protocols_support;

use std::time::Duration;

use protocols_support::{quick_settings, Closed, Server, WsClient};
use seam::http::ProtocolSettings;
use serde_json::json;

const TRANSPORT: Option<&str> = Some("graphql-transport-ws");
const LEGACY: Option<&str> = Some("graphql-ws");

async fn acknowledged(server: &Server, protocol: Option<&str>) -> WsClient {
    let mut client = WsClient::connect(&server.ws_url(), protocol).await;
    client.send(json!({ "type": "connection_init" })).await;
    assert_eq!(client.recv().await, json!({ "type": "connection_ack" }));
    client
}

fn closed(code: u16, reason: &str) -> Closed {
    Closed {
        code,
        reason: reason.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// graphql-transport-ws
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn transport_subscription_runs_from_init_to_complete() {
    let server = Server::start().await;
    let mut client = WsClient::connect(&server.ws_url(), TRANSPORT).await;
    client
        .send(json!({ "type": "connection_init", "payload": { "authorization": "Bearer abc" } }))
        .await;
    assert_eq!(client.recv().await, json!({ "type": "connection_ack" }));
    client.subscribe("s1", "subscription { live }").await;
    let feed = server.service.feed(0).await;
    assert_eq!(feed.query, "subscription { live }");
    assert_eq!(feed.header("authorization").as_deref(), Some("Bearer abc"));

    feed.push(r#"{"data":{"live":1}}"#).await;
    feed.push(r#"{"data":{"live":2}}"#).await;
    assert_eq!(
        client.recv().await,
        json!({ "id": "s1", "type": "next", "payload": { "data": { "live": 1 } } })
    );
    assert_eq!(
        client.recv().await,
        json!({ "id": "s1", "type": "next", "payload": { "data": { "live": 2 } } })
    );
    // The source ends: the server completes the operation.
    feed.end();
    client.expect_complete("s1").await;
}

#[tokio::test]
async fn transport_finite_subscription_completes_and_its_id_can_be_reused() {
    let server = Server::start().await;
    let mut client = acknowledged(&server, TRANSPORT).await;
    for _ in 0..2 {
        client.subscribe("c", "subscription { count }").await;
        for n in 1..=3 {
            assert_eq!(
                client.recv().await,
                json!({ "id": "c", "type": "next", "payload": { "data": { "count": n } } })
            );
        }
        client.expect_complete("c").await;
    }
}

#[tokio::test]
async fn transport_query_and_mutation_are_one_next_then_complete() {
    let server = Server::start().await;
    let mut client = acknowledged(&server, TRANSPORT).await;
    client.subscribe("q", "{ hello }").await;
    assert_eq!(
        client.recv().await,
        json!({ "id": "q", "type": "next", "payload": { "data": { "hello": "world" } } })
    );
    client.expect_complete("q").await;
    client.subscribe("m", "mutation { hello }").await;
    assert_eq!(
        client.recv().await,
        json!({ "id": "m", "type": "next", "payload": { "data": { "hello": "world" } } })
    );
    client.expect_complete("m").await;
}

#[tokio::test]
async fn transport_refused_operation_gets_an_error_message_and_no_complete() {
    let server = Server::start().await;
    let mut client = acknowledged(&server, TRANSPORT).await;
    client.subscribe("b", "subscription { broken }").await;
    assert_eq!(
        client.recv().await,
        json!({ "id": "b", "type": "error", "payload": [{
            "message": "Cannot query field \"broken\" on type \"Subscription\".",
            "extensions": { "code": "GRAPHQL_VALIDATION_FAILED" }
        }] })
    );
    // The next thing the client hears is the answer to its ping: no `complete` for `b`.
    client.send(json!({ "type": "ping" })).await;
    assert_eq!(client.recv().await, json!({ "type": "pong" }));
}

#[tokio::test]
async fn transport_client_complete_drops_the_stream_and_the_connection_stays() {
    let server = Server::start().await;
    let mut client = acknowledged(&server, TRANSPORT).await;
    client.subscribe("s", "subscription { live }").await;
    let feed = server.service.feed(0).await;
    feed.push(r#"{"data":{"live":1}}"#).await;
    assert_eq!(client.recv().await["type"], "next");
    client.send(json!({ "id": "s", "type": "complete" })).await;
    feed.dropped().await;
    // Nothing more for `s`, and the connection still answers.
    client.send(json!({ "type": "ping" })).await;
    assert_eq!(client.recv().await, json!({ "type": "pong" }));
    // The id is free again.
    client.subscribe("s", "subscription { live }").await;
    server.service.feed(1).await;
}

#[tokio::test]
async fn transport_disconnect_drops_every_stream() {
    let server = Server::start().await;
    let mut client = acknowledged(&server, TRANSPORT).await;
    for id in ["a", "b"] {
        client.subscribe(id, "subscription { live }").await;
    }
    let (a, b) = (server.service.feed(0).await, server.service.feed(1).await);
    drop(client);
    a.dropped().await;
    b.dropped().await;
}

/// A client that closes the socket gets the Close frame RFC 6455 asks in answer, with its own
/// code (graphql-ws clients back off for seconds after an abnormal 1006 before reconnecting),
/// and its streams end.
#[tokio::test]
async fn a_client_close_is_answered_with_a_close_frame_in_both_protocols() {
    let server = Server::start().await;
    let mut client = acknowledged(&server, TRANSPORT).await;
    client.subscribe("a", "subscription { live }").await;
    let feed = server.service.feed(0).await;
    assert_eq!(client.close_with(1000).await.code, 1000);
    feed.dropped().await;

    let mut client = legacy_acknowledged(&server).await;
    client
        .send(
            json!({ "id": "b", "type": "start", "payload": { "query": "subscription { live }" } }),
        )
        .await;
    let feed = server.service.feed(1).await;
    assert_eq!(client.close_with(4000).await.code, 4000);
    feed.dropped().await;

    // Closing before any message, too.
    let mut client = WsClient::connect(&server.ws_url(), TRANSPORT).await;
    assert_eq!(client.close_with(1001).await.code, 1001);
}

#[tokio::test]
async fn transport_slow_reader_holds_back_its_stream_instead_of_buffering() {
    let server = Server::start().await;
    let mut client = acknowledged(&server, TRANSPORT).await;
    client.subscribe("s", "subscription { live }").await;
    let feed = server.service.feed(0).await;
    // ~200 KB events while the client reads nothing: once the socket buffers and the feed's
    // 8-slot queue are full, pushing must block rather than pile up in the server.
    let big = format!(r#"{{"data":{{"live":"{}"}}}}"#, "x".repeat(200_000));
    let mut pushed = 0;
    loop {
        match tokio::time::timeout(Duration::from_millis(500), feed.push(&big)).await {
            Ok(()) => pushed += 1,
            Err(_) => break,
        }
        assert!(
            pushed <= 400,
            "80 MB went out to a client that read nothing"
        );
    }
    // Reading again lets every event through, in order.
    for _ in 0..pushed {
        let next = client.recv().await;
        assert_eq!(next["type"], "next");
        assert_eq!(
            next["payload"]["data"]["live"].as_str().map(str::len),
            Some(200_000)
        );
    }
}

#[tokio::test]
async fn transport_ping_is_answered_before_and_after_init_and_pong_is_ignored() {
    let server = Server::start().await;
    let mut client = WsClient::connect(&server.ws_url(), TRANSPORT).await;
    client.send(json!({ "type": "ping" })).await;
    assert_eq!(client.recv().await, json!({ "type": "pong" }));
    client.send(json!({ "type": "connection_init" })).await;
    assert_eq!(client.recv().await, json!({ "type": "connection_ack" }));
    client.send(json!({ "type": "pong", "payload": {} })).await;
    client
        .send(json!({ "type": "ping", "payload": { "at": 1 } }))
        .await;
    assert_eq!(client.recv().await, json!({ "type": "pong" }));
    client.silent_for(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn transport_without_init_is_closed_4408() {
    let server = Server::start().await;
    let mut client = WsClient::connect(&server.ws_url(), TRANSPORT).await;
    assert_eq!(
        client.closed().await,
        closed(4408, "Connection initialisation timeout")
    );
}

#[tokio::test]
async fn transport_acknowledged_connection_outlives_the_init_timeout() {
    let server = Server::start().await;
    let mut client = acknowledged(&server, TRANSPORT).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    client.send(json!({ "type": "ping" })).await;
    assert_eq!(client.recv().await, json!({ "type": "pong" }));
}

#[tokio::test]
async fn transport_subscribe_before_ack_is_closed_4401() {
    let server = Server::start().await;
    let mut client = WsClient::connect(&server.ws_url(), TRANSPORT).await;
    client.subscribe("1", "subscription { live }").await;
    assert_eq!(client.closed().await, closed(4401, "Unauthorized"));
    assert_eq!(server.service.feeds_started(), 0);
}

#[tokio::test]
async fn transport_duplicate_id_is_closed_4409() {
    let server = Server::start().await;
    let mut client = acknowledged(&server, TRANSPORT).await;
    let subscribe = json!({ "id": "dup", "type": "subscribe", "payload": { "query": "subscription { live }" } });
    client.send(subscribe.clone()).await;
    let feed = server.service.feed(0).await;
    client.send(subscribe).await;
    assert_eq!(
        client.closed().await,
        closed(4409, "Subscriber for dup already exists")
    );
    feed.dropped().await;
}

#[tokio::test]
async fn transport_second_init_is_closed_4429() {
    let server = Server::start().await;
    let mut client = acknowledged(&server, TRANSPORT).await;
    client.send(json!({ "type": "connection_init" })).await;
    assert_eq!(
        client.closed().await,
        closed(4429, "Too many initialisation requests")
    );
}

#[tokio::test]
async fn transport_bad_messages_are_closed_4400() {
    let server = Server::start().await;
    let bad: [&str; 6] = [
        "not json",
        r#"{"type":"wat"}"#,
        r#"{"id":"1"}"#,
        r#"{"type":"subscribe","payload":{"query":"{ hello }"}}"#,
        r#"{"type":"connection_init","payload":"a string"}"#,
        "[1,2,3]",
    ];
    for text in bad {
        let mut client = WsClient::connect(&server.ws_url(), TRANSPORT).await;
        client.send_text(text).await;
        let closed = client.closed().await;
        assert_eq!(closed.code, 4400, "for {text}: {closed:?}");
        assert!(!closed.reason.is_empty(), "for {text}: a reason is given");
        assert!(
            !closed.reason.contains(" at line "),
            "for {text}: the protocol's reason, not the JSON library's: {closed:?}"
        );
    }
    // A binary frame is read as the JSON text it carries, as the reference server reads it;
    // one that is not UTF-8 is no message.
    let mut client = acknowledged(&server, TRANSPORT).await;
    client.send_binary(b"{\"type\":\"ping\"}").await;
    assert_eq!(client.recv().await, json!({ "type": "pong" }));
    client.send_binary(&[0xff, 0xfe, b'{']).await;
    assert_eq!(client.closed().await.code, 4400);
}

#[tokio::test]
async fn without_a_known_subprotocol_the_socket_is_closed_4406() {
    let server = Server::start().await;
    let mut client = WsClient::connect(&server.ws_url(), None).await;
    assert_eq!(
        client.closed().await,
        closed(4406, "Subprotocol not acceptable")
    );
}

#[tokio::test]
async fn transport_client_that_leaves_a_ping_unanswered_is_dropped() {
    let server = Server::start_with(ProtocolSettings {
        ping_interval: Duration::from_millis(150),
        ..quick_settings()
    })
    .await;
    let started = tokio::time::Instant::now();
    let mut client = acknowledged(&server, TRANSPORT).await;
    client.subscribe("s", "subscription { live }").await;
    let feed = server.service.feed(0).await;
    assert_eq!(client.recv().await, json!({ "type": "ping" }));
    // No pong: the next ping is not sent, the socket is dropped and so is the subscription.
    client.dropped_by_server().await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    feed.dropped().await;
}

#[tokio::test]
async fn transport_client_that_answers_pings_stays_connected() {
    let server = Server::start_with(ProtocolSettings {
        ping_interval: Duration::from_millis(200),
        ..quick_settings()
    })
    .await;
    let mut client = acknowledged(&server, TRANSPORT).await;
    client.subscribe("s", "subscription { live }").await;
    let feed = server.service.feed(0).await;
    for _ in 0..5 {
        assert_eq!(client.recv().await, json!({ "type": "ping" }));
        client.send(json!({ "type": "pong" })).await;
    }
    assert!(!feed.is_dropped());
    feed.push(r#"{"data":{"live":1}}"#).await;
    loop {
        let message = client.recv().await;
        if message == json!({ "type": "ping" }) {
            client.send(json!({ "type": "pong" })).await;
            continue;
        }
        assert_eq!(
            message,
            json!({ "id": "s", "type": "next", "payload": { "data": { "live": 1 } } })
        );
        break;
    }
}

/// Pushes ~200 KB events to a client that reads nothing until the server gives the connection
/// up (the feed is dropped); fails if that takes longer than the test's patience.
async fn push_until_the_server_gives_up(server: &Server) {
    let feed = server.service.feed(0).await;
    let big = format!(r#"{{"data":{{"live":"{}"}}}}"#, "x".repeat(200_000));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut pushed = 0;
    while !feed.is_dropped() {
        // A push blocks once the socket and the feed's queue are full.
        if let Ok(true) =
            tokio::time::timeout(Duration::from_millis(100), feed.try_push(&big)).await
        {
            pushed += 1;
        }
        assert!(
            pushed <= 400,
            "80 MB went out to a client that read nothing"
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server kept a client that stopped reading ({pushed} events pushed)"
        );
    }
}

#[tokio::test]
async fn transport_client_that_stops_reading_is_dropped_after_the_send_timeout() {
    let server = Server::start_with(ProtocolSettings {
        send_timeout: Duration::from_millis(300),
        ..quick_settings()
    })
    .await;
    let mut client = acknowledged(&server, TRANSPORT).await;
    client.subscribe("s", "subscription { live }").await;
    push_until_the_server_gives_up(&server).await;
    drop(client);
}

#[tokio::test]
async fn transport_operations_beyond_the_limit_get_an_error_and_the_connection_stays() {
    let server = Server::start_with(ProtocolSettings {
        max_operations: 2,
        ..quick_settings()
    })
    .await;
    let mut client = acknowledged(&server, TRANSPORT).await;
    for id in ["a", "b"] {
        client.subscribe(id, "subscription { live }").await;
    }
    let (a, b) = (server.service.feed(0).await, server.service.feed(1).await);
    client.subscribe("c", "subscription { live }").await;
    assert_eq!(
        client.recv().await,
        json!({ "id": "c", "type": "error", "payload": [{
            "message": "too many operations on this connection (at most 2)",
            "extensions": { "code": "TOO_MANY_OPERATIONS" }
        }] })
    );
    assert_eq!(server.service.feeds_started(), 2);
    // The running operations and the connection go on.
    b.push(r#"{"data":{"live":"b"}}"#).await;
    assert_eq!(
        client.recv().await,
        json!({ "id": "b", "type": "next", "payload": { "data": { "live": "b" } } })
    );
    // Completing one makes room.
    client.send(json!({ "id": "a", "type": "complete" })).await;
    a.dropped().await;
    client.subscribe("c", "subscription { live }").await;
    let c = server.service.feed(2).await;
    c.push(r#"{"data":{"live":"c"}}"#).await;
    assert_eq!(
        client.recv().await,
        json!({ "id": "c", "type": "next", "payload": { "data": { "live": "c" } } })
    );
}

// ---------------------------------------------------------------------------------------------
// legacy graphql-ws (subscriptions-transport-ws)
// ---------------------------------------------------------------------------------------------

async fn legacy_acknowledged(server: &Server) -> WsClient {
    let mut client = acknowledged(server, LEGACY).await;
    assert_eq!(client.recv().await, json!({ "type": "ka" }));
    client
}

/// The next message that is not a keep-alive.
async fn recv_skipping_ka(client: &mut WsClient) -> serde_json::Value {
    loop {
        let message = client.recv().await;
        if message != json!({ "type": "ka" }) {
            return message;
        }
    }
}

#[tokio::test]
async fn legacy_subscription_runs_from_init_to_complete() {
    let server = Server::start().await;
    let mut client = WsClient::connect(&server.ws_url(), LEGACY).await;
    client
        .send(json!({ "type": "connection_init", "payload": { "token": "t" } }))
        .await;
    assert_eq!(client.recv().await, json!({ "type": "connection_ack" }));
    assert_eq!(client.recv().await, json!({ "type": "ka" }));
    client
        .send(json!({ "id": "1", "type": "start", "payload": { "query": "subscription { live }", "variables": null } }))
        .await;
    let feed = server.service.feed(0).await;
    assert_eq!(feed.header("token").as_deref(), Some("t"));
    feed.push(r#"{"data":{"live":"a"}}"#).await;
    feed.push(r#"{"data":{"live":"b"}}"#).await;
    assert_eq!(
        recv_skipping_ka(&mut client).await,
        json!({ "id": "1", "type": "data", "payload": { "data": { "live": "a" } } })
    );
    assert_eq!(
        recv_skipping_ka(&mut client).await,
        json!({ "id": "1", "type": "data", "payload": { "data": { "live": "b" } } })
    );
    feed.end();
    assert_eq!(
        recv_skipping_ka(&mut client).await,
        json!({ "id": "1", "type": "complete" })
    );
}

#[tokio::test]
async fn legacy_keep_alives_keep_coming() {
    let server = Server::start().await;
    let mut client = legacy_acknowledged(&server).await;
    let started = tokio::time::Instant::now();
    for _ in 0..3 {
        assert_eq!(client.recv().await, json!({ "type": "ka" }));
    }
    // 150 ms apart in the quick settings.
    assert!(started.elapsed() >= Duration::from_millis(400));
}

#[tokio::test]
async fn legacy_query_is_data_then_complete() {
    let server = Server::start().await;
    let mut client = legacy_acknowledged(&server).await;
    client
        .send(json!({ "id": "q", "type": "start", "payload": { "query": "{ hello }" } }))
        .await;
    assert_eq!(
        recv_skipping_ka(&mut client).await,
        json!({ "id": "q", "type": "data", "payload": { "data": { "hello": "world" } } })
    );
    assert_eq!(
        recv_skipping_ka(&mut client).await,
        json!({ "id": "q", "type": "complete" })
    );
}

#[tokio::test]
async fn legacy_stop_drops_the_stream() {
    let server = Server::start().await;
    let mut client = legacy_acknowledged(&server).await;
    client
        .send(
            json!({ "id": "s", "type": "start", "payload": { "query": "subscription { live }" } }),
        )
        .await;
    let feed = server.service.feed(0).await;
    client.send(json!({ "id": "s", "type": "stop" })).await;
    feed.dropped().await;
    // The connection goes on.
    client
        .send(json!({ "id": "q", "type": "start", "payload": { "query": "{ hello }" } }))
        .await;
    assert_eq!(recv_skipping_ka(&mut client).await["type"], "data");
}

#[tokio::test]
async fn legacy_reused_id_replaces_the_operation() {
    let server = Server::start().await;
    let mut client = legacy_acknowledged(&server).await;
    let start =
        json!({ "id": "r", "type": "start", "payload": { "query": "subscription { live }" } });
    client.send(start.clone()).await;
    let first = server.service.feed(0).await;
    client.send(start).await;
    first.dropped().await;
    let second = server.service.feed(1).await;
    second.push(r#"{"data":{"live":2}}"#).await;
    assert_eq!(
        recv_skipping_ka(&mut client).await,
        json!({ "id": "r", "type": "data", "payload": { "data": { "live": 2 } } })
    );
}

#[tokio::test]
async fn legacy_refused_operation_gets_an_error() {
    let server = Server::start().await;
    let mut client = legacy_acknowledged(&server).await;
    client
        .send(json!({ "id": "b", "type": "start", "payload": { "query": "subscription { broken }" } }))
        .await;
    // As subscriptions-transport-ws's own server answers one: a result carrying every error
    // (its client shows only the first of an `error` message's), then `complete`.
    let error = recv_skipping_ka(&mut client).await;
    assert_eq!(error["type"], "data", "{error}");
    assert_eq!(error["id"], "b");
    assert_eq!(
        error["payload"]["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    assert_eq!(
        recv_skipping_ka(&mut client).await,
        json!({ "id": "b", "type": "complete" })
    );
}

#[tokio::test]
async fn legacy_bad_messages_get_errors_and_the_connection_stays() {
    let server = Server::start().await;
    let mut client = legacy_acknowledged(&server).await;
    client.send_text("{not json").await;
    let error = recv_skipping_ka(&mut client).await;
    assert_eq!(error["type"], "connection_error");
    assert!(error["payload"]["message"].is_string());

    client.send(json!({ "id": "x", "type": "wat" })).await;
    let error = recv_skipping_ka(&mut client).await;
    assert_eq!(error["type"], "error");
    assert_eq!(error["id"], "x");
    assert!(error["payload"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("wat")));

    client
        .send(json!({ "id": "q", "type": "start", "payload": { "query": "{ hello }" } }))
        .await;
    assert_eq!(
        recv_skipping_ka(&mut client).await,
        json!({ "id": "q", "type": "data", "payload": { "data": { "hello": "world" } } })
    );
}

#[tokio::test]
async fn legacy_start_before_init_is_an_error() {
    let server = Server::start().await;
    let mut client = WsClient::connect(&server.ws_url(), LEGACY).await;
    client
        .send(json!({ "id": "early", "type": "start", "payload": { "query": "subscription { live }" } }))
        .await;
    let error = client.recv().await;
    assert_eq!(error["type"], "error");
    assert_eq!(error["id"], "early");
    assert_eq!(server.service.feeds_started(), 0);
}

#[tokio::test]
async fn legacy_without_init_is_closed_4408() {
    let server = Server::start().await;
    let mut client = WsClient::connect(&server.ws_url(), LEGACY).await;
    assert_eq!(
        client.closed().await,
        closed(4408, "Connection initialisation timeout")
    );
}

#[tokio::test]
async fn legacy_second_init_is_closed_4429() {
    let server = Server::start().await;
    let mut client = legacy_acknowledged(&server).await;
    client.send(json!({ "type": "connection_init" })).await;
    assert_eq!(
        client.closed().await,
        closed(4429, "Too many initialisation requests")
    );
}

#[tokio::test]
async fn legacy_connection_terminate_closes_and_drops_streams() {
    let server = Server::start().await;
    let mut client = legacy_acknowledged(&server).await;
    client
        .send(
            json!({ "id": "s", "type": "start", "payload": { "query": "subscription { live }" } }),
        )
        .await;
    let feed = server.service.feed(0).await;
    client.send(json!({ "type": "connection_terminate" })).await;
    feed.dropped().await;
}

#[tokio::test]
async fn legacy_client_that_stops_reading_is_dropped_after_the_send_timeout() {
    let server = Server::start_with(ProtocolSettings {
        send_timeout: Duration::from_millis(300),
        ..quick_settings()
    })
    .await;
    let mut client = legacy_acknowledged(&server).await;
    client
        .send(
            json!({ "id": "s", "type": "start", "payload": { "query": "subscription { live }" } }),
        )
        .await;
    push_until_the_server_gives_up(&server).await;
    drop(client);
}

#[tokio::test]
async fn legacy_operations_beyond_the_limit_get_an_error_and_the_connection_stays() {
    let server = Server::start_with(ProtocolSettings {
        max_operations: 1,
        ..quick_settings()
    })
    .await;
    let mut client = legacy_acknowledged(&server).await;
    let start = |id: &str| json!({ "id": id, "type": "start", "payload": { "query": "subscription { live }" } });
    client.send(start("a")).await;
    let first = server.service.feed(0).await;
    client.send(start("b")).await;
    assert_eq!(
        recv_skipping_ka(&mut client).await,
        json!({ "id": "b", "type": "data", "payload": { "errors": [{
            "message": "too many operations on this connection (at most 1)",
            "extensions": { "code": "TOO_MANY_OPERATIONS" }
        }] } })
    );
    assert_eq!(
        recv_skipping_ka(&mut client).await,
        json!({ "id": "b", "type": "complete" })
    );
    assert_eq!(server.service.feeds_started(), 1);
    // A reused id replaces its operation, so it fits in the limit.
    client.send(start("a")).await;
    first.dropped().await;
    let second = server.service.feed(1).await;
    second.push(r#"{"data":{"live":2}}"#).await;
    assert_eq!(
        recv_skipping_ka(&mut client).await,
        json!({ "id": "a", "type": "data", "payload": { "data": { "live": 2 } } })
    );
}

// ---------------------------------------------------------------------------------------------
// the real gateway
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn gateway_answers_queries_and_refuses_unknown_subscriptions_over_websocket() {
    let gateway = common::TestGateway::demo().await;
    let ws_url = gateway.url.replacen("http://", "ws://", 1);
    for protocol in [TRANSPORT, LEGACY] {
        let mut client = WsClient::connect(&ws_url, protocol).await;
        client.send(json!({ "type": "connection_init" })).await;
        assert_eq!(client.recv().await, json!({ "type": "connection_ack" }));
        let start = if protocol == TRANSPORT {
            "subscribe"
        } else {
            "start"
        };
        let next = if protocol == TRANSPORT {
            "next"
        } else {
            "data"
        };
        client
            .send(json!({ "id": "1", "type": start, "payload": { "query": "{ topProducts(first: 2) { upc price } }" } }))
            .await;
        assert_eq!(
            recv_skipping_ka(&mut client).await,
            json!({ "id": "1", "type": next, "payload": { "data": { "topProducts": [
                { "upc": "1", "price": 8018 },
                { "upc": "2", "price": 15937 },
            ] } } })
        );
        assert_eq!(
            recv_skipping_ka(&mut client).await,
            json!({ "id": "1", "type": "complete" })
        );
        client
            .send(json!({ "id": "2", "type": start, "payload": { "query": "subscription { noSuchField }" } }))
            .await;
        let error = recv_skipping_ka(&mut client).await;
        assert_eq!(error["id"], "2");
        if protocol == TRANSPORT {
            assert_eq!(error["type"], "error", "{error}");
            assert!(error["payload"][0]["message"].is_string(), "{error}");
        } else {
            // The legacy `error` holds one error: a refusal is a result with every error.
            assert_eq!(error["type"], "data", "{error}");
            assert!(
                error["payload"]["errors"][0]["message"].is_string(),
                "{error}"
            );
            assert_eq!(
                recv_skipping_ka(&mut client).await,
                json!({ "id": "2", "type": "complete" })
            );
            // A document with two syntax errors: both are in the one result.
            client
                .send(json!({ "id": "3", "type": start, "payload": { "query": "{ " } }))
                .await;
            let error = recv_skipping_ka(&mut client).await;
            assert_eq!(error["type"], "data", "{error}");
            assert!(
                error["payload"]["errors"].as_array().map_or(0, Vec::len) >= 2,
                "{error}"
            );
            assert_eq!(
                recv_skipping_ka(&mut client).await,
                json!({ "id": "3", "type": "complete" })
            );
        }
    }
}

/// An operation's payload is read like a POST body on both protocols: declared variables are
/// used, undeclared ones and unread `extensions` members may be any JSON.
#[tokio::test]
async fn gateway_reads_operation_payloads_like_post_bodies() {
    let gateway = common::TestGateway::demo().await;
    let ws_url = gateway.url.replacen("http://", "ws://", 1);
    for (protocol, start, next) in [(TRANSPORT, "subscribe", "next"), (LEGACY, "start", "data")] {
        let mut client = WsClient::connect(&ws_url, protocol).await;
        client.send(json!({ "type": "connection_init" })).await;
        assert_eq!(client.recv().await, json!({ "type": "connection_ack" }));
        let junk = json!([{ "a": [1, { "b": null }] }, "x", 2.5]);
        client
            .send(json!({ "id": "1", "type": start, "payload": {
                "query": "query ($n: Int) { topProducts(first: $n) { upc } }",
                "variables": { "unused": junk, "n": 1 },
                "extensions": { "junk": junk },
            } }))
            .await;
        assert_eq!(
            recv_skipping_ka(&mut client).await,
            json!({ "id": "1", "type": next, "payload": { "data": { "topProducts": [
                { "upc": "1" },
            ] } } }),
            "{protocol:?}"
        );
    }
}

/// Events that are ready together go out in one write (a burst), and each operation's events
/// still arrive complete and in order, on both protocols; a lone event after the burst is not
/// held back waiting for company.
#[tokio::test]
async fn bursts_from_several_operations_arrive_whole_and_in_order() {
    for protocol in [TRANSPORT, Some("graphql-ws")] {
        let server = Server::start().await;
        let mut client = match protocol {
            TRANSPORT => acknowledged(&server, TRANSPORT).await,
            _ => legacy_acknowledged(&server).await,
        };
        let (start, next) = match protocol {
            TRANSPORT => ("subscribe", "next"),
            _ => ("start", "data"),
        };
        for id in ["a", "b"] {
            client
                .send(json!({ "id": id, "type": start, "payload": { "query": "subscription { live }" } }))
                .await;
        }
        let feeds = [server.service.feed(0).await, server.service.feed(1).await];
        for i in 0..40 {
            for feed in &feeds {
                feed.push(&format!(r#"{{"data":{{"live":{i}}}}}"#)).await;
            }
        }
        let mut seen = std::collections::HashMap::<String, Vec<i64>>::new();
        while seen.values().map(Vec::len).sum::<usize>() < 80 {
            let message = recv_skipping_ka(&mut client).await;
            assert_eq!(message["type"], next, "{message}");
            let id = message["id"].as_str().expect("id").to_owned();
            let live = message["payload"]["data"]["live"].as_i64().expect("live");
            seen.entry(id).or_default().push(live);
        }
        let in_order: Vec<i64> = (0..40).collect();
        assert_eq!(seen.len(), 2, "{protocol:?}");
        for (id, values) in &seen {
            assert_eq!(values, &in_order, "{protocol:?} operation {id}");
        }
        feeds[0].push(r#"{"data":{"live":"alone"}}"#).await;
        let message = recv_skipping_ka(&mut client).await;
        assert_eq!(message["payload"]["data"]["live"], "alone", "{protocol:?}");
    }
}
