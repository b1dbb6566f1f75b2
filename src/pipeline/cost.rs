//! Demand control: an operation's estimated cost, computed from the schema's `@cost` and
//! `@listSize` before any subgraph is called, and the check that refuses operations estimated
//! above `limits.cost.max`.
//!
//! The estimate follows Apollo Router's "static estimated" strategy, itself IBM's GraphQL cost
//! directive specification, so an operation costs the same behind Seam and behind Apollo:
//!
//! - An operation costs its fields, plus 10 for a mutation.
//! - A field costs `items × (weight + its selections) + its arguments`. Its weight is its own
//!   `@cost`, else its type's, else 1 for objects, interfaces and unions and 0 for scalars and
//!   enums. `items` is 1, or for a list: the size its parent's `@listSize(sizedFields:)` gives
//!   it, else its own `@listSize` (the largest slicing argument given, else `assumedSize`), else
//!   the configured `list_size`. So nested lists multiply.
//! - An argument costs its `@cost` (or its type's), 0 without one; an input object 1 (or its
//!   `@cost`) plus its fields; a list the sum of its items; `null` nothing. Variables are
//!   costed by their values.
//! - Fragments, named or inline, add their fields: on an abstract type every fragment counts,
//!   which bounds whichever type the object turns out to be.
//! - `__typename` and introspection cost nothing (the gateway answers them); nor do fields and
//!   fragments `@skip`/`@include` leave out.
//!
//! Where Apollo's estimator and GraphQL disagree, GraphQL wins: an argument given as a variable
//! the request leaves out takes the field's default, and an explicit `null` is no size.
//!
//! The estimate walks each named fragment once (per list size it is sized with) and remembers
//! the result, never expanding spreads, so its work is linear in the document: a fragment spread
//! twice per level over thirty levels stands for 2^30 fields but costs thirty walks. Arithmetic
//! saturates at `f64::MAX`, so no document makes the estimate overflow to infinity.

// The pipeline calls `check` once the request path moves into `src/pipeline/`; until then only
// the tests do.

use std::collections::HashMap;

use apollo_compiler::ast::{DirectiveList, OperationType, Value as AstValue};
use apollo_compiler::executable::{Field, Operation, Selection, SelectionSet};
use apollo_compiler::{ExecutableDocument, Name, Node};
use serde_json::{Map, Value as JsonValue};

use crate::config::CostConfig;
use crate::response::{GraphqlError, Location};
use crate::supergraph::{CostModel, FieldCost, ListSize, SizedField};

/// What a mutation costs before its fields, as in Apollo Router: mutations change state, so
/// even a cheap-looking one is worth more than a read.
const MUTATION_BASE_COST: f64 = 10.0;

/// Why an operation is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum CostError {
    #[error(
        "the operation's estimated cost is {estimated}, above the maximum of {max} \
         (limits.cost.max)"
    )]
    TooExpensive { estimated: f64, max: u64 },
    /// `@listSize(requireOneSlicingArgument: true)`: the field must be given exactly one of its
    /// slicing arguments, or its size is a guess the schema forbids.
    #[error(
        "{coordinate} needs exactly one of its slicing arguments ({arguments}), but {given} \
         given; pass one to say how many items you want"
    )]
    SlicingArguments {
        coordinate: String,
        arguments: String,
        given: usize,
        location: Option<Location>,
    },
}

impl CostError {
    /// Codes as Apollo Router sends them, so clients and dashboards that know its refusals
    /// recognise ours.
    pub(crate) fn to_graphql_error(&self) -> GraphqlError {
        match self {
            CostError::TooExpensive { estimated, max } => {
                GraphqlError::new(self.to_string(), "COST_ESTIMATED_TOO_EXPENSIVE")
                    .with_extension("cost.estimated", *estimated)
                    .with_extension("cost.max", *max)
            }
            CostError::SlicingArguments { location, .. } => {
                let mut error = GraphqlError::new(self.to_string(), "COST_QUERY_PARSE_FAILURE");
                error.locations = location.clone().map(|location| vec![location]);
                error
            }
        }
    }
}

/// The demand-control stage: nothing when `limits.cost` is off; the refusal when the operation
/// is estimated too expensive; else what `expose` adds to the response's `extensions`.
pub(super) fn demand_control(
    planned: &crate::plan::PlannedOperation,
    supergraph: &crate::supergraph::Supergraph,
    variables: &Map<String, JsonValue>,
    config: &CostConfig,
) -> Result<Option<Map<String, JsonValue>>, GraphqlError> {
    if !config.enabled() {
        return Ok(None);
    }
    let estimated = check(
        &planned.document,
        &planned.operation,
        &supergraph.cost,
        variables,
        config,
    )?;
    Ok(config.expose.then(|| exposed_extensions(estimated, config)))
}

