//! The subgraph client: the one place a request leaves Seam for a subgraph.
//!
//! The executor calls [`Subgraphs::call`] with the request context and a body; it does not know
//! which layers exist. Each subgraph has its own stack of tower layers around the HTTP call,
//! outermost first: the error policy, the header rules, retries (`retry.rs`), the circuit breaker
//! (`breaker.rs`, fed by `health.rs` too), then the call itself over the subgraph's pooled client
//! (`send.rs`) — so the next rule is one new layer file, not an `if` in the executor. What must
//! outlive a schema reload (clients, breakers, retry budgets) is kept in [`TrafficState`].
//! Subscription sockets to subgraphs get the same headers through
//! [`Subgraphs::forwarded_headers`].

mod breaker;
mod dedupe;
mod endpoint;
mod errors;
mod headers;
mod health;
pub(crate) mod in_flight;
mod retry;
mod send;
mod state;

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use tower::util::BoxCloneSyncService;
use tower::{ServiceBuilder, ServiceExt};

use crate::config::{HeadersConfig, ResolvedErrorPolicy, SubgraphErrorsConfig, TrafficConfig};
use crate::context::RequestContext;
use crate::plan::OperationKind;
use crate::response::{GraphqlError, Value};
use crate::supergraph::{SubgraphId, Supergraph};
use crate::telemetry::{Metrics, SubgraphMetrics, SubgraphOutcome, SPAN_TARGET};

pub use breaker::BreakerState;
pub use endpoint::{
    endpoints_for, subscription_url_for, SubgraphEndpoint, SubgraphOverride, DEFAULT_TIMEOUT,
};
pub use errors::FetchError;
pub use headers::HeaderRuleSet;
pub use send::MAX_SUBGRAPH_RESPONSE_BYTES;
pub use state::TrafficState;

/// One request to a subgraph as it passes through the layers. Cheap to clone (the body is
/// shared), so it can be sent again.
#[derive(Clone)]
pub struct SubgraphRequest {
    pub body: Bytes,
    /// What the request carries besides Seam's own `content-type` and `accept`; the header
    /// rules fill it from the context.
    pub headers: HeaderMap,
    pub context: Arc<RequestContext>,
    /// The kind of the client's operation this request serves: only a mutation's requests are
    /// unsafe to repeat.
    pub operation: OperationKind,
}

/// A subgraph's GraphQL answer.
///
/// `data` is behind a reference count because identical requests in flight share one answer
/// (see `dedupe`): each waiter gets the same tree and merges from it, copying only what lands in
/// its own response (a fetch that must rename keys first, or a stitching lookup whose answer is
/// reshaped, copies the whole answer).
#[derive(Debug, Clone)]
pub struct SubgraphResponse {
    /// `None` for a missing or null `data`.
    pub data: Option<Arc<Value>>,
    pub errors: Vec<GraphqlError>,
    /// The HTTP error status a GraphQL answer came with (`FetchError::Status`): its data and
    /// errors are used, and the client is also told the call failed, as Apollo Router and Hive
    /// Router do, so a 500 with a GraphQL body is not mistaken for a clean answer.
    pub http_error: Option<FetchError>,
    /// The answer's size as it came (0 when the gateway answered itself): what merging it
    /// adds to a response, for `limits.max_response_bytes`.
    pub bytes: usize,
}

type SubgraphService = BoxCloneSyncService<SubgraphRequest, SubgraphResponse, FetchError>;

/// What the config says about calling subgraphs, kept by the gateway and applied to each
/// schema generation's subgraph list.
#[derive(Debug, Clone, Default)]
pub struct TrafficSettings {
    pub overrides: HashMap<String, SubgraphOverride>,
    pub headers: HeadersConfig,
    pub errors: SubgraphErrorsConfig,
    /// Retries, breakers, pools and health checks (`traffic:`).
    pub resilience: TrafficConfig,
}

impl TrafficSettings {
    pub fn from_config(config: Option<&crate::config::Config>) -> Self {
        let Some(config) = config else {
            return Self::default();
        };
        let overrides = Self::subgraph_overrides(config);
        TrafficSettings {
            overrides,
            headers: config.headers.clone(),
            errors: config.subgraph_errors.clone(),
            resilience: config.traffic.clone(),
        }
    }

    /// The URL, timeout and subscription URL each `subgraphs` entry of `config` sets.
    pub fn subgraph_overrides(config: &crate::config::Config) -> HashMap<String, SubgraphOverride> {
        config
            .subgraphs
            .iter()
            .map(|s| {
                let o = SubgraphOverride {
                    url: s.url.clone(),
                    timeout: s.timeout,
                    subscription_url: s.subscription_url.clone(),
                };
                (s.name.clone(), o)
            })
            .collect()
    }
}

