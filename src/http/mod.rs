//! The HTTP edge: GraphQL over HTTP on `/graphql`, health and readiness, a GraphiQL page.
//!
//! Status codes follow the GraphQL-over-HTTP spec: with `application/graphql-response+json` a request
//! error is a 4xx; with legacy `application/json` every well-formed request gets 200.
//!
//! The same path streams: a WebSocket upgrade (`ws`), `Accept: text/event-stream` (`sse`) and
//! Apollo's `multipart/mixed;subscriptionSpec=1.0` (`multipart`).

mod cors;
mod csrf;
mod edge;
mod graphiql;
mod multipart;
mod publish;
pub mod service;
mod sse;
mod streaming;
mod websocket_origin;
mod ws;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use crate::execute::shape::errors_body;
use crate::gateway::{Gateway, GatewayResponse, GraphqlRequest, Outcome};
use crate::response::GraphqlError;
pub use edge::EdgeSettings;
use service::Endpoint;
pub use service::{ProtocolSettings, SubscriptionService};

/// Request bodies above this are refused before parsing.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

pub fn router(gateway: Arc<Gateway>) -> Router {
    router_with(
        gateway,
        ProtocolSettings::default(),
        &EdgeSettings::default(),
    )
}

/// [`router`] with the streaming protocols' timings and the browser-facing rules set.
pub fn router_with(
    gateway: Arc<Gateway>,
    settings: ProtocolSettings,
    edge: &EdgeSettings,
) -> Router {
    let probes = Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/bridge/publish", axum::routing::post(publish::publish))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(gateway.clone());
    graphql_router(gateway, settings, edge).merge(probes)
}

/// `/graphql` (and `/`) alone, over any [`SubscriptionService`]: every protocol Seam speaks
/// there, for the gateway or for a service a test scripts, inside the `edge` rules.
pub fn graphql_router<S: SubscriptionService>(
    service: Arc<S>,
    settings: ProtocolSettings,
    edge: &EdgeSettings,
) -> Router {
    let endpoint = Arc::new(Endpoint { service, settings });
    let routes = Router::new()
        .route("/graphql", get(graphql_get::<S>).post(graphql_post::<S>))
        .route("/", get(graphql_get::<S>).post(graphql_post::<S>))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(endpoint);
    edge.wrap(routes)
}

async fn health() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        "{\"status\":\"UP\"}",
    )
}

async fn ready(State(gateway): State<Arc<Gateway>>) -> Response {
    if gateway.is_ready() {
        (
            [(header::CONTENT_TYPE, "application/json")],
            "{\"status\":\"READY\"}",
        )
            .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "application/json")],
            "{\"status\":\"NOT_READY\"}",
        )
            .into_response()
    }
}

/// Which response media type the client gets.
#[derive(Clone, Copy, PartialEq, Eq)]
enum MediaType {
    GraphqlResponseJson,
    Json,
}

fn negotiate(headers: &HeaderMap) -> MediaType {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains(GRAPHQL_RESPONSE_JSON) {
        MediaType::GraphqlResponseJson
    } else {
        MediaType::Json
    }
}

