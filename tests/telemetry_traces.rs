//! Traces over OTLP/HTTP to a real receiver in this process: the span tree of a request, its
//! attributes, and the `traceparent` the subgraphs receive — with a trusted client trace, an
//! untrusted one, none, a cached plan, and a refused document.
//!
//! One exporter serves the whole process (the subscriber is global), so it runs on a runtime
//! of its own that outlives each test's; every test tells its traces apart by trace id.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{from_fn, Next};
use axum::response::IntoResponse;
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
    /// The attributes exported as integers (the rest are strings or booleans).
    ints: HashSet<String>,
    /// The span status: 0 unset, 1 ok, 2 error.
    status: i32,
    service: String,
    environment: String,
    /// The (trace id, span id) of each span this one links to.
    links: Vec<(String, String)>,
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
                    ints: span
                        .attributes
                        .iter()
                        .filter(|kv| {
                            matches!(
                                kv.value.as_ref().and_then(|v| v.value.as_ref()),
                                Some(AnyValue::IntValue(_))
                            )
                        })
                        .map(|kv| kv.key.clone())
                        .collect(),
                    status: span.status.as_ref().map_or(0, |s| s.code),
                    links: span
                        .links
                        .iter()
                        .map(|link| (hex(&link.trace_id), hex(&link.span_id)))
                        .collect(),
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
                // A test asks a subgraph to fail by naming it in `x-fail`.
                if request
                    .headers()
                    .get("x-fail")
                    .and_then(|v| v.to_str().ok())
                    == Some(name)
                {
                    return (StatusCode::INTERNAL_SERVER_ERROR, "down").into_response();
                }
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
    post_query_with(url, query, traceparent, &[]).await
}

