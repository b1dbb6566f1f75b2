//! `@oneOf` input objects written in the document: exactly one field, and not null.
//!
//! apollo-compiler's validation does not know `@oneOf`, and variable values are checked when
//! they are coerced (`coerce.rs`), so this checks the literals: `search(by: { id: 1 })` passes,
//! `{ id: 1, name: "x" }`, `{ id: null }` and `{ id: $maybe }` with a nullable `$maybe` are
//! refused before anything is planned or sent. Each fragment is read once, so the work is linear
//! in the document.

use std::collections::HashSet;

use apollo_compiler::ast::{Type, Value, VariableDefinition};
use apollo_compiler::executable::{Operation, Selection, SelectionSet};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::{ExecutableDocument, Node, Schema};

use crate::response::GraphqlError;

/// The first `@oneOf` literal in `operation` (and the fragments it spreads) that breaks the rule.
pub(super) fn check(
    schema: &Schema,
    document: &ExecutableDocument,
    operation: &Operation,
) -> Result<(), GraphqlError> {
    let variables = &operation.variables;
    let mut seen_fragments = HashSet::new();
    let mut stack: Vec<&SelectionSet> = vec![&operation.selection_set];
    while let Some(set) = stack.pop() {
        for selection in &set.selections {
            match selection {
                Selection::Field(field) => {
                    for argument in &field.arguments {
                        let Some(definition) = field.definition.argument_by_name(&argument.name)
                        else {
                            continue;
                        };
                        check_value(schema, variables, &definition.ty, &argument.value)?;
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
    Ok(())
}

fn check_value(
    schema: &Schema,
    variables: &[Node<VariableDefinition>],
    ty: &Type,
    value: &Value,
) -> Result<(), GraphqlError> {
    match value {
        Value::List(items) => {
            let item_type = ty.item_type();
            for item in items {
                check_value(schema, variables, item_type, item)?;
            }
            Ok(())
        }
        Value::Object(fields) => {
            let name = ty.inner_named_type();
            let Some(ExtendedType::InputObject(definition)) = schema.types.get(name) else {
                return Ok(());
            };
            if definition.directives.has("oneOf") {
                let refused = |reason: &str| {
                    Err(GraphqlError::new(
                        format!("`{name}` is a @oneOf input: {reason}"),
                        "GRAPHQL_VALIDATION_FAILED",
                    ))
                };
                match fields.as_slice() {
                    [(_, only)] => match &**only {
                        Value::Null => return refused("its one field must not be null"),
                        Value::Variable(variable) => {
                            let non_null = variables
                                .iter()
                                .find(|v| v.name == *variable)
                                .is_some_and(|v| v.ty.is_non_null());
                            if !non_null {
                                return refused(&format!(
                                    "the variable `${variable}` for its field must be of a non-null type"
                                ));
                            }
                        }
                        _ => {}
                    },
                    _ => return refused("give exactly one field"),
                }
            }
            for (field_name, field_value) in fields {
                if let Some(field) = definition.fields.get(field_name) {
                    check_value(schema, variables, &field.ty, field_value)?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
