//! `@publish` mutation fields: the gateway answers them itself by publishing to the bridge.
//!
//! The event is the field's arguments: the value of its one argument when the field takes a
//! single input object (`publishReview(review: ReviewInput!)` publishes the review), otherwise
//! an object of every argument by name. The field answers `true` when it returns `Boolean`;
//! otherwise it answers the published event, completed through the planner like a
//! subscription event (so a mutation returning an entity fetches its other fields).

use std::sync::Arc;

use apollo_compiler::schema::{ExtendedType, FieldDefinition};
use bytes::Bytes;
use compact_str::CompactString;
use futures::future::BoxFuture;
use serde_json::{Map, Value as Json};

use super::event_value::Projector;
use super::events::EventModel;
use super::template::argument_values;
use crate::bridge::SharedBridge;
use crate::execute::{LocalAnswer, LocalSubgraphs, Object, Value};
use crate::plan::selection::{Field, Selection};
use crate::plan::FetchNode;
use crate::response::{GraphqlError, PathSegment};
use crate::supergraph::{SubgraphId, Supergraph};

/// The event subgraphs of one schema generation, answering their mutation fields.
pub struct Publisher {
    supergraph: Arc<Supergraph>,
    events: Arc<EventModel>,
    bridge: SharedBridge,
}

impl Publisher {
    /// `None` when the schema has no event subgraph (nothing to answer locally).
    pub fn new(
        supergraph: &Arc<Supergraph>,
        events: &Arc<EventModel>,
        bridge: &SharedBridge,
    ) -> Option<Self> {
        (!events.is_empty()).then(|| Publisher {
            supergraph: supergraph.clone(),
            events: events.clone(),
            bridge: bridge.clone(),
        })
    }

    async fn publish_field(
        &self,
        field: &Field,
        mutation_type: &str,
        variables: &Map<String, Json>,
    ) -> Result<Value, GraphqlError> {
        let at = |message: String, code: &str| {
            GraphqlError::new(message, code).with_path(vec![PathSegment::Key(
                crate::plan::client_key(field.response_key()).to_string(),
            )])
        };
        let (Some(publication), Some(definition)) = (
            self.events.publication(&field.name),
            self.mutation_field(mutation_type, &field.name),
        ) else {
            return Err(at(
                format!("{mutation_type}.{} has no @publish topic", field.name),
                "EVENT_FIELD_UNRESOLVABLE",
            ));
        };
        let arguments = argument_values(&field.arguments, &definition.arguments, variables);
        let topic = publication
            .topic
            .render(&arguments)
            .map_err(|message| at(message, "INVALID_EVENT_TOPIC"))?;
        let event = self.event_of(definition, arguments);
        let payload = Bytes::from(serde_json::to_vec(&event).unwrap_or_default());
        self.bridge
            .publish(&topic, payload.clone())
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, %topic, "publishing to the bridge failed");
                at(e.client_message(), e.code())
            })?;
        if definition.ty.inner_named_type() == "Boolean" {
            return Ok(Value::Bool(true));
        }
        let event = crate::response::json::parse(&payload).unwrap_or_default();
        let projector = Projector {
            supergraph: &self.supergraph,
            variables,
        };
        Ok(projector.field_value(field, mutation_type, &event))
    }

    fn mutation_field(&self, mutation_type: &str, name: &str) -> Option<&FieldDefinition> {
        match self.supergraph.schema.types.get(mutation_type)? {
            ExtendedType::Object(object) => object.fields.get(name).map(|f| &***f),
            _ => None,
        }
    }

    fn event_of(&self, definition: &FieldDefinition, mut arguments: Map<String, Json>) -> Json {
        if let [only] = definition.arguments.as_slice() {
            let input_object = matches!(
                self.supergraph.schema.types.get(only.ty.inner_named_type()),
                Some(ExtendedType::InputObject(_))
            );
            if input_object && !only.ty.is_list() {
                return arguments.remove(only.name.as_str()).unwrap_or(Json::Null);
            }
        }
        Json::Object(arguments)
    }
}

impl LocalSubgraphs for Publisher {
    fn handles(&self, subgraph: SubgraphId) -> bool {
        self.events.is_event_graph(subgraph)
    }

    fn resolve<'a>(
        &'a self,
        fetch: &'a FetchNode,
        variables: &'a Map<String, Json>,
    ) -> BoxFuture<'a, LocalAnswer> {
        Box::pin(async move {
            let mutation_type = self
                .supergraph
                .schema
                .schema_definition
                .mutation
                .as_ref()
                .map_or("Mutation", |m| m.name.as_str());
            let mut data = Object::with_capacity(fetch.selection.items().len());
            let mut errors = Vec::new();
            // Mutation fields run in order, so they publish one after another.
            for selection in fetch.selection.items() {
                let Selection::Field(field) = selection else {
                    continue;
                };
                let key = CompactString::from(field.response_key().as_str());
                if field.name == "__typename" {
                    data.push(key, Value::String(mutation_type.into()));
                    continue;
                }
                match self.publish_field(field, mutation_type, variables).await {
                    Ok(value) => data.push(key, value),
                    Err(error) => {
                        errors.push(error);
                        data.push(key, Value::Null);
                    }
                }
            }
            LocalAnswer {
                data: Some(Value::Object(data)),
                errors,
            }
        })
    }
}
