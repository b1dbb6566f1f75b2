//! Contextual arguments (`@context` / `@fromContext`): a subgraph field whose argument is read
//! from the nearest ancestor object that sets a context, rather than given by the client.
//!
//! # Design
//! - While the supergraph has contexts, the builder keeps a stack of the objects whose
//!   selections it is planning ([`Ancestor`]: group, concrete type, path, conditions). Abstract
//!   types are planned per concrete type, so every frame has an object type.
//! - A field that takes context arguments is always fetched through an `_entities` fetch of its
//!   subgraph at the parent's path, even when that subgraph is already resolving the parent: the
//!   value is a variable of that fetch, not something a subgraph can read itself.
//! - For each argument, the nearest frame whose type sets the context (itself, through an
//!   interface it implements or a union it belongs to) is where the value is read. The context's
//!   selection is planned there like a `@requires` selection: aliased (`seam__context_<name>`) so
//!   it never collides with client fields, fetched from wherever it resolves (another subgraph
//!   through that ancestor's key if needed), and added to the ancestor's selection when its frame
//!   ends. The field's fetch waits for the fetches that produce the value.
//! - The fetch sends `field(arg: $contextualArgument_<n>_<i>)`, and its [`ContextVariable`]
//!   lists where each value comes from: one [`ContextSource`] per ancestor place and type,
//!   nearest first. Two branches of one fetch (`... on Store` and `... on Market` above the same
//!   path) share the variable and add their sources to it.
//! - At run time (`execute/context.rs`) each entity's values are read from its own ancestors,
//!   and entities whose values differ are sent in separate requests of the same operation, so a
//!   list of parents with different context values still gives each entity its own value.

use apollo_compiler::ast::Argument;
use apollo_compiler::executable::FieldSet;

use super::*;
use crate::plan::ContextSource;
use crate::supergraph::ContextArgument;

/// An object whose selection is being planned.
#[derive(Clone)]
pub(super) struct Ancestor {
    group: usize,
    object_type: Name,
    path: Vec<PathElement>,
    conditions: Conditions,
    /// How many frames of `Builder::response_keys` were open when the object's was: the
    /// context selection answers in this object, beside its client fields, not the innermost's.
    keys_depth: usize,
    /// Fields descendants read as context values, added to the object's selection at its end.
    extra: SelectionSet,
}

