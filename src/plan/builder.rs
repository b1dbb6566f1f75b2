//! Builds fetch groups from a client operation, then arranges them into a plan tree.
//!
//! A fetch group is one request to one subgraph. Walking the client selection, each field goes into
//! the group of the subgraph that is already resolving its parent when that subgraph can; otherwise
//! the parent must be an entity, and the field goes into an `_entities` group of another subgraph at
//! the same response path — one group per (subgraph, path, dependencies), so every entity of a list
//! is fetched in one batched call.

use std::collections::HashMap;

use apollo_compiler::ast::{DirectiveList, Value};
use apollo_compiler::executable::{self as exe, Operation, OperationType};
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Name, Node};

use super::selection::{Field, Fragment, SelectionSet};
use super::{
    ContextVariable, EntityFetch, EntityType, FetchNode, OperationKind, PathElement, PlanError,
    PlanNode, QueryPlan,
};
use crate::supergraph::{ActiveLabels, SubgraphId, Supergraph};

/// `(variable, value)`: the group runs only when the boolean variable has that value.
type Conditions = Vec<(Name, bool)>;

use super::list_depth;
use collect::Collected;
use conditions::conditions_of;

mod abstract_types;
mod arrange;
mod batch;
mod collect;
mod conditions;
mod context;
mod interface_object;
mod jump;
mod required;
mod root;
mod shareable;
mod values;

use values::Elsewhere;

#[derive(Clone)]
struct Group {
    subgraph: SubgraphId,
    merge_path: Vec<PathElement>,
    deps: Vec<usize>,
    conditions: Conditions,
    /// For root groups: the fields on the root type.
    root_selection: SelectionSet,
    /// For entity groups: per entity type, its representation and the fields fetched for it.
    entity_types: Option<Vec<EntityEntry>>,
    /// For entity groups: the variables that pass context values as arguments (`context.rs`).
    contexts: Vec<ContextVariable>,
}

#[derive(Clone)]
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
    /// Per selection set being planned: the response keys of its fields, so key and `@requires`
    /// fields the planner adds can avoid a response key a client alias already uses.
    response_keys: Vec<KeysFrame>,
    /// Set for the next selection set planned when it answers in the same object as the frame
    /// below it: a key or `@requires` field set (`jump_group`), or the selections of an
    /// `@interfaceObject` planned beside its implementations' client keys (`plan_beside`).
    next_is_field_set: bool,
    /// Set by `plan_field` while it plans the selection of a field of a key or `@requires` field
    /// set (or of a selection below one): that field's response key, which the frames planned
    /// for its selection record as `KeysFrame::under`.
    next_under: Option<Name>,
    /// Set while a field is planned that shares its response key with fields it could not be
    /// merged with (`collect::companions`): those fields. The objects planned for it answer
    /// in the same fetched object as theirs, so their client keys are taken there too.
    next_companions: Vec<Node<exe::Field>>,
    /// The root groups, in creation order (entity groups are not searched for root fields).
    root_groups: Vec<usize>,
    /// Entity groups by subgraph and merge path, so a jump finds the fetch it can join without a
    /// scan of every group. May name groups a failed attempt created and `jump_elsewhere` then
    /// dropped: `entity_groups_at` checks each entry against the group it names.
    places: HashMap<(SubgraphId, Vec<PathElement>), Vec<usize>, ahash::RandomState>,
    /// The response keys of the root fields planned so far.
    root_keys: std::collections::HashSet<Name, ahash::RandomState>,
    /// The objects whose selections are being planned, outermost first, while the supergraph
    /// has contexts: where a field's context values are read (`context.rs`).
    ancestors: Vec<context::Ancestor>,
    /// Context variables named so far, for `contextualArgument_<n>_<i>`.
    context_variables: usize,
}

/// The response keys a selection's client fields use, each with the fields behind it; found by
/// hash because a selection may hold 100,000 aliases.
type ClientKeys = HashMap<Name, Vec<Node<exe::Field>>, ahash::RandomState>;

