//! Context values of an entity fetch (`@fromContext`): each entity's values are read from its
//! own ancestors in the response, and the fetch is sent once per distinct set of values, so
//! entities under parents with different contexts each get their own (see
//! `plan/builder/context.rs` for how the plan says where to read them).

use std::collections::HashMap;

use super::fetch::visit_targets;
use super::representation::write_projection_value;
use crate::plan::selection::{Field, Selection, SelectionSet};
use crate::plan::{ContextSource, ContextVariable, FetchNode, PathElement};
use crate::response::value::{write_json_string, Object, Value};

/// The fetch's entities grouped by their context values: one request goes out per group.
pub(super) struct Partitions {
    /// Each distinct set of values as the JSON members of the variables
    /// (`"contextualArgument_1_0":"EUR"`), in the order first met.
    pub values: Vec<Vec<u8>>,
    /// The group of each entity, by the list indices that lead to it: each request picks its
    /// representations by a lookup rather than by reading the ancestors again.
    pub of_target: HashMap<Vec<usize>, usize, ahash::RandomState>,
}

/// Reads every entity's context values from its ancestors and groups the entities by them.
pub(super) fn partitions(
    fetch: &FetchNode,
    contexts: &[ContextVariable],
    data: &Value,
) -> Partitions {
    let mut parts = Partitions {
        values: Vec::new(),
        of_target: HashMap::default(),
    };
    // Found by hash: a list of a thousand parents may give a thousand different values.
    let mut seen: HashMap<Vec<u8>, usize, ahash::RandomState> = HashMap::default();
    let mut values = Vec::new();
    visit_targets(
        data,
        &fetch.merge_path,
        &mut Vec::new(),
        &mut |_, indices| {
            values.clear();
            write_values(&mut values, fetch, contexts, data, indices);
            let next = parts.values.len();
            let part = *seen.entry(values.clone()).or_insert(next);
            if part == next {
                parts.values.push(values.clone());
            }
            parts.of_target.insert(indices.to_vec(), part);
        },
    );
    parts
}

/// Writes the context variables of the entity reached through `indices` as JSON members.
fn write_values(
    out: &mut Vec<u8>,
    fetch: &FetchNode,
    contexts: &[ContextVariable],
    data: &Value,
    indices: &[usize],
) {
    for (i, context) in contexts.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_json_string(out, &context.name);
        out.push(b':');
        let found = context.sources.iter().find_map(|source| {
            let ancestor = ancestor(data, &fetch.merge_path, source.depth, indices)?;
            applies(source, ancestor).then_some((source, ancestor))
        });
        match found {
            Some((source, ancestor)) => {
                // An ancestor without `__typename` is of the one type planned at its place.
                let typename = ancestor
                    .get("__typename")
                    .and_then(Value::as_str)
                    .or(source.types.first().map(|t| t.as_str()));
                write_value(out, ancestor, typename, &source.selection)
            }
            None => out.extend_from_slice(b"null"),
        }
    }
}

/// Whether `source` is where `ancestor` sets the context: its type is one that sets it, or it
/// carries no `__typename` (its place has a single type, the one planned).
fn applies(source: &ContextSource, ancestor: &Object) -> bool {
    match ancestor.get("__typename").and_then(Value::as_str) {
        Some(typename) => source.types.iter().any(|t| t == typename),
        None => true,
    }
}

/// The object `depth` elements along `path`, through the list `indices` the entity was reached by.
fn ancestor<'v>(
    data: &'v Value,
    path: &[PathElement],
    depth: usize,
    indices: &[usize],
) -> Option<&'v Object> {
    let mut current = data;
    let mut indices = indices.iter();
    for element in path.get(..depth)? {
        current = match element {
            PathElement::Key(key) => current.as_object()?.get(key.as_str())?,
            PathElement::List => match current {
                Value::Array(items) => items.get(*indices.next()?)?,
                _ => return None,
            },
        };
    }
    current.as_object()
}

/// The context value in `object`: the first field of `selection` that applies to it, projected
/// on that field's own selection; `null` when there is none.
fn write_value(
    out: &mut Vec<u8>,
    object: &Object,
    typename: Option<&str>,
    selection: &SelectionSet,
) {
    match first_field(selection, typename).and_then(|f| Some((f, object.get(f.response_key())?))) {
        Some((field, value)) if field.selections.is_empty() => value.write_json(out),
        Some((field, value)) => write_projection_value(out, value, &field.selections),
        None => out.extend_from_slice(b"null"),
    }
}

fn first_field<'s>(selection: &'s SelectionSet, typename: Option<&str>) -> Option<&'s Field> {
    selection.items().iter().find_map(|item| match item {
        Selection::Field(field) => Some(field),
        Selection::Fragment(fragment) => {
            let applies = match (&fragment.type_condition, typename) {
                (Some(condition), Some(actual)) => condition == actual,
                _ => true,
            };
            applies
                .then(|| first_field(&fragment.selections, typename))
                .flatten()
        }
    })
}
