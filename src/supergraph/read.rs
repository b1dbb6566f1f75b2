//! Reading a supergraph SDL into the model: the `join__` directives say which subgraphs hold
//! each type and field (keys, overrides, `@requires`/`@provides`, interface implementations,
//! union members, context arguments); the access directives (`@authenticated`,
//! `@requiresScopes`, `@policy`) say who may read them.

use std::collections::HashMap;
use std::sync::Arc;

use apollo_compiler::ast::Value;
use apollo_compiler::executable::{FieldSet, SelectionSet};
use apollo_compiler::schema::{Directive, ExtendedType};
use apollo_compiler::validation::Valid;
use apollo_compiler::{Name, Schema};

use super::{
    access, contexts, FieldInfo, FieldSource, Key, Subgraph, SubgraphId, SubgraphName,
    SupergraphError, TypeInGraph, TypeInfo,
};

pub(super) fn read_graphs(schema: &Schema) -> Result<Vec<Subgraph>, SupergraphError> {
    let Some(ExtendedType::Enum(graphs)) = schema.types.get("join__Graph") else {
        return Err(SupergraphError::NoGraphs);
    };
    let mut out = Vec::new();
    for (value, def) in &graphs.values {
        let directive = def.directives.get("join__graph");
        let name = directive
            .and_then(|d| d.specified_argument_by_name("name"))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| value.as_str().to_ascii_lowercase());
        let url = directive
            .and_then(|d| d.specified_argument_by_name("url"))
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_owned();
        out.push(Subgraph {
            name: SubgraphName(name.into()),
            graph_value: value.clone(),
            url,
        });
    }
    if out.is_empty() {
        return Err(SupergraphError::NoGraphs);
    }
    Ok(out)
}

fn graph_arg(
    directive: &Directive,
    graph_ids: &HashMap<Name, SubgraphId>,
    coordinate: &str,
) -> Result<Option<SubgraphId>, SupergraphError> {
    let Some(value) = directive.specified_argument_by_name("graph") else {
        return Ok(None);
    };
    let Some(name) = value.as_enum() else {
        return Err(invalid(
            directive,
            coordinate,
            "`graph` is not a join__Graph value",
        ));
    };
    graph_ids
        .get(name)
        .copied()
        .map(Some)
        .ok_or_else(|| invalid(directive, coordinate, &format!("unknown graph {name}")))
}

fn invalid(directive: &Directive, coordinate: &str, message: &str) -> SupergraphError {
    SupergraphError::InvalidDirective {
        directive: if directive.name == "join__type" {
            "join__type"
        } else if directive.name == "join__field" {
            "join__field"
        } else {
            "join__*"
        },
        coordinate: coordinate.to_owned(),
        message: message.to_owned(),
    }
}

fn bool_arg(directive: &Directive, name: &str) -> bool {
    directive
        .specified_argument_by_name(name)
        .and_then(|v| v.to_bool())
        .unwrap_or(false)
}

fn field_set(
    schema: &Valid<Schema>,
    type_name: &Name,
    directive: &Directive,
    arg: &str,
    coordinate: &str,
) -> Result<Option<Arc<SelectionSet>>, SupergraphError> {
    let Some(Value::String(text)) = directive.specified_argument_by_name(arg).map(|v| &**v) else {
        return Ok(None);
    };
    FieldSet::parse(
        schema,
        type_name.clone(),
        text.as_str(),
        "field_set.graphql",
    )
    .map(|fs| Some(Arc::new(fs.selection_set)))
    .map_err(|e| {
        invalid(
            directive,
            coordinate,
            &format!("{arg}: \"{text}\": {}", e.errors),
        )
    })
}

/// `N` of a `percent(N)` label (0–100, fractions allowed).
pub(super) fn percent_label(label: &str) -> Option<f64> {
    let inner = label.strip_prefix("percent(")?.strip_suffix(')')?;
    inner
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|p| (0.0..=100.0).contains(p))
}

