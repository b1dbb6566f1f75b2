//! Execute: a prepared query or mutation ▶ the merged response tree, then shaped into the
//! client's response. Introspection is answered here from the API schema; everything else comes
//! from the subgraphs through the plan.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use apollo_compiler::response::JsonMap;
use apollo_compiler::validation::Valid;
use bytes::Bytes;
use serde_json::{Map, Value as Json};

use super::prepare::PreparedOperation;
use super::respond::{GatewayResponse, Outcome};
use super::SchemaState;
use crate::bridge::SharedBridge;
use crate::context::RequestContext;
use crate::execute::shape::{shape_response, too_large_body, ShapeInput};
use crate::execute::{execute, ExecutionContext, LocalSubgraphs};
use crate::plan::OperationKind;
use crate::response::{GraphqlError, Object, Value};
use crate::subscriptions::publish::Publisher;
use crate::supergraph::Supergraph;
use crate::telemetry::SPAN_TARGET;

/// One query or mutation to run.
pub(super) struct Run<'a> {
    pub state: &'a SchemaState,
    pub bridge: &'a SharedBridge,
    pub context: &'a Arc<RequestContext>,
    pub prepared: &'a PreparedOperation,
    pub variables: &'a Map<String, Json>,
    /// Added to the response as its `extensions` (the cost estimate, when exposed).
    pub extensions: Option<Map<String, Json>>,
    /// `limits.max_response_bytes` (`None`: no limit).
    pub max_response_bytes: Option<usize>,
}

impl Run<'_> {
    pub(super) async fn run(self) -> GatewayResponse {
        let mut response = run(
            self.state,
            self.bridge,
            self.context,
            self.prepared,
            self.variables,
            self.max_response_bytes,
        )
        .await;
        if let Some(extensions) = self.extensions {
            add_extensions(&mut response.body, &extensions);
        }
        response
    }
}

/// Runs a query with everything it needs owned, so it can be a task of its own (a shared
/// execution, `share.rs`); the caller adds its own `extensions`.
pub(super) async fn run_owned(
    state: Arc<SchemaState>,
    bridge: SharedBridge,
    context: Arc<RequestContext>,
    prepared: Arc<PreparedOperation>,
    variables: Map<String, Json>,
    max_response_bytes: Option<usize>,
) -> GatewayResponse {
    let span = tracing::info_span!(target: SPAN_TARGET, "execute", seam.shared = true);
    let response = run(
        &state,
        &bridge,
        &context,
        &prepared,
        &variables,
        max_response_bytes,
    );
    tracing::Instrument::instrument(response, span).await
}

/// No response buffer starts larger than this, whatever the last response was: one client's
/// huge answer must not make the next clients' small ones reserve as much (a larger response
/// grows from here by doubling, a few copies against its own size).
const MAX_CAPACITY_HINT: usize = 1 << 20;

/// Appends `"extensions"` to a response body written by shaping, which always ends in `}`.
/// Copies the body only when another client shares it.
pub(super) fn add_extensions(body: &mut Bytes, extensions: &Map<String, Json>) {
    if body.last() != Some(&b'}') {
        return;
    }
    let mut owned = Vec::from(std::mem::take(body));
    append_extensions(&mut owned, extensions);
    *body = owned.into();
}

fn append_extensions(body: &mut Vec<u8>, extensions: &Map<String, Json>) {
    body.pop();
    body.extend_from_slice(b",\"extensions\":");
    if serde_json::to_writer(&mut *body, extensions).is_err() {
        body.extend_from_slice(b"{}");
    }
    body.push(b'}');
}

async fn run(
    state: &SchemaState,
    bridge: &SharedBridge,
    context: &Arc<RequestContext>,
    prepared: &PreparedOperation,
    variables: &Map<String, Json>,
    max_response_bytes: Option<usize>,
) -> GatewayResponse {
    let supergraph = &state.supergraph;
    let planned = &prepared.planned;
    let mut initial = Value::Object(Object::default());
    let mut introspection_errors = Vec::new();
    if prepared.has_introspection {
        match introspect(supergraph, prepared, variables) {
            Ok((data, errors)) => {
                initial = data;
                introspection_errors = errors;
            }
            Err(errors) => return GatewayResponse::errors(Outcome::RequestError, &errors),
        }
    }
    // `@publish` mutation fields of event subgraphs are answered by the gateway itself.
    let publisher = match planned.kind() {
        OperationKind::Mutation => Publisher::new(&state.supergraph, &state.events, bridge),
        _ => None,
    };
    let ctx = ExecutionContext {
        subgraphs: &state.subgraphs,
        request: context,
        operation: planned.kind(),
        variables,
        local: publisher.as_ref().map(|p| p as &dyn LocalSubgraphs),
        max_response_bytes,
    };
    let mut output = execute(&ctx, &planned.plan, initial).await;
    if let (true, Some(limit)) = (output.too_large, max_response_bytes) {
        return GatewayResponse {
            outcome: Outcome::Executed,
            body: too_large_body(limit).into(),
            error_count: 1,
            refused_code: None,
        };
    }
    output.errors.splice(0..0, introspection_errors);
    let input = ShapeInput {
        schema: &supergraph.api_schema,
        document: &planned.document,
        selection_set: &planned.operation.selection_set,
        root_type: planned.operation.object_type().as_str(),
        variables,
        failed_objects: &output.failed_objects,
        capacity: prepared.last_response_len.load(Ordering::Relaxed),
        max_bytes: max_response_bytes,
    };
    let (body, error_count) = shape_response(&input, &output.data, output.errors);
    prepared
        .last_response_len
        .store(body.len().min(MAX_CAPACITY_HINT), Ordering::Relaxed);
    GatewayResponse {
        outcome: Outcome::Executed,
        body: body.into(),
        error_count,
        refused_code: None,
    }
}

/// Answers `__schema`/`__type` from the API schema; the rest of the tree is left to the plan.
fn introspect(
    supergraph: &Supergraph,
    prepared: &PreparedOperation,
    variables: &Map<String, Json>,
) -> Result<(Value, Vec<GraphqlError>), Vec<GraphqlError>> {
    let planned = &prepared.planned;
    let request_error = |e: apollo_compiler::request::RequestError| {
        vec![GraphqlError::new(
            e.message().to_string(),
            "INTROSPECTION_FAILED",
        )]
    };
    apollo_compiler::introspection::check_max_depth(&planned.document, &planned.operation)
        .map_err(request_error)?;
    // The variables were coerced by our own stage; the introspection executor takes them in
    // its own map type.
    let coerced: JsonMap =
        serde_json::from_value(Json::Object(variables.clone())).unwrap_or_default();
    let response = apollo_compiler::introspection::partial_execute(
        &supergraph.api_schema,
        &supergraph.api_implementers,
        &planned.document,
        &planned.operation,
        Valid::assume_valid_ref(&coerced),
    )
    .map_err(request_error)?;
    let data = response
        .data
        // Through JSON text into the response tree's own type, which keeps the keys' order.
        .and_then(|d| serde_json::to_vec(&d).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_else(|| Value::Object(Object::default()));
    let errors = response
        .errors
        .into_iter()
        .map(|e| GraphqlError::new(e.message, "INTROSPECTION_FAILED"))
        .collect();
    Ok((data, errors))
}
