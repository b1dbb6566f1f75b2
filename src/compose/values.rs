//! Merging what flows in and out as values: enums, input objects and field arguments, and the
//! nullability rules for types that differ between subgraphs.
//!
//! Outputs take the union and the least restrictive type, since a client must be ready for what
//! any subgraph returns. Inputs take the intersection and the most restrictive type, since
//! whatever a client sends must be accepted by every subgraph it may be forwarded to.

use std::collections::HashSet;

use apollo_compiler::ast::{Directive, Type, Value};
use apollo_compiler::{Name, Node};
use indexmap::IndexMap;

use super::errors::{join_with_and, quoted_list, subgraphs_word, CompositionError, ErrorCode};
use super::merge::{merge_directives, merged_description, TypeSource};
use super::model::{JoinField, SuperEnumValue, SuperField, SuperInputValue, SuperType};
use super::subgraph::{InputValue, Subgraph};

/// Merges two types of the same shape (same named type, same list nesting), making a position
/// non-null according to `non_null(a_is_non_null, b_is_non_null)`.
fn merge_shapes(a: &Type, b: &Type, non_null: fn(bool, bool) -> bool) -> Option<Type> {
    let keep_non_null = non_null(a.is_non_null(), b.is_non_null());
    match (a, b) {
        (Type::Named(x) | Type::NonNullNamed(x), Type::Named(y) | Type::NonNullNamed(y))
            if x == y =>
        {
            Some(if keep_non_null {
                Type::NonNullNamed(x.clone())
            } else {
                Type::Named(x.clone())
            })
        }
        (Type::List(x) | Type::NonNullList(x), Type::List(y) | Type::NonNullList(y)) => {
            let item = Box::new(merge_shapes(x, y, non_null)?);
            Some(if keep_non_null {
                Type::NonNullList(item)
            } else {
                Type::List(item)
            })
        }
        _ => None,
    }
}

/// Whether the (canonically named) directives hide the element from clients.
pub(super) fn is_inaccessible(directives: &[Node<Directive>]) -> bool {
    directives
        .iter()
        .any(|directive| directive.name == "inaccessible")
}

/// For outputs: nullable wherever either type is nullable.
pub(super) fn least_restrictive(a: &Type, b: &Type) -> Option<Type> {
    merge_shapes(a, b, |a, b| a && b)
}

/// For inputs: non-null wherever either type is non-null.
pub(super) fn most_restrictive(a: &Type, b: &Type) -> Option<Type> {
    merge_shapes(a, b, |a, b| a || b)
}

/// Which named types some subgraph uses as an input (argument or input field) and which as an
/// output (field type): that decides how an enum's values merge.
#[derive(Debug, Default)]
pub(super) struct EnumUsage {
    input: HashSet<Name>,
    output: HashSet<Name>,
}

impl EnumUsage {
    pub fn collect(
        subgraphs: &[Subgraph],
        executable: &[Node<apollo_compiler::ast::DirectiveDefinition>],
    ) -> Self {
        let mut usage = EnumUsage::default();
        for ty in subgraphs
            .iter()
            .flat_map(|subgraph| subgraph.types.values())
        {
            for field in ty.fields.values() {
                usage.output.insert(field.ty.inner_named_type().clone());
                for arg in field.args.values() {
                    usage.input.insert(arg.ty.inner_named_type().clone());
                }
            }
            for field in ty.input_fields.values() {
                usage.input.insert(field.ty.inner_named_type().clone());
            }
        }
        // Arguments of the directives clients write are inputs too: a value only some subgraphs
        // know could be sent to one that does not. Only those of directives the supergraph keeps,
        // as in Apollo: one not every subgraph defines never reaches a client.
        for directive in executable {
            for arg in &directive.arguments {
                usage.input.insert(arg.ty.inner_named_type().clone());
            }
        }
        usage
    }
}

