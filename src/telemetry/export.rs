//! Starting telemetry for a process: the log subscriber (text or JSON) and, when an endpoint is
//! known, the OpenTelemetry pipeline that turns Seam's spans into OTLP exports.
//!
//! Seam's spans all have the target [`SPAN_TARGET`]. Only the OpenTelemetry layer is interested
//! in it; the log layer is told to ignore it. So with no exporter, no layer wants those spans,
//! `tracing` marks their call sites never-interested once, and creating one costs a load of a
//! cached flag: the request path pays nothing for tracing that is off.

use std::collections::HashMap;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig, WithTonicConfig};
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider,
};
use opentelemetry_sdk::Resource;
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

use super::on_runtime::OnRuntime;
use super::otlp_client::OtlpHttpClient;
use super::settings::{ExportSettings, TelemetrySettings};
use crate::config::{LogFormat, OtlpProtocol};

/// The target of every span Seam records for tracing.
pub const SPAN_TARGET: &str = "seam::trace";

/// Whether the process logs JSON: the few lines Seam prints for people (the address it listens
/// on) become log records then, so every line of stderr parses.
static JSON_LOGS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn json_logs() -> bool {
    JSON_LOGS.load(std::sync::atomic::Ordering::Relaxed)
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("the OTLP exporter for {endpoint} cannot be built: {message}")]
    Exporter { endpoint: String, message: String },
    #[error("a log subscriber is already installed in this process")]
    AlreadyInstalled,
}

/// Keeps the exporter running; dropping it (or [`TelemetryGuard::shutdown`]) sends what is
/// still queued.
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Whether spans are exported.
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// Exports what is queued now (tests; before a planned exit).
    pub fn flush(&self) {
        if let Some(provider) = &self.provider {
            if let Err(error) = provider.force_flush() {
                tracing::warn!(%error, "spans could not be flushed");
            }
        }
    }

    /// Exports what is queued and stops the exporter.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(provider) = self.provider.take() {
            if let Err(error) = provider.shutdown() {
                tracing::warn!(%error, "the span exporter did not shut down cleanly");
            }
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Installs the process's log subscriber and, with an endpoint, the span exporter. Must run
/// inside a tokio runtime: the exporter's batches are sent from a task of it.
pub fn init(settings: &TelemetrySettings) -> Result<TelemetryGuard, TelemetryError> {
    let provider = settings.export.as_ref().map(tracer_provider).transpose()?;
    subscriber(settings.log_format, provider.as_ref())
        .try_init()
        .map_err(|_| TelemetryError::AlreadyInstalled)?;
    JSON_LOGS.store(
        settings.log_format == LogFormat::Json,
        std::sync::atomic::Ordering::Relaxed,
    );
    for warning in &settings.warnings {
        tracing::warn!("{warning}");
    }
    if let Some(export) = &settings.export {
        tracing::info!(
            endpoint = %super::redact::loggable_url(&export.endpoint),
            protocol = ?export.protocol,
            sampling_ratio = export.sampling_ratio,
            "exporting traces over OTLP"
        );
    }
    Ok(TelemetryGuard { provider })
}

/// The log layer and, with a tracer provider, the OpenTelemetry layer. The list holds only the
/// layers that exist: an absent layer written as `Option::None` says it wants every span, which
/// made every span of every request allocated, entered and closed with tracing off.
fn subscriber(
    log_format: LogFormat,
    provider: Option<&SdkTracerProvider>,
) -> impl tracing::Subscriber + Send + Sync {
    // RUST_LOG as the user wrote it, except that Seam's spans are never log output.
    // The OpenTelemetry SDK's own records (a collector that refuses or does not answer, spans
    // dropped from a full queue) say when traces are being lost; below a warning they are
    // chatter.
    let mut log_filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,opentelemetry=warn,opentelemetry_sdk=warn,opentelemetry_otlp=warn")
    });
    if let Ok(no_spans) = format!("{SPAN_TARGET}=off").parse() {
        log_filter = log_filter.add_directive(no_spans);
    }
    let log_layer = match log_format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            // Colours for a person at a terminal only: a log collector reading a pipe would
            // store the escape codes.
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .boxed(),
    }
    .with_filter(log_filter);
    // Only what the spans say themselves: the layer's extra attributes (source location, thread,
    // busy and idle time, which means a clock read on every poll of an instrumented future)
    // cost more per span than the rest of the span together, and tell an operator little.
    // Nor is a span's OpenTelemetry context made current on every entry (every poll of an
    // instrumented future): nothing in Seam reads the current OpenTelemetry context — parents
    // and the `traceparent` sent to subgraphs come from the `tracing` span — so that would be
    // a context clone and a thread-local push and pop per poll for nothing.
    let mut layers: Vec<Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync>> =
        vec![log_layer.boxed()];
    if let Some(provider) = provider {
        layers.push(
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("seam"))
                .with_location(false)
                .with_threads(false)
                .with_tracked_inactivity(false)
                .with_target(false)
                .with_context_activation(false)
                .with_filter(Targets::new().with_target(SPAN_TARGET, tracing::Level::TRACE))
                .boxed(),
        );
    }
    tracing_subscriber::registry().with(layers)
}

