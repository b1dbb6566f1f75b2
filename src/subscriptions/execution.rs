//! What one shared subscription runs with: its schema generation, its operation and variables,
//! the first client's context, and the rest of the plan each event completes.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Map, Value as Json};

use super::events::EventModel;
use super::hub::{Hub, ShareKey};
use super::upstream::Upstreams;
use crate::bridge::SharedBridge;
use crate::context::RequestContext;
use crate::execute::shape::{shape_response, too_large_body, ShapeInput};
use crate::execute::{execute, ExecutionContext};
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
    /// `limits.max_response_bytes`, for each event's response (`None`: no limit).
    pub max_response_bytes: Option<usize>,
    /// What the client's stream has waiting, across the stream's subscriptions.
    pub stream_queue: Arc<crate::context::StreamQueue>,
    /// `limits.max_stream_queue_bytes`: how much of it may wait.
    pub max_stream_queue_bytes: usize,
}

/// The subscribed root field, by name and response key.
pub(super) struct RootField {
    pub type_name: String,
    pub name: String,
    pub response_key: String,
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
    pub(super) schema: Schema,
    operation: Arc<PlannedOperation>,
    pub(super) variables: Map<String, Json>,
    pub(super) root_type: String,
    /// The plan without the root fetch, which the event source stands in for.
    rest: QueryPlan,
    context: Arc<RequestContext>,
    /// The span of the request that started the subscription, when it was recorded: every
    /// event's span links to it.
    subscribed_in: Option<opentelemetry::trace::SpanContext>,
    max_response_bytes: Option<usize>,
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
            subscribed_in: crate::telemetry::propagation::current_span_context(),
            max_response_bytes: start.max_response_bytes,
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
        // A root span of its own: the event may come hours after the request that subscribed,
        // and a shared subscription serves many clients' requests at once. It links to the
        // request that started the subscription, which is how a trace view finds one from
        // the other.
        let span = tracing::info_span!(
            target: crate::telemetry::SPAN_TARGET,
            "subscription_event",
            graphql.operation.name = self.operation.operation.name.as_ref().map(|n| n.as_str()),
            graphql.errors = tracing::field::Empty,
        );
        if let Some(subscribed_in) = &self.subscribed_in {
            use tracing_opentelemetry::OpenTelemetrySpanExt;
            span.add_link(subscribed_in.clone());
        }
        tracing::Instrument::instrument(self.run_event(initial, errors), span).await
    }

    async fn run_event(self: Arc<Self>, initial: Value, errors: Vec<GraphqlError>) -> Bytes {
        let supergraph = &self.schema.supergraph;
        let ctx = ExecutionContext {
            subgraphs: &self.schema.subgraphs,
            request: &self.context,
            // What runs per event completes the event with entity fetches: reads.
            operation: crate::plan::OperationKind::Subscription,
            variables: &self.variables,
            local: None,
            max_response_bytes: self.max_response_bytes,
        };
        let mut output = execute(&ctx, &self.rest, initial).await;
        if let (true, Some(limit)) = (output.too_large, self.max_response_bytes) {
            return Bytes::from(too_large_body(limit));
        }
        output.errors.splice(0..0, errors);
        tracing::Span::current().record("graphql.errors", output.errors.len() as i64);
        let input = ShapeInput {
            schema: &supergraph.api_schema,
            document: &self.operation.document,
            selection_set: &self.operation.operation.selection_set,
            root_type: &self.root_type,
            variables: &self.variables,
            failed_objects: &output.failed_objects,
            capacity: 0,
            max_bytes: self.max_response_bytes,
        };
        Bytes::from(shape_response(&input, &output.data, output.errors).0)
    }
}
