//! Collecting a client selection for one object type: the fields that apply to it, fragments
//! flattened, each with the conditions it was reached under and its own directives.

use std::borrow::Cow;
use std::collections::HashSet;

use apollo_compiler::ast::Directive;
use smallvec::SmallVec;

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
    // Per response key, the fields kept so far (occurrences merged into them), each tried in
    // turn: `a @include(if: $x)` stays apart from `a @include(if: $y)`, but a later
    // `a @include(if: $y)` still merges into the second. At most `MAX_COMPANIONS + 1` are tried
    // per key (`companions` refuses more), so each occurrence costs a bounded number of tries.
    let mut heads: HashMap<Name, SmallVec<[usize; 2]>, ahash::RandomState> = HashMap::default();
    let mut out: Vec<Collected<'d>> = Vec::with_capacity(collected.len());
    for c in collected {
        if !c.field.selection_set.selections.is_empty() {
            let kept = heads.entry(c.field.response_key().clone()).or_default();
            if kept
                .iter()
                .take(MAX_COMPANIONS + 1)
                .any(|&at| out.get_mut(at).is_some_and(|head| merge_into(head, c)))
            {
                continue;
            }
            kept.push(out.len());
        }
        out.push(c.clone());
    }
    Some(out)
}

/// The fields of a collected selection that share a response key but could not be merged
/// (conditions neither of which includes the other's): each is planned alone, but their
/// selections answer in one object of the fetch, so each sees the others' client keys there
/// (`Builder::next_companions`). Without that, in `feed @include(if: $a) { id: title }
/// feed @skip(if: $b) { ... on Movie { headline } }` the key `id` that headline's fetch needs
/// wrote over the client's `id` (wrong data, no error).
pub(super) struct Companions {
    /// Per response key shared by several fields with selections: their positions.
    shared: HashMap<Name, Vec<usize>, ahash::RandomState>,
    /// Per response key: the fields of the enclosing field's companions in this same object.
    beside: HashMap<Name, Vec<Node<exe::Field>>, ahash::RandomState>,
}

/// `beside`: the fields with selections that the enclosing field's companions select in this
/// object, which this object's fields under their keys must see too.
pub(super) fn companions(
    collected: &[Collected<'_>],
    beside: Vec<Node<exe::Field>>,
) -> Result<Companions, PlanError> {
    let mut shared: HashMap<Name, Vec<usize>, ahash::RandomState> = HashMap::default();
    for (i, c) in collected.iter().enumerate() {
        if !c.field.selection_set.selections.is_empty() {
            shared
                .entry(c.field.response_key().clone())
                .or_default()
                .push(i);
        }
    }
    shared.retain(|_, at| at.len() > 1);
    // More would cost each of them that many selections collected, or plan some without the
    // others' keys (wrong data): refused with a clear error instead.
    if let Some((key, _)) = shared.iter().find(|(_, at)| at.len() > MAX_COMPANIONS + 1) {
        return Err(PlanError::TooManyConditionalRepeats {
            key: key.to_string(),
            max: MAX_COMPANIONS + 1,
        });
    }
    let mut by_key: HashMap<Name, Vec<Node<exe::Field>>, ahash::RandomState> = HashMap::default();
    for field in beside {
        by_key
            .entry(field.response_key().clone())
            .or_default()
            .push(field);
    }
    Ok(Companions {
        shared,
        beside: by_key,
    })
}

impl Companions {
    /// The other fields under the response key of `collected[i]`; empty for most fields.
    /// Each field collects its companions' selections, so it gets at most `MAX_COMPANIONS` of
    /// them: `companions` refuses larger groups here, and of the fields met through the
    /// enclosing field's companions (`beside`) only the first are kept.
    pub(super) fn of(&self, i: usize, collected: &[Collected<'_>]) -> Vec<Node<exe::Field>> {
        if self.shared.is_empty() && self.beside.is_empty() {
            return Vec::new();
        }
        let Some(key) = collected.get(i).map(|c| c.field.response_key()) else {
            return Vec::new();
        };
        let here = self.shared.get(key).into_iter().flatten();
        let here = here
            .filter(|&&j| j != i)
            .filter_map(|&j| collected.get(j).map(|c| Node::clone(&c.field)));
        let beside = self.beside.get(key).into_iter().flatten().cloned();
        here.chain(beside).take(MAX_COMPANIONS).collect()
    }
}

/// The most companions a field sees (`Companions::of`).
const MAX_COMPANIONS: usize = 8;

/// Merges `other` into `existing`, an earlier occurrence under the same response key, when it
/// asks the same: same name and arguments, and the same directives but for `@skip`/`@include`.
/// The field is selected when any occurrence is, so it keeps the conditions of the occurrence
/// whose conditions the other's include (none at all, or the conditions of a fragment both are
/// reached through): the other's selection goes in as an inline fragment carrying its further
/// conditions (`things { ... @include(if: $v) { tag } id: title }`). Two occurrences under
/// conditions neither includes are left apart: their field would need one condition or the
/// other.
fn merge_into<'d>(existing: &mut Collected<'d>, other: &Collected<'d>) -> bool {
    if existing.field.name != other.field.name
        || existing.field.arguments != other.field.arguments
        || !client_directives(&existing.directives).eq(client_directives(&other.directives))
    {
        return false;
    }
    let existing_conditions: Vec<_> = variable_conditions(&existing.directives).cloned().collect();
    let other_conditions: Vec<_> = variable_conditions(&other.directives).cloned().collect();
    // What `of` adds to `base`, when `of` holds every condition of `base`. By hash: nested
    // conditional fragments may give a field hundreds of conditions.
    let beyond = |of: &[Node<Directive>], base: &[Node<Directive>]| {
        let of_set: HashSet<&Node<Directive>, ahash::RandomState> = of.iter().collect();
        let base_set: HashSet<&Node<Directive>, ahash::RandomState> = base.iter().collect();
        base_set.is_subset(&of_set).then(|| {
            of.iter()
                .filter(|d| !base_set.contains(d))
                .cloned()
                .collect()
        })
    };
    let guarded = |c: &Collected<'_>, guard: Vec<Node<Directive>>| {
        if guard.is_empty() {
            return c.field.selection_set.selections.clone();
        }
        vec![exe::Selection::InlineFragment(Node::new(
            exe::InlineFragment {
                type_condition: None,
                directives: DirectiveList(guard),
                selection_set: c.field.selection_set.clone(),
            },
        ))]
    };
    if let Some(extra) = beyond(&other_conditions, &existing_conditions) {
        // Added in place: a long run of repeats costs one push each.
        let selections = guarded(other, extra);
        let field = existing.field.to_mut().make_mut();
        field.selection_set.selections.extend(selections);
    } else if let Some(extra) = beyond(&existing_conditions, &other_conditions) {
        let selections = guarded(existing, extra);
        let mut merged = other.clone();
        let field = merged.field.to_mut().make_mut();
        field.selection_set.selections.extend(selections);
        *existing = merged;
    } else {
        return false;
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