pub(super) fn merge_enum(
    merged: &mut SuperType,
    sources: &[TypeSource<'_>],
    usage: &EnumUsage,
    subgraphs: &[Subgraph],
    errors: &mut Vec<CompositionError>,
) {
    let as_input = usage.input.contains(&merged.name);
    let as_output = usage.output.contains(&merged.name);
    let mut by_value: IndexMap<&Name, Vec<usize>> = IndexMap::new();
    for (graph, ty) in sources {
        for name in ty.values.keys() {
            by_value.entry(name).or_default().push(*graph);
        }
    }
    let all_graphs: Vec<usize> = sources.iter().map(|(graph, _)| *graph).collect();
    let names_of = |graphs: &[usize]| -> Vec<&str> {
        graphs.iter().map(|g| subgraphs[*g].name.as_str()).collect()
    };

    for (value, graphs) in &by_value {
        let everywhere = graphs.len() == all_graphs.len();
        // Clients never see an inaccessible value, so they cannot send it to a subgraph that
        // lacks it: such a value is kept wherever it is defined, as Apollo does.
        let inaccessible = sources
            .iter()
            .filter_map(|(_, ty)| ty.values.get(*value))
            .any(|definition| is_inaccessible(&definition.directives));
        if !everywhere && as_input && !inaccessible {
            if as_output {
                let missing: Vec<usize> = all_graphs
                    .iter()
                    .copied()
                    .filter(|graph| !graphs.contains(graph))
                    .collect();
                errors.push(CompositionError::new(
                    ErrorCode::EnumValueMismatch,
                    format!(
                        "Enum {} is used as both an input and an output type, so its values must \
                         be the same in every subgraph, but {value} is defined in {} {} and not \
                         in {} {}",
                        merged.name,
                        subgraphs_word(graphs.len()),
                        quoted_list(&names_of(graphs)),
                        subgraphs_word(missing.len()),
                        quoted_list(&names_of(&missing)),
                    ),
                ));
            }
            // An input-only enum keeps the values every subgraph accepts.
            continue;
        }
        let definitions = sources
            .iter()
            .filter_map(|(_, ty)| ty.values.get(*value))
            .collect::<Vec<_>>();
        let mut directives = Vec::new();
        for definition in &definitions {
            merge_directives(&mut directives, &definition.directives);
        }
        merged.values.insert(
            (*value).clone(),
            SuperEnumValue {
                name: (*value).clone(),
                description: merged_description(definitions.iter().map(|d| &d.description)),
                directives,
                graphs: graphs.clone(),
            },
        );
    }

    if merged.values.is_empty() && !by_value.is_empty() && !as_output {
        errors.push(CompositionError::new(
            ErrorCode::EmptyMergedEnumType,
            format!(
                "Enum {} is used only as an input type, so it keeps only the values defined in \
                 every subgraph that defines it ({}), and none is",
                merged.name,
                quoted_list(&names_of(&all_graphs))
            ),
        ));
    }
}

pub(super) fn merge_input_object(
    merged: &mut SuperType,
    sources: &[TypeSource<'_>],
    subgraphs: &[Subgraph],
    errors: &mut Vec<CompositionError>,
) {
    let field_sources: Vec<_> = sources
        .iter()
        .map(|(graph, ty)| (*graph, &ty.input_fields))
        .collect();
    let errors_before = errors.len();
    let merged_fields = merge_input_values(
        &merged.name,
        Position::InputField,
        &field_sources,
        subgraphs,
        errors,
    );
    for (value, definitions) in merged_fields {
        let all_types_equal = definitions
            .iter()
            .all(|(_, definition)| definition.ty == definitions[0].1.ty);
        // Only an inaccessible input field can be missing from some subgraph here; its
        // `@join__field`s then say which subgraphs accept it.
        let everywhere = definitions.len() == sources.len();
        let join_fields = if all_types_equal && everywhere {
            Vec::new()
        } else {
            definitions
                .iter()
                .map(|(graph, definition)| JoinField {
                    graph: Some(*graph),
                    ty: (!all_types_equal).then(|| definition.ty.clone()),
                    ..JoinField::default()
                })
                .collect()
        };
        merged.fields.insert(
            value.name.clone(),
            SuperField {
                name: value.name,
                description: value.description,
                ty: value.ty,
                args: Vec::new(),
                default: value.default,
                directives: value.directives,
                join_fields,
            },
        );
    }
    if merged.fields.is_empty() && errors.len() == errors_before {
        let names: Vec<&str> = sources
            .iter()
            .map(|(graph, _)| subgraphs[*graph].name.as_str())
            .collect();
        errors.push(CompositionError::new(
            ErrorCode::EmptyMergedInputType,
            format!(
                "Input type {} keeps only the fields defined in every subgraph that defines it \
                 ({}), and there are none",
                merged.name,
                quoted_list(&names)
            ),
        ));
    }
}

/// Merges the arguments of one field across the subgraphs that resolve it.
pub(super) fn merge_arguments(
    coordinate: &str,
    sources: &[(usize, &IndexMap<Name, InputValue>)],
    subgraphs: &[Subgraph],
    errors: &mut Vec<CompositionError>,
) -> Vec<SuperInputValue> {
    merge_input_values(coordinate, Position::Argument, sources, subgraphs, errors)
        .into_iter()
        .map(|(value, _)| value)
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    Argument,
    InputField,
}

/// One merged argument or input field, with each subgraph's definition of it.
type MergedInputValue<'a> = (SuperInputValue, Vec<(usize, &'a InputValue)>);

