//! Running a query plan: fetches in the plan's order, each answer merged into one response tree.
//!
//! The tree is owned by a single task. Parallel fetches are polled concurrently in that task, and a
//! lock is held only while a request is built or an answer merged, never across a network wait.

mod fetch;
pub mod json;
mod lookup;
mod representation;
pub mod shape;
pub mod value;

use std::sync::Mutex;
use std::time::Duration;

use futures::future::{join_all, BoxFuture};
use futures::FutureExt;
use serde_json::Map;

pub use fetch::MAX_SUBGRAPH_RESPONSE_BYTES;
pub use value::{Object, Value};

use crate::plan::{FetchNode, PlanNode, QueryPlan};
use crate::response::{GraphqlError, PathSegment};
use fetch::Report;

/// Where and how to call each subgraph, indexed by [`crate::supergraph::SubgraphId`].
#[derive(Debug, Clone)]
pub struct SubgraphEndpoint {
    pub name: String,
    pub url: String,
    /// Parsed once here rather than on every request; `None` if `url` is not a valid URL.
    pub parsed_url: Option<reqwest::Url>,
    pub timeout: Duration,
    /// The `graphql-transport-ws` endpoint for the subgraph's own subscription fields; see
    /// [`subscription_url_for`].
    pub subscription_url: Option<String>,
}

pub struct ExecutionContext<'a> {
    pub client: &'a reqwest::Client,
    pub endpoints: &'a [SubgraphEndpoint],
    /// Coerced variable values (defaults applied), forwarded to subgraphs as they are used.
    pub variables: &'a Map<String, serde_json::Value>,
    /// Subgraphs the gateway answers itself rather than over HTTP (event subgraphs).
    pub local: Option<&'a dyn LocalSubgraphs>,
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
}

/// What running a plan produced, ready for shaping.
pub struct ExecutionOutput {
    pub data: Value,
    pub errors: Vec<GraphqlError>,
    /// Client paths of objects a failed entity fetch was to complete: their missing fields are
    /// explained by that fetch's error.
    pub failed_objects: Vec<Vec<PathSegment>>,
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
    });
    if let Some(root) = &plan.root {
        run_node(ctx, root, &state).await;
    }
    let state = state
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    ExecutionOutput {
        data: state.data,
        errors: state.report.errors,
        failed_objects: state.report.failed_objects,
    }
}

fn run_node<'a>(
    ctx: &'a ExecutionContext<'a>,
    node: &'a PlanNode,
    state: &'a Mutex<State>,
) -> BoxFuture<'a, ()> {
    async move {
        match node {
            PlanNode::Fetch(fetch) => run_fetch(ctx, fetch, state).await,
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
                let value = ctx
                    .variables
                    .get(variable.as_str())
                    .and_then(serde_json::Value::as_bool)
                    .unwrap_or(false);
                let branch = if value { if_true } else { if_false };
                if let Some(n) = branch {
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
    // Stitching: entities of a plain service are fetched through its lookup field.
    let lookup = node
        .entity
        .as_ref()
        .and_then(|entity| entity.lookup.as_ref());
    let prepared = {
        let mut guard = lock(state);
        let State { data, report } = &mut *guard;
        match lookup {
            Some(lookup) => lookup::prepare(node, lookup, data, ctx.variables, report),
            None => fetch::prepare(node, data, ctx.variables, report),
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
        let response = fetch::SubgraphResponse {
            data: answer.data,
            errors: answer.errors,
        };
        let mut guard = lock(state);
        let State { data, report } = &mut *guard;
        fetch::merge(node, prepared, response, data, report);
        return;
    }
    let Some(endpoint) = ctx.endpoints.get(node.subgraph.0 as usize) else {
        return;
    };
    let body = std::mem::take(&mut prepared.body);
    let result = fetch::send(
        ctx.client,
        &endpoint.name,
        endpoint.parsed_url.as_ref(),
        endpoint.timeout,
        body,
    )
    .await;
    let mut guard = lock(state);
    let State { data, report } = &mut *guard;
    match result {
        Ok(response) => {
            let response = match lookup {
                Some(_) => lookup::as_entities(response, prepared.rep_count),
                None => response,
            };
            fetch::merge(node, prepared, response, data, report)
        }
        Err(error) => {
            tracing::warn!(subgraph = %endpoint.name, %error, "subgraph fetch failed");
            fetch::fail(node, &prepared, error.into_graphql(), report);
        }
    }
}

/// Per-subgraph settings from the config, applied over the supergraph's URL and the default timeout.
#[derive(Debug, Clone, Default)]
pub struct SubgraphOverride {
    pub url: Option<String>,
    pub timeout: Option<Duration>,
    pub subscription_url: Option<String>,
}

/// The endpoint list for a supergraph, with URL and timeout overrides by subgraph name.
pub fn endpoints_for(
    supergraph: &crate::supergraph::Supergraph,
    overrides: &std::collections::HashMap<String, SubgraphOverride>,
) -> Vec<SubgraphEndpoint> {
    supergraph
        .subgraphs
        .iter()
        .map(|s| {
            let o = overrides.get(&*s.name.0);
            let url = o
                .and_then(|o| o.url.clone())
                .unwrap_or_else(|| s.url.clone());
            let timeout = o.and_then(|o| o.timeout);
            let subscription_url = o
                .and_then(|o| o.subscription_url.clone())
                .or_else(|| subscription_url_for(&url));
            SubgraphEndpoint {
                name: s.name.to_string(),
                parsed_url: reqwest::Url::parse(&url).ok(),
                url,
                timeout: timeout.unwrap_or(DEFAULT_TIMEOUT),
                subscription_url,
            }
        })
        .collect()
}

/// The WebSocket URL assumed for a subgraph whose config gives no `subscription_url`: its HTTP
/// URL with the `ws` (`wss` for `https`) scheme, same host and path. GraphQL servers commonly
/// take the WebSocket upgrade on their HTTP endpoint (Apollo Server, GraphQL Yoga, async-graphql
/// when so routed), so this works without configuration more often than any other guess; a
/// subgraph serving it elsewhere names it with `subscription_url`. `None` for a URL that is not
/// HTTP (e.g. the placeholder of an event subgraph).
pub fn subscription_url_for(http_url: &str) -> Option<String> {
    let (scheme, rest) = http_url.split_once("://")?;
    let ws = match scheme.to_ascii_lowercase().as_str() {
        "http" => "ws",
        "https" => "wss",
        _ => return None,
    };
    Some(format!("{ws}://{rest}"))
}

/// A subgraph that has not answered in this long is treated as down for this request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

#[cfg(test)]
mod tests {
    use super::subscription_url_for;

    #[test]
    fn subscription_urls_default_to_the_http_url_over_websocket() {
        assert_eq!(
            subscription_url_for("http://reviews:4002/graphql").as_deref(),
            Some("ws://reviews:4002/graphql")
        );
        assert_eq!(
            subscription_url_for("HTTPS://reviews.example/graphql?x=1").as_deref(),
            Some("wss://reviews.example/graphql?x=1")
        );
        assert_eq!(subscription_url_for(""), None);
        assert_eq!(subscription_url_for("unix:///tmp/socket"), None);
    }
}