fn tracer_provider(export: &ExportSettings) -> Result<SdkTracerProvider, TelemetryError> {
    let failed = |message: String| TelemetryError::Exporter {
        endpoint: export.endpoint.clone(),
        message,
    };
    let mut headers = http::HeaderMap::new();
    for (name, value) in &export.headers {
        let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) else {
            return Err(failed(format!("the header `{name}` cannot be sent")));
        };
        headers.insert(name, value);
    }
    let exporter = match export.protocol {
        OtlpProtocol::HttpProtobuf => opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(
                OtlpHttpClient::new(
                    export.export_timeout,
                    export.ca_file.as_deref(),
                    headers.clone(),
                )
                .map_err(failed)?,
            )
            .with_endpoint(export.endpoint.clone())
            .with_timeout(export.export_timeout)
            .with_headers(
                export
                    .headers
                    .clone()
                    .into_iter()
                    .collect::<HashMap<_, _>>(),
            )
            .build(),
        OtlpProtocol::Grpc => {
            let mut builder = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(export.endpoint.clone())
                .with_timeout(export.export_timeout)
                .with_metadata(
                    opentelemetry_otlp::tonic_types::metadata::MetadataMap::from_headers(headers),
                );
            if export.endpoint.starts_with("https://") {
                builder =
                    builder.with_tls_config(grpc_tls(export.ca_file.as_deref()).map_err(failed)?);
            }
            builder.build()
        }
    }
    .map_err(|error| failed(error.to_string()))?;
    let batch = BatchConfigBuilder::default()
        .with_scheduled_delay(export.schedule_delay)
        .with_max_queue_size(export.max_queue_size)
        .with_max_export_batch_size(export.max_export_batch_size)
        .with_max_export_timeout(export.export_timeout)
        .build();
    // Exports run on the runtime that starts telemetry (see `on_runtime` for why the processor
    // is not a task of it).
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|_| failed("telemetry must start inside a tokio runtime".into()))?;
    let processor = BatchSpanProcessor::builder(OnRuntime::new(exporter, runtime))
        .with_batch_config(batch)
        .build();
    let resource = Resource::builder()
        .with_service_name(export.service_name.clone())
        .with_attributes(
            export
                .resource
                .iter()
                .filter(|(key, _)| key.as_str() != "service.name")
                .map(|(key, value)| KeyValue::new(key.clone(), value.clone())),
        )
        .build();
    // A trusted client's sampling decision is kept; new traces are drawn by the ratio.
    let sampler = Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(export.sampling_ratio)));
    Ok(SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_sampler(sampler)
        .with_resource(resource)
        .build())
}

/// TLS for a gRPC collector: the web's public roots, and the certificates of `ca_file`.
fn grpc_tls(
    ca_file: Option<&std::path::Path>,
) -> Result<opentelemetry_otlp::tonic_types::transport::ClientTlsConfig, String> {
    use opentelemetry_otlp::tonic_types::transport::{Certificate, ClientTlsConfig};
    let config = ClientTlsConfig::new().with_webpki_roots();
    let Some(path) = ca_file else {
        return Ok(config);
    };
    let pem = std::fs::read(path)
        .map_err(|e| format!("cannot read the CA file {}: {e}", path.display()))?;
    Ok(config.ca_certificate(Certificate::from_pem(pem)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With tracing off no layer wants Seam's spans, so they are never created: the request
    /// path pays nothing for them. With a tracer, they are recorded.
    #[test]
    fn spans_exist_only_when_a_tracer_records_them() {
        let span_in = |provider: Option<&SdkTracerProvider>| {
            tracing::subscriber::with_default(subscriber(LogFormat::Text, provider), || {
                let span = tracing::info_span!(target: SPAN_TARGET, "request");
                !span.is_disabled()
            })
        };
        assert!(!span_in(None), "a span was created with tracing off");
        let provider = SdkTracerProvider::builder().build();
        assert!(span_in(Some(&provider)), "no span with a tracer");
    }
}
