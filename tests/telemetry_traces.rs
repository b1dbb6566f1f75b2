//! Traces over OTLP/HTTP to a real receiver in this process: the span tree of a request, its
//! attributes, and the `traceparent` the subgraphs receive — with a trusted client trace, an
//! untrusted one, none, a cached plan, and a refused document.
//!
//! One exporter serves the whole process (the subscriber is global), so it runs on a runtime
//! of its own that outlives each test's; every test tells its traces apart by trace id.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{from_fn, Next};
use axum::routing::post;
use axum::Router;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use prost::Message;
use serde_json::{json, Value};

use common::{demo_routers, spawn_router};
use seam::config::Config;
use seam::telemetry::TelemetrySettings;

#[derive(Debug, Clone)]
struct ExportedSpan {
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    name: String,
    attributes: HashMap<String, String>,
    service: String,
    environment: String,
}

#[derive(Default)]
struct Receiver {
    spans: Mutex<Vec<ExportedSpan>>,
}

fn text(value: &Option<opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    match value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(AnyValue::StringValue(s)) => s.clone(),
        Some(AnyValue::IntValue(i)) => i.to_string(),
        Some(AnyValue::BoolValue(b)) => b.to_string(),
        Some(AnyValue::DoubleValue(d)) => d.to_string(),
        other => format!("{other:?}"),
    }
}

fn attributes(list: &[KeyValue]) -> HashMap<String, String> {
    list.iter()
        .map(|kv| (kv.key.clone(), text(&kv.value)))
        .collect()
}

/// `POST /v1/traces`: what a collector does with OTLP/HTTP protobuf, minus the collecting.
async fn receive(State(receiver): State<Arc<Receiver>>, body: Bytes) -> StatusCode {
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return StatusCode::BAD_REQUEST;
    };
    let mut spans = receiver.spans.lock().unwrap();
    for resource_spans in request.resource_spans {
        let resource = resource_spans
            .resource
            .map(|r| attributes(&r.attributes))
            .unwrap_or_default();
        for scope in resource_spans.scope_spans {
            for span in scope.spans {
                spans.push(ExportedSpan {
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    name: span.name.clone(),
                    attributes: attributes(&span.attributes),
                    service: resource.get("service.name").cloned().unwrap_or_default(),
                    environment: resource
                        .get("deployment.environment")
                        .cloned()
                        .unwrap_or_default(),
                });
            }
        }
    }
    StatusCode::OK
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The receiver, and the process's telemetry exporting to it every 100 ms.
fn receiver() -> &'static Arc<Receiver> {
    static RECEIVER: OnceLock<Arc<Receiver>> = OnceLock::new();
    // Started from a plain thread: the tests call this from inside their own runtimes.
    RECEIVER.get_or_init(|| std::thread::spawn(start_receiver).join().unwrap())
}

fn start_receiver() -> Arc<Receiver> {
    {
        let runtime = Box::leak(Box::new(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap(),
        ));
        let receiver = Arc::new(Receiver::default());
        let app = Router::new()
            .route("/v1/traces", post(receive))
            .with_state(receiver.clone());
        let addr = runtime.block_on(spawn_router(app));
        let config = Config::from_yaml_str(
            &format!(
                "supergraph: unused.graphql\n\
                 telemetry:\n  endpoint: http://{addr}\n  service_name: seam-under-test\n  \
                 resource: {{ deployment.environment: test }}\n  \
                 batch: {{ schedule_delay: 100ms }}\n"
            ),
            Path::new("."),
        )
        .unwrap();
        let settings = TelemetrySettings::resolve_with(Some(&config), &|_| None);
        let guard = runtime
            .block_on(async { seam::telemetry::init(&settings) })
            .unwrap();
        assert!(guard.exporting());
        std::mem::forget(guard);
        receiver
    }
}

/// A gateway over the demo subgraphs, each recording the `traceparent` it receives.
struct Traced {
    url: String,
    traceparents: Arc<Mutex<Vec<(String, String)>>>,
}

