//! Merging the fields of object and interface types: `@override`, the `@shareable` rule, type
//! compatibility, and deciding which fields need `@join__field`.

use apollo_compiler::Name;
use indexmap::IndexMap;

use super::errors::{join_with_and, quoted_list, subgraphs_word, CompositionError, ErrorCode};
use super::merge::{merge_directives, merged_description, TypeSource};
use super::model::{JoinContextArgument, JoinField, SuperField, SuperType};
use super::subgraph::{Subgraph, SubgraphField, SubgraphType, TypeKind};
use super::subtypes::Subtyping;
use super::values::{least_restrictive, merge_arguments};

/// One subgraph's definition of the field being merged.
struct FieldSource<'a> {
    graph: usize,
    parent: &'a SubgraphType,
    field: &'a SubgraphField,
    /// Another subgraph overrides the field, but this one still needs it for a key or a
    /// `@requires`/`@provides`, so the planner may use it only for those.
    used_overridden: bool,
    /// Another subgraph overrides the field with a label: this copy stays resolvable, but only
    /// for requests where the label is inactive.
    overridden: bool,
    /// The progressive override label, on both the overriding and the overridden copy.
    override_label: Option<String>,
}

pub(super) fn merge_composite(
    merged: &mut SuperType,
    sources: &[TypeSource<'_>],
    subgraphs: &[Subgraph],
    subtyping: &Subtyping,
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
                overridden: false,
                override_label: None,
            });
        }
    }

    let type_graphs: Vec<usize> = sources.iter().map(|(graph, _)| *graph).collect();
    let interface_objects: Vec<(usize, &SubgraphType)> = subgraphs
        .iter()
        .enumerate()
        .flat_map(|(graph, subgraph)| {
            merged
                .interfaces
                .iter()
                .filter_map(|interface| subgraph.types.get(interface))
                // One without a key is already an error of its own.
                .filter(|ty| ty.interface_object && !ty.keys.is_empty())
                .map(move |ty| (graph, ty))
        })
        .collect();
    let mut merger = FieldMerger {
        type_name: &merged.name,
        kind: merged.kind,
        type_graphs: &type_graphs,
        interface_objects: &interface_objects,
        subgraphs,
        subtyping,
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
    /// `(graph, type)` for each `@interfaceObject` standing for an interface the merged object
    /// type implements.
    interface_objects: &'a [(usize, &'a SubgraphType)],
    subgraphs: &'a [Subgraph],
    subtyping: &'a Subtyping,
    errors: &'a mut Vec<CompositionError>,
}

