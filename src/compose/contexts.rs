//! `@context` / `@fromContext` in a subgraph: reading the `field` argument of `@fromContext`
//! and checking each use against the types that set its context. In the supergraph a context
//! is named `<subgraph>__<name>` (two subgraphs' contexts of one name are different contexts),
//! the setting types carry `@context(name:)`, and the field's `@join__field` lists its
//! `contextArguments`; the argument itself leaves the supergraph field, as in Apollo's output.

use super::errors::{CompositionError, ErrorCode};
use super::fieldset::check_context_selection;
use super::subgraph::{FieldCoordinate, Subgraph};

/// `"$store { currency }"` ▶ `("store", " { currency }")`: the context's name and the selection
/// as written after it. `None` when it does not start with `$` and a name.
pub(crate) fn parse_field(field: &str) -> Option<(String, String)> {
    let rest = field.trim_start().strip_prefix('$')?;
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let (name, selection) = rest.split_at(end);
    if name.is_empty() || selection.trim().is_empty() {
        return None;
    }
    Some((name.to_string(), selection.to_string()))
}

/// The selection's field set without the braces around it (`{ currency }` ▶ `currency`); a
/// selection of type conditions (or anything whose first brace closes before its end) as it is.
pub(crate) fn field_set_of(selection: &str) -> &str {
    crate::supergraph::context_field_set(selection)
}

/// The supergraph's name of a subgraph's context.
pub(crate) fn supergraph_name(subgraph: &str, context: &str) -> String {
    format!("{subgraph}__{context}")
}

/// Checks every `@fromContext` of `subgraph`: its context is set by some type, and its
/// selection is valid on each type that sets it. Returns the fields the selections read, which
/// count as used (an `@external` field read only by a context is not unused).
pub(crate) fn check(
    subgraph: &Subgraph,
    errors: &mut Vec<CompositionError>,
) -> Vec<FieldCoordinate> {
    let mut used = Vec::new();
    for (type_name, ty) in &subgraph.types {
        for (field_name, field) in &ty.fields {
            for context_use in &field.context_arguments {
                let coordinate = format!("{type_name}.{field_name}({}:)", context_use.argument);
                let setters: Vec<_> = subgraph
                    .types
                    .values()
                    .filter(|t| t.contexts.contains(&context_use.context))
                    .collect();
                if setters.is_empty() {
                    errors.push(CompositionError::new(
                        ErrorCode::ContextNotSet,
                        format!(
                            "[{}] Context \"{}\" is used at location \"{coordinate}\" but is \
                             never set: no type of the subgraph has @context(name: \"{}\")",
                            subgraph.name, context_use.context, context_use.context
                        ),
                    ));
                    continue;
                }
                let fields = field_set_of(&context_use.selection);
                for setter in setters {
                    let description = format!(
                        "Context \"{}\" is used in \"{coordinate}\" but the selection \
                         \"{fields}\" on {}",
                        context_use.context, setter.name
                    );
                    used.extend(check_context_selection(
                        subgraph,
                        description,
                        &setter.name,
                        fields,
                        errors,
                    ));
                }
            }
        }
    }
    used
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_from_context_field_splits_into_name_and_selection() {
        assert_eq!(
            parse_field("$store { currency }"),
            Some(("store".into(), " { currency }".into()))
        );
        assert_eq!(
            parse_field("$v ... on A { x }"),
            Some(("v".into(), " ... on A { x }".into()))
        );
        assert_eq!(parse_field("store { currency }"), None);
        assert_eq!(parse_field("$store"), None);
        assert_eq!(field_set_of(" { currency }"), "currency");
        assert_eq!(field_set_of("... on A { x }"), "... on A { x }");
        assert_eq!(field_set_of(" { a { b } }"), "a { b }");
        assert_eq!(field_set_of("{ a } { b }"), "{ a } { b }");
    }
}
