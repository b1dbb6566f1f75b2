//! Collecting a client selection for one object type: the fields that apply to it, fragments
//! flattened, each with the conditions it was reached under and its own directives.

use super::conditions::{client_directives, statically_excluded, variable_conditions};
use super::*;

/// A client field with the `@skip`/`@include` of the fragments it was reached through, and its
/// own directives besides those (executable directives the subgraphs define).
pub(super) struct Collected<'d> {
    pub(super) field: &'d Node<exe::Field>,
    pub(super) directives: DirectiveList,
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
                    out.push(Collected { field, directives });
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
