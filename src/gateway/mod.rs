//! The gateway: the schema state (swapped whole on reload) and one request's path through the
//! pipeline — prepare (cached) ▶ coerce variables ▶ introspection ▶ execute ▶ shape.

pub mod prepare;

use std::sync::Arc;
use std::time::Duration;

use apollo_compiler::request::coerce_variable_values;
use apollo_compiler::response::JsonMap;
use arc_swap::ArcSwapOption;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::execute::shape::{errors_body, shape_response, ShapeInput};
use crate::execute::{endpoints_for, execute, ExecutionContext, SubgraphEndpoint};
use crate::plan::OperationKind;
use crate::response::GraphqlError;
use crate::supergraph::Supergraph;
use prepare::OperationCache;

/// A GraphQL-over-HTTP request; `null` is accepted for every member.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphqlRequest {
    #[serde(default)]
    pub query: Option<String>,
    #[serde(default)]
    pub operation_name: Option<String>,
    #[serde(default)]
    pub variables: Option<Map<String, Value>>,
    #[serde(default)]
    pub extensions: Option<Value>,
}

/// How the HTTP edge should answer, beside the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Execution ran; the body has `data` (possibly with field errors).
    Executed,
    /// A request error: nothing ran, the body has only `errors`.
    RequestError,
    /// The request itself is unusable (no query, wrong method for a mutation).
    BadRequest,
    MethodNotAllowed,
    NotReady,
}

pub struct GatewayResponse {
    pub outcome: Outcome,
    pub body: Vec<u8>,
}

impl GatewayResponse {
    fn errors(outcome: Outcome, errors: &[GraphqlError]) -> Self {
        Self {
            outcome,
            body: errors_body(errors),
        }
    }
}

/// Everything one schema generation serves with. Requests hold an `Arc` to the generation they
/// started with, so a reload never changes the schema under a running request.
pub struct SchemaState {
    pub supergraph: Arc<Supergraph>,
    pub endpoints: Vec<SubgraphEndpoint>,
    /// What the event subgraphs' `@subscribe`/`@publish` directives say (not in the supergraph).
    pub events: Arc<crate::subscriptions::EventModel>,
    operations: OperationCache,
}

pub use crate::execute::SubgraphOverride;

pub struct Gateway {
    state: ArcSwapOption<SchemaState>,
    client: reqwest::Client,
    overrides: std::collections::HashMap<String, SubgraphOverride>,
    /// Custom progressive-override labels switched on for every request (`override_labels`).
    override_labels: Vec<String>,
    /// Where event subgraphs' subscription fields get their events and publish fields send them.
    bridge: crate::bridge::SharedBridge,
    /// `bridge.publish_token`: switches on `POST /bridge/publish` and is what callers must send.
    publish_token: Option<String>,
    /// Open subscriptions, shared by identical operations.
    subscriptions: crate::subscriptions::Hub,
    /// Subscriptions to subgraphs that resolve subscription fields themselves: one socket per
    /// subgraph, identical upstream subscriptions sent once.
    upstreams: crate::subscriptions::upstream::Upstreams,
    /// `limits:`; the operation limits and parser limits apply when an operation is prepared.
    limits: crate::config::limits::LimitsConfig,
}

impl Gateway {
    pub fn new(overrides: std::collections::HashMap<String, SubgraphOverride>) -> Self {
        Self {
            state: ArcSwapOption::empty(),
            client: subgraph_client(),
            overrides,
            override_labels: Vec::new(),
            bridge: std::sync::Arc::new(crate::bridge::memory::MemoryBridge::new()),
            publish_token: None,
            subscriptions: crate::subscriptions::Hub::default(),
            upstreams: crate::subscriptions::upstream::Upstreams::new(),
            limits: Default::default(),
        }
    }

    /// Applies the `limits:` section's operation and parser limits.
    pub fn with_limits(mut self, limits: crate::config::limits::LimitsConfig) -> Self {
        self.limits = limits;
        self
    }

    /// Uses `bridge` for event subgraphs instead of a fresh in-process one.
    pub fn with_bridge(mut self, bridge: crate::bridge::SharedBridge) -> Self {
        self.bridge = bridge;
        self
    }

    pub fn bridge(&self) -> &crate::bridge::SharedBridge {
        &self.bridge
    }

    /// Serves `POST /bridge/publish` to callers presenting `token`; `None` keeps it off.
    pub fn with_publish_token(mut self, token: Option<String>) -> Self {
        self.publish_token = token;
        self
    }

    pub fn publish_token(&self) -> Option<&str> {
        self.publish_token.as_deref()
    }

    /// Switches on these custom `@override` labels for every request.
    pub fn with_override_labels(mut self, labels: Vec<String>) -> Self {
        self.override_labels = labels;
        self
    }

