//! What `@external` means in each subgraph. This runs once every subgraph is parsed, because the
//! Federation 1 rules look at the other subgraphs.
//!
//! Apollo upgrades each Federation 1 subgraph to Federation 2 before merging; the parts of that
//! upgrade that change the supergraph are done here: a type extension must extend a type some
//! subgraph defines, the key fields of an extension are the extension's own, `@external` on
//! interface fields is dropped, `@requires`/`@provides` lose the fields the subgraph resolves
//! itself, and `@external` fields nothing uses are removed. A Federation 2 subgraph gets errors
//! instead for `@external` on interface fields and for unused `@external` fields, as in Apollo.

use std::collections::HashSet;

use apollo_compiler::Name;

use super::errors::{CompositionError, ErrorCode};
use super::fieldset::{top_level_fields, without_own_leaf_fields};
use super::subgraph::{FieldCoordinate, Subgraph, SubgraphType, TypeKind};

pub(crate) fn normalise(subgraphs: &mut [Subgraph], errors: &mut Vec<CompositionError>) {
    check_extensions_have_a_base(subgraphs, errors);
    let resolvable = resolvable_key_fields(subgraphs);
    for (subgraph, resolvable) in subgraphs.iter_mut().zip(resolvable) {
        for (type_name, field_name) in resolvable {
            if let Some(field) = subgraph
                .types
                .get_mut(&type_name)
                .and_then(|ty| ty.fields.get_mut(&field_name))
            {
                field.external = false;
            }
        }
        drop_external_on_interfaces(subgraph, errors);
        if !subgraph.fed2 {
            drop_inactive_requires_and_provides(subgraph);
        }
        handle_unused_externals(subgraph, errors);
    }
}

fn is_root(name: &str) -> bool {
    matches!(name, "Query" | "Mutation" | "Subscription")
}

/// A Federation 1 `extend type` (or `@extends`) of a type no subgraph defines has nothing to
/// extend: its owner is missing, so its key fields could never be resolved.
fn check_extensions_have_a_base(subgraphs: &[Subgraph], errors: &mut Vec<CompositionError>) {
    for (index, subgraph) in subgraphs.iter().enumerate() {
        if subgraph.fed2 {
            continue;
        }
        for ty in subgraph.types.values() {
            if !ty.extension || is_root(&ty.name) {
                continue;
            }
            let has_base = subgraphs
                .iter()
                .enumerate()
                .filter(|(other, _)| *other != index)
                .any(|(_, other)| other.types.get(&ty.name).is_some_and(|base| base.defined));
            if !has_base {
                errors.push(CompositionError::new(
                    ErrorCode::ExtensionWithNoBase,
                    format!(
                        "[{}] Type {} is an extension type, but no subgraph defines {}",
                        subgraph.name, ty.name, ty.name
                    ),
                ));
            }
        }
    }
}

/// Per subgraph, the `@external` fields it resolves itself because a key of a type extension
/// selects them: they arrive in the entity representation. Federation 2 applies this to keys
/// declared on an extension. Federation 1 applies it to the fields a type extension's own keys
/// select directly, or, for an extension without keys, those of the first key another subgraph
/// gives the type.
fn resolvable_key_fields(subgraphs: &[Subgraph]) -> Vec<Vec<FieldCoordinate>> {
    subgraphs
        .iter()
        .enumerate()
        .map(|(index, subgraph)| {
            if subgraph.fed2 {
                return subgraph.extension_key_fields.iter().cloned().collect();
            }
            let mut fields = Vec::new();
            for ty in subgraph.types.values() {
                if !ty.extension || !ty.kind.is_composite() {
                    continue;
                }
                let keys: Vec<&str> = if ty.keys.is_empty() {
                    first_key_elsewhere(subgraphs, index, &ty.name)
                        .into_iter()
                        .collect()
                } else {
                    ty.keys.iter().map(|key| key.fields.as_str()).collect()
                };
                for key in keys {
                    for field in top_level_fields(key) {
                        if ty.fields.contains_key(&field) {
                            fields.push((ty.name.clone(), field));
                        }
                    }
                }
            }
            fields
        })
        .collect()
}

fn first_key_elsewhere<'a>(
    subgraphs: &'a [Subgraph],
    index: usize,
    type_name: &Name,
) -> Option<&'a str> {
    subgraphs
        .iter()
        .enumerate()
        .filter(|(other, _)| *other != index)
        .filter_map(|(_, other)| other.types.get(type_name))
        .find_map(|ty| ty.keys.first())
        .map(|key| key.fields.as_str())
}

