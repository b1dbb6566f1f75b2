//! Telemetry at the HTTP edge: the `request` span every GraphQL request runs in (its parent the
//! client's trace when trusted), the refusals the edge's own rules answer, the access log, and
//! `GET /metrics`.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::field::Empty;
use tracing::Instrument;

use super::StreamingClients;
use crate::context::RequestContext;
use crate::pipeline::Gateway;
use crate::telemetry::propagation::adopt_client_parent;
use crate::telemetry::{Metrics, StreamKind, SPAN_TARGET};

/// The target of access log records, so they can be filtered apart (`RUST_LOG=seam::access=off`).
pub const ACCESS_TARGET: &str = "seam::access";

/// Marks a response as a refusal by an edge rule, with the code its body carries, so the
/// refusals metric counts it whichever rule wrote it.
#[derive(Debug, Clone)]
pub(crate) struct RefusedWith(pub Box<str>);

pub(crate) fn mark_refused(response: &mut Response, code: &str) {
    response.extensions_mut().insert(RefusedWith(code.into()));
}

/// What the request layer needs: where refusals are counted and whether to log each request.
pub(crate) struct EdgeTelemetry {
    pub metrics: Arc<Metrics>,
    pub trust_traceparent: bool,
    pub access_log: bool,
}

/// The span one GraphQL operation runs in. Its name and kind are recorded by the pipeline once
/// the document is known; the HTTP status by the layer below.
fn request_span(method: &str, path: &str) -> tracing::Span {
    tracing::info_span!(
        target: SPAN_TARGET,
        "request",
        otel.kind = "server",
        http.request.method = method,
        url.path = path,
        graphql.operation.name = Empty,
        graphql.operation.type = Empty,
        graphql.errors = Empty,
        http.response.status_code = Empty,
        otel.status_code = Empty,
    )
}

/// The span of one operation on a WebSocket, whose upgrade request was the only HTTP request.
pub(crate) fn websocket_operation_span(context: &RequestContext) -> tracing::Span {
    let span = request_span("GET", "websocket");
    if !span.is_disabled() && context.client_trace.is_some() {
        adopt_client_parent(&span, &context.headers);
    }
    span
}

/// One access-log record, written when the request ends: with its status, or with 499 (the
/// status nginx logs for it) when the client left before the answer and the request's future
/// was dropped — otherwise an abandoned request would leave no record.
struct AccessRecord {
    request: Option<(axum::http::Method, String)>,
    started: Instant,
    status: Option<u16>,
}

impl Drop for AccessRecord {
    fn drop(&mut self) {
        if let Some((method, path)) = self.request.take() {
            tracing::info!(
                target: ACCESS_TARGET,
                method = method.as_str(),
                path,
                status = self.status.unwrap_or(CLIENT_CLOSED_REQUEST),
                duration_ms = self.started.elapsed().as_secs_f64() * 1000.0,
                "request"
            );
        }
    }
}

const CLIENT_CLOSED_REQUEST: u16 = 499;

/// The tower layer (as axum middleware) around the GraphQL routes.
pub(crate) async fn around_request(
    State(edge): State<Arc<EdgeTelemetry>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let span = request_span(request.method().as_str(), request.uri().path());
    if !span.is_disabled() && edge.trust_traceparent {
        adopt_client_parent(&span, request.headers());
    }
    let mut access = AccessRecord {
        request: edge
            .access_log
            .then(|| (request.method().clone(), request.uri().path().to_owned())),
        started,
        status: None,
    };
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    access.status = Some(status);
    // Numbers as i64: the OTel layer exports an unsigned field as a string.
    span.record("http.response.status_code", i64::from(status));
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
    if let Some(RefusedWith(code)) = response.extensions().get::<RefusedWith>() {
        edge.metrics.refused(code);
    }
    response
}

/// `GET /metrics`: the Prometheus text exposition.
pub(crate) async fn metrics(State(scrape): State<Arc<Scrape>>) -> Response {
    let mut live = scrape.gateway.live_state().await;
    live.websockets = scrape.clients.open_of(StreamKind::WebSocket);
    live.sse_streams = scrape.clients.open_of(StreamKind::Sse);
    live.multipart_streams = scrape.clients.open_of(StreamKind::Multipart);
    let text = scrape.gateway.metrics().render(&live);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

/// What `/metrics` reads.
pub(crate) struct Scrape {
    pub gateway: Arc<Gateway>,
    pub clients: StreamingClients,
}

/// A router serving `/metrics` alone, for `telemetry.metrics.listen`.
pub fn metrics_router(gateway: Arc<Gateway>, clients: StreamingClients) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(metrics))
        .with_state(Arc::new(Scrape { gateway, clients }))
}
