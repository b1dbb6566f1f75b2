//! The bundled example subgraphs: an online shop split the way Apollo's federation demo is
//! (accounts, products, reviews, inventory), written with async-graphql as real Federation v2
//! subgraphs. `seam demo` runs them behind the gateway; tests and benchmarks use them as
//! the subgraphs to federate.
//!
//! The data is generated deterministically (see `data`), held in memory per router, and
//! read without per-request work beyond the GraphQL execution itself, because in a
//! benchmark these subgraphs are the ceiling the gateway is measured against.

mod accounts;
mod data;
mod inventory;
mod products;
mod reviews;

#[cfg(test)]
mod tests;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_graphql::{ObjectType, SDLExportOptions, Schema, SubscriptionType};
use async_graphql_axum::GraphQL;
use axum::serve::ListenerExt;
use axum::Router;
use tokio::net::TcpListener;

pub use data::Dataset;

/// The bridge topic the reviews subgraph announces each new review on.
pub const REVIEW_ADDED_TOPIC: &str = "reviews.added";

/// The event subgraph of the demo: `reviewAdded`, fed by [`REVIEW_ADDED_TOPIC`].
pub const EVENTS_SDL: &str = include_str!("../../schemas/events.graphql");

/// The demo subgraphs another `seam demo` already serves on consecutive ports from `first_port`,
/// so a second gateway can front the same data.
///
/// Each port must answer `_service` with exactly the SDL of the demo subgraph expected there:
/// anything else on those ports (a user's own services, say) is not fronted as the demo. The
/// four are asked at once, so a port that does not answer costs one timeout, not four.
pub async fn running_subgraphs(
    host: IpAddr,
    first_port: u16,
    client: &reqwest::Client,
) -> Option<Vec<DemoSubgraph>> {
    let probes = (0u16..)
        .zip(subgraph_sdls())
        .map(|(offset, (name, sdl))| async move {
            let addr = SocketAddr::new(host, first_port.checked_add(offset)?);
            let url = format!("http://{addr}/graphql");
            let answer = client
                .post(&url)
                .json(&serde_json::json!({ "query": "{ _service { sdl } }" }))
                .timeout(std::time::Duration::from_secs(2))
                .send()
                .await
                .ok()?;
            let body: serde_json::Value = answer.json().await.ok()?;
            (body["data"]["_service"]["sdl"].as_str()? == sdl).then_some(DemoSubgraph {
                name,
                url,
                addr,
                served: None,
            })
        });
    futures::future::join_all(probes)
        .await
        .into_iter()
        .collect()
}

/// A running demo subgraph.
#[derive(Debug, Clone)]
pub struct DemoSubgraph {
    pub name: &'static str,
    pub url: String,
    pub addr: SocketAddr,
    /// Requests this process has answered for the subgraph, when this process serves it
    /// (`None` for one found running elsewhere): benchmarks divide it by client requests to see
    /// how many subgraph calls a gateway made for each.
    pub served: Option<Arc<AtomicU64>>,
}

/// Starts the four subgraphs on `host` at OS-assigned ports (port 0) in the current tokio
/// runtime and returns once all are listening.
///
/// Order: accounts, products, reviews, inventory; `url` is `http://{addr}/graphql`.
pub async fn spawn_subgraphs(host: IpAddr) -> std::io::Result<Vec<DemoSubgraph>> {
    spawn_subgraphs_from_port(host, 0).await
}

/// Like [`spawn_subgraphs`], but on consecutive ports from `first_port` (accounts on
/// `first_port`, products on `+1`, reviews on `+2`, inventory on `+3`), which is what
/// `config/seam.yaml` expects with `first_port` 4001. Port 0 means OS-assigned ports.
pub async fn spawn_subgraphs_from_port(
    host: IpAddr,
    first_port: u16,
) -> std::io::Result<Vec<DemoSubgraph>> {
    spawn_subgraphs_with_bridge(host, first_port, None).await
}

/// Like [`spawn_subgraphs_from_port`]; with a bridge, `addReview` publishes each new review
/// on [`REVIEW_ADDED_TOPIC`].
pub async fn spawn_subgraphs_with_bridge(
    host: IpAddr,
    first_port: u16,
    bridge: Option<crate::bridge::SharedBridge>,
) -> std::io::Result<Vec<DemoSubgraph>> {
    spawn_subgraphs_serving(Dataset::Shop, host, first_port, bridge).await
}

