//! Representations: the JSON an entity fetch sends for each object it targets, projected from the
//! response so far onto the fetch's key and `@requires` selection, and the check that every field
//! they need arrived before one is sent.

use smallvec::SmallVec;

use super::report::{client_path, Report};
use crate::response::value::{write_name, Object, Value};
use apollo_compiler::Name;

use crate::plan::selection::{Selection, SelectionSet};
use crate::plan::{FetchNode, RequiredStep};
use crate::response::{GraphqlError, PathSegment};

/// Whether every field of the representation is in `object` (null counts: it is a value the
/// owner gave), and below the top level every field the fetched subgraph types as non-null in
/// each object that is there (`non_null_nested`). A missing one means its owner never resolved
/// this entity, or nulled the object it sits in (`author { email }` when the author's entity
/// failed on another field): sending null instead would let the subgraph compute from a value
/// nobody gave.
pub(super) fn has_required_fields(
    object: &Object,
    representation: &SelectionSet,
    non_null_nested: &[Vec<RequiredStep>],
) -> bool {
    let top = representation.items().iter().all(|item| match item {
        Selection::Field(field) => {
            field.name == "__typename" || object.get(field.response_key().as_str()).is_some()
        }
        Selection::Fragment(_) => true,
    });
    top && non_null_nested.iter().all(|steps| reaches(object, steps))
}

/// Whether the non-null field at the end of `steps` is in every object along them that is
/// there: a container that is missing or null holds nothing to check, a list is checked item by
/// item, and a step under a type condition applies only to objects that name that type.
fn reaches(object: &Object, steps: &[RequiredStep]) -> bool {
    let Some((step, rest)) = steps.split_first() else {
        return true;
    };
    if let Some(condition) = &step.condition {
        if object.get("__typename").and_then(Value::as_str) != Some(condition.as_str()) {
            return true;
        }
    }
    match object.get(step.key.as_str()) {
        None => !rest.is_empty(),
        Some(value) => rest.is_empty() || value_reaches(value, rest),
    }
}

fn value_reaches(value: &Value, steps: &[RequiredStep]) -> bool {
    match value {
        Value::Object(object) => reaches(object, steps),
        Value::Array(items) => items.iter().all(|item| value_reaches(item, steps)),
        _ => true,
    }
}

/// Reports an entity whose `@requires` fields are missing at the first field the fetch was to
/// add, unless an earlier error already explains it (a failed fetch, a field error inside it, or
/// this same report from the previous link of a chain of requirements).
pub(super) fn report_unmet_requirements(
    fetch: &FetchNode,
    entity_type: &crate::plan::EntityType,
    indices: &[usize],
    report: &mut Report,
) {
    let object_path = client_path(fetch, indices);
    let explained = report.failed_objects.contains(&object_path)
        || report.errors.iter().any(|e| {
            e.path
                .as_deref()
                .is_some_and(|path| path.starts_with(&object_path))
        });
    if explained {
        return;
    }
    let mut path = object_path.clone();
    if let Some(key) = &entity_type.error_key {
        path.push(PathSegment::Key(crate::plan::client_key(key).to_string()));
    }
    let message = format!(
        "cannot fetch from subgraph '{}': fields it requires of this {} are missing",
        fetch.service_name, entity_type.name
    );
    report
        .errors
        .push(GraphqlError::new(message, "REQUIRES_INPUT_MISSING").with_path(path));
    report.failed_objects.push(object_path);
}

/// The field names written into one object so far. Inline: a representation is written for
/// every entity target, and its few key fields should not cost an allocation each time.
type Written<'s> = SmallVec<[&'s str; 8]>;

/// Writes `object` projected on `selection`: the representation of an entity.
/// `forced_typename` replaces the object's own `__typename` at the top level.
pub(super) fn write_projection(
    out: &mut Vec<u8>,
    object: &Object,
    selection: &SelectionSet,
    typename: &Name,
    forced_typename: Option<&Name>,
) {
    out.push(b'{');
    let mut first = true;
    write_projection_fields(
        out,
        object,
        selection,
        Some(typename),
        forced_typename,
        &mut first,
        &mut Written::new(),
    );
    out.push(b'}');
}

fn write_projection_fields<'s>(
    out: &mut Vec<u8>,
    object: &Object,
    selection: &'s SelectionSet,
    typename: Option<&Name>,
    forced_typename: Option<&Name>,
    first: &mut bool,
    written: &mut Written<'s>,
) {
    for item in selection.items() {
        match item {
            Selection::Field(field) => {
                // Read under the response key, written under the field's name: the planner aliases
                // a key or `@requires` field whose name a client alias already uses at that level.
                let key = field.response_key();
                // An object without `__typename` matches every fragment of a field set whose
                // abstract conditions were expanded per type: each name is written once.
                if written.contains(&field.name.as_str()) {
                    continue;
                }
                written.push(field.name.as_str());
                if !*first {
                    out.push(b',');
                }
                *first = false;
                write_name(out, &field.name);
                out.push(b':');
                if field.name == "__typename" {
                    // The subgraph's own `__typename` is written as it was read (a text the
                    // parser knows needs no escaping); the planner's names are checked.
                    match (forced_typename, object.get("__typename")) {
                        (None, Some(Value::String(own))) => own.write_json(out),
                        _ => match forced_typename.or(typename) {
                            Some(name) => write_name(out, name),
                            None => out.extend_from_slice(b"\"\""),
                        },
                    }
                    continue;
                }
                match object.get(key.as_str()) {
                    None | Some(Value::Null) => out.extend_from_slice(b"null"),
                    Some(value) if field.selections.is_empty() => value.write_json(out),
                    Some(value) => write_projection_value(out, value, &field.selections),
                }
            }
            Selection::Fragment(fragment) => {
                let applies = match (
                    &fragment.type_condition,
                    object.get("__typename").and_then(Value::as_str),
                ) {
                    (Some(condition), Some(actual)) => condition == actual,
                    _ => true,
                };
                if applies {
                    write_projection_fields(
                        out,
                        object,
                        &fragment.selections,
                        None,
                        forced_typename,
                        first,
                        written,
                    );
                }
            }
        }
    }
}

pub(super) fn write_projection_value(out: &mut Vec<u8>, value: &Value, selection: &SelectionSet) {
    match value {
        Value::Object(object) => {
            out.push(b'{');
            let mut first = true;
            write_projection_fields(
                out,
                object,
                selection,
                None,
                None,
                &mut first,
                &mut Written::new(),
            );
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_projection_value(out, item, selection);
            }
            out.push(b']');
        }
        other => other.write_json(out),
    }
}
