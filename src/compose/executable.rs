//! Executable directives (`directive @lowercase on FIELD`): directives clients write in
//! operations, which the gateway passes on to the subgraph that resolves the field.
//!
//! As in Apollo's composition, such a directive reaches the supergraph only when every subgraph
//! defines it, since any subgraph may be the one a field is sent to; it keeps the locations all
//! of them accept, the arguments they share (a required one missing somewhere is an error, as for
//! field arguments), and `repeatable` only when every definition says so. Type-system locations
//! are dropped: the supergraph's own directives are composed by other rules.

use apollo_compiler::ast::{DirectiveDefinition, DirectiveLocation, InputValueDefinition};
use apollo_compiler::{Name, Node};
use indexmap::IndexMap;

use super::errors::CompositionError;
use super::model::SuperInputValue;
use super::subgraph::{InputValue, Subgraph};

/// One subgraph's definition of an executable directive, its type-system locations removed.
#[derive(Debug, Clone)]
pub(crate) struct ExecutableDirective {
    pub name: Name,
    pub description: Option<Node<str>>,
    pub args: IndexMap<Name, InputValue>,
    pub repeatable: bool,
    pub locations: Vec<DirectiveLocation>,
}

/// The executable locations of `locations`, in the order given.
pub(super) fn executable_locations(locations: &[DirectiveLocation]) -> Vec<DirectiveLocation> {
    locations
        .iter()
        .copied()
        .filter(|location| {
            matches!(
                location,
                DirectiveLocation::Query
                    | DirectiveLocation::Mutation
                    | DirectiveLocation::Subscription
                    | DirectiveLocation::Field
                    | DirectiveLocation::FragmentDefinition
                    | DirectiveLocation::FragmentSpread
                    | DirectiveLocation::InlineFragment
                    | DirectiveLocation::VariableDefinition
            )
        })
        .collect()
}

/// The executable directives every subgraph defines, merged, as the supergraph defines them.
pub(super) fn merge(
    subgraphs: &[Subgraph],
    errors: &mut Vec<CompositionError>,
) -> Vec<Node<DirectiveDefinition>> {
    let Some((first, rest)) = subgraphs.split_first() else {
        return Vec::new();
    };
    let mut merged = Vec::new();
    for directive in &first.executable_directives {
        let mut sources = vec![(0, directive)];
        for (graph, subgraph) in rest.iter().enumerate() {
            if let Some(other) = subgraph
                .executable_directives
                .iter()
                .find(|other| other.name == directive.name)
            {
                sources.push((graph + 1, other));
            }
        }
        if sources.len() < subgraphs.len() {
            continue;
        }
        let locations: Vec<DirectiveLocation> = directive
            .locations
            .iter()
            .copied()
            .filter(|location| sources.iter().all(|(_, d)| d.locations.contains(location)))
            .collect();
        if locations.is_empty() {
            continue;
        }
        let args: Vec<(usize, &IndexMap<Name, InputValue>)> =
            sources.iter().map(|(graph, d)| (*graph, &d.args)).collect();
        let before = errors.len();
        let arguments = super::values::merge_arguments(
            &format!("@{}", directive.name),
            &args,
            subgraphs,
            errors,
        );
        if errors.len() > before {
            continue;
        }
        merged.push(Node::new(DirectiveDefinition {
            description: super::merge::merged_description(
                sources.iter().map(|(_, d)| &d.description),
            ),
            name: directive.name.clone(),
            arguments: arguments.into_iter().map(argument_definition).collect(),
            repeatable: sources.iter().all(|(_, d)| d.repeatable),
            locations,
        }));
    }
    merged.sort_by(|a, b| a.name.cmp(&b.name));
    merged
}

fn argument_definition(value: SuperInputValue) -> Node<InputValueDefinition> {
    Node::new(InputValueDefinition {
        description: value.description,
        name: value.name,
        ty: Node::new(value.ty),
        default_value: value.default,
        // `@inaccessible` (the API schema leaves the argument out), `@deprecated`, `@tag`.
        directives: value.directives.into_iter().collect(),
    })
}
