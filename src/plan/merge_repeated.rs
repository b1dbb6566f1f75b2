//! Repeated fields merged before planning. `{ things { tag } things { id: title } }` asks for one
//! `things` with both selections, as GraphQL's field collection merges them. Planned one
//! occurrence at a time, the first knew nothing of the second: the key `id` that `tag`'s entity
//! fetch needs went into the fetch beside the client's `id: title`, and one value wrote over the
//! other (wrong data, no error). Merged, the planner sees every client field of the object at
//! once and aliases its own fields away from them.
//!
//! Only sibling fields with the same response key, name, arguments and directives are merged
//! (validation already made them mergeable); the shaper still reads the client's own document,
//! so the response is unchanged but for the values now right.

use std::collections::HashMap;

use apollo_compiler::executable::{Operation, Selection, SelectionSet};
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Name, Node};

/// The document with repeated fields merged, and its copy of `operation`; `None` when no
/// selection set repeats a field with a selection (most documents), so nothing is copied.
pub(super) fn merged(
    document: &Valid<ExecutableDocument>,
    operation: &Operation,
) -> Option<(Valid<ExecutableDocument>, Node<Operation>)> {
    let repeats = repeats_in(&operation.selection_set)
        || document
            .fragments
            .values()
            .any(|fragment| repeats_in(&fragment.selection_set));
    if !repeats {
        return None;
    }
    let mut copy: ExecutableDocument = (**document).clone();
    for fragment in copy.fragments.values_mut() {
        merge_set(&mut fragment.make_mut().selection_set);
    }
    let mut own = Node::new(operation.clone());
    merge_set(&mut own.make_mut().selection_set);
    match &operation.name {
        Some(name) => {
            copy.operations.named.insert(name.clone(), own.clone());
        }
        None => copy.operations.anonymous = Some(own.clone()),
    }
    // Merging fields that validation found mergeable keeps the document valid.
    Some((Valid::assume_valid(copy), own))
}

/// Whether some selection set at any depth selects a composite field twice under one key.
fn repeats_in(set: &SelectionSet) -> bool {
    let mut seen: HashMap<&Name, (), ahash::RandomState> = HashMap::default();
    set.selections.iter().any(|selection| match selection {
        Selection::Field(field) => {
            (!field.selection_set.selections.is_empty()
                && seen.insert(field.response_key(), ()).is_some())
                || repeats_in(&field.selection_set)
        }
        Selection::InlineFragment(fragment) => repeats_in(&fragment.selection_set),
        Selection::FragmentSpread(_) => false,
    })
}

fn merge_set(set: &mut SelectionSet) {
    let mut first_at: HashMap<Name, usize, ahash::RandomState> = HashMap::default();
    let mut out: Vec<Selection> = Vec::with_capacity(set.selections.len());
    for selection in set.selections.drain(..) {
        if let Selection::Field(field) = &selection {
            if !field.selection_set.selections.is_empty() {
                if let Some(&at) = first_at.get(field.response_key()) {
                    if let Selection::Field(existing) = &mut out[at] {
                        if existing.name == field.name
                            && existing.arguments == field.arguments
                            && existing.directives == field.directives
                        {
                            existing
                                .make_mut()
                                .selection_set
                                .selections
                                .extend(field.selection_set.selections.iter().cloned());
                            continue;
                        }
                    }
                } else {
                    first_at.insert(field.response_key().clone(), out.len());
                }
            }
        }
        out.push(selection);
    }
    for selection in &mut out {
        match selection {
            Selection::Field(field) => merge_set(&mut field.make_mut().selection_set),
            Selection::InlineFragment(fragment) => {
                merge_set(&mut fragment.make_mut().selection_set)
            }
            Selection::FragmentSpread(_) => {}
        }
    }
    set.selections = out;
}