/// One selection set being planned, for `avoid_taken_keys`.
struct KeysFrame {
    keys: ClientKeys,
    /// The set answers in the same object as the frame below (a key or `@requires` field set
    /// of that object, or a selection planned beside other client keys of it), so that frame's
    /// keys are taken there too.
    field_set: bool,
    /// The set is the selection of the field with this response key in the frame below, a field
    /// the planner added for a field set: it merges with the client's fields under that key, so
    /// their selections are taken here too (`{ vendor { code: rating } }` beside a required
    /// `vendor { vendorName }` whose key `code` must not answer under the client's `code`).
    under: Option<Name>,
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
        next_is_field_set: false,
        next_under: None,
        next_companions: Vec::new(),
        root_groups: Vec::new(),
        places: HashMap::default(),
        root_keys: Default::default(),
        ancestors: Vec::new(),
        context_variables: 0,
    };
    let root_type = operation.object_type().clone();
    let collected = builder.collect(&operation.selection_set, &root_type)?;
    let collected = collect::merge_repeats(&collected).unwrap_or(collected);
    let companions = collect::companions(&collected, Vec::new())?;
    for (i, c) in collected.iter().enumerate() {
        builder.next_companions = companions.of(i, &collected);
        let name = &c.field.name;
        if name.starts_with("__") {
            continue; // __typename, __schema and __type are answered by the gateway itself.
        }
        let conditions = match conditions_of(&c.directives, &[]) {
            Some(conds) => conds,
            None => continue,
        };
        builder.plan_root(kind, &root_type, c, &conditions, &[])?;
    }
    builder.next_companions.clear();
    builder.fold_covered_interface_object_groups();
    let root = builder.arrange(kind, operation);
    let non_null_roots = match kind {
        // A field under `@skip`/`@include` may be absent without failing: not counted.
        OperationKind::Mutation => collected
            .iter()
            .filter(|c| c.field.ty().is_non_null())
            .filter(|c| conditions_of(&c.directives, &[]).is_some_and(|conds| conds.is_empty()))
            .map(|c| c.field.response_key().clone())
            .collect(),
        _ => Vec::new(),
    };
    Ok(QueryPlan {
        kind,
        root,
        non_null_roots,
    })
}

/// What became of a field its subgraph answers only in part (`Builder::plan_partial`).
enum Partial {
    /// Other subgraphs answer all of it.
    Moved,
    /// Other subgraphs answer some of it; this part stays where it is.
    Here(Node<exe::Field>),
    /// Nothing could move: it is planned where it is.
    Unsplit,
}

/// What `Builder::undo` restores after a failed attempt to plan a root field in one subgraph.
enum UndoPoint {
    /// Groups the attempt added are dropped. Enough when the field's response key is new: an
    /// attempt then changes no group that existed before it (its fields reach the root group only
    /// once it succeeds, and every entity group it needs is at a path of its own).
    Truncate(usize),
    /// A repeated response key merges into earlier groups, and a field split between subgraphs
    /// adds its first part to a root group before the rest is planned: everything is restored.
    Whole(Vec<Group>),
}

impl<'a> Builder<'a> {
    fn undo_point(&self, repeated_key: bool) -> UndoPoint {
        if repeated_key {
            UndoPoint::Whole(self.groups.clone())
        } else {
            UndoPoint::Truncate(self.groups.len())
        }
    }

    fn undo(&mut self, point: UndoPoint) {
        match point {
            UndoPoint::Truncate(len) => self.groups.truncate(len),
            UndoPoint::Whole(groups) => self.groups = groups,
        }
        let len = self.groups.len();
        self.root_groups.retain(|&g| g < len);
    }

    /// Plans the root field `c` in `subgraph`; on error the caller undoes what was added.
    fn plan_root_field(
        &mut self,
        kind: OperationKind,
        subgraph: SubgraphId,
        root_type: &Name,
        c: &Collected<'_>,
        conditions: &Conditions,
    ) -> Result<(), PlanError> {
        let group = self.root_group(kind, subgraph);
        let path = child_path(&[], &c.field);
        let provides = self
            .supergraph
            .field_source(root_type, &c.field.name, subgraph)
            .and_then(|s| s.provides.clone());
        let selections = self.plan_composite(
            group,
            c.field.ty().inner_named_type(),
            &c.field.selection_set,
            &path,
            provides.as_deref(),
            conditions,
        )?;
        let field = client_field(c, selections);
        self.groups[group].root_selection.add_field(field);
        Ok(())
    }

