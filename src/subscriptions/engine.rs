//! Starting a subscription: find the event source of its root field, join (or start) the shared
//! subscription, and for each event run the rest of the plan and shape the response.

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use serde_json::{Map, Value as Json};

use super::event_value::{split_plan, EventPlan, Projector};
use super::hub::{Hub, ShareKey};
use super::template::{argument_values, BoundFilter};
use super::ResponseStream;
use crate::bridge::SharedBridge;
use crate::execute::shape::{shape_response, ShapeInput};
use crate::execute::{execute, ExecutionContext, Value};
use crate::gateway::prepare::PreparedOperation;
use crate::gateway::SchemaState;
use crate::response::GraphqlError;
use crate::supergraph::ActiveLabels;

/// Events executed at once per shared subscription. Responses still go out in event order;
/// this only overlaps the subgraph calls of consecutive events.
const EVENTS_IN_FLIGHT: usize = 8;

/// What a subscription needs from the gateway.
pub struct Start<'a> {
    pub hub: &'a Hub,
    pub bridge: &'a SharedBridge,
    pub client: &'a reqwest::Client,
    pub state: Arc<SchemaState>,
    pub prepared: Arc<PreparedOperation>,
    pub variables: Map<String, Json>,
    pub labels: ActiveLabels,
}

/// Starts the subscription; request errors (nothing subscribed) come back as `Err`.
pub async fn start(start: Start<'_>) -> Result<ResponseStream, Vec<GraphqlError>> {
    let supergraph = &start.state.supergraph;
    let prepared = &start.prepared;
    let root_type = prepared.operation.object_type().to_string();
    let Some(field) = prepared
        .operation
        .root_fields(&prepared.document)
        .find(|f| f.name != "__typename")
    else {
        return Err(vec![GraphqlError::new(
            "a subscription needs a root field",
            "GRAPHQL_VALIDATION_FAILED",
        )]);
    };
    let Some(subscribed) = start.state.events.subscription(&field.name) else {
        // Hook for subscription fields a subgraph resolves itself (`subscription_url`): split the
        // plan at the owner's root fetch (`split_plan` walks to it; return that `FetchNode` too),
        // subscribe upstream with its `operation` and the values of its `variable_usages`, and seed each event's
        // tree with the upstream `data` object as it is (the operation keeps client aliases);
        // `EventExecution::respond` does the rest. The share key's `source` names the upstream.
        let owners: Vec<String> = supergraph
            .field_resolvers(&root_type, &field.name, start.labels)
            .iter()
            .map(|&g| supergraph.subgraph(g).name.to_string())
            .collect();
        return Err(vec![GraphqlError::new(
            format!(
                "{root_type}.{} is resolved by subgraph `{}`, not by an event subgraph; \
                 subscriptions to subgraphs are not available yet",
                field.name,
                owners.join("`, `")
            ),
            "SUBSCRIPTION_NOT_SUPPORTED",
        )]);
    };
    let arguments = argument_values(
        &field.arguments,
        &field.definition.arguments,
        &start.variables,
    );
    let topic = subscribed.topic.render(&arguments).map_err(|message| {
        vec![GraphqlError::new(
            format!("cannot subscribe to {root_type}.{}: {message}", field.name),
            "INVALID_EVENT_TOPIC",
        )]
    })?;
    let Some(plan) = split_plan(&prepared.plan, subscribed.graph, field.response_key()) else {
        return Err(vec![GraphqlError::new(
            format!(
                "the plan of this subscription has no fetch of {root_type}.{} from its event subgraph",
                field.name
            ),
            "QUERY_PLANNING_FAILED",
        )]);
    };
    let filter = subscribed
        .filter
        .as_ref()
        .map(|f| f.bind(&arguments))
        .unwrap_or_default();

    let key = ShareKey {
        generation: Arc::as_ptr(&start.state) as usize,
        query: prepared.query.clone(),
        operation_name: prepared.operation_name.clone(),
        labels: start.labels.0,
        variables: serde_json::to_string(&start.variables).unwrap_or_default(),
        source: format!("bridge:{topic}"),
    };
    let client = start.hub.join(key);
    let execution = Arc::new(EventExecution {
        state: start.state.clone(),
        prepared: start.prepared.clone(),
        variables: start.variables,
        root_type,
        plan,
        filter,
        client: start.client.clone(),
        topic: topic.clone(),
    });
    let bridge = start.bridge;
    client
        .start(|feed| async move {
            let events = bridge.subscribe(&topic).await.map_err(|e| {
                GraphqlError::new(
                    format!("cannot subscribe to topic `{topic}`: {e}"),
                    "BRIDGE_UNAVAILABLE",
                )
            })?;
            let responses = events
                .filter_map({
                    let execution = execution.clone();
                    move |bytes| std::future::ready(execution.accept(&bytes))
                })
                .map(move |event| execution.clone().respond(event))
                .buffered(EVENTS_IN_FLIGHT);
            tokio::spawn(feed.run(responses));
            Ok(())
        })
        .await
        .map_err(|e| vec![e])?;
    Ok(client.into_stream())
}

/// Everything one shared subscription runs each event with. It holds its schema generation, so
/// a reload leaves open subscriptions on the schema and plan they started with.
struct EventExecution {
    state: Arc<SchemaState>,
    prepared: Arc<PreparedOperation>,
    variables: Map<String, Json>,
    root_type: String,
    plan: EventPlan,
    filter: BoundFilter,
    client: reqwest::Client,
    topic: String,
}

impl EventExecution {
    /// The event, if it is one this subscription delivers: a JSON object that passes the filter.
    fn accept(&self, bytes: &Bytes) -> Option<Value> {
        match crate::execute::json::parse(bytes) {
            Ok(event @ Value::Object(_)) => self.filter.matches(&event).then_some(event),
            Ok(_) => {
                tracing::warn!(topic = %self.topic, "event skipped: not a JSON object");
                None
            }
            Err(error) => {
                tracing::warn!(topic = %self.topic, %error, "event skipped: not JSON");
                None
            }
        }
    }

    /// The response for one event: the event as the root field's value, the rest of the plan
    /// run over it, shaped exactly like a query's response.
    async fn respond(self: Arc<Self>, event: Value) -> Bytes {
        let supergraph = &self.state.supergraph;
        let projector = Projector {
            supergraph,
            variables: &self.variables,
        };
        let initial = projector.root(&self.plan.field, &self.root_type, &event);
        let ctx = ExecutionContext {
            client: &self.client,
            endpoints: &self.state.endpoints,
            variables: &self.variables,
            local: None,
        };
        let output = execute(&ctx, &self.plan.rest, initial).await;
        let input = ShapeInput {
            schema: &supergraph.api_schema,
            document: &self.prepared.document,
            selection_set: &self.prepared.operation.selection_set,
            root_type: &self.root_type,
            variables: &self.variables,
            failed_objects: &output.failed_objects,
        };
        Bytes::from(shape_response(&input, &output.data, output.errors))
    }
}
