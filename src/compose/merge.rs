//! Merging the subgraphs' types into supergraph types.
//!
//! Each named type is merged from every subgraph that defines it, in subgraph order. This file
//! holds what every kind shares (kinds agreeing, `@join__type`, descriptions and directives),
//! unions and the `@interfaceObject` fix-up; object and interface fields are merged in
//! `fields.rs`, enums, input objects and arguments in `values.rs`.

use apollo_compiler::ast::Directive;
use apollo_compiler::{Name, Node};
use indexmap::IndexMap;

use super::access::{self, AccessSpecs};
use super::composed;
use super::cost;
use super::errors::{join_with_and, quoted_list, subgraphs_word, CompositionError, ErrorCode};
use super::fields;
use super::model::{Graph, JoinField, JoinType, JoinVersion, SuperField, SuperType, Supergraph};
use super::subgraph::{Subgraph, SubgraphType, TypeKind};
use super::subtypes::Subtyping;
use super::values::{self, EnumUsage};

/// One subgraph's definition of the type being merged, with the subgraph's graph index.
pub(super) type TypeSource<'a> = (usize, &'a SubgraphType);

pub(crate) fn merge(subgraphs: &[Subgraph], errors: &mut Vec<CompositionError>) -> Supergraph {
    let graphs = subgraphs
        .iter()
        .map(|subgraph| Graph {
            enum_value: subgraph.graph.clone(),
            name: subgraph.name.clone(),
            url: subgraph.url.clone(),
        })
        .collect();

    let mut by_name: IndexMap<&Name, Vec<TypeSource<'_>>> = IndexMap::new();
    for (graph, subgraph) in subgraphs.iter().enumerate() {
        for ty in subgraph.types.values() {
            by_name.entry(&ty.name).or_default().push((graph, ty));
        }
    }
    // Before the types: the arguments of the directives kept are input positions for enums.
    let executable = super::executable::merge(subgraphs, errors);
    let enum_usage = EnumUsage::collect(subgraphs, &executable);
    let subtyping = Subtyping::collect(subgraphs);

    let mut types = Vec::new();
    for (name, sources) in &by_name {
        let Some(kind) = merged_kind(name, sources, subgraphs, errors) else {
            continue;
        };
        let mut merged = SuperType::new((*name).clone(), kind);
        merge_common(&mut merged, sources);
        for (graph, ty) in sources {
            for context in &ty.contexts {
                let name = super::contexts::supergraph_name(&subgraphs[*graph].name, context);
                if !merged.contexts.contains(&name) {
                    merged.contexts.push(name);
                }
            }
        }
        match kind {
            TypeKind::Object | TypeKind::Interface => {
                fields::merge_composite(&mut merged, sources, subgraphs, &subtyping, errors)
            }
            TypeKind::Union => merge_union(&mut merged, sources),
            TypeKind::Enum => {
                values::merge_enum(&mut merged, sources, &enum_usage, subgraphs, errors)
            }
            TypeKind::InputObject => {
                values::merge_input_object(&mut merged, sources, subgraphs, errors)
            }
            TypeKind::Scalar => {}
        }
        types.push(merged);
    }

    add_interface_object_fields(&mut types);
    check_implementations_have_interface_fields(&types, subgraphs, errors);
    access::propagate(&mut types, subgraphs);
    if !types.iter().any(|ty| ty.name == "Query") {
        errors.push(CompositionError::new(
            ErrorCode::NoQueries,
            "No subgraph defines a query root type (Query) with fields, \
             so the supergraph would have no queries",
        ));
    }
    types.sort_by(|a, b| print_rank(&a.name).cmp(&print_rank(&b.name)));

    // Apollo links the spec when any subgraph applies the directive, even where merging drops
    // the element that carried it (an argument missing from another subgraph, say).
    let uses = |name: &str| {
        types.iter().any(|ty| type_uses_directive(ty, name))
            || executable
                .iter()
                .any(|d| d.arguments.iter().any(|arg| arg.directives.has(name)))
            || subgraphs
                .iter()
                .flat_map(|subgraph| subgraph.types.values())
                .any(|ty| subgraph_type_uses_directive(ty, name))
    };
    let uses_inaccessible = uses("inaccessible");
    let uses_tag = uses("tag");
    let access = AccessSpecs {
        authenticated: uses(access::AUTHENTICATED),
        requires_scopes: uses(access::REQUIRES_SCOPES),
        policy: uses(access::POLICY),
    };
    let uses_one_of = uses("oneOf");
    let uses_context = types.iter().any(|ty| !ty.contexts.is_empty());
    let composed = composed::merge(
        subgraphs
            .iter()
            .map(|subgraph| subgraph.composed_directives.as_slice()),
    );
    composed::drop_repeats(&mut types, &composed);
    let cost = cost::supergraph_names(subgraphs, errors);
    if let Some(names) = &cost {
        cost::name_applications(&mut types, names);
    }
    Supergraph {
        join_version: join_version(subgraphs, &types),
        uses_inaccessible,
        uses_tag,
        cost,
        access,
        composed,
        executable,
        uses_one_of,
        uses_context,
        graphs,
        types,
    }
}

