//! Puts back the keys a fetch aliased apart (`plan::alias_apart`) before its answer is merged,
//! so the response tree only ever holds the keys shaping reads.

use crate::plan::{KeyRename, PathElement};
use crate::response::merge::deep_merge;
use crate::response::value::Value;

/// Applies `renames` to one answer of a fetch (its `data`, or one `_entities` item). Inner
/// renames come last in the list and are applied first, while the keys on their path are still
/// the fetch's.
pub(super) fn apply(renames: &[KeyRename], answer: &mut Value) {
    for rename in renames.iter().rev() {
        visit(answer, &rename.path, rename);
    }
}

fn visit(value: &mut Value, path: &[PathElement], rename: &KeyRename) {
    match (value, path.split_first()) {
        (Value::Array(items), Some((PathElement::List, rest))) => {
            for item in items {
                visit(item, rest, rename);
            }
        }
        (Value::Object(object), Some((PathElement::Key(key), rest))) => {
            if let Some(inner) = object.get_mut(key) {
                visit(inner, rest, rename);
            }
        }
        (Value::Object(object), None) => {
            let applies = object
                .get("__typename")
                .and_then(Value::as_str)
                .is_some_and(|t| rename.types.iter().any(|n| n == t));
            if !applies {
                return;
            }
            let Some(moved) = object.remove(&rename.from) else {
                return;
            };
            match object.get_mut(&rename.to) {
                // Another fragment answered the key too: the two are one field's value.
                Some(existing) => deep_merge(existing, moved),
                None => object.push(rename.to.as_str().into(), moved),
            }
        }
        _ => {}
    }
}
