//! Abstract types: a selection on an interface or union is split into one fragment per object
//! type the subgraph can return there, so each member's fields can come from wherever that
//! member lives, and a member the subgraph cannot return is never asked of it.

use super::*;

impl Builder<'_> {
    /// The object types of the abstract `type_name` that `subgraph` knows as its members.
    pub(super) fn possible_types_known_to(
        &self,
        type_name: &Name,
        subgraph: SubgraphId,
    ) -> Vec<Name> {
        let possible = self.supergraph.possible_types_in(type_name, subgraph);
        if possible.is_empty() {
            self.possible_types_in_graph(type_name, subgraph)
        } else {
            possible.to_vec()
        }
    }

    /// Plans an abstract field whose type in `group`'s subgraph is `own`, narrower than the
    /// supergraph's `type_name` (`@join__field(type:)`: a member object where the supergraph has
    /// the union, or a smaller abstract type). Only the members `own` can be are asked for: a
    /// fragment on any other would make the subgraph's query invalid, and could never match.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn plan_narrowed(
        &mut self,
        group: usize,
        type_name: &Name,
        own: &Name,
        set: &exe::SelectionSet,
        path: &[PathElement],
        provides: Option<&exe::SelectionSet>,
        conditions: &Conditions,
    ) -> Result<SelectionSet, PlanError> {
        let subgraph = self.groups[group].subgraph;
        let in_supergraph = crate::supergraph::possible_types(&self.supergraph.schema, type_name);
        let possible: Vec<Name> = if self.supergraph.is_abstract(own) {
            self.possible_types_known_to(own, subgraph)
        } else {
            vec![own.clone()]
        };
        let possible = possible
            .into_iter()
            .filter(|t| in_supergraph.contains(t))
            .collect();
        let mut planned = self.plan_type_cases(group, possible, set, path, provides, conditions)?;
        super::ensure_selected(&mut planned);
        Ok(planned)
    }

    /// An abstract selection split into one fragment per object type in `possible`, with
    /// `__typename` so shaping knows which applies.
    pub(super) fn plan_type_cases(
        &mut self,
        group: usize,
        possible: Vec<Name>,
        set: &exe::SelectionSet,
        path: &[PathElement],
        provides: Option<&exe::SelectionSet>,
        conditions: &Conditions,
    ) -> Result<SelectionSet, PlanError> {
        let mut out = SelectionSet::default();
        out.add_typename();
        for object_type in possible {
            let inner = self.plan_object(group, &object_type, set, path, provides, conditions)?;
            add_type_case(&mut out, object_type, inner);
        }
        Ok(out)
    }

    /// The object types of the abstract `type_name` that `subgraph` defines, read from the schema.
    pub(super) fn possible_types_in_graph(
        &self,
        type_name: &Name,
        subgraph: SubgraphId,
    ) -> Vec<Name> {
        crate::supergraph::possible_types(&self.supergraph.schema, type_name)
            .into_iter()
            .filter(|t| self.supergraph.type_in_graph(t, subgraph))
            .collect()
    }
}
