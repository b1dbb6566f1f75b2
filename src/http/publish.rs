//! `POST /bridge/publish`: puts an event on the bridge for services that cannot reach its
//! server (or run no Redis/NATS client). Off unless `bridge.publish_token` is set; callers
//! present the token as `Authorization: Bearer <token>`.
//!
//! The body is `{"topic": "...", "payload": <any JSON>}`; the payload's JSON text is published
//! exactly as sent. Answers: 202 published, 400 bad body or topic, 401 no or wrong token,
//! 404 endpoint off, 503 the bridge's server is unavailable. Errors are GraphQL-style error
//! bodies, like every other error of the gateway.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::bridge::BridgeError;
use crate::execute::shape::errors_body;
use crate::pipeline::Gateway;
use crate::response::GraphqlError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishRequest<'a> {
    #[serde(borrow)]
    topic: std::borrow::Cow<'a, str>,
    /// Kept as raw text: re-serializing would cost time and could reorder nothing useful.
    #[serde(borrow)]
    payload: &'a RawValue,
}

pub(super) async fn publish(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(expected) = gateway.publish_token() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !authorized(&headers, expected) {
        let mut response = error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "send the configured bridge.publish_token as `Authorization: Bearer <token>`".into(),
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    if !super::is_json_media_type(content_type, &["application/json"]) {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            format!("unsupported content type `{content_type}`: send application/json"),
        );
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                "the request body is larger than the gateway's limit (limits.max_body_bytes)"
                    .into(),
            )
        }
        Err(rejection) => {
            return error(
                rejection.status(),
                "BAD_REQUEST",
                format!(
                    "the request body could not be read: {}",
                    rejection.body_text()
                ),
            )
        }
    };
    // serde reads a struct from a JSON array too; only the documented object is accepted.
    let is_object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let request: Result<PublishRequest, String> = if is_object {
        serde_json::from_slice(&body).map_err(|e| e.to_string())
    } else {
        Err("the body is not a JSON object".to_owned())
    };
    let request = match request {
        Ok(request) => request,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                format!(
                    "the body must be a JSON object {{\"topic\": \"...\", \"payload\": <any JSON>}}: {e}"
                ),
            )
        }
    };
    let payload = Bytes::copy_from_slice(request.payload.get().as_bytes());
    match gateway.bridge().publish(&request.topic, payload).await {
        Ok(()) => (
            StatusCode::ACCEPTED,
            [(header::CONTENT_TYPE, "application/json")],
            "{\"published\":true}",
        )
            .into_response(),
        Err(e @ BridgeError::InvalidTopic { .. }) => {
            error(StatusCode::BAD_REQUEST, "BAD_REQUEST", e.to_string())
        }
        Err(e @ BridgeError::Unavailable { .. }) => {
            tracing::warn!(error = %e, topic = %request.topic, "publishing to the bridge failed");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "BRIDGE_UNAVAILABLE",
                e.client_message(),
            )
        }
    }
}

fn authorized(headers: &HeaderMap, expected: &str) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    constant_time_eq(given.trim().as_bytes(), expected.as_bytes())
}

/// Compares without stopping at the first difference, so response timing does not reveal how
/// much of a guessed token was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

fn error(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        errors_body(&[GraphqlError::new(message, code)]),
    )
        .into_response()
}