/// The estimated cost of `operation`, or the request error that refuses it: estimated above
/// `config.max`, or a field without the one slicing argument its `@listSize` requires.
/// `variables` are the request's coerced variables.
pub(crate) fn check(
    document: &ExecutableDocument,
    operation: &Operation,
    model: &CostModel,
    variables: &Map<String, JsonValue>,
    config: &CostConfig,
) -> Result<f64, GraphqlError> {
    let estimated = estimate(document, operation, model, variables, config.list_size)
        .map_err(|error| error.to_graphql_error())?;
    match config.max {
        Some(max) if estimated > max as f64 => {
            Err(CostError::TooExpensive { estimated, max }.to_graphql_error())
        }
        _ => Ok(estimated),
    }
}

/// What `limits.cost.expose` adds to a response's `extensions`: the estimate, and the maximum
/// when there is one, under the keys Apollo Router gives them in its refusals.
pub(crate) fn exposed_extensions(estimated: f64, config: &CostConfig) -> Map<String, JsonValue> {
    let mut extensions = Map::new();
    extensions.insert("cost.estimated".into(), estimated.into());
    if let Some(max) = config.max {
        extensions.insert("cost.max".into(), max.into());
    }
    extensions
}

/// The estimated cost of `operation` (see the module documentation for the rules).
/// `default_list_size` is assumed for lists the schema gives no `@listSize`.
pub(crate) fn estimate(
    document: &ExecutableDocument,
    operation: &Operation,
    model: &CostModel,
    variables: &Map<String, JsonValue>,
    default_list_size: u32,
) -> Result<f64, CostError> {
    let mut estimator = Estimator {
        document,
        model,
        variables,
        default_list_size: f64::from(default_list_size),
        fragments: HashMap::new(),
    };
    let base = match operation.operation_type {
        OperationType::Mutation => MUTATION_BASE_COST,
        OperationType::Query | OperationType::Subscription => 0.0,
    };
    let fields = estimator.selection_set(&operation.selection_set, None)?;
    Ok(add(base, fields))
}

/// The size a field's `@listSize(sizedFields:)` gives the fields of its selection (a
/// connection's `edges`), carried into the fragments of that selection.
#[derive(Clone, Copy)]
struct Sizing<'a> {
    fields: &'a [SizedField],
    size: f64,
}

impl<'a> Sizing<'a> {
    fn entry(self, name: &str) -> Option<&'a SizedField> {
        self.fields.iter().find(|sized| sized.name == name)
    }

    /// Identifies the sizing for the fragment memo: which `sizedFields` and which size.
    fn key(self) -> SizingKey {
        (self.fields.as_ptr() as usize, self.size.to_bits())
    }
}

/// The address of a `sizedFields` list and the bits of a size.
type SizingKey = (usize, u64);

struct Estimator<'a> {
    document: &'a ExecutableDocument,
    model: &'a CostModel,
    variables: &'a Map<String, JsonValue>,
    default_list_size: f64,
    /// Each named fragment's cost, per sizing it was walked under: a fragment spread many times
    /// is walked once.
    fragments: HashMap<(&'a Name, Option<SizingKey>), f64>,
}

impl<'a> Estimator<'a> {
    fn selection_set(
        &mut self,
        set: &'a SelectionSet,
        sizing: Option<Sizing<'a>>,
    ) -> Result<f64, CostError> {
        let mut total = 0.0;
        for selection in &set.selections {
            let cost = match selection {
                Selection::Field(field) if !self.skipped(&field.directives) => {
                    self.field(&set.ty, field, sizing)?
                }
                Selection::InlineFragment(inline) if !self.skipped(&inline.directives) => {
                    self.selection_set(&inline.selection_set, sizing)?
                }
                Selection::FragmentSpread(spread) if !self.skipped(&spread.directives) => {
                    self.fragment(&spread.fragment_name, sizing)?
                }
                _ => 0.0,
            };
            total = add(total, cost);
        }
        Ok(total)
    }

    fn fragment(&mut self, name: &'a Name, sizing: Option<Sizing<'a>>) -> Result<f64, CostError> {
        let key = (name, sizing.map(Sizing::key));
        if let Some(cost) = self.fragments.get(&key) {
            return Ok(*cost);
        }
        // Validation guarantees the fragment exists; a missing one would contribute nothing.
        let Some(fragment) = self.document.fragments.get(name) else {
            return Ok(0.0);
        };
        let cost = self.selection_set(&fragment.selection_set, sizing)?;
        self.fragments.insert(key, cost);
        Ok(cost)
    }