fn label_index(labels: &mut Vec<Arc<str>>, label: &str) -> usize {
    match labels.iter().position(|l| &**l == label) {
        Some(i) => i,
        None => {
            labels.push(label.into());
            labels.len() - 1
        }
    }
}

pub(super) fn read_type(
    schema: &Valid<Schema>,
    graph_ids: &HashMap<Name, SubgraphId>,
    name: &Name,
    ty: &ExtendedType,
    labels: &mut Vec<Arc<str>>,
) -> Result<TypeInfo, SupergraphError> {
    let mut info = TypeInfo::default();
    for directive in ty.directives().get_all("join__type") {
        let Some(graph) = graph_arg(directive, graph_ids, name)? else {
            continue;
        };
        // `@join__type` keys are parsed against the interface for entity interfaces; an
        // interface object's key is parsed the same way since the supergraph types it as an interface.
        let key = field_set(schema, name, directive, "key", name)?.map(|selection| Key {
            selection,
            resolvable: directive
                .specified_argument_by_name("resolvable")
                .and_then(|v| v.to_bool())
                .unwrap_or(true),
        });
        info.graphs.push(TypeInGraph {
            graph,
            key,
            is_interface_object: bool_arg(directive, "isInterfaceObject"),
        });
    }
    // Federation-1 supergraphs (join v0.1) mark the owner with @join__owner and list keys on @join__type.
    for directive in ty.directives().get_all("join__owner") {
        if let Some(graph) = graph_arg(directive, graph_ids, name)? {
            if !info.graphs.iter().any(|g| g.graph == graph) {
                info.graphs.push(TypeInGraph {
                    graph,
                    key: None,
                    is_interface_object: false,
                });
            }
        }
    }
    let fields = match ty {
        ExtendedType::Object(o) => Some(&o.fields),
        ExtendedType::Interface(i) => Some(&i.fields),
        _ => None,
    };
    if let Some(fields) = fields {
        for (field_name, def) in fields {
            let coordinate = format!("{name}.{field_name}");
            let mut field = FieldInfo::default();
            let output_type = def.ty.inner_named_type().clone();
            for directive in def.directives.get_all("join__field") {
                let Some(graph) = graph_arg(directive, graph_ids, &coordinate)? else {
                    field.unresolved_here = true;
                    continue;
                };
                let override_label = directive
                    .specified_argument_by_name("overrideLabel")
                    .and_then(|v| v.as_str())
                    .map(|label| label_index(labels, label));
                field.sources.push(FieldSource {
                    graph,
                    external: bool_arg(directive, "external"),
                    requires: field_set(schema, name, directive, "requires", &coordinate)?,
                    provides: if schema.types.get(&output_type).is_some_and(|t| !t.is_leaf()) {
                        field_set(schema, &output_type, directive, "provides", &coordinate)?
                    } else {
                        None
                    },
                    used_overridden: bool_arg(directive, "usedOverridden"),
                    override_label,
                    overrides: directive.specified_argument_by_name("override").is_some(),
                    context_arguments: contexts::read_arguments(directive, &coordinate)?,
                    ty: directive
                        .specified_argument_by_name("type")
                        .and_then(|v| v.as_str())
                        .and_then(|text| {
                            apollo_compiler::ast::Type::parse(text, "join__field").ok()
                        })
                        .filter(|ty| *ty != def.ty),
                });
            }
            // A graph-less `@join__field` beside ones with graphs adds nothing to them.
            field.unresolved_here &= field.sources.is_empty();
            info.fields.insert(field_name.clone(), field);
        }
    }
    add_key_field_sources(&mut info);
    match ty {
        ExtendedType::Interface(_) => {
            // Which implementations each subgraph knows comes from @join__implements on the objects.
            for (obj_name, obj_ty) in &schema.types {
                let ExtendedType::Object(obj) = obj_ty else {
                    continue;
                };
                if !obj.implements_interfaces.contains(name) {
                    continue;
                }
                let marks: Vec<_> = obj.directives.get_all("join__implements").collect();
                if marks.is_empty() {
                    // No @join__implements (join v0.1/v0.2): every graph of the object knows it.
                    for d in obj.directives.get_all("join__type") {
                        if let Some(g) = graph_arg(d, graph_ids, obj_name)? {
                            push_unique(info.possible_in_graph.entry(g).or_default(), obj_name);
                        }
                    }
                }
                for d in marks {
                    let iface = d
                        .specified_argument_by_name("interface")
                        .and_then(|v| v.as_str());
                    if iface == Some(name.as_str()) {
                        if let Some(g) = graph_arg(d, graph_ids, obj_name)? {
                            push_unique(info.possible_in_graph.entry(g).or_default(), obj_name);
                        }
                    }
                }
            }
            // An interface object stands for every implementation in its subgraph.
            let all: Vec<Name> = schema
                .types
                .iter()
                .filter_map(|(n, t)| match t {
                    ExtendedType::Object(o) if o.implements_interfaces.contains(name) => {
                        Some(n.clone())
                    }
                    _ => None,
                })
                .collect();
            for g in &info.graphs {
                if g.is_interface_object {
                    info.possible_in_graph.insert(g.graph, all.clone());
                }
            }
        }
        ExtendedType::Union(u) => {
            let marks: Vec<_> = u.directives.get_all("join__unionMember").collect();
            if marks.is_empty() {
                for g in &info.graphs {
                    let members: Vec<Name> = u
                        .members
                        .iter()
                        .map(|m| m.name.clone())
                        .filter(|m| {
                            schema.types.get(m).is_some_and(|t| {
                                t.directives().get_all("join__type").any(|d| {
                                    graph_arg(d, graph_ids, m).ok().flatten() == Some(g.graph)
                                })
                            })
                        })
                        .collect();
                    info.possible_in_graph.insert(g.graph, members);
                }
            }
            for d in marks {
                let member = d
                    .specified_argument_by_name("member")
                    .and_then(|v| v.as_str());
                if let (Some(g), Some(member)) = (graph_arg(d, graph_ids, name)?, member) {
                    if let Ok(member) = Name::new(member) {
                        push_unique(info.possible_in_graph.entry(g).or_default(), &member);
                    }
                }
            }
        }
        _ => {}
    }
    Ok(info)
}