async fn traced_gateway(top_level: &str) -> Traced {
    receiver();
    let traceparents: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let mut yaml = String::from("subgraphs:\n");
    for (name, router) in demo_routers() {
        let sink = traceparents.clone();
        let router = router.layer(from_fn(move |request: Request, next: Next| {
            let sink = sink.clone();
            async move {
                if let Some(value) = request.headers().get("traceparent") {
                    let value = value.to_str().unwrap_or_default().to_owned();
                    sink.lock().unwrap().push((name.to_owned(), value));
                }
                next.run(request).await
            }
        }));
        let addr = spawn_router(router).await;
        yaml.push_str(&format!(
            "  - name: {name}\n    url: http://{addr}/graphql\n"
        ));
    }
    yaml.push_str(top_level);
    let config = Config::from_yaml_str(&yaml, Path::new(".")).unwrap();
    let gateway = seam::startup::gateway_from_config(&config, &reqwest::Client::new())
        .await
        .unwrap();
    let settings = seam::http::ProtocolSettings::from_config(Some(&config), Default::default());
    let addr = spawn_router(seam::http::router_with(gateway, settings)).await;
    traceparents.lock().unwrap().clear();
    Traced {
        url: format!("http://{addr}/graphql"),
        traceparents,
    }
}

const TOP_PRODUCTS: &str = "query TopProducts($first: Int = 2) { topProducts(first: $first) { \
    name price shippingEstimate reviews { body author { username name } } } }";

async fn post_query(url: &str, query: &str, traceparent: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(url)
        .json(&json!({ "query": query }));
    if let Some(traceparent) = traceparent {
        request = request.header("traceparent", traceparent);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// The spans of the trace whose `request` span satisfies `is_ours`, once the request span and
/// `expected` spans in all have arrived; panics after a generous deadline.
async fn trace_where(
    is_ours: impl Fn(&ExportedSpan) -> bool,
    expected: impl Fn(&[ExportedSpan]) -> bool,
) -> Vec<ExportedSpan> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        {
            let spans = receiver().spans.lock().unwrap();
            for request in spans.iter().filter(|s| s.name == "request" && is_ours(s)) {
                let trace: Vec<ExportedSpan> = spans
                    .iter()
                    .filter(|s| s.trace_id == request.trace_id)
                    .cloned()
                    .collect();
                if expected(&trace) {
                    return trace;
                }
            }
            if Instant::now() > deadline {
                panic!("the expected trace never arrived; spans so far: {spans:#?}");
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn named<'a>(trace: &'a [ExportedSpan], name: &str) -> Vec<&'a ExportedSpan> {
    trace.iter().filter(|s| s.name == name).collect()
}

fn one<'a>(trace: &'a [ExportedSpan], name: &str) -> &'a ExportedSpan {
    let found = named(trace, name);
    assert_eq!(found.len(), 1, "one `{name}` span expected in {trace:#?}");
    found[0]
}

/// A random-enough id of `bytes` bytes in hex, so concurrent tests never share a trace.
fn fresh_id(bytes: usize) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::new();
    while out.len() < bytes * 2 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(Instant::now().elapsed().as_nanos());
        out.push_str(&format!("{:016x}", hasher.finish()));
    }
    out.truncate(bytes * 2);
    out
}

#[tokio::test]
async fn a_trusted_client_trace_is_the_parent_and_reaches_the_subgraphs() {
    let gateway = traced_gateway("").await;
    let (trace_id, client_span) = (fresh_id(16), fresh_id(8));
    let traceparent = format!("00-{trace_id}-{client_span}-01");
    let (status, body) = post_query(&gateway.url, TOP_PRODUCTS, Some(&traceparent)).await;
    assert_eq!(status, 200);
    assert!(body["errors"].is_null(), "{body}");

    let subgraph_count = gateway.traceparents.lock().unwrap().len();
    assert!(
        subgraph_count >= 4,
        "every demo subgraph is called: {:?}",
        gateway.traceparents.lock().unwrap()
    );
    let trace = trace_where(
        |s| s.trace_id == trace_id,
        |trace| {
            named(trace, "subgraph").len() >= subgraph_count && named(trace, "execute").len() == 1
        },
    )
    .await;

    let request = one(&trace, "request");
    assert_eq!(
        request.parent_span_id, client_span,
        "the client's span is the parent"
    );
    assert_eq!(request.service, "seam-under-test");
    assert_eq!(request.environment, "test");
    assert_eq!(request.attributes["graphql.operation.name"], "TopProducts");
    assert_eq!(request.attributes["graphql.operation.type"], "query");
    assert_eq!(request.attributes["http.response.status_code"], "200");
    assert_eq!(request.attributes["graphql.errors"], "0");
    for stage in ["parse", "validate", "plan", "execute"] {
        assert_eq!(
            one(&trace, stage).parent_span_id,
            request.span_id,
            "`{stage}` hangs under the request"
        );
    }
    assert_eq!(one(&trace, "plan").attributes["seam.cache.hit"], "false");

    let execute = one(&trace, "execute");
    let subgraph_spans = named(&trace, "subgraph");
    let mut names: Vec<&str> = subgraph_spans
        .iter()
        .map(|s| s.attributes["subgraph.name"].as_str())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names, ["accounts", "inventory", "products", "reviews"]);
    for span in &subgraph_spans {
        assert_eq!(
            span.parent_span_id, execute.span_id,
            "fetches hang under execute"
        );
        assert_eq!(span.attributes["http.response.status_code"], "200");
        assert_ne!(span.attributes["http.response.body.size"], "0");
        assert_eq!(span.attributes["seam.retries"], "0");
    }

    // Each subgraph received the trace, with its own fetch span as the parent.
    let received = gateway.traceparents.lock().unwrap().clone();
    for (subgraph, header) in &received {
        let parts: Vec<&str> = header.split('-').collect();
        assert_eq!(parts.len(), 4, "{header}");
        assert_eq!(parts[1], trace_id, "{subgraph} got another trace: {header}");
        let parent = subgraph_spans
            .iter()
            .find(|s| s.span_id == parts[2])
            .unwrap_or_else(|| panic!("{subgraph}'s parent {header} is no fetch span"));
        assert_eq!(parent.attributes["subgraph.name"], *subgraph);
        assert_eq!(parts[3], "01", "sampled");
    }
}

