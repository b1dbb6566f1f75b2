//! The overall request timeout, as a layer at the HTTP edge.
//!
//! It bounds the time until a response *begins*: a query or mutation is computed whole before
//! its response starts, so it is bounded whole, while an SSE or multipart stream and a WebSocket
//! upgrade answer at once and then live as long as their client, untouched by this timeout.
//! Dropping the late handler cancels its subgraph calls.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::execute::shape::errors_body;
use crate::response::GraphqlError;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// `axum::middleware::from_fn_with_state(timeout, request_timeout)`.
pub(crate) async fn request_timeout(
    State(timeout): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    let wants_graphql_response = super::accept::prefers_graphql_response_json(request.headers());
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => timed_out(timeout, wants_graphql_response),
    }
}

/// 504: the gateway gave up waiting on work it started (subgraphs, usually), as a proxy does.
fn timed_out(timeout: Duration, graphql_response: bool) -> Response {
    let message = format!(
        "the request took longer than the gateway's limit of {}",
        humantime::format_duration(timeout)
    );
    let body = errors_body(&[GraphqlError::new(message, "REQUEST_TIMEOUT")]);
    let content_type = if graphql_response {
        GRAPHQL_RESPONSE_JSON
    } else {
        "application/json"
    };
    let mut response = (StatusCode::GATEWAY_TIMEOUT, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
