//! Merging the fields of object and interface types: `@override`, the `@shareable` rule, type
//! compatibility, and deciding which fields need `@join__field`.

use apollo_compiler::Name;
use indexmap::IndexMap;

use super::errors::{join_with_and, quoted_list, subgraphs_word, CompositionError, ErrorCode};
use super::merge::{first_description, merge_directives, TypeSource};
use super::model::{JoinField, SuperField, SuperType};
use super::subgraph::{Subgraph, SubgraphField, SubgraphType, TypeKind};
use super::values::{least_restrictive, merge_arguments};

/// One subgraph's definition of the field being merged.
struct FieldSource<'a> {
    graph: usize,
    parent: &'a SubgraphType,
    field: &'a SubgraphField,
    /// Another subgraph overrides the field, but this one still needs it for a key or a
    /// `@requires`/`@provides`, so the planner may use it only for those.
    used_overridden: bool,
}

pub(super) fn merge_composite(
    merged: &mut SuperType,
    sources: &[TypeSource<'_>],
    subgraphs: &[Subgraph],
    errors: &mut Vec<CompositionError>,
) {
    for (graph, ty) in sources {
        for interface in &ty.implements {
            if !merged.interfaces.contains(interface) {
                merged.interfaces.push(interface.clone());
            }
            merged.join_implements.push((*graph, interface.clone()));
        }
    }

    let mut by_field: IndexMap<&Name, Vec<FieldSource<'_>>> = IndexMap::new();
    for (graph, ty) in sources {
        for field in ty.fields.values() {
            by_field.entry(&field.name).or_default().push(FieldSource {
                graph: *graph,
                parent: ty,
                field,
                used_overridden: false,
            });
        }
    }

    let type_graphs: Vec<usize> = sources.iter().map(|(graph, _)| *graph).collect();
    let mut merger = FieldMerger {
        type_name: &merged.name,
        kind: merged.kind,
        type_graphs: &type_graphs,
        subgraphs,
        errors,
    };
    let mut fields = IndexMap::new();
    for (name, field_sources) in by_field {
        if let Some(field) = merger.merge(name, field_sources) {
            fields.insert(name.clone(), field);
        }
    }
    merged.fields = fields;
}

struct FieldMerger<'a> {
    type_name: &'a Name,
    kind: TypeKind,
    /// The graphs that define the parent type, i.e. that have `@join__type` on it.
    type_graphs: &'a [usize],
    subgraphs: &'a [Subgraph],
    errors: &'a mut Vec<CompositionError>,
}