struct Subgraph {
    endpoint: Arc<SubgraphEndpoint>,
    service: SubgraphService,
    headers: Arc<HeaderRuleSet>,
    errors: ResolvedErrorPolicy,
    breaker: Option<Arc<breaker::Breaker>>,
    metrics: SubgraphMetrics,
}

/// The subgraphs of one schema generation, each behind its layers.
pub struct Subgraphs {
    subgraphs: Vec<Subgraph>,
    hasher: ahash::RandomState,
}

impl Subgraphs {
    /// The subgraphs of `supergraph`, their layers built around the long-lived parts in `state`.
    pub fn new(
        supergraph: &Supergraph,
        settings: &TrafficSettings,
        state: &TrafficState,
        metrics: &Metrics,
    ) -> Self {
        let subgraphs = endpoints_for(supergraph, &settings.overrides)
            .into_iter()
            .map(|endpoint| {
                let endpoint = Arc::new(endpoint);
                let headers = Arc::new(HeaderRuleSet::for_subgraph(
                    &settings.headers,
                    &endpoint.name,
                ));
                let errors = settings.errors.for_subgraph(&endpoint.name);
                let resilience = settings.resilience.for_subgraph(&endpoint.name);
                let lasting =
                    state.subgraph(&endpoint, &resilience, headers.apply(&HeaderMap::new()));
                let service = ServiceBuilder::new()
                    .layer(ErrorPolicyLayer(errors))
                    .layer(headers::HeaderRulesLayer(headers.clone()))
                    .option_layer(resilience.dedupe.then(|| {
                        dedupe::DedupeLayer(
                            Arc::new(dedupe::InFlight::default()),
                            metrics.subgraph_shared(&endpoint.name),
                        )
                    }))
                    .layer(tower::retry::RetryLayer::new(retry::RetryPolicy::new(
                        lasting.retries.clone(),
                    )))
                    .option_layer(lasting.breaker.clone().map(breaker::BreakerLayer))
                    .service(send::HttpCall {
                        client: lasting.client.clone(),
                        endpoint: endpoint.clone(),
                    });
                Subgraph {
                    metrics: metrics.subgraph(&endpoint.name),
                    endpoint,
                    service: BoxCloneSyncService::new(service),
                    headers,
                    errors,
                    breaker: lasting.breaker.clone(),
                }
            })
            .collect();
        Subgraphs {
            subgraphs,
            hasher: ahash::RandomState::new(),
        }
    }

    pub fn endpoint(&self, id: SubgraphId) -> Option<&SubgraphEndpoint> {
        self.subgraphs.get(id.0 as usize).map(|s| &*s.endpoint)
    }

    /// Sends `body` to the subgraph through its layers, for an operation of kind `operation`.
    pub async fn call(
        &self,
        id: SubgraphId,
        context: &Arc<RequestContext>,
        operation: OperationKind,
        body: Vec<u8>,
    ) -> Result<SubgraphResponse, FetchError> {
        let Some(subgraph) = self.subgraphs.get(id.0 as usize) else {
            return Err(FetchError::Transport {
                subgraph: format!("#{}", id.0),
                reason: "the subgraph is not configured",
            });
        };
        let request = SubgraphRequest {
            body: Bytes::from(body),
            headers: HeaderMap::new(),
            context: context.clone(),
            operation,
        };
        // The span covers every attempt; the layers inside record the answer and the retries.
        let span = tracing::info_span!(
            target: SPAN_TARGET,
            "subgraph",
            otel.kind = "client",
            subgraph.name = subgraph.endpoint.name.as_str(),
            http.response.status_code = tracing::field::Empty,
            http.response.body.size = tracing::field::Empty,
            seam.retries = 0i64,
            otel.status_code = tracing::field::Empty,
            error.type = tracing::field::Empty,
        );
        let started = std::time::Instant::now();
        let result = tracing::Instrument::instrument(
            subgraph.service.clone().oneshot(request),
            span.clone(),
        )
        .await;
        let outcome = match &result {
            Ok(response) if response.errors.is_empty() => SubgraphOutcome::Ok,
            Ok(_) => SubgraphOutcome::Errors,
            Err(_) => SubgraphOutcome::Failed,
        };
        // A call that failed, or that the subgraph answered with an HTTP error status, is an
        // error on its span (GraphQL errors in a 200 answer are the data's, not the call's).
        let failure = match &result {
            Err(error) => Some(error.kind()),
            Ok(response) => response.http_error.as_ref().map(FetchError::kind),
        };
        if let Some(kind) = failure {
            span.record("otel.status_code", "ERROR");
            span.record("error.type", kind);
        }
        subgraph.metrics.record(outcome, started.elapsed());
        result
    }

