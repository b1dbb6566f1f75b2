//! Content coding at the edge (`compression:`), over real HTTP to a Seam in front of a real
//! subgraph: responses coded with each coding a client may prefer and decoded back to the same
//! bytes, the client's preference and `q=0` honoured, small responses and streams (SSE,
//! multipart, the WebSocket handshake) left alone, and compressed request bodies decoded, with
//! the body limit counted after decoding and unknown codings refused in the GraphQL shape.

mod edge_support;

use std::io::{Read, Write};
use std::time::Duration;

use edge_support::Edge;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// A query whose answer (~2.5 KB) is above the default 1 KiB threshold, all of it from the
/// subgraph: 120 aliases of `hello`.
fn large_query() -> String {
    let fields: Vec<String> = (0..120).map(|i| format!("a{i}: hello")).collect();
    format!("{{ {} }}", fields.join(" "))
}

fn body_of(query: &str) -> String {
    json!({ "query": query }).to_string()
}

/// POSTs `body` as JSON with `headers`; the status, headers and raw (still coded) body.
async fn post_raw(
    edge: &Edge,
    headers: &[(&str, &str)],
    body: impl Into<reqwest::Body>,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut request = reqwest::Client::new()
        .post(&edge.url)
        .header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.body(body).send().await.expect("gateway reachable");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("body").to_vec();
    (status, headers, bytes)
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).map(|v| v.to_str().expect("ASCII header"))
}

fn decode(coding: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "gzip" => flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .expect("gzip body"),
        "deflate" => flate2::read::ZlibDecoder::new(bytes)
            .read_to_end(&mut out)
            .expect("deflate (zlib) body"),
        "br" => brotli::Decompressor::new(bytes, 4096)
            .read_to_end(&mut out)
            .expect("brotli body"),
        "zstd" => zstd::stream::read::Decoder::new(bytes)
            .expect("zstd decoder")
            .read_to_end(&mut out)
            .expect("zstd body"),
        other => panic!("no decoder for {other}"),
    };
    out
}

fn encode(coding: &str, bytes: &[u8]) -> Vec<u8> {
    match coding {
        "gzip" => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(bytes).expect("gzip");
            encoder.finish().expect("gzip")
        }
        "deflate" => {
            let mut encoder =
                flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(bytes).expect("deflate");
            encoder.finish().expect("deflate")
        }
        "br" => {
            let mut out = Vec::new();
            {
                let mut encoder = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
                encoder.write_all(bytes).expect("brotli");
            }
            out
        }
        "zstd" => zstd::stream::encode_all(bytes, 3).expect("zstd"),
        other => panic!("no encoder for {other}"),
    }
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

fn varies_on_accept_encoding(headers: &HeaderMap) -> bool {
    headers.get_all("vary").iter().any(|v| {
        v.to_str()
            .unwrap_or("")
            .to_ascii_lowercase()
            .contains("accept-encoding")
    })
}

// ---------------------------------------------------------------------------------------------
// Responses

