//! The request path, one stage per file, in the order a request meets them:
//!
//! 1. [`receive`] — an HTTP body or query string ▶ a GraphQL request (the edge calls it);
//!    [`authenticate`] — the request's token ▶ its identity in the context, or a 401;
//!    [`rate_limit`] — whether the client and the gateway may start another operation;
//!    [`persisted`] — a persisted document's id or an APQ hash ▶ the operation text;
//! 2. [`prepare`] — once per document (and access rights), in a bounded pool and cached:
//!    [`parse`] ▶ [`limits`] ▶ [`validate`] ▶ [`authorize`] ▶ [`plan`];
//! 3. [`admit`] — whether the operation may run over the transport it came on;
//! 4. [`coerce`] — the variables ▶ the values the operation runs with;
//! 5. [`share`] — with `traffic.dedupe_client_requests`, a query identical to one executing
//!    waits for that one's response; then [`execute`] (queries, mutations) or [`subscribe`]
//!    (subscriptions, to their event source);
//! 6. [`respond`] — what goes back to the transport.
//!
//! Queries, mutations and subscriptions share every stage up to execution, whatever transport
//! they came on. The [`RequestContext`] made at the edge is passed down to the subgraph client;
//! cross-cutting rules are stages here (limits), layers at the HTTP edge (`crate::http`), or
//! layers of the subgraph client (`crate::traffic`).

mod admit;
mod authenticate;
mod authorize;
mod coerce;
mod cost;
mod execute;
pub mod extensions;
mod limits;
mod literals;
pub mod parse;
pub mod persisted;
mod plan;
pub mod prepare;
pub mod rate_limit;
pub mod receive;
pub mod respond;
mod share;
mod shared_store;
mod subscribe;
mod validate;

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;

use crate::auth::filter::UNAUTHORIZED_CODE;
use crate::auth::{Authenticator, Rights};
use crate::bridge::SharedBridge;
use crate::config::{
    AuthConfig, Config, LogConfig, PersistedQueriesConfig, RateLimitConfig, TelemetryConfig,
};
use crate::context::RequestContext;
use crate::plan::OperationKind;
use crate::response::{GraphqlError, Location};
use crate::subscriptions::upstream::Upstreams;
use crate::subscriptions::{EventModel, Hub};
use crate::supergraph::Supergraph;
use crate::telemetry::{LiveState, Metrics, OperationOutcome, SPAN_TARGET};
use crate::traffic::{BreakerState, Subgraphs, TrafficSettings, TrafficState};
use prepare::{OperationCache, PrepareSettings, Preparer};

pub use receive::GraphqlRequest;
pub use respond::{Answer, GatewayResponse, Outcome};
pub use share::SharedQueries;

/// What the pipeline runs with, from the config (or the defaults when there is none).
#[derive(Debug, Clone)]
pub struct Settings {
    pub traffic: TrafficSettings,
    /// Custom progressive-override labels switched on for every request (`override_labels`).
    pub override_labels: Vec<String>,
    /// `bridge.publish_token`: switches on `POST /bridge/publish`.
    pub publish_token: Option<String>,
    pub prepare: PrepareSettings,
    /// Threads that parse, validate and plan new documents at once.
    pub planning_threads: usize,
    /// How long preparing a new document may take, waiting for a thread included.
    pub planning_timeout: Duration,
    /// What the operation cache of a schema generation may hold.
    pub operation_cache_bytes: u64,
    /// `persisted_queries:`; the manifest it names is read by the startup code.
    pub persisted_queries: PersistedQueriesConfig,
    pub rate_limit: RateLimitConfig,
    /// `telemetry:`: trust in client trace headers, the metrics endpoint.
    pub telemetry: TelemetryConfig,
    /// `log:`: whether each HTTP request gets an access log record.
    pub log: LogConfig,
    /// `auth:`; the keys it names are read by the startup code ([`Gateway::with_authenticator`]).
    pub auth: AuthConfig,
    /// `traffic.dedupe_client_requests`: identical queries in flight together share one
    /// execution.
    pub dedupe_client_requests: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings::from_config(None)
    }
}

