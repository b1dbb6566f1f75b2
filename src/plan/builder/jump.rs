//! Jumps between subgraphs: moving a field to another subgraph through an `_entities` fetch at
//! its parent's path, choosing the key the representations carry, planning the key and
//! `@requires` fields in the fetch that comes first, and joining the entity group that receives them.

use super::*;

use std::collections::HashSet;

impl Builder<'_> {
    /// Moves `c` to another subgraph through an entity fetch at the parent's path.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn plan_jump(
        &mut self,
        group: usize,
        object_type: &Name,
        c: &Collected<'_>,
        field_path: &[PathElement],
        parent_conditions: &Conditions,
        field_conditions: &Conditions,
        field_type: &Name,
        out: &mut SelectionSet,
        exclude: Option<(SubgraphId, Elsewhere)>,
    ) -> Result<(), PlanError> {
        let name = &c.field.name;
        let from = self.groups[group].subgraph;
        let parent_path = &field_path[..field_path.len() - 1 - list_depth(c.field.ty())];
        // The type the target knows the object as: itself, or for a field an implementation gets
        // from an `@interfaceObject`, the interface (representations then carry its name).
        let mut entity_type = object_type.clone();
        let mut resolvers = self
            .supergraph
            .field_resolvers(object_type, name, self.labels);
        if resolvers.is_empty() {
            if let Some((interface, graphs)) = self.interface_object_resolvers(object_type, name) {
                entity_type = interface;
                resolvers = graphs;
            }
        }
        if let Some((excluded, how)) = exclude {
            resolvers.retain(|&g| {
                let provides = self
                    .supergraph
                    .field_source(&entity_type, name, g)
                    .and_then(|s| s.provides.as_deref());
                g != excluded && self.takes(g, field_type, &c.field.selection_set, provides, how)
            });
        }
        if resolvers.is_empty() {
            return Err(PlanError::Unresolvable {
                type_name: object_type.to_string(),
                field: name.to_string(),
            });
        }
        // Prefer a subgraph we already fetch from at this path: the field then rides along.
        let mut ordered: Vec<SubgraphId> = resolvers
            .iter()
            .copied()
            .filter(|&s| !self.entity_groups_at(s, parent_path).is_empty())
            .collect();
        // Otherwise prefer the subgraph that can also take most of the sibling fields, so that a
        // `@shareable` field rides along with them instead of costing a fetch of its own.
        let siblings = self.jump_targets.last();
        let sibling_count = |s: &SubgraphId| {
            siblings
                .and_then(|t| t.iter().find(|(g, _)| g == s))
                .map_or(0, |(_, n)| *n)
        };
        let mut rest: Vec<SubgraphId> = resolvers
            .iter()
            .copied()
            .filter(|s| !ordered.contains(s))
            .collect();
        // A subgraph that answers more of the field's own selection (counting what it
        // `@provides` there) comes first: a plan that ignores a provide costs a fetch.
        rest.sort_by_cached_key(|&s| {
            let provides = self
                .supergraph
                .field_source(&entity_type, name, s)
                .and_then(|f| f.provides.as_deref());
            let missing = self.missing_fields(s, field_type, &c.field.selection_set, provides);
            (missing, std::cmp::Reverse(sibling_count(&s)))
        });
        ordered.extend(rest);
        let Some((target, key)) = self.choose_key(&entity_type, from, &ordered) else {
            return Err(self.no_key(object_type, name, from, &resolvers));
        };
        // The target's own `@requires` and `@provides` for the field.
        let source = self.supergraph.field_source(&entity_type, name, target);
        let requires = source.and_then(|s| s.requires.clone());
        let provides = source.and_then(|s| s.provides.clone());
        let entity_group = self.jump_group(
            group,
            object_type,
            &entity_type,
            target,
            &key,
            requires.as_deref(),
            parent_path,
            parent_conditions,
            field_conditions,
            out,
        )?;
        let selections = self.plan_composite(
            entity_group,
            field_type,
            &c.field.selection_set,
            field_path,
            provides.as_deref(),
            field_conditions,
        )?;
        let field = client_field(c, selections);
        if let Some(entry) = self.entry_mut(entity_group, &entity_type) {
            entry.fields.add_field(field);
        }
        Ok(())
    }

    /// The first of `targets` with a key of `entity_type` that `from` can send. A key `from` cannot
    /// provide alone is still usable when other subgraphs can fill it in (a key reached through a
    /// third subgraph): its fields are then planned like `@requires` fields.
    pub(super) fn choose_key(
        &self,
        entity_type: &Name,
        from: SubgraphId,
        targets: &[SubgraphId],
    ) -> Option<(SubgraphId, exe::SelectionSet)> {
        targets
            .iter()
            .find_map(|&t| self.reachable_key(entity_type, from, t).map(|k| (t, k)))
            .or_else(|| {
                targets.iter().find_map(|&t| {
                    if self
                        .key_jumps
                        .iter()
                        .any(|(n, g)| n == entity_type && *g == t)
                    {
                        return None;
                    }
                    self.supergraph
                        .keys_in(entity_type, t)
                        .find(|k| k.resolvable)
                        .map(|k| (t, (*k.selection).clone()))
                })
            })
    }

    /// The error for `type_name.field`, which `from` cannot reach: none of `targets` has a key
    /// `from` can send.
    pub(super) fn no_key(
        &self,
        type_name: &Name,
        field: &str,
        from: SubgraphId,
        targets: &[SubgraphId],
    ) -> PlanError {
        PlanError::NoKey {
            type_name: type_name.to_string(),
            field: field.to_owned(),
            from: self.supergraph.subgraph(from).name.to_string(),
            to: targets
                .iter()
                .map(|s| self.supergraph.subgraph(*s).name.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// Plans the key (and `@requires`) fields of `object_type` in `group` and returns the entity
    /// group of `target` at `parent_path` that will receive the representations.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn jump_group(
        &mut self,
        group: usize,
        object_type: &Name,
        entity_type: &Name,
        target: SubgraphId,
        key: &exe::SelectionSet,
        requires: Option<&exe::SelectionSet>,
        parent_path: &[PathElement],
        parent_conditions: &Conditions,
        field_conditions: &Conditions,
        out: &mut SelectionSet,
    ) -> Result<usize, PlanError> {
        let key = self.avoid_taken_keys(key, out);
        let mut deps = vec![group];
        // Key fields `group` cannot resolve come from other fetches, which the jump then waits for.
        self.touched.push(Vec::new());
        self.key_jumps.push((entity_type.clone(), target));
        self.next_is_field_set = true;
        let key_fields = self.plan_object(
            group,
            object_type,
            &key,
            parent_path,
            None,
            parent_conditions,
        );
        self.next_is_field_set = false;
        self.key_jumps.pop();
        let touched = self.pop_touched();
        out.merge(key_fields?);
        let mut representation = SelectionSet::default();
        representation.add_typename();
        representation.merge(self.plain_selection(&key));
        let by_interface = entity_type != object_type;
        if by_interface {
            // The objects' own `__typename` picks which of them go to this fetch.
            out.add_typename();
        }
        // No `__typename` is fetched otherwise: `object_type` is concrete, so representations take
        // it from the plan. Under an abstract type the objects carry it already (`plan_composite`).
        let mut touched_all = touched;
        if let Some(requires) = requires {
            let requires = self.avoid_taken_keys(requires, out);
            self.touched.push(Vec::new());
            self.next_is_field_set = true;
            let required = self.plan_object(
                group,
                object_type,
                &requires,
                parent_path,
                None,
                parent_conditions,
            );
            self.next_is_field_set = false;
            touched_all.extend(self.pop_touched());
            out.merge(required?);
            representation.merge(self.plain_selection(&requires));
        }
        for t in touched_all {
            if !deps.contains(&t) {
                deps.push(t);
            }
        }
        deps.sort_unstable();
        let key_fields = self.plain_selection(&key).top_level_keys();
        let index = self.entity_group(
            target,
            parent_path,
            deps,
            field_conditions,
            entity_type,
            by_interface.then_some(object_type),
            representation,
            key_fields,
        );
        if !by_interface && self.supergraph.is_abstract(entity_type) {
            // Objects an `@interfaceObject` subgraph returned: an earlier fetch from the owner may
            // have written their concrete `__typename`, and they still go as the interface.
            let implementations =
                crate::supergraph::possible_types(&self.supergraph.schema, entity_type);
            if let Some(entry) = self.entry_mut(index, entity_type) {
                for t in implementations {
                    if !entry.object_types.contains(&t) {
                        entry.object_types.push(t);
                    }
                }
            }
        }
        Ok(index)
    }

    /// Ends a `touched` frame; the enclosing frame (an outer `@requires`) waits for them too.
    fn pop_touched(&mut self) -> Vec<usize> {
        let touched = self.touched.pop().unwrap_or_default();
        if let Some(outer) = self.touched.last_mut() {
            for &t in &touched {
                if !outer.contains(&t) {
                    outer.push(t);
                }
            }
        }
        touched
    }

    /// `set` (a key or `@requires` field set) with an alias on each field whose name is taken
    /// at its level by another field — a client field of another name or other arguments
    /// (`{ upc: name shippingEstimate }`, `{ price(currency: EUR) }` beside a required
    /// `price(currency: USD)`), or a field an earlier requirement put in the fetch
    /// (`price(currency: "EUR")` and `price(currency: "USD")` required by two fields): one fetch
    /// cannot hold both under one key. Below a field that keeps its key, the set's selection
    /// merges with the client's (and earlier requirements') selections of that key, so the same
    /// holds at every depth: `dims { length: width }` beside a required `dims { length }` makes
    /// it `dims { seam__length: length }`. Representations read the alias and send the name; the
    /// client's keys are never written over (`alias_apart` then sees no clash to rename back).
    fn avoid_taken_keys(
        &self,
        set: &exe::SelectionSet,
        fetched: &SelectionSet,
    ) -> exe::SelectionSet {
        let mut set = set.clone();
        let mut taken = self.client_taken();
        taken.fetched = vec![fetched];
        self.alias_taken(&mut set, &taken);
        set
    }

    /// The client's fields answering in the object whose frame is planned now: that frame's and,
    /// below it, those of the frames it answers in the same object with (a key field planned
    /// through another jump answers beside the client's fields); and when the object is the value
    /// of a field a field set added (`KeysFrame::under`), the client's fields in the values of
    /// the fields with that response key one level up, and so on outwards.
    fn client_taken(&self) -> Taken<'_> {
        // Levels, innermost first: the frames answering in one object, and the response key
        // under which it answers in the next level's object (None: the outermost level).
        let mut levels: Vec<(Vec<&ClientKeys>, Option<&Name>)> = vec![(Vec::new(), None)];
        for frame in self.response_keys.iter().rev() {
            let Some(level) = levels.last_mut() else {
                break;
            };
            level.0.push(&frame.keys);
            if frame.field_set {
                continue;
            }
            match &frame.under {
                Some(key) => {
                    level.1 = Some(key);
                    levels.push((Vec::new(), None));
                }
                None => break,
            }
        }
        let mut taken: Option<Taken<'_>> = None;
        while let Some((client_keys, under)) = levels.pop() {
            let client = match (taken.take(), under) {
                (Some(outer), Some(key)) => outer.below(key).client,
                _ => HashMap::new(),
            };
            taken = Some(Taken {
                client_keys,
                client,
                fetched: Vec::new(),
                document: self.document,
            });
        }
        taken.unwrap_or(Taken {
            client_keys: Vec::new(),
            client: HashMap::new(),
            fetched: Vec::new(),
            document: self.document,
        })
    }

    /// Aliases the fields of `set` (one level of a key or `@requires` field set, its fragments
    /// included: they answer in the same object) whose name `taken` holds for another field, then
    /// does the same one level down, below every field of the set.
    fn alias_taken(&self, set: &mut exe::SelectionSet, taken: &Taken<'_>) {
        for selection in &mut set.selections {
            let field = match selection {
                exe::Selection::Field(field) => field,
                exe::Selection::InlineFragment(fragment) => {
                    self.alias_taken(&mut fragment.make_mut().selection_set, taken);
                    continue;
                }
                exe::Selection::FragmentSpread(_) => continue,
            };
            let key = if field.alias.is_some()
                || !taken.by_other(field.name.as_str(), &field.name, &field.arguments)
            {
                field.response_key().clone()
            } else {
                let name = field.name.clone();
                let alias = (0..)
                    .map(|n| match n {
                        0 => format!("seam__{name}"),
                        n => format!("seam__{name}_{n}"),
                    })
                    .find(|alias| !taken.by_other(alias, &field.name, &field.arguments))
                    .and_then(|alias| Name::new(&alias).ok());
                match alias {
                    Some(alias) => {
                        field.make_mut().alias = Some(alias.clone());
                        alias
                    }
                    None => name,
                }
            };
            if field.selection_set.selections.is_empty() {
                continue;
            }
            // The fields answering under `key` are this one's: the fetch merges their
            // selections into one object, where the set's nested fields must not clash either.
            let below = taken.below(key.as_str());
            if !below.is_empty() {
                self.alias_taken(&mut field.make_mut().selection_set, &below);
            }
        }
    }

    /// A resolvable key of `object_type` in `target` whose fields `from` can all provide.
    fn reachable_key(
        &self,
        object_type: &Name,
        from: SubgraphId,
        target: SubgraphId,
    ) -> Option<exe::SelectionSet> {
        self.supergraph
            .keys_in(object_type, target)
            .filter(|k| k.resolvable)
            .find(|k| self.providable(&k.selection, from))
            .map(|k| (*k.selection).clone())
    }

    fn providable(&self, set: &exe::SelectionSet, from: SubgraphId) -> bool {
        set.selections.iter().all(|s| match s {
            exe::Selection::Field(f) => {
                (f.name == "__typename"
                    || self
                        .supergraph
                        .field_resolvers(&set.ty, &f.name, self.labels)
                        .contains(&from))
                    && (f.selection_set.selections.is_empty()
                        || self.providable(&f.selection_set, from))
            }
            exe::Selection::InlineFragment(f) => self.providable(&f.selection_set, from),
            exe::Selection::FragmentSpread(_) => false,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn entity_group(
        &mut self,
        subgraph: SubgraphId,
        path: &[PathElement],
        deps: Vec<usize>,
        conditions: &Conditions,
        entity_type: &Name,
        interface_object_of: Option<&Name>,
        representation: SelectionSet,
        key_fields: Vec<Name>,
    ) -> usize {
        // Representations of an interface object all carry the interface's name, so one fetch
        // cannot tell their objects apart: objects of other types join only when they send the
        // same fields (a `@requires` planned for one type is not fetched for the others).
        let shares_representation = |g: &Group| {
            let Some(object_type) = interface_object_of else {
                return true;
            };
            g.entity_types.iter().flatten().all(|e| {
                &e.name != entity_type
                    || e.object_types.iter().all(|t| t == object_type)
                    || e.representation == representation
            })
        };
        // Representations of one fetch are one object per entity: two requirements that read a
        // field with different arguments need a fetch each.
        let fits_representation = |g: &Group| {
            g.entity_types
                .iter()
                .flatten()
                .all(|e| &e.name != entity_type || !e.representation.clashes_with(&representation))
        };
        let same_fetch = |g: &Group| {
            &g.conditions == conditions && shares_representation(g) && fits_representation(g)
        };
        // A group with the same dependencies is the natural home. Failing that, one fetch that
        // waits for the union of both dependency sets is still cheaper than two fetches to the same
        // subgraph at the same path, as long as waiting creates no cycle.
        let candidates = self.entity_groups_at(subgraph, path);
        let existing = candidates
            .iter()
            .copied()
            .find(|&i| same_fetch(&self.groups[i]) && self.groups[i].deps == deps)
            .or_else(|| {
                candidates.iter().copied().find(|&i| {
                    same_fetch(&self.groups[i])
                        && deps.iter().all(|&d| d != i && !self.depends_on(d, i))
                })
            });
        if let Some(i) = existing {
            let merged = &mut self.groups[i].deps;
            for &d in &deps {
                if !merged.contains(&d) {
                    merged.push(d);
                }
            }
            merged.sort_unstable();
        }
        let index = match existing {
            Some(i) => i,
            None => {
                self.groups.push(Group {
                    subgraph,
                    merge_path: path.to_vec(),
                    deps,
                    conditions: conditions.clone(),
                    root_selection: SelectionSet::default(),
                    entity_types: Some(Vec::new()),
                    contexts: Vec::new(),
                });
                let index = self.groups.len() - 1;
                self.places
                    .entry((subgraph, path.to_vec()))
                    .or_default()
                    .push(index);
                index
            }
        };
        if let Some(types) = &mut self.groups[index].entity_types {
            match types.iter_mut().find(|e| &e.name == entity_type) {
                Some(entry) => {
                    entry.representation.merge(representation);
                    for k in key_fields {
                        if !entry.key_fields.contains(&k) {
                            entry.key_fields.push(k);
                        }
                    }
                }
                None => types.push(EntityEntry {
                    name: entity_type.clone(),
                    representation,
                    key_fields,
                    object_types: Vec::new(),
                    fields: SelectionSet::default(),
                }),
            }
            if let (Some(object_type), Some(entry)) = (
                interface_object_of,
                types.iter_mut().find(|e| &e.name == entity_type),
            ) {
                if !entry.object_types.contains(object_type) {
                    entry.object_types.push(object_type.clone());
                }
            }
        }
        if let Some(frame) = self.touched.last_mut() {
            if !frame.contains(&index) {
                frame.push(index);
            }
        }
        index
    }

    /// The entity groups of `subgraph` at `path`, in creation order.
    pub(super) fn entity_groups_at(
        &self,
        subgraph: SubgraphId,
        path: &[PathElement],
    ) -> Vec<usize> {
        let Some(listed) = self.places.get(&(subgraph, path.to_vec())) else {
            return Vec::new();
        };
        let mut found: Vec<usize> = listed
            .iter()
            .copied()
            .filter(|&i| {
                self.groups.get(i).is_some_and(|g| {
                    g.subgraph == subgraph && g.entity_types.is_some() && g.merge_path == path
                })
            })
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    /// A key or `@requires` field set as a plain selection (names only), used to build
    /// representations. A fragment on an abstract type becomes one fragment per object type it
    /// covers: representations are projected by each object's own `__typename`, and a fragment
    /// on an interface applies to every implementation.
    pub(super) fn plain_selection(&self, set: &exe::SelectionSet) -> SelectionSet {
        let mut out = SelectionSet::default();
        for s in &set.selections {
            match s {
                exe::Selection::Field(f) => {
                    let mut field = Field::new(f.name.clone());
                    field.alias = f.alias.clone();
                    field.arguments = f.arguments.clone();
                    field.selections = self.plain_selection(&f.selection_set);
                    out.add_field(field);
                }
                exe::Selection::InlineFragment(f) => {
                    let inner = self.plain_selection(&f.selection_set);
                    let conditions = match &f.type_condition {
                        Some(t) if self.supergraph.is_abstract(t) => {
                            crate::supergraph::possible_types(&self.supergraph.schema, t)
                                .into_iter()
                                .map(Some)
                                .collect()
                        }
                        other => vec![other.clone()],
                    };
                    for condition in conditions {
                        out.add_fragment(Fragment {
                            type_condition: condition,
                            directives: DirectiveList::new(),
                            selections: inner.clone(),
                        });
                    }
                }
                exe::Selection::FragmentSpread(_) => {}
            }
        }
        out
    }

    /// Whether group `a` waits, directly or through other groups, for group `b`.
    pub(super) fn depends_on(&self, a: usize, b: usize) -> bool {
        let mut stack = vec![a];
        let mut seen = vec![false; self.groups.len()];
        while let Some(g) = stack.pop() {
            for &d in &self.groups[g].deps {
                if d == b {
                    return true;
                }
                if !seen[d] {
                    seen[d] = true;
                    stack.push(d);
                }
            }
        }
        false
    }
}

/// What already answers at one level of a fetch where a key or `@requires` field set is merged:
/// the client's fields (from the operation) and the fields the fetch holds so far.
struct Taken<'s> {
    /// At the set's top level: the client's fields of the object, by response key
    /// (`Builder::response_keys`).
    client_keys: Vec<&'s ClientKeys>,
    /// Below it: the client's fields at that level by response key, fragments flattened
    /// whatever their type condition (a key avoided for a type that never meets the field costs
    /// only an alias). A map, so each lookup is one probe however many fields a client sends.
    client: HashMap<&'s str, Vec<&'s Node<exe::Field>>>,
    /// The fetch's selections at that level, its fragments' below the top level.
    fetched: Vec<&'s SelectionSet>,
    document: &'s Valid<ExecutableDocument>,
}

impl<'s> Taken<'s> {
    /// Whether a field other than `name` with `arguments` answers under `key`.
    fn by_other(
        &self,
        key: &str,
        name: &Name,
        arguments: &[Node<apollo_compiler::ast::Argument>],
    ) -> bool {
        let other =
            |n: &Name, a: &[Node<apollo_compiler::ast::Argument>]| n != name || a != arguments;
        // A client field with directives of its own may answer differently from the plain field.
        self.at_key(key).into_iter().any(|c| {
            other(&c.name, &c.arguments)
                || super::conditions::client_directives(&c.directives)
                    .next()
                    .is_some()
        }) || self.fetched.iter().any(|set| {
            set.fields_with_key(key).any(|f| {
                other(&f.name, &f.arguments)
                    || super::conditions::client_directives(&f.directives)
                        .next()
                        .is_some()
            })
        })
    }

    /// The client's fields answering under `key`.
    fn at_key(&self, key: &str) -> Vec<&'s Node<exe::Field>> {
        let mut fields: Vec<&'s Node<exe::Field>> = self
            .client_keys
            .iter()
            .filter_map(|c| c.get(key))
            .flatten()
            .collect();
        if let Some(below) = self.client.get(key) {
            fields.extend(below.iter().copied());
        }
        fields
    }

    /// The level below the fields answering under `key`: what the client and the fetch select
    /// in them.
    fn below(&self, key: &str) -> Taken<'s> {
        let mut fields = Vec::new();
        for field in self.at_key(key) {
            let mut expanded = HashSet::new();
            client_fields(
                &field.selection_set,
                self.document,
                &mut expanded,
                &mut fields,
            );
        }
        let mut client: HashMap<&'s str, Vec<&'s Node<exe::Field>>> = HashMap::new();
        for field in fields {
            client
                .entry(field.response_key().as_str())
                .or_default()
                .push(field);
        }
        let mut fetched = Vec::new();
        for set in &self.fetched {
            for field in set.fields_under(key) {
                with_fragments(&field.selections, &mut fetched);
            }
        }
        Taken {
            client_keys: Vec::new(),
            client,
            fetched,
            document: self.document,
        }
    }

    fn is_empty(&self) -> bool {
        self.client_keys.is_empty() && self.client.is_empty() && self.fetched.is_empty()
    }
}

/// The fields of a client selection and of its fragments, named or inline. A named fragment is
/// expanded once per level however often it is spread there: its fields are the same each time,
/// and fragments spreading each other twice would otherwise double the work at every step.
fn client_fields<'s>(
    set: &'s exe::SelectionSet,
    document: &'s Valid<ExecutableDocument>,
    expanded: &mut HashSet<&'s Name>,
    out: &mut Vec<&'s Node<exe::Field>>,
) {
    for selection in &set.selections {
        match selection {
            exe::Selection::Field(field) => out.push(field),
            exe::Selection::InlineFragment(fragment) => {
                client_fields(&fragment.selection_set, document, expanded, out);
            }
            exe::Selection::FragmentSpread(spread) => {
                if !expanded.insert(&spread.fragment_name) {
                    continue;
                }
                if let Some(fragment) = document.fragments.get(&spread.fragment_name) {
                    client_fields(&fragment.selection_set, document, expanded, out);
                }
            }
        }
    }
}

/// `set` and its fragments' selections (they answer in the same object), those not empty.
fn with_fragments<'s>(set: &'s SelectionSet, out: &mut Vec<&'s SelectionSet>) {
    if set.is_empty() {
        return;
    }
    out.push(set);
    for item in set.items() {
        if let crate::plan::selection::Selection::Fragment(fragment) = item {
            with_fragments(&fragment.selections, out);
        }
    }
}