#[tokio::test]
async fn each_coding_a_client_accepts_codes_the_same_response() {
    let edge = Edge::start("").await;
    let body = body_of(&large_query());
    let (status, headers, plain) = post_raw(&edge, &[], body.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-encoding"), None, "not asked for");
    let answer = json_of(&plain);
    assert_eq!(answer["data"]["a119"], "world", "{answer}");
    assert!(plain.len() > 1024, "the answer is above the threshold");

    for coding in ["gzip", "br", "zstd", "deflate"] {
        let (status, headers, coded) =
            post_raw(&edge, &[("accept-encoding", coding)], body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{coding}");
        assert_eq!(header(&headers, "content-encoding"), Some(coding));
        assert!(varies_on_accept_encoding(&headers), "{coding}: {headers:?}");
        assert!(
            coded.len() < plain.len() / 2,
            "{coding}: {} coded bytes for {} plain ones",
            coded.len(),
            plain.len()
        );
        assert_eq!(
            decode(coding, &coded),
            plain,
            "{coding} decodes to the same bytes"
        );
    }
}

#[tokio::test]
async fn the_clients_preference_and_refusals_decide_the_coding() {
    let edge = Edge::start("").await;
    let body = body_of(&large_query());
    let cases: [(&str, Option<&str>); 9] = [
        ("gzip, deflate, br, zstd", Some("zstd")),
        ("gzip;q=1.0, br;q=0.5", Some("gzip")),
        ("br;q=0, gzip", Some("gzip")),
        ("deflate;q=0.2, zstd;q=0.1", Some("deflate")),
        ("GZIP", Some("gzip")),
        ("gzip;q=0", None),
        ("identity", None),
        ("compress, x-unknown", None),
        ("", None),
    ];
    for (accept, expected) in cases {
        let (status, headers, bytes) =
            post_raw(&edge, &[("accept-encoding", accept)], body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{accept}");
        assert_eq!(header(&headers, "content-encoding"), expected, "{accept:?}");
        let plain = match expected {
            Some(coding) => decode(coding, &bytes),
            None => bytes,
        };
        assert_eq!(json_of(&plain)["data"]["a0"], "world", "{accept:?}");
    }
}

#[tokio::test]
async fn small_responses_go_out_as_they_are_unless_the_threshold_is_lowered() {
    let edge = Edge::start("").await;
    let (_, headers, bytes) =
        post_raw(&edge, &[("accept-encoding", "gzip")], body_of("{ hello }")).await;
    assert_eq!(header(&headers, "content-encoding"), None);
    assert_eq!(json_of(&bytes), json!({ "data": { "hello": "world" } }));
    // A larger answer from the same URL would be coded: caches must still key on the coding.
    assert!(varies_on_accept_encoding(&headers), "{headers:?}");
    let naming = headers
        .get_all("vary")
        .iter()
        .filter(|v| v.to_str().unwrap_or("").contains("accept-encoding"))
        .count();
    assert_eq!(naming, 1, "named once: {headers:?}");

    let edge = Edge::start("compression:\n  min_response_bytes: 16\n").await;
    let (_, headers, bytes) =
        post_raw(&edge, &[("accept-encoding", "gzip")], body_of("{ hello }")).await;
    assert_eq!(header(&headers, "content-encoding"), Some("gzip"));
    assert_eq!(
        json_of(&decode("gzip", &bytes)),
        json!({ "data": { "hello": "world" } })
    );
}

#[tokio::test]
async fn refusals_are_coded_like_answers() {
    // A request error answer above the threshold: a document naming 120 unknown fields.
    let edge = Edge::start("compression:\n  min_response_bytes: 64\n").await;
    let fields: Vec<String> = (0..120).map(|i| format!("missing{i}")).collect();
    let query = format!("{{ {} }}", fields.join(" "));
    let (status, headers, bytes) =
        post_raw(&edge, &[("accept-encoding", "br")], body_of(&query)).await;
    assert_eq!(status, StatusCode::OK, "legacy application/json: 200");
    assert_eq!(header(&headers, "content-encoding"), Some("br"));
    let answer = json_of(&decode("br", &bytes));
    assert_eq!(code(&answer), "GRAPHQL_VALIDATION_FAILED", "{answer}");
    assert!(edge.calls().is_empty(), "nothing ran: {:?}", edge.calls());
}

#[tokio::test]
async fn responses_off_sends_every_response_as_it_is() {
    let edge = Edge::start("compression:\n  responses: false\n").await;
    let (status, headers, bytes) = post_raw(
        &edge,
        &[("accept-encoding", "gzip, br, zstd")],
        body_of(&large_query()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-encoding"), None);
    assert_eq!(json_of(&bytes)["data"]["a1"], "world");
}

/// Reads `response` until its text holds `marker`, within a generous deadline.
async fn read_until(response: &mut reqwest::Response, marker: &str) -> String {
    let mut seen = String::new();
    let read = async {
        while !seen.contains(marker) {
            match response.chunk().await.expect("stream readable") {
                Some(chunk) => seen.push_str(&String::from_utf8_lossy(&chunk)),
                None => panic!("the stream ended before {marker:?}: {seen:?}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .unwrap_or_else(|_| panic!("no {marker:?} within 60 s"));
    seen
}

#[tokio::test]
async fn event_streams_are_never_coded_and_deliver_each_event_at_once() {
    // The threshold at 0 would code anything coded at all.
    let edge = Edge::start("compression:\n  min_response_bytes: 0\n").await;
    let accepts = [
        "text/event-stream",
        "multipart/mixed;subscriptionSpec=\"1.0\", application/json",
    ];
    for (n, accept) in accepts.into_iter().enumerate() {
        let mut response = reqwest::Client::new()
            .post(&edge.url)
            .header("content-type", "application/json")
            .header("accept", accept)
            .header("accept-encoding", "gzip, br, zstd, deflate")
            .body(body_of("subscription { noted }"))
            .send()
            .await
            .expect("gateway reachable");
        assert_eq!(response.status(), StatusCode::OK, "{accept}");
        assert_eq!(
            header(response.headers(), "content-encoding"),
            None,
            "{accept}"
        );
        edge.wait_for_subscribers(n + 1).await;
        // One event, and no other behind it to push it out of a compressor's buffer.
        let note = format!("note-{n}");
        edge.announce(&note);
        let seen = read_until(&mut response, &note).await;
        assert!(seen.contains(&format!("\"noted\":\"{note}\"")), "{seen}");
    }
}

#[tokio::test]
async fn a_websocket_handshake_that_accepts_codings_still_upgrades() {
    let edge = Edge::start("compression:\n  min_response_bytes: 0\n").await;
    let mut request = format!("ws://{}/graphql", edge.addr)
        .into_client_request()
        .expect("ws request");
    let headers = request.headers_mut();
    headers.insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    headers.insert(
        "accept-encoding",
        "gzip, deflate, br, zstd".parse().unwrap(),
    );
    let (mut socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the handshake succeeds");
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    assert!(response.headers().get("content-encoding").is_none());
    use futures::{SinkExt, StreamExt};
    socket
        .send(Message::text(r#"{"type":"connection_init"}"#))
        .await
        .expect("send init");
    let reply = tokio::time::timeout(Duration::from_secs(60), socket.next())
        .await
        .expect("an answer within 60 s")
        .expect("the socket is open")
        .expect("a message");
    assert_eq!(
        reply.into_text().expect("text").as_str(),
        r#"{"type":"connection_ack"}"#
    );
}

// ---------------------------------------------------------------------------------------------
// Request bodies

#[tokio::test]
async fn compressed_request_bodies_are_decoded_and_run() {
    let edge = Edge::start("").await;
    let body = body_of("{ hello }");
    for coding in ["gzip", "br", "zstd", "deflate"] {
        let (status, _, bytes) = post_raw(
            &edge,
            &[("content-encoding", coding)],
            encode(coding, body.as_bytes()),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{coding}");
        assert_eq!(
            json_of(&bytes),
            json!({ "data": { "hello": "world" } }),
            "{coding}"
        );
    }
    // Codings are case-insensitive (RFC 9110), and blanks around one are no part of it.
    for coding in ["GZIP", "Br", " zstd ", "Deflate"] {
        let plain = coding.trim().to_ascii_lowercase();
        let (status, _, bytes) = post_raw(
            &edge,
            &[("content-encoding", coding)],
            encode(&plain, body.as_bytes()),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{coding:?}");
        assert_eq!(json_of(&bytes), json!({ "data": { "hello": "world" } }));
    }
    for identity in ["identity", "IDENTITY", ""] {
        let (status, _, bytes) =
            post_raw(&edge, &[("content-encoding", identity)], body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{identity:?}");
        assert_eq!(json_of(&bytes), json!({ "data": { "hello": "world" } }));
    }
    assert_eq!(edge.calls().len(), 11, "{:?}", edge.calls());
}

#[tokio::test]
async fn the_body_limit_counts_decoded_bytes() {
    let edge = Edge::start("limits:\n  max_body_bytes: 4096\n").await;
    // 1 MB of JSON whitespace codes to about a kilobyte: under the limit coded, far over it
    // decoded.
    let mut body = "{\"query\":\"{ hello }\"".to_owned();
    body.push_str(&" ".repeat(1024 * 1024));
    body.push('}');
    for coding in ["gzip", "br", "zstd", "deflate"] {
        let coded = encode(coding, body.as_bytes());
        assert!(coded.len() < 4096, "{coding}: {} coded bytes", coded.len());
        let (status, _, bytes) = post_raw(&edge, &[("content-encoding", coding)], coded).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{coding}");
        let answer = json_of(&bytes);
        assert_eq!(code(&answer), "PAYLOAD_TOO_LARGE", "{coding}: {answer}");
    }
    assert!(edge.calls().is_empty(), "nothing ran: {:?}", edge.calls());
}

#[tokio::test]
async fn a_corrupt_coded_body_is_a_bad_request_in_the_graphql_shape() {
    let edge = Edge::start("").await;
    let garbage: Vec<u8> = (0..2000u32).map(|i| (i * 7919 % 251) as u8).collect();
    for coding in ["gzip", "br", "zstd", "deflate"] {
        let (status, headers, bytes) =
            post_raw(&edge, &[("content-encoding", coding)], garbage.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{coding}");
        assert!(
            header(&headers, "content-type").is_some_and(|t| t.starts_with("application/json")),
            "{coding}: {headers:?}"
        );
        let answer = json_of(&bytes);
        assert_eq!(code(&answer), "BAD_REQUEST", "{coding}: {answer}");
    }
    assert!(edge.calls().is_empty(), "nothing ran: {:?}", edge.calls());
}

#[tokio::test]
async fn unknown_or_stacked_codings_are_refused_in_the_graphql_shape() {
    let edge = Edge::start("").await;
    let body = body_of("{ hello }");
    for coding in ["compress", "gzip, br", "x-custom"] {
        let (status, headers, bytes) =
            post_raw(&edge, &[("content-encoding", coding)], body.clone()).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{coding}");
        assert_eq!(
            header(&headers, "accept-encoding"),
            Some("gzip, br, zstd, deflate, identity"),
            "{coding}"
        );
        let answer = json_of(&bytes);
        assert_eq!(
            code(&answer),
            "UNSUPPORTED_MEDIA_TYPE",
            "{coding}: {answer}"
        );
        let message = answer["errors"][0]["message"].as_str().unwrap_or("");
        assert!(message.contains(coding), "{message}");
    }
    assert!(edge.calls().is_empty(), "nothing ran: {:?}", edge.calls());
}

#[tokio::test]
async fn with_request_decoding_off_a_coded_body_is_refused() {
    let edge = Edge::start("compression:\n  requests: false\n").await;
    let body = body_of("{ hello }");
    let (status, headers, bytes) = post_raw(
        &edge,
        &[("content-encoding", "gzip")],
        encode("gzip", body.as_bytes()),
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(header(&headers, "accept-encoding"), Some("identity"));
    assert_eq!(code(&json_of(&bytes)), "UNSUPPORTED_MEDIA_TYPE");
    // A plain body still runs.
    let (status, _, bytes) = post_raw(&edge, &[], body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json_of(&bytes), json!({ "data": { "hello": "world" } }));
    assert_eq!(edge.calls(), ["hello"]);
}