impl Settings {
    /// `limits.max_response_bytes` (`None`: no limit), for queries, mutations and events alike.
    pub fn max_response_bytes(&self) -> Option<usize> {
        self.prepare.limits.max_response_bytes.as_usize()
    }

    /// `limits.max_stream_queue_bytes`: what one streaming client may have waiting.
    pub fn max_stream_queue_bytes(&self) -> usize {
        usize::try_from(self.prepare.limits.max_stream_queue_bytes).unwrap_or(usize::MAX)
    }

    pub fn from_config(config: Option<&Config>) -> Self {
        let limits = config.map(|c| c.limits.clone()).unwrap_or_default();
        Settings {
            traffic: TrafficSettings::from_config(config),
            override_labels: config
                .map(|c| c.override_labels.clone())
                .unwrap_or_default(),
            publish_token: config.and_then(|c| c.bridge.publish_token.clone()),
            prepare: PrepareSettings {
                limits: Arc::new(limits.clone()),
                introspection: config.is_none_or(Config::introspection_enabled),
                reject_unauthorized: config.is_some_and(|c| c.auth.reject_unauthorized),
            },
            planning_threads: limits.planning_threads.unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(usize::from)
                    .unwrap_or(2)
            }),
            planning_timeout: limits.planning_timeout,
            operation_cache_bytes: limits.operation_cache_bytes,
            persisted_queries: config
                .map(|c| c.persisted_queries.clone())
                .unwrap_or_default(),
            rate_limit: config.map(|c| c.rate_limit.clone()).unwrap_or_default(),
            telemetry: config.map(|c| c.telemetry.clone()).unwrap_or_default(),
            log: config.map(|c| c.log.clone()).unwrap_or_default(),
            auth: config.map(|c| c.auth.clone()).unwrap_or_default(),
            dedupe_client_requests: config
                .and_then(|c| c.traffic.dedupe_client_requests)
                .unwrap_or(false),
        }
    }
}

/// Whether [`Gateway::admit_client`] counts the request against the rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charge {
    /// It starts something that costs the gateway (an operation, a stream reservation).
    RateLimit,
    /// It only asks who the client is; what it does next is charged on its own.
    Nothing,
}

/// Everything one schema generation serves with. Requests hold an `Arc` to the generation they
/// started with, so a reload never changes the schema under a running request.
pub struct SchemaState {
    pub supergraph: Arc<Supergraph>,
    pub subgraphs: Arc<Subgraphs>,
    /// What the event subgraphs' `@subscribe`/`@publish` directives say (not in the supergraph).
    pub events: Arc<EventModel>,
    operations: OperationCache,
}

impl SchemaState {
    /// What the operation cache of this generation did (for tests and metrics).
    pub async fn operation_cache_stats(&self) -> prepare::CacheStats {
        self.operations.stats().await
    }
}

/// The gateway: the schema it serves (swapped whole on reload) and the long-lived parts every
/// request uses — the subgraph HTTP client, the bridge, the shared subscriptions and the pool
/// new documents are prepared in.
pub struct Gateway {
    state: ArcSwapOption<SchemaState>,
    /// Subgraph clients, breakers and retry budgets: they outlive schema generations.
    traffic: TrafficState,
    settings: Settings,
    bridge: SharedBridge,
    /// Open subscriptions, shared by identical operations.
    subscriptions: Hub,
    /// Subscriptions to subgraphs that resolve subscription fields themselves.
    upstreams: Upstreams,
    preparer: Preparer,
    persisted: persisted::PersistedOperations,
    rate_limits: rate_limit::RateLimits,
    metrics: Arc<Metrics>,
    /// Verifies tokens; anonymous-only until [`Gateway::with_authenticator`] gives it keys.
    authenticator: Authenticator,
    /// Queries executing that identical ones may join (`traffic.dedupe_client_requests`).
    shared_queries: Arc<share::InFlightQueries>,
    /// The config file as a reload last read it. Its `subgraphs` entries (URLs, timeouts) apply
    /// to every later schema, and the poller recomposes from it, so neither a poll nor a swap
    /// undoes an edit of the file. `None` until a reload reads a config file.
    reloaded_config: std::sync::Mutex<Option<Arc<crate::config::Config>>>,
}