    fn field(
        &mut self,
        parent: &Name,
        field: &'a Node<Field>,
        sizing: Option<Sizing<'a>>,
    ) -> Result<f64, CostError> {
        if field.name.starts_with("__") {
            return Ok(0.0);
        }
        let cost = self.model.field(parent, &field.name);
        let list_size = cost.and_then(|cost| cost.list_size.as_ref());
        let own_size = match list_size {
            Some(list_size) => self.expected_size(parent, field, list_size)?,
            None => None,
        };
        let sized_here = sizing.and_then(|sizing| sizing.entry(&field.name));
        let ty = &field.definition.ty;
        let items = if !ty.is_list() {
            1.0
        } else {
            sized_here
                .filter(|sized| sized.nested.is_empty())
                .and(sizing.map(|sizing| sizing.size))
                .or(own_size)
                .unwrap_or(self.default_list_size)
        };
        let weight = cost
            .and_then(|cost| cost.weight)
            .or_else(|| self.model.type_weight(ty.inner_named_type()))
            .unwrap_or(if field.selection_set.selections.is_empty() {
                0.0
            } else {
                1.0
            });
        let child_sizing = match (list_size, own_size) {
            (Some(list_size), Some(size)) if !list_size.sized_fields.is_empty() => Some(Sizing {
                fields: &list_size.sized_fields,
                size,
            }),
            _ => sized_here
                .filter(|sized| !sized.nested.is_empty())
                .zip(sizing)
                .map(|(sized, sizing)| Sizing {
                    fields: &sized.nested,
                    size: sizing.size,
                }),
        };
        let selections = self.selection_set(&field.selection_set, child_sizing)?;
        let arguments = self.arguments(field, cost);
        Ok(add(mul(items, add(weight, selections)), arguments))
    }

    /// The size a field's own `@listSize` gives it: the largest slicing argument given, else
    /// the assumed size.
    fn expected_size(
        &self,
        parent: &Name,
        field: &Node<Field>,
        list_size: &ListSize,
    ) -> Result<Option<f64>, CostError> {
        let mut given = 0;
        let mut largest: Option<f64> = None;
        for path in &list_size.slicing_arguments {
            if let Some(size) = self.slicing_value(field, path) {
                given += 1;
                largest = Some(largest.map_or(size, |largest: f64| largest.max(size)));
            }
        }
        if list_size.require_one_slicing_argument
            && !list_size.slicing_arguments.is_empty()
            && given != 1
        {
            let arguments: Vec<String> = list_size
                .slicing_arguments
                .iter()
                .map(|path| path_text(path))
                .collect();
            return Err(CostError::SlicingArguments {
                coordinate: format!("{parent}.{}", field.name),
                arguments: arguments.join(", "),
                given,
                location: field
                    .line_column_range(&self.document.sources)
                    .map(|range| Location {
                        line: range.start.line,
                        column: range.start.column,
                    }),
            });
        }
        Ok(largest.or(list_size.assumed_size.map(f64::from)))
    }

    /// The size a slicing argument asks for, when it is given: as GraphQL coerces arguments, an
    /// argument left out, or given as a variable the request leaves out, takes the field's
    /// default; `null` asks for no size.
    fn slicing_value(&self, field: &Node<Field>, path: &[Name]) -> Option<f64> {
        let (argument, rest) = path.split_first()?;
        let given = field
            .arguments
            .iter()
            .find(|given| given.name == *argument)
            .map(|given| given.value.as_ref())
            .filter(|value| match value {
                AstValue::Variable(name) => self.variables.contains_key(name.as_str()),
                _ => true,
            });
        match given {
            Some(value) => self.ast_size(value, rest),
            None => {
                let definition = field.definition.argument_by_name(argument)?;
                self.ast_size(definition.default_value.as_deref()?, rest)
            }
        }
    }

    fn ast_size(&self, value: &AstValue, path: &[Name]) -> Option<f64> {
        match (value, path.split_first()) {
            (AstValue::Variable(name), _) => json_size(self.variables.get(name.as_str())?, path),
            (AstValue::Object(fields), Some((next, rest))) => {
                let (_, inner) = fields.iter().find(|(name, _)| name == next)?;
                self.ast_size(inner, rest)
            }
            (AstValue::Int(int), None) => int.try_to_f64().ok().map(|size| size.max(0.0)),
            (AstValue::List(items), None) => Some(items.len() as f64),
            _ => None,
        }
    }

