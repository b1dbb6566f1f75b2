//! Which fields of a representation must have arrived for it to be sent: below the top level
//! (the top level is checked whole, `execute::representation`), the fields the fetched subgraph
//! types as non-null. An object that is there without one was nulled by its owner (a failed
//! non-null field beside it in the same fetch), and sending `null` would hand the subgraph a
//! value its schema forbids, computed into a wrong answer.

use crate::plan::selection::{Field, Selection, SelectionSet};
use crate::plan::RequiredStep;
use crate::supergraph::{SubgraphId, Supergraph};
use apollo_compiler::Name;

/// The paths to the non-null fields below the top level of `representation` (of `entity`, as
/// `graph` types them): see [`crate::plan::EntityType::non_null_nested`].
pub(super) fn non_null_nested(
    supergraph: &Supergraph,
    graph: SubgraphId,
    entity: &Name,
    representation: &SelectionSet,
) -> Vec<Vec<RequiredStep>> {
    let mut out = Vec::new();
    let mut top = |parent: &Name, field: &Field, condition: Option<&Name>| {
        let Some(ty) = supergraph.field_type_in(parent, &field.name, graph) else {
            return;
        };
        let mut steps = vec![RequiredStep {
            condition: condition.cloned(),
            key: field.response_key().clone(),
        }];
        let inner = ty.inner_named_type().clone();
        non_null_below(
            supergraph,
            graph,
            &inner,
            &field.selections,
            None,
            &mut steps,
            &mut out,
        );
    };
    for item in representation.items() {
        match item {
            Selection::Field(field) => top(entity, field, None),
            Selection::Fragment(fragment) => {
                let on = fragment.type_condition.as_ref().unwrap_or(entity);
                for inner in fragment.selections.items() {
                    if let Selection::Field(field) = inner {
                        top(on, field, fragment.type_condition.as_ref());
                    }
                }
            }
        }
    }
    out
}

/// The non-null fields of `set` (answering for objects of `parent`) and below, each added to
/// `out` as `steps` and its own step.
fn non_null_below(
    supergraph: &Supergraph,
    graph: SubgraphId,
    parent: &Name,
    set: &SelectionSet,
    condition: Option<&Name>,
    steps: &mut Vec<RequiredStep>,
    out: &mut Vec<Vec<RequiredStep>>,
) {
    for item in set.items() {
        match item {
            Selection::Field(field) if field.name == "__typename" => {}
            Selection::Field(field) => {
                let Some(ty) = supergraph.field_type_in(parent, &field.name, graph) else {
                    continue;
                };
                let step = RequiredStep {
                    condition: condition.cloned(),
                    key: field.response_key().clone(),
                };
                steps.push(step);
                if ty.is_non_null() {
                    out.push(steps.clone());
                }
                let inner = ty.inner_named_type().clone();
                non_null_below(
                    supergraph,
                    graph,
                    &inner,
                    &field.selections,
                    None,
                    steps,
                    out,
                );
                steps.pop();
            }
            Selection::Fragment(fragment) => {
                let on = fragment.type_condition.as_ref().unwrap_or(parent);
                let condition = fragment.type_condition.as_ref().or(condition);
                non_null_below(
                    supergraph,
                    graph,
                    on,
                    &fragment.selections,
                    condition,
                    steps,
                    out,
                );
            }
        }
    }
}
