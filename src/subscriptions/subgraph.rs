//! Subscription fields a subgraph resolves itself: Seam subscribes to the subgraph over
//! `graphql-transport-ws` (see [`super::upstream`]) with the root fetch the planner made for the
//! field, and treats each `data` the subgraph sends as that fetch's answer, so the rest of the
//! plan completes it with other subgraphs' fields exactly as for a query.
//!
//! Sharing happens twice: clients with the same operation and variables share one execution per
//! event (the hub), and different operations that ask the subgraph the same thing share one
//! upstream subscription (the upstream client). A client leaving drops its share; the upstream
//! subscription is completed when no share is left.

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::event_value::split_plan;
use super::execution::{share_key, EventExecution, RootField, Start, EVENTS_IN_FLIGHT};
use super::upstream::UpstreamEvent;
use super::ResponseStream;
use crate::execute::shape::errors_body;
use crate::response::GraphqlError;
use crate::response::{Object, Value};
use crate::supergraph::SubgraphId;
use crate::traffic::Subgraphs;

/// The code of the last response of a subscription whose subgraph connection failed, and of
/// the request error when the subgraph cannot be subscribed to at all.
const UPSTREAM_FAILED: &str = "SUBSCRIPTION_UPSTREAM_FAILED";
/// A subscription fell behind the subgraph's events and lost some (it goes on).
const EVENTS_LOST: &str = "SUBSCRIPTION_EVENTS_LOST";

/// Starts a subscription to the subgraph that resolves `root`.
pub(super) async fn start(
    start: Start<'_>,
    root: RootField,
) -> Result<ResponseStream, Vec<GraphqlError>> {
    let supergraph = &start.schema.supergraph;
    let owners = supergraph.field_resolvers(&root.type_name, &root.name, start.labels);
    let Some(plan) = owners
        .iter()
        .find_map(|&graph| split_plan(&start.operation.plan, graph, &root.response_key))
    else {
        return Err(vec![GraphqlError::new(
            format!(
                "the plan of this subscription has no root fetch of {}.{}",
                root.type_name, root.name
            ),
            "QUERY_PLANNING_FAILED",
        )]);
    };
    let graph = plan.fetch.subgraph;
    let Some(endpoint) = start.schema.subgraphs.endpoint(graph) else {
        return Err(vec![GraphqlError::new(
            format!(
                "the subgraph of {}.{} is unknown",
                root.type_name, root.name
            ),
            "QUERY_PLANNING_FAILED",
        )]);
    };
    let subgraph = endpoint.name.clone();
    let Some(url) = endpoint.subscription_url.clone() else {
        return Err(vec![GraphqlError::new(
            format!(
                "{}.{} is resolved by subgraph `{subgraph}`, which has no subscription endpoint: \
                 give it a `subscription_url` (ws:// or wss://) in the config",
                root.type_name, root.name
            ),
            "SUBSCRIPTION_NOT_SUPPORTED",
        )]);
    };
    let operation = subscription_operation(&plan.fetch.operation);
    // The values of the variables the subgraph operation declares, as a query fetch sends them.
    let variables: Map<String, Json> = plan
        .fetch
        .variable_usages
        .iter()
        .filter_map(|name| {
            Some((
                name.to_string(),
                start.variables.get(name.as_str())?.clone(),
            ))
        })
        .collect();

    let headers = start
        .schema
        .subgraphs
        .forwarded_headers(graph, &start.context);
    // Made here, in the span of the request that subscribes, so the subgraph's side of the
    // subscription joins that request's trace.
    let trace = crate::telemetry::propagation::trace_headers(start.context.client_trace.as_ref());
    let client = start.hub.join(
        share_key(&start, format!("subgraph:{url}")),
        start.stream_queue.clone(),
        start.max_stream_queue_bytes,
    );
    let execution = Arc::new(EventExecution::new(&start, root.type_name, plan.rest));
    let upstreams = start.upstreams.clone();
    let subgraphs = start.schema.subgraphs.clone();
    client
        .start(|feed| async move {
            let events = upstreams
                .subscribe_traced(&url, headers, trace, &operation, variables)
                .await
                .map_err(|e| {
                    // The error names the URL and the socket's failure: for the log only.
                    tracing::warn!(%subgraph, error = %e, "subscription to a subgraph failed");
                    GraphqlError::new(
                        format!("cannot subscribe to subgraph `{subgraph}`: {}", e.reason()),
                        UPSTREAM_FAILED,
                    )
                })?;
            let source = Arc::new(Source {
                name: Arc::from(subgraph),
                id: graph,
                subgraphs,
            });
            let responses = events
                .map(move |event| respond(execution.clone(), source.clone(), event))
                .buffered(EVENTS_IN_FLIGHT);
            tokio::spawn(feed.run(responses));
            Ok(())
        })
        .await
        .map_err(|e| vec![e])?;
    Ok(client.into_stream())
}

