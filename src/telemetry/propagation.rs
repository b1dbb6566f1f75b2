//! W3C trace context on HTTP headers: read from a client's request, written on a subgraph's.
//!
//! With tracing on, the subgraph gets the `traceparent` of Seam's own fetch span, so its spans
//! hang under that fetch. With tracing off, a trusted client's `traceparent` is passed on as it
//! came: Seam is then invisible in the trace but does not break it.

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
pub const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// A client's trace headers, kept as they came (cloning a `HeaderValue` shares its bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientTrace {
    pub traceparent: HeaderValue,
    pub tracestate: Option<HeaderValue>,
}

impl ClientTrace {
    /// The client's trace headers, when it sent a `traceparent`.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        Some(ClientTrace {
            traceparent: headers.get(TRACEPARENT)?.clone(),
            tracestate: headers.get(TRACESTATE).cloned(),
        })
    }
}

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

struct HeadersMut<'a>(&'a mut HeaderMap);

impl Injector for HeadersMut<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// Makes the client's trace the parent of `span`. A malformed `traceparent` is ignored (the
/// span starts a trace of its own), as the W3C specification asks.
pub fn adopt_client_parent(span: &tracing::Span, headers: &HeaderMap) {
    let parent = TraceContextPropagator::new().extract(&Headers(headers));
    // An invalid context leaves the span a root; setting it would only cost the lookup.
    use opentelemetry::trace::TraceContextExt;
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
}

/// Writes the trace headers of a subgraph request: the current span's context when it is
/// recorded, else the trusted client's headers as they came, else nothing.
pub fn inject(headers: &mut HeaderMap, client: Option<&ClientTrace>) {
    let span = tracing::Span::current();
    if !span.is_disabled() {
        use opentelemetry::trace::TraceContextExt;
        let context = span.context();
        if context.span().span_context().is_valid() {
            TraceContextPropagator::new().inject_context(&context, &mut HeadersMut(headers));
            return;
        }
    }
    if let Some(client) = client {
        headers.insert(TRACEPARENT, client.traceparent.clone());
        if let Some(state) = &client.tracestate {
            headers.insert(TRACESTATE, state.clone());
        }
    }
}

/// The trace headers [`inject`] would write now, on their own: for a subgraph subscription's
/// WebSocket handshake.
pub fn trace_headers(client: Option<&ClientTrace>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    inject(&mut headers, client);
    headers
}

/// The OpenTelemetry context of the current span when it is recorded, so later work that runs
/// in a trace of its own (a subscription's events) can link back to it.
pub fn current_span_context() -> Option<opentelemetry::trace::SpanContext> {
    let span = tracing::Span::current();
    if span.is_disabled() {
        return None;
    }
    use opentelemetry::trace::TraceContextExt;
    let context = span.context();
    let span_context = context.span().span_context().clone();
    span_context.is_valid().then_some(span_context)
}
