//! Builds fetch groups from a client operation, then arranges them into a plan tree.
//!
//! A fetch group is one request to one subgraph. Walking the client selection, each field goes into
//! the group of the subgraph that is already resolving its parent when that subgraph can; otherwise
//! the parent must be an entity, and the field goes into an `_entities` group of another subgraph at
//! the same response path — one group per (subgraph, path, dependencies), so every entity of a list
//! is fetched in one batched call.

use std::collections::HashMap;

use apollo_compiler::ast::{Directive, DirectiveList, Value};
use apollo_compiler::executable::{self as exe, Operation, OperationType};
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Name, Node};

use super::selection::{conditional_directives, Field, Fragment, SelectionSet};
use super::{
    EntityFetch, EntityType, FetchNode, OperationKind, PathElement, PlanError, PlanNode, QueryPlan,
};
use crate::supergraph::{ActiveLabels, SubgraphId, Supergraph};

/// `(variable, value)`: the group runs only when the boolean variable has that value.
type Conditions = Vec<(Name, bool)>;

mod arrange;

struct Group {
    subgraph: SubgraphId,
    merge_path: Vec<PathElement>,
    deps: Vec<usize>,
    conditions: Conditions,
    /// For root groups: the fields on the root type.
    root_selection: SelectionSet,
    /// For entity groups: per entity type, its representation and the fields fetched for it.
    entity_types: Option<Vec<EntityEntry>>,
}

struct EntityEntry {
    /// The type condition in the fetch and the `__typename` of its representations.
    name: Name,
    /// For an interface met through an `@interfaceObject`: the concrete types of the objects that
    /// are sent as representations of the interface `name`. Empty: objects of type `name`.
    object_types: Vec<Name>,
    representation: SelectionSet,
    key_fields: Vec<Name>,
    fields: SelectionSet,
}

struct Builder<'a> {
    supergraph: &'a Supergraph,
    /// The progressive-override labels of this plan's requests.
    labels: ActiveLabels,
    /// (entity type, subgraph) jumps whose key is being planned: a key that needs a jump back to
    /// where it started would loop.
    key_jumps: Vec<(Name, SubgraphId)>,
    document: &'a Valid<ExecutableDocument>,
    groups: Vec<Group>,
    /// While planning a `@requires` selection: the groups it touched, which the requiring fetch waits for.
    touched: Vec<Vec<usize>>,
    /// Per selection set being planned: how many of its fields that must leave the current subgraph
    /// each other subgraph could resolve. A `@shareable` field then goes where its siblings go.
    jump_targets: Vec<Vec<(SubgraphId, usize)>>,
    /// Per selection set being planned: the (response key, field name) of its fields, so key and
    /// `@requires` fields the planner adds can avoid a response key a client alias already uses.
    response_keys: Vec<Vec<ClientKey>>,
}

/// A response key a client field uses, with the field and arguments behind it.
struct ClientKey {
    key: Name,
    name: Name,
    arguments: Vec<Node<apollo_compiler::ast::Argument>>,
}

/// A client field with the `@skip`/`@include` of the fragments it was reached through.
struct Collected<'d> {
    field: &'d Node<exe::Field>,
    directives: DirectiveList,
}

