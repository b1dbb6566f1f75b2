//! A field clients can ask for must be resolvable by some subgraph that can get to its parent.
//!
//! Apollo's composition proves every query of the API schema can be planned
//! (`SATISFIABILITY_ERROR`), by walking every path through every subgraph. Seam checks less, on
//! purpose: it must never refuse subgraphs Apollo accepts, so everything here over-approximates
//! what a subgraph can do. A subgraph can get to a type when one of its root fields leads there
//! through any of its fields (`@external` ones too), or when the type is an entity it resolves
//! by a key (or an extension, as Federation 1 wrote entities). An object field clients can reach
//! fails the check only when no subgraph both defines it (on the object, or on an interface of
//! it, `@interfaceObject`s included) and can get to the object — for example a field only a
//! subgraph with `@key(resolvable: false)` and no path of its own has.

use std::collections::{HashMap, HashSet, VecDeque};

use apollo_compiler::Name;

use super::errors::{CompositionError, ErrorCode};
use super::model::{SuperType, Supergraph};
use super::subgraph::{Subgraph, TypeKind};
use super::values::is_inaccessible;

const ROOTS: [&str; 3] = ["Query", "Mutation", "Subscription"];

pub(super) fn check(
    supergraph: &Supergraph,
    subgraphs: &[Subgraph],
    errors: &mut Vec<CompositionError>,
) {
    let types = supergraph.types_by_name();
    let paths = client_paths(&types);
    let reachable: Vec<HashSet<&Name>> = subgraphs.iter().map(reachable_in).collect();

    for ty in &supergraph.types {
        if ty.kind != TypeKind::Object {
            continue;
        }
        let Some(path) = paths.get(&ty.name) else {
            continue;
        };
        for field in ty.fields.values() {
            if is_inaccessible(&field.directives) {
                continue;
            }
            let resolvable = subgraphs
                .iter()
                .zip(&reachable)
                .any(|(subgraph, reachable)| {
                    let defines = |owner: &Name| {
                        reachable.contains(owner)
                            && subgraph
                                .types
                                .get(owner)
                                .is_some_and(|owner| owner.fields.contains_key(&field.name))
                    };
                    defines(&ty.name) || ty.interfaces.iter().any(defines)
                });
            if resolvable {
                continue;
            }
            let definers: Vec<String> = subgraphs
                .iter()
                .filter(|subgraph| {
                    subgraph
                        .types
                        .get(&ty.name)
                        .is_some_and(|owner| owner.fields.contains_key(&field.name))
                })
                .map(|subgraph| format!("\"{}\"", subgraph.name))
                .collect();
            let query = path_query(path, &field.name);
            errors.push(CompositionError::new(
                ErrorCode::SatisfiabilityError,
                format!(
                    "The supergraph API query {query} cannot be satisfied: {}.{} is defined only \
                     in {}, which cannot get to a {}: no root field of it leads there and it \
                     has no resolvable @key for it",
                    ty.name,
                    field.name,
                    if definers.is_empty() {
                        "no subgraph".to_string()
                    } else {
                        format!("subgraph {}", definers.join(", "))
                    },
                    ty.name
                ),
            ));
        }
    }
}

/// One step from a root to a type clients can reach: the field taken, and the type condition
/// needed when the field returns an abstract type.
#[derive(Debug, Clone)]
struct Step {
    field: Name,
    condition: Option<Name>,
}

/// The shortest path of fields from a root to every type clients can reach; `@inaccessible`
/// types and fields are not part of the API.
fn client_paths<'a>(types: &HashMap<&'a Name, &'a SuperType>) -> HashMap<Name, Vec<Step>> {
    let mut paths: HashMap<Name, Vec<Step>> = HashMap::new();
    let mut queue = VecDeque::new();
    for root in ROOTS {
        if let Some(ty) = types.values().find(|ty| ty.name == root) {
            if !is_inaccessible(&ty.directives) {
                paths.insert(ty.name.clone(), Vec::new());
                queue.push_back(*ty);
            }
        }
    }
    while let Some(ty) = queue.pop_front() {
        let path = paths.get(&ty.name).cloned().unwrap_or_default();
        for field in ty.fields.values() {
            if is_inaccessible(&field.directives) {
                continue;
            }
            let Some(target) = types.get(field.ty.inner_named_type()) else {
                continue;
            };
            for (object, condition) in concrete_types(types, target) {
                if paths.contains_key(&object.name) || is_inaccessible(&object.directives) {
                    continue;
                }
                let mut extended = path.clone();
                extended.push(Step {
                    field: field.name.clone(),
                    condition,
                });
                paths.insert(object.name.clone(), extended);
                queue.push_back(object);
            }
        }
    }
    paths
}

/// The object types a value of `target` may be, with the type condition that selects each.
fn concrete_types<'a>(
    types: &HashMap<&'a Name, &'a SuperType>,
    target: &'a SuperType,
) -> Vec<(&'a SuperType, Option<Name>)> {
    match target.kind {
        TypeKind::Object => vec![(target, None)],
        TypeKind::Union => target
            .members
            .iter()
            .filter_map(|member| types.get(member))
            .map(|member| (*member, Some(member.name.clone())))
            .collect(),
        TypeKind::Interface => types
            .values()
            .filter(|ty| ty.kind == TypeKind::Object && ty.interfaces.contains(&target.name))
            .map(|ty| (*ty, Some(ty.name.clone())))
            .collect(),
        _ => Vec::new(),
    }
}

/// The types a subgraph can get to, generously: from its roots through any of its fields, and
/// every entity it resolves by a key.
fn reachable_in(subgraph: &Subgraph) -> HashSet<&Name> {
    let mut reachable: HashSet<&Name> = HashSet::new();
    let mut queue: VecDeque<&Name> = VecDeque::new();
    for ty in subgraph.types.values() {
        let entry = ROOTS.contains(&ty.name.as_str())
            || ty.extension
            || ty.keys.iter().any(|key| key.resolvable);
        if entry && reachable.insert(&ty.name) {
            queue.push_back(&ty.name);
        }
    }
    while let Some(name) = queue.pop_front() {
        let Some(ty) = subgraph.types.get(name) else {
            continue;
        };
        let mut next: Vec<&Name> = ty
            .fields
            .values()
            .map(|field| field.ty.inner_named_type())
            .collect();
        next.extend(ty.members.iter());
        if ty.kind == TypeKind::Interface || ty.interface_object {
            next.extend(
                subgraph
                    .types
                    .values()
                    .filter(|other| other.implements.contains(name))
                    .map(|other| &other.name),
            );
        }
        for name in next {
            if subgraph.types.contains_key(name) && reachable.insert(name) {
                queue.push_back(name);
            }
        }
    }
    reachable
}

/// `{ a { ... on B { c } } }`: the path as the query Apollo's message would show.
fn path_query(path: &[Step], field: &Name) -> String {
    let mut query = String::from("{ ");
    let mut closing = String::from("}");
    for step in path {
        query.push_str(&format!("{} {{ ", step.field));
        closing.insert_str(0, "} ");
        if let Some(condition) = &step.condition {
            query.push_str(&format!("... on {condition} {{ "));
            closing.insert_str(0, "} ");
        }
    }
    format!("{query}{field} {closing}")
}
