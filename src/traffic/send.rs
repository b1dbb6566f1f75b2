//! The innermost layer of the subgraph client: one HTTP POST and its answer, read within a size
//! cap and parsed into the response tree.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::future::BoxFuture;

use super::errors::{transport_error, FetchError, Timeout};
use super::{SubgraphEndpoint, SubgraphRequest, SubgraphResponse};
use crate::response::{GraphqlError, Value};

/// Subgraph answers larger than this are refused rather than buffered: a runaway subgraph must not
/// take the gateway's memory with it.
pub const MAX_SUBGRAPH_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// Sends requests to one subgraph over the gateway's shared, pooled client.
#[derive(Clone)]
pub(super) struct HttpCall {
    pub client: reqwest::Client,
    pub endpoint: Arc<SubgraphEndpoint>,
}

impl tower::Service<SubgraphRequest> for HttpCall {
    type Response = SubgraphResponse;
    type Error = FetchError;
    type Future = BoxFuture<'static, Result<SubgraphResponse, FetchError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), FetchError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: SubgraphRequest) -> Self::Future {
        let client = self.client.clone();
        let endpoint = self.endpoint.clone();
        Box::pin(async move { send(&client, &endpoint, request).await })
    }
}

async fn send(
    client: &reqwest::Client,
    endpoint: &SubgraphEndpoint,
    request: SubgraphRequest,
) -> Result<SubgraphResponse, FetchError> {
    let subgraph = endpoint.name.as_str();
    let Some(url) = &endpoint.parsed_url else {
        tracing::warn!(subgraph, url = %crate::telemetry::redact::loggable_url(&endpoint.url), "the subgraph URL is not a valid URL");
        return Err(FetchError::Transport {
            subgraph: subgraph.to_owned(),
            reason: "its URL is not valid",
        });
    };
    // The request's own deadline caps the subgraph's timeout: an answer after it is useless.
    let timeout = match request.context.remaining() {
        Some(left) if left < endpoint.timeout => Timeout {
            after: left,
            by_deadline: true,
        },
        _ => Timeout {
            after: endpoint.timeout,
            by_deadline: false,
        },
    };
    let mut headers = request.headers;
    crate::telemetry::propagation::inject(&mut headers, request.context.client_trace.as_ref());
    let response = client
        .post(url.clone())
        .headers(headers)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::ACCEPT, "application/json")
        .timeout(timeout.after)
        .body(request.body)
        .send()
        .await
        .map_err(|e| transport_error(subgraph, &endpoint.url, timeout, e))?;
    let status = response.status();
    let span = tracing::Span::current();
    span.record("http.response.status_code", i64::from(status.as_u16()));
    let bytes = read_limited(endpoint, timeout, response).await?;
    span.record("http.response.body.size", bytes.len() as i64);
    if !status.is_success() {
        let error = FetchError::Status {
            subgraph: subgraph.to_owned(),
            status,
        };
        // A GraphQL error response with a 4xx/5xx still carries data and errors worth passing
        // on; the status goes with them.
        if let Ok(mut parsed) = parse_response(&bytes) {
            if !parsed.errors.is_empty() || parsed.data.is_some() {
                parsed.http_error = Some(error);
                return Ok(parsed);
            }
        }
        tracing::warn!(
            subgraph,
            url = %crate::telemetry::redact::loggable_url(&endpoint.url),
            status = status.as_u16(),
            body = ?String::from_utf8_lossy(&bytes[..bytes.len().min(512)]),
            "subgraph answered with an HTTP error"
        );
        return Err(error);
    }
    parse_response(&bytes).map_err(|message| {
        tracing::warn!(subgraph, url = %crate::telemetry::redact::loggable_url(&endpoint.url), %message, "subgraph answer is not a GraphQL response");
        FetchError::Malformed {
            subgraph: subgraph.to_owned(),
            message,
        }
    })
}

/// Parses a subgraph answer with our own parser (see `response::json`); `errors` are rare and
/// small, so they go through serde into their typed form, each one read leniently: an error
/// that breaks the spec's shape never costs the answer's `data`.
pub(super) fn parse_response(bytes: &[u8]) -> Result<SubgraphResponse, String> {
    let Ok(parsed) = crate::response::json::parse(bytes) else {
        return Err("the answer is not valid JSON".into());
    };
    let Value::Object(object) = parsed else {
        return Err("the answer is not a JSON object".into());
    };
    let mut response = SubgraphResponse {
        data: None,
        errors: Vec::new(),
        http_error: None,
        bytes: bytes.len(),
    };
    for (key, value) in object.into_entries() {
        match key.as_str() {
            "data" => response.data = (!value.is_null()).then(|| Arc::new(value)),
            "errors" if !value.is_null() => {
                let mut text = Vec::new();
                value.write_json(&mut text);
                let errors: serde_json::Value =
                    serde_json::from_slice(&text).map_err(|_| "`errors` is not JSON".to_owned())?;
                response.errors = match errors {
                    serde_json::Value::Array(errors) => {
                        errors.iter().map(GraphqlError::from_subgraph).collect()
                    }
                    single => vec![GraphqlError::from_subgraph(&single)],
                };
            }
            _ => {}
        }
    }
    Ok(response)
}

async fn read_limited(
    endpoint: &SubgraphEndpoint,
    timeout: Timeout,
    mut response: reqwest::Response,
) -> Result<Bytes, FetchError> {
    let too_large = || FetchError::Malformed {
        subgraph: endpoint.name.clone(),
        message: format!("the answer is larger than {MAX_SUBGRAPH_RESPONSE_BYTES} bytes"),
    };
    let declared = response.content_length().unwrap_or(0) as usize;
    if declared > MAX_SUBGRAPH_RESPONSE_BYTES {
        return Err(too_large());
    }
    // An answer that arrives in one chunk is kept as it came; only a second chunk starts a copy.
    let mut first = Bytes::new();
    let mut joined = bytes::BytesMut::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport_error(&endpoint.name, &endpoint.url, timeout, e))?
    {
        if first.len() + joined.len() + chunk.len() > MAX_SUBGRAPH_RESPONSE_BYTES {
            return Err(too_large());
        }
        if joined.is_empty() && first.is_empty() {
            first = chunk;
            continue;
        }
        if joined.is_empty() {
            joined.reserve(declared.max(first.len() + chunk.len()));
            joined.extend_from_slice(&std::mem::take(&mut first));
        }
        joined.extend_from_slice(&chunk);
    }
    Ok(if joined.is_empty() {
        first
    } else {
        joined.freeze()
    })
}
