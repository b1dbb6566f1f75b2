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
    let document = ast
        .to_executable_validate(schema)
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
    super::one_of::check(schema, &document, &operation).map_err(|e| vec![e])?;
    let has_introspection = selects_introspection(&document, &operation.selection_set);
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

/// Whether `__schema` or `__type` is selected anywhere — not only among the root fields, since a
/// field that returns the query type reaches them too. Each fragment is looked at once, so this
/// is linear in the document however often fragments are spread.
fn selects_introspection(document: &ExecutableDocument, root: &SelectionSet) -> bool {
    let mut seen_fragments = HashSet::new();
    let mut stack = vec![root];
    while let Some(set) = stack.pop() {
        for selection in &set.selections {
            match selection {
                Selection::Field(field) => {
                    if field.name == "__schema" || field.name == "__type" {
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
