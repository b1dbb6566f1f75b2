//! Collecting a client selection for one object type: the fields that apply to it, fragments
//! flattened, each with the conditions it was reached under and its own directives.

use std::borrow::Cow;

use apollo_compiler::ast::Directive;

use super::conditions::{client_directives, statically_excluded, variable_conditions};
use super::*;

/// A client field with the `@skip`/`@include` of the fragments it was reached through, and its
/// own directives besides those (executable directives the subgraphs define).
#[derive(Clone)]
pub(super) struct Collected<'d> {
    /// The document's field, or one made by [`merge_repeats`] from several of them.
    pub(super) field: Cow<'d, Node<exe::Field>>,
    pub(super) directives: DirectiveList,
}

impl<'d> Collected<'d> {
    pub(super) fn new(field: &'d Node<exe::Field>, directives: DirectiveList) -> Self {
        Self {
            field: Cow::Borrowed(field),
            directives,
        }
    }
}

/// `collected` with the occurrences of one field under one response key merged into one field
/// whose selection holds each occurrence's, as GraphQL's field collection merges them; `None`
/// when nothing repeats (most selections), so nothing is copied.
///
/// Planned one occurrence at a time, the first knew nothing of the second: in
/// `{ things { tag } ... on Query { things { id: title } } }` the key `id` that `tag`'s entity
/// fetch needs went into the fetch beside the client's `id: title`, and one value wrote over the
/// other (wrong data, no error). Merged, the planner sees every client field of the object at
/// once and aliases its own fields away from them. Occurrences met through different fragments
/// and named spreads are merged as siblings are, since collecting flattened them; the shaper
/// still reads the client's own document.
pub(super) fn merge_repeats<'d>(collected: &[Collected<'d>]) -> Option<Vec<Collected<'d>>> {
    let mut first_at: HashMap<&Name, usize, ahash::RandomState> = HashMap::default();
    let mut repeats = false;
    for (i, c) in collected.iter().enumerate() {
        if !c.field.selection_set.selections.is_empty()
            && first_at.insert(c.field.response_key(), i).is_some()
        {
            repeats = true;
            break;
        }
    }
    if !repeats {
        return None;
    }
    let mut first_at: HashMap<Name, usize, ahash::RandomState> = HashMap::default();
    let mut out: Vec<Collected<'d>> = Vec::with_capacity(collected.len());
    for c in collected {
        if !c.field.selection_set.selections.is_empty() {
            if let Some(&at) = first_at.get(c.field.response_key()) {
                if merge_into(&mut out[at], c) {
                    continue;
                }
            } else {
                first_at.insert(c.field.response_key().clone(), out.len());
            }
        }
        out.push(c.clone());
    }
    Some(out)
}

/// Merges `other` into `existing`, an earlier occurrence under the same response key, when it
/// asks the same: same name and arguments, and the same directives but for `@skip`/`@include`.
/// The field is selected when any occurrence is, so conditions can differ only when one of the
/// two has none: the conditional one's selection then goes in as an inline fragment carrying its
/// conditions (`things { ... @include(if: $v) { tag } id: title }`). Two conditional occurrences
/// are left apart: their field would need one condition or the other.
fn merge_into<'d>(existing: &mut Collected<'d>, other: &Collected<'d>) -> bool {
    if existing.field.name != other.field.name
        || existing.field.arguments != other.field.arguments
        || !client_directives(&existing.directives).eq(client_directives(&other.directives))
    {
        return false;
    }
    let existing_conditions: Vec<_> = variable_conditions(&existing.directives).collect();
    let other_conditions: Vec<_> = variable_conditions(&other.directives).collect();
    let guarded = |c: &Collected<'_>, guard: Vec<&Node<Directive>>| {
        exe::Selection::InlineFragment(Node::new(exe::InlineFragment {
            type_condition: None,
            directives: DirectiveList(guard.into_iter().cloned().collect()),
            selection_set: c.field.selection_set.clone(),
        }))
    };
    if existing_conditions == other_conditions {
        let selections = &other.field.selection_set.selections;
        existing
            .field
            .to_mut()
            .make_mut()
            .selection_set
            .selections
            .extend(selections.iter().cloned());
        return true;
    }
    match (existing_conditions.is_empty(), other_conditions.is_empty()) {
        // Added in place: a long run of conditional repeats costs one push each.
        (true, false) => {
            let wrapped = guarded(other, other_conditions);
            let field = existing.field.to_mut().make_mut();
            field.selection_set.selections.push(wrapped);
        }
        (false, true) => {
            let wrapped = guarded(existing, existing_conditions);
            let mut merged = other.clone();
            let field = merged.field.to_mut().make_mut();
            field.selection_set.selections.push(wrapped);
            *existing = merged;
        }
        _ => return false,
    }
    true
}

impl<'a> Builder<'a> {
    /// The fields of `set` that apply to an object of type `object_type`, fragments flattened.
    pub(super) fn collect<'d>(
        &self,
        set: &'d exe::SelectionSet,
        object_type: &str,
    ) -> Result<Vec<Collected<'d>>, PlanError>
    where
        'a: 'd,
    {
        let mut out = Vec::new();
        self.collect_into(set, object_type, &DirectiveList::new(), &mut out);
        Ok(out)
    }

    fn collect_into<'d>(
        &self,
        set: &'d exe::SelectionSet,
        object_type: &str,
        inherited: &DirectiveList,
        out: &mut Vec<Collected<'d>>,
    ) where
        'a: 'd,
    {
        for selection in &set.selections {
            let (condition, directives, inner) = match selection {
                exe::Selection::Field(field) => {
                    if statically_excluded(&field.directives) {
                        continue;
                    }
                    let mut directives = inherited.clone();
                    directives.extend(variable_conditions(&field.directives).cloned());
                    // The client's own directives go to the subgraph with the field.
                    directives.extend(client_directives(&field.directives).cloned());
                    out.push(Collected::new(field, directives));
                    continue;
                }
                exe::Selection::InlineFragment(f) => {
                    (f.type_condition.as_ref(), &f.directives, &f.selection_set)
                }
                exe::Selection::FragmentSpread(spread) => {
                    let Some(fragment) = self.document.fragments.get(&spread.fragment_name) else {
                        continue;
                    };
                    (
                        Some(fragment.type_condition()),
                        &spread.directives,
                        &fragment.selection_set,
                    )
                }
            };
            if condition.is_some_and(|c| !self.supergraph.satisfies(object_type, c)) {
                continue;
            }
            if statically_excluded(directives) {
                continue;
            }
            let mut nested = inherited.clone();
            nested.extend(variable_conditions(directives).cloned());
            self.collect_into(inner, object_type, &nested, out);
        }
    }
}