    /// Each HTTP subgraph's circuit breaker state, by name (a subgraph whose breaker is switched
    /// off is always closed); for `/ready` and metrics.
    pub fn breaker_states(&self) -> Vec<(String, BreakerState)> {
        self.subgraphs
            .iter()
            .filter(|s| s.endpoint.parsed_url.is_some())
            .map(|s| {
                let state = s
                    .breaker
                    .as_ref()
                    .map_or(BreakerState::Closed, |b| b.state());
                (s.endpoint.name.clone(), state)
            })
            .collect()
    }

    /// The headers the rules give a subgraph request in `context`, for subscription sockets.
    pub fn forwarded_headers(&self, id: SubgraphId, context: &RequestContext) -> HeaderMap {
        self.subgraphs
            .get(id.0 as usize)
            .map(|s| {
                s.headers
                    .apply_for(&context.headers, context.identity.as_deref())
            })
            .unwrap_or_default()
    }

    /// A hash of everything the header rules would forward to any subgraph for `context`: two
    /// requests may share subgraph work only when it is equal, because only then would the
    /// subgraphs see the same request from each.
    pub fn forwarded_fingerprint(&self, context: &RequestContext) -> u64 {
        let mut hasher = self.hasher.build_hasher();
        for subgraph in &self.subgraphs {
            if subgraph.headers.is_empty() {
                continue;
            }
            for (name, value) in &subgraph
                .headers
                .apply_for(&context.headers, context.identity.as_deref())
            {
                name.as_str().hash(&mut hasher);
                value.as_bytes().hash(&mut hasher);
            }
            0xffu8.hash(&mut hasher);
        }
        hasher.finish()
    }

    /// Every header the rules would forward to each subgraph for `context`, with the subgraph's
    /// index: two client queries may share one execution only when these are equal, because only
    /// then would every subgraph see the same requests from each. Exact values rather than
    /// [`Subgraphs::forwarded_fingerprint`]'s hash: a collision here would hand one client
    /// another's answer.
    pub fn forwarded_all(&self, context: &RequestContext) -> Vec<(usize, HeaderName, HeaderValue)> {
        let mut out = Vec::new();
        for (index, subgraph) in self.subgraphs.iter().enumerate() {
            if subgraph.headers.is_empty() {
                continue;
            }
            let headers = subgraph
                .headers
                .apply_for(&context.headers, context.identity.as_deref());
            out.extend(
                headers
                    .iter()
                    .map(|(name, value)| (index, name.clone(), value.clone())),
            );
        }
        out
    }

    /// A GraphQL error one subgraph sent outside an HTTP answer (a subscription event), as the
    /// client may see it.
    pub fn client_error(&self, id: SubgraphId, error: GraphqlError) -> GraphqlError {
        let policy = self
            .subgraphs
            .get(id.0 as usize)
            .map(|s| s.errors)
            .unwrap_or_default();
        errors::apply_policy(error, policy)
    }
}

/// Applies the subgraph's error policy to the GraphQL errors of every answer.
#[derive(Clone)]
struct ErrorPolicyLayer(ResolvedErrorPolicy);

impl<S> tower::Layer<S> for ErrorPolicyLayer {
    type Service = WithErrorPolicy<S>;

    fn layer(&self, inner: S) -> Self::Service {
        WithErrorPolicy {
            policy: self.0,
            inner,
        }
    }
}

#[derive(Clone)]
struct WithErrorPolicy<S> {
    policy: ResolvedErrorPolicy,
    inner: S,
}

impl<S> tower::Service<SubgraphRequest> for WithErrorPolicy<S>
where
    S: tower::Service<SubgraphRequest, Response = SubgraphResponse, Error = FetchError>,
    S::Future: Send + 'static,
{
    type Response = SubgraphResponse;
    type Error = FetchError;
    type Future = futures::future::BoxFuture<'static, Result<SubgraphResponse, FetchError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), FetchError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: SubgraphRequest) -> Self::Future {
        let policy = self.policy;
        let answer = self.inner.call(request);
        Box::pin(async move {
            let mut response = answer.await?;
            if !response.errors.is_empty() {
                response.errors = std::mem::take(&mut response.errors)
                    .into_iter()
                    .map(|e| errors::apply_policy(e, policy))
                    .collect();
            }
            Ok(response)
        })
    }
}