/// Federation 1 let `@requires` and `@provides` name fields the subgraph resolves itself; the
/// upgrade drops those (and the directive when nothing is left), so the planner never fetches
/// for a subgraph what it has.
fn drop_inactive_requires_and_provides(subgraph: &mut Subgraph) {
    let mut rewrites = Vec::new();
    for ty in subgraph.types.values() {
        for field in ty.fields.values() {
            let requires = field
                .requires
                .as_deref()
                .and_then(|fields| without_own_leaf_fields(subgraph, &ty.name, fields));
            let provides = field.provides.as_deref().and_then(|fields| {
                without_own_leaf_fields(subgraph, field.ty.inner_named_type(), fields)
            });
            if requires.is_some() || provides.is_some() {
                rewrites.push((ty.name.clone(), field.name.clone(), requires, provides));
            }
        }
    }
    for (type_name, field_name, requires, provides) in rewrites {
        let Some(field) = subgraph
            .types
            .get_mut(&type_name)
            .and_then(|ty| ty.fields.get_mut(&field_name))
        else {
            continue;
        };
        if let Some(requires) = requires {
            field.requires = requires;
        }
        if let Some(provides) = provides {
            field.provides = provides;
        }
    }
}

/// Interface fields are resolved by their implementations, so "external" means nothing on them.
fn drop_external_on_interfaces(subgraph: &mut Subgraph, errors: &mut Vec<CompositionError>) {
    for ty in subgraph.types.values_mut() {
        if ty.kind != TypeKind::Interface {
            continue;
        }
        for field in ty.fields.values_mut() {
            if !field.external {
                continue;
            }
            field.external = false;
            if subgraph.fed2 {
                errors.push(CompositionError::new(
                    ErrorCode::ExternalOnInterface,
                    format!(
                        "[{}] Interface field {}.{} is marked @external, but interface fields \
                         cannot be external: their implementations resolve them",
                        subgraph.name, ty.name, field.name
                    ),
                ));
            }
        }
    }
}

/// An `@external` field is used when a `@key`, `@requires` or `@provides` selects it or when it
/// implements an interface field. Federation 2 refuses unused ones; the upgrade of a Federation 1
/// subgraph removes them (and a type left without fields, unless something refers to it).
fn handle_unused_externals(subgraph: &mut Subgraph, errors: &mut Vec<CompositionError>) {
    let implementing = interface_implementation_fields(subgraph);
    let unused: Vec<FieldCoordinate> = subgraph
        .types
        .values()
        .filter(|ty| ty.kind == TypeKind::Object)
        .flat_map(|ty| {
            ty.fields
                .values()
                .filter(|field| field.external)
                .map(|field| (ty.name.clone(), field.name.clone()))
        })
        .filter(|coordinate| {
            !subgraph.used_fields.contains(coordinate) && !implementing.contains(coordinate)
        })
        .collect();
    if subgraph.fed2 {
        for (type_name, field_name) in unused {
            errors.push(CompositionError::new(
                ErrorCode::ExternalUnused,
                format!(
                    "[{}] Field {type_name}.{field_name} is marked @external but no @key, \
                     @requires or @provides uses it and it implements no interface field; remove \
                     it, or do not mark it @external",
                    subgraph.name
                ),
            ));
            // Merging goes on to find other errors; without the field it reports no echoes of
            // this one (such as the field being external everywhere).
            if let Some(ty) = subgraph.types.get_mut(&type_name) {
                if ty.fields.len() > 1 {
                    ty.fields.shift_remove(&field_name);
                }
            }
        }
        return;
    }

    let mut emptied = Vec::new();
    for (type_name, field_name) in unused {
        if let Some(ty) = subgraph.types.get_mut(&type_name) {
            ty.fields.shift_remove(&field_name);
            if ty.fields.is_empty() {
                emptied.push(type_name);
            }
        }
    }
    for type_name in emptied {
        if is_referenced(subgraph, &type_name) {
            errors.push(CompositionError::new(
                ErrorCode::TypeWithOnlyUnusedExternal,
                format!(
                    "[{}] Type {type_name} has only @external fields and no @key, @requires or \
                     @provides uses them, so it would be left empty, yet the subgraph refers to it",
                    subgraph.name
                ),
            ));
        } else {
            subgraph.types.shift_remove(&type_name);
        }
    }
}

/// `(object, field)` for every object field that implements a field of an interface the object
/// implements in this subgraph.
fn interface_implementation_fields(subgraph: &Subgraph) -> HashSet<FieldCoordinate> {
    let mut fields = HashSet::new();
    for ty in subgraph.types.values() {
        for interface in &ty.implements {
            let Some(interface) = subgraph.types.get(interface) else {
                continue;
            };
            for name in interface.fields.keys() {
                if ty.fields.contains_key(name) {
                    fields.insert((ty.name.clone(), name.clone()));
                }
            }
        }
    }
    fields
}

fn is_referenced(subgraph: &Subgraph, type_name: &Name) -> bool {
    let refers = |ty: &SubgraphType| {
        ty.members.contains(type_name)
            || ty.implements.contains(type_name)
            || ty.fields.values().any(|field| {
                field.ty.inner_named_type() == type_name
                    || field
                        .args
                        .values()
                        .any(|arg| arg.ty.inner_named_type() == type_name)
            })
            || ty
                .input_fields
                .values()
                .any(|field| field.ty.inner_named_type() == type_name)
    };
    subgraph
        .types
        .values()
        .any(|ty| ty.name != *type_name && refers(ty))
}