pub(super) fn build(
    supergraph: &Supergraph,
    document: &Valid<ExecutableDocument>,
    operation: &Operation,
    labels: ActiveLabels,
) -> Result<QueryPlan, PlanError> {
    let kind = match operation.operation_type {
        OperationType::Query => OperationKind::Query,
        OperationType::Mutation => OperationKind::Mutation,
        OperationType::Subscription => OperationKind::Subscription,
    };
    let mut builder = Builder {
        supergraph,
        labels,
        key_jumps: Vec::new(),
        document,
        groups: Vec::new(),
        touched: Vec::new(),
        jump_targets: Vec::new(),
        response_keys: Vec::new(),
    };
    let root_type = operation.object_type().clone();
    let collected = builder.collect(&operation.selection_set, &root_type)?;
    for c in &collected {
        let name = &c.field.name;
        if name.starts_with("__") {
            continue; // __typename, __schema and __type are answered by the gateway itself.
        }
        let resolvers = supergraph.field_resolvers(&root_type, name, labels);
        if resolvers.is_empty() {
            return Err(PlanError::Unresolvable {
                type_name: root_type.to_string(),
                field: name.to_string(),
            });
        }
        // A `@shareable` root field goes to a subgraph that can answer all of its selection.
        let complete: Vec<SubgraphId> = resolvers
            .iter()
            .copied()
            .filter(|&g| {
                !builder.needs_other(
                    g,
                    c.field.ty().inner_named_type(),
                    &c.field.selection_set,
                    None,
                )
            })
            .collect();
        let mut resolvers = if complete.is_empty() {
            resolvers
        } else {
            complete
        };
        // Of those, the one that resolves most of the selection itself saves entity fetches.
        if resolvers.len() > 1 {
            resolvers.sort_by_cached_key(|&g| {
                builder.fields_elsewhere(g, c.field.ty().inner_named_type(), &c.field.selection_set)
            });
        }
        let group = builder.root_group(kind, &resolvers);
        let conditions = match conditions_of(&c.directives, &[]) {
            Some(conds) => conds,
            None => continue,
        };
        let path = child_path(&[], c.field);
        let provides = supergraph
            .field_source(&root_type, name, builder.groups[group].subgraph)
            .and_then(|s| s.provides.clone());
        let selections = builder.plan_composite(
            group,
            c.field.ty().inner_named_type(),
            &c.field.selection_set,
            &path,
            provides.as_deref(),
            &conditions,
        )?;
        let field = client_field(c, selections);
        builder.groups[group].root_selection.add_field(field);
    }
    let root = builder.arrange(kind, operation);
    Ok(QueryPlan { kind, root })
}

impl<'a> Builder<'a> {
    fn root_group(&mut self, kind: OperationKind, resolvers: &[SubgraphId]) -> usize {
        let roots: Vec<usize> = (0..self.groups.len())
            .filter(|&i| self.groups[i].entity_types.is_none())
            .collect();
        let reuse = match kind {
            // Mutation fields run in order: only the last root group may take the next field.
            OperationKind::Mutation => roots
                .last()
                .copied()
                .filter(|&i| resolvers.contains(&self.groups[i].subgraph)),
            _ => roots
                .iter()
                .copied()
                .find(|&i| resolvers.contains(&self.groups[i].subgraph)),
        };
        reuse.unwrap_or_else(|| {
            self.groups.push(Group {
                subgraph: resolvers[0],
                merge_path: Vec::new(),
                deps: Vec::new(),
                conditions: Vec::new(),
                root_selection: SelectionSet::default(),
                entity_types: None,
            });
            self.groups.len() - 1
        })
    }

    /// The fields of `set` that apply to an object of type `object_type`, fragments flattened.
    fn collect<'d>(
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

    /// Plans a selection on a field of type `type_name` inside group `group`.
    fn plan_composite(
        &mut self,
        group: usize,
        type_name: &Name,
        set: &exe::SelectionSet,
        path: &[PathElement],
        provides: Option<&exe::SelectionSet>,
        conditions: &Conditions,
    ) -> Result<SelectionSet, PlanError> {
        if set.selections.is_empty() {
            return Ok(SelectionSet::default());
        }
        if !self.supergraph.is_abstract(type_name) {
            return self.plan_object(group, type_name, set, path, provides, conditions);
        }
        let subgraph = self.groups[group].subgraph;
        if self.supergraph.is_interface_object_in(type_name, subgraph) {
            return self.plan_interface_object(group, type_name, set, path, provides, conditions);
        }
        // Abstract types are split per concrete type the subgraph knows, so each member's fields can
        // come from wherever that member lives, and members the subgraph doesn't know are never asked of it.
        let mut possible: Vec<Name> = self
            .supergraph
            .possible_types_in(type_name, subgraph)
            .to_vec();
        if possible.is_empty() {
            possible = crate::supergraph::possible_types(&self.supergraph.schema, type_name)
                .into_iter()
                .filter(|p| self.supergraph.type_in_graph(p, subgraph))
                .collect();
        }
        let mut out = SelectionSet::default();
        out.add_typename();
        for object_type in possible {
            let inner = self.plan_object(group, &object_type, set, path, provides, conditions)?;
            if !inner.is_empty() {
                out.add_fragment(Fragment {
                    type_condition: Some(object_type),
                    directives: DirectiveList::new(),
                    selections: inner,
                });
            }
        }
        Ok(out)
    }