impl FieldMerger<'_> {
    fn subgraph_name(&self, source: &FieldSource<'_>) -> &str {
        &self.subgraphs[source.graph].name
    }

    fn merge(&mut self, name: &Name, mut sources: Vec<FieldSource<'_>>) -> Option<SuperField> {
        let coordinate = format!("{}.{name}", self.type_name);
        self.apply_overrides(&coordinate, name, &mut sources);
        if sources.is_empty() {
            return None;
        }
        if self.kind == TypeKind::Object {
            self.check_sharing(&coordinate, name, &sources);
            if sources.iter().all(|source| source.field.external) {
                let names: Vec<&str> = sources.iter().map(|s| self.subgraph_name(s)).collect();
                self.errors.push(CompositionError::new(
                    ErrorCode::ExternalMissingOnBase,
                    format!(
                        "Field {coordinate} is marked @external in every subgraph that defines \
                         it ({}), so no subgraph resolves it",
                        quoted_list(&names)
                    ),
                ));
            }
        }
        let ty = self.merged_type(&coordinate, &sources)?;
        let all_types_equal = sources
            .iter()
            .all(|source| source.field.ty == sources[0].field.ty);

        // Arguments and descriptions come from the subgraphs that resolve the field: an
        // `@external` copy is only a declaration of what another subgraph provides.
        let resolving: Vec<&FieldSource<'_>> = {
            let owned: Vec<_> = sources.iter().filter(|s| !s.field.external).collect();
            if owned.is_empty() {
                sources.iter().collect()
            } else {
                owned
            }
        };
        let argument_sources: Vec<_> = resolving
            .iter()
            .map(|source| (source.graph, &source.field.args))
            .collect();
        let args = merge_arguments(&coordinate, &argument_sources, self.subgraphs, self.errors);
        let description =
            first_description(resolving.iter().map(|source| &source.field.description))
                .or_else(|| first_description(sources.iter().map(|s| &s.field.description)));
        let mut directives = Vec::new();
        for source in &sources {
            merge_directives(&mut directives, &source.field.directives);
        }

        let covers_parent = sources.len() == self.type_graphs.len()
            && self
                .type_graphs
                .iter()
                .all(|graph| sources.iter().any(|source| source.graph == *graph));
        let has_federation_directive = sources.iter().any(|source| {
            source.used_overridden
                || source.field.external
                || source.field.requires.is_some()
                || source.field.provides.is_some()
                || source.field.override_from.is_some()
        });
        let join_fields = if all_types_equal && covers_parent && !has_federation_directive {
            Vec::new()
        } else {
            sources
                .iter()
                .map(|source| JoinField {
                    graph: Some(source.graph),
                    requires: source.field.requires.clone(),
                    provides: source.field.provides.clone(),
                    ty: (!all_types_equal).then(|| source.field.ty.clone()),
                    external: source.field.external,
                    override_from: source.field.override_from.clone(),
                    used_overridden: source.used_overridden,
                })
                .collect()
        };

        Some(SuperField {
            name: name.clone(),
            description,
            ty,
            args,
            default: None,
            directives,
            join_fields,
        })
    }

    /// `@override(from: "x")` moves the field from subgraph x to this one. x's copy is dropped,
    /// unless x still selects the field in a key or `@requires`/`@provides`, in which case it is
    /// kept and marked `usedOverridden` so the planner uses it only for that.
    fn apply_overrides(
        &mut self,
        coordinate: &str,
        field_name: &Name,
        sources: &mut Vec<FieldSource<'_>>,
    ) {
        let mut dropped = Vec::new();
        for index in 0..sources.len() {
            let Some(from) = &sources[index].field.override_from else {
                continue;
            };
            let overrider = self.subgraph_name(&sources[index]).to_string();
            if *from == overrider {
                self.errors.push(CompositionError::new(
                    ErrorCode::OverrideFromSelfError,
                    format!(
                        "[{overrider}] {coordinate} is marked @override(from: \"{from}\"), \
                         which is its own subgraph"
                    ),
                ));
                continue;
            }
            // A `from` naming an unknown subgraph, or one without the field, takes nothing over.
            let Some(overridden) = sources
                .iter()
                .position(|source| self.subgraph_name(source) == from)
            else {
                continue;
            };
            if sources[overridden].field.override_from.is_some() {
                self.errors.push(CompositionError::new(
                    ErrorCode::OverrideSourceHasOverride,
                    format!(
                        "{coordinate} is marked @override(from: \"{from}\") in subgraph \
                         \"{overrider}\", but subgraph \"{from}\" also overrides it"
                    ),
                ));
                continue;
            }
            let subgraph = &self.subgraphs[sources[overridden].graph];
            let still_used = subgraph
                .used_fields
                .contains(&(self.type_name.clone(), field_name.clone()));
            if still_used {
                sources[overridden].used_overridden = true;
            } else {
                dropped.push(overridden);
            }
        }
        dropped.sort_unstable();
        dropped.dedup();
        for index in dropped.into_iter().rev() {
            sources.remove(index);
        }
    }

    /// A field resolvable by several subgraphs must be `@shareable` in each (Federation 2), so
    /// that no subgraph owner shares a field by accident. Key fields, Federation 1 subgraphs and
    /// `@external` copies are exempt; an `@external` copy that a `@provides` makes resolvable
    /// still counts as a resolver.
    fn check_sharing(&mut self, coordinate: &str, field_name: &Name, sources: &[FieldSource<'_>]) {
        let field_coordinate = (self.type_name.clone(), field_name.clone());
        let resolvers: Vec<&FieldSource<'_>> = sources
            .iter()
            .filter(|source| {
                !source.used_overridden
                    && (!source.field.external
                        || self.subgraphs[source.graph]
                            .provided_fields
                            .contains(&field_coordinate))
            })
            .collect();
        if resolvers.len() < 2 {
            return;
        }
        let unshared: Vec<&str> = resolvers
            .iter()
            .filter(|source| {
                let subgraph = &self.subgraphs[source.graph];
                let shareable = !subgraph.fed2
                    || source.field.external
                    || source.field.shareable
                    || source.parent.shareable
                    || subgraph.key_fields.contains(&field_coordinate);
                !shareable
            })
            .map(|source| self.subgraph_name(source))
            .collect();
        if unshared.is_empty() {
            return;
        }
        let resolver_names: Vec<&str> = resolvers
            .iter()
            .map(|source| self.subgraph_name(source))
            .collect();
        let message = format!(
            "Field {coordinate} is resolved by subgraphs {} but is not marked @shareable in all \
             of them (not shareable in {})",
            quoted_list(&resolver_names),
            quoted_list(&unshared)
        );
        self.errors.push(CompositionError::new(
            ErrorCode::InvalidFieldSharing,
            message,
        ));
    }

    /// The least restrictive of the subgraphs' types: a client may get `null` if any subgraph
    /// may return it. Types may differ only in nullability.
    fn merged_type(
        &mut self,
        coordinate: &str,
        sources: &[FieldSource<'_>],
    ) -> Option<apollo_compiler::ast::Type> {
        let mut merged = sources[0].field.ty.clone();
        for source in &sources[1..] {
            match least_restrictive(&merged, &source.field.ty) {
                Some(ty) => merged = ty,
                None => {
                    let names: Vec<&str> = sources.iter().map(|s| self.subgraph_name(s)).collect();
                    let types: Vec<String> =
                        sources.iter().map(|s| s.field.ty.to_string()).collect();
                    self.errors.push(CompositionError::new(
                        ErrorCode::FieldTypeMismatch,
                        format!(
                            "{coordinate} is defined in {} {} with types {}, which are \
                             incompatible: they may differ only in nullability",
                            subgraphs_word(names.len()),
                            quoted_list(&names),
                            join_with_and(&types)
                        ),
                    ));
                    return None;
                }
            }
        }
        Some(merged)
    }
}
