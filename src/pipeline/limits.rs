//! Structural limits on an operation: depth, aliases, root fields, directives and fields, each
//! counted as if every fragment spread were replaced by its fragment.
//!
//! The check runs on the parsed document *before* validation, because validation and planning
//! are what an oversized operation attacks: so it must cope with what validation would refuse.
//! An unknown fragment counts as empty and a spread that closes a fragment cycle counts as
//! empty (validation reports both), so the walk always ends.
//!
//! Nothing is ever expanded: each fragment's counts are computed once, from the counts of the
//! fragments it spreads, and a spread adds them in. A kilobyte of fragments that each spread
//! the next one twice describes 2^30 fields; it is measured in time linear in the document's
//! size and refused. Counts saturate instead of overflowing.

use std::collections::{HashMap, HashSet};

use apollo_compiler::ast::{
    Definition, Document, FragmentDefinition, OperationDefinition, Selection,
};

use crate::config::limits::{Limit, LimitsConfig};
use crate::response::GraphqlError;

/// What an operation would amount to with its fragments expanded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct OperationShape {
    /// Nesting of the deepest field; a root field is at depth 1.
    pub depth: u64,
    pub aliases: u64,
    /// Fields selected directly at the root, through inline fragments and spreads.
    pub root_fields: u64,
    /// Directive applications: on the operation, its variables, fields, fragments and spreads.
    pub directives: u64,
    pub fields: u64,
}

/// A limit an operation went beyond, with what was measured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LimitExceeded {
    #[error("the operation is nested {} levels deep; the limit is {max}", Measured(*.measured))]
    Depth { measured: u64, max: u64 },
    #[error("the operation has {} aliases; the limit is {max}", Measured(*.measured))]
    Aliases { measured: u64, max: u64 },
    #[error("the operation selects {} root fields; the limit is {max}", Measured(*.measured))]
    RootFields { measured: u64, max: u64 },
    #[error("the operation applies {} directives; the limit is {max}", Measured(*.measured))]
    Directives { measured: u64, max: u64 },
    #[error(
        "the operation selects {} fields with its fragments expanded; the limit is {max}",
        Measured(*.measured)
    )]
    Fields { measured: u64, max: u64 },
}

impl LimitExceeded {
    pub(crate) fn code(&self) -> &'static str {
        match self {
            LimitExceeded::Depth { .. } => "MAX_DEPTH_LIMIT",
            LimitExceeded::Aliases { .. } => "MAX_ALIASES_LIMIT",
            LimitExceeded::RootFields { .. } => "MAX_ROOT_FIELDS_LIMIT",
            LimitExceeded::Directives { .. } => "MAX_DIRECTIVES_LIMIT",
            LimitExceeded::Fields { .. } => "MAX_FIELDS_LIMIT",
        }
    }
}

impl From<LimitExceeded> for GraphqlError {
    fn from(exceeded: LimitExceeded) -> Self {
        GraphqlError::new(exceeded.to_string(), exceeded.code())
    }
}

/// A saturated count is shown as what it is known to be: more than can be counted.
struct Measured(u64);

impl std::fmt::Display for Measured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 == u64::MAX {
            f.write_str("over 10^19")
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// Checks the operation `operation_name` selects (the only one, when `None`) against `limits`.
/// A document whose operation cannot be selected passes: validation reports that.
pub(crate) fn check_operation_limits(
    document: &Document,
    operation_name: Option<&str>,
    limits: &LimitsConfig,
) -> Result<OperationShape, GraphqlError> {
    let Some(operation) = select_operation(document, operation_name) else {
        return Ok(OperationShape::default());
    };
    let shape = measure(document, operation);
    check_shape(&shape, limits)?;
    Ok(shape)
}

fn check_shape(shape: &OperationShape, limits: &LimitsConfig) -> Result<(), LimitExceeded> {
    let over = |limit: Limit, measured: u64| match limit {
        Limit::Max(max) if measured > max => Some(max),
        _ => None,
    };
    if let Some(max) = over(limits.max_depth, shape.depth) {
        return Err(LimitExceeded::Depth {
            measured: shape.depth,
            max,
        });
    }
    if let Some(max) = over(limits.max_root_fields, shape.root_fields) {
        return Err(LimitExceeded::RootFields {
            measured: shape.root_fields,
            max,
        });
    }
    if let Some(max) = over(limits.max_aliases, shape.aliases) {
        return Err(LimitExceeded::Aliases {
            measured: shape.aliases,
            max,
        });
    }
    if let Some(max) = over(limits.max_directives, shape.directives) {
        return Err(LimitExceeded::Directives {
            measured: shape.directives,
            max,
        });
    }
    if let Some(max) = over(limits.max_fields, shape.fields) {
        return Err(LimitExceeded::Fields {
            measured: shape.fields,
            max,
        });
    }
    Ok(())
}

fn select_operation<'a>(
    document: &'a Document,
    operation_name: Option<&str>,
) -> Option<&'a OperationDefinition> {
    let mut operations = document.definitions.iter().filter_map(|d| match d {
        Definition::OperationDefinition(operation) => Some(&**operation),
        _ => None,
    });
    match operation_name {
        Some(name) => operations.find(|o| o.name.as_ref().is_some_and(|n| n == name)),
        None => {
            let first = operations.next()?;
            operations.next().is_none().then_some(first)
        }
    }
}