/// The access-control requirements of a type and of its fields.
pub(super) fn read_access(names: &access::AccessNames, ty: &ExtendedType, info: &mut TypeInfo) {
    info.access = names.requirements(ty.directives().iter().map(|d| &***d));
    let fields = match ty {
        ExtendedType::Object(o) => &o.fields,
        ExtendedType::Interface(i) => &i.fields,
        _ => return,
    };
    for (name, definition) in fields {
        if let Some(field) = info.fields.get_mut(name) {
            field.access = names.requirements(definition.directives.iter().map(|d| &**d));
        }
    }
}

/// A graph can always send the fields of its own keys. Federation-1 supergraphs (join v0.1) list
/// a key field only under its owner's `@join__field`, since other graphs declared it `@external`;
/// without this, a jump from such a graph would look for the key elsewhere.
fn add_key_field_sources(info: &mut TypeInfo) {
    for g in &info.graphs {
        let Some(key) = &g.key else {
            continue;
        };
        for selection in &key.selection.selections {
            let apollo_compiler::executable::Selection::Field(f) = selection else {
                continue;
            };
            let Some(field) = info.fields.get_mut(&f.name) else {
                continue;
            };
            if field.sources.is_empty() || field.sources.iter().any(|s| s.graph == g.graph) {
                continue;
            }
            field.sources.push(FieldSource {
                graph: g.graph,
                external: false,
                requires: None,
                provides: None,
                used_overridden: false,
                override_label: None,
                overrides: false,
                context_arguments: Vec::new(),
                ty: None,
            });
        }
    }
}

fn push_unique(list: &mut Vec<Name>, name: &Name) {
    if !list.contains(name) {
        list.push(name.clone());
    }
}