/// The intersection of the arguments (or input fields) of `owner` across `sources`. A value
/// missing from some subgraph is dropped, unless another subgraph requires it: a client would
/// then have to send it, and the subgraph without it would reject the request.
fn merge_input_values<'a>(
    owner: &str,
    position: Position,
    sources: &[(usize, &'a IndexMap<Name, InputValue>)],
    subgraphs: &[Subgraph],
    errors: &mut Vec<CompositionError>,
) -> Vec<MergedInputValue<'a>> {
    let mut by_name: IndexMap<&Name, Vec<(usize, &InputValue)>> = IndexMap::new();
    for (graph, values) in sources {
        for value in values.values() {
            by_name
                .entry(&value.name)
                .or_default()
                .push((*graph, value));
        }
    }
    let names_of = |definitions: &[(usize, &InputValue)]| -> Vec<&str> {
        definitions
            .iter()
            .map(|(graph, _)| subgraphs[*graph].name.as_str())
            .collect()
    };
    let (what, coordinate_of): (&str, fn(&str, &Name) -> String) = match position {
        Position::Argument => ("Argument", |owner, name| format!("{owner}({name}:)")),
        Position::InputField => ("Input field", |owner, name| format!("{owner}.{name}")),
    };

    let mut merged = Vec::new();
    for (name, definitions) in by_name {
        let coordinate = coordinate_of(owner, name);
        // Clients cannot send an inaccessible input field, so it may be missing from some
        // subgraphs (Apollo keeps it); an inaccessible argument is still dropped unless every
        // subgraph has it.
        let kept_anyway = position == Position::InputField
            && definitions
                .iter()
                .any(|(_, definition)| is_inaccessible(&definition.directives));
        if definitions.len() < sources.len() && !kept_anyway {
            let required: Vec<(usize, &InputValue)> = definitions
                .iter()
                .copied()
                .filter(|(_, definition)| definition.is_required())
                .collect();
            if !required.is_empty() {
                let missing: Vec<&str> = sources
                    .iter()
                    .filter(|(graph, _)| !definitions.iter().any(|(g, _)| g == graph))
                    .map(|(graph, _)| subgraphs[*graph].name.as_str())
                    .collect();
                let code = match position {
                    Position::Argument => ErrorCode::RequiredArgumentMissingInSomeSubgraph,
                    Position::InputField => ErrorCode::RequiredInputFieldMissingInSomeSubgraph,
                };
                errors.push(CompositionError::new(
                    code,
                    format!(
                        "{what} {coordinate} is required in {} {} but missing in {} {}; \
                         a required {} must be defined in every subgraph",
                        subgraphs_word(required.len()),
                        quoted_list(&names_of(&required)),
                        subgraphs_word(missing.len()),
                        quoted_list(&missing),
                        what.to_lowercase()
                    ),
                ));
            }
            continue;
        }

        let mut ty = definitions[0].1.ty.clone();
        let mut compatible = true;
        for (_, definition) in &definitions[1..] {
            match most_restrictive(&ty, &definition.ty) {
                Some(merged_ty) => ty = merged_ty,
                None => compatible = false,
            }
        }
        if !compatible {
            let types: Vec<String> = definitions.iter().map(|(_, d)| d.ty.to_string()).collect();
            let code = match position {
                Position::Argument => ErrorCode::FieldArgumentTypeMismatch,
                Position::InputField => ErrorCode::FieldTypeMismatch,
            };
            errors.push(CompositionError::new(
                code,
                format!(
                    "{what} {coordinate} is defined in {} {} with types {}, which are \
                     incompatible: they may differ only in nullability",
                    subgraphs_word(definitions.len()),
                    quoted_list(&names_of(&definitions)),
                    join_with_and(&types)
                ),
            ));
            continue;
        }

        let mut defaults: Vec<(usize, String)> = Vec::new();
        for (graph, definition) in &definitions {
            if let Some(default) = &definition.default {
                defaults.push((*graph, default.serialize().no_indent().to_string()));
            }
        }
        let canonical: Vec<String> = definitions
            .iter()
            .filter_map(|(_, d)| d.default.as_ref())
            .map(|value| canonical_value(value))
            .collect();
        if canonical.iter().any(|value| *value != canonical[0]) {
            let listed: Vec<String> = defaults
                .iter()
                .map(|(graph, value)| format!("{value} in \"{}\"", subgraphs[*graph].name))
                .collect();
            let code = match position {
                Position::Argument => ErrorCode::ArgumentDefaultMismatch,
                Position::InputField => ErrorCode::InputFieldDefaultMismatch,
            };
            errors.push(CompositionError::new(
                code,
                format!(
                    "{what} {coordinate} has different default values: {}",
                    join_with_and(&listed)
                ),
            ));
            continue;
        }

        let mut directives = Vec::new();
        for (_, definition) in &definitions {
            merge_directives(&mut directives, &definition.directives);
        }
        // A default only some subgraphs have is left out, as Apollo does: the gateway forwards
        // what the client sent, so the subgraphs without it would not see the advertised value.
        let default = if defaults.len() == definitions.len() {
            definitions[0].1.default.clone()
        } else {
            None
        };
        let value = SuperInputValue {
            name: name.clone(),
            description: merged_description(definitions.iter().map(|(_, d)| &d.description)),
            ty,
            default,
            directives,
        };
        merged.push((value, definitions));
    }
    merged
}