/// The subgraph a subscription's events come from.
struct Source {
    name: Arc<str>,
    id: SubgraphId,
    /// For the subgraph's error policy.
    subgraphs: Arc<Subgraphs>,
}

/// The client response for one thing the subgraph sent.
async fn respond(
    execution: Arc<EventExecution>,
    source: Arc<Source>,
    event: UpstreamEvent,
) -> Bytes {
    let subgraph = &*source.name;
    match event {
        UpstreamEvent::Data(data) => match Value::deserialize(&data) {
            Ok(tree @ Value::Object(_)) => execution.respond(tree, Vec::new()).await,
            _ => {
                let error = GraphqlError::new(
                    format!("subgraph `{subgraph}` sent an event whose `data` is not an object"),
                    "SUBREQUEST_MALFORMED_RESPONSE",
                );
                execution.respond(empty_tree(), vec![error]).await
            }
        },
        UpstreamEvent::Errors(errors) => {
            let errors: Vec<GraphqlError> = errors
                .into_iter()
                .map(|error| {
                    source
                        .subgraphs
                        .client_error(source.id, subgraph_error(subgraph, error))
                })
                .collect();
            if errors.iter().any(|e| e.path.is_some()) {
                // Field errors: the subgraph's paths use the client's response keys (the
                // operation keeps its aliases), so shaping puts the nulls where they point.
                execution.respond(empty_tree(), errors).await
            } else {
                // About the subscription as a whole (a refused operation): no `data` to shape.
                Bytes::from(errors_body(&errors))
            }
        }
        // Completing events took longer than the subgraph took to send them; the subscription
        // goes on with the oldest events it still has.
        UpstreamEvent::Lost(lost) => {
            tracing::warn!(%subgraph, lost, "a subgraph subscription fell behind; events dropped");
            Bytes::from(errors_body(&[GraphqlError::new(
                format!(
                    "this subscription fell behind the events of subgraph `{subgraph}`: \
                     {lost} were dropped"
                ),
                EVENTS_LOST,
            )]))
        }
        // Always the stream's last item: this response ends the client's subscription.
        UpstreamEvent::Failed(reason) => {
            tracing::warn!(%subgraph, ?reason, "a subgraph subscription ended with a failure");
            Bytes::from(errors_body(&[GraphqlError::new(
                format!("the subscription to subgraph `{subgraph}` failed"),
                UPSTREAM_FAILED,
            )]))
        }
    }
}

fn empty_tree() -> Value {
    Value::Object(Object::default())
}

/// A GraphQL error the subgraph sent, passed on as it is (path, extensions and all); one that is
/// not shaped like a GraphQL error is replaced by one saying so rather than dropped.
fn subgraph_error(subgraph: &str, error: Json) -> GraphqlError {
    GraphqlError::deserialize(&error).unwrap_or_else(|_| {
        GraphqlError::new(
            format!("subgraph `{subgraph}` sent a malformed error"),
            "SUBREQUEST_MALFORMED_RESPONSE",
        )
    })
}

/// The planner writes every root fetch as a `query`; the subgraph must be asked for a
/// `subscription` to stream events.
fn subscription_operation(operation: &str) -> String {
    let rest = operation.strip_prefix("query").unwrap_or(operation);
    if rest.starts_with("subscription") {
        return rest.to_owned();
    }
    format!("subscription{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_fetches_become_subscriptions() {
        assert_eq!(
            subscription_operation("query($upc:ID){reviewAdded(upc:$upc){id}}"),
            "subscription($upc:ID){reviewAdded(upc:$upc){id}}"
        );
        assert_eq!(
            subscription_operation("{reviewAdded{id}}"),
            "subscription{reviewAdded{id}}"
        );
        assert_eq!(
            subscription_operation("subscription{reviewAdded{id}}"),
            "subscription{reviewAdded{id}}"
        );
    }

    #[test]
    fn subgraph_errors_keep_their_paths_and_extensions() {
        let error = subgraph_error(
            "reviews",
            serde_json::json!({
                "message": "boom",
                "path": ["reviewAdded", "body"],
                "extensions": { "code": "X" },
            }),
        );
        assert_eq!(error.message, "boom");
        assert_eq!(error.code(), Some("X"));
        assert_eq!(
            serde_json::to_value(&error.path).expect("path"),
            serde_json::json!(["reviewAdded", "body"])
        );
        let malformed = subgraph_error("reviews", serde_json::json!(42));
        assert_eq!(malformed.code(), Some("SUBREQUEST_MALFORMED_RESPONSE"));
    }
}
