//! A real OTLP/gRPC trace service for the gRPC exporter tests: it keeps the span names and
//! operation names it receives, and the `x-api-key` metadata of each export.

use std::sync::{Arc, Mutex};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceService;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;

/// A span's name and its `graphql.operation.name`.
pub type SpanSeen = (String, Option<String>);

/// The spans received, and the `x-api-key` of each export.
#[derive(Default, Clone)]
pub struct Sink {
    pub spans: Arc<Mutex<Vec<SpanSeen>>>,
    pub api_keys: Arc<Mutex<Vec<String>>>,
}

#[tonic::async_trait]
impl TraceService for Sink {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        if let Some(key) = request.metadata().get("x-api-key") {
            self.api_keys
                .lock()
                .unwrap()
                .push(key.to_str().unwrap_or_default().to_owned());
        }
        let mut spans = self.spans.lock().unwrap();
        for resource in &request.get_ref().resource_spans {
            for scope in &resource.scope_spans {
                for span in &scope.spans {
                    let operation = span
                        .attributes
                        .iter()
                        .find(|kv| kv.key == "graphql.operation.name")
                        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                            AnyValue::StringValue(s) => Some(s.clone()),
                            _ => None,
                        });
                    spans.push((span.name.clone(), operation));
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}