#[tokio::test]
async fn an_untrusted_client_trace_is_replaced_by_the_gateways_own() {
    let gateway = traced_gateway("telemetry:\n  trust_traceparent: false\n").await;
    let (client_trace, client_span) = (fresh_id(16), fresh_id(8));
    let traceparent = format!("00-{client_trace}-{client_span}-01");
    let query = "query Untrusted { topProducts(first: 1) { upc name } }";
    let (status, _) = post_query(&gateway.url, query, Some(&traceparent)).await;
    assert_eq!(status, 200);
    let trace = trace_where(
        |s| {
            s.attributes
                .get("graphql.operation.name")
                .map(String::as_str)
                == Some("Untrusted")
        },
        |trace| !named(trace, "subgraph").is_empty(),
    )
    .await;
    let request = one(&trace, "request");
    assert_ne!(request.trace_id, client_trace);
    assert_eq!(request.parent_span_id, "", "a root span");
    let received = gateway.traceparents.lock().unwrap().clone();
    assert!(!received.is_empty());
    for (_, header) in received {
        assert!(!header.contains(&client_trace), "{header}");
        assert!(header.contains(&request.trace_id), "{header}");
    }
}

#[tokio::test]
async fn without_a_client_trace_the_gateway_starts_one_and_a_cached_plan_is_a_hit() {
    let gateway = traced_gateway("").await;
    let query = "query Cached($n: Int = 1) { topProducts(first: $n) { name } }";
    for _ in 0..2 {
        let (status, _) = post_query(&gateway.url, query, None).await;
        assert_eq!(status, 200);
    }
    let hit = trace_where(
        |s| {
            s.attributes
                .get("graphql.operation.name")
                .map(String::as_str)
                == Some("Cached")
        },
        |trace| {
            named(trace, "plan")
                .iter()
                .any(|p| p.attributes["seam.cache.hit"] == "true")
        },
    )
    .await;
    assert!(
        named(&hit, "parse").is_empty(),
        "a cached document is not parsed again"
    );
    assert_eq!(one(&hit, "request").parent_span_id, "");
    assert_eq!(named(&hit, "subgraph").len(), 1);
}

#[tokio::test]
async fn a_refused_document_is_a_request_with_errors_and_nothing_executed() {
    let gateway = traced_gateway("").await;
    let (trace_id, client_span) = (fresh_id(16), fresh_id(8));
    let traceparent = format!("00-{trace_id}-{client_span}-01");
    let (status, body) = post_query(
        &gateway.url,
        "query Broken { topProducts { noSuchField } }",
        Some(&traceparent),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let trace = trace_where(
        |s| s.trace_id == trace_id,
        |trace| {
            named(trace, "request")
                .iter()
                .any(|r| r.attributes.contains_key("graphql.errors"))
                && !named(trace, "validate").is_empty()
        },
    )
    .await;
    let request = one(&trace, "request");
    let errors = body["errors"].as_array().unwrap().len();
    assert!(errors >= 1);
    assert_eq!(request.attributes["graphql.errors"], errors.to_string());
    assert!(named(&trace, "execute").is_empty());
    assert!(named(&trace, "subgraph").is_empty());
    assert!(gateway.traceparents.lock().unwrap().is_empty());
}
