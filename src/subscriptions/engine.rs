//! Starting a subscription: find the event source of its root field (a bridge topic, or the
//! subgraph that resolves the field itself), join (or start) the shared subscription, and for
//! each event run the rest of the plan and shape the response.

use std::sync::Arc;

use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use serde_json::{Map, Value as Json};

use super::event_value::{split_plan, Projector};
use super::events::SubscribeField;
use super::execution::{share_key, EventExecution, RootField, Start, EVENTS_IN_FLIGHT};
use super::template::{argument_values, BoundFilter};
use super::ResponseStream;
use crate::bridge::EventsLost;
use crate::plan::selection::Field;
use crate::response::{GraphqlError, Value};

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
        // The key the plan's root fetch selects the field under.
        response_key: crate::plan::fetch_key(field.response_key(), &field.name).to_owned(),
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

    let client = start.hub.join(
        share_key(&start, format!("bridge:{topic}")),
        start.stream_queue.clone(),
        start.max_stream_queue_bytes,
    );
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
                tracing::warn!(error = %e, %topic, "subscribing to the bridge failed");
                GraphqlError::new(
                    format!(
                        "cannot subscribe to topic `{topic}`: {}",
                        e.client_message()
                    ),
                    e.code(),
                )
            })?;
            let responses = messages
                .filter_map({
                    let events = events.clone();
                    move |message| {
                        std::future::ready(match message {
                            Ok(bytes) => events.accept(&bytes).map(Ok),
                            Err(lost) => Some(Err(lost)),
                        })
                    }
                })
                .map(move |item| match item {
                    Ok(initial) => events
                        .execution
                        .clone()
                        .respond(initial, Vec::new())
                        .left_future(),
                    Err(EventsLost(lost)) => {
                        // How many goes to the log only: the topic's other events may be other
                        // clients' (a filter keeps them from this one).
                        tracing::warn!(topic = %events.topic, lost, "a subscription fell behind its topic");
                        let error = GraphqlError::new(
                            format!(
                                "this subscription fell behind the events of topic `{}`: \
                                 some were dropped",
                                events.topic
                            ),
                            "SUBSCRIPTION_EVENTS_LOST",
                        );
                        let body = Bytes::from(crate::execute::shape::errors_body(&[error]));
                        std::future::ready(body).right_future()
                    }
                })
                .buffered(EVENTS_IN_FLIGHT);
            tokio::spawn(feed.run(responses));
            Ok(())
        })
        .await
        .map_err(|e| vec![e])?;
    Ok(client.into_stream())
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
