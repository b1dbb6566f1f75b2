//! Interfaces met through an `@interfaceObject`: a subgraph that sees an interface as one object
//! type answers the interface's own fields, while the concrete type of each object, and fields
//! of its implementations, come from a subgraph that owns the interface as an entity.

use std::collections::HashSet;

use super::*;

impl Builder<'_> {
    /// Plans a selection on an interface that `group`'s subgraph sees as an `@interfaceObject`: it
    /// answers the interface's own fields, but only a subgraph owning the interface as an entity
    /// knows each object's concrete type, so `__typename` and fragments on implementations are
    /// fetched from there with representations named after the interface.
    pub(super) fn plan_interface_object(
        &mut self,
        group: usize,
        interface: &Name,
        set: &exe::SelectionSet,
        path: &[PathElement],
        provides: Option<&exe::SelectionSet>,
        conditions: &Conditions,
    ) -> Result<SelectionSet, PlanError> {
        let subgraph = self.groups[group].subgraph;
        let on_interface = self.collect(set, interface)?;
        let mut out =
            self.plan_collected(group, interface, &on_interface, path, provides, conditions)?;
        // Representations of the interface must name it; the subgraph answers with its own name.
        out.add_typename();
        let wants_typename = on_interface.iter().any(|c| c.field.name == "__typename");
        let mut concrete = Vec::new();
        // Fields of the interface asked in a fragment on an implementation
        // (`... on Film { stars }`): this subgraph answers them for every implementation, so
        // they are fetched here; shaping writes them only for the objects the fragment matches.
        // Every occurrence counts, not one per response key: `notes { id }` on the interface
        // and `... on Book { notes { text } }` select different fields below `notes`, and the
        // fetch must hold both (the planner merges them under one key).
        // An occurrence is the field node of the document with the conditions it was reached
        // under: a named fragment spread twice gives one node under two sets of conditions,
        // which are two occurrences. Looked up by hash, so this stays linear in the fields.
        let occurrence =
            |c: &Collected<'_>| (std::ptr::from_ref(c.field) as usize, c.directives.clone());
        let on_interface_seen: HashSet<_> = on_interface.iter().map(occurrence).collect();
        let mut here_seen = HashSet::new();
        let mut here: Vec<Collected<'_>> = Vec::new();
        for object_type in crate::supergraph::possible_types(&self.supergraph.schema, interface) {
            let mut extra: Vec<Collected<'_>> = Vec::new();
            for c in self.collect(set, &object_type)? {
                // Selected for every object already (on the interface itself).
                if on_interface_seen.contains(&occurrence(&c)) {
                    continue;
                }
                let on_the_interface = c.field.name != "__typename"
                    && self
                        .supergraph
                        .schema
                        .type_field(interface, &c.field.name)
                        .is_ok()
                    && self.is_local(group, interface, &c.field.name, provides);
                if !on_the_interface {
                    extra.push(c);
                } else if here_seen.insert(occurrence(&c)) {
                    // A fragment on a second interface the implementations share is collected
                    // once per implementation, each time under the same conditions: one copy
                    // is enough.
                    here.push(c);
                }
            }
            if !extra.is_empty() {
                concrete.push((object_type, extra));
            }
        }
        if !here.is_empty() {
            let local = self.plan_collected(group, interface, &here, path, provides, conditions)?;
            out.merge(local);
        }
        // A fragment on an implementation needs each object's real type to apply, even when
        // this subgraph answers every field in it: it names objects by the interface.
        if !wants_typename && concrete.is_empty() && here.is_empty() {
            return Ok(out);
        }
        let owners = self.supergraph.entity_graphs(interface);
        let Some((owner, key)) = self.choose_key(interface, subgraph, &owners) else {
            return Err(self.no_key(interface, "__typename", subgraph, &owners));
        };
        let owner_group = self.jump_group(
            group, interface, interface, owner, &key, None, path, conditions, conditions, &mut out,
        )?;
        let mut fields = SelectionSet::default();
        fields.add_typename();
        for (object_type, extra) in concrete {
            let inner =
                self.plan_collected(owner_group, &object_type, &extra, path, None, conditions)?;
            add_type_case(&mut fields, object_type, inner);
        }
        if let Some(entry) = self.entry_mut(owner_group, interface) {
            entry.fields.merge(fields);
        }
        Ok(out)
    }

    /// The interface of `object_type` that an `@interfaceObject` subgraph extends with `field`, and
    /// the subgraphs that resolve it there.
    pub(super) fn interface_object_resolvers(
        &self,
        object_type: &Name,
        field: &Name,
    ) -> Option<(Name, Vec<SubgraphId>)> {
        self.supergraph
            .interface_objects_of(object_type)
            .find_map(|(interface, graphs)| {
                let resolvers: Vec<SubgraphId> = self
                    .supergraph
                    .field_resolvers(interface, field, self.labels)
                    .into_iter()
                    .filter(|g| graphs.contains(g))
                    .collect();
                (!resolvers.is_empty()).then(|| (interface.clone(), resolvers))
            })
    }
}
