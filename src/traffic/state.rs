//! What the subgraph client keeps across schema generations: HTTP clients (their connection
//! pools), and per subgraph name its circuit breaker, retry budget and health check.
//!
//! A reload builds new layers for each subgraph, but a subgraph that was failing a moment ago is
//! failing still, and its pooled connections are still good: so these belong to the gateway, and
//! each generation's layers are built around them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use arc_swap::ArcSwapOption;
use http::HeaderMap;

use super::breaker::Breaker;
use super::health::{self, HealthTarget};
use super::retry::Retries;
use super::SubgraphEndpoint;
use crate::config::{ClientSettings, Http2, ResolvedTraffic};

/// The long-lived part of one subgraph's traffic.
pub(super) struct SubgraphTraffic {
    pub client: reqwest::Client,
    pub retries: Arc<Retries>,
    pub breaker: Option<Arc<Breaker>>,
    /// What the health check asks, when the subgraph has one.
    health: Option<Arc<ArcSwapOption<HealthTarget>>>,
}

/// Clients and per-subgraph state, kept by the gateway for its whole life.
#[derive(Default)]
pub struct TrafficState {
    /// One client per distinct [`ClientSettings`]: subgraphs that configure nothing of their own
    /// share the one pooled client.
    clients: Mutex<HashMap<ClientSettings, reqwest::Client>>,
    subgraphs: Mutex<HashMap<String, Arc<SubgraphTraffic>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl TrafficState {
    pub fn new() -> Self {
        Self::default()
    }

    /// The client for `settings`, built on first use.
    fn client(&self, settings: &ClientSettings) -> reqwest::Client {
        lock(&self.clients)
            .entry(*settings)
            .or_insert_with(|| build_client(settings))
            .clone()
    }

    /// The state of `endpoint`'s subgraph, made (and its health check started) the first time
    /// the name is seen; later generations get the same. `check_headers` are what its health
    /// check sends.
    pub(super) fn subgraph(
        &self,
        endpoint: &SubgraphEndpoint,
        settings: &ResolvedTraffic,
        check_headers: HeaderMap,
    ) -> Arc<SubgraphTraffic> {
        let traffic = lock(&self.subgraphs)
            .entry(endpoint.name.clone())
            .or_insert_with(|| {
                let breaker = settings
                    .breaker
                    .clone()
                    .map(|b| Arc::new(Breaker::new(&endpoint.name, b)));
                let health = match (&settings.health_check, &breaker) {
                    (Some(check), Some(breaker)) => {
                        let target = Arc::new(ArcSwapOption::empty());
                        health::spawn(
                            endpoint.name.clone(),
                            check.clone(),
                            Arc::downgrade(breaker),
                            target.clone(),
                        );
                        Some(target)
                    }
                    _ => None,
                };
                Arc::new(SubgraphTraffic {
                    client: self.client(&settings.client),
                    retries: Arc::new(Retries::new(&endpoint.name, &settings.retry)),
                    breaker,
                    health,
                })
            })
            .clone();
        // A reload may have moved the subgraph: checks follow its current URL.
        if let (Some(target), Some(url)) = (&traffic.health, &endpoint.parsed_url) {
            target.store(Some(Arc::new(HealthTarget {
                client: traffic.client.clone(),
                url: url.clone(),
                headers: check_headers,
            })));
        }
        traffic
    }
}

/// A pooled client: keep-alive connections are reused across requests to the same host.
fn build_client(settings: &ClientSettings) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .pool_idle_timeout(settings.idle_timeout)
        .pool_max_idle_per_host(settings.max_idle_per_host)
        .tcp_nodelay(true)
        .connect_timeout(settings.connect_timeout);
    let builder = match settings.http2 {
        Http2::Auto => builder,
        Http2::PriorKnowledge => builder.http2_prior_knowledge(),
        Http2::Off => builder.http1_only(),
    };
    builder.build().unwrap_or_else(|error| {
        // Only the TLS backend's set-up can fail here, and the default client would fail alike.
        tracing::error!(%error, "the subgraph HTTP client could not be built as configured");
        reqwest::Client::new()
    })
}
