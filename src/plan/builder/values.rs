//! Value types split across subgraphs: a selection on a type without a key (or with a key only
//! where the fields are not) that one subgraph answers only in part is split into what that
//! subgraph answers and the rest, which comes from other subgraphs through the nearest parent
//! that can be reached again: an entity above it, or the root.

use super::*;

/// Which other subgraphs a field may move to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Elsewhere {
    /// Those that answer the whole selection by themselves, with no lookup further down.
    Alone,
    /// Those that answer the whole selection, entity lookups below included.
    Whole,
}

impl Builder<'_> {
    /// Whether `subgraph` can take the selection `selection` on `type_name` the way `how` asks.
    pub(super) fn takes(
        &self,
        subgraph: SubgraphId,
        type_name: &Name,
        selection: &exe::SelectionSet,
        provides: Option<&exe::SelectionSet>,
        how: Elsewhere,
    ) -> bool {
        match how {
            Elsewhere::Alone => self.missing_fields(subgraph, type_name, selection, provides) == 0,
            Elsewhere::Whole => !self.needs_other(subgraph, type_name, selection, provides),
        }
    }

    /// Splits the selection of a value-type field that `subgraph` answers only in part: the field
    /// with what `subgraph` resolves, and the field with the rest. `None` when there is nothing to
    /// split off, or the type is abstract.
    pub(super) fn split_value_field(
        &self,
        subgraph: SubgraphId,
        field_type: &Name,
        c: &Collected<'_>,
        provides: Option<&exe::SelectionSet>,
    ) -> Option<(Node<exe::Field>, Node<exe::Field>)> {
        let (mut here, rest) =
            self.split_selection(subgraph, field_type, &c.field.selection_set, provides)?;
        if !has_own_field(&here) {
            // The field itself still comes from this subgraph; it needs a selection.
            here.selections.clear();
            here.selections.push(self.typename_field(field_type)?);
        }
        let with = |set: exe::SelectionSet| {
            let mut field = (**c.field).clone();
            field.selection_set = set;
            Node::new(field)
        };
        Some((with(here), with(rest)))
    }

    /// For each subgraph other than `subgraph` that resolves `object_type.field` and answers some
    /// of `rest`'s selection: the field with its share, and the field with what is left after it.
    pub(super) fn shares(
        &self,
        subgraph: SubgraphId,
        object_type: &Name,
        field_type: &Name,
        rest: &Collected<'_>,
    ) -> Vec<(Node<exe::Field>, Node<exe::Field>)> {
        let name = &rest.field.name;
        let with = |set: exe::SelectionSet| {
            let mut field = (**rest.field).clone();
            field.selection_set = set;
            Node::new(field)
        };
        self.supergraph
            .field_resolvers(object_type, name, self.labels)
            .into_iter()
            .filter(|&g| g != subgraph)
            .filter_map(|g| {
                let provides = self
                    .supergraph
                    .field_source(object_type, name, g)
                    .and_then(|s| s.provides.as_deref());
                let (share, left) =
                    self.split_selection(g, field_type, &rest.field.selection_set, provides)?;
                has_own_field(&share).then(|| (with(share), with(left)))
            })
            .collect()
    }

    /// `selection` on the object type `type_name` as two selections: the fields `subgraph`
    /// resolves, and the fields it does not. A field it resolves whose value it answers only in
    /// part is itself split, so each side keeps the path down to its own fields. Fragments are
    /// flattened (their conditions move onto the fields); `__typename` goes to both sides.
    /// `None` when the type is abstract or nothing goes to the rest.
    pub(super) fn split_selection(
        &self,
        subgraph: SubgraphId,
        type_name: &Name,
        selection: &exe::SelectionSet,
        provides: Option<&exe::SelectionSet>,
    ) -> Option<(exe::SelectionSet, exe::SelectionSet)> {
        if selection.selections.is_empty() || self.supergraph.is_abstract(type_name) {
            return None;
        }
        let collected = self.collect(selection, type_name).ok()?;
        let mut here = exe::SelectionSet::new(type_name.clone());
        let mut rest = exe::SelectionSet::new(type_name.clone());
        for child in &collected {
            let name = &child.field.name;
            let mut field = (**child.field).clone();
            // Its conditions, with those of the fragments it was reached through, and its own
            // directives.
            field.directives = child.directives.clone();
            if name.starts_with("__") {
                here.selections
                    .push(exe::Selection::Field(Node::new(field.clone())));
                rest.selections
                    .push(exe::Selection::Field(Node::new(field)));
                continue;
            }
            let provided = provides.and_then(|p| self.find_provided(p, type_name, name));
            let resolves = provided.is_some()
                || self
                    .supergraph
                    .field_resolvers(type_name, name, self.labels)
                    .contains(&subgraph);
            if !resolves {
                rest.selections
                    .push(exe::Selection::Field(Node::new(field)));
                continue;
            }
            let child_type = self.field_type(type_name, &child.field);
            let child_provides = self.provides_below(subgraph, type_name, name, provided);
            if !self.needs_other(
                subgraph,
                &child_type,
                &child.field.selection_set,
                child_provides,
            ) {
                here.selections
                    .push(exe::Selection::Field(Node::new(field)));
                continue;
            }
            match self.split_selection(
                subgraph,
                &child_type,
                &child.field.selection_set,
                child_provides,
            ) {
                Some((child_here, child_rest)) => {
                    if has_own_field(&child_here) {
                        let mut kept = field.clone();
                        kept.selection_set = child_here;
                        here.selections.push(exe::Selection::Field(Node::new(kept)));
                    }
                    field.selection_set = child_rest;
                    rest.selections
                        .push(exe::Selection::Field(Node::new(field)));
                }
                None => rest
                    .selections
                    .push(exe::Selection::Field(Node::new(field))),
            }
        }
        has_own_field(&rest).then_some((here, rest))
    }

    /// `__typename` as a selection on `type_name`.
    fn typename_field(&self, type_name: &Name) -> Option<exe::Selection> {
        let definition = self.supergraph.schema.type_field(type_name, "__typename");
        let typename = exe::Field::new(
            apollo_compiler::name!("__typename"),
            definition.ok()?.node.clone(),
        );
        Some(exe::Selection::Field(Node::new(typename)))
    }
}

/// Whether `set` selects a field other than `__typename`.
pub(super) fn has_own_field(set: &exe::SelectionSet) -> bool {
    set.selections
        .iter()
        .any(|s| matches!(s, exe::Selection::Field(f) if !f.name.starts_with("__")))
}
