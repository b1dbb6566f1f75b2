//! The `telemetry:` and `log:` sections: where traces go, what `/metrics` shows, how logs look.
//!
//! Every tracing key is optional because the standard `OTEL_*` environment variables can say
//! the same thing; `crate::telemetry::TelemetrySettings` lays the config over the environment,
//! so a key in the file wins over its variable.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::ConfigProblem;

/// `telemetry:`: OpenTelemetry traces over OTLP and the Prometheus endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// `service.name` of the exported spans (`OTEL_SERVICE_NAME`; default `seam`).
    #[serde(default)]
    pub service_name: Option<String>,
    /// More resource attributes (`deployment.environment: prod`), beside the service name.
    #[serde(default)]
    pub resource: BTreeMap<String, String>,
    /// The OTLP collector (`OTEL_EXPORTER_OTLP_ENDPOINT`). Without one, no span is exported
    /// and none is recorded.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// `grpc` or `http/protobuf` (`OTEL_EXPORTER_OTLP_PROTOCOL`; default `http/protobuf`).
    #[serde(default)]
    pub protocol: Option<OtlpProtocol>,
    /// Headers sent with every export, e.g. an API key (`OTEL_EXPORTER_OTLP_HEADERS`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A PEM file of the CA certificates an `https://` collector's certificate is checked
    /// against, for a collector behind a private CA (`OTEL_EXPORTER_OTLP_CERTIFICATE`). Without
    /// it, the public web roots built into Seam are trusted.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The share of new traces recorded, 0 to 1 (`OTEL_TRACES_SAMPLER` and `_ARG`; default 1).
    /// A trace a trusted client started keeps the client's decision.
    #[serde(default)]
    pub sampling_ratio: Option<SamplingRatio>,
    /// Whether a client's W3C `traceparent` is taken as the parent of Seam's spans (and passed
    /// on to the subgraphs). Off, every request starts a trace of its own: for a gateway facing
    /// clients that should not choose trace ids or sampling.
    #[serde(default = "yes")]
    pub trust_traceparent: bool,
    #[serde(default)]
    pub batch: BatchConfig,
    #[serde(default)]
    pub metrics: MetricsConfig,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            service_name: None,
            resource: BTreeMap::new(),
            endpoint: None,
            protocol: None,
            headers: BTreeMap::new(),
            ca_file: None,
            sampling_ratio: None,
            trust_traceparent: true,
            batch: BatchConfig::default(),
            metrics: MetricsConfig::default(),
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum OtlpProtocol {
    #[serde(rename = "grpc")]
    Grpc,
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
}

impl OtlpProtocol {
    /// The names `OTEL_EXPORTER_OTLP_PROTOCOL` takes; `http/json` is not supported.
    pub fn from_env_value(value: &str) -> Option<Self> {
        match value.trim() {
            "grpc" => Some(OtlpProtocol::Grpc),
            "http/protobuf" => Some(OtlpProtocol::HttpProtobuf),
            _ => None,
        }
    }
}

/// A share between 0 and 1. Validation refuses anything else, NaN included, which is what makes
/// the `Eq` below honest.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(transparent)]
pub struct SamplingRatio(pub f64);

impl PartialEq for SamplingRatio {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for SamplingRatio {}

/// How finished spans are batched before export (the `OTEL_BSP_*` variables).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchConfig {
    /// How often a batch is sent (`OTEL_BSP_SCHEDULE_DELAY`, milliseconds; default 5s).
    #[serde(default, deserialize_with = "super::optional_duration")]
    pub schedule_delay: Option<Duration>,
    /// Spans waiting beyond this are dropped rather than held (default 2048).
    #[serde(default)]
    pub max_queue_size: Option<usize>,
    /// Spans per export request (default 512).
    #[serde(default)]
    pub max_export_batch_size: Option<usize>,
    /// How long one export may take (default 30s).
    #[serde(default, deserialize_with = "super::optional_duration")]
    pub export_timeout: Option<Duration>,
}

/// `telemetry.metrics:`: the Prometheus endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Whether `GET /metrics` answers on the main listener (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// A second address serving only `/metrics`, to keep it off the public port.
    #[serde(default, deserialize_with = "super::listen_address")]
    pub listen: Option<SocketAddr>,
    /// Distinct operation names given a label value of their own; later names are counted
    /// under `other`, so clients inventing names cannot grow the series without bound.
    #[serde(default = "default_max_operation_names")]
    pub max_operation_names: usize,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: None,
            max_operation_names: default_max_operation_names(),
        }
    }
}

fn default_max_operation_names() -> usize {
    100
}

/// `log:`: how Seam's own log records are written to stderr.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `text` (the default) or `json` (`SEAM_LOG_FORMAT`).
    #[serde(default)]
    pub format: Option<LogFormat>,
    /// One record per HTTP request: method, path, status, duration, client (default false).
    #[serde(default)]
    pub access: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl LogFormat {
    pub fn from_env_value(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "text" => Some(LogFormat::Text),
            "json" => Some(LogFormat::Json),
            _ => None,
        }
    }
}

impl TelemetryConfig {
    pub fn problems(&self, problems: &mut Vec<ConfigProblem>) {
        let mut problem = |key: &str, message: String| {
            problems.push(ConfigProblem {
                key: format!("telemetry.{key}"),
                message,
            })
        };
        if let Some(SamplingRatio(ratio)) = self.sampling_ratio {
            if !(0.0..=1.0).contains(&ratio) {
                problem("sampling_ratio", format!("{ratio} is not between 0 and 1"));
            }
        }
        if let Some(endpoint) = &self.endpoint {
            if let Err(message) = super::check_url(endpoint, &["http", "https"]) {
                problem("endpoint", message);
            }
        }
        if self
            .service_name
            .as_deref()
            .is_some_and(|s| s.trim().is_empty())
        {
            problem(
                "service_name",
                "the name is empty; leave the key out for `seam`".into(),
            );
        }
        for name in self.headers.keys() {
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                problem("headers", format!("`{name}` is not a header name"));
            }
        }
        if self.batch.schedule_delay == Some(Duration::ZERO) {
            problem("batch.schedule_delay", "must be longer than 0".into());
        }
        if self.batch.max_queue_size == Some(0) {
            problem("batch.max_queue_size", "must be at least 1".into());
        }
        if self.batch.max_export_batch_size == Some(0) {
            problem("batch.max_export_batch_size", "must be at least 1".into());
        }
    }
}