async fn post_query_with(
    url: &str,
    query: &str,
    traceparent: Option<&str>,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(url)
        .json(&json!({ "query": query }));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
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
    // Numbers are exported as numbers, as the semantic conventions type them.
    for number in ["http.response.status_code", "graphql.errors"] {
        assert!(request.ints.contains(number), "{number}: {request:?}");
    }
    assert_eq!(
        request.status, 0,
        "a successful request has no error status"
    );
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
        for number in [
            "http.response.status_code",
            "http.response.body.size",
            "seam.retries",
        ] {
            assert!(span.ints.contains(number), "{number}: {span:?}");
        }
        assert_eq!(span.status, 0, "{span:?}");
        assert!(!span.attributes.contains_key("error.type"), "{span:?}");
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

// ---------------------------------------------------------------------------------------------
// Subscriptions a subgraph resolves: the subgraph's socket joins the subscribing request's
// trace, and each event's `subscription_event` span links back to that request.

/// A subgraph whose `Subscription.tick` sends three numbers, recording the `traceparent` of
/// every WebSocket handshake it receives.
mod ticker {
    use std::sync::{Arc, Mutex};

    use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
    use async_graphql::{EmptyMutation, Object, Schema, Subscription};
    use async_graphql_axum::{GraphQL, GraphQLProtocol, GraphQLWebSocket};
    use axum::extract::{State, WebSocketUpgrade};
    use axum::http::HeaderMap;
    use axum::response::Response;
    use axum::routing::{get, post_service};
    use axum::Router;
    use futures::Stream;

    pub struct Query;

    #[Object(name = "Query")]
    impl Query {
        async fn hello(&self) -> &str {
            "hi"
        }
    }

    pub struct Subscription;

    #[Subscription(name = "Subscription")]
    impl Subscription {
        async fn tick(&self) -> impl Stream<Item = i32> {
            futures::stream::iter([1, 2, 3])
        }
    }

    type TickerSchema = Schema<Query, EmptyMutation, Subscription>;

    #[derive(Clone)]
    struct Socket {
        schema: TickerSchema,
        handshakes: Arc<Mutex<Vec<String>>>,
    }

    async fn ws(
        State(socket): State<Socket>,
        headers: HeaderMap,
        protocol: GraphQLProtocol,
        upgrade: WebSocketUpgrade,
    ) -> Response {
        let traceparent = headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        socket.handshakes.lock().unwrap().push(traceparent);
        upgrade
            .protocols(ALL_WEBSOCKET_PROTOCOLS)
            .on_upgrade(move |stream| {
                GraphQLWebSocket::new(stream, socket.schema, protocol).serve()
            })
    }

    /// The router (`POST /graphql`, `GET /ws`) and the handshakes' `traceparent`s.
    pub fn router() -> (Router, Arc<Mutex<Vec<String>>>) {
        let schema = Schema::build(Query, EmptyMutation, Subscription)
            .enable_federation()
            .enable_subscription_in_federation()
            .finish();
        let handshakes = Arc::new(Mutex::new(Vec::new()));
        let router = Router::new()
            .route("/graphql", post_service(GraphQL::new(schema.clone())))
            .route("/ws", get(ws))
            .with_state(Socket {
                schema,
                handshakes: handshakes.clone(),
            });
        (router, handshakes)
    }
}

#[tokio::test]
async fn a_subgraph_subscription_joins_the_trace_and_its_events_link_to_it() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message;

    receiver();
    let (router, handshakes) = ticker::router();
    let subgraph = spawn_router(router).await;
    let config = Config::from_yaml_str(
        &format!(
            "subgraphs:\n  - name: ticker\n    url: http://{subgraph}/graphql\n    \
             subscription_url: ws://{subgraph}/ws\n"
        ),
        Path::new("."),
    )
    .unwrap();
    let gateway = seam::startup::gateway_from_config(&config, &reqwest::Client::new())
        .await
        .unwrap();
    let settings = seam::http::ProtocolSettings::from_config(Some(&config), Default::default());
    let addr = spawn_router(seam::http::router_with(gateway, settings)).await;

    // The client's own trace, trusted, so the test knows the trace id to look for.
    let (trace_id, client_span) = (fresh_id(16), fresh_id(8));
    let mut request = format!("ws://{addr}/graphql")
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    headers.insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    headers.insert(
        "traceparent",
        format!("00-{trace_id}-{client_span}-01").parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket
        .send(Message::text(
            json!({ "type": "connection_init" }).to_string(),
        ))
        .await
        .unwrap();
    let mut ticks = Vec::new();
    let mut subscribed = false;
    while ticks.len() < 3 {
        let message = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .expect("the gateway answers")
            .expect("the socket stays open")
            .unwrap();
        let Message::Text(text) = message else {
            continue;
        };
        let message: Value = serde_json::from_str(text.as_str()).unwrap();
        match message["type"].as_str() {
            Some("connection_ack") if !subscribed => {
                subscribed = true;
                let subscribe = json!({
                    "id": "1",
                    "type": "subscribe",
                    "payload": { "query": "subscription Ticks { tick }" },
                });
                socket
                    .send(Message::text(subscribe.to_string()))
                    .await
                    .unwrap();
            }
            Some("next") => ticks.push(message["payload"]["data"]["tick"].clone()),
            Some("complete") => break,
            _ => panic!("unexpected {message}"),
        }
    }
    assert_eq!(ticks, [json!(1), json!(2), json!(3)]);

    // The subscribing operation is a span of the client's trace (beside the upgrade request's
    // own, which answered 101)...
    let is_operation = |s: &ExportedSpan| {
        s.name == "request"
            && s.attributes
                .get("graphql.operation.name")
                .map(String::as_str)
                == Some("Ticks")
    };
    let trace = trace_where(
        |s| s.trace_id == trace_id,
        |trace| trace.iter().any(is_operation),
    )
    .await;
    let request = trace.iter().find(|s| is_operation(s)).unwrap();
    assert_eq!(request.parent_span_id, client_span);
    assert_eq!(request.attributes["graphql.operation.type"], "subscription");
    // ...the subgraph's socket was opened in it...
    let opened_in = format!("00-{trace_id}-{}-01", request.span_id);
    assert!(
        handshakes.lock().unwrap().contains(&opened_in),
        "{opened_in} not among {:?}",
        handshakes.lock().unwrap()
    );
    // ...and every event's span, a root of its own, links to it.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let events: Vec<ExportedSpan> = receiver()
            .spans
            .lock()
            .unwrap()
            .iter()
            .filter(|s| {
                s.name == "subscription_event"
                    && s.links
                        .contains(&(trace_id.clone(), request.span_id.clone()))
            })
            .cloned()
            .collect();
        if events.len() >= 3 {
            for event in &events {
                assert_eq!(event.parent_span_id, "", "{event:?}");
                assert_ne!(event.trace_id, trace_id);
                assert_eq!(event.attributes["graphql.operation.name"], "Ticks");
            }
            break;
        }
        assert!(
            Instant::now() < deadline,
            "three linked subscription_event spans expected, got {events:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A subgraph call that fails is an error on its span, with what kind of failure; the request
/// that still answered 200 with the error in its body is not.
#[tokio::test]
async fn a_failed_subgraph_call_is_an_error_on_its_span() {
    let gateway =
        traced_gateway("headers:\n  all:\n    request:\n      - propagate: { named: x-fail }\n")
            .await;
    let (trace_id, client_span) = (fresh_id(16), fresh_id(8));
    let traceparent = format!("00-{trace_id}-{client_span}-01");
    let (status, body) = post_query_with(
        &gateway.url,
        "{ topProducts(first: 1) { name inStock } }",
        Some(&traceparent),
        &[("x-fail", "inventory")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["errors"].is_array(), "{body}");
    let trace = trace_where(
        |s| s.trace_id == trace_id,
        |trace| named(trace, "subgraph").len() >= 2,
    )
    .await;
    let spans = named(&trace, "subgraph");
    let failed = spans
        .iter()
        .find(|s| s.attributes["subgraph.name"] == "inventory")
        .unwrap_or_else(|| panic!("no inventory span: {spans:?}"));
    assert_eq!(failed.status, 2, "{failed:?}");
    assert_eq!(failed.attributes["error.type"], "http_status", "{failed:?}");
    assert_eq!(failed.attributes["http.response.status_code"], "500");
    let products = spans
        .iter()
        .find(|s| s.attributes["subgraph.name"] == "products")
        .unwrap_or_else(|| panic!("no products span: {spans:?}"));
    assert_eq!(products.status, 0, "{products:?}");
    assert_eq!(one(&trace, "request").status, 0);
}