    fn arguments(&self, field: &Node<Field>, cost: Option<&FieldCost>) -> f64 {
        let mut total = 0.0;
        for argument in &field.arguments {
            let Some(definition) = field.definition.argument_by_name(&argument.name) else {
                continue;
            };
            let type_name = definition.ty.inner_named_type();
            let weight = cost
                .and_then(|cost| cost.arguments.get(&argument.name).copied())
                .or_else(|| self.model.type_weight(type_name));
            total = add(total, self.ast_input(&argument.value, type_name, weight));
        }
        total
    }

    /// What an argument value (or an input field's) costs: `weight` is its `@cost` or its type's.
    fn ast_input(&self, value: &AstValue, type_name: &str, weight: Option<f64>) -> f64 {
        match value {
            AstValue::Null => 0.0,
            AstValue::Variable(name) => self
                .variables
                .get(name.as_str())
                .map_or(0.0, |value| self.json_input(value, type_name, weight)),
            AstValue::List(items) => items.iter().fold(weight.unwrap_or(0.0), |total, item| {
                add(total, self.ast_input(item, type_name, weight))
            }),
            AstValue::Object(fields) => match self.model.input_fields(type_name) {
                Some(definitions) => {
                    fields
                        .iter()
                        .fold(weight.unwrap_or(1.0), |total, (name, value)| {
                            let Some(definition) = definitions.get(name) else {
                                return total;
                            };
                            let weight = definition
                                .weight
                                .or_else(|| self.model.type_weight(&definition.type_name));
                            add(total, self.ast_input(value, &definition.type_name, weight))
                        })
                }
                // An object given to a custom scalar (JSON, say) is one scalar value.
                None => weight.unwrap_or(0.0),
            },
            _ => weight.unwrap_or(0.0),
        }
    }

    /// [`Estimator::ast_input`] for a variable's JSON value.
    fn json_input(&self, value: &JsonValue, type_name: &str, weight: Option<f64>) -> f64 {
        match value {
            JsonValue::Null => 0.0,
            JsonValue::Array(items) => items.iter().fold(weight.unwrap_or(0.0), |total, item| {
                add(total, self.json_input(item, type_name, weight))
            }),
            JsonValue::Object(fields) => match self.model.input_fields(type_name) {
                Some(definitions) => {
                    fields
                        .iter()
                        .fold(weight.unwrap_or(1.0), |total, (name, value)| {
                            let Some(definition) = definitions.get(name.as_str()) else {
                                return total;
                            };
                            let weight = definition
                                .weight
                                .or_else(|| self.model.type_weight(&definition.type_name));
                            add(total, self.json_input(value, &definition.type_name, weight))
                        })
                }
                None => weight.unwrap_or(0.0),
            },
            _ => weight.unwrap_or(0.0),
        }
    }

    /// Whether `@skip`/`@include` leave the selection out for this request's variables.
    fn skipped(&self, directives: &DirectiveList) -> bool {
        directives.iter().any(|directive| {
            let condition =
                directive
                    .specified_argument_by_name("if")
                    .and_then(|value| match value.as_ref() {
                        AstValue::Boolean(value) => Some(*value),
                        AstValue::Variable(name) => self.variables.get(name.as_str())?.as_bool(),
                        _ => None,
                    });
            match directive.name.as_str() {
                "skip" => condition == Some(true),
                "include" => condition == Some(false),
                _ => false,
            }
        })
    }
}

/// [`Estimator::ast_size`] for a variable's JSON value.
fn json_size(value: &JsonValue, path: &[Name]) -> Option<f64> {
    match (value, path.split_first()) {
        (JsonValue::Object(fields), Some((next, rest))) => {
            json_size(fields.get(next.as_str())?, rest)
        }
        (JsonValue::Number(number), None) => number.as_f64().map(|size| size.max(0.0)),
        (JsonValue::Array(items), None) => Some(items.len() as f64),
        _ => None,
    }
}

fn path_text(path: &[Name]) -> String {
    path.iter().map(Name::as_str).collect::<Vec<_>>().join(".")
}

/// Addition that saturates at `±f64::MAX` instead of reaching infinity (whose product with a
/// zero-size list would be NaN).
fn add(a: f64, b: f64) -> f64 {
    (a + b).clamp(-f64::MAX, f64::MAX)
}

/// Multiplication that saturates at `±f64::MAX`.
fn mul(a: f64, b: f64) -> f64 {
    (a * b).clamp(-f64::MAX, f64::MAX)
}

#[cfg(test)]
mod tests;