fn join_version(subgraphs: &[Subgraph], types: &[SuperType]) -> JoinVersion {
    let linked = subgraphs
        .iter()
        .filter(|subgraph| subgraph.fed2)
        .map(|subgraph| JoinVersion::for_federation_minor(subgraph.minor_version))
        .max()
        .unwrap_or(JoinVersion::V0_3);
    let uses_labels = types.iter().any(|ty| {
        ty.fields.values().any(|field| {
            field
                .join_fields
                .iter()
                .any(|join| join.override_label.is_some())
        })
    });
    // `contextArguments` came with join v0.5.
    let uses_contexts = types.iter().any(|ty| {
        ty.fields.values().any(|field| {
            field
                .join_fields
                .iter()
                .any(|join| !join.context_arguments.is_empty())
        })
    });
    if uses_contexts {
        linked.max(JoinVersion::V0_5)
    } else if uses_labels {
        linked.max(JoinVersion::V0_4)
    } else {
        linked
    }
}

/// Root types first, in operation order, then every other type by name.
fn print_rank(name: &Name) -> (u8, &str) {
    let rank = match name.as_str() {
        "Query" => 0,
        "Mutation" => 1,
        "Subscription" => 2,
        _ => 3,
    };
    (rank, name.as_str())
}

/// The kind the type has in the supergraph; an `@interfaceObject` object counts as the
/// interface it stands for.
fn merged_kind(
    name: &Name,
    sources: &[TypeSource<'_>],
    subgraphs: &[Subgraph],
    errors: &mut Vec<CompositionError>,
) -> Option<TypeKind> {
    let kind_of = |ty: &SubgraphType| {
        if ty.kind == TypeKind::Object && ty.interface_object {
            TypeKind::Interface
        } else {
            ty.kind
        }
    };
    // Grouped by how the subgraph declares the type, so a message can tell an interface from
    // the `@interfaceObject` standing for it.
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut kinds: Vec<TypeKind> = Vec::new();
    for (graph, ty) in sources {
        let kind = kind_of(ty);
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
        let declared = if ty.kind == TypeKind::Object && ty.interface_object {
            "an @interfaceObject type"
        } else {
            ty.kind.describe()
        };
        let subgraph = subgraphs[*graph].name.as_str();
        match groups.iter_mut().find(|(seen, _)| *seen == declared) {
            Some((_, names)) => names.push(subgraph),
            None => groups.push((declared, vec![subgraph])),
        }
    }
    match kinds.as_slice() {
        [kind] => Some(*kind),
        _ => {
            let described: Vec<String> = groups
                .iter()
                .map(|(declared, names)| {
                    format!(
                        "{declared} in {} {}",
                        subgraphs_word(names.len()),
                        quoted_list(names)
                    )
                })
                .collect();
            errors.push(CompositionError::new(
                ErrorCode::TypeKindMismatch,
                format!(
                    "Type {name} is defined with different kinds: {}",
                    join_with_and(&described)
                ),
            ));
            None
        }
    }
}

/// `@join__type`s, description and kept directives, which every kind of type has.
fn merge_common(merged: &mut SuperType, sources: &[TypeSource<'_>]) {
    merged.description = merged_description(sources.iter().map(|(_, ty)| &ty.description));
    for (graph, ty) in sources {
        merge_directives(&mut merged.directives, &ty.directives);
        if ty.keys.is_empty() {
            merged.join_types.push(JoinType {
                graph: *graph,
                key: None,
                extension: false,
                resolvable: true,
                interface_object: ty.interface_object,
            });
        }
        for key in &ty.keys {
            merged.join_types.push(JoinType {
                graph: *graph,
                key: Some(key.fields.clone()),
                extension: key.extension,
                resolvable: key.resolvable,
                interface_object: ty.interface_object,
            });
        }
    }
}

/// A union has every member any subgraph gives it; `@join__unionMember` says which subgraph
/// knows which member, so the planner only asks a subgraph about types it can return.
fn merge_union(merged: &mut SuperType, sources: &[TypeSource<'_>]) {
    for (graph, ty) in sources {
        for member in &ty.members {
            if !merged.members.contains(member) {
                merged.members.push(member.clone());
            }
            merged.join_members.push((*graph, member.clone()));
        }
    }
}

/// A subgraph with an `@interfaceObject` adds fields to an interface without knowing its
/// implementations. GraphQL requires each implementation to have the interface's fields, so they
/// are added with a bare `@join__field`: no subgraph resolves them on the object type itself;
/// the planner fetches them through the interface object.
fn add_interface_object_fields(types: &mut [SuperType]) {
    let interface_objects: Vec<(Name, Vec<(Name, SuperField)>)> = types
        .iter()
        .filter(|ty| {
            ty.kind == TypeKind::Interface && ty.join_types.iter().any(|join| join.interface_object)
        })
        .map(|ty| {
            let fields = ty
                .fields
                .iter()
                .map(|(name, field)| (name.clone(), field.clone()))
                .collect();
            (ty.name.clone(), fields)
        })
        .collect();
    for (interface, fields) in &interface_objects {
        for ty in types.iter_mut() {
            if ty.kind != TypeKind::Object || !ty.interfaces.contains(interface) {
                continue;
            }
            for (name, field) in fields {
                if ty.fields.contains_key(name) {
                    continue;
                }
                let mut added = field.clone();
                added.join_fields = vec![JoinField::default()];
                ty.fields.insert(name.clone(), added);
            }
        }
    }
}

/// Every object has the fields of the interfaces it implements in the supergraph. A subgraph may
/// add a field to an interface without defining some implementation (another subgraph's), which
/// then lacks it: Apollo's `INTERFACE_FIELD_NO_IMPLEM`, naming where the field was added.
fn check_implementations_have_interface_fields(
    types: &[SuperType],
    subgraphs: &[Subgraph],
    errors: &mut Vec<CompositionError>,
) {
    for object in types.iter().filter(|ty| ty.kind == TypeKind::Object) {
        for interface_name in &object.interfaces {
            let Some(interface) = types.iter().find(|ty| &ty.name == interface_name) else {
                continue;
            };
            for field in interface.fields.keys() {
                if object.fields.contains_key(field) {
                    continue;
                }
                let declared: Vec<&str> = subgraphs
                    .iter()
                    .filter(|subgraph| {
                        subgraph
                            .types
                            .get(interface_name)
                            .is_some_and(|ty| ty.fields.contains_key(field))
                    })
                    .map(|subgraph| subgraph.name.as_str())
                    .collect();
                errors.push(CompositionError::new(
                    ErrorCode::InterfaceFieldNoImplem,
                    format!(
                        "Interface field {interface_name}.{field} is declared in {} {}, but \
                         {}, which implements {interface_name}, has no field {field}: a subgraph \
                         that adds it to the interface must define {} too, or another subgraph \
                         must add the field to it",
                        super::errors::subgraphs_word(declared.len()),
                        super::errors::quoted_list(&declared),
                        object.name,
                        object.name
                    ),
                ));
            }
        }
    }
}

/// The description most subgraphs give (non-blank ones only), the first of those in subgraph
/// order on a tie: Apollo's rule, so one subgraph with an old comment does not win over the
/// others because its name sorts first.
pub(super) fn merged_description<'a>(
    descriptions: impl Iterator<Item = &'a Option<Node<str>>>,
) -> Option<Node<str>> {
    let mut counted: Vec<(&'a Node<str>, usize)> = Vec::new();
    for description in descriptions
        .flatten()
        .filter(|description| !description.trim().is_empty())
    {
        match counted
            .iter_mut()
            .find(|(seen, _)| seen.as_ref() == description.as_ref())
        {
            Some((_, n)) => *n += 1,
            None => counted.push((description, 1)),
        }
    }
    let most = counted.iter().map(|(_, n)| *n).max()?;
    counted
        .into_iter()
        .find(|(_, n)| *n == most)
        .map(|(description, _)| description.clone())
}

/// Adds directives not already present. Only `@tag` may repeat (with different names);
/// `@cost` and `@listSize` combine every subgraph's arguments (`cost.rs`), `@requiresScopes`
/// and `@policy` require what every subgraph requires (`access.rs`); the others keep the first
/// subgraph's application.
/// The non-repeatable directives composition carries that are not composed custom ones: each is
/// kept once per element, from the first subgraph that applies it.
const BUILT_IN_SINGLE: [&str; 5] = [
    "inaccessible",
    "deprecated",
    "specifiedBy",
    "oneOf",
    "external",
];

pub(super) fn merge_directives(into: &mut Vec<Node<Directive>>, from: &[Node<Directive>]) {
    for directive in from {
        if cost::merge_application(into, directive) || access::merge_application(into, directive) {
            continue;
        }
        // A directive that may repeat (`@tag`, and any composed custom directive until its
        // definition is known: `composed::drop_repeats`) keeps each distinct application.
        let may_repeat =
            directive.name == "tag" || !BUILT_IN_SINGLE.contains(&directive.name.as_str());
        let present = into.iter().any(|existing| {
            existing.name == directive.name
                && (!may_repeat || existing.arguments == directive.arguments)
        });
        if !present {
            into.push(directive.clone());
        }
    }
}

fn type_uses_directive(ty: &SuperType, name: &str) -> bool {
    let has = |directives: &[Node<Directive>]| directives.iter().any(|d| d.name == name);
    has(&ty.directives)
        || ty.fields.values().any(|field| {
            has(&field.directives) || field.args.iter().any(|arg| has(&arg.directives))
        })
        || ty.values.values().any(|value| has(&value.directives))
}

fn subgraph_type_uses_directive(ty: &SubgraphType, name: &str) -> bool {
    let has = |directives: &[Node<Directive>]| directives.iter().any(|d| d.name == name);
    has(&ty.directives)
        || ty.fields.values().any(|field| {
            has(&field.directives) || field.args.values().any(|arg| has(&arg.directives))
        })
        || ty.input_fields.values().any(|field| has(&field.directives))
        || ty.values.values().any(|value| has(&value.directives))
}
