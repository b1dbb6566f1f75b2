//! Traces over OTLP/gRPC: the exporter's `protocol: grpc` sends to a real gRPC trace service in
//! this process (HTTP/2 in cleartext), with the configured headers as gRPC metadata.

mod common;
mod grpc_sink_support;

use std::path::Path;
use std::time::{Duration, Instant};

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceServiceServer;
use serde_json::json;

use common::serve_demo;
use grpc_sink_support::Sink;
use seam::config::Config;
use seam::telemetry::TelemetrySettings;

/// Serves the trace service over HTTP/2 with prior knowledge, as gRPC clients speak it.
fn start_receiver(sink: Sink) -> std::net::SocketAddr {
    let runtime = Box::leak(Box::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap(),
    ));
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let router = Router::new().route_service(
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        TraceServiceServer::new(sink),
    );
    runtime.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = TowerToHyperService::new(router.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    let config = Config::from_yaml_str(
        &format!(
            "supergraph: unused.graphql\n\
             telemetry:\n  endpoint: http://{addr}\n  protocol: grpc\n  \
             headers: {{ x-api-key: secret }}\n  batch: {{ schedule_delay: 100ms }}\n"
        ),
        Path::new("."),
    )
    .unwrap();
    let settings = TelemetrySettings::resolve_with(Some(&config), &|_| None);
    let guard = runtime
        .block_on(async { seam::telemetry::init(&settings) })
        .unwrap();
    std::mem::forget(guard);
    addr
}

#[tokio::test]
async fn spans_are_exported_over_grpc_with_the_configured_headers() {
    let sink = Sink::default();
    let for_thread = sink.clone();
    std::thread::spawn(move || start_receiver(for_thread))
        .join()
        .unwrap();
    let demo = serve_demo("", "").await;
    let response = reqwest::Client::new()
        .post(&demo.url)
        .json(&json!({ "query": "query OverGrpc { topProducts(first: 1) { name } }" }))
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
                .any(|(name, op)| name == "request" && op.as_deref() == Some("OverGrpc"));
            if request && spans.iter().any(|(name, _)| name == "subgraph") {
                break;
            }
            assert!(Instant::now() < deadline, "no spans over gRPC: {spans:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(sink.api_keys.lock().unwrap().iter().all(|k| k == "secret"));
    assert!(!sink.api_keys.lock().unwrap().is_empty());
}
