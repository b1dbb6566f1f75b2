//! Traces over OTLP/HTTP to an `https://` collector: a real TLS receiver in this process whose
//! certificate comes from a CA made for the test, trusted through `telemetry.ca_file`.

mod common;
mod tls_support;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use serde_json::json;

use common::serve_demo;
use seam::config::Config;
use seam::telemetry::TelemetrySettings;

/// The names of the spans received.
type Received = Arc<Mutex<Vec<String>>>;

async fn receive(State(received): State<Received>, body: Bytes) -> StatusCode {
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return StatusCode::BAD_REQUEST;
    };
    let mut names = received.lock().unwrap();
    for resource in request.resource_spans {
        for scope in resource.scope_spans {
            names.extend(scope.spans.into_iter().map(|span| span.name));
        }
    }
    StatusCode::OK
}

/// The TLS receiver, and the process's telemetry exporting to it, both on a runtime that
/// outlives the test's.
fn start(received: Received) {
    let runtime = Box::leak(Box::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap(),
    ));
    let router = Router::new()
        .route("/v1/traces", post(receive))
        .with_state(received);
    let server = tls_support::serve_tls(runtime, router);
    let config = Config::from_yaml_str(
        &format!(
            "supergraph: unused.graphql\n\
             telemetry:\n  endpoint: https://{}\n  ca_file: {}\n  \
             batch: {{ schedule_delay: 100ms }}\n",
            server.addr,
            server.ca_file.display()
        ),
        Path::new("."),
    )
    .unwrap();
    let settings = TelemetrySettings::resolve_with(Some(&config), &|_| None);
    let export = settings.export.as_ref().unwrap();
    assert!(
        export.endpoint.starts_with("https://"),
        "{}",
        export.endpoint
    );
    let guard = runtime
        .block_on(async { seam::telemetry::init(&settings) })
        .unwrap();
    std::mem::forget(guard);
}

#[tokio::test]
async fn spans_reach_an_https_collector_trusted_through_ca_file() {
    let received = Received::default();
    let for_thread = received.clone();
    std::thread::spawn(move || start(for_thread))
        .join()
        .unwrap();
    let demo = serve_demo("", "").await;
    let response = reqwest::Client::new()
        .post(&demo.url)
        .json(&json!({ "query": "query OverTls { topProducts(first: 1) { name } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        {
            let names = received.lock().unwrap();
            if names.iter().any(|n| n == "request") && names.iter().any(|n| n == "subgraph") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no spans arrived over TLS: {names:?}"
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn an_unreadable_ca_file_is_an_exporter_error() {
    let config = Config::from_yaml_str(
        "supergraph: unused.graphql\n\
         telemetry:\n  endpoint: https://127.0.0.1:1\n  ca_file: /nonexistent/ca.pem\n",
        Path::new("."),
    )
    .unwrap();
    let settings = TelemetrySettings::resolve_with(Some(&config), &|_| None);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let error = runtime
        .block_on(async { seam::telemetry::init(&settings) })
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.contains("/nonexistent/ca.pem"), "{error}");
}