impl Builder<'_> {
    /// Starts the frame of an object's selection; `false` (no frame) when the supergraph has no
    /// contexts, which keeps planning without them free of the bookkeeping.
    pub(super) fn enter_object(
        &mut self,
        group: usize,
        object_type: &Name,
        path: &[PathElement],
        conditions: &Conditions,
    ) -> bool {
        if !self.supergraph.has_contexts() {
            return false;
        }
        self.ancestors.push(Ancestor {
            group,
            object_type: object_type.clone(),
            path: path.to_vec(),
            conditions: conditions.clone(),
            keys_depth: self.response_keys.len(),
            extra: SelectionSet::default(),
        });
        true
    }

    /// Ends the innermost frame and returns the context fields its object must fetch.
    pub(super) fn leave_object(&mut self) -> SelectionSet {
        self.ancestors
            .pop()
            .map(|ancestor| ancestor.extra)
            .unwrap_or_default()
    }

    /// Plans `c` if it takes context arguments (`None` when it takes none): see
    /// [`Builder::plan_context_field`]. `path` is the parent object's.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn plan_if_contextual(
        &mut self,
        group: usize,
        object_type: &Name,
        c: &Collected<'_>,
        path: &[PathElement],
        parent_conditions: &Conditions,
        field_conditions: &Conditions,
        out: &mut SelectionSet,
    ) -> Option<Result<(), PlanError>> {
        let (target, arguments) = self.context_target(group, object_type, &c.field.name)?;
        let field_type = self.field_type(object_type, &c.field);
        let path = child_path(path, &c.field);
        Some(self.plan_context_field(
            group,
            object_type,
            c,
            &path,
            parent_conditions,
            field_conditions,
            &field_type,
            target,
            &arguments,
            out,
        ))
    }

    /// The subgraph that resolves `object_type.field` with context arguments, and those
    /// arguments; `None` when the field takes none (or `group`'s subgraph resolves it without).
    fn context_target(
        &self,
        group: usize,
        object_type: &Name,
        field: &Name,
    ) -> Option<(SubgraphId, Vec<ContextArgument>)> {
        if self.ancestors.is_empty() {
            return None;
        }
        let here = self.groups[group].subgraph;
        let resolvers = self
            .supergraph
            .field_resolvers(object_type, field, self.labels);
        let arguments_in = |graph: SubgraphId| {
            self.supergraph
                .field_source(object_type, field, graph)
                .map(|s| s.context_arguments.as_slice())
                .unwrap_or_default()
        };
        if resolvers.contains(&here) && arguments_in(here).is_empty() {
            return None;
        }
        resolvers
            .iter()
            .copied()
            .find(|&g| !arguments_in(g).is_empty())
            .map(|g| (g, arguments_in(g).to_vec()))
    }

    /// Plans `c`, which takes `arguments` from contexts, as an entity fetch of `target`.
    #[allow(clippy::too_many_arguments)]
    fn plan_context_field(
        &mut self,
        group: usize,
        object_type: &Name,
        c: &Collected<'_>,
        field_path: &[PathElement],
        parent_conditions: &Conditions,
        field_conditions: &Conditions,
        field_type: &Name,
        target: SubgraphId,
        arguments: &[ContextArgument],
        out: &mut SelectionSet,
    ) -> Result<(), PlanError> {
        let name = &c.field.name;
        let from = self.groups[group].subgraph;
        let parent_path = &field_path[..field_path.len() - 1 - list_depth(c.field.ty())];
        let Some((target, key)) = self.choose_key(object_type, from, &[target]) else {
            return Err(self.no_key(object_type, name, from, &[target]));
        };
        // The values first: they are planned at their ancestors, and the fetch waits for them.
        let mut deps = Vec::new();
        let mut sources = Vec::with_capacity(arguments.len());
        for argument in arguments {
            sources.push(self.read_context(object_type, name, argument, &mut deps)?);
        }
        let source = self.supergraph.field_source(object_type, name, target);
        let requires = source.and_then(|s| s.requires.clone());
        let provides = source.and_then(|s| s.provides.clone());
        let entity_group = self.jump_group(
            group,
            object_type,
            object_type,
            target,
            &key,
            requires.as_deref(),
            parent_path,
            parent_conditions,
            field_conditions,
            out,
        )?;
        for d in deps {
            let entity_deps = &self.groups[entity_group].deps;
            if d != entity_group && !entity_deps.contains(&d) && !self.depends_on(d, entity_group) {
                self.groups[entity_group].deps.push(d);
            }
        }
        self.groups[entity_group].deps.sort_unstable();
        let selections = self.plan_composite(
            entity_group,
            field_type,
            &c.field.selection_set,
            field_path,
            provides.as_deref(),
            field_conditions,
        )?;
        let mut field = client_field(c, selections);
        let number = self.context_number(entity_group, object_type, &field, arguments);
        for (i, (argument, source)) in arguments.iter().zip(sources).enumerate() {
            let variable = self.context_variable(entity_group, number, i, argument, source);
            field.arguments.push(Node::new(Argument {
                name: argument.name.clone(),
                value: Node::new(Value::Variable(variable)),
            }));
        }
        if let Some(entry) = self.entry_mut(entity_group, object_type) {
            entry.fields.add_field(field);
        }
        Ok(())
    }

    /// Plans the selection of `argument`'s context at the nearest ancestor that sets it and
    /// returns where the fetch reads it; `deps` gains the groups that produce it. `None`: no
    /// ancestor sets the context, and the argument is `null`.
    fn read_context(
        &mut self,
        type_name: &Name,
        field: &Name,
        argument: &ContextArgument,
        deps: &mut Vec<usize>,
    ) -> Result<Option<ContextSource>, PlanError> {
        let found = self.ancestors.iter().enumerate().rev().find_map(|(at, a)| {
            self.supergraph
                .context_setter(&a.object_type, &argument.context)
                .map(|setter| (at, setter.clone()))
        });
        let Some((at, setter)) = found else {
            return Ok(None);
        };
        let error = |message: String| PlanError::Context {
            type_name: type_name.to_string(),
            field: field.to_string(),
            argument: argument.name.to_string(),
            message,
        };
        let text = crate::supergraph::context_field_set(&argument.selection);
        let set = FieldSet::parse(&self.supergraph.schema, setter, text, "context.graphql")
            .map_err(|e| error(format!("selection \"{text}\": {}", e.errors)))?;
        let set = aliased(set.selection_set);
        let Ancestor {
            group,
            object_type,
            path,
            conditions,
            keys_depth,
            ..
        } = self.ancestors[at].clone();
        self.touched.push(Vec::new());
        // Planned as a field set of the ancestor's object: key fields it needs then avoid the
        // response keys of the ancestor's client fields (`{ id: city }`), not the innermost's.
        let inner_frames = self
            .response_keys
            .split_off(keys_depth.min(self.response_keys.len()));
        self.next_is_field_set = true;
        let planned = self.plan_object(group, &object_type, &set, &path, None, &conditions);
        self.next_is_field_set = false;
        self.response_keys.extend(inner_frames);
        let touched = self.touched.pop().unwrap_or_default();
        if let Some(outer) = self.touched.last_mut() {
            for &t in &touched {
                if !outer.contains(&t) {
                    outer.push(t);
                }
            }
        }
        self.ancestors[at].extra.merge(planned?);
        for g in std::iter::once(group).chain(touched) {
            if !deps.contains(&g) {
                deps.push(g);
            }
        }
        // An interface seen as an `@interfaceObject` is a frame of its own name, but the
        // response names each object by its implementation once its owner told which one.
        Ok(Some(ContextSource {
            depth: path.len(),
            types: self.supergraph.typenames_of(&object_type),
            selection: self.plain_selection(&set),
        }))
    }

    /// The `<n>` of the field's `contextualArgument_<n>_<i>` variables: the one an earlier
    /// branch gave the same field in this fetch, or the next number.
    fn context_number(
        &mut self,
        group: usize,
        entity_type: &Name,
        field: &Field,
        arguments: &[ContextArgument],
    ) -> usize {
        let existing = self.groups[group]
            .entity_types
            .iter()
            .flatten()
            .filter(|e| &e.name == entity_type)
            .flat_map(|e| e.fields.fields_with_key(field.response_key()))
            .filter(|f| f.name == field.name)
            .flat_map(|f| f.arguments.iter())
            .find(|a| arguments.first().is_some_and(|first| first.name == a.name))
            .and_then(|a| match &*a.value {
                Value::Variable(v) => v
                    .strip_prefix("contextualArgument_")
                    .and_then(|rest| rest.split('_').next())
                    .and_then(|n| n.parse().ok()),
                _ => None,
            });
        existing.unwrap_or_else(|| {
            self.context_variables += 1;
            self.context_variables
        })
    }

    /// The variable `contextualArgument_<number>_<index>` of `group`, with `source` added to
    /// the places its value may come from.
    fn context_variable(
        &mut self,
        group: usize,
        number: usize,
        index: usize,
        argument: &ContextArgument,
        source: Option<ContextSource>,
    ) -> Name {
        let name = Name::new(&format!("contextualArgument_{number}_{index}"))
            .unwrap_or_else(|_| argument.name.clone());
        let contexts = &mut self.groups[group].contexts;
        let at = match contexts.iter().position(|v| v.name == name) {
            Some(at) => at,
            None => {
                contexts.push(ContextVariable {
                    name: name.clone(),
                    ty: argument.ty.clone(),
                    sources: Vec::new(),
                });
                contexts.len() - 1
            }
        };
        if let Some(source) = source {
            let sources = &mut contexts[at].sources;
            match sources
                .iter_mut()
                .find(|s| s.depth == source.depth && s.selection == source.selection)
            {
                Some(same) => {
                    for t in source.types {
                        if !same.types.contains(&t) {
                            same.types.push(t);
                        }
                    }
                }
                None => sources.push(source),
            }
            // Nearest first: the deepest ancestor that applies to an entity gives its value.
            sources.sort_by_key(|s| std::cmp::Reverse(s.depth));
        }
        name
    }
}

/// `set` with every top-level field (inside type conditions too) aliased `seam__context_<name>`:
/// a context value never shares a response key with a client field of other arguments.
fn aliased(mut set: exe::SelectionSet) -> exe::SelectionSet {
    for selection in &mut set.selections {
        match selection {
            exe::Selection::Field(field) => {
                if let Ok(alias) = Name::new(&format!("seam__context_{}", field.name)) {
                    field.make_mut().alias = Some(alias);
                }
            }
            exe::Selection::InlineFragment(fragment) => {
                let inner = aliased(fragment.selection_set.clone());
                fragment.make_mut().selection_set = inner;
            }
            exe::Selection::FragmentSpread(_) => {}
        }
    }
    set
}
