//! Choosing among subgraphs that share a field: whether a subgraph can answer a selection by
//! itself (`@provides` on the path counted, `@external` fields not provided there unavailable), and
//! how much of it another subgraph would have to answer.

use super::*;

impl Builder<'_> {
    /// Whether `selection` on `type_name`, resolved in `subgraph`, reaches a field the subgraph
    /// does not resolve and cannot reach by a key lookup: a field of a value type, or of a type
    /// that is an entity only in subgraphs that lack the field. Such a field can only come from
    /// another subgraph through a parent (an entity above it, or the root). Fields in `provides`
    /// count as resolved.
    pub(super) fn needs_other(
        &self,
        subgraph: SubgraphId,
        type_name: &Name,
        selection: &exe::SelectionSet,
        provides: Option<&exe::SelectionSet>,
    ) -> bool {
        if selection.selections.is_empty() {
            return false;
        }
        let types = if self.supergraph.is_abstract(type_name) {
            if self.supergraph.is_entity(type_name) {
                return false; // an entity interface: looked up by its key wherever a field lives
            }
            self.possible_types_in_graph(type_name, subgraph)
        } else {
            vec![type_name.clone()]
        };
        types.iter().any(|t| {
            let entity = self.supergraph.is_entity(t);
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
                if !resolves {
                    return !entity || !self.reachable_by_key(t, &c.field.name);
                }
                // Below an entity, what this subgraph lacks is fetched at the entity itself.
                !entity
                    && self.needs_other(
                        subgraph,
                        &self.field_type(t, &c.field),
                        &c.field.selection_set,
                        self.provides_below(subgraph, t, &c.field.name, provided),
                    )
            })
        })
    }

    /// Whether a subgraph that resolves `object_type.field` can look the object up by a key (or
    /// nothing says who resolves it, as for fields an `@interfaceObject` adds).
    fn reachable_by_key(&self, object_type: &Name, field: &Name) -> bool {
        let resolvers = self
            .supergraph
            .field_resolvers(object_type, field, self.labels);
        resolvers.is_empty()
            || resolvers.iter().any(|&g| {
                self.supergraph
                    .keys_in(object_type, g)
                    .any(|k| k.resolvable)
            })
    }

    /// How many fields of `selection` on `type_name` `subgraph` would leave to other subgraphs,
    /// at any depth: a field it lacks counts once (whatever is below it), a field it resolves
    /// counts what it lacks below. Fields in `provides` count as resolved, so a subgraph that
    /// provides the selection on this path ranks before one that must fetch it elsewhere.
    pub(super) fn missing_fields(
        &self,
        subgraph: SubgraphId,
        type_name: &Name,
        selection: &exe::SelectionSet,
        provides: Option<&exe::SelectionSet>,
    ) -> usize {
        if selection.selections.is_empty() {
            return 0;
        }
        let types = if self.supergraph.is_abstract(type_name) {
            self.possible_types_in_graph(type_name, subgraph)
        } else {
            vec![type_name.clone()]
        };
        let mut missing = 0;
        for t in &types {
            let Ok(collected) = self.collect(selection, t) else {
                continue;
            };
            for c in &collected {
                if c.field.name.starts_with("__") {
                    continue;
                }
                let provided = provides.and_then(|p| self.find_provided(p, t, &c.field.name));
                let resolves = provided.is_some()
                    || self
                        .supergraph
                        .field_resolvers(t, &c.field.name, self.labels)
                        .contains(&subgraph);
                missing += if resolves {
                    self.missing_fields(
                        subgraph,
                        &self.field_type(t, &c.field),
                        &c.field.selection_set,
                        self.provides_below(subgraph, t, &c.field.name, provided),
                    )
                } else {
                    1
                };
            }
        }
        missing
    }

    /// What `subgraph` provides below `type_name.field`: the part of an enclosing `@provides`
    /// that selects the field, or else the field's own `@provides` there.
    pub(super) fn provides_below<'s>(
        &'s self,
        subgraph: SubgraphId,
        type_name: &Name,
        field: &Name,
        provided: Option<&'s Node<exe::Field>>,
    ) -> Option<&'s exe::SelectionSet> {
        provided.map(|p| &p.selection_set).or_else(|| {
            self.supergraph
                .field_source(type_name, field, subgraph)
                .and_then(|s| s.provides.as_deref())
        })
    }
}
