//! Starting a subscription: find the event source of its root field (a bridge topic, or the
//! subgraph that resolves the field itself), join (or start) the shared subscription, and for
//! each event run the rest of the plan and shape the response.

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use serde_json::{Map, Value as Json};

use super::event_value::{split_plan, Projector};
use super::events::EventModel;
use super::events::SubscribeField;
use super::hub::{Hub, ShareKey};
use super::template::{argument_values, BoundFilter};
use super::upstream::Upstreams;
use super::ResponseStream;
use crate::bridge::SharedBridge;
use crate::context::RequestContext;
use crate::execute::shape::{shape_response, ShapeInput};
use crate::execute::{execute, ExecutionContext};
use crate::plan::selection::Field;
use crate::plan::{PlannedOperation, QueryPlan};
use crate::response::{GraphqlError, Value};
use crate::supergraph::{ActiveLabels, Supergraph};
use crate::traffic::Subgraphs;

/// Events executed at once per shared subscription. Responses still go out in event order;
/// this only overlaps the subgraph calls of consecutive events.
pub(super) const EVENTS_IN_FLIGHT: usize = 8;

/// The schema generation a subscription runs on, for as long as it runs.
#[derive(Clone)]
pub struct Schema {
    pub supergraph: Arc<Supergraph>,
    pub subgraphs: Arc<Subgraphs>,
    /// What the event subgraphs' `@subscribe`/`@publish` directives say.
    pub events: Arc<EventModel>,
}

/// What a subscription needs from the pipeline.
pub struct Start<'a> {
    pub hub: &'a Hub,
    pub bridge: &'a SharedBridge,
    pub upstreams: &'a Upstreams,
    pub schema: Schema,
    pub operation: Arc<PlannedOperation>,
    pub variables: Map<String, Json>,
    pub labels: ActiveLabels,
    /// The first client's context: clients share a subscription only when the header rules
    /// forward the same for them, so its per-event subgraph calls serve them all.
    pub context: Arc<RequestContext>,
}

/// The subscribed root field, by name and response key.
pub(super) struct RootField {
    pub type_name: String,
    pub name: String,
    pub response_key: String,
}

/// Starts the subscription; request errors (nothing subscribed) come back as `Err`.
pub async fn start(start: Start<'_>) -> Result<ResponseStream, Vec<GraphqlError>> {
    let prepared = start.operation.clone();
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
    let root = RootField {
        type_name: prepared.operation.object_type().to_string(),
        name: field.name.to_string(),
        response_key: field.response_key().to_string(),
    };
    let events = start.schema.events.clone();
    match events.subscription(&root.name) {
        Some(subscribed) => {
            let arguments = argument_values(
                &field.arguments,
                &field.definition.arguments,
                &start.variables,
            );
            from_bridge(start, root, subscribed, &arguments).await
        }
        None => super::subgraph::start(start, root).await,
    }
}

/// A field of an event subgraph: its events come from a bridge topic.
async fn from_bridge(
    start: Start<'_>,
    root: RootField,
    subscribed: &SubscribeField,
    arguments: &Map<String, Json>,
) -> Result<ResponseStream, Vec<GraphqlError>> {
    let topic = subscribed.topic.render(arguments).map_err(|message| {
        vec![GraphqlError::new(
            format!(
                "cannot subscribe to {}.{}: {message}",
                root.type_name, root.name
            ),
            "INVALID_EVENT_TOPIC",
        )]
    })?;
    let Some(plan) = split_plan(&start.operation.plan, subscribed.graph, &root.response_key) else {
        return Err(vec![GraphqlError::new(
            format!(
                "the plan of this subscription has no fetch of {}.{} from its event subgraph",
                root.type_name, root.name
            ),
            "QUERY_PLANNING_FAILED",
        )]);
    };
    let filter = subscribed
        .filter
        .as_ref()
        .map(|f| f.bind(arguments))
        .unwrap_or_default();

    let client = start.hub.join(share_key(&start, format!("bridge:{topic}")));
    let events = Arc::new(BridgeEvents {
        field: plan.field,
        filter,
        topic: topic.clone(),
        execution: Arc::new(EventExecution::new(&start, root.type_name, plan.rest)),
    });
    let bridge = start.bridge.clone();
    client
        .start(|feed| async move {
            let messages = bridge.subscribe(&topic).await.map_err(|e| {
                GraphqlError::new(
                    format!("cannot subscribe to topic `{topic}`: {e}"),
                    "BRIDGE_UNAVAILABLE",
                )
            })?;
            let responses = messages
                .filter_map({
                    let events = events.clone();
                    move |bytes| std::future::ready(events.accept(&bytes))
                })
                .map(move |initial| events.execution.clone().respond(initial, Vec::new()))
                .buffered(EVENTS_IN_FLIGHT);
            tokio::spawn(feed.run(responses));
            Ok(())
        })
        .await
        .map_err(|e| vec![e])?;
    Ok(client.into_stream())
}

