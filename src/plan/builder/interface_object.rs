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
        // Every object answers here with the client's fields of its own type too (`... on Book
        // { title: id }` beside `headline`): what the planner adds for the interface's fields
        // (`headline`'s required `title`) must avoid all of their keys.
        let mut every_key = ClientKeys::default();
        let wants_typename = on_interface.iter().any(|c| c.field.name == "__typename");
        let mut concrete = Vec::new();
        // Fields of the interface asked in a fragment on an implementation
        // (`... on Film { stars }`): this subgraph answers them for every implementation, so
        // they are fetched here; shaping writes them only for the objects the fragment matches.
        // Every occurrence counts, not one per response key: `notes { id }` on the interface
        // and `... on Book { notes { text } }` select different fields below `notes`, and the
        // fetch must hold both: they are planned together with the interface's own fields, one
        // selection of this object, so repeats merge and every key is seen.
        // An occurrence is the field node of the document with the conditions it was reached
        // under: a named fragment spread twice gives one node under two sets of conditions,
        // which are two occurrences. Looked up by hash, so this stays linear in the fields.
        let occurrence =
            |c: &Collected<'_>| (std::ptr::from_ref(&*c.field) as usize, c.directives.clone());
        let on_interface_seen: HashSet<_> = on_interface.iter().map(occurrence).collect();
        let mut here_seen = HashSet::new();
        let mut here: Vec<Collected<'_>> = Vec::new();
        for object_type in crate::supergraph::possible_types(&self.supergraph.schema, interface) {
            let collected = self.collect(set, &object_type)?;
            let keys = client_keys(&collected);
            for (key, fields) in &keys {
                every_key
                    .entry(key.clone())
                    .or_default()
                    .extend(fields.iter().cloned());
            }
            let mut extra: Vec<Collected<'_>> = Vec::new();
            for c in collected {
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
                concrete.push((object_type, keys, extra));
            }
        }
        let here_len = here.len();
        let mut local = on_interface;
        local.extend(here);
        let mut out = self.plan_beside(every_key.clone(), |this| {
            this.plan_collected(group, interface, &local, path, provides, conditions)
        })?;
        // Representations of the interface must name it; the subgraph answers with its own name.
        out.add_typename();
        // A fragment on an implementation needs each object's real type to apply, even when
        // this subgraph answers every field in it: it names objects by the interface. That
        // holds too when each of its fields was already collected on the interface itself
        // (`...F ... on Book { ...F }`), which leaves `here` and `concrete` empty.
        if !wants_typename
            && concrete.is_empty()
            && here_len == 0
            && !self.selects_on_an_implementation(set, interface)
        {
            return Ok(out);
        }
        let owners = self.supergraph.entity_graphs(interface);
        let Some((owner, key)) = self.choose_key(interface, subgraph, &owners) else {
            return Err(self.no_key(interface, "__typename", subgraph, &owners));
        };
        // The key goes into this object beside the client's fields of every implementation
        // (`similar { ... on Media { id: rating } ... on Book { headline } }`).
        let owner_group = self.plan_beside(every_key, |this| {
            this.jump_group(
                group, interface, interface, owner, &key, None, path, conditions, conditions,
                &mut out,
            )
        })?;
        let mut fields = SelectionSet::default();
        fields.add_typename();
        for (object_type, keys, extra) in concrete {
            // These fields answer in the same object as the client's others (`... on Book {
            // title: id headline }`: `id` from here, `headline` through the owner): what the
            // planner adds for them (`headline`'s required `title`) must avoid those keys too.
            let inner = self.plan_beside(keys, |this| {
                this.plan_collected(owner_group, &object_type, &extra, path, None, conditions)
            });
            add_type_case(&mut fields, object_type, inner?);
        }
        if let Some(entry) = self.entry_mut(owner_group, interface) {
            entry.fields.merge(fields);
        }
        Ok(out)
    }

    /// Runs `plan` (which plans one selection set, or a key through `jump_group`) as if that set
    /// answered beside the client fields `keys` in the same object, so the fields the planner
    /// adds avoid their keys.
    fn plan_beside<T>(&mut self, keys: ClientKeys, plan: impl FnOnce(&mut Self) -> T) -> T {
        self.response_keys.push(KeysFrame {
            keys,
            field_set: false,
            under: self.next_under.clone(),
        });
        self.next_is_field_set = true;
        let out = plan(self);
        self.next_is_field_set = false;
        self.response_keys.pop();
        out
    }

    /// Whether `set` has a fragment on an object type (an implementation of `interface`) that
    /// selects a field no literal `@skip`/`@include` leaves out. Each named fragment is read
    /// once.
    fn selects_on_an_implementation(&self, set: &exe::SelectionSet, interface: &Name) -> bool {
        let mut seen = HashSet::new();
        let mut stack = vec![(set, false)];
        while let Some((set, on_implementation)) = stack.pop() {
            for selection in &set.selections {
                let (condition, directives, inner) = match selection {
                    exe::Selection::Field(field) => {
                        if on_implementation
                            && !super::conditions::statically_excluded(&field.directives)
                        {
                            return true;
                        }
                        continue;
                    }
                    exe::Selection::InlineFragment(f) => {
                        (f.type_condition.as_ref(), &f.directives, &f.selection_set)
                    }
                    exe::Selection::FragmentSpread(spread) => {
                        let Some(f) = self.document.fragments.get(&spread.fragment_name) else {
                            continue;
                        };
                        if !seen.insert((&spread.fragment_name, on_implementation)) {
                            continue;
                        }
                        (
                            Some(f.type_condition()),
                            &spread.directives,
                            &f.selection_set,
                        )
                    }
                };
                if super::conditions::statically_excluded(directives) {
                    continue;
                }
                let here =
                    condition.is_some_and(|c| c != interface && !self.supergraph.is_abstract(c));
                stack.push((inner, on_implementation || here));
            }
        }
        false
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

impl Builder<'_> {
    /// Folds an entity group of an `@interfaceObject` subgraph into another at the same place
    /// when the other already sends every object it sends with at least its fields. Fields are
    /// planned one implementation at a time: `Movie`'s `rating` can be planned (key-only
    /// representations) before `Movie`'s `headline` joins `Book`'s `@requires` fetch (key and
    /// `title`), and without this the subgraph is asked for `rating` of every movie twice, and
    /// reports each of its errors twice. The folded group's dependents wait for the other one;
    /// a fold that would make the groups wait on each other is not done.
    pub(super) fn fold_covered_interface_object_groups(&mut self) {
        let mut removed = vec![false; self.groups.len()];
        // Through `entity_groups_at`: a place may still name groups a failed attempt dropped.
        let mut places: Vec<Vec<usize>> = self
            .places
            .iter()
            .filter(|(_, groups)| groups.len() > 1)
            .map(|((subgraph, path), _)| self.entity_groups_at(*subgraph, path))
            .filter(|groups| groups.len() > 1)
            .collect();
        // In group order, not the map's (seeded per process): the same plan every time.
        places.sort_unstable();
        for place in places {
            for &small in &place {
                for &big in &place {
                    if small == big || removed[small] || removed[big] || !self.covers(big, small) {
                        continue;
                    }
                    let dependents: Vec<usize> = (0..self.groups.len())
                        .filter(|&k| !removed[k] && self.groups[k].deps.contains(&small))
                        .collect();
                    // `big` will wait for what `small` waited for, and `small`'s dependents
                    // for `big`: none of those may already wait for `big`, or `big` for them.
                    let cycle = self.depends_on(big, small)
                        || dependents
                            .iter()
                            .any(|&k| k == big || self.depends_on(big, k))
                        || self.groups[small]
                            .deps
                            .iter()
                            .any(|&d| d != big && self.depends_on(d, big));
                    if cycle {
                        continue;
                    }
                    self.fold_group(small, big);
                    removed[small] = true;
                }
            }
        }
        if removed.iter().any(|&r| r) {
            self.remove_groups(&removed);
        }
    }

    /// Whether group `big` sends every object `small` sends, with at least its fields: both are
    /// entity groups of `@interfaceObject` entries at one place, under the same conditions.
    fn covers(&self, big: usize, small: usize) -> bool {
        let (b, s) = (&self.groups[big], &self.groups[small]);
        if b.subgraph != s.subgraph
            || b.merge_path != s.merge_path
            || b.conditions != s.conditions
            || !b.contexts.is_empty()
            || !s.contexts.is_empty()
        {
            return false;
        }
        let (Some(big_types), Some(small_types)) = (&b.entity_types, &s.entity_types) else {
            return false;
        };
        !small_types.is_empty()
            && small_types.iter().all(|e| {
                !e.object_types.is_empty()
                    && big_types.iter().any(|o| {
                        o.name == e.name
                            && e.object_types.iter().all(|t| o.object_types.contains(t))
                            && {
                                let mut both = o.representation.clone();
                                both.merge(e.representation.clone());
                                both == o.representation
                            }
                    })
            })
    }

    /// Moves `small`'s fields into `big`, which then also waits for what `small` waited for; the
    /// groups that waited for `small` wait for `big`.
    fn fold_group(&mut self, small: usize, big: usize) {
        let moved = self.groups[small].entity_types.take().unwrap_or_default();
        if let Some(types) = &mut self.groups[big].entity_types {
            for entry in moved {
                if let Some(into) = types.iter_mut().find(|o| o.name == entry.name) {
                    into.fields.merge(entry.fields);
                }
            }
        }
        let waited: Vec<usize> = self.groups[small].deps.clone();
        let deps = &mut self.groups[big].deps;
        for d in waited {
            if d != big && !deps.contains(&d) {
                deps.push(d);
            }
        }
        deps.sort_unstable();
        for group in &mut self.groups {
            if let Some(at) = group.deps.iter().position(|&d| d == small) {
                group.deps.remove(at);
                if !group.deps.contains(&big) {
                    group.deps.push(big);
                    group.deps.sort_unstable();
                }
            }
        }
        self.groups[big].deps.retain(|&d| d != big);
    }

    /// Drops the groups marked `removed` and renumbers the others' dependencies.
    fn remove_groups(&mut self, removed: &[bool]) {
        let mut new_index = vec![usize::MAX; self.groups.len()];
        let mut next = 0;
        for (i, &gone) in removed.iter().enumerate() {
            if !gone {
                new_index[i] = next;
                next += 1;
            }
        }
        let groups = std::mem::take(&mut self.groups);
        self.groups = groups
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !removed[*i])
            .map(|(_, mut group)| {
                group.deps = group
                    .deps
                    .iter()
                    .filter(|&&d| !removed[d])
                    .map(|&d| new_index[d])
                    .collect();
                group
            })
            .collect();
        self.root_groups = self
            .root_groups
            .iter()
            .filter(|&&g| g < removed.len() && !removed[g])
            .map(|&g| new_index[g])
            .collect();
        for groups in self.places.values_mut() {
            *groups = groups
                .iter()
                .filter(|&&g| g < removed.len() && !removed[g])
                .map(|&g| new_index[g])
                .collect();
        }
    }
}
