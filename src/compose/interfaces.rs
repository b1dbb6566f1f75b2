//! Entity interfaces (`@key` on an interface, Federation 2.3) and `@interfaceObject`.
//!
//! A subgraph that gives an interface a key promises to resolve any implementation from that key:
//! the planner sends it `{ __typename: "Media", id }` and expects the concrete type back. So every
//! implementation it knows must have the same key, and it must know every implementation in the
//! supergraph. A subgraph with an `@interfaceObject` sees the interface as one object type and
//! relies on such a subgraph to find the concrete type, so one must exist.

use indexmap::IndexMap;

use apollo_compiler::Name;

use super::errors::{join_with_and, quoted_list, subgraphs_word, CompositionError, ErrorCode};
use super::subgraph::{Key, Subgraph, SubgraphType, TypeKind};

pub(crate) fn check(subgraphs: &[Subgraph], errors: &mut Vec<CompositionError>) {
    for subgraph in subgraphs {
        for ty in subgraph.types.values() {
            if ty.kind == TypeKind::Interface && !ty.keys.is_empty() {
                check_keys_on_implementations(subgraph, ty, errors);
                check_knows_every_implementation(subgraphs, subgraph, ty, errors);
            }
            if ty.kind == TypeKind::Object && ty.interface_object && ty.keys.is_empty() {
                errors.push(CompositionError::new(
                    ErrorCode::InterfaceObjectUsageError,
                    format!(
                        "[{}] Type {} is marked @interfaceObject but has no @key in this \
                         subgraph; an @interfaceObject must be an entity",
                        subgraph.name, ty.name
                    ),
                ));
            }
        }
    }
    check_interface_objects_have_an_interface(subgraphs, errors);
    check_interface_objects_know_no_implementation(subgraphs, errors);
}

/// A subgraph that sees an interface as an `@interfaceObject` knows it only as that one object:
/// defining an implementation too would give one entity two types there. Apollo refuses it.
fn check_interface_objects_know_no_implementation(
    subgraphs: &[Subgraph],
    errors: &mut Vec<CompositionError>,
) {
    for subgraph in subgraphs {
        for object in subgraph.types.values().filter(|ty| ty.interface_object) {
            let mut implementations: Vec<&Name> = subgraphs
                .iter()
                .flat_map(|other| other.types.values())
                .filter(|ty| ty.kind == TypeKind::Object && ty.implements.contains(&object.name))
                .map(|ty| &ty.name)
                .filter(|name| subgraph.types.contains_key(*name))
                .collect();
            implementations.sort();
            implementations.dedup();
            for implementation in implementations {
                errors.push(CompositionError::new(
                    ErrorCode::InterfaceObjectUsageError,
                    format!(
                        "[{}] Type {} is an @interfaceObject in this subgraph, which should then \
                         not define its implementation {implementation}",
                        subgraph.name, object.name
                    ),
                ));
            }
        }
    }
}

fn same_key(a: &Key, b: &Key) -> bool {
    a.fields == b.fields
}

/// Every implementation of an entity interface in the subgraph has each of its keys, resolvable
/// when the interface's is.
fn check_keys_on_implementations(
    subgraph: &Subgraph,
    interface: &SubgraphType,
    errors: &mut Vec<CompositionError>,
) {
    let implementations = subgraph
        .types
        .values()
        .filter(|ty| ty.kind == TypeKind::Object && ty.implements.contains(&interface.name));
    for implementation in implementations {
        for key in &interface.keys {
            let matching: Vec<&Key> = implementation
                .keys
                .iter()
                .filter(|candidate| same_key(candidate, key))
                .collect();
            let problem = if matching.is_empty() {
                "does not have it"
            } else if key.resolvable && matching.iter().all(|candidate| !candidate.resolvable) {
                "declares it with resolvable: false"
            } else {
                continue;
            };
            errors.push(CompositionError::new(
                ErrorCode::InterfaceKeyNotOnImplementation,
                format!(
                    "[{}] Interface {} has @key(fields: \"{}\"), but its implementation {} \
                     {problem}; every implementation of an entity interface needs the \
                     interface's keys",
                    subgraph.name, interface.name, key.fields, implementation.name
                ),
            ));
        }
    }
}

