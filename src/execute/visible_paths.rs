//! Error paths cut back to what the client asked for. A subgraph reports an error at its own
//! path, which may run through a field only the planner selected (a `@requires` input, a key)
//! or through something that is no field at all (some servers put argument names in the path).
//! The spec's path names a response field, so such a path is cut at the first key the client's
//! operation has no field for, as Apollo Router does: `["products", 1, "broken"]` for an error
//! of the required `broken` becomes `["products", 1]`, the object whose fields it cost.
//!
//! Each level of the operation is indexed once, when the first error path reaches it, so the
//! work is linear in the errors' paths plus the part of the document they run through, however
//! wide a selection or however many errors a subgraph sends.

use std::collections::HashMap;

use apollo_compiler::executable::{Selection, SelectionSet};
use apollo_compiler::ExecutableDocument;

use crate::response::{GraphqlError, PathSegment};

/// One level of the operation: the selection sets answering in one response object (fragments
/// merged in), and, once indexed, the level below each response key.
struct Level<'a> {
    sets: Vec<&'a SelectionSet>,
    below: Option<HashMap<&'a str, usize, ahash::RandomState>>,
}

/// Cuts every error path at the first key the operation (`root`, with `document`'s fragments)
/// selects no field under; a path cut to nothing is dropped.
pub(super) fn cut_to_client_paths(
    errors: &mut [GraphqlError],
    document: &ExecutableDocument,
    root: &SelectionSet,
) {
    if errors.iter().all(|e| e.path.is_none()) {
        return;
    }
    let mut levels = vec![Level {
        sets: vec![root],
        below: None,
    }];
    for error in errors {
        let Some(path) = &mut error.path else {
            continue;
        };
        let mut level = 0;
        let mut keep = path.len();
        for (at, segment) in path.iter().enumerate() {
            let PathSegment::Key(key) = segment else {
                continue;
            };
            match child(&mut levels, level, key, document) {
                Some(next) => level = next,
                None => {
                    keep = at;
                    break;
                }
            }
        }
        path.truncate(keep);
        if path.is_empty() {
            error.path = None;
        }
    }
}

/// The level below `key` at `level`, indexing `level` first if no path reached it before.
fn child<'a>(
    levels: &mut Vec<Level<'a>>,
    level: usize,
    key: &str,
    document: &'a ExecutableDocument,
) -> Option<usize> {
    if levels[level].below.is_none() {
        let mut by_key: HashMap<&'a str, Vec<&'a SelectionSet>, ahash::RandomState> =
            HashMap::default();
        // A fragment spread twice in one object is read once.
        let mut spread = std::collections::HashSet::new();
        let mut stack = levels[level].sets.clone();
        while let Some(set) = stack.pop() {
            for selection in &set.selections {
                match selection {
                    Selection::Field(field) => by_key
                        .entry(field.response_key().as_str())
                        .or_default()
                        .push(&field.selection_set),
                    Selection::InlineFragment(fragment) => stack.push(&fragment.selection_set),
                    Selection::FragmentSpread(fragment) => {
                        if !spread.insert(&fragment.fragment_name) {
                            continue;
                        }
                        if let Some(fragment) = document.fragments.get(&fragment.fragment_name) {
                            stack.push(&fragment.selection_set);
                        }
                    }
                }
            }
        }
        let mut below = HashMap::default();
        for (field_key, sets) in by_key {
            below.insert(field_key, levels.len());
            levels.push(Level { sets, below: None });
        }
        levels[level].below = Some(below);
    }
    levels[level].below.as_ref()?.get(key).copied()
}
