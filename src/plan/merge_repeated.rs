//! Repeated fields merged before planning. `{ things { tag } things { id: title } }` asks for one
//! `things` with both selections, as GraphQL's field collection merges them. Planned one
//! occurrence at a time, the first knew nothing of the second: the key `id` that `tag`'s entity
//! fetch needs went into the fetch beside the client's `id: title`, and one value wrote over the
//! other (wrong data, no error). Merged, the planner sees every client field of the object at
//! once and aliases its own fields away from them.
//!
//! Sibling fields with the same response key are merged when they ask the same (validation
//! already made them mergeable; see `merge_into` for differing `@skip`/`@include`); the shaper
//! still reads the client's own document, so the response is unchanged but for the values now
//! right.

use std::collections::HashMap;

use apollo_compiler::ast::Directive;
use apollo_compiler::executable::{
    DirectiveList, Field, InlineFragment, Operation, Selection, SelectionSet,
};
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
                        if merge_into(existing, field) {
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

/// Merges `other` into `existing` (an earlier occurrence under the same response key) when
/// that asks the same: same name and arguments, and the same directives but for `@skip`/
/// `@include`. The field is selected when any occurrence is, so conditions can differ only when
/// one of the two has none: the conditional one's selection then goes in as an inline fragment
/// carrying its conditions (`things { ... @include(if: $v) { tag } id: title }`). Two
/// conditional occurrences are left apart: their field would need one condition or the other.
fn merge_into(existing: &mut Node<Field>, other: &Node<Field>) -> bool {
    if existing.name != other.name
        || existing.arguments != other.arguments
        || own_directives(&existing.directives) != own_directives(&other.directives)
    {
        return false;
    }
    let existing_conditions = conditions(&existing.directives);
    let other_conditions = conditions(&other.directives);
    if existing_conditions == other_conditions {
        existing
            .make_mut()
            .selection_set
            .selections
            .extend(other.selection_set.selections.iter().cloned());
        return true;
    }
    let guarded = |field: &Node<Field>, guard: Vec<&Node<Directive>>| {
        Selection::InlineFragment(Node::new(InlineFragment {
            type_condition: None,
            directives: DirectiveList(guard.into_iter().cloned().collect()),
            selection_set: field.selection_set.clone(),
        }))
    };
    match (existing_conditions.is_empty(), other_conditions.is_empty()) {
        // Added in place: a long run of conditional repeats costs one push each.
        (true, false) => {
            let wrapped = guarded(other, other_conditions);
            existing.make_mut().selection_set.selections.push(wrapped);
        }
        (false, true) => {
            let wrapped = guarded(existing, existing_conditions);
            let mut merged = other.clone();
            merged.make_mut().selection_set.selections.push(wrapped);
            *existing = merged;
        }
        _ => return false,
    }
    true
}

fn conditions(directives: &DirectiveList) -> Vec<&Node<Directive>> {
    directives
        .iter()
        .filter(|d| d.name == "skip" || d.name == "include")
        .collect()
}

fn own_directives(directives: &DirectiveList) -> Vec<&Node<Directive>> {
    directives
        .iter()
        .filter(|d| d.name != "skip" && d.name != "include")
        .collect()
}
