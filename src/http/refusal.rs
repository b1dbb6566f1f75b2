//! A request refused at the edge, in the GraphQL response shape.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::execute::shape::errors_body;
use crate::response::GraphqlError;

/// A request refused at the edge, answered in the GraphQL response shape with the media type
/// the client asked for (GraphQL over HTTP).
pub(crate) fn refusal(
    request_headers: &HeaderMap,
    status: StatusCode,
    message: String,
    code: &str,
) -> Response {
    let content_type = if super::accept::prefers_graphql_response_json(request_headers) {
        "application/graphql-response+json"
    } else {
        "application/json"
    };
    let body = errors_body(&[GraphqlError::new(message, code)]);
    let mut response = (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response();
    super::telemetry::mark_refused(&mut response, code);
    response
}
