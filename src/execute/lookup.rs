//! Stitching: entity fetches from plain GraphQL services, which have no `_entities` field.
//!
//! Instead of `_entities(representations: [...])`, the request asks the service's lookup field
//! once per distinct representation, each under an alias that is its index:
//! `query($seam__a0:ID!,$seam__a1:ID!){_0:userById(id:$seam__a0){name} _1:userById(id:$seam__a1){name}}`.
//! The answer is then reshaped into the `_entities` answer it stands for (`data._N` becomes entry
//! N, an error at `["_N", ...]` one at `["_entities", N, ...]`), so merging and error paths are
//! exactly those of a federation entity fetch.

use std::fmt::Write;
use std::sync::Arc;

use serde_json::Map;

use super::fetch::{collect_targets, write_client_variables, PreparedFetch};
use super::Report;
use crate::plan::selection::{Selection, SelectionSet};
use crate::plan::{FetchNode, LookupFetch};
use crate::response::value::{write_json_string, Object, Value};
use crate::response::PathSegment;
use crate::traffic::SubgraphResponse;

/// Variables carrying key values are prefixed so they cannot meet a client variable's name.
const KEY_VARIABLE_PREFIX: &str = "seam__a";

/// Builds the lookup request; `None` when no entity has a key to look up.
pub(super) fn prepare(
    fetch: &FetchNode,
    lookup: &LookupFetch,
    data: &Value,
    variables: &Map<String, serde_json::Value>,
    report: &mut Report,
) -> Option<PreparedFetch> {
    let entity = fetch.entity.as_ref()?;
    // The text is built per request: it has one aliased field per distinct entity.
    let mut definitions = String::new();
    let mut fields = String::new();
    let mut key_values = Vec::with_capacity(256);
    let mut prepared = collect_targets(
        fetch,
        entity,
        data,
        report,
        None,
        &mut super::fetch::RepIndex::default(),
        &mut |index, type_index, object, _| {
            let Some(lookup_type) = lookup.types.get(type_index) else {
                return;
            };
            let representation = &entity.types[type_index].representation;
            let arguments = &lookup_type.lookup.arguments;
            if index > 0 {
                fields.push(' ');
            }
            let _ = write!(fields, "_{index}:{}(", lookup_type.lookup.query_field);
            for (position, argument) in arguments.iter().enumerate() {
                let variable = if arguments.len() == 1 {
                    format!("{KEY_VARIABLE_PREFIX}{index}")
                } else {
                    format!("{KEY_VARIABLE_PREFIX}{index}_{position}")
                };
                if !definitions.is_empty() {
                    definitions.push(',');
                }
                let _ = write!(definitions, "${variable}:{}", argument.ty);
                if position > 0 {
                    fields.push(',');
                }
                let _ = write!(fields, "{}:${variable}", argument.name);
                if !key_values.is_empty() {
                    key_values.push(b',');
                }
                write_json_string(&mut key_values, &variable);
                key_values.push(b':');
                match key_value(object, representation, &argument.key_field) {
                    Some(value) => value.write_json(&mut key_values),
                    None => key_values.extend_from_slice(b"null"),
                }
            }
            fields.push(')');
            fields.push_str(&lookup_type.selection);
        },
    );
    if prepared.rep_count == 0 {
        return None;
    }
    if !lookup.variable_definitions.is_empty() {
        definitions.push(',');
        definitions.push_str(&lookup.variable_definitions);
    }
    let mut query = String::with_capacity(definitions.len() + fields.len() + 10);
    let _ = write!(query, "query({definitions}){{{fields}}}");

    let mut body = Vec::with_capacity(query.len() + key_values.len() + 64);
    body.extend_from_slice(b"{\"query\":");
    write_json_string(&mut body, &query);
    body.extend_from_slice(b",\"variables\":{");
    body.extend_from_slice(&key_values);
    body.push(b',');
    if !write_client_variables(&fetch.variable_usages, variables, &mut body) {
        body.pop();
    }
    body.extend_from_slice(b"}}");
    prepared.body = body;
    Some(prepared)
}

/// The value of `key_field` in `object`, read under the response key the plan gave it (a key
/// field may be aliased when a client alias already uses its name).
fn key_value<'o>(
    object: &'o Object,
    representation: &SelectionSet,
    key_field: &str,
) -> Option<&'o Value> {
    let response_key = representation
        .items()
        .iter()
        .find_map(|item| match item {
            Selection::Field(field) if field.name == key_field => Some(field.response_key()),
            _ => None,
        })
        .map_or(key_field, |key| key.as_str());
    object.get(response_key)
}

/// Reshapes a lookup answer into the `_entities` answer it stands for, `count` entries long.
pub(super) fn as_entities(mut response: SubgraphResponse, count: usize) -> SubgraphResponse {
    match response.data.take().map(Arc::unwrap_or_clone) {
        Some(Value::Object(object)) => {
            let mut entities: Vec<Value> = (0..count).map(|_| Value::Null).collect();
            for (key, value) in object.into_entries() {
                if let Some(slot) = alias_index(&key).and_then(|index| entities.get_mut(index)) {
                    *slot = value;
                }
            }
            let mut data = Object::with_capacity(1);
            data.push("_entities".into(), Value::Array(entities));
            response.data = Some(Arc::new(Value::Object(data)));
        }
        // Not an object: merging reports the answer as malformed.
        other => response.data = other.map(Arc::new),
    }
    for error in &mut response.errors {
        let Some(path) = &mut error.path else {
            continue;
        };
        let index = match path.first() {
            Some(PathSegment::Key(key)) => alias_index(key),
            _ => None,
        };
        if let Some(index) = index {
            path[0] = PathSegment::Index(index);
            path.insert(0, PathSegment::Key("_entities".into()));
        }
    }
    response
}

/// `_12` ▶ 12.
fn alias_index(key: &str) -> Option<usize> {
    key.strip_prefix('_')?.parse().ok()
}