    /// The root group that may take a field one of `resolvers` can answer.
    fn existing_root_group(&self, kind: OperationKind, resolvers: &[SubgraphId]) -> Option<usize> {
        let roots = &self.root_groups;
        match kind {
            // Mutation fields run in order: only the last root group may take the next field.
            OperationKind::Mutation => roots
                .last()
                .copied()
                .filter(|&i| resolvers.contains(&self.groups[i].subgraph)),
            _ => roots
                .iter()
                .copied()
                .find(|&i| resolvers.contains(&self.groups[i].subgraph)),
        }
    }

    /// The root group of `subgraph` that may take the next field, or a new one.
    fn root_group(&mut self, kind: OperationKind, subgraph: SubgraphId) -> usize {
        let reuse = self.existing_root_group(kind, &[subgraph]);
        reuse.unwrap_or_else(|| {
            self.groups.push(Group {
                subgraph,
                merge_path: Vec::new(),
                deps: Vec::new(),
                conditions: Vec::new(),
                root_selection: SelectionSet::default(),
                entity_types: None,
                contexts: Vec::new(),
            });
            self.root_groups.push(self.groups.len() - 1);
            self.groups.len() - 1
        })
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
        let mut planned = if !self.supergraph.is_abstract(type_name) {
            self.plan_object(group, type_name, set, path, provides, conditions)?
        } else {
            let subgraph = self.groups[group].subgraph;
            if self.supergraph.is_interface_object_in(type_name, subgraph) {
                self.plan_interface_object(group, type_name, set, path, provides, conditions)?
            } else {
                // Abstract types are split per concrete type the subgraph knows, so each member's
                // fields can come from wherever that member lives, and members the subgraph
                // doesn't know are never asked of it.
                let possible = self.possible_types_known_to(type_name, subgraph);
                self.plan_type_cases(group, possible, set, path, provides, conditions)?
            }
        };
        ensure_selected(&mut planned);
        Ok(planned)
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
        let merged = collect::merge_repeats(collected);
        let collected = merged.as_deref().unwrap_or(collected);
        let mut keys = client_keys(collected);
        let outer_companions = std::mem::take(&mut self.next_companions);
        // The companions' fields of this object: their keys are taken here, and those with a
        // selection are companions of this object's fields under the same key, one level down.
        let mut beside = Vec::new();
        for companion in &outer_companions {
            for c in self.collect(&companion.selection_set, object_type)? {
                keys.entry(c.field.response_key().clone())
                    .or_default()
                    .push(Node::clone(&c.field));
                if !c.field.selection_set.selections.is_empty() {
                    beside.push(Node::clone(&c.field));
                }
            }
        }
        let companions = collect::companions(collected, beside)?;
        let targets = self.count_jump_targets(group, object_type, collected, provides);
        self.jump_targets.push(targets);
        let field_set = std::mem::take(&mut self.next_is_field_set);
        // Taken for this frame only: the frames of the fields planned below it are not `under`
        // unless `plan_field` says so again; put back for the next type case of the same field.
        let under = self.next_under.take();
        self.response_keys.push(KeysFrame {
            keys,
            field_set,
            under: under.clone(),
        });
        let tracked = self.enter_object(group, object_type, path, conditions);
        let mut out = SelectionSet::default();
        let mut result = Ok(());
        for (i, c) in collected.iter().enumerate() {
            self.next_companions = companions.of(i, collected);
            result = self.plan_field(group, object_type, c, path, provides, conditions, &mut out);
            if result.is_err() {
                break;
            }
        }
        self.next_companions = outer_companions;
        if tracked {
            // Fields that descendants read as context values are fetched with the object.
            out.merge(self.leave_object());
        }
        self.jump_targets.pop();
        self.response_keys.pop();
        self.next_under = under;
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
        if let Some(planned) = self.plan_if_contextual(
            group,
            object_type,
            c,
            path,
            conditions,
            &field_conditions,
            out,
        ) {
            return planned;
        }
        let provided = provides.and_then(|p| self.find_provided(p, object_type, name));
        let source = self.supergraph.field_source(object_type, name, subgraph);
        let local = self.is_local(group, object_type, name, provides);
        let field_type = self.field_type(object_type, &c.field);
        let path = child_path(path, &c.field);
        // A `@shareable` field whose value type differs between subgraphs: when this one lacks
        // some of the selected fields and the value cannot be looked up, the field moves or is
        // split (`plan_partial`). The same holds below a provided field:
        // `@provides(fields: "address { city }")` does not make this subgraph answer
        // `address { street }`.
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
        let here_field: Node<exe::Field>;
        let here_collected;
        let c = if partial {
            match self.plan_partial(
                group,
                object_type,
                c,
                &path,
                conditions,
                &field_conditions,
                &field_type,
                child_provides.as_deref(),
                out,
            ) {
                Partial::Moved => return Ok(()),
                Partial::Here(here) => {
                    here_field = here;
                    here_collected = Collected::new(&here_field, c.directives.clone());
                    &here_collected
                }
                Partial::Unsplit => c,
            }
        } else {
            c
        };
        if local {
            // Below a field of a field set, the frames planned for its selection are `under` it.
            let in_field_set = self
                .response_keys
                .last()
                .is_some_and(|f| f.field_set || f.under.is_some());
            let outer_under = std::mem::replace(
                &mut self.next_under,
                in_field_set.then(|| c.field.response_key().clone()),
            );
            let own_type = source
                .and_then(|s| s.ty.as_ref())
                .map(|t| t.inner_named_type())
                .filter(|own| {
                    *own != &field_type
                        && !c.field.selection_set.selections.is_empty()
                        && self.supergraph.is_abstract(&field_type)
                        && !self
                            .supergraph
                            .is_interface_object_in(&field_type, subgraph)
                });
            let selections = match own_type {
                Some(own) => self.plan_narrowed(
                    group,
                    &field_type,
                    own,
                    &c.field.selection_set,
                    &path,
                    child_provides.as_deref(),
                    &field_conditions,
                ),
                None => self.plan_composite(
                    group,
                    &field_type,
                    &c.field.selection_set,
                    &path,
                    child_provides.as_deref(),
                    &field_conditions,
                ),
            };
            self.next_under = outer_under;
            out.add_field(client_field(c, selections?));
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

    /// Plans a field `group`'s subgraph resolves but answers only in part. A subgraph that
    /// answers the whole value by itself takes it; otherwise this one keeps what it answers and the
    /// rest goes to others through the parent entity's key (to one that answers it all, else a
    /// share to each that answers some); failing that, the whole field goes to a subgraph that
    /// answers it with lookups of its own.
    #[allow(clippy::too_many_arguments)]
    fn plan_partial(
        &mut self,
        group: usize,
        object_type: &Name,
        c: &Collected<'_>,
        path: &[PathElement],
        conditions: &Conditions,
        field_conditions: &Conditions,
        field_type: &Name,
        provides: Option<&exe::SelectionSet>,
        out: &mut SelectionSet,
    ) -> Partial {
        let subgraph = self.groups[group].subgraph;
        let jump = |this: &mut Self, c: &Collected<'_>, how| {
            this.jump_elsewhere(
                group,
                object_type,
                c,
                path,
                conditions,
                field_conditions,
                field_type,
                how,
            )
        };
        if let Some(others) = jump(self, c, Elsewhere::Alone) {
            out.merge(others);
            return Partial::Moved;
        }
        if let Some((here, rest)) = self.split_value_field(subgraph, field_type, c, provides) {
            // The rest goes to a subgraph that answers all of it; failing that, each subgraph
            // that has some of it takes its share, all from here, until none is left.
            let snapshot = (self.groups.clone(), self.touched.clone());
            let mut moved = SelectionSet::default();
            let mut left = Some(rest);
            while let Some(rest) = left.take() {
                let rest = Collected::new(&rest, c.directives.clone());
                if let Some(others) = jump(self, &rest, Elsewhere::Whole) {
                    moved.merge(others);
                    out.merge(moved);
                    return Partial::Here(here);
                }
                for (share, remaining) in self.shares(subgraph, object_type, field_type, &rest) {
                    let share = Collected::new(&share, c.directives.clone());
                    if let Some(others) = jump(self, &share, Elsewhere::Whole) {
                        moved.merge(others);
                        left = Some(remaining);
                        break;
                    }
                }
            }
            (self.groups, self.touched) = snapshot;
        }
        match jump(self, c, Elsewhere::Whole) {
            Some(others) => {
                out.merge(others);
                Partial::Moved
            }
            None => Partial::Unsplit,
        }
    }

    /// Plans `c` in a subgraph other than `group`'s that takes it as `how` says, and returns
    /// what the parent's selection in `group` gains for it (key and `@requires` fields). `None`
    /// when there is no such jump: the groups the attempt created are dropped, so the caller can
    /// still resolve (part of) the field where it is.
    #[allow(clippy::too_many_arguments)]
    fn jump_elsewhere(
        &mut self,
        group: usize,
        object_type: &Name,
        c: &Collected<'_>,
        path: &[PathElement],
        conditions: &Conditions,
        field_conditions: &Conditions,
        field_type: &Name,
        how: Elsewhere,
    ) -> Option<SelectionSet> {
        let mut others = SelectionSet::default();
        // A failed attempt may already have added dependencies to existing groups and indices
        // to the enclosing `touched` frame: all of it is undone, not just the new groups.
        let snapshot = (
            self.groups.clone(),
            self.touched.clone(),
            self.ancestors.clone(),
        );
        let here = self.groups[group].subgraph;
        let jumped = self.plan_jump(
            group,
            object_type,
            c,
            path,
            conditions,
            field_conditions,
            field_type,
            &mut others,
            Some((here, how)),
        );
        if jumped.is_err() {
            (self.groups, self.touched, self.ancestors) = snapshot;
            return None;
        }
        Some(others)
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

    /// The entry of `entity_type` in entity group `group`, where fields fetched for it go.
    fn entry_mut(&mut self, group: usize, entity_type: &Name) -> Option<&mut EntityEntry> {
        self.groups[group]
            .entity_types
            .as_mut()?
            .iter_mut()
            .find(|e| &e.name == entity_type)
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

fn child_path(path: &[PathElement], field: &exe::Field) -> Vec<PathElement> {
    let mut out = Vec::with_capacity(path.len() + 2);
    out.extend_from_slice(path);
    out.push(PathElement::Key(
        fetch_alias(field).unwrap_or_else(|| field.name.clone()),
    ));
    for _ in 0..list_depth(field.ty()) {
        out.push(PathElement::List);
    }
    out
}

/// Adds `selections` planned for the concrete type `object_type` as a fragment on it; a type
/// nothing was planned for adds nothing.
fn add_type_case(out: &mut SelectionSet, object_type: Name, selections: SelectionSet) {
    if !selections.is_empty() {
        out.add_fragment(Fragment {
            type_condition: Some(object_type),
            directives: DirectiveList::new(),
            selections,
        });
    }
}

/// A composite field's selection in a fetch, which GraphQL requires to select something: when a
/// literal `@skip`/`@include` left nothing of the client's selection for this subgraph, the
/// fetch asks for `__typename` and the client gets an empty object.
fn ensure_selected(selections: &mut SelectionSet) {
    if selections.is_empty() {
        selections.add_typename();
    }
}

/// The client's fields of one object by response key.
fn client_keys(collected: &[Collected<'_>]) -> ClientKeys {
    let mut keys = ClientKeys::with_capacity_and_hasher(collected.len(), Default::default());
    for c in collected {
        keys.entry(c.field.response_key().clone())
            .or_default()
            .push(Node::clone(&c.field));
    }
    keys
}

fn client_field(c: &Collected<'_>, selections: SelectionSet) -> Field {
    Field {
        alias: fetch_alias(&c.field),
        name: c.field.name.clone(),
        arguments: c.field.arguments.clone(),
        directives: c.directives.clone(),
        selections,
    }
}

/// The alias a client field has in a subgraph fetch: its own, unless [`super::fetch_key`]
/// moves its response key.
fn fetch_alias(field: &exe::Field) -> Option<Name> {
    let key = super::fetch_key(field.response_key(), &field.name);
    if key == field.response_key().as_str() {
        field.alias.clone()
    } else {
        Name::new(key).ok().or_else(|| field.alias.clone())
    }
}
