//! The request context: what Seam knows about one client request beyond its operation.
//!
//! It is made once at the edge (an HTTP request, a WebSocket's `connection_init`), passed down by
//! reference through every stage, and read by the layers that need it — the header rules of the
//! subgraph client, deadlines, the authenticated identity, later the trace. It is data, not a
//! global, and it sits below every module that reads it, so the request path points one way.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use tokio::time::Instant;

use crate::auth::Identity;

/// How the operation arrived, which decides what it may do: a GET must not change state, and
/// only a streaming transport can carry a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `GET /graphql?query=…`: queries only.
    HttpGet,
    /// `POST /graphql` answered with one response.
    HttpPost,
    /// An HTTP request the client asked to stream (SSE or multipart); `get` refuses mutations.
    HttpStream { get: bool },
    /// One operation on a WebSocket connection.
    WebSocket,
    /// A caller that asked for a subscription only ([`crate::Gateway::subscribe`]).
    Subscription,
}

impl Transport {
    /// Whether a mutation may run over it (GraphQL over HTTP: never over GET).
    pub fn allows_mutations(self) -> bool {
        !matches!(
            self,
            Transport::HttpGet | Transport::HttpStream { get: true }
        )
    }

    /// Whether it can carry a stream of responses.
    pub fn streams(self) -> bool {
        matches!(
            self,
            Transport::HttpStream { .. } | Transport::WebSocket | Transport::Subscription
        )
    }
}

/// One client request, as the pipeline and the subgraph client see it.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The client's headers. Over WebSocket: the upgrade request's headers with the entries of
    /// the `connection_init` payload laid over them (see [`RequestContext::with_init_payload`]).
    pub headers: HeaderMap,
    pub transport: Transport,
    /// The client's address, when the server knows it.
    pub client_address: Option<SocketAddr>,
    /// When the request must be answered by; every subgraph call is capped by it. `None` for
    /// streams, which live as long as the client wants.
    pub deadline: Option<Instant>,
    /// The client's W3C trace headers, when they are trusted (`telemetry.trust_traceparent`):
    /// passed on to subgraphs as they came while Seam records no spans of its own.
    pub client_trace: Option<crate::telemetry::ClientTrace>,
    /// Who the request's verified token says it is; `None` for an anonymous request. Set by
    /// the pipeline's authenticate stage, before anything else reads it.
    pub identity: Option<Arc<Identity>>,
    /// The byte budget of the stream the responses go out on, when several subscriptions share
    /// one (a WebSocket connection); `None` gives each subscription a budget of its own.
    pub stream_queue: Option<Arc<StreamQueue>>,
}

impl RequestContext {
    pub fn new(transport: Transport, headers: HeaderMap) -> Self {
        RequestContext {
            headers,
            transport,
            client_address: None,
            deadline: None,
            client_trace: None,
            identity: None,
            stream_queue: None,
        }
    }

    /// A context with no client headers (embedding, tests).
    pub fn empty(transport: Transport) -> Self {
        Self::new(transport, HeaderMap::new())
    }

    pub fn with_client_address(mut self, address: Option<SocketAddr>) -> Self {
        self.client_address = address;
        self
    }

    /// Keeps the client's trace headers to pass on, when the gateway trusts them.
    pub fn with_client_trace(mut self, trusted: bool) -> Self {
        self.client_trace = if trusted {
            crate::telemetry::ClientTrace::from_headers(&self.headers)
        } else {
            None
        };
        self
    }

    /// Sets the deadline `timeout` from now; `None` leaves the request unbounded.
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.deadline = timeout.map(|t| Instant::now() + t);
        self
    }

    /// Lays the entries of a WebSocket `connection_init` payload over the headers, because
    /// browsers cannot set headers on a WebSocket and clients put them in the payload instead
    /// (`{"Authorization": "Bearer …"}`, or nested under `"headers"`). String values are taken
    /// as they are, numbers and booleans as their JSON text; other values, and names or values
    /// that cannot be HTTP headers, are skipped.
    pub fn with_init_payload(mut self, payload: Option<&serde_json::Value>) -> Self {
        let Some(serde_json::Value::Object(entries)) = payload else {
            return self;
        };
        let nested = match entries.get("headers") {
            Some(serde_json::Value::Object(headers)) => Some(headers),
            _ => None,
        };
        // Nested `headers` entries win over top-level ones of the same name: they are the more
        // explicit of the two conventions.
        for (name, value) in entries.iter().chain(nested.into_iter().flatten()) {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => continue,
            };
            let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&text),
            ) else {
                continue;
            };
            self.headers.insert(name, value);
        }
        self
    }

    /// Time left before the deadline; `None` when there is no deadline.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|deadline| deadline.saturating_duration_since(Instant::now()))
    }
}

/// The bytes sent to one streaming client and not yet read by it, across its subscriptions. One
/// per WebSocket connection, per SSE or multipart stream; how many may wait is the gateway's
/// `limits.max_stream_queue_bytes`, which the subscriptions' queues enforce.
#[derive(Debug, Default)]
pub struct StreamQueue {
    waiting: AtomicUsize,
}

impl StreamQueue {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Bytes sent to the client and not yet read.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Counts `bytes` more waiting; returns what waited before.
    pub(crate) fn add(&self, bytes: usize) -> usize {
        self.waiting.fetch_add(bytes, Ordering::Relaxed)
    }

    pub(crate) fn remove(&self, bytes: usize) {
        self.waiting.fetch_sub(bytes, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn init_payload_entries_count_as_headers() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static("from-upgrade"));
        headers.insert("x-kept", HeaderValue::from_static("kept"));
        let payload = json!({
            "Authorization": "Bearer top",
            "x-number": 7,
            "x-flag": true,
            "x-object": { "a": 1 },
            "bad name": "skipped",
            "headers": { "authorization": "Bearer nested", "x-tenant": "acme" },
        });
        let ctx =
            RequestContext::new(Transport::WebSocket, headers).with_init_payload(Some(&payload));
        let get = |name: &str| ctx.headers.get(name).and_then(|v| v.to_str().ok());
        assert_eq!(get("authorization"), Some("Bearer nested"));
        assert_eq!(get("x-tenant"), Some("acme"));
        assert_eq!(get("x-number"), Some("7"));
        assert_eq!(get("x-flag"), Some("true"));
        assert_eq!(get("x-kept"), Some("kept"));
        assert_eq!(get("x-object"), None);
        assert_eq!(ctx.headers.len(), 5);
    }

    #[test]
    fn get_requests_cannot_mutate_and_only_streams_stream() {
        assert!(!Transport::HttpGet.allows_mutations());
        assert!(!Transport::HttpStream { get: true }.allows_mutations());
        assert!(Transport::HttpPost.allows_mutations());
        assert!(Transport::WebSocket.allows_mutations());
        assert!(!Transport::HttpPost.streams());
        assert!(Transport::WebSocket.streams());
    }
}
