//! Running a query plan: fetches in the plan's order, each answer merged into one response tree.
//!
//! The tree is owned by a single task. Parallel fetches are polled concurrently in that task, and a
//! lock is held only while a request is built or an answer merged, never across a network wait.

mod batch;
mod context;
mod fetch;
mod lookup;
mod rename;
mod report;
mod representation;
pub mod shape;
mod visible_paths;

use std::sync::{Arc, Mutex};

use futures::future::{join_all, BoxFuture};
use futures::FutureExt;
use serde_json::Map;

pub use crate::response::{Object, Value};

use crate::context::RequestContext;
use crate::plan::{BatchFetch, FetchNode, OperationKind, PlanNode, QueryPlan};
use crate::response::{GraphqlError, PathSegment};
use crate::traffic::{SubgraphResponse, Subgraphs};
use report::Report;

pub struct ExecutionContext<'a> {
    /// The subgraph client of the schema generation the request runs on.
    pub subgraphs: &'a Subgraphs,
    /// Passed down to every subgraph call (header rules, deadline).
    pub request: &'a Arc<RequestContext>,
    /// The client operation's kind, passed down too: a query's fetches may be retried, a
    /// mutation's never.
    pub operation: OperationKind,
    /// Coerced variable values (defaults applied), forwarded to subgraphs as they are used.
    pub variables: &'a Map<String, serde_json::Value>,
    /// Subgraphs the gateway answers itself rather than over HTTP (event subgraphs).
    pub local: Option<&'a dyn LocalSubgraphs>,
    /// `limits.max_response_bytes` (`None`: no limit).
    pub max_response_bytes: Option<usize>,
}

/// Answers root fetches to subgraphs that have no URL because the gateway resolves their fields
/// itself: an event subgraph's `@publish` mutation fields publish to the bridge. The answer is
/// merged like a subgraph's, so the rest of the plan (entity fetches) runs as usual.
pub trait LocalSubgraphs: Send + Sync {
    fn handles(&self, subgraph: crate::supergraph::SubgraphId) -> bool;

    fn resolve<'a>(
        &'a self,
        fetch: &'a FetchNode,
        variables: &'a Map<String, serde_json::Value>,
    ) -> BoxFuture<'a, LocalAnswer>;
}

/// A local subgraph's answer: `data` keyed by the fetch's response keys, and field errors.
pub struct LocalAnswer {
    pub data: Option<Value>,
    pub errors: Vec<GraphqlError>,
}

struct State {
    data: Value,
    report: Report,
    budget: Budget,
}

/// What the response may still grow by (`limits.max_response_bytes`), counted as answers are
/// merged: an answer adds its size, and an entity answer its size once per place it fills over
/// the entities asked, since each is copied to every place. Past the limit the tree is dropped
/// and nothing more is fetched.
struct Budget {
    left: Option<usize>,
    exceeded: bool,
}

impl Budget {
    /// Whether an answer of `bytes` filling `places` from `asked` entities (0: a root answer)
    /// still fits; when it does not, the budget is spent for good.
    fn admit(&mut self, bytes: usize, places: usize, asked: usize) -> bool {
        let Some(left) = self.left.as_mut() else {
            return true;
        };
        let grows = bytes
            .saturating_mul(places.max(asked))
            .checked_div(asked)
            .unwrap_or(bytes);
        match left.checked_sub(grows) {
            Some(rest) if !self.exceeded => {
                *left = rest;
                true
            }
            _ => {
                self.exceeded = true;
                false
            }
        }
    }
}

/// What running a plan produced, ready for shaping.
pub struct ExecutionOutput {
    pub data: Value,
    pub errors: Vec<GraphqlError>,
    /// Client paths of objects a failed entity fetch was to complete: their missing fields are
    /// explained by that fetch's error.
    pub failed_objects: Vec<Vec<PathSegment>>,
    /// The response would have passed `limits.max_response_bytes`: `data` was dropped and the
    /// response is this refusal alone.
    pub too_large: bool,
}

/// Runs the plan and returns the merged response tree and the errors collected on the way.
pub async fn execute(
    ctx: &ExecutionContext<'_>,
    plan: &QueryPlan,
    initial: Value,
) -> ExecutionOutput {
    let state = Mutex::new(State {
        data: initial,
        report: Report::default(),
        budget: Budget {
            left: ctx.max_response_bytes,
            exceeded: false,
        },
    });
    match &plan.root {
        Some(PlanNode::Sequence(steps)) if !plan.non_null_roots.is_empty() => {
            run_mutation_steps(ctx, steps, &plan.non_null_roots, &state).await
        }
        Some(root) => run_node(ctx, root, &state).await,
        None => {}
    }
    let state = state
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    ExecutionOutput {
        data: state.data,
        errors: state.report.errors,
        failed_objects: state.report.failed_objects,
        too_large: state.budget.exceeded,
    }
}