impl Gateway {
    pub fn new(settings: Settings, bridge: SharedBridge) -> Self {
        let metrics = Arc::new(Metrics::new(settings.telemetry.metrics.max_operation_names));
        let preparer = Preparer::new(
            settings.planning_threads,
            settings.planning_timeout,
            metrics.clone(),
        );
        let persisted = persisted::PersistedOperations::new(&settings.persisted_queries);
        let rate_limits = rate_limit::RateLimits::new(&settings.rate_limit);
        let bridge = crate::telemetry::bridge::CountedBridge::wrap(bridge, metrics.clone());
        Gateway {
            metrics,
            persisted,
            rate_limits,
            authenticator: Authenticator::default(),
            state: ArcSwapOption::empty(),
            traffic: TrafficState::new(),
            settings,
            bridge,
            subscriptions: Hub::default(),
            upstreams: Upstreams::new(),
            preparer,
            shared_queries: Arc::default(),
            reloaded_config: Default::default(),
        }
    }

    /// Serves the documents of `manifest` (persisted documents, by id).
    pub fn with_manifest(mut self, manifest: persisted::Manifest) -> Self {
        self.persisted = self.persisted.with_manifest(manifest);
        self
    }

    /// Verifies tokens with `authenticator` (built from the same config's `auth:`).
    pub fn with_authenticator(mut self, authenticator: Authenticator) -> Self {
        self.authenticator = authenticator;
        self
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The gateway's Prometheus metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// What `/metrics` reads from the gateway itself when scraped (the HTTP edge adds its
    /// streaming clients).
    pub async fn live_state(&self) -> LiveState {
        let bridge = self.bridge.stats();
        let operation_cache_entries = match self.schema_state() {
            Some(state) => state.operation_cache_stats().await.entries,
            None => 0,
        };
        LiveState {
            operation_cache_entries,
            subscriptions: self.active_subscriptions(),
            worker_threads: tokio::runtime::Handle::try_current()
                .map_or(0, |runtime| runtime.metrics().num_workers()),
            bridge_reconnects: bridge.reconnects,
            bridge_gaps: bridge.gaps,
            slow_subscription_clients: self.subscriptions.slow_clients(),
            breakers: self
                .breaker_states()
                .into_iter()
                .map(|(name, state)| (name, state.gauge_value()))
                .collect(),
            ..LiveState::default()
        }
    }

    pub fn bridge(&self) -> &SharedBridge {
        &self.bridge
    }

    pub fn publish_token(&self) -> Option<&str> {
        self.settings.publish_token.as_deref()
    }

    /// Starts serving `supergraph`; requests already running finish on the previous one.
    pub fn swap_supergraph(&self, supergraph: Supergraph) {
        self.swap_schema(supergraph, EventModel::default());
    }

    /// Starts serving `supergraph` with its event subgraphs' directives. Open subscriptions keep
    /// the generation they started with.
    pub fn swap_schema(&self, supergraph: Supergraph, events: EventModel) {
        let reloaded = self.reloaded_config();
        let traffic = match &reloaded {
            Some(config) => std::borrow::Cow::Owned(crate::traffic::TrafficSettings {
                overrides: crate::traffic::TrafficSettings::subgraph_overrides(config),
                ..self.settings.traffic.clone()
            }),
            None => std::borrow::Cow::Borrowed(&self.settings.traffic),
        };
        let subgraphs = Subgraphs::new(&supergraph, &traffic, &self.traffic, &self.metrics);
        self.state.store(Some(Arc::new(SchemaState {
            supergraph: Arc::new(supergraph),
            subgraphs: Arc::new(subgraphs),
            events: Arc::new(events),
            operations: OperationCache::new(self.settings.operation_cache_bytes),
        })));
    }

    /// Swaps in a schema built from `config`, read again from its file: its subgraph URLs and
    /// timeouts replace the ones the gateway started with, now and for later swaps.
    pub fn swap_schema_from_config(
        &self,
        supergraph: Supergraph,
        events: EventModel,
        config: crate::config::Config,
    ) {
        *self
            .reloaded_config
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Arc::new(config));
        self.swap_schema(supergraph, events);
    }