/// A subgraph with a resolvable key on an interface must define every implementation the
/// supergraph has, since it is asked to turn any `Media` reference into its concrete type.
fn check_knows_every_implementation(
    subgraphs: &[Subgraph],
    subgraph: &Subgraph,
    interface: &SubgraphType,
    errors: &mut Vec<CompositionError>,
) {
    let Some(key) = interface.keys.iter().find(|key| key.resolvable) else {
        return;
    };
    // Implementation ▶ the subgraphs that declare it implements the interface.
    let mut missing: IndexMap<&Name, Vec<&str>> = IndexMap::new();
    for other in subgraphs {
        for ty in other.types.values() {
            let implements = ty.kind == TypeKind::Object && ty.implements.contains(&interface.name);
            let known_here = subgraph
                .types
                .get(&ty.name)
                .is_some_and(|here| here.implements.contains(&interface.name));
            if implements && !known_here {
                missing.entry(&ty.name).or_default().push(&other.name);
            }
        }
    }
    if missing.is_empty() {
        return;
    }
    let described: Vec<String> = missing
        .iter()
        .map(|(name, declared_in)| {
            format!(
                "{name} (from {} {})",
                subgraphs_word(declared_in.len()),
                quoted_list(declared_in)
            )
        })
        .collect();
    errors.push(CompositionError::new(
        ErrorCode::InterfaceKeyMissingImplementationType,
        format!(
            "[{}] Interface {} has a resolvable @key(fields: \"{}\") in this subgraph, so the \
             subgraph must define every implementation of {} in the supergraph, but it lacks {}",
            subgraph.name,
            interface.name,
            key.fields,
            interface.name,
            join_with_and(&described)
        ),
    ));
}

/// An `@interfaceObject` stands for an interface some other subgraph defines with a `@key`: that
/// subgraph is how the planner finds the concrete type of an object the interface object returns.
fn check_interface_objects_have_an_interface(
    subgraphs: &[Subgraph],
    errors: &mut Vec<CompositionError>,
) {
    let mut interface_objects: IndexMap<&Name, Vec<&str>> = IndexMap::new();
    for subgraph in subgraphs {
        for ty in subgraph.types.values() {
            if ty.kind == TypeKind::Object && ty.interface_object {
                interface_objects
                    .entry(&ty.name)
                    .or_default()
                    .push(&subgraph.name);
            }
        }
    }
    for (name, declared_in) in interface_objects {
        // A subgraph with a plain object or another kind by this name is a kind mismatch,
        // which merging reports.
        let other_kind = subgraphs
            .iter()
            .filter_map(|subgraph| subgraph.types.get(name))
            .any(|ty| match ty.kind {
                TypeKind::Object => !ty.interface_object,
                kind => kind != TypeKind::Interface,
            });
        if other_kind {
            continue;
        }
        let interfaces: Vec<&SubgraphType> = subgraphs
            .iter()
            .filter_map(|subgraph| subgraph.types.get(name))
            .filter(|ty| ty.kind == TypeKind::Interface)
            .collect();
        let problem = if interfaces.is_empty() {
            format!("no subgraph defines interface {name}")
        } else if interfaces.iter().all(|interface| interface.keys.is_empty()) {
            format!(
                "no subgraph gives interface {name} a @key, so no subgraph can tell the concrete \
                 type of a {name}"
            )
        } else {
            continue;
        };
        errors.push(CompositionError::new(
            ErrorCode::InterfaceObjectUsageError,
            format!(
                "Type {name} is marked @interfaceObject in {} {}, but {problem}; an \
                 @interfaceObject stands for an entity interface (an interface with a @key) \
                 defined in another subgraph",
                subgraphs_word(declared_in.len()),
                quoted_list(&declared_in)
            ),
        ));
    }
}