/// A mutation's steps in order, stopping once a non-null root field came back null (or not at
/// all): `data` is null then whatever follows, so the later mutation fields are not run, as
/// graphql-js stops a serial execution whose error reached the root. A null that only a later
/// step's entity fetch would cause inside such a field is found when shaping, too late to stop.
async fn run_mutation_steps(
    ctx: &ExecutionContext<'_>,
    steps: &[PlanNode],
    non_null_roots: &[apollo_compiler::Name],
    state: &Mutex<State>,
) {
    for step in steps {
        run_node(ctx, step, state).await;
        let mut settled = Vec::new();
        root_keys_of(step, ctx.variables, &mut settled);
        let guard = lock(state);
        let nulled = settled
            .iter()
            .filter(|key| non_null_roots.contains(key))
            .any(|key| {
                guard
                    .data
                    .as_object()
                    .and_then(|data| data.get(key.as_str()))
                    .is_none_or(Value::is_null)
            });
        if nulled {
            return;
        }
    }
}

/// The root response keys the root fetches under `node` answered (of a `Condition`, only the
/// branch that ran: the other's keys are absent from the data without being null).
fn root_keys_of<'a>(
    node: &'a PlanNode,
    variables: &Map<String, serde_json::Value>,
    out: &mut Vec<&'a apollo_compiler::Name>,
) {
    match node {
        PlanNode::Fetch(fetch) if fetch.entity.is_none() && fetch.merge_path.is_empty() => {
            out.extend(fetch.root_keys.iter())
        }
        PlanNode::Fetch(_) | PlanNode::Batch(_) => {}
        PlanNode::Sequence(nodes) | PlanNode::Parallel(nodes) => {
            nodes.iter().for_each(|n| root_keys_of(n, variables, out))
        }
        PlanNode::Condition {
            variable,
            if_true,
            if_false,
        } => {
            if let Some(branch) = branch_taken(variables, variable, if_true, if_false) {
                root_keys_of(branch, variables, out);
            }
        }
    }
}

/// Whether `@skip`/`@include` keep a selection for these (coerced) variables; other
/// directives say nothing.
pub(crate) fn included(
    directives: &apollo_compiler::executable::DirectiveList,
    variables: &Map<String, serde_json::Value>,
) -> bool {
    directives.iter().all(|d| {
        let wanted = match d.name.as_str() {
            "skip" => false,
            "include" => true,
            _ => return true,
        };
        let value = match d.specified_argument_by_name("if").map(|v| &**v) {
            Some(apollo_compiler::ast::Value::Boolean(b)) => *b,
            Some(apollo_compiler::ast::Value::Variable(v)) => is_true(variables, v),
            _ => return true,
        };
        value == wanted
    })
}

/// A root fetch every field of which `@skip`/`@include` leave out is not sent: it would ask the
/// subgraph for nothing (async-graphql answers that with `data: null`, which reads as a broken
/// answer).
fn asks_nothing(fetch: &FetchNode, variables: &Map<String, serde_json::Value>) -> bool {
    fetch.entity.is_none()
        && fetch.merge_path.is_empty()
        && fetch.selection.items().iter().all(|item| match item {
            crate::plan::selection::Selection::Field(field) => {
                !included(&field.directives, variables)
            }
            crate::plan::selection::Selection::Fragment(_) => false,
        })
}

/// The branch of a `Condition` node the request's variables choose.
fn branch_taken<'a>(
    variables: &Map<String, serde_json::Value>,
    variable: &apollo_compiler::Name,
    if_true: &'a Option<Box<PlanNode>>,
    if_false: &'a Option<Box<PlanNode>>,
) -> Option<&'a PlanNode> {
    if is_true(variables, variable) {
        if_true
    } else {
        if_false
    }
    .as_deref()
}

/// A boolean variable's value; anything else (absent, null) reads as false.
fn is_true(variables: &Map<String, serde_json::Value>, name: &apollo_compiler::Name) -> bool {
    variables
        .get(name.as_str())
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false)
}

/// Counts an answer against the budget; past it, drops the tree (its memory is the point) and
/// tells the caller not to merge.
fn within_budget(state: &mut State, bytes: usize, places: usize, asked: usize) -> bool {
    if state.budget.admit(bytes, places, asked) {
        return true;
    }
    state.data = Value::Null;
    false
}

fn run_node<'a>(
    ctx: &'a ExecutionContext<'a>,
    node: &'a PlanNode,
    state: &'a Mutex<State>,
) -> BoxFuture<'a, ()> {
    async move {
        match node {
            PlanNode::Fetch(fetch) => run_fetch(ctx, fetch, state).await,
            PlanNode::Batch(batch) => run_batch(ctx, batch, state).await,
            PlanNode::Sequence(nodes) => {
                for n in nodes {
                    run_node(ctx, n, state).await;
                }
            }
            PlanNode::Parallel(nodes) => {
                join_all(nodes.iter().map(|n| run_node(ctx, n, state))).await;
            }
            PlanNode::Condition {
                variable,
                if_true,
                if_false,
            } => {
                if let Some(n) = branch_taken(ctx.variables, variable, if_true, if_false) {
                    run_node(ctx, n, state).await;
                }
            }
        }
    }
    .boxed()
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn run_fetch(ctx: &ExecutionContext<'_>, node: &FetchNode, state: &Mutex<State>) {
    if asks_nothing(node, ctx.variables) {
        return;
    }
    let contexts = node
        .entity
        .as_ref()
        .filter(|entity| entity.lookup.is_none())
        .map(|entity| entity.contexts.as_slice())
        .unwrap_or_default();
    if contexts.is_empty() {
        return run_fetch_part(ctx, node, state, None).await;
    }
    // One request per distinct set of context values, each with the entities that have it.
    let parts = context::partitions(node, contexts, &lock(state).data);
    join_all(
        (0..parts.values.len()).map(|part| run_fetch_part(ctx, node, state, Some((&parts, part)))),
    )
    .await;
}

