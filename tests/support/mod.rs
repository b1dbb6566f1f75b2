//! Building blocks for test subgraphs: an async-graphql schema as a router, a subgraph that
//! misbehaves on purpose (after answering `_service { sdl }` honestly, so it composes), a
//! hand-written subgraph answering exact JSON, and a URL nothing listens on.
#![allow(dead_code)]

pub mod fixture;

use std::sync::Arc;
use std::time::Duration;

use async_graphql::{ObjectType, Schema, SubscriptionType};
use async_graphql_axum::GraphQL;
use axum::body::{Body, Bytes};
use axum::http::{header, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use tower::ServiceExt;

/// An async-graphql schema served at `/graphql`, the way the demo subgraphs are.
pub fn graphql_router<Q, M, S>(schema: Schema<Q, M, S>) -> Router
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    Router::new().route_service("/graphql", GraphQL::new(schema))
}

/// How a [`faulty`] subgraph answers everything but `_service`.
#[derive(Clone)]
pub enum Fault {
    /// Waits this long, then answers normally.
    Slow(Duration),
    /// HTTP 200 with a body that is not JSON.
    NotJson(&'static str),
    /// This status with a non-GraphQL body (as a proxy or a crashed server would).
    Status(StatusCode, &'static str),
    /// HTTP 200 with exactly this JSON, whatever was asked.
    Json(Value),
}

/// `inner` answers `_service` (so composition works); every other request meets `fault`.
pub fn faulty(inner: Router, fault: Fault) -> Router {
    let handler = move |body: Bytes| {
        let inner = inner.clone();
        let fault = fault.clone();
        async move {
            if !is_service_query(&body) {
                match fault {
                    Fault::Slow(delay) => tokio::time::sleep(delay).await,
                    Fault::NotJson(text) => return (StatusCode::OK, text).into_response(),
                    Fault::Status(status, text) => return (status, text).into_response(),
                    Fault::Json(value) => return json_response(&value),
                }
            }
            forward(inner, body).await
        }
    };
    Router::new().route("/graphql", post(handler))
}

/// A hand-written subgraph: `_service { sdl }` answers `sdl`; any other request's body is passed to
/// `respond`, whose JSON is the answer. For exact responses async-graphql would not produce.
pub fn scripted(sdl: &str, respond: impl Fn(&Value) -> Value + Send + Sync + 'static) -> Router {
    let sdl = sdl.to_owned();
    let respond = Arc::new(respond);
    let handler = move |body: Bytes| {
        let sdl = sdl.clone();
        let respond = respond.clone();
        async move {
            let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            if is_service_query(&body) {
                return json_response(&json!({ "data": { "_service": { "sdl": sdl } } }));
            }
            json_response(&respond(&request))
        }
    };
    Router::new().route("/graphql", post(handler))
}

/// The representations of an `_entities` request (empty for other requests).
pub fn representations(request: &Value) -> Vec<Value> {
    request["variables"]["representations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// An HTTP URL on 127.0.0.1 where nothing listens. The port stays bound, never listening, for
/// the rest of the test process: connections to it are refused, and no server another test
/// starts meanwhile can be given it (a released port can be, and would then answer instead).
pub async fn closed_port_url() -> String {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .expect("bind");
    let addr = socket.local_addr().expect("local addr");
    std::mem::forget(socket);
    format!("http://{addr}/graphql")
}

fn is_service_query(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["query"].as_str().map(|q| q.contains("_service")))
        .unwrap_or(false)
}

fn json_response(value: &Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

async fn forward(inner: Router, body: Bytes) -> Response {
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("request");
    match inner.oneshot(request).await {
        Ok(response) => response.into_response(),
        Err(never) => match never {},
    }
}
