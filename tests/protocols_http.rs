//! Streaming over plain HTTP on `/graphql`: GraphQL over SSE (distinct connections mode) and
//! Apollo's multipart subscriptions, read chunk by chunk with a real HTTP client.

mod common;
mod protocols_support;

use std::time::Duration;

use protocols_support::{Server, PATIENCE};
use serde_json::{json, Value};

const MULTIPART_ACCEPT: &str = "multipart/mixed;subscriptionSpec=\"1.0\", application/json";
/// What opens a part's headers, after the delimiter that ends the previous part.
const PART_HEAD: &str = "\r\ncontent-type: application/json\r\n\r\n";
/// The delimiter Apollo Client splits the body on.
const DELIMITER: &str = "\r\n--graphql";

/// A multipart body read the way Apollo Client reads it: split on the delimiter, each complete
/// part's JSON; and whether the body was closed (`--graphql--`).
fn apollo_parts(text: &str) -> (Vec<String>, bool) {
    let mut pieces: Vec<&str> = text.split(DELIMITER).collect();
    assert_eq!(
        pieces.first(),
        Some(&""),
        "the body opens with the delimiter: {text:?}"
    );
    // What follows the last delimiter: the closing `--`, or a part still on its way.
    let rest = pieces.pop().unwrap_or_default();
    let closed = rest == "--\r\n";
    let parts = pieces[1..]
        .iter()
        .map(|piece| {
            piece
                .strip_prefix(PART_HEAD)
                .unwrap_or_else(|| panic!("a part without its header: {piece:?} in {text:?}"))
                .to_owned()
        })
        .collect();
    (parts, closed)
}

/// Reads the body until it contains `needle`; returns everything read so far.
async fn read_until(response: &mut reqwest::Response, seen: &mut String, needle: &str) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !seen.contains(needle) {
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .unwrap_or_else(|_| panic!("never saw {needle:?}; got {seen:?}"))
            .expect("body readable")
            .unwrap_or_else(|| panic!("the body ended before {needle:?}; got {seen:?}"));
        seen.push_str(std::str::from_utf8(&chunk).expect("UTF-8 body"));
    }
}

/// The whole rest of the body.
async fn read_to_end(response: &mut reqwest::Response, seen: &mut String) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .expect("the body never ended")
            .expect("body readable");
        match chunk {
            Some(chunk) => seen.push_str(std::str::from_utf8(&chunk).expect("UTF-8 body")),
            None => return,
        }
    }
}

fn content_type(response: &reqwest::Response) -> &str {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The SSE events of a complete body, each with its terminating blank line, bar keep-alive
/// comments (which come on their own clock). Asserts every event is terminated.
fn sse_events(text: &str) -> Vec<String> {
    assert!(text.ends_with("\n\n"), "unterminated event in {text:?}");
    text.split_inclusive("\n\n")
        .filter(|event| *event != ":\n\n")
        .map(str::to_owned)
        .collect()
}

async fn post(server: &Server, accept: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.http_url())
        .header("accept", accept)
        .json(&body)
        .send()
        .await
        .expect("server reachable")
}