/// Like [`spawn_subgraphs_with_bridge`], serving `dataset` (benchmarks use the compact one).
pub async fn spawn_subgraphs_serving(
    dataset: Dataset,
    host: IpAddr,
    first_port: u16,
    bridge: Option<crate::bridge::SharedBridge>,
) -> std::io::Result<Vec<DemoSubgraph>> {
    let routers = [
        ("accounts", router_for(accounts::schema(dataset))),
        ("products", router_for(products::schema(dataset))),
        (
            "reviews",
            router_for(reviews::schema_with_bridge(dataset, bridge)),
        ),
        ("inventory", router_for(inventory::schema(dataset))),
    ];
    // Every port is bound before any subgraph serves, so a port that is taken leaves none of
    // them running: a caller falling back to other ports does not leave a stray subgraph behind.
    let mut listeners = Vec::with_capacity(routers.len());
    for (offset, (name, router)) in (0u16..).zip(routers) {
        let port = if first_port == 0 {
            0
        } else {
            first_port.checked_add(offset).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("port {first_port} + {offset} for the {name} subgraph overflows"),
                )
            })?
        };
        let listener = TcpListener::bind(SocketAddr::new(host, port)).await?;
        listeners.push((name, router, listener));
    }
    let mut spawned = Vec::with_capacity(listeners.len());
    for (name, router, listener) in listeners {
        let addr = listener.local_addr()?;
        let served = Arc::new(AtomicU64::new(0));
        let counter = served.clone();
        let router = router.layer(tower::util::MapRequestLayer::new(
            move |request: axum::extract::Request| {
                counter.fetch_add(1, Ordering::Relaxed);
                request
            },
        ));
        tokio::spawn(serve(listener, router, name));
        spawned.push(DemoSubgraph {
            name,
            url: format!("http://{addr}/graphql"),
            addr,
            served: Some(served),
        });
    }
    Ok(spawned)
}

/// Small request/response exchanges on kept-alive connections are what a gateway sends,
/// so Nagle's algorithm would only add latency.
async fn serve(listener: TcpListener, router: Router, name: &'static str) {
    let listener = listener.tap_io(|stream| {
        // Failing to set the option only costs latency; there is nothing better to do.
        let _ = stream.set_nodelay(true);
    });
    if let Err(err) = axum::serve(listener, router).await {
        tracing::error!(subgraph = name, error = %err, "demo subgraph stopped");
    }
}

fn router_for<Q, M, S>(schema: Schema<Q, M, S>) -> Router
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    Router::new().route_service("/graphql", GraphQL::new(schema))
}

/// The accounts subgraph (`User` by `id` or `username`) at `/graphql`.
pub fn accounts_router() -> Router {
    router_for(accounts::schema(Dataset::Shop))
}

/// The products subgraph (`Product`, and `Warehouse` keys it cannot resolve) at `/graphql`.
pub fn products_router() -> Router {
    router_for(products::schema(Dataset::Shop))
}

/// The reviews subgraph (`Review`, `User.reviews`, `Product.reviews`) at `/graphql`.
pub fn reviews_router() -> Router {
    router_for(reviews::schema(Dataset::Shop))
}

/// The inventory subgraph (`Product` stock and shipping, `Warehouse`) at `/graphql`.
pub fn inventory_router() -> Router {
    router_for(inventory::schema(Dataset::Shop))
}

/// What async-graphql answers to `{ _service { sdl } }`, so the SDL can be had without a
/// server.
fn federation_sdl<Q, M, S>(schema: &Schema<Q, M, S>) -> String
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    schema.sdl_with_options(SDLExportOptions::new().federation().compose_directive())
}

/// The SDL each subgraph prints for `_service { sdl }`, in the order of [`spawn_subgraphs`].
pub fn subgraph_sdls() -> Vec<(&'static str, String)> {
    vec![
        ("accounts", federation_sdl(&accounts::schema(Dataset::Shop))),
        ("products", federation_sdl(&products::schema(Dataset::Shop))),
        ("reviews", federation_sdl(&reviews::schema(Dataset::Shop))),
        (
            "inventory",
            federation_sdl(&inventory::schema(Dataset::Shop)),
        ),
    ]
}