    /// Plans a selection on an interface that `group`'s subgraph sees as an `@interfaceObject`: it
    /// answers the interface's own fields, but only a subgraph owning the interface as an entity
    /// knows each object's concrete type, so `__typename` and fragments on implementations are
    /// fetched from there with representations named after the interface.
    fn plan_interface_object(
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
        for object_type in crate::supergraph::possible_types(&self.supergraph.schema, interface) {
            let extra: Vec<Collected<'_>> = self
                .collect(set, &object_type)?
                .into_iter()
                .filter(|c| {
                    !on_interface
                        .iter()
                        .any(|i| i.field.response_key() == c.field.response_key())
                })
                .collect();
            if !extra.is_empty() {
                concrete.push((object_type, extra));
            }
        }
        if !wants_typename && concrete.is_empty() {
            return Ok(out);
        }
        let owners = self.supergraph.entity_graphs(interface);
        let Some((owner, key)) = self.choose_key(interface, subgraph, &owners) else {
            return Err(PlanError::NoKey {
                type_name: interface.to_string(),
                field: "__typename".to_owned(),
                from: self.supergraph.subgraph(subgraph).name.to_string(),
                to: owners
                    .iter()
                    .map(|s| self.supergraph.subgraph(*s).name.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        let owner_group = self.jump_group(
            group, interface, interface, owner, &key, None, path, conditions, conditions, &mut out,
        )?;
        let mut fields = SelectionSet::default();
        fields.add_typename();
        for (object_type, extra) in concrete {
            let inner =
                self.plan_collected(owner_group, &object_type, &extra, path, None, conditions)?;
            if !inner.is_empty() {
                fields.add_fragment(Fragment {
                    type_condition: Some(object_type),
                    directives: DirectiveList::new(),
                    selections: inner,
                });
            }
        }
        if let Some(entry) = self.entry_mut(owner_group, interface) {
            entry.fields.merge(fields);
        }
        Ok(out)
    }

    fn plan_object(
        &mut self,
        group: usize,
        object_type: &Name,
        set: &exe::SelectionSet,
        path: &[PathElement],
        provides: Option<&exe::SelectionSet>,
        conditions: &Conditions,
    ) -> Result<SelectionSet, PlanError> {
        let collected = self.collect(set, object_type)?;
        self.plan_collected(group, object_type, &collected, path, provides, conditions)
    }

    /// Plans fields already collected for an object of type `object_type`.
    fn plan_collected(
        &mut self,
        group: usize,
        object_type: &Name,
        collected: &[Collected<'_>],
        path: &[PathElement],
        provides: Option<&exe::SelectionSet>,
        conditions: &Conditions,
    ) -> Result<SelectionSet, PlanError> {
        let targets = self.count_jump_targets(group, object_type, collected, provides);
        self.jump_targets.push(targets);
        self.response_keys.push(
            collected
                .iter()
                .map(|c| ClientKey {
                    key: c.field.response_key().clone(),
                    name: c.field.name.clone(),
                    arguments: c.field.arguments.clone(),
                })
                .collect(),
        );
        let mut out = SelectionSet::default();
        let mut result = Ok(());
        for c in collected {
            result = self.plan_field(group, object_type, c, path, provides, conditions, &mut out);
            if result.is_err() {
                break;
            }
        }
        self.jump_targets.pop();
        self.response_keys.pop();
        result.map(|()| out)
    }

    /// Whether `group`'s subgraph resolves `object_type.field` itself (or has it provided).
    fn is_local(
        &self,
        group: usize,
        object_type: &Name,
        field: &Name,
        provides: Option<&exe::SelectionSet>,
    ) -> bool {
        let subgraph = self.groups[group].subgraph;
        provides
            .and_then(|p| self.find_provided(p, object_type, field))
            .is_some()
            || (self
                .supergraph
                .field_resolvers(object_type, field, self.labels)
                .contains(&subgraph)
                && self
                    .supergraph
                    .field_source(object_type, field, subgraph)
                    .is_none_or(|s| s.requires.is_none()))
    }

    /// For each subgraph, how many of the fields in `collected` that `group` cannot resolve it can.
    fn count_jump_targets(
        &self,
        group: usize,
        object_type: &Name,
        collected: &[Collected<'_>],
        provides: Option<&exe::SelectionSet>,
    ) -> Vec<(SubgraphId, usize)> {
        let mut counts: Vec<(SubgraphId, usize)> = Vec::new();
        for c in collected {
            let name = &c.field.name;
            if name.starts_with("__") || self.is_local(group, object_type, name, provides) {
                continue;
            }
            for target in self
                .supergraph
                .field_resolvers(object_type, name, self.labels)
            {
                match counts.iter_mut().find(|(s, _)| *s == target) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((target, 1)),
                }
            }
        }
        counts
    }

    #[allow(clippy::too_many_arguments)]
    fn plan_field(
        &mut self,
        group: usize,
        object_type: &Name,
        c: &Collected<'_>,
        path: &[PathElement],
        provides: Option<&exe::SelectionSet>,
        conditions: &Conditions,
        out: &mut SelectionSet,
    ) -> Result<(), PlanError> {
        let name = &c.field.name;
        if name == "__typename" {
            out.add_field(client_field(c, SelectionSet::default()));
            return Ok(());
        }
        let Some(field_conditions) = conditions_of(&c.directives, conditions) else {
            return Ok(());
        };
        let subgraph = self.groups[group].subgraph;
        let provided = provides.and_then(|p| self.find_provided(p, object_type, name));
        let source = self.supergraph.field_source(object_type, name, subgraph);
        let local = self.is_local(group, object_type, name, provides);
        let field_type = self.field_type(object_type, c.field);
        let path = child_path(path, c.field);
        // A `@shareable` field whose value type differs between subgraphs: when this one lacks
        // some of the selected fields and the value cannot be looked up, another subgraph that
        // has them all answers the whole field.
        // The same holds below a provided field: `@provides(fields: "address { city }")` does
        // not make this subgraph answer `address { street }`.
        let child_provides = source
            .and_then(|s| s.provides.clone())
            .or_else(|| provided.map(|p| std::sync::Arc::new(p.selection_set.clone())));
        let partial = local
            && self.needs_other(
                subgraph,
                &field_type,
                &c.field.selection_set,
                child_provides.as_deref(),
            );
        if partial {
            let mut others = SelectionSet::default();
            let snapshot = self.groups.len();
            let jumped = self.plan_jump(
                group,
                object_type,
                c,
                &path,
                conditions,
                &field_conditions,
                &field_type,
                &mut others,
                Some(subgraph),
            );
            if jumped.is_ok() {
                out.merge(others);
                return Ok(());
            }
            self.groups.truncate(snapshot);
        }
        // No subgraph has every selected field: this one answers the fields it has, and the rest
        // of the value comes from another subgraph through the parent entity.
        let split = if partial {
            self.split_value_field(subgraph, &field_type, c)
        } else {
            None
        };
        let here_collected;
        let c = match &split {
            Some((here, rest)) => {
                let rest = Collected {
                    field: rest,
                    directives: c.directives.clone(),
                };
                let mut others = SelectionSet::default();
                let snapshot = self.groups.len();
                let jumped = self.plan_jump(
                    group,
                    object_type,
                    &rest,
                    &path,
                    conditions,
                    &field_conditions,
                    &field_type,
                    &mut others,
                    Some(subgraph),
                );
                if jumped.is_ok() {
                    out.merge(others);
                    here_collected = Collected {
                        field: here,
                        directives: c.directives.clone(),
                    };
                    &here_collected
                } else {
                    self.groups.truncate(snapshot);
                    c
                }
            }
            None => c,
        };
        if local {
            let selections = self.plan_composite(
                group,
                &field_type,
                &c.field.selection_set,
                &path,
                child_provides.as_deref(),
                &field_conditions,
            )?;
            out.add_field(client_field(c, selections));
            return Ok(());
        }
        self.plan_jump(
            group,
            object_type,
            c,
            &path,
            conditions,
            &field_conditions,
            &field_type,
            out,
            None,
        )
    }

    /// The field `name` of a `@provides` selection as it applies to an object of `object_type`:
    /// a fragment's fields are provided only for the types its condition covers.
    fn find_provided<'s>(
        &self,
        set: &'s exe::SelectionSet,
        object_type: &str,
        name: &str,
    ) -> Option<&'s Node<exe::Field>> {
        set.selections.iter().find_map(|s| match s {
            exe::Selection::Field(f) if f.name == name => Some(f),
            exe::Selection::InlineFragment(f)
                if f.type_condition
                    .as_ref()
                    .is_none_or(|t| self.supergraph.satisfies(object_type, t)) =>
            {
                self.find_provided(&f.selection_set, object_type, name)
            }
            _ => None,
        })
    }

    /// Whether `selection` on `type_name`, resolved in `subgraph`, reaches a field the subgraph
    /// does not resolve through value types only (an entity on the way can fetch it elsewhere).
    /// Fields in `provides` count as resolved.
    fn needs_other(
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
            crate::supergraph::possible_types(&self.supergraph.schema, type_name)
                .into_iter()
                .filter(|t| self.supergraph.type_in_graph(t, subgraph))
                .collect()
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
    fn fields_elsewhere(
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
    fn split_value_field(
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

    /// Moves `c` to another subgraph through an entity fetch at the parent's path.
    #[allow(clippy::too_many_arguments)]
    fn plan_jump(
        &mut self,
        group: usize,
        object_type: &Name,
        c: &Collected<'_>,
        field_path: &[PathElement],
        parent_conditions: &Conditions,
        field_conditions: &Conditions,
        field_type: &Name,
        out: &mut SelectionSet,
        exclude: Option<SubgraphId>,
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
        if let Some(excluded) = exclude {
            resolvers.retain(|&g| {
                g != excluded && !self.needs_other(g, field_type, &c.field.selection_set, None)
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
            .filter(|s| {
                self.groups.iter().any(|g| {
                    g.subgraph == *s && g.entity_types.is_some() && g.merge_path == parent_path
                })
            })
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
        rest.sort_by_key(|s| std::cmp::Reverse(sibling_count(s)));
        ordered.extend(rest);
        let Some((target, key)) = self.choose_key(&entity_type, from, &ordered) else {
            return Err(PlanError::NoKey {
                type_name: object_type.to_string(),
                field: name.to_string(),
                from: self.supergraph.subgraph(from).name.to_string(),
                to: resolvers
                    .iter()
                    .map(|s| self.supergraph.subgraph(*s).name.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        let requires = self
            .supergraph
            .field_source(&entity_type, name, target)
            .and_then(|s| s.requires.clone());
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
        let provides = self
            .supergraph
            .field_source(&entity_type, name, target)
            .and_then(|s| s.provides.clone());
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

    /// The interface of `object_type` that an `@interfaceObject` subgraph extends with `field`, and
    /// the subgraphs that resolve it there.
    fn interface_object_resolvers(
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

    /// The first of `targets` with a key of `entity_type` that `from` can send. A key `from` cannot
    /// provide alone is still usable when other subgraphs can fill it in (a key reached through a
    /// third subgraph): its fields are then planned like `@requires` fields.
    fn choose_key(
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

    /// Plans the key (and `@requires`) fields of `object_type` in `group` and returns the entity
    /// group of `target` at `parent_path` that will receive the representations.
    #[allow(clippy::too_many_arguments)]
    fn jump_group(
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
        let key = self.avoid_client_keys(key);
        let mut deps = vec![group];
        // Key fields `group` cannot resolve come from other fetches, which the jump then waits for.
        self.touched.push(Vec::new());
        self.key_jumps.push((entity_type.clone(), target));
        let key_fields = self.plan_object(
            group,
            object_type,
            &key,
            parent_path,
            None,
            parent_conditions,
        );
        self.key_jumps.pop();
        let touched = self.pop_touched();
        out.merge(key_fields?);
        let mut representation = SelectionSet::default();
        representation.add_typename();
        representation.merge(plain_selection(&key));
        let by_interface = entity_type != object_type;
        if by_interface {
            // The objects' own `__typename` picks which of them go to this fetch.
            out.add_typename();
        }
        // No `__typename` is fetched otherwise: `object_type` is concrete, so representations take
        // it from the plan. Under an abstract type the objects carry it already (`plan_composite`).
        let mut touched_all = touched;
        if let Some(requires) = requires {
            let requires = self.avoid_client_keys(requires);
            self.touched.push(Vec::new());
            let required = self.plan_object(
                group,
                object_type,
                &requires,
                parent_path,
                None,
                parent_conditions,
            );
            touched_all.extend(self.pop_touched());
            out.merge(required?);
            representation.merge(plain_selection(&requires));
        }
        for t in touched_all {
            if !deps.contains(&t) {
                deps.push(t);
            }
        }
        deps.sort_unstable();
        let key_fields = plain_selection(&key).top_level_keys();
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

    fn entry_mut(&mut self, group: usize, entity_type: &Name) -> Option<&mut EntityEntry> {
        self.groups[group]
            .entity_types
            .as_mut()?
            .iter_mut()
            .find(|e| &e.name == entity_type)
    }

    /// `set` (a key or `@requires` field set) with an alias on each top-level field whose name a
    /// client field of another name or other arguments uses as its response key
    /// (`{ upc: name shippingEstimate }`, `{ price(currency: EUR) }` beside a required
    /// `price(currency: USD)`): one fetch cannot hold both under one key. Representations read
    /// the alias and send the name.
    fn avoid_client_keys(&self, set: &exe::SelectionSet) -> exe::SelectionSet {
        let mut set = set.clone();
        let Some(client) = self.response_keys.last() else {
            return set;
        };
        for selection in &mut set.selections {
            let exe::Selection::Field(field) = selection else {
                continue;
            };
            let taken = client.iter().any(|c| {
                c.key == field.name && (c.name != field.name || c.arguments != field.arguments)
            });
            if field.alias.is_none() && taken {
                if let Ok(alias) = Name::new(&format!("seam__{}", field.name)) {
                    field.make_mut().alias = Some(alias);
                }
            }
        }
        set
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
        let same_fetch = |g: &Group| {
            g.subgraph == subgraph
                && g.entity_types.is_some()
                && g.merge_path == path
                && &g.conditions == conditions
                && shares_representation(g)
        };
        // A group with the same dependencies is the natural home. Failing that, one fetch that
        // waits for the union of both dependency sets is still cheaper than two fetches to the same
        // subgraph at the same path, as long as waiting creates no cycle.
        let existing = self
            .groups
            .iter()
            .position(|g| same_fetch(g) && g.deps == deps)
            .or_else(|| {
                (0..self.groups.len()).find(|&i| {
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
                });
                self.groups.len() - 1
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

    /// Whether group `a` waits, directly or through other groups, for group `b`.
    fn depends_on(&self, a: usize, b: usize) -> bool {
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

    /// The output type of `object_type.field` in the supergraph (object fields may narrow an
    /// interface field's type, so the client's definition is only the fallback).
    fn field_type(&self, object_type: &Name, field: &exe::Field) -> Name {
        self.supergraph
            .schema
            .type_field(object_type, &field.name)
            .map(|d| d.ty.inner_named_type().clone())
            .unwrap_or_else(|_| field.ty().inner_named_type().clone())
    }
}

/// `None` when a literal `@skip(if: true)`/`@include(if: false)` removes the selection.
fn conditions_of(directives: &DirectiveList, inherited: &[(Name, bool)]) -> Option<Conditions> {
    let mut out = inherited.to_vec();
    for d in conditional_directives(directives) {
        let wanted = d.name == "include";
        match d.specified_argument_by_name("if").map(|v| &**v) {
            Some(Value::Boolean(b)) if *b != wanted => return None,
            Some(Value::Variable(v)) => {
                let cond = (v.clone(), wanted);
                if !out.contains(&cond) {
                    out.push(cond);
                }
            }
            _ => {}
        }
    }
    Some(out)
}

/// The `@skip`/`@include` whose `if` is a variable. Literal ones are settled while collecting: a
/// selection they exclude is dropped, and one they include needs no directive in any fetch.
fn variable_conditions(directives: &DirectiveList) -> impl Iterator<Item = &Node<Directive>> {
    conditional_directives(directives).filter(|d| {
        matches!(
            d.specified_argument_by_name("if").map(|v| &**v),
            Some(Value::Variable(_))
        )
    })
}

fn statically_excluded(directives: &apollo_compiler::executable::DirectiveList) -> bool {
    conditional_directives(directives).any(|d| {
        let wanted = d.name == "include";
        matches!(d.specified_argument_by_name("if").map(|v| &**v), Some(Value::Boolean(b)) if *b != wanted)
    })
}

fn list_depth(ty: &apollo_compiler::ast::Type) -> usize {
    let mut depth = 0;
    let mut ty = ty;
    loop {
        match ty {
            apollo_compiler::ast::Type::List(inner)
            | apollo_compiler::ast::Type::NonNullList(inner) => {
                depth += 1;
                ty = inner;
            }
            _ => return depth,
        }
    }
}

fn child_path(path: &[PathElement], field: &exe::Field) -> Vec<PathElement> {
    let mut out = Vec::with_capacity(path.len() + 2);
    out.extend_from_slice(path);
    out.push(PathElement::Key(field.response_key().clone()));
    for _ in 0..list_depth(field.ty()) {
        out.push(PathElement::List);
    }
    out
}

fn client_field(c: &Collected<'_>, selections: SelectionSet) -> Field {
    Field {
        alias: c.field.alias.clone(),
        name: c.field.name.clone(),
        arguments: c.field.arguments.clone(),
        directives: c.directives.clone(),
        selections,
    }
}

/// A key or `@requires` field set as a plain selection (names only), used to build representations.
fn plain_selection(set: &exe::SelectionSet) -> SelectionSet {
    let mut out = SelectionSet::default();
    for s in &set.selections {
        match s {
            exe::Selection::Field(f) => {
                let mut field = Field::new(f.name.clone());
                field.alias = f.alias.clone();
                field.arguments = f.arguments.clone();
                field.selections = plain_selection(&f.selection_set);
                out.add_field(field);
            }
            exe::Selection::InlineFragment(f) => out.add_fragment(Fragment {
                type_condition: f.type_condition.clone(),
                directives: DirectiveList::new(),
                selections: plain_selection(&f.selection_set),
            }),
            exe::Selection::FragmentSpread(_) => {}
        }
    }
    out
}
