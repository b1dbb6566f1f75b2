//! Validate: syntax tree ▶ an operation valid against the API schema, the one the request names,
//! with introspection refused when it is switched off.

use std::collections::HashSet;

use apollo_compiler::executable::{Operation, Selection, SelectionSet};
use apollo_compiler::validation::Valid;
use apollo_compiler::{ast, ExecutableDocument, Node, Schema};

use super::diagnostics;
use crate::response::GraphqlError;

pub(super) struct Validated {
    pub document: Valid<ExecutableDocument>,
    pub operation: Node<Operation>,
    /// Whether `__schema`/`__type` appear, so the introspection executor must run.
    pub has_introspection: bool,
}

pub(super) fn validate(
    ast: ast::Document,
    schema: &Valid<Schema>,
    operation_name: Option<&str>,
    introspection: bool,
) -> Result<Validated, Vec<GraphqlError>> {
    // Built first, then validated: a field the schema lacks is left out of the built document,
    // and validating that would add echoes of it (`author { nope }` would also be reported as
    // a selection without fields).
    let document = ast
        .to_executable(schema)
        .map_err(|e| diagnostics(&e.errors, "GRAPHQL_VALIDATION_FAILED"))?
        .validate(schema)
        .map_err(|e| diagnostics(&e.errors, "GRAPHQL_VALIDATION_FAILED"))?;
    let operation = document
        .operations
        .get(operation_name)
        .map_err(|e| {
            vec![GraphqlError::new(
                e.message().to_string(),
                if operation_name.is_some() {
                    "GRAPHQL_UNKNOWN_OPERATION_NAME"
                } else {
                    "GRAPHQL_VALIDATION_FAILED"
                },
            )]
        })?
        .clone();
    super::literals::check(schema, &document, &operation).map_err(|e| vec![e])?;
    check_reserved_names(&document, &operation).map_err(|e| vec![e])?;
    if has_fragment_directives(schema) {
        check_directive_locations(&document, &operation).map_err(|e| vec![e])?;
    }
    let has_introspection = any_field(&document, &operation.selection_set, |field| {
        field.name == "__schema" || field.name == "__type"
    });
    if has_introspection && !introspection {
        return Err(vec![GraphqlError::new(
            "introspection is disabled on this gateway (`__schema` and `__type`)",
            "INTROSPECTION_DISABLED",
        )]);
    }
    Ok(Validated {
        document,
        operation,
        has_introspection,
    })
}

/// Refuses an operation that uses a name the gateway gives its own fields or variables in
/// subgraph fetches: sent on, it would collide with them (a wrong value, or a fetch the
/// subgraph rejects). Apollo's gateways break on the same names.
fn check_reserved_names(
    document: &ExecutableDocument,
    operation: &Operation,
) -> Result<(), GraphqlError> {
    let reserved = |what: String| {
        GraphqlError::new(
            format!("{what} is reserved by the gateway for the subgraph requests it makes; use another name"),
            "GRAPHQL_VALIDATION_FAILED",
        )
    };
    if let Some(variable) = operation
        .variables
        .iter()
        .find(|v| crate::plan::is_reserved_variable(&v.name))
    {
        return Err(reserved(format!("the variable name `${}`", variable.name)));
    }
    let mut alias = None;
    any_field(document, &operation.selection_set, |field| {
        alias = field
            .alias
            .as_ref()
            .filter(|a| crate::plan::is_reserved_alias(a))
            .cloned();
        alias.is_some()
    });
    match alias {
        Some(alias) => Err(reserved(format!("the alias `{alias}`"))),
        None => Ok(()),
    }
}

/// Whether the API schema defines a directive clients could write on a fragment or a variable
/// definition besides `@skip`/`@include` (most define none, and the walk is then skipped).
fn has_fragment_directives(schema: &Schema) -> bool {
    use ast::DirectiveLocation as L;
    schema.directive_definitions.values().any(|d| {
        !d.is_built_in()
            && d.locations.iter().any(|l| {
                matches!(
                    l,
                    L::FragmentDefinition
                        | L::FragmentSpread
                        | L::InlineFragment
                        | L::VariableDefinition
                )
            })
    })
}

/// Refuses an executable directive (one the subgraphs define, not `@skip`/`@include`) on a
/// fragment or a variable definition: the planner passes a client's directives on to the
/// subgraphs on fields and on the operation, but fragments are dissolved into each fetch's
/// fields and variable definitions are rewritten per fetch, so it could only drop them
/// silently.
fn check_directive_locations(
    document: &ExecutableDocument,
    operation: &Operation,
) -> Result<(), GraphqlError> {
    let own = |directives: &ast::DirectiveList| {
        directives
            .iter()
            .find(|d| d.name != "skip" && d.name != "include")
            .map(|d| d.name.clone())
    };
    let refuse = |name: apollo_compiler::Name, place: &str| {
        Err(GraphqlError::new(
            format!(
                "the directive @{name} on {place} is not supported: the gateway passes \
                 directives on to the subgraphs only on fields and on the operation"
            ),
            "GRAPHQL_VALIDATION_FAILED",
        ))
    };
    if let Some(name) = operation.variables.iter().find_map(|v| own(&v.directives)) {
        return refuse(name, "a variable definition");
    }
    let mut seen_fragments = HashSet::new();
    let mut stack = vec![&operation.selection_set];
    while let Some(set) = stack.pop() {
        for selection in &set.selections {
            match selection {
                Selection::Field(field) => stack.push(&field.selection_set),
                Selection::InlineFragment(fragment) => {
                    if let Some(name) = own(&fragment.directives) {
                        return refuse(name, "an inline fragment");
                    }
                    stack.push(&fragment.selection_set);
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(name) = own(&spread.directives) {
                        return refuse(name, "a fragment spread");
                    }
                    if !seen_fragments.insert(&spread.fragment_name) {
                        continue;
                    }
                    if let Some(fragment) = document.fragments.get(&spread.fragment_name) {
                        if let Some(name) = own(&fragment.directives) {
                            return refuse(name, "a fragment definition");
                        }
                        stack.push(&fragment.selection_set);
                    }
                }
            }
        }
    }
    Ok(())
}

/// Whether `test` holds for a field selected anywhere — not only among the root fields (a field
/// that returns the query type reaches `__schema` too). Each fragment is looked at once, so this
/// is linear in the document however often fragments are spread.
fn any_field(
    document: &ExecutableDocument,
    root: &SelectionSet,
    mut test: impl FnMut(&apollo_compiler::executable::Field) -> bool,
) -> bool {
    let mut seen_fragments = HashSet::new();
    let mut stack = vec![root];
    while let Some(set) = stack.pop() {
        for selection in &set.selections {
            match selection {
                Selection::Field(field) => {
                    if test(field) {
                        return true;
                    }
                    stack.push(&field.selection_set);
                }
                Selection::InlineFragment(fragment) => stack.push(&fragment.selection_set),
                Selection::FragmentSpread(spread) => {
                    if seen_fragments.insert(&spread.fragment_name) {
                        if let Some(fragment) = document.fragments.get(&spread.fragment_name) {
                            stack.push(&fragment.selection_set);
                        }
                    }
                }
            }
        }
    }
    false
}