    /// The config file as a reload last read it, if one did.
    pub fn reloaded_config(&self) -> Option<Arc<crate::config::Config>> {
        self.reloaded_config
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Queries sharing executions right now (`traffic.dedupe_client_requests`).
    pub fn shared_queries(&self) -> SharedQueries {
        self.shared_queries.stats()
    }

    /// How many shared subscriptions are running (identical ones count once).
    pub fn active_subscriptions(&self) -> usize {
        self.subscriptions.active()
    }

    pub fn schema_state(&self) -> Option<Arc<SchemaState>> {
        self.state.load_full()
    }

    pub fn is_ready(&self) -> bool {
        self.state.load().is_some()
    }

    /// Each subgraph's circuit breaker state by name, for `/ready` and metrics; empty until a
    /// schema is loaded.
    pub fn breaker_states(&self) -> Vec<(String, BreakerState)> {
        self.state
            .load()
            .as_ref()
            .map(|state| state.subgraphs.breaker_states())
            .unwrap_or_default()
    }

    /// Runs one operation through every stage, and counts it.
    pub async fn run(&self, context: Arc<RequestContext>, request: GraphqlRequest) -> Answer {
        // A document refused before it is parsed is counted under the name the client gave,
        // when it could be a name: `""` is anonymous, and text no document could declare
        // ("a b", "x\ny") does not take one of the limited name labels.
        let requested_name = request
            .operation_name
            .clone()
            .filter(|name| apollo_compiler::Name::new(name).is_ok());
        let mut count = Count {
            metrics: &self.metrics,
            started: std::time::Instant::now(),
            seen: Seen::default(),
            requested_name,
            outcome: None,
        };
        let answer = self.run_stages(context, request, &mut count.seen).await;
        let outcome = match &answer {
            Answer::Single(response) if response.outcome == Outcome::Executed => {
                if response.error_count == 0 {
                    OperationOutcome::Ok
                } else {
                    OperationOutcome::Errors
                }
            }
            Answer::Single(refused) => {
                if let Some(code) = &refused.refused_code {
                    self.metrics.refused(code);
                }
                OperationOutcome::Refused
            }
            Answer::Stream(_) => OperationOutcome::Ok,
        };
        if let Answer::Single(response) = &answer {
            tracing::Span::current().record("graphql.errors", response.error_count as i64);
        }
        count.outcome = Some(outcome);
        answer
    }

    /// What counts as one client for per-client caps on streams: the header the rate limits
    /// name clients by (`rate_limit.per_client.header`, set by a proxy) when the request has it,
    /// else the principal, else the peer address.
    pub fn client_identity(
        &self,
        context: &RequestContext,
        principal: Option<&str>,
    ) -> Option<String> {
        self.rate_limits
            .client_header_key(context)
            .or_else(|| crate::http::default_client_identity(context, principal))
    }

    /// The stages a request meets before its operation is read: authenticate ▶ rate limit (when
    /// `charge` says so). Operations pass them in [`Gateway::run`]; the HTTP edge passes requests
    /// that carry no operation through them too (reserving an SSE stream, which costs a
    /// streaming client), and asks who sent a request that uses a stream someone reserved.
    pub async fn admit_client(
        &self,
        context: Arc<RequestContext>,
        charge: Charge,
    ) -> Result<Arc<RequestContext>, Answer> {
        let context = authenticate::authenticate(&self.authenticator, context).await?;
        if charge == Charge::RateLimit {
            self.rate_limits.admit(&context).await?;
        }
        Ok(context)
    }

    async fn run_stages(
        &self,
        context: Arc<RequestContext>,
        request: GraphqlRequest,
        seen: &mut Seen,
    ) -> Answer {
        let context = match self.admit_client(context, Charge::RateLimit).await {
            Ok(context) => context,
            Err(refused) => return refused,
        };
        let Some(state) = self.state.load_full() else {
            return Answer::refuse(
                Outcome::NotReady,
                &[GraphqlError::new(
                    "the gateway has no schema loaded yet",
                    "NOT_READY",
                )],
            );
        };
        let resolved = match self.persisted.resolve(&request).await {
            Ok(resolved) => resolved,
            Err(refused) => return refused,
        };
        let query = &*resolved.text;
        let labels = state.supergraph.draw_labels(&self.settings.override_labels);
        let rights = Rights::of(&state.supergraph.access, context.identity.as_deref());
        let prepared = match self
            .preparer
            .get_or_prepare(
                &state.operations,
                &state.supergraph,
                &self.settings.prepare,
                query,
                request.operation_name.as_deref(),
                labels,
                &rights,
            )
            .await
        {
            Ok(prepared) => prepared,
            Err(errors) => {
                let outcome = if errors.iter().any(|e| e.code() == Some(UNAUTHORIZED_CODE)) {
                    Outcome::Forbidden
                } else {
                    Outcome::RequestError
                };
                return Answer::refuse(outcome, &errors);
            }
        };
        if let Some(hash) = resolved.register {
            self.persisted.register(hash, query).await;
        }
        let kind = prepared.planned.kind();
        seen.kind = Some(kind);
        seen.name = prepared.planned.operation.name.clone();
        let span = tracing::Span::current();
        if !span.is_disabled() {
            span.record("graphql.operation.type", kind.keyword());
            if let Some(name) = &seen.name {
                // A client chooses the name's length; traces keep a prefix of a long one. A
                // GraphQL name is ASCII, so any length is a character boundary.
                let end = name
                    .len()
                    .min(crate::telemetry::metrics::MAX_OPERATION_NAME_LABEL);
                span.record("graphql.operation.name", &name.as_str()[..end]);
            }
        }
        if let Err(refused) = admit::admit(kind, context.transport) {
            return refused;
        }
        let variables = match coerce::coerce_variables(
            &state.supergraph.api_schema,
            &prepared.planned.operation,
            request.variables,
        ) {
            Ok(variables) => variables,
            Err(errors) => return Answer::refuse(Outcome::RequestError, &errors),
        };
        let estimate = match cost::demand_control(
            &prepared.planned,
            &state.supergraph,
            &variables,
            &self.settings.prepare.limits.cost,
        ) {
            Ok(estimate) => estimate,
            Err(error) => return Answer::refuse(Outcome::RequestError, &[error]),
        };
        match kind {
            OperationKind::Subscription => {
                subscribe::start(self, &state, context, &prepared, variables).await
            }
            OperationKind::Query if self.settings.dedupe_client_requests => {
                let key = share::ShareKey::new(&prepared, &variables, &state.subgraphs, &context);
                let max_response_bytes = self.settings.max_response_bytes();
                let execute = || {
                    execute::run_owned(
                        state.clone(),
                        self.bridge.clone(),
                        context,
                        prepared,
                        variables,
                        max_response_bytes,
                    )
                };
                let mut response = match self.shared_queries.join_or_start(key, execute) {
                    share::Joined::Started(waiter) => waiter.response().await,
                    share::Joined::Shared(waiter) => {
                        self.metrics.client_request_shared();
                        waiter.response().await
                    }
                };
                // Per client: the estimate is the client's own, whoever ran the execution.
                if let Some(extensions) = estimate {
                    execute::add_extensions(&mut response.body, &extensions);
                }
                Answer::Single(response)
            }
            OperationKind::Query | OperationKind::Mutation => {
                let run = execute::Run {
                    state: &state,
                    bridge: &self.bridge,
                    context: &context,
                    prepared: &prepared,
                    variables: &variables,
                    extensions: estimate,
                    max_response_bytes: self.settings.max_response_bytes(),
                };
                let span = tracing::info_span!(target: SPAN_TARGET, "execute");
                Answer::Single(tracing::Instrument::instrument(run.run(), span).await)
            }
        }
    }

    /// Runs a query or mutation as a POST with no client headers would (embedding, tests).
    pub async fn execute(&self, request: GraphqlRequest) -> GatewayResponse {
        let context = Arc::new(RequestContext::empty(crate::context::Transport::HttpPost));
        match self.run(context, request).await {
            Answer::Single(response) => response,
            Answer::Stream(_) => unreachable_stream(),
        }
    }
}

impl Gateway {
    /// Starts a subscription with no client headers (embedding, tests): its responses, or the
    /// response that refused it — anything but a subscription is refused.
    pub async fn subscribe(
        &self,
        request: GraphqlRequest,
    ) -> Result<crate::subscriptions::ResponseStream, GatewayResponse> {
        let context = Arc::new(RequestContext::empty(
            crate::context::Transport::Subscription,
        ));
        match self.run(context, request).await {
            Answer::Stream(stream) => Ok(stream),
            Answer::Single(response) => Err(response),
        }
    }
}

/// Counts an operation once it ends: with its outcome, or as `cancelled` when the client left
/// and its future was dropped before an answer (it would otherwise not be counted at all).
struct Count<'a> {
    metrics: &'a Metrics,
    started: std::time::Instant,
    seen: Seen,
    requested_name: Option<String>,
    outcome: Option<OperationOutcome>,
}

