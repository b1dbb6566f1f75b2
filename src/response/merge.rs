//! Merging one value into another in the response tree: a later fetch's fields join the objects
//! an earlier fetch made, and a key put back after aliasing apart joins the value another
//! fragment gave it, so the tree holds one value per place in the response.

use std::collections::HashMap;

use compact_str::CompactString;

use super::value::{merge_needs_index, Value};

/// Merges `source` into `target`: objects key by key, equal-length lists element by element.
pub(crate) fn deep_merge(target: &mut Value, source: Value) {
    match (target, source) {
        (Value::Object(t), Value::Object(s)) if merge_needs_index(t, s.len()) => {
            // Many keys on both sides (aliases by the thousand): found by hash, not by a scan each.
            let mut positions: HashMap<CompactString, usize, ahash::RandomState> =
                HashMap::with_capacity_and_hasher(t.len() + s.len(), Default::default());
            for (at, (k, _)) in t.iter().enumerate() {
                positions.entry(k.clone()).or_insert(at);
            }
            for (key, value) in s.into_entries() {
                match positions.get(key.as_str()).copied() {
                    Some(at) => {
                        if let Some(existing) = t.value_at_mut(at) {
                            deep_merge(existing, value);
                        }
                    }
                    None => {
                        positions.insert(key.clone(), t.len());
                        t.push(key, value);
                    }
                }
            }
        }
        (Value::Object(t), Value::Object(s)) => {
            // Room for all at once: most of an entity answer's keys are new to its target.
            t.reserve(s.len());
            for (key, value) in s.into_entries() {
                match t.get_mut(&key) {
                    Some(existing) => deep_merge(existing, value),
                    None => t.push(key, value),
                }
            }
        }
        (Value::Array(t), Value::Array(s)) if t.len() == s.len() => {
            for (existing, value) in t.iter_mut().zip(s) {
                deep_merge(existing, value);
            }
        }
        (target, source) => *target = source,
    }
}
