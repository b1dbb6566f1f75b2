//! Traces over OTLP/gRPC with TLS: an `https://` endpoint reached through tonic's rustls, the
//! collector a real gRPC trace service in this process behind a certificate from a CA made for
//! the test and trusted through `telemetry.ca_file`.

mod common;
mod grpc_sink_support;
mod tls_support;

use std::path::Path;
use std::time::{Duration, Instant};

use axum::Router;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceServiceServer;
use serde_json::json;

use common::serve_demo;
use grpc_sink_support::Sink;
use seam::config::Config;
use seam::telemetry::TelemetrySettings;

/// The trace service over TLS, and the process's telemetry exporting to it over gRPC.
fn start(sink: Sink) {
    let runtime = Box::leak(Box::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap(),
    ));
    let router = Router::new().route_service(
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        TraceServiceServer::new(sink),
    );
    let server = tls_support::serve_tls(runtime, router);
    let config = Config::from_yaml_str(
        &format!(
            "supergraph: unused.graphql\n\
             telemetry:\n  endpoint: https://{}\n  protocol: grpc\n  ca_file: {}\n  \
             headers: {{ x-api-key: secret }}\n  batch: {{ schedule_delay: 100ms }}\n",
            server.addr,
            server.ca_file.display()
        ),
        Path::new("."),
    )
    .unwrap();
    let settings = TelemetrySettings::resolve_with(Some(&config), &|_| None);
    let guard = runtime
        .block_on(async { seam::telemetry::init(&settings) })
        .unwrap();
    std::mem::forget(guard);
}

#[tokio::test]
async fn spans_are_exported_over_grpc_with_tls() {
    let sink = Sink::default();
    let for_thread = sink.clone();
    std::thread::spawn(move || start(for_thread))
        .join()
        .unwrap();
    let demo = serve_demo("", "").await;
    let response = reqwest::Client::new()
        .post(&demo.url)
        .json(&json!({ "query": "query OverGrpcTls { topProducts(first: 1) { name } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        {
            let spans = sink.spans.lock().unwrap();
            let request = spans
                .iter()
                .any(|(name, op)| name == "request" && op.as_deref() == Some("OverGrpcTls"));
            if request && spans.iter().any(|(name, _)| name == "subgraph") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no spans over gRPC with TLS: {spans:?}"
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(sink.api_keys.lock().unwrap().iter().all(|k| k == "secret"));
}
