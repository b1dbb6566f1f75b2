//! Telemetry in a process that records no spans (no exporter): the streaming gauges and bridge
//! counters of `/metrics` follow real subscribers, and a client's `traceparent` reaches the
//! subgraphs as it came when trusted, and not at all when not.

mod common;
mod protocols_support;
mod subscriptions_support;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::middleware::{from_fn, Next};
use serde_json::json;

use common::{demo_routers, spawn_router};
use seam::bridge::SharedBridge;
use subscriptions_support::{demo_subgraphs, Gateway, Protocol};

/// `name{labels} value` lines of one scrape, summed over the series whose labels include
/// `labels`.
async fn metric(gateway: &Gateway, name: &str, labels: &[(&str, &str)]) -> f64 {
    let text = reqwest::get(format!("{}/metrics", gateway.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut total = 0.0;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let (series_name, rest) = series.split_once('{').unwrap_or((series, ""));
        if series_name == name
            && labels
                .iter()
                .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")))
        {
            total += value.parse::<f64>().unwrap();
        }
    }
    total
}

#[tokio::test]
async fn open_streams_subscriptions_and_bridge_events_are_gauged_and_counted() {
    let bridge: SharedBridge = Arc::new(seam::bridge::memory::MemoryBridge::new());
    let yaml = demo_subgraphs(bridge.clone()).await;
    let demo = Gateway::start(&subscriptions_support::config(&yaml), Some(bridge)).await;
    assert_eq!(metric(&demo, "seam_open_streams", &[]).await, 0.0);

    let mut sse = demo.subscribe(Protocol::Sse, None).await;
    let mut ws = demo.subscribe(Protocol::TransportWs, Some(3)).await;
    let mut multipart = demo.subscribe(Protocol::Multipart, None).await;
    subscriptions_support::sync(&demo, 3, &mut [&mut sse, &mut ws, &mut multipart]).await;
    for transport in ["sse", "websocket", "multipart"] {
        assert_eq!(
            metric(&demo, "seam_open_streams", &[("transport", transport)]).await,
            1.0,
            "{transport}"
        );
    }
    // The unfiltered SSE and multipart subscribers share one subscription.
    assert_eq!(metric(&demo, "seam_active_subscriptions", &[]).await, 2.0);
    let received = metric(&demo, "seam_bridge_events_total", &[("direction", "in")]).await;
    assert!(received >= 1.0, "{received}");
    demo.add_review(3, 4, "counted").await;
    sse.next_with_body("counted").await;
    assert!(metric(&demo, "seam_bridge_events_total", &[("direction", "in")]).await > received);
    assert_eq!(
        metric(
            &demo,
            "seam_operations_total",
            &[("kind", "subscription"), ("outcome", "ok")]
        )
        .await,
        3.0
    );

    drop(sse);
    drop(ws);
    drop(multipart);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while metric(&demo, "seam_open_streams", &[]).await > 0.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "streams still counted as open"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A gateway over the demo subgraphs recording the `traceparent` each receives.
async fn recording_gateway(top_level: &str) -> (String, Arc<Mutex<HashMap<String, String>>>) {
    let seen: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let mut yaml = String::from("subgraphs:\n");
    for (name, router) in demo_routers() {
        let sink = seen.clone();
        let router = router.layer(from_fn(move |request: Request, next: Next| {
            let sink = sink.clone();
            async move {
                if let Some(value) = request.headers().get("traceparent") {
                    let value = value.to_str().unwrap_or_default().to_owned();
                    sink.lock().unwrap().insert(name.to_owned(), value);
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
    let config = seam::config::Config::from_yaml_str(&yaml, Path::new(".")).unwrap();
    let gateway = seam::startup::gateway_from_config(&config, &reqwest::Client::new())
        .await
        .unwrap();
    let settings = seam::http::ProtocolSettings::from_config(Some(&config), Default::default());
    let addr = spawn_router(seam::http::router_with(gateway, settings)).await;
    seen.lock().unwrap().clear();
    (format!("http://{addr}/graphql"), seen)
}

const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

async fn query_with_trace(url: &str) {
    let response = reqwest::Client::new()
        .post(url)
        .header("traceparent", TRACEPARENT)
        .header("tracestate", "vendor=1")
        .json(&json!({ "query": "{ topProducts(first: 1) { name reviews { body } } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn without_tracing_a_trusted_traceparent_is_passed_on_as_it_came() {
    let (url, seen) = recording_gateway("").await;
    query_with_trace(&url).await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    for (subgraph, header) in seen {
        assert_eq!(header, TRACEPARENT, "{subgraph}");
    }
}

#[tokio::test]
async fn without_tracing_an_untrusted_traceparent_goes_no_further() {
    let (url, seen) = recording_gateway("telemetry:\n  trust_traceparent: false\n").await;
    query_with_trace(&url).await;
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
}
