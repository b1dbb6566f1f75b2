//! Default values after merging. A default written in one subgraph may name an enum value or an
//! input field the merge left out (enums used as inputs keep only the values every subgraph has,
//! input objects only the fields every subgraph has), and then it could not be coerced: clients
//! would see a default the API schema itself rejects. Apollo refuses such a supergraph as invalid
//! GraphQL; so does Seam, naming the default and what it uses.

use apollo_compiler::ast::{Type, Value};

use super::errors::{CompositionError, ErrorCode};
use super::model::{SuperType, Supergraph};
use super::subgraph::TypeKind;

pub(super) fn check(supergraph: &Supergraph, errors: &mut Vec<CompositionError>) {
    let mut check = |owner: String, value: &Value, ty: &Type| {
        if let Some(problem) = problem(supergraph, value, ty) {
            errors.push(CompositionError::new(
                ErrorCode::InvalidGraphql,
                format!(
                    "Invalid default value of {owner}: {problem}, which not every subgraph \
                     defines, so the merged schema left it out"
                ),
            ));
        }
    };
    for ty in &supergraph.types {
        for field in ty.fields.values() {
            if let Some(default) = &field.default {
                check(format!("{}.{}", ty.name, field.name), default, &field.ty);
            }
            for arg in &field.args {
                if let Some(default) = &arg.default {
                    let owner = format!("{}.{}({}:)", ty.name, field.name, arg.name);
                    check(owner, default, &arg.ty);
                }
            }
        }
    }
    for directive in &supergraph.executable {
        for arg in &directive.arguments {
            if let Some(default) = &arg.default_value {
                check(
                    format!("@{}({}:)", directive.name, arg.name),
                    default,
                    &arg.ty,
                );
            }
        }
    }
}

/// What in `value` the merged type `ty` no longer has, if anything.
fn problem(supergraph: &Supergraph, value: &Value, ty: &Type) -> Option<String> {
    match (value, ty) {
        (Value::List(items), Type::List(item) | Type::NonNullList(item)) => items
            .iter()
            .find_map(|value| problem(supergraph, value, item)),
        // A single value is coerced to a one-item list.
        (_, Type::List(item) | Type::NonNullList(item)) => problem(supergraph, value, item),
        (Value::Enum(name), _) => {
            let ty = named(supergraph, ty, TypeKind::Enum)?;
            (!ty.values.contains_key(name)).then(|| format!("it uses {}.{name}", ty.name))
        }
        (Value::Object(entries), _) => {
            let ty = named(supergraph, ty, TypeKind::InputObject)?;
            entries
                .iter()
                .find_map(|(key, value)| match ty.fields.get(key) {
                    None => Some(format!("it sets {}.{key}", ty.name)),
                    Some(field) => problem(supergraph, value, &field.ty),
                })
        }
        _ => None,
    }
}

fn named<'s>(supergraph: &'s Supergraph, ty: &Type, kind: TypeKind) -> Option<&'s SuperType> {
    let name = ty.inner_named_type();
    supergraph
        .types
        .iter()
        .find(|t| &t.name == name && t.kind == kind)
}
