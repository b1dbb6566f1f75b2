//! GraphQL over SSE, single-connection mode (graphql-sse's protocol) over real HTTP: reserve a
//! stream with `PUT`, open it with `GET`, run operations on it with `POST` by id, stop them with
//! `DELETE`. First against a scripted service (the test drives each subscription and sees when
//! the protocol drops it), then against the demo gateway with its bridge.

mod auth_support;
mod common;
mod protocols_support;
mod sse_single_support;
mod subscriptions_support;

use std::sync::Arc;
use std::time::Duration;

use protocols_support::{quick_settings, Server, PATIENCE};
use seam::http::{ProtocolSettings, StreamingClients};
use serde_json::json;
use sse_single_support::{
    complete, content_type, error_code, next, Client, Event, Events, TOKEN_HEADER,
};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

fn client_of(server: &Server) -> Client {
    Client::of(server.http_url())
}

// ---------------------------------------------------------------------------------------------
// the protocol
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn subscriptions_on_one_stream_interleave_by_id_and_stop_one_by_one() {
    let server = Server::start().await;
    let client = client_of(&server);
    let (token, mut events) = client.stream().await;

    let response = client.run(&token, "a", "subscription { live }").await;
    assert_eq!(response.status(), 202);
    let a = server.service.feed(0).await;
    a.push(r#"{"data":{"live":1}}"#).await;
    assert_eq!(
        events.next().await,
        next("a", json!({ "data": { "live": 1 } }))
    );

    let response = client.run(&token, "b", "subscription { other }").await;
    assert_eq!(response.status(), 202);
    let b = server.service.feed(1).await;
    b.push(r#"{"data":{"other":"x"}}"#).await;
    assert_eq!(
        events.next().await,
        next("b", json!({ "data": { "other": "x" } }))
    );
    a.push(r#"{"data":{"live":2}}"#).await;
    assert_eq!(
        events.next().await,
        next("a", json!({ "data": { "live": 2 } }))
    );
    b.push(r#"{"data":{"other":"y"}}"#).await;
    assert_eq!(
        events.next().await,
        next("b", json!({ "data": { "other": "y" } }))
    );

    // Stopping `a` drops its subscription and completes it; `b` goes on.
    let response = client.stop(&token, "a").await;
    assert_eq!(response.status(), 200);
    assert_eq!(events.next().await, complete("a"));
    a.dropped().await;
    assert!(!b.is_dropped());
    b.push(r#"{"data":{"other":"z"}}"#).await;
    assert_eq!(
        events.next().await,
        next("b", json!({ "data": { "other": "z" } }))
    );

    // A query goes to the stream too: one `next`, then its `complete`.
    let response = client.run(&token, "q", "{ hello }").await;
    assert_eq!(response.status(), 202);
    assert_eq!(
        events.next().await,
        next("q", json!({ "data": { "hello": "world" } }))
    );
    assert_eq!(events.next().await, complete("q"));

    // A subscription that ends by itself completes.
    b.end();
    assert_eq!(events.next().await, complete("b"));
    // A finished operation's id may be used again.
    let response = client.run(&token, "q", "{ hello }").await;
    assert_eq!(response.status(), 202);
    assert_eq!(
        events.next().await,
        next("q", json!({ "data": { "hello": "world" } }))
    );
    assert_eq!(events.next().await, complete("q"));
}

#[tokio::test]
async fn operations_sent_before_the_stream_opens_arrive_when_it_does() {
    let server = Server::start().await;
    let client = client_of(&server);
    let token = client.reserve().await;
    let response = client.run(&token, "q", "{ hello }").await;
    assert_eq!(response.status(), 202);
    let response = client.run(&token, "c", "subscription { count }").await;
    assert_eq!(response.status(), 202);

    let mut events = Events::of(client.open(&token).await);
    // The two operations' events may interleave; each one's come in order.
    let mut received = Vec::new();
    for _ in 0..6 {
        received.push(events.next().await);
    }
    let of = |id: &str| -> Vec<&Event> {
        received
            .iter()
            .filter(|event| event.data["id"] == id)
            .collect()
    };
    assert_eq!(
        of("q"),
        [
            &next("q", json!({ "data": { "hello": "world" } })),
            &complete("q")
        ]
    );
    let counts: Vec<Event> = (1..=3)
        .map(|n| next("c", json!({ "data": { "count": n } })))
        .chain([complete("c")])
        .collect();
    assert_eq!(of("c"), counts.iter().collect::<Vec<_>>());
}

#[tokio::test]
async fn an_unknown_token_is_not_found_for_every_method() {
    let server = Server::start().await;
    let client = client_of(&server);
    let unknown = "0123456789abcdef0123456789abcdef";
    let response = client.open(unknown).await;
    assert_eq!(response.status(), 404);
    assert_eq!(error_code(response).await, "STREAM_NOT_FOUND");
    let response = client.run(unknown, "a", "{ hello }").await;
    assert_eq!(response.status(), 404);
    assert_eq!(error_code(response).await, "STREAM_NOT_FOUND");
    let response = client.stop(unknown, "a").await;
    assert_eq!(response.status(), 404);
    assert_eq!(error_code(response).await, "STREAM_NOT_FOUND");
    // Without any token, DELETE has no stream to look in.
    let response = client
        .http
        .delete(format!("{}?operationId=a", client.url))
        .send()
        .await
        .expect("server reachable");
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn a_reservation_serves_one_stream() {
    let server = Server::start().await;
    let client = client_of(&server);
    let (token, _events) = client.stream().await;
    let second = client.open(&token).await;
    assert_eq!(second.status(), 409);
    assert_eq!(error_code(second).await, "STREAM_ALREADY_OPEN");
    // Tokens differ from one reservation to the next.
    assert_ne!(client.reserve().await, token);
}

#[tokio::test]
async fn operation_ids_are_required_and_unique_on_a_stream() {
    let server = Server::start().await;
    let client = client_of(&server);
    let (token, mut events) = client.stream().await;
    let response = client
        .post(&token, json!({ "query": "subscription { live }" }))
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(error_code(response).await, "OPERATION_ID_MISSING");
    let response = client
        .post(
            &token,
            json!({ "query": "{ hello }", "extensions": { "operationId": "" } }),
        )
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(server.service.feeds_started(), 0);

    assert_eq!(
        client
            .run(&token, "a", "subscription { live }")
            .await
            .status(),
        202
    );
    let duplicate = client.run(&token, "a", "subscription { live }").await;
    assert_eq!(duplicate.status(), 409);
    assert_eq!(error_code(duplicate).await, "OPERATION_ID_IN_USE");
    // The first one is untouched.
    let a = server.service.feed(0).await;
    a.push(r#"{"data":{"live":1}}"#).await;
    assert_eq!(
        events.next().await,
        next("a", json!({ "data": { "live": 1 } }))
    );
    assert_eq!(server.service.feeds_started(), 1);

    let response = client
        .http
        .delete(&client.url)
        .header(TOKEN_HEADER, &token)
        .send()
        .await
        .expect("server reachable");
    assert_eq!(response.status(), 400);
    assert_eq!(error_code(response).await, "OPERATION_ID_MISSING");
}

#[tokio::test]
async fn a_refused_operation_is_answered_on_its_post_and_frees_its_id() {
    let server = Server::start().await;
    let client = client_of(&server);
    let (token, mut events) = client.stream().await;
    let response = client.run(&token, "a", "subscription { broken }").await;
    assert_eq!(response.status(), 400);
    assert!(content_type(&response).starts_with("application/json"));
    assert_eq!(error_code(response).await, "GRAPHQL_VALIDATION_FAILED");

    let response = client.run(&token, "a", "{ hello }").await;
    assert_eq!(response.status(), 202);
    assert_eq!(
        events.next().await,
        next("a", json!({ "data": { "hello": "world" } })),
        "nothing of the refused operation went to the stream"
    );
}

#[tokio::test]
async fn operations_per_stream_are_capped() {
    let server = Server::start_with(ProtocolSettings {
        max_operations: 2,
        ..quick_settings()
    })
    .await;
    let client = client_of(&server);
    let (token, mut events) = client.stream().await;
    for id in ["a", "b"] {
        assert_eq!(
            client
                .run(&token, id, "subscription { live }")
                .await
                .status(),
            202
        );
    }
    let third = client.run(&token, "c", "subscription { live }").await;
    assert_eq!(third.status(), 429);
    assert_eq!(error_code(third).await, "TOO_MANY_OPERATIONS");
    assert_eq!(server.service.feeds_started(), 2, "the third never ran");

    assert_eq!(client.stop(&token, "a").await.status(), 200);
    assert_eq!(events.next().await, complete("a"));
    assert_eq!(
        client
            .run(&token, "c", "subscription { live }")
            .await
            .status(),
        202
    );
}

#[tokio::test]
async fn closing_the_stream_drops_its_operations_and_its_token() {
    let server = Server::start().await;
    let client = client_of(&server);
    let (token, mut events) = client.stream().await;
    for id in ["a", "b"] {
        assert_eq!(
            client
                .run(&token, id, "subscription { live }")
                .await
                .status(),
            202
        );
    }
    let (a, b) = (server.service.feed(0).await, server.service.feed(1).await);
    a.push(r#"{"data":{"live":1}}"#).await;
    assert_eq!(
        events.next().await,
        next("a", json!({ "data": { "live": 1 } }))
    );

    drop(events);
    a.dropped().await;
    b.dropped().await;
    // The token is forgotten: operations sent to it are refused.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let response = client.run(&token, "c", "{ hello }").await;
        if response.status() == 404 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still accepted after the stream closed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_reservation_never_opened_lapses_with_its_operations() {
    let server = Server::start_with(ProtocolSettings {
        sse_reservation_timeout: Duration::from_millis(300),
        ..quick_settings()
    })
    .await;
    let client = client_of(&server);
    let token = client.reserve().await;
    assert_eq!(
        client
            .run(&token, "a", "subscription { live }")
            .await
            .status(),
        202
    );
    server.service.feed(0).await.dropped().await;
    let response = client.open(&token).await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn an_idle_stream_gets_keep_alive_comments() {
    let server = Server::start().await;
    let client = client_of(&server);
    let (_token, mut events) = client.stream().await;
    // Quick settings send one every 150 ms; the first comes at once. Wait for three, with no
    // event among them, however slowly the machine delivers them.
    let deadline = Instant::now() + Duration::from_secs(30);
    while events.comments < 3 {
        assert!(
            Instant::now() < deadline,
            "{} comments in 30 s",
            events.comments
        );
        assert_eq!(events.next_within(Duration::from_millis(200)).await, None);
    }
}

#[tokio::test]
async fn event_source_opens_with_the_token_in_the_query_past_the_csrf_check() {
    // Default edge settings: CSRF prevention is on.
    let server = Server::start().await;
    let client = client_of(&server);
    let token = client.reserve().await;
    // What `EventSource` sends: a GET with no Content-Type and no custom header.
    let response = client
        .http
        .get(format!("{}?token={token}", client.url))
        .header("accept", "text/event-stream")
        .send()
        .await
        .expect("server reachable");
    assert_eq!(response.status(), 200);
    let mut events = Events::of(response);
    assert_eq!(client.run(&token, "q", "{ hello }").await.status(), 202);
    assert_eq!(
        events.next().await,
        next("q", json!({ "data": { "hello": "world" } }))
    );

    // An operation a page could send cross-site without a preflight is still refused.
    let response = client
        .http
        .post(format!("{}?token={token}", client.url))
        .header("content-type", "text/plain")
        .body(r#"{"query":"{ hello }","extensions":{"operationId":"x"}}"#)
        .send()
        .await
        .expect("server reachable");
    assert_eq!(response.status(), 400);
    assert_eq!(error_code(response).await, "CSRF_PREVENTION");
    // So is a GET running an operation with the token in its query string.
    let response = client
        .http
        .get(format!(
            "{}?token={token}&query=%7Bhello%7D&extensions=%7B%22operationId%22%3A%22y%22%7D",
            client.url
        ))
        .send()
        .await
        .expect("server reachable");
    assert_eq!(response.status(), 400);
    assert_eq!(error_code(response).await, "CSRF_PREVENTION");
}

#[tokio::test]
async fn a_query_over_get_with_the_token_goes_to_the_stream() {
    let server = Server::start().await;
    let client = client_of(&server);
    let (token, mut events) = client.stream().await;
    let response = client
        .http
        .get(format!(
            "{}?query=%7Bhello%7D&extensions=%7B%22operationId%22%3A%22g%22%7D",
            client.url
        ))
        .header(TOKEN_HEADER, &token)
        .header("accept", "application/json")
        .send()
        .await
        .expect("server reachable");
    assert_eq!(response.status(), 202);
    assert_eq!(
        events.next().await,
        next("g", json!({ "data": { "hello": "world" } }))
    );
    assert_eq!(events.next().await, complete("g"));
}

#[tokio::test]
async fn shutting_down_completes_every_operation_then_ends_the_stream() {
    let shutdown = CancellationToken::new();
    let server = Server::start_with(ProtocolSettings {
        clients: StreamingClients::new(None, shutdown.clone()),
        ..quick_settings()
    })
    .await;
    let client = client_of(&server);
    let (token, mut events) = client.stream().await;
    for id in ["a", "b"] {
        assert_eq!(
            client
                .run(&token, id, "subscription { live }")
                .await
                .status(),
            202
        );
    }
    let a = server.service.feed(0).await;
    a.push(r#"{"data":{"live":1}}"#).await;
    assert_eq!(
        events.next().await,
        next("a", json!({ "data": { "live": 1 } }))
    );
    server.service.feed(1).await;

    shutdown.cancel();
    let mut completed = vec![events.next().await, events.next().await];
    completed.sort_by_key(|event| event.data["id"].as_str().map(str::to_owned));
    assert_eq!(completed, [complete("a"), complete("b")]);
    events.ended().await;
    a.dropped().await;
    // New reservations are refused while shutting down.
    let response = client
        .http
        .put(&client.url)
        .send()
        .await
        .expect("reachable");
    assert_eq!(response.status(), 503);
}

#[tokio::test]
async fn reservations_count_as_streaming_clients() {
    let clients = StreamingClients::new(Some(1), CancellationToken::new());
    let server = Server::start_with(ProtocolSettings {
        clients: clients.clone(),
        ..quick_settings()
    })
    .await;
    let client = client_of(&server);
    let (_token, events) = client.stream().await;
    let response = client
        .http
        .put(&client.url)
        .send()
        .await
        .expect("reachable");
    assert_eq!(response.status(), 503);
    assert_eq!(error_code(response).await, "TOO_MANY_STREAMING_CLIENTS");
    drop(events);
    let deadline = Instant::now() + PATIENCE;
    while clients.open() > 0 {
        assert!(
            Instant::now() < deadline,
            "the stream's place was never freed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    client.reserve().await;
}

#[tokio::test]
async fn one_client_cannot_hold_every_streaming_place_with_unopened_reservations() {
    // Five streaming places, two unopened reservations per client. The server knows each
    // client's address, as `seam serve` does.
    let clients = StreamingClients::new(Some(5), CancellationToken::new());
    let server = Server::start_with(ProtocolSettings {
        clients: clients.clone(),
        max_unopened_streams: Some(2),
        ..quick_settings()
    })
    .await;
    let client = client_of(&server);
    client.reserve().await;
    let second = client.reserve().await;
    for _ in 0..3 {
        let response = client
            .http
            .put(&client.url)
            .send()
            .await
            .expect("reachable");
        assert_eq!(response.status(), 429);
        assert_eq!(error_code(response).await, "TOO_MANY_STREAM_RESERVATIONS");
    }
    assert_eq!(clients.open(), 2, "refused reservations hold no place");
    // The other places stay free for streams.
    let response = client.distinct("subscription { count }").await;
    assert_eq!(response.status(), 200);
    assert!(response
        .text()
        .await
        .expect("the stream")
        .contains("event: complete"));
    // Opening a reservation takes it off the client's count.
    let opened = client.open(&second).await;
    assert_eq!(opened.status(), 200);
    client.reserve().await;
}

#[tokio::test]
async fn a_lapsed_reservation_gives_its_client_back_the_room_it_took() {
    let server = Server::start_with(ProtocolSettings {
        max_unopened_streams: Some(1),
        sse_reservation_timeout: Duration::from_millis(300),
        ..quick_settings()
    })
    .await;
    let client = client_of(&server);
    client.reserve().await;
    let put = || async {
        client
            .http
            .put(&client.url)
            .send()
            .await
            .expect("reachable")
            .status()
    };
    assert_eq!(put().await, 429, "the one unopened reservation is held");
    // Never opened, it lapses; the client may reserve again.
    let deadline = Instant::now() + PATIENCE;
    while put().await != 201 {
        assert!(
            Instant::now() < deadline,
            "the lapsed reservation never gave its room back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn distinct_connections_mode_is_unchanged_beside_it() {
    let server = Server::start().await;
    let client = client_of(&server);
    let (_token, _events) = client.stream().await;
    let response = client.distinct("subscription { count }").await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("the whole stream");
    let events: String = text
        .split_inclusive("\n\n")
        .filter(|block| *block != ":\n\n")
        .collect();
    assert_eq!(
        events,
        "event: next\ndata: {\"data\":{\"count\":1}}\n\n\
         event: next\ndata: {\"data\":{\"count\":2}}\n\n\
         event: next\ndata: {\"data\":{\"count\":3}}\n\n\
         event: complete\ndata:\n\n"
    );
}

// ---------------------------------------------------------------------------------------------
// the real gateway
// ---------------------------------------------------------------------------------------------

/// `seam_active_subscriptions` from `/metrics`.
async fn active_subscriptions(gateway: &subscriptions_support::Gateway) -> u64 {
    common::metric_series(&gateway.client, &gateway.base, "seam_active_subscriptions")
        .await
        .and_then(|value| value.parse::<f64>().ok())
        .map(|value| value as u64)
        .expect("seam_active_subscriptions in /metrics")
}

async fn wait_for_subscriptions(gateway: &subscriptions_support::Gateway, wanted: u64) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let active = active_subscriptions(gateway).await;
        if active == wanted {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{active} active subscriptions, waiting for {wanted}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_gateway_streams_reviews_and_queries_on_one_stream_and_releases_them() {
    let bridge: seam::bridge::SharedBridge = Arc::new(seam::bridge::memory::MemoryBridge::new());
    let yaml = subscriptions_support::demo_subgraphs(bridge.clone()).await;
    let gateway =
        subscriptions_support::Gateway::start(&subscriptions_support::config(&yaml), Some(bridge))
            .await;
    let client = Client::of(gateway.url());
    let (token, mut events) = client.stream().await;

    let response = client
        .post(
            &token,
            json!({
                "query": subscriptions_support::REVIEW_ADDED,
                "variables": { "upc": "3" },
                "extensions": { "operationId": "reviews" },
            }),
        )
        .await;
    assert_eq!(response.status(), 202);
    wait_for_subscriptions(&gateway, 1).await;

    // The subscription is live once the bridge delivers: add reviews until one arrives.
    let deadline = Instant::now() + Duration::from_secs(30);
    let event = loop {
        assert!(Instant::now() < deadline, "no review reached the stream");
        gateway.add_review(3, 7, "first on one stream").await;
        if let Some(event) = events.next_within(Duration::from_millis(300)).await {
            break event;
        }
    };
    assert_eq!(
        event,
        next(
            "reviews",
            subscriptions_support::expected_review(3, 7, "first on one stream")
        )
    );

    // A query on the same stream, while the subscription runs.
    let response = client
        .run(&token, "top", "{ topProducts(first: 1) { upc price } }")
        .await;
    assert_eq!(response.status(), 202);
    let mut seen = Vec::new();
    while !seen.contains(&complete("top")) {
        seen.push(events.next().await);
    }
    assert!(
        seen.contains(&next(
            "top",
            json!({ "data": { "topProducts": [{ "upc": "1", "price": 8018 }] } })
        )),
        "{seen:?}"
    );

    // Request errors come back on the POST with the pipeline's code.
    let response = client
        .run(&token, "bad", "subscription { noSuchField }")
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(error_code(response).await, "GRAPHQL_VALIDATION_FAILED");

    // The client leaves: its subscription ends at the gateway.
    drop(events);
    wait_for_subscriptions(&gateway, 0).await;
}

#[tokio::test]
async fn with_authentication_a_stream_serves_only_the_principal_that_reserved_it() {
    let bridge: seam::bridge::SharedBridge = Arc::new(seam::bridge::memory::MemoryBridge::new());
    let mut yaml = subscriptions_support::demo_subgraphs(bridge.clone()).await;
    yaml.push_str(&format!(
        "auth:\n  jwt:\n    secrets:\n      - secret: {}\n    issuers: [{}]\n    audiences: [{}]\n",
        auth_support::HS_SECRET,
        auth_support::ISSUER,
        auth_support::AUDIENCE
    ));
    let gateway =
        subscriptions_support::Gateway::start(&subscriptions_support::config(&yaml), Some(bridge))
            .await;
    let url = gateway.url();
    let http = reqwest::Client::new();
    let user = |sub: &str| auth_support::bearer("hs", json!({ "sub": sub }));

    let response = http
        .put(&url)
        .header("authorization", "Bearer not-a-token")
        .send()
        .await
        .expect("reachable");
    assert_eq!(response.status(), 401);
    assert_eq!(error_code(response).await, "UNAUTHENTICATED");

    let token = http
        .put(&url)
        .header("authorization", user("ada"))
        .send()
        .await
        .expect("reachable")
        .text()
        .await
        .expect("a token");
    let mut events = Events::of(Client::of(url.clone()).open(&token).await);
    let run = |authorization: Option<String>, id: &'static str| {
        let mut request = http.post(&url).header(TOKEN_HEADER, &token).json(&json!({
            "query": "{ topProducts(first: 1) { upc } }",
            "extensions": { "operationId": id },
        }));
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        request.send()
    };

    for (authorization, id) in [(Some(user("bob")), "bob"), (None, "anonymous")] {
        let response = run(authorization, id).await.expect("reachable");
        assert_eq!(response.status(), 403, "{id}");
        assert_eq!(error_code(response).await, "STREAM_FORBIDDEN");
    }
    let response = run(Some("Bearer not-a-token".into()), "bad")
        .await
        .expect("reachable");
    assert_eq!(response.status(), 401);
    let response = http
        .delete(format!("{url}?operationId=x"))
        .header(TOKEN_HEADER, &token)
        .header("authorization", user("bob"))
        .send()
        .await
        .expect("reachable");
    assert_eq!(response.status(), 403);

    // A fresh token of the same principal (issued at another time) uses the stream.
    let fresh = auth_support::bearer(
        "hs",
        json!({ "sub": "ada", "iat": auth_support::now() - 60, "jti": "another" }),
    );
    let response = run(Some(fresh), "ada").await.expect("reachable");
    assert_eq!(response.status(), 202);
    assert_eq!(
        events.next().await,
        next(
            "ada",
            json!({ "data": { "topProducts": [{ "upc": "1" }] } })
        )
    );
    assert_eq!(events.next().await, complete("ada"));
}