impl Drop for Count<'_> {
    fn drop(&mut self) {
        self.metrics.operation(
            self.seen
                .name
                .as_ref()
                .map(|name| name.as_str())
                .or(self.requested_name.as_deref()),
            self.seen.kind.map_or("unknown", OperationKind::keyword),
            self.outcome.unwrap_or(OperationOutcome::Cancelled),
            self.started.elapsed(),
        );
    }
}

/// What [`Gateway::run`] learnt about the operation on the way, for its metrics.
#[derive(Default)]
struct Seen {
    name: Option<apollo_compiler::Name>,
    kind: Option<OperationKind>,
}

/// A POST context cannot stream, so `admit` refuses subscriptions before they start; this keeps
/// the type honest without a panic path.
fn unreachable_stream() -> GatewayResponse {
    GatewayResponse::errors(
        Outcome::RequestError,
        &[GraphqlError::new(
            "subscriptions need a streaming transport",
            "SUBSCRIPTION_NOT_SUPPORTED",
        )],
    )
}

/// At most this many errors describe one refused document, as graphql-js stops at 100: past
/// that they tell a client nothing it can act on, and a 14 KB document of `{` would otherwise
/// earn 15,000 parse errors — a 4 MB answer, kept in the operation cache as well.
const MAX_DOCUMENT_ERRORS: usize = 100;

