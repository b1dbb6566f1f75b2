//! A subgraph whose answer exceeds the gateway's limit is cut off with an error at the client's
//! path; the rest of the response still comes back.

mod common;

use axum::body::{Body, Bytes};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use seam::traffic::MAX_SUBGRAPH_RESPONSE_BYTES;

const SMALL_SDL: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { ok: String }"#;
const HUGE_SDL: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { big: String }"#;

fn sdl_answer(sdl: &str) -> Json<Value> {
    Json(json!({ "data": { "_service": { "sdl": sdl } } }))
}

fn small() -> Router {
    Router::new().route(
        "/graphql",
        post(|Json(request): Json<Value>| async move {
            if request["query"]
                .as_str()
                .unwrap_or_default()
                .contains("_service")
            {
                sdl_answer(SMALL_SDL)
            } else {
                Json(json!({ "data": { "ok": "fine" } }))
            }
        }),
    )
}

/// Streams (no Content-Length) a string field one MiB at a time, past the limit.
fn huge() -> Router {
    Router::new().route(
        "/graphql",
        post(|Json(request): Json<Value>| async move {
            if request["query"]
                .as_str()
                .unwrap_or_default()
                .contains("_service")
            {
                return axum::response::IntoResponse::into_response(sdl_answer(HUGE_SDL));
            }
            let chunks = MAX_SUBGRAPH_RESPONSE_BYTES / (1 << 20) + 2;
            let stream = futures::stream::iter(
                std::iter::once(Bytes::from_static(b"{\"data\":{\"big\":\""))
                    .chain(std::iter::repeat_n(
                        Bytes::from(vec![b'x'; 1 << 20]),
                        chunks,
                    ))
                    .chain(std::iter::once(Bytes::from_static(b"\"}}")))
                    .map(Ok::<_, std::io::Error>),
            );
            axum::response::Response::builder()
                .header("content-type", "application/json")
                .body(Body::from_stream(stream))
                .unwrap_or_default()
        }),
    )
}

#[tokio::test]
async fn answer_over_the_limit_is_an_error_at_its_field() {
    let gw = common::TestGateway::compose(vec![("small", small()), ("huge", huge())]).await;
    let response = gw.query("{ ok big }").await;
    assert_eq!(
        response["data"],
        json!({ "ok": "fine", "big": null }),
        "{}",
        &response.to_string()[..500.min(response.to_string().len())]
    );
    let errors = response["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["path"], json!(["big"]));
    assert_eq!(
        errors[0]["extensions"]["code"],
        "SUBREQUEST_MALFORMED_RESPONSE"
    );
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("larger than"),
        "{}",
        errors[0]
    );
}