/// A default value written so that equal values read alike: numbers by their value (`1` and
/// `1.0` for a `Float`), input object fields in name order. Subgraphs written by different
/// people (or tools) spell one default differently; only different values are a conflict.
fn canonical_value(value: &Value) -> String {
    // Integers as their digits (a custom scalar may hold more than an f64 keeps exactly).
    let integer = |text: &str| match text.strip_prefix('-') {
        Some(digits) if digits.bytes().all(|b| b == b'0') => "0".to_owned(),
        _ => text.to_owned(),
    };
    match value {
        Value::Int(int) => integer(int.as_str()),
        Value::Float(float) => match float.try_to_f64() {
            Ok(n) if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 => {
                integer(&format!("{n:.0}"))
            }
            Ok(n) => n.to_string(),
            Err(_) => float.as_str().to_owned(),
        },
        Value::List(items) => {
            let items: Vec<String> = items.iter().map(|item| canonical_value(item)).collect();
            format!("[{}]", items.join(","))
        }
        Value::Object(fields) => {
            let mut fields: Vec<String> = fields
                .iter()
                .map(|(name, value)| format!("{name}:{}", canonical_value(value)))
                .collect();
            fields.sort();
            format!("{{{}}}", fields.join(","))
        }
        other => other.serialize().no_indent().to_string(),
    }
}