/// Keeps the first [`MAX_DOCUMENT_ERRORS`] of `total` errors and, past that, adds one giving
/// the total under `code`.
fn cap_errors(errors: &mut Vec<GraphqlError>, total: usize, code: &str) {
    if total > MAX_DOCUMENT_ERRORS {
        errors.truncate(MAX_DOCUMENT_ERRORS);
        errors.push(GraphqlError::new(
            format!("too many errors: the first {MAX_DOCUMENT_ERRORS} of {total} are reported"),
            code,
        ));
    }
}

/// apollo-compiler's diagnostics as GraphQL errors with `code` and locations, capped.
fn diagnostics(
    list: &apollo_compiler::validation::DiagnosticList,
    code: &str,
) -> Vec<GraphqlError> {
    let mut errors: Vec<GraphqlError> = list
        .iter()
        .take(MAX_DOCUMENT_ERRORS)
        .map(|d| {
            let json = d.to_json();
            let mut error = GraphqlError::new(json.message, code);
            if !json.locations.is_empty() {
                error.locations = Some(
                    json.locations
                        .iter()
                        .map(|l| Location {
                            line: l.line,
                            column: l.column,
                        })
                        .collect(),
                );
            }
            error
        })
        .collect();
    cap_errors(&mut errors, list.len(), code);
    errors
}