/// Runs `node`, or with `part` only the entities of one set of context values of a context fetch.
async fn run_fetch_part(
    ctx: &ExecutionContext<'_>,
    node: &FetchNode,
    state: &Mutex<State>,
    part: Option<(&context::Partitions, usize)>,
) {
    // Stitching: entities of a plain service are fetched through its lookup field.
    let lookup = node
        .entity
        .as_ref()
        .and_then(|entity| entity.lookup.as_ref());
    let prepared = {
        let mut guard = lock(state);
        // Past the budget nothing more is fetched, except a mutation's next fields: they run
        // (their effects are what the client asked for), and only their data is dropped.
        if guard.budget.exceeded && ctx.operation != OperationKind::Mutation {
            return;
        }
        let State { data, report, .. } = &mut *guard;
        match lookup {
            Some(lookup) => lookup::prepare(node, lookup, data, ctx.variables, report),
            None => match part {
                None => fetch::prepare(node, data, ctx.variables, report, None),
                Some((parts, part)) => {
                    let keep = |indices: &[usize]| parts.of_target.get(indices) == Some(&part);
                    let values = parts.values[part].as_slice();
                    fetch::prepare(node, data, ctx.variables, report, Some((values, &keep)))
                }
            },
        }
    };
    let Some(mut prepared) = prepared else {
        return;
    };
    if let Some(local) = ctx
        .local
        .filter(|l| node.entity.is_none() && l.handles(node.subgraph))
    {
        let answer = local.resolve(node, ctx.variables).await;
        let response = SubgraphResponse {
            data: answer.data.map(Arc::new),
            errors: answer.errors,
            http_error: None,
            bytes: 0,
        };
        let mut guard = lock(state);
        let State { data, report, .. } = &mut *guard;
        fetch::merge(node, prepared, response, data, report);
        return;
    }
    let body = std::mem::take(&mut prepared.body);
    let result = ctx
        .subgraphs
        .call(node.subgraph, ctx.request, ctx.operation, body)
        .await;
    let mut guard = lock(state);
    match result {
        Ok(mut response) => {
            let (places, asked) = prepared.fan_out();
            if !within_budget(&mut guard, response.bytes, places, asked) {
                return;
            }
            let State { data, report, .. } = &mut *guard;
            report_http_error(&mut response, report);
            let response = match lookup {
                Some(_) => lookup::as_entities(response, prepared.rep_count),
                None => response,
            };
            fetch::merge(node, prepared, response, data, report)
        }
        Err(error) => fetch::fail(node, &prepared, error.into_graphql(), &mut guard.report),
    }
}

/// A GraphQL answer that came with an HTTP error status: once per call, without a path (it is
/// about the call, not one field; the answer's own errors say which fields failed).
fn report_http_error(response: &mut SubgraphResponse, report: &mut Report) {
    if let Some(error) = response.http_error.take() {
        report.errors.push(error.into_graphql());
    }
}

/// Runs the entity fetches of a batch as one subgraph request.
async fn run_batch(ctx: &ExecutionContext<'_>, batch: &BatchFetch, state: &Mutex<State>) {
    let prepared = {
        let mut guard = lock(state);
        // Past the budget nothing more is fetched, except a mutation's next fields: they run
        // (their effects are what the client asked for), and only their data is dropped.
        if guard.budget.exceeded && ctx.operation != OperationKind::Mutation {
            return;
        }
        let State { data, report, .. } = &mut *guard;
        batch::prepare(batch, data, ctx.variables, report)
    };
    let Some(mut prepared) = prepared else {
        return;
    };
    let body = std::mem::take(&mut prepared.body);
    let result = ctx
        .subgraphs
        .call(batch.subgraph, ctx.request, ctx.operation, body)
        .await;
    let mut guard = lock(state);
    match result {
        Ok(mut response) => {
            let (places, asked) = prepared.fan_out();
            if !within_budget(&mut guard, response.bytes, places, asked) {
                return;
            }
            let State { data, report, .. } = &mut *guard;
            report_http_error(&mut response, report);
            batch::merge(batch, prepared, response, data, report)
        }
        Err(error) => batch::fail(batch, &prepared, error.into_graphql(), &mut guard.report),
    }
}
