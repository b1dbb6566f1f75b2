//! Respond: what the pipeline hands back to a transport — one response body with an outcome the
//! HTTP edge turns into a status, or a stream of response bodies.

use bytes::Bytes;

use crate::execute::shape::errors_body;
use crate::response::GraphqlError;
use crate::subscriptions::ResponseStream;

/// How the HTTP edge should answer, beside the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Execution ran; the body has `data` (possibly with field errors).
    Executed,
    /// A request error: nothing ran, the body has only `errors`.
    RequestError,
    /// The request itself is unusable (no query, undecodable).
    BadRequest,
    /// A mutation over GET.
    MethodNotAllowed,
    NotReady,
    /// Refused by a rule about who may run what (`PERSISTED_QUERY_ONLY`,
    /// `UNAUTHORIZED_FIELD_OR_TYPE` under `auth.reject_unauthorized`).
    Forbidden,
    /// No valid token where one is needed, or a token that is not valid (`UNAUTHENTICATED`).
    Unauthenticated,
    /// Over a rate limit; the client may try again after this many seconds.
    TooManyRequests {
        retry_after_secs: u64,
    },
    /// An APQ hash the gateway does not know. Apollo's gateways answer it with 200 whatever the
    /// media type, and its clients expect that before they send the query with its hash.
    PersistedQueryNotFound,
}

pub struct GatewayResponse {
    pub outcome: Outcome,
    /// Reference-counted, so clients sharing one execution (`share.rs`) send the same bytes
    /// without a copy each.
    pub body: Bytes,
    /// How many errors the body holds, for telemetry (counted before shaping, which may add
    /// errors of its own for nulls it propagates).
    pub error_count: usize,
    /// The `extensions.code` of the first error of a refused request, for the refusals metric.
    pub refused_code: Option<Box<str>>,
}

impl GatewayResponse {
    /// A response with a body written elsewhere (embedding, scripted services in tests).
    pub fn new(outcome: Outcome, body: Vec<u8>) -> Self {
        Self {
            outcome,
            body: body.into(),
            error_count: 0,
            refused_code: None,
        }
    }

    pub fn errors(outcome: Outcome, errors: &[GraphqlError]) -> Self {
        let refused_code = errors.first().and_then(|error| {
            let code = error.extensions.as_ref()?.get("code")?.as_str()?;
            Some(code.into())
        });
        Self {
            outcome,
            body: errors_body(errors).into(),
            error_count: errors.len(),
            refused_code,
        }
    }
}

/// What running an operation gives a transport.
pub enum Answer {
    /// A query's or mutation's response, or a request error.
    Single(GatewayResponse),
    /// A subscription's responses, each a complete GraphQL response body.
    Stream(ResponseStream),
}

impl Answer {
    pub(super) fn refuse(outcome: Outcome, errors: &[GraphqlError]) -> Self {
        Answer::Single(GatewayResponse::errors(outcome, errors))
    }
}
