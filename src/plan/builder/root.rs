//! Root fields: which subgraph answers each one. A `@shareable` root field goes to the subgraph
//! that answers most of its selection itself; a value-type root field no subgraph answers whole
//! is asked of several, each for the part it has; every candidate is tried before giving up.

use super::values::has_own_field;
use super::*;

/// The first field of `set` other than `__typename`, looking into inline fragments, with the
/// type it is selected on (the set's own, or a fragment's type condition).
fn first_own_field<'s>(set: &'s exe::SelectionSet, on: &'s Name) -> Option<(&'s Name, &'s Name)> {
    set.selections.iter().find_map(|selection| match selection {
        exe::Selection::Field(f) if !f.name.starts_with("__") => Some((on, &f.name)),
        exe::Selection::InlineFragment(inline) => {
            let on = inline.type_condition.as_ref().unwrap_or(on);
            first_own_field(&inline.selection_set, on)
        }
        _ => None,
    })
}

impl Builder<'_> {
    /// Plans the root field `c` in one of the subgraphs that resolve it and are not `excluded`,
    /// trying each in turn: a failed attempt is undone and the next one tried.
    pub(super) fn plan_root(
        &mut self,
        kind: OperationKind,
        root_type: &Name,
        c: &Collected<'_>,
        conditions: &Conditions,
        excluded: &[SubgraphId],
    ) -> Result<(), PlanError> {
        let name = &c.field.name;
        let field_type = c.field.ty().inner_named_type().clone();
        let selection = &c.field.selection_set;
        let mut resolvers = self
            .supergraph
            .field_resolvers(root_type, name, self.labels);
        resolvers.retain(|g| !excluded.contains(g));
        if resolvers.is_empty() {
            // Planning what the excluded subgraphs could not answer of this field's selection:
            // that part, not the root field, is what no subgraph resolves.
            let unanswered = (!excluded.is_empty())
                .then(|| first_own_field(selection, &field_type))
                .flatten();
            return Err(match unanswered {
                Some((on, field)) => PlanError::Unresolvable {
                    type_name: on.to_string(),
                    field: field.to_string(),
                },
                None => PlanError::Unresolvable {
                    type_name: root_type.to_string(),
                    field: name.to_string(),
                },
            });
        }
        let provides_in = |g: SubgraphId| {
            self.supergraph
                .field_source(root_type, name, g)
                .and_then(|s| s.provides.clone())
        };
        // A `@shareable` root field goes to a subgraph that can answer all of its selection;
        // of those, the one that leaves the fewest fields to other subgraphs (counting what it
        // `@provides` on this path) saves entity fetches.
        let ranked: Vec<(SubgraphId, bool, usize)> = resolvers
            .iter()
            .map(|&g| {
                let provides = provides_in(g);
                let complete = !self.needs_other(g, &field_type, selection, provides.as_deref());
                let missing = self.missing_fields(g, &field_type, selection, provides.as_deref());
                (g, complete, missing)
            })
            .collect();
        let mut preferred: Vec<(SubgraphId, usize)> = ranked
            .iter()
            .filter(|(_, complete, _)| *complete)
            .map(|&(g, _, missing)| (g, missing))
            .collect();
        if preferred.is_empty() {
            preferred = ranked.iter().map(|&(g, _, missing)| (g, missing)).collect();
        }
        preferred.sort_by_key(|&(_, missing)| missing);
        // A subgraph already queried at the root takes the field along when it leaves no more
        // to others than the best; then the preferred ones; then every other resolver, since a
        // plan through any of them beats no plan at all.
        let best = preferred.first().map_or(0, |&(_, missing)| missing);
        let as_good: Vec<SubgraphId> = preferred
            .iter()
            .filter(|&&(_, missing)| missing == best)
            .map(|&(g, _)| g)
            .collect();
        let mut candidates: Vec<SubgraphId> = self
            .existing_root_group(kind, &as_good)
            .map(|g| self.groups[g].subgraph)
            .into_iter()
            .collect();
        for g in preferred.iter().map(|(g, _)| g).chain(&resolvers) {
            if !candidates.contains(g) {
                candidates.push(*g);
            }
        }
        let repeated_key = !self.root_keys.insert(c.field.response_key().clone());
        let mut first_error = None;
        for candidate in candidates {
            let partial = ranked
                .iter()
                .any(|&(g, complete, _)| g == candidate && !complete);
            let undo = self.undo_point(repeated_key || partial);
            let planned = if partial {
                self.plan_root_split(kind, candidate, root_type, c, conditions, excluded)
            } else {
                self.plan_root_field(kind, candidate, root_type, c, conditions)
            };
            match planned {
                Ok(()) => return Ok(()),
                Err(error) => {
                    self.undo(undo);
                    first_error.get_or_insert(error);
                }
            }
        }
        Err(first_error.unwrap_or(PlanError::Unresolvable {
            type_name: root_type.to_string(),
            field: name.to_string(),
        }))
    }

    /// Plans the part of the root field `c` that `subgraph` answers there, and the rest as the
    /// same root field in other subgraphs (a value type's fields may each live in a different
    /// one). Query fields only: a mutation field must run once.
    fn plan_root_split(
        &mut self,
        kind: OperationKind,
        subgraph: SubgraphId,
        root_type: &Name,
        c: &Collected<'_>,
        conditions: &Conditions,
        excluded: &[SubgraphId],
    ) -> Result<(), PlanError> {
        let field_type = c.field.ty().inner_named_type().clone();
        let provides = self
            .supergraph
            .field_source(root_type, &c.field.name, subgraph)
            .and_then(|s| s.provides.clone());
        let split = match kind {
            OperationKind::Query => self.split_selection(
                subgraph,
                &field_type,
                &c.field.selection_set,
                provides.as_deref(),
            ),
            _ => None,
        };
        let Some((here, rest)) = split.filter(|(here, _)| has_own_field(here)) else {
            return self.plan_root_field(kind, subgraph, root_type, c, conditions);
        };
        let with = |set: exe::SelectionSet| {
            let mut field = (**c.field).clone();
            field.selection_set = set;
            Node::new(field)
        };
        let (here, rest) = (with(here), with(rest));
        let here = Collected::new(&here, c.directives.clone());
        self.plan_root_field(kind, subgraph, root_type, &here, conditions)?;
        let rest = Collected::new(&rest, c.directives.clone());
        let mut excluded = excluded.to_vec();
        excluded.push(subgraph);
        self.plan_root(kind, root_type, &rest, conditions, &excluded)
    }
}