    /// Starts serving `supergraph`; requests already running finish on the previous one.
    pub fn swap_supergraph(&self, supergraph: Supergraph) {
        self.swap_schema(supergraph, crate::subscriptions::EventModel::default());
    }

    /// Starts serving `supergraph` with its event subgraphs' directives. Open subscriptions keep
    /// the generation they started with.
    pub fn swap_schema(&self, supergraph: Supergraph, events: crate::subscriptions::EventModel) {
        let endpoints = endpoints_for(&supergraph, &self.overrides);
        self.state.store(Some(Arc::new(SchemaState {
            supergraph: Arc::new(supergraph),
            endpoints,
            events: Arc::new(events),
            operations: OperationCache::default(),
        })));
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

    pub async fn execute(&self, request: GraphqlRequest, via_get: bool) -> GatewayResponse {
        let Some(state) = self.state.load_full() else {
            return GatewayResponse::errors(
                Outcome::NotReady,
                &[GraphqlError::new(
                    "the gateway has no schema loaded yet",
                    "NOT_READY",
                )],
            );
        };
        let query = match request.query.as_deref() {
            Some(q) if !q.trim().is_empty() => q,
            _ => {
                return GatewayResponse::errors(
                    Outcome::BadRequest,
                    &[GraphqlError::new(
                        "the request has no `query`: send {\"query\": \"...\"}",
                        "MISSING_QUERY",
                    )],
                )
            }
        };
        let supergraph = &state.supergraph;
        let labels = supergraph.draw_labels(&self.override_labels);
        let prepared = match state.operations.get_or_prepare(
            supergraph,
            query,
            request.operation_name.as_deref(),
            labels,
            &self.limits,
        ) {
            Ok(p) => p,
            Err(e) => return GatewayResponse::errors(Outcome::RequestError, &e.errors),
        };
        match prepared.kind() {
            OperationKind::Query => {}
            OperationKind::Mutation if via_get => {
                return GatewayResponse::errors(
                    Outcome::MethodNotAllowed,
                    &[GraphqlError::new(
                        "mutations must be sent with POST",
                        "METHOD_NOT_ALLOWED",
                    )],
                )
            }
            OperationKind::Mutation => {}
            OperationKind::Subscription => {
                return GatewayResponse::errors(
                    Outcome::RequestError,
                    &[GraphqlError::new(
                        "subscriptions are served over WebSocket or SSE, not a plain HTTP request",
                        "SUBSCRIPTION_NOT_SUPPORTED",
                    )],
                )
            }
        }
        let variables = match coerce_variables(supergraph, &prepared.operation, request.variables) {
            Ok(v) => v,
            Err(errors) => return GatewayResponse::errors(Outcome::RequestError, &errors),
        };
        let mut initial = crate::execute::Value::Object(Default::default());
        let mut introspection_errors = Vec::new();
        if prepared.has_introspection {
            match introspect(supergraph, &prepared, &variables) {
                Ok((data, errors)) => {
                    initial = data;
                    introspection_errors = errors;
                }
                Err(errors) => return GatewayResponse::errors(Outcome::RequestError, &errors),
            }
        }
        let variable_map = &variables.json;
        let publisher = match prepared.kind() {
            OperationKind::Mutation => crate::subscriptions::publish::Publisher::new(
                &state.supergraph,
                &state.events,
                &self.bridge,
            ),
            _ => None,
        };
        let ctx = ExecutionContext {
            client: &self.client,
            endpoints: &state.endpoints,
            variables: variable_map,
            local: publisher
                .as_ref()
                .map(|p| p as &dyn crate::execute::LocalSubgraphs),
        };
        let mut output = execute(&ctx, &prepared.plan, initial).await;
        output.errors.splice(0..0, introspection_errors);
        let input = ShapeInput {
            schema: &supergraph.api_schema,
            document: &prepared.document,
            selection_set: &prepared.operation.selection_set,
            root_type: prepared.operation.object_type().as_str(),
            variables: variable_map,
            failed_objects: &output.failed_objects,
        };
        GatewayResponse {
            outcome: Outcome::Executed,
            body: shape_response(&input, &output.data, output.errors),
        }
    }
}

impl Gateway {
    /// Starts a subscription operation; each response of the stream is a complete GraphQL
    /// response body. Request errors (parse, validation, not a subscription) come back as `Err`
    /// with the body to send once.
    pub async fn subscribe(
        &self,
        request: GraphqlRequest,
        context: crate::subscriptions::SubscriptionContext,
    ) -> Result<crate::subscriptions::ResponseStream, GatewayResponse> {
        // Nothing in the context changes a response yet; header propagation will use it.
        let _ = context;
        let Some(state) = self.state.load_full() else {
            return Err(GatewayResponse::errors(
                Outcome::NotReady,
                &[GraphqlError::new(
                    "the gateway has no schema loaded yet",
                    "NOT_READY",
                )],
            ));
        };
        let query = match request.query.as_deref() {
            Some(q) if !q.trim().is_empty() => q,
            _ => {
                return Err(GatewayResponse::errors(
                    Outcome::BadRequest,
                    &[GraphqlError::new(
                        "the request has no `query`: send {\"query\": \"...\"}",
                        "MISSING_QUERY",
                    )],
                ))
            }
        };
        let labels = state.supergraph.draw_labels(&self.override_labels);
        let prepared = state
            .operations
            .get_or_prepare(
                &state.supergraph,
                query,
                request.operation_name.as_deref(),
                labels,
                &self.limits,
            )
            .map_err(|e| GatewayResponse::errors(Outcome::RequestError, &e.errors))?;
        if prepared.kind() != OperationKind::Subscription {
            return Err(GatewayResponse::errors(
                Outcome::RequestError,
                &[GraphqlError::new(
                    format!(
                        "expected a subscription, got a {}; run it with Gateway::execute",
                        prepared.kind().keyword()
                    ),
                    "NOT_A_SUBSCRIPTION",
                )],
            ));
        }
        let variables = coerce_variables(&state.supergraph, &prepared.operation, request.variables)
            .map_err(|errors| GatewayResponse::errors(Outcome::RequestError, &errors))?;
        crate::subscriptions::start(crate::subscriptions::Start {
            hub: &self.subscriptions,
            bridge: &self.bridge,
            upstreams: &self.upstreams,
            client: &self.client,
            state,
            prepared,
            variables: variables.json,
            labels,
        })
        .await
        .map_err(|errors| GatewayResponse::errors(Outcome::RequestError, &errors))
    }
}

impl Gateway {
    /// The kind of operation `request` names, if it parses and validates (prepared through the
    /// operation cache, so running it afterwards costs no second parse), so a transport can tell
    /// a subscription from a query before choosing how to run it.
    pub fn operation_kind(&self, request: &GraphqlRequest) -> Option<OperationKind> {
        let state = self.state.load_full()?;
        let query = request.query.as_deref()?;
        let labels = state.supergraph.draw_labels(&self.override_labels);
        state
            .operations
            .get_or_prepare(
                &state.supergraph,
                query,
                request.operation_name.as_deref(),
                labels,
                &self.limits,
            )
            .ok()
            .map(|prepared| prepared.kind())
    }
}

/// Coerced variables, both as serde_json (for subgraphs and shaping) and as apollo-compiler's map.
struct Variables {
    /// For subgraph requests, `Condition` nodes and shaping.
    json: Map<String, Value>,
    /// For the introspection executor.
    coerced: apollo_compiler::validation::Valid<JsonMap>,
}

fn coerce_variables(
    supergraph: &Supergraph,
    operation: &apollo_compiler::executable::Operation,
    raw: Option<Map<String, Value>>,
) -> Result<Variables, Vec<GraphqlError>> {
    let raw: JsonMap =
        serde_json::from_value(Value::Object(raw.unwrap_or_default())).map_err(|e| {
            vec![GraphqlError::new(
                format!("invalid variables: {e}"),
                "VALIDATION_INVALID_TYPE_VARIABLE",
            )]
        })?;
    let coerced = coerce_variable_values(&supergraph.api_schema, operation, &raw).map_err(|e| {
        vec![GraphqlError::new(
            e.message().to_string(),
            "VALIDATION_INVALID_TYPE_VARIABLE",
        )]
    })?;
    let json = match serde_json::to_value(&*coerced) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    Ok(Variables { json, coerced })
}

fn introspect(
    supergraph: &Supergraph,
    prepared: &prepare::PreparedOperation,
    variables: &Variables,
) -> Result<(crate::execute::Value, Vec<GraphqlError>), Vec<GraphqlError>> {
    let request_error = |e: apollo_compiler::request::RequestError| {
        vec![GraphqlError::new(
            e.message().to_string(),
            "INTROSPECTION_FAILED",
        )]
    };
    apollo_compiler::introspection::check_max_depth(&prepared.document, &prepared.operation)
        .map_err(request_error)?;
    let response = apollo_compiler::introspection::partial_execute(
        &supergraph.api_schema,
        &supergraph.api_implementers,
        &prepared.document,
        &prepared.operation,
        &variables.coerced,
    )
    .map_err(request_error)?;
    let data = response
        .data
        // Through JSON text into the response tree's own type, which keeps the keys' order.
        .and_then(|d| serde_json::to_vec(&d).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_else(|| crate::execute::Value::Object(Default::default()));
    let errors = response
        .errors
        .into_iter()
        .map(|e| GraphqlError::new(e.message, "INTROSPECTION_FAILED"))
        .collect();
    Ok((data, errors))
}

/// One pooled client for every subgraph: keep-alive connections are reused across requests.
fn subgraph_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(5))
        .build()
        .unwrap_or_default()
}
