//! Telemetry: what Seam tells its operators about itself.
//!
//! - [`settings`] — the `telemetry:` and `log:` config over the `OTEL_*` variables;
//! - [`export`] — the process's log subscriber (text or JSON) and the OTLP span exporter;
//! - [`propagation`] — W3C `traceparent` in from clients and out to subgraphs;
//! - [`metrics`] — the gateway's Prometheus registry behind `GET /metrics`;
//! - [`bridge`] — counting bridge events in and out.
//!
//! Spans are made where the work is (the HTTP edge, the pipeline's stages, the subgraph client)
//! with the target [`SPAN_TARGET`]; this module decides whether anything records them.

pub mod bridge;
pub mod export;
pub mod metrics;
mod on_runtime;
mod otlp_client;
pub mod propagation;
pub mod redact;
pub mod settings;

pub use export::{init, json_logs, TelemetryError, TelemetryGuard, SPAN_TARGET};
pub use metrics::{
    LiveState, Metrics, OperationOutcome, StreamKind, SubgraphMetrics, SubgraphOutcome,
};
pub use propagation::ClientTrace;
pub use settings::TelemetrySettings;
