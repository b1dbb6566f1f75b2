//! Subscribe: a prepared subscription ▶ its event source (a bridge topic, or the subgraph that
//! resolves the field), each event completed through the rest of the plan.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::prepare::PreparedOperation;
use super::respond::{Answer, Outcome};
use super::{Gateway, SchemaState};
use crate::context::RequestContext;
use crate::subscriptions::{self, Schema, Start};

pub(super) async fn start(
    gateway: &Gateway,
    state: &SchemaState,
    context: Arc<RequestContext>,
    prepared: &PreparedOperation,
    variables: Map<String, Value>,
) -> Answer {
    // A WebSocket connection's operations share its queue; an SSE or multipart stream carries
    // one subscription, so it gets one of its own.
    let stream_queue = context.stream_queue.clone().unwrap_or_default();
    let start = Start {
        hub: &gateway.subscriptions,
        bridge: &gateway.bridge,
        upstreams: &gateway.upstreams,
        schema: Schema {
            supergraph: state.supergraph.clone(),
            subgraphs: state.subgraphs.clone(),
            events: state.events.clone(),
        },
        operation: prepared.planned.clone(),
        variables,
        labels: prepared.labels,
        context,
        max_response_bytes: gateway.settings.max_response_bytes(),
        stream_queue,
        max_stream_queue_bytes: gateway.settings.max_stream_queue_bytes(),
    };
    match subscriptions::start(start).await {
        Ok(stream) => Answer::Stream(stream),
        Err(errors) => Answer::refuse(Outcome::RequestError, &errors),
    }
}
