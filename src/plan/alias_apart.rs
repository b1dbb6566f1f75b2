//! Keeps fields of different shapes apart in one subgraph fetch.
//!
//! GraphQL requires fields that answer under one response key to have the same shape, even in
//! fragments on different object types (`... on User { id } ... on Admin { id }` is invalid when
//! `User.id` is `ID!` and `Admin.id` is `ID`). The client's operation passed that check against
//! the supergraph, but a fetch can still break it: a subgraph may declare its own type for a field
//! (`@join__field(type:)`: a non-null where the supergraph has a nullable type, a member object
//! where it has the union), and the planner adds key and `@requires` fields of its own. So after a
//! fetch's selection is complete, every field whose type in that subgraph differs from the first
//! field answering under its key at the same level gets an alias of its own, and the fetch records
//! a [`KeyRename`] that puts the answer back under the original key before it is merged.

use std::collections::HashMap;

use apollo_compiler::ast::Type;
use apollo_compiler::Name;

use super::selection::{Selection, SelectionSet};
use super::{list_depth, KeyRename, PathElement};
use crate::supergraph::{SubgraphId, Supergraph};

/// Aliases apart the fields of `set` (answering for objects of `parent`) whose types in `graph`
/// clash, and returns the renames that undo it, inner ones last.
pub(super) fn alias_apart(
    supergraph: &Supergraph,
    graph: SubgraphId,
    parent: &Name,
    set: &mut SelectionSet,
) -> Vec<KeyRename> {
    let mut renames = Vec::new();
    let mut walk = Walk {
        supergraph,
        graph,
        renames: &mut renames,
    };
    walk.level(parent, set, &[]);
    renames
}

struct Walk<'a> {
    supergraph: &'a Supergraph,
    graph: SubgraphId,
    renames: &'a mut Vec<KeyRename>,
}

impl Walk<'_> {
    /// One level of a selection: the fields directly in `set` and in its fragments, which all
    /// answer in the same response object.
    fn level(&mut self, parent: &Name, set: &mut SelectionSet, path: &[PathElement]) {
        // The type of the first field under each key: the one that keeps the key.
        let mut first: HashMap<Name, Type, ahash::RandomState> = HashMap::default();
        // A rename applies to objects of one type only, which the answer tells by `__typename`.
        if self.alias_clashes(parent, set, path, &mut first) {
            set.add_typename();
        }
    }

    /// Aliases the clashing fields of `set` and its fragments; whether it aliased any.
    fn alias_clashes(
        &mut self,
        owner: &Name,
        set: &mut SelectionSet,
        path: &[PathElement],
        first: &mut HashMap<Name, Type, ahash::RandomState>,
    ) -> bool {
        let mut aliased = false;
        set.edit(|items| {
            for item in items.iter_mut() {
                match item {
                    Selection::Field(field) => {
                        let Some(ty) = self
                            .supergraph
                            .field_type_in(owner, &field.name, self.graph)
                            .cloned()
                        else {
                            continue;
                        };
                        let key = field.response_key().clone();
                        let clashes = match first.get(&key) {
                            Some(kept) => *kept != ty,
                            None => {
                                first.insert(key.clone(), ty.clone());
                                false
                            }
                        };
                        if clashes {
                            if let Ok(alias) = Name::new(&format!("seam__{owner}__{key}")) {
                                field.alias = Some(alias.clone());
                                self.renames.push(KeyRename {
                                    path: path.to_vec(),
                                    types: self.supergraph.typenames_of(owner),
                                    from: alias,
                                    to: key,
                                });
                                aliased = true;
                            }
                        }
                        if !field.selections.is_empty() {
                            let mut inner = path.to_vec();
                            inner.push(PathElement::Key(field.response_key().clone()));
                            for _ in 0..list_depth(&ty) {
                                inner.push(PathElement::List);
                            }
                            let named = ty.inner_named_type().clone();
                            self.level(&named, &mut field.selections, &inner);
                        }
                    }
                    Selection::Fragment(fragment) => {
                        let condition = fragment
                            .type_condition
                            .clone()
                            .unwrap_or_else(|| owner.clone());
                        aliased |=
                            self.alias_clashes(&condition, &mut fragment.selections, path, first);
                    }
                }
            }
        });
        aliased
    }
}