fn respond(media: MediaType, outcome: Outcome, body: Vec<u8>) -> Response {
    let status = match (outcome, media) {
        (Outcome::Executed, _) => StatusCode::OK,
        (Outcome::MethodNotAllowed, _) => StatusCode::METHOD_NOT_ALLOWED,
        (Outcome::NotReady, _) => StatusCode::SERVICE_UNAVAILABLE,
        (Outcome::BadRequest, _) => StatusCode::BAD_REQUEST,
        (Outcome::RequestError, MediaType::GraphqlResponseJson) => StatusCode::BAD_REQUEST,
        (Outcome::RequestError, MediaType::Json) => StatusCode::OK,
    };
    let content_type = match media {
        MediaType::GraphqlResponseJson => GRAPHQL_RESPONSE_JSON,
        MediaType::Json => "application/json",
    };
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if outcome == Outcome::MethodNotAllowed {
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    response
}

fn bad_request(media: MediaType, message: String) -> Response {
    respond(
        media,
        Outcome::BadRequest,
        errors_body(&[GraphqlError::new(message, "BAD_REQUEST")]),
    )
}

/// A streaming request refused before its stream began: answered as JSON with the status the
/// GraphQL-over-HTTP spec gives request errors (a streaming client has no use for a 200 here).
fn stream_refusal(headers: &HeaderMap, refused: GatewayResponse) -> Response {
    let mut response = respond(
        MediaType::GraphqlResponseJson,
        refused.outcome,
        refused.body,
    );
    if negotiate(headers) == MediaType::Json {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    response
}

/// Streams the operation if the client asked for a stream it can have.
async fn stream_if_asked<S: SubscriptionService>(
    endpoint: &Endpoint<S>,
    headers: &HeaderMap,
    request: GraphqlRequest,
    via_get: bool,
) -> Result<Response, GraphqlRequest> {
    if sse::accepts(headers) {
        return Ok(sse::respond(endpoint, headers, request, via_get).await);
    }
    if multipart::accepts(headers) && endpoint.service.is_subscription(&request) {
        return Ok(multipart::respond(endpoint, headers, request).await);
    }
    Err(request)
}

/// An error-only body with an HTTP status of its own (the body was refused before it was read).
fn refuse(media: MediaType, status: StatusCode, message: String, code: &str) -> Response {
    let mut response = respond(
        media,
        Outcome::BadRequest,
        errors_body(&[GraphqlError::new(message, code)]),
    );
    *response.status_mut() = status;
    response
}

async fn graphql_post<S: SubscriptionService>(
    State(endpoint): State<Arc<Endpoint<S>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let media = negotiate(&headers);
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    if !content_type.starts_with("application/json")
        && !content_type.starts_with("application/graphql-response+json")
    {
        return refuse(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("unsupported content type `{content_type}`: send application/json"),
            "UNSUPPORTED_MEDIA_TYPE",
        );
    }
    let body = match body {
        Ok(body) => body,
        // Answered as GraphQL errors so clients can show them like any other.
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return refuse(
                media,
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body is larger than the limit of {MAX_BODY_BYTES} bytes"),
                "PAYLOAD_TOO_LARGE",
            )
        }
        Err(rejection) => {
            return refuse(
                media,
                rejection.status(),
                format!(
                    "the request body could not be read: {}",
                    rejection.body_text()
                ),
                "BAD_REQUEST",
            )
        }
    };
    // serde reads a struct from a JSON array too; a GraphQL request is an object (no batching).
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return bad_request(
            media,
            "the request body must be a JSON object: {\"query\": \"...\"}".into(),
        );
    }
    let request: GraphqlRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return bad_request(
                media,
                format!("the request body is not a valid GraphQL request: {e}"),
            )
        }
    };
    let request = match stream_if_asked(&endpoint, &headers, request, false).await {
        Ok(streamed) => return streamed,
        Err(request) => request,
    };
    let response = endpoint.service.execute(request, false).await;
    respond(media, response.outcome, response.body)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParams {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

async fn graphql_get<S: SubscriptionService>(
    State(endpoint): State<Arc<Endpoint<S>>>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    params: Result<Query<GetParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Ok(upgrade) = upgrade {
        return ws::upgrade(upgrade, endpoint);
    }
    let media = negotiate(&headers);
    let Ok(Query(params)) = params else {
        return bad_request(media, "the query string could not be read".into());
    };
    let variables = match params.variables.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some(text) => {
            match serde_json::from_str::<Option<serde_json::Map<String, serde_json::Value>>>(text) {
                Ok(v) => v,
                Err(e) => {
                    return bad_request(media, format!("`variables` is not a JSON object: {e}"))
                }
            }
        }
    };
    let extensions = match params.extensions.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some(text) => match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => return bad_request(media, format!("`extensions` is not JSON: {e}")),
        },
    };
    let request = GraphqlRequest {
        query: params.query,
        operation_name: params.operation_name,
        variables,
        extensions,
    };
    let request = match stream_if_asked(&endpoint, &headers, request, true).await {
        Ok(streamed) => return streamed,
        Err(request) => request,
    };
    let response = endpoint.service.execute(request, true).await;
    respond(media, response.outcome, response.body)
}