// ---------------------------------------------------------------------------------------------
// SSE
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn sse_subscription_streams_next_events_then_complete() {
    let server = Server::start().await;
    let mut response = post(
        &server,
        "text/event-stream",
        json!({ "query": "subscription { live }" }),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).starts_with("text/event-stream"));
    assert_eq!(
        response
            .headers()
            .get("cache-control")
            .map(|v| v.as_bytes()),
        Some(&b"no-cache"[..])
    );
    let feed = server.service.feed(0).await;
    feed.push(r#"{"data":{"live":1}}"#).await;
    feed.push(r#"{"data":{"live":2}}"#).await;
    let mut seen = String::new();
    read_until(&mut response, &mut seen, r#"{"data":{"live":2}}"#).await;
    feed.end();
    read_to_end(&mut response, &mut seen).await;
    assert_eq!(
        sse_events(&seen),
        [
            "event: next\ndata: {\"data\":{\"live\":1}}\n\n",
            "event: next\ndata: {\"data\":{\"live\":2}}\n\n",
            "event: complete\ndata:\n\n",
        ]
    );
}

#[tokio::test]
async fn sse_idle_stream_gets_keep_alive_comments() {
    let server = Server::start().await;
    let mut response = post(
        &server,
        "text/event-stream",
        json!({ "query": "subscription { live }" }),
    )
    .await;
    let feed = server.service.feed(0).await;
    let mut seen = String::new();
    read_until(&mut response, &mut seen, ":\n\n:\n\n").await;
    assert_eq!(seen.replace(":\n\n", ""), "", "only keep-alives while idle");
    feed.push(r#"{"data":{"live":1}}"#).await;
    read_until(&mut response, &mut seen, "event: next").await;
}

#[tokio::test]
async fn sse_query_over_get_is_one_next_then_complete() {
    let server = Server::start().await;
    let mut response = reqwest::Client::new()
        .get(server.http_url())
        .header("apollo-require-preflight", "true")
        .query(&[("query", "{ hello }")])
        .header("accept", "text/event-stream")
        .send()
        .await
        .expect("server reachable");
    assert_eq!(response.status(), 200);
    let mut seen = String::new();
    read_to_end(&mut response, &mut seen).await;
    assert_eq!(
        seen,
        "event: next\ndata: {\"data\":{\"hello\":\"world\"}}\n\nevent: complete\ndata:\n\n"
    );
}

#[tokio::test]
async fn sse_subscription_over_get_streams_too() {
    let server = Server::start().await;
    let mut response = reqwest::Client::new()
        .get(server.http_url())
        .header("apollo-require-preflight", "true")
        .query(&[("query", "subscription { count }")])
        .header("accept", "text/event-stream")
        .send()
        .await
        .expect("server reachable");
    let mut seen = String::new();
    read_to_end(&mut response, &mut seen).await;
    assert_eq!(
        sse_events(&seen),
        [
            "event: next\ndata: {\"data\":{\"count\":1}}\n\n",
            "event: next\ndata: {\"data\":{\"count\":2}}\n\n",
            "event: next\ndata: {\"data\":{\"count\":3}}\n\n",
            "event: complete\ndata:\n\n",
        ]
    );
}

/// graphql-sse's distinct-connections mode: errors found before execution are `next` events on
/// an accepted stream (a 400 fails an `EventSource`, and graphql-sse's client retries it without
/// ever showing the errors). A client that accepts JSON as much gets them as JSON.
#[tokio::test]
async fn sse_request_errors_are_next_events_on_an_accepted_stream() {
    let server = Server::start().await;
    for query in ["subscription { broken }", "{ nothingHere }"] {
        let mut response = post(&server, "text/event-stream", json!({ "query": query })).await;
        assert_eq!(response.status(), 200, "{query}");
        assert!(
            content_type(&response).starts_with("text/event-stream"),
            "{query}"
        );
        let mut seen = String::new();
        read_to_end(&mut response, &mut seen).await;
        let events = sse_events(&seen);
        assert_eq!(events.len(), 2, "{query}: {seen:?}");
        let next: Value = events[0]
            .strip_prefix("event: next\ndata: ")
            .and_then(|data| serde_json::from_str(data.trim_end()).ok())
            .unwrap_or_else(|| panic!("{query}: not a next event: {seen:?}"));
        assert!(next.get("data").is_none(), "{query}: {next}");
        assert!(
            next["errors"][0]["extensions"]["code"].is_string(),
            "{query}: {next}"
        );
        assert_eq!(events[1], "event: complete\ndata:\n\n", "{query}");
    }

    let response = post(
        &server,
        "text/event-stream, application/graphql-response+json",
        json!({ "query": "subscription { broken }" }),
    )
    .await;
    assert_eq!(response.status(), 400);
    assert!(content_type(&response).starts_with("application/graphql-response+json"));

    let response = reqwest::Client::new()
        .get(server.http_url())
        .header("apollo-require-preflight", "true")
        .query(&[("query", "mutation { hello }")])
        .header("accept", "text/event-stream")
        .send()
        .await
        .expect("server reachable");
    assert_eq!(response.status(), 405);
}

#[tokio::test]
async fn sse_client_leaving_drops_the_stream() {
    let server = Server::start().await;
    let response = post(
        &server,
        "text/event-stream",
        json!({ "query": "subscription { live }" }),
    )
    .await;
    let feed = server.service.feed(0).await;
    assert!(!feed.is_dropped());
    drop(response);
    // Noticed at the next write at the latest: a keep-alive 150 ms later.
    feed.dropped().await;
}

// ---------------------------------------------------------------------------------------------
// multipart
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn multipart_subscription_streams_payload_parts_then_the_end() {
    let server = Server::start().await;
    let mut response = post(
        &server,
        MULTIPART_ACCEPT,
        json!({ "query": "subscription { live }" }),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        content_type(&response),
        "multipart/mixed;boundary=\"graphql\";subscriptionSpec=\"1.0\""
    );
    let feed = server.service.feed(0).await;
    feed.push(r#"{"data":{"live":1}}"#).await;
    feed.push(r#"{"data":{"live":2},"errors":[{"message":"partly"}]}"#)
        .await;
    let mut seen = String::new();
    read_until(&mut response, &mut seen, "partly").await;
    feed.end();
    read_to_end(&mut response, &mut seen).await;
    let (parts, closed) = apollo_parts(&seen);
    let parts: Vec<String> = parts.into_iter().filter(|p| p != "{}").collect();
    assert_eq!(
        parts,
        [
            r#"{"payload":{"data":{"live":1}}}"#,
            r#"{"payload":{"data":{"live":2},"errors":[{"message":"partly"}]}}"#,
        ]
    );
    assert!(closed, "{seen:?}");
    assert!(seen.ends_with("\r\n--graphql--\r\n"), "{seen:?}");
}

/// Apollo Client handles a part when it sees the delimiter after it: each part must come with
/// that delimiter, not wait for the next event or heartbeat (here ten minutes away).
#[tokio::test]
async fn multipart_part_is_readable_before_the_next_one_arrives() {
    let settings = seam::http::ProtocolSettings {
        multipart_heartbeat: Duration::from_secs(600),
        ..protocols_support::quick_settings()
    };
    let server = Server::start_with(settings).await;
    let mut response = post(
        &server,
        MULTIPART_ACCEPT,
        json!({ "query": "subscription { live }" }),
    )
    .await;
    let feed = server.service.feed(0).await;
    feed.push(r#"{"data":{"live":1}}"#).await;
    let mut seen = String::new();
    read_until(
        &mut response,
        &mut seen,
        &format!("{PART_HEAD}{{\"payload\":{{\"data\":{{\"live\":1}}}}}}{DELIMITER}"),
    )
    .await;
    let (parts, closed) = apollo_parts(&seen);
    assert_eq!(parts, [r#"{"payload":{"data":{"live":1}}}"#]);
    assert!(!closed);
}

#[tokio::test]
async fn multipart_idle_stream_gets_empty_heartbeat_parts() {
    let server = Server::start().await;
    let mut response = post(
        &server,
        "multipart/mixed;boundary=\"graphql\";subscriptionSpec=1.0,application/json",
        json!({ "query": "subscription { live }" }),
    )
    .await;
    let _feed = server.service.feed(0).await;
    let heartbeat = format!("{PART_HEAD}{{}}{DELIMITER}");
    let twice = heartbeat.repeat(2);
    let mut seen = String::new();
    read_until(&mut response, &mut seen, &twice).await;
    let (parts, closed) = apollo_parts(&seen);
    assert!(
        parts.iter().all(|p| p == "{}"),
        "only heartbeats while idle: {seen:?}"
    );
    assert!(!closed);
}

#[tokio::test]
async fn multipart_finite_subscription_ends_the_body() {
    let server = Server::start().await;
    let mut response = post(
        &server,
        MULTIPART_ACCEPT,
        json!({ "query": "subscription { count }" }),
    )
    .await;
    let mut seen = String::new();
    read_to_end(&mut response, &mut seen).await;
    let (parts, closed) = apollo_parts(&seen);
    let parts: Vec<String> = parts.into_iter().filter(|p| p != "{}").collect();
    assert_eq!(
        parts,
        [
            "{\"payload\":{\"data\":{\"count\":1}}}",
            "{\"payload\":{\"data\":{\"count\":2}}}",
            "{\"payload\":{\"data\":{\"count\":3}}}",
        ]
    );
    assert!(closed, "{seen:?}");
}

/// A refused subscription is one JSON answer, with the status of the JSON type the client
/// accepts: 200 for `application/json` (Apollo Client 3 then reports the GraphQL errors), 400 for
/// `application/graphql-response+json`.
#[tokio::test]
async fn multipart_refused_subscription_is_a_json_answer() {
    let server = Server::start().await;
    for (accept, status, media) in [
        (MULTIPART_ACCEPT, 200, "application/json"),
        (
            "multipart/mixed;subscriptionSpec=\"1.0\", application/graphql-response+json",
            400,
            "application/graphql-response+json",
        ),
    ] {
        let response = post(
            &server,
            accept,
            json!({ "query": "subscription { broken }" }),
        )
        .await;
        assert_eq!(response.status(), status, "{accept}");
        assert!(content_type(&response).starts_with(media), "{accept}");
        let body: Value = response.json().await.expect("JSON body");
        assert!(body["errors"][0]["message"].is_string());
    }
}

/// Content negotiation reads weights: `q=0` refuses a type, and a client that lists JSON beside
/// the stream types (urql's default) gets one answer as JSON and subscriptions as a stream.
#[tokio::test]
async fn accept_weights_choose_between_json_and_streams() {
    let server = Server::start().await;
    const URQL: &str = "application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed";
    for (accept, media) in [
        (URQL, "application/graphql-response+json"),
        (
            "text/event-stream;q=0, application/json",
            "application/json",
        ),
        (
            "multipart/mixed;subscriptionSpec=\"1.0\";q=0, application/json",
            "application/json",
        ),
        (
            "application/graphql-response+json;q=0, application/json",
            "application/json",
        ),
        (
            "text/event-stream, application/json;q=0.5",
            "text/event-stream",
        ),
    ] {
        let response = post(&server, accept, json!({ "query": "{ hello }" })).await;
        assert_eq!(response.status(), 200, "{accept}");
        assert!(content_type(&response).starts_with(media), "{accept}");
    }
    // Refused, the graphql-response+json type is not answered with its 400s.
    let response = post(
        &server,
        "application/graphql-response+json;q=0, application/json",
        json!({ "query": "{ nothingHere }" }),
    )
    .await;
    assert_eq!(response.status(), 200);
    // urql's subscription streams, as SSE (its first stream type).
    let mut response = post(&server, URQL, json!({ "query": "subscription { count }" })).await;
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).starts_with("text/event-stream"));
    let mut seen = String::new();
    read_to_end(&mut response, &mut seen).await;
    assert_eq!(sse_events(&seen).len(), 4, "{seen:?}");
}

/// GraphQL over HTTP makes `extensions` a map: anything else is a malformed request.
#[tokio::test]
async fn extensions_that_are_not_a_map_are_refused() {
    let server = Server::start().await;
    for extensions in [json!("x"), json!(0), json!(false), json!([1])] {
        let response = post(
            &server,
            "application/json",
            json!({ "query": "{ hello }", "extensions": extensions }),
        )
        .await;
        assert_eq!(response.status(), 400, "{extensions}");
        let body: Value = response.json().await.expect("JSON body");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    }
    let response = reqwest::Client::new()
        .get(server.http_url())
        .header("apollo-require-preflight", "true")
        .query(&[("query", "{ hello }"), ("extensions", "\"x\"")])
        .send()
        .await
        .expect("server reachable");
    assert_eq!(response.status(), 400);
    let response = post(
        &server,
        "application/json",
        json!({ "query": "{ hello }", "extensions": null }),
    )
    .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn multipart_accept_on_a_query_gets_plain_json() {
    let server = Server::start().await;
    let response = post(&server, MULTIPART_ACCEPT, json!({ "query": "{ hello }" })).await;
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).starts_with("application/json"));
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(body, json!({ "data": { "hello": "world" } }));
}

#[tokio::test]
async fn multipart_client_leaving_drops_the_stream() {
    let server = Server::start().await;
    let response = post(
        &server,
        MULTIPART_ACCEPT,
        json!({ "query": "subscription { live }" }),
    )
    .await;
    let feed = server.service.feed(0).await;
    drop(response);
    feed.dropped().await;
}

#[tokio::test]
async fn a_slow_reader_holds_back_its_stream_instead_of_buffering() {
    let server = Server::start().await;
    let mut response = post(
        &server,
        "text/event-stream",
        json!({ "query": "subscription { live }" }),
    )
    .await;
    let feed = server.service.feed(0).await;
    // ~200 KB events while the client reads nothing: once the socket buffers and the feed's
    // 8-slot queue are full, pushing must block rather than pile up in the server.
    let big = format!(r#"{{"data":{{"live":"{}"}}}}"#, "x".repeat(200_000));
    let mut pushed = 0;
    let blocked = loop {
        match tokio::time::timeout(Duration::from_millis(500), feed.push(&big)).await {
            Ok(()) => pushed += 1,
            Err(_) => break true,
        }
        if pushed > 400 {
            break false;
        }
    };
    assert!(blocked, "80 MB went out to a client that read nothing");
    // Reading again lets the events through, in order and whole.
    let mut seen = String::new();
    read_until(&mut response, &mut seen, "event: next").await;
    assert!(seen.len() > 1000);
}

// ---------------------------------------------------------------------------------------------
// the real gateway
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn gateway_streams_a_query_over_sse_and_refuses_bad_subscriptions() {
    let gateway = common::TestGateway::demo().await;
    let client = reqwest::Client::new();
    let ask = |accept: &str, query: &str| {
        client
            .post(&gateway.url)
            .header("accept", accept)
            .json(&json!({ "query": query }))
            .send()
    };
    let mut response = ask(
        "text/event-stream",
        "{ topProducts(first: 1) { upc price } }",
    )
    .await
    .expect("gateway reachable");
    assert_eq!(response.status(), 200);
    let mut seen = String::new();
    read_to_end(&mut response, &mut seen).await;
    assert_eq!(
        seen,
        "event: next\ndata: {\"data\":{\"topProducts\":[{\"upc\":\"1\",\"price\":8018}]}}\n\n\
         event: complete\ndata:\n\n"
    );
    // A request error: over SSE, a `next` event with the errors on an accepted stream (as
    // graphql-sse asks); over multipart with `application/json`, one JSON answer with a 200.
    let mut response = ask("text/event-stream", "subscription { noSuchField }")
        .await
        .expect("gateway reachable");
    assert_eq!(response.status(), 200);
    let mut seen = String::new();
    read_to_end(&mut response, &mut seen).await;
    assert!(
        seen.starts_with("event: next\ndata: {\"errors\":[")
            && seen.contains("GRAPHQL_VALIDATION_FAILED"),
        "{seen:?}"
    );
    assert!(seen.ends_with("event: complete\ndata:\n\n"), "{seen:?}");
    let response = ask(MULTIPART_ACCEPT, "subscription { noSuchField }")
        .await
        .expect("gateway reachable");
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).starts_with("application/json"));
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{body}"
    );
}