/// The operation's shape with fragments expanded, computed without expanding them.
pub(crate) fn measure(document: &Document, operation: &OperationDefinition) -> OperationShape {
    let fragments = fragment_definitions(document);
    let shapes = fragment_shapes(&fragments, &operation.selection_set);
    let body = selection_set_shape(&operation.selection_set, &shapes);
    let own_directives = operation.directives.len() as u64
        + operation
            .variables
            .iter()
            .map(|v| v.directives.len() as u64)
            .sum::<u64>();
    OperationShape {
        depth: body.depth,
        aliases: body.aliases,
        root_fields: body.level_fields,
        directives: body.directives.saturating_add(own_directives),
        fields: body.fields,
    }
}

/// The counts of one selection set as expanded; `level_fields` are its own level's fields.
#[derive(Debug, Clone, Copy, Default)]
struct SetShape {
    depth: u64,
    aliases: u64,
    level_fields: u64,
    directives: u64,
    fields: u64,
}

impl SetShape {
    /// Adds a set that is merged into this level (an inline fragment or a spread fragment).
    fn absorb(&mut self, other: &SetShape) {
        self.depth = self.depth.max(other.depth);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.level_fields = self.level_fields.saturating_add(other.level_fields);
        self.directives = self.directives.saturating_add(other.directives);
        self.fields = self.fields.saturating_add(other.fields);
    }
}

/// Fragments by name; of duplicates (a validation error) the first counts.
fn fragment_definitions(document: &Document) -> HashMap<&str, &FragmentDefinition> {
    let mut fragments = HashMap::new();
    for definition in &document.definitions {
        if let Definition::FragmentDefinition(fragment) = definition {
            fragments
                .entry(fragment.name.as_str())
                .or_insert(&**fragment);
        }
    }
    fragments
}

/// The expanded shape of every fragment reachable from `root`, each computed once, children
/// before parents. The walk over spreads keeps its own stack: a chain of thousands of
/// fragments must not become thousands of nested calls.
fn fragment_shapes<'a>(
    fragments: &HashMap<&'a str, &'a FragmentDefinition>,
    root: &'a [Selection],
) -> HashMap<&'a str, SetShape> {
    // Fragments the walk has reached. One reached again while still on the stack closes a
    // cycle: it has no shape yet, so that spread counts as empty.
    let mut reached: HashSet<&str> = HashSet::new();
    let mut shapes: HashMap<&str, SetShape> = HashMap::new();
    // Each entry: a fragment and the fragments it spreads that are still to be visited.
    let mut stack: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut roots = Vec::new();
    collect_spreads(root, &mut roots);
    for start in roots {
        if !fragments.contains_key(start) || !reached.insert(start) {
            continue;
        }
        stack.push((start, spreads_of(fragments, start)));
        while let Some((name, pending)) = stack.last_mut() {
            let name = *name;
            match pending.pop() {
                Some(child) => {
                    if fragments.contains_key(child) && reached.insert(child) {
                        let grandchildren = spreads_of(fragments, child);
                        stack.push((child, grandchildren));
                    }
                }
                None => {
                    stack.pop();
                    if let Some(fragment) = fragments.get(name) {
                        let mut shape = selection_set_shape(&fragment.selection_set, &shapes);
                        shape.directives = shape
                            .directives
                            .saturating_add(fragment.directives.len() as u64);
                        shapes.insert(name, shape);
                    }
                }
            }
        }
    }
    shapes
}

fn spreads_of<'a>(
    fragments: &HashMap<&'a str, &'a FragmentDefinition>,
    name: &str,
) -> Vec<&'a str> {
    let mut spreads = Vec::new();
    if let Some(fragment) = fragments.get(name) {
        collect_spreads(&fragment.selection_set, &mut spreads);
    }
    spreads
}

/// The names of the fragments spread anywhere in `selections` (nesting is bounded by the
/// parser's recursion limit, so recursing over it is safe).
fn collect_spreads<'a>(selections: &'a [Selection], out: &mut Vec<&'a str>) {
    for selection in selections {
        match selection {
            Selection::Field(field) => collect_spreads(&field.selection_set, out),
            Selection::InlineFragment(inline) => collect_spreads(&inline.selection_set, out),
            Selection::FragmentSpread(spread) => out.push(spread.fragment_name.as_str()),
        }
    }
}

/// The expanded counts of `selections`, taking each spread fragment's counts from `shapes`
/// (absent for an unknown fragment or one that closes a cycle: it counts as empty).
fn selection_set_shape(selections: &[Selection], shapes: &HashMap<&str, SetShape>) -> SetShape {
    let mut shape = SetShape::default();
    for selection in selections {
        match selection {
            Selection::Field(field) => {
                let inner = selection_set_shape(&field.selection_set, shapes);
                shape.depth = shape.depth.max(inner.depth.saturating_add(1));
                shape.aliases = shape
                    .aliases
                    .saturating_add(u64::from(field.alias.is_some()))
                    .saturating_add(inner.aliases);
                shape.level_fields = shape.level_fields.saturating_add(1);
                shape.directives = shape
                    .directives
                    .saturating_add(field.directives.len() as u64)
                    .saturating_add(inner.directives);
                shape.fields = shape.fields.saturating_add(1).saturating_add(inner.fields);
            }
            Selection::InlineFragment(inline) => {
                let inner = selection_set_shape(&inline.selection_set, shapes);
                shape.absorb(&inner);
                shape.directives = shape
                    .directives
                    .saturating_add(inline.directives.len() as u64);
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = shapes.get(spread.fragment_name.as_str()) {
                    shape.absorb(fragment);
                }
                shape.directives = shape
                    .directives
                    .saturating_add(spread.directives.len() as u64);
            }
        }
    }
    shape
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