/// What identifies the subscription for sharing; `source` names where its events come from.
pub(super) fn share_key(start: &Start<'_>, source: String) -> ShareKey {
    ShareKey {
        operation: Arc::as_ptr(&start.operation) as usize,
        variables: serde_json::to_string(&start.variables).unwrap_or_default(),
        forwarded: start.schema.subgraphs.forwarded_fingerprint(&start.context),
        source,
    }
}

/// Everything one shared subscription runs each event with. It holds its schema generation, so
/// a reload leaves open subscriptions on the schema and plan they started with.
pub(super) struct EventExecution {
    schema: Schema,
    operation: Arc<PlannedOperation>,
    variables: Map<String, Json>,
    root_type: String,
    /// The plan without the root fetch, which the event source stands in for.
    rest: QueryPlan,
    context: Arc<RequestContext>,
}

impl EventExecution {
    pub(super) fn new(start: &Start<'_>, root_type: String, rest: QueryPlan) -> Self {
        EventExecution {
            schema: start.schema.clone(),
            operation: start.operation.clone(),
            variables: start.variables.clone(),
            root_type,
            rest,
            context: start.context.clone(),
        }
    }

    /// The response for one event: `initial` is what the root fetch would have answered (with
    /// `errors`, already at client paths); the rest of the plan runs over it and the result is
    /// shaped exactly like a query's response.
    pub(super) async fn respond(
        self: Arc<Self>,
        initial: Value,
        errors: Vec<GraphqlError>,
    ) -> Bytes {
        let supergraph = &self.schema.supergraph;
        let ctx = ExecutionContext {
            subgraphs: &self.schema.subgraphs,
            request: &self.context,
            variables: &self.variables,
            local: None,
        };
        let mut output = execute(&ctx, &self.rest, initial).await;
        output.errors.splice(0..0, errors);
        let input = ShapeInput {
            schema: &supergraph.api_schema,
            document: &self.operation.document,
            selection_set: &self.operation.operation.selection_set,
            root_type: &self.root_type,
            variables: &self.variables,
            failed_objects: &output.failed_objects,
        };
        Bytes::from(shape_response(&input, &output.data, output.errors))
    }
}

/// The bridge side of an event subgraph's subscription: which messages are events, and the
/// event as the root field's value.
struct BridgeEvents {
    execution: Arc<EventExecution>,
    field: Field,
    filter: BoundFilter,
    topic: String,
}

impl BridgeEvents {
    /// The response tree the root fetch would have produced for this message, if it is an event
    /// this subscription delivers: a JSON object that passes the filter.
    fn accept(&self, bytes: &Bytes) -> Option<Value> {
        let event = match crate::response::json::parse(bytes) {
            Ok(event @ Value::Object(_)) => event,
            Ok(_) => {
                tracing::warn!(topic = %self.topic, "event skipped: not a JSON object");
                return None;
            }
            Err(error) => {
                tracing::warn!(topic = %self.topic, %error, "event skipped: not JSON");
                return None;
            }
        };
        if !self.filter.matches(&event) {
            return None;
        }
        let execution = &self.execution;
        let projector = Projector {
            supergraph: &execution.schema.supergraph,
            variables: &execution.variables,
        };
        Some(projector.root(&self.field, &execution.root_type, &event))
    }
}
