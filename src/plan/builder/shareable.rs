//! Fields a subgraph answers only in part: a `@shareable` value type whose selection reaches
//! fields this subgraph lacks goes to another subgraph whole, or is split between them.

use super::*;

impl Builder<'_> {
    /// Whether `selection` on `type_name`, resolved in `subgraph`, reaches a field the subgraph
    /// does not resolve through value types only (an entity on the way can fetch it elsewhere).
    /// Fields in `provides` count as resolved.
    pub(super) fn needs_other(
        &self,
        subgraph: SubgraphId,
        type_name: &Name,
        selection: &exe::SelectionSet,
        provides: Option<&exe::SelectionSet>,
    ) -> bool {
        if selection.selections.is_empty() || self.supergraph.is_entity(type_name) {
            return false;
        }
        let types = if self.supergraph.is_abstract(type_name) {
            self.possible_types_in_graph(type_name, subgraph)
        } else {
            vec![type_name.clone()]
        };
        types.iter().any(|t| {
            if self.supergraph.is_entity(t) {
                return false;
            }
            let Ok(collected) = self.collect(selection, t) else {
                return false;
            };
            collected.iter().any(|c| {
                if c.field.name.starts_with("__") {
                    return false;
                }
                let provided = provides.and_then(|p| self.find_provided(p, t, &c.field.name));
                let resolves = provided.is_some()
                    || self
                        .supergraph
                        .field_resolvers(t, &c.field.name, self.labels)
                        .contains(&subgraph);
                !resolves
                    || self.needs_other(
                        subgraph,
                        &self.field_type(t, c.field),
                        &c.field.selection_set,
                        provided.map(|p| &p.selection_set),
                    )
            })
        })
    }

    /// How many fields of `selection` on the object type `type_name` `subgraph` does not resolve
    /// itself (zero for abstract and leaf types: their fields are not counted).
    pub(super) fn fields_elsewhere(
        &self,
        subgraph: SubgraphId,
        type_name: &Name,
        selection: &exe::SelectionSet,
    ) -> usize {
        if selection.selections.is_empty() || self.supergraph.is_abstract(type_name) {
            return 0;
        }
        let Ok(collected) = self.collect(selection, type_name) else {
            return 0;
        };
        collected
            .iter()
            .filter(|c| {
                !c.field.name.starts_with("__")
                    && !self
                        .supergraph
                        .field_resolvers(type_name, &c.field.name, self.labels)
                        .contains(&subgraph)
            })
            .count()
    }

    /// Splits the selection of a value-type field that `subgraph` answers only in part: the field
    /// with the selections `subgraph` resolves, and the field with the others. `None` when there
    /// is nothing to split off, or the type is abstract or an entity.
    pub(super) fn split_value_field(
        &self,
        subgraph: SubgraphId,
        field_type: &Name,
        c: &Collected<'_>,
    ) -> Option<(Node<exe::Field>, Node<exe::Field>)> {
        if c.field.selection_set.selections.is_empty()
            || self.supergraph.is_abstract(field_type)
            || self.supergraph.is_entity(field_type)
        {
            return None;
        }
        let collected = self.collect(&c.field.selection_set, field_type).ok()?;
        let mut here = exe::SelectionSet::new(field_type.clone());
        let mut rest = exe::SelectionSet::new(field_type.clone());
        for child in &collected {
            let name = &child.field.name;
            let stays = name.starts_with("__")
                || (self
                    .supergraph
                    .field_resolvers(field_type, name, self.labels)
                    .contains(&subgraph)
                    && !self.needs_other(
                        subgraph,
                        &self.field_type(field_type, child.field),
                        &child.field.selection_set,
                        None,
                    ));
            // Fragments are flattened away, so their conditions move onto the field itself.
            let mut field = (**child.field).clone();
            field
                .directives
                .retain(|d| d.name != "skip" && d.name != "include");
            field.directives.extend(child.directives.iter().cloned());
            let side = if stays { &mut here } else { &mut rest };
            side.selections
                .push(exe::Selection::Field(Node::new(field)));
        }
        if rest.selections.is_empty() {
            return None;
        }
        if here.selections.is_empty() {
            // The field itself still comes from this subgraph; it needs a selection.
            let definition = self.supergraph.schema.type_field(field_type, "__typename");
            let typename = exe::Field::new(
                apollo_compiler::name!("__typename"),
                definition.ok()?.node.clone(),
            );
            here.selections
                .push(exe::Selection::Field(Node::new(typename)));
        }
        let with = |set: exe::SelectionSet| {
            let mut field = (**c.field).clone();
            field.selection_set = set;
            Node::new(field)
        };
        Some((with(here), with(rest)))
    }
}