impl FieldMerger<'_> {
    fn subgraph_name(&self, source: &FieldSource<'_>) -> &str {
        &self.subgraphs[source.graph].name
    }

    fn merge(&mut self, name: &Name, mut sources: Vec<FieldSource<'_>>) -> Option<SuperField> {
        let coordinate = format!("{}.{name}", self.type_name);
        let overridden_away = self.apply_overrides(&coordinate, name, &mut sources);
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
        // A copy taken over entirely by `@override` still counts for the field's type, as in
        // Apollo: the overriding subgraph's `String!` over another's `String` is `String` to
        // clients (the field's contract does not narrow because its resolver moved).
        let typed: Vec<&FieldSource<'_>> = sources.iter().chain(&overridden_away).collect();
        // First, so an external copy of another type is reported as that even when the types
        // cannot merge at all.
        self.check_external_types(&coordinate, &sources);
        let ty = self.merged_type(&coordinate, &typed)?;
        let all_types_equal = sources.iter().all(|source| source.field.ty == ty);

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
        self.check_external_arguments(&coordinate, &sources, &args);
        let description =
            merged_description(resolving.iter().map(|source| &source.field.description))
                .or_else(|| merged_description(sources.iter().map(|s| &s.field.description)));
        // A copy taken over entirely by `@override` still says what the field is to clients:
        // its `@inaccessible` keeps the field hidden, its `@deprecated` deprecated.
        let mut directives = Vec::new();
        for source in sources.iter().chain(&overridden_away) {
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
                || !source.field.context_arguments.is_empty()
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
                    override_label: source.override_label.clone(),
                    context_arguments: source
                        .field
                        .context_arguments
                        .iter()
                        .map(|used| JoinContextArgument {
                            context: super::contexts::supergraph_name(
                                &self.subgraphs[source.graph].name,
                                &used.context,
                            ),
                            name: used.argument.to_string(),
                            ty: used.ty.to_string(),
                            selection: used.selection.clone(),
                        })
                        .collect(),
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

    /// Applies the `@override`s among `sources` and returns the copies taken over entirely:
    /// they no longer resolve the field, but their directives still merge.
    ///
    /// `@override(from: "x")` moves the field from subgraph x to this one. x's copy is dropped,
    /// unless x still selects the field in a key or `@requires`/`@provides`, in which case it is
    /// kept and marked `usedOverridden` so the planner uses it only for that. With a `label`, the
    /// move happens only while the label is active, so x's copy is kept with the label.
    fn apply_overrides<'s>(
        &mut self,
        coordinate: &str,
        field_name: &Name,
        sources: &mut Vec<FieldSource<'s>>,
    ) -> Vec<FieldSource<'s>> {
        let mut dropped = Vec::new();
        for index in 0..sources.len() {
            let Some(from) = &sources[index].field.override_from else {
                continue;
            };
            let overrider = self.subgraph_name(&sources[index]).to_string();
            let Some(overridden) =
                self.override_target(coordinate, &overrider, from, index, sources)
            else {
                continue;
            };
            let mut label = sources[index].field.override_label.clone();
            // An invalid label is reported, and the override then goes on as a plain one so
            // that nothing merely echoing the bad label is reported.
            if let Some(invalid) = label.take_if(|label| !is_valid_override_label(label)) {
                self.errors.push(CompositionError::new(
                    ErrorCode::OverrideLabelInvalid,
                    format!(
                        "[{overrider}] {coordinate} has @override(label: \"{invalid}\"), which is \
                         not a valid label: a label starts with a letter followed by letters, \
                         digits, `_`, `-`, `:`, `.` or `/`, or is \"percent(x)\" with x a number \
                         from 0 to 100 with at most 8 decimals"
                    ),
                ));
            }
            let subgraph = &self.subgraphs[sources[overridden].graph];
            let still_used = subgraph
                .used_fields
                .contains(&(self.type_name.clone(), field_name.clone()));
            if still_used {
                sources[overridden].used_overridden = true;
            }
            if label.is_some() {
                sources[overridden].overridden = true;
                sources[overridden].override_label = label.clone();
                sources[index].override_label = label;
            } else if !still_used {
                dropped.push(overridden);
            }
        }
        dropped.sort_unstable();
        dropped.dedup();
        let mut removed: Vec<FieldSource<'s>> = dropped
            .into_iter()
            .rev()
            .map(|index| sources.remove(index))
            .collect();
        removed.reverse();
        removed
    }

    /// The index of the source `@override(from: "from")` on `sources[index]` takes the field
    /// from, or `None` (with an error where Apollo gives one) when it takes nothing.
    fn override_target(
        &mut self,
        coordinate: &str,
        overrider: &str,
        from: &str,
        index: usize,
        sources: &[FieldSource<'_>],
    ) -> Option<usize> {
        if sources[index].parent.interface_object {
            self.errors.push(CompositionError::new(
                ErrorCode::OverrideCollisionWithAnotherDirective,
                format!(
                    "[{overrider}] {coordinate} is a field of an @interfaceObject, and @override \
                     cannot be used on those"
                ),
            ));
            return None;
        }
        if sources[index].parent.kind == TypeKind::Interface {
            self.errors.push(CompositionError::new(
                ErrorCode::OverrideOnInterface,
                format!(
                    "[{overrider}] {coordinate} is an interface field, and @override cannot be \
                     used on interface fields"
                ),
            ));
            return None;
        }
        if from == overrider {
            self.errors.push(CompositionError::new(
                ErrorCode::OverrideFromSelfError,
                format!(
                    "[{overrider}] {coordinate} is marked @override(from: \"{from}\"), which is \
                     its own subgraph"
                ),
            ));
            return None;
        }
        // A `from` naming an unknown subgraph, or one without the field, takes nothing over.
        let overridden = sources
            .iter()
            .position(|source| self.subgraph_name(source) == from)?;
        let from_field = sources[overridden].field;
        if from_field.override_from.is_some() {
            self.errors.push(CompositionError::new(
                ErrorCode::OverrideSourceHasOverride,
                format!(
                    "{coordinate} is marked @override(from: \"{from}\") in subgraph \
                     \"{overrider}\", but subgraph \"{from}\" also overrides it"
                ),
            ));
            return None;
        }
        let collision = if from_field.requires.is_some() {
            Some(format!("it is marked @requires in subgraph \"{from}\""))
        } else if from_field.provides.is_some() {
            Some(format!("it is marked @provides in subgraph \"{from}\""))
        } else if sources[index].field.external {
            Some(format!(
                "it is marked @external in subgraph \"{overrider}\""
            ))
        } else {
            None
        };
        if let Some(reason) = collision {
            self.errors.push(CompositionError::new(
                ErrorCode::OverrideCollisionWithAnotherDirective,
                format!("[{overrider}] {coordinate} cannot be marked @override, since {reason}"),
            ));
            return None;
        }
        // Subgraph `from` does not resolve its `@external` copy: there is nothing to take over.
        (!from_field.external).then_some(overridden)
    }

    /// A field resolvable by several subgraphs must be `@shareable` in each (Federation 2), so
    /// that no subgraph owner shares a field by accident. Key fields, Federation 1 subgraphs and
    /// `@external` copies are exempt; an `@external` copy that a `@provides` makes resolvable
    /// still counts as a resolver, and so does an `@interfaceObject` field of an interface the
    /// type implements, since that subgraph resolves the field for every implementation.
    fn check_sharing(&mut self, coordinate: &str, field_name: &Name, sources: &[FieldSource<'_>]) {
        // Each subscription has one event source: two subgraphs cannot both serve one.
        if self.type_name == "Subscription" {
            for source in sources {
                if source.field.shareable {
                    self.errors.push(CompositionError::new(
                        ErrorCode::InvalidFieldSharing,
                        format!(
                            "[{}] {coordinate} is marked @shareable, but fields of the root \
                             Subscription type cannot be shared: each subscription has one source",
                            self.subgraph_name(source)
                        ),
                    ));
                }
            }
        }
        let field_coordinate = (self.type_name.clone(), field_name.clone());
        // (how the message names the subgraph, whether it shares the field)
        let mut resolvers: Vec<(String, bool)> = sources
            .iter()
            .filter(|source| {
                !source.used_overridden
                    && !source.overridden
                    && (!source.field.external
                        || self.subgraphs[source.graph]
                            .provided_fields
                            .contains(&field_coordinate))
            })
            .map(|source| {
                let subgraph = &self.subgraphs[source.graph];
                let shareable = !subgraph.fed2
                    || source.field.external
                    || source.field.shareable
                    || subgraph.key_fields.contains(&field_coordinate);
                (format!("\"{}\"", subgraph.name), shareable)
            })
            .collect();
        for (graph, interface_object) in self.interface_objects {
            let Some(field) = interface_object.fields.get(field_name) else {
                continue;
            };
            if field.external {
                continue;
            }
            let subgraph = &self.subgraphs[*graph];
            let shareable = field.shareable
                || interface_object.shareable
                || subgraph
                    .key_fields
                    .contains(&(interface_object.name.clone(), field_name.clone()));
            resolvers.push((
                format!(
                    "\"{}\" (through @interfaceObject {}.{field_name})",
                    subgraph.name, interface_object.name
                ),
                shareable,
            ));
        }
        if resolvers.len() < 2 || resolvers.iter().all(|(_, shareable)| *shareable) {
            return;
        }
        let names: Vec<&str> = resolvers.iter().map(|(name, _)| name.as_str()).collect();
        let unshared: Vec<&str> = resolvers
            .iter()
            .filter(|(_, shareable)| !shareable)
            .map(|(name, _)| name.as_str())
            .collect();
        let message = format!(
            "Field {coordinate} is resolved by subgraphs {} but is not marked @shareable in all \
             of them (not shareable in {})",
            join_with_and(&names),
            join_with_and(&unshared)
        );
        self.errors.push(CompositionError::new(
            ErrorCode::InvalidFieldSharing,
            message,
        ));
    }

    /// The most general of the subgraphs' types, since a client must be ready for whatever any
    /// of them returns: a union or interface over one of its members (`subtypes.rs`), nullable
    /// over non-null. Types with the same named type whose nullability differs at several levels
    /// (`[Int!]` and `[Int]!`), where Apollo finds no winner, get the nullable shape of both.
    /// An `@external` copy declares what the resolving subgraphs send: its type must be theirs
    /// or more general (`String` for a resolved `String!`, never `String!` for a `String`).
    fn check_external_types(&mut self, coordinate: &str, sources: &[FieldSource<'_>]) {
        let resolved: Vec<&FieldSource<'_>> =
            sources.iter().filter(|s| !s.field.external).collect();
        for external in sources.iter().filter(|s| s.field.external) {
            let Some(other) = resolved
                .iter()
                .find(|r| !self.subtyping.is_subtype(&external.field.ty, &r.field.ty))
            else {
                continue;
            };
            self.errors.push(CompositionError::new(
                ErrorCode::ExternalTypeMismatch,
                format!(
                    "{coordinate} is @external in \"{}\" with type {}, but \"{}\" resolves it \
                     as {}: an external field's type must be the same or more general",
                    self.subgraph_name(external),
                    external.field.ty,
                    self.subgraph_name(other),
                    other.field.ty
                ),
            ));
        }
    }

    /// An `@external` copy stands for the field another subgraph resolves, so it must declare
    /// that field's arguments: a `@requires` or `@provides` through it could not pass them.
    fn check_external_arguments(
        &mut self,
        coordinate: &str,
        sources: &[FieldSource<'_>],
        args: &[super::model::SuperInputValue],
    ) {
        for external in sources.iter().filter(|s| s.field.external) {
            for arg in args {
                if external.field.args.contains_key(&arg.name) {
                    continue;
                }
                self.errors.push(CompositionError::new(
                    ErrorCode::ExternalArgumentMissing,
                    format!(
                        "{coordinate} is @external in \"{}\" without the argument \"{}\" the \
                         subgraphs resolving it define: an external field must declare them",
                        self.subgraph_name(external),
                        arg.name
                    ),
                ));
            }
        }
    }

    fn merged_type(
        &mut self,
        coordinate: &str,
        sources: &[&FieldSource<'_>],
    ) -> Option<apollo_compiler::ast::Type> {
        let types = || sources.iter().map(|source| &source.field.ty);
        if let Some(general) = self.subtyping.most_general(types()) {
            return Some(general);
        }
        let mut merged = Some(sources[0].field.ty.clone());
        for ty in types().skip(1) {
            merged = merged.and_then(|merged| least_restrictive(&merged, ty));
        }
        if merged.is_none() {
            let names: Vec<&str> = sources.iter().map(|s| self.subgraph_name(s)).collect();
            let types: Vec<String> = types().map(ToString::to_string).collect();
            self.errors.push(CompositionError::new(
                ErrorCode::FieldTypeMismatch,
                format!(
                    "{coordinate} is defined in {} {} with types {}, which are incompatible: \
                     one must be a subtype of the other (a member of the union or an \
                     implementation of the interface, or the same type non-null)",
                    subgraphs_word(names.len()),
                    quoted_list(&names),
                    join_with_and(&types)
                ),
            ));
        }
        merged
    }
}

/// `@override(label:)` is a feature flag name (a letter, then letters, digits, `_`, `-`, `:`, `.`
/// or `/`) or `percent(x)`, x from 0 to 100 with at most two integer digits (or exactly 100) and
/// at most 8 decimals: the rules of Apollo Federation 2.7.
pub(super) fn is_valid_override_label(label: &str) -> bool {
    if let Some(percent) = label
        .strip_prefix("percent(")
        .and_then(|rest| rest.strip_suffix(')'))
    {
        return is_valid_percentage(percent);
    }
    let mut chars = label.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.' | '/'))
}

fn is_valid_percentage(percent: &str) -> bool {
    if percent == "100" {
        return true;
    }
    let (whole, decimals) = match percent.split_once('.') {
        Some((whole, decimals)) => (whole, Some(decimals)),
        None => (percent, None),
    };
    let digits = |text: &str, max: usize| {
        (1..=max).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
    };
    digits(whole, 2) && decimals.is_none_or(|decimals| digits(decimals, 8))
}
