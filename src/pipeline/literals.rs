//! Input values written in the document, checked where apollo-compiler's validation does not:
//! - `@oneOf` input objects: exactly one field, and not null. apollo-compiler does not know
//!   `@oneOf`, and variable values are checked when they are coerced (`coerce.rs`), so this
//!   checks the literals: `search(by: { id: 1 })` passes, `{ id: 1, name: "x" }`,
//!   `{ id: null }` and `{ id: $maybe }` with a nullable `$maybe` are refused.
//! - Variables inside list and object values (`colors: [$c]`, `filter: { min: $m }`) must fit
//!   the position they stand in (the spec's "All Variable Usages Are Allowed"); apollo-compiler
//!   checks only a variable given as a whole argument. Sent on, a nullable `$c` where `Color!`
//!   is expected made the subgraph refuse the whole fetch, every field of it null.
//!
//! Both are refused before anything is planned or sent. Each fragment is read once, so the work
//! is linear in the document.

use std::collections::HashSet;

use apollo_compiler::ast::{
    Argument, DirectiveList, InputValueDefinition, Type, Value, VariableDefinition,
};
use apollo_compiler::executable::{Operation, Selection, SelectionSet};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::{ExecutableDocument, Name, Node, Schema};

use crate::response::GraphqlError;

/// The operation's variable definitions by name.
type Variables<'o> = std::collections::HashMap<&'o Name, &'o VariableDefinition>;

/// The first literal in `operation` (and the fragments it spreads), in field and directive
/// arguments, that breaks either rule.
pub(super) fn check(
    schema: &Schema,
    document: &ExecutableDocument,
    operation: &Operation,
) -> Result<(), GraphqlError> {
    // Looked up by name: a document may use many variables many times.
    let variables: Variables<'_> = operation
        .variables
        .iter()
        .map(|v| (&v.name, &**v))
        .collect();
    let variables = &variables;
    let directives = |list: &DirectiveList| -> Result<(), GraphqlError> {
        for directive in list {
            if let Some(definition) = schema.directive_definitions.get(&directive.name) {
                arguments(
                    schema,
                    variables,
                    &definition.arguments,
                    &directive.arguments,
                )?;
            }
        }
        Ok(())
    };
    directives(&operation.directives)?;
    let mut seen_fragments = HashSet::new();
    let mut stack: Vec<&SelectionSet> = vec![&operation.selection_set];
    while let Some(set) = stack.pop() {
        for selection in &set.selections {
            match selection {
                Selection::Field(field) => {
                    arguments(
                        schema,
                        variables,
                        &field.definition.arguments,
                        &field.arguments,
                    )?;
                    directives(&field.directives)?;
                    stack.push(&field.selection_set);
                }
                Selection::InlineFragment(fragment) => {
                    directives(&fragment.directives)?;
                    stack.push(&fragment.selection_set);
                }
                Selection::FragmentSpread(spread) => {
                    directives(&spread.directives)?;
                    if seen_fragments.insert(&spread.fragment_name) {
                        if let Some(fragment) = document.fragments.get(&spread.fragment_name) {
                            directives(&fragment.directives)?;
                            stack.push(&fragment.selection_set);
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

fn arguments(
    schema: &Schema,
    variables: &Variables<'_>,
    definitions: &[Node<InputValueDefinition>],
    given: &[Node<Argument>],
) -> Result<(), GraphqlError> {
    for argument in given {
        let Some(definition) = definitions.iter().find(|d| d.name == argument.name) else {
            continue;
        };
        // A variable given as the whole argument is apollo-compiler's to check.
        if !matches!(*argument.value, Value::Variable(_)) {
            check_value(schema, variables, &definition.ty, &argument.value)?;
        }
    }
    Ok(())
}

/// Whether a variable of `variable`'s type may stand where `location` is expected (the spec's
/// IsVariableUsageAllowed): a nullable variable fits a non-null place only with a default of
/// its own that is not null, or where the place (an input field) has a default.
fn usage_allowed(variable: &VariableDefinition, location: &Type, location_default: bool) -> bool {
    if location.is_non_null() && !variable.ty.is_non_null() {
        let own_default = variable
            .default_value
            .as_ref()
            .is_some_and(|value| !value.is_null());
        return (own_default || location_default)
            && variable.ty.is_assignable_to(&location.clone().nullable());
    }
    variable.ty.is_assignable_to(location)
}

/// Refuses a variable nested in a literal that may not stand at its place.
fn check_nested_variable(
    variables: &Variables<'_>,
    name: &Name,
    location: &Type,
    location_default: bool,
) -> Result<(), GraphqlError> {
    // An undefined variable is apollo-compiler's to report.
    let Some(variable) = variables.get(name).copied() else {
        return Ok(());
    };
    if usage_allowed(variable, location, location_default) {
        return Ok(());
    }
    Err(GraphqlError::new(
        format!(
            "variable `${name}` of type `{}` cannot be used where `{location}` is expected",
            variable.ty
        ),
        "GRAPHQL_VALIDATION_FAILED",
    ))
}

fn check_value(
    schema: &Schema,
    variables: &Variables<'_>,
    ty: &Type,
    value: &Value,
) -> Result<(), GraphqlError> {
    match value {
        Value::List(items) => {
            let item_type = ty.item_type();
            for item in items {
                match &**item {
                    Value::Variable(name) => {
                        check_nested_variable(variables, name, item_type, false)?
                    }
                    _ => check_value(schema, variables, item_type, item)?,
                }
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
                            let non_null =
                                variables.get(variable).is_some_and(|v| v.ty.is_non_null());
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
                let Some(field) = definition.fields.get(field_name) else {
                    continue;
                };
                match &**field_value {
                    Value::Variable(name) => check_nested_variable(
                        variables,
                        name,
                        &field.ty,
                        field.default_value.is_some(),
                    )?,
                    _ => check_value(schema, variables, &field.ty, field_value)?,
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
