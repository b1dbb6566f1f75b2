//! The supergraph model: which subgraphs resolve each type and field, read from any supergraph SDL
//! (ours or one composed by rover, Hive or wgc), plus the API schema clients see.
//!
//! Planning asks the same questions for every field of every request ("who resolves `Product.price`?",
//! "which keys does `User` have in `accounts`?"), so the answers are precomputed here once per schema.

pub(crate) mod access;
mod api_schema;
mod contexts;
mod cost;
pub(crate) mod link_imports;
mod lookups;
mod read;
mod specs;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use apollo_compiler::executable::SelectionSet;
use apollo_compiler::schema::{ExtendedType, Implementers};
use apollo_compiler::validation::Valid;
use apollo_compiler::{Name, Schema};

pub use access::{AccessRequirements, AccessVocabulary};
pub use contexts::{context_field_set, ContextArgument};
pub use cost::{CostModel, FieldCost, InputFieldCost, ListSize, SizedField};
pub use lookups::{EntityLookup, Lookup, LookupArgument};

use read::{percent_label, read_access, read_graphs, read_type};

/// Index of a subgraph in [`Supergraph::subgraphs`]; cheap to copy and compare on the hot path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubgraphId(pub u16);

/// A subgraph's name as users wrote it in the config (`accounts`), not the `join__Graph` enum value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SubgraphName(pub Arc<str>);

impl fmt::Display for SubgraphName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone)]
pub struct Subgraph {
    pub name: SubgraphName,
    /// The `join__Graph` enum value that names this subgraph inside the supergraph SDL.
    pub graph_value: Name,
    pub url: String,
}

/// One `@join__type` of a type: the type exists in `graph`, optionally as an entity with `key`.
#[derive(Debug, Clone)]
pub struct TypeInGraph {
    pub graph: SubgraphId,
    pub key: Option<Key>,
    pub is_interface_object: bool,
}

#[derive(Debug, Clone)]
pub struct Key {
    /// The key's field set, parsed against the supergraph schema.
    pub selection: Arc<SelectionSet>,
    pub resolvable: bool,
}

/// One `@join__field` of a field.
#[derive(Debug, Clone)]
pub struct FieldSource {
    pub graph: SubgraphId,
    pub external: bool,
    pub requires: Option<Arc<SelectionSet>>,
    pub provides: Option<Arc<SelectionSet>>,
    /// The field was taken over by another subgraph through `@override`: it is not resolved here.
    pub used_overridden: bool,
    /// Progressive `@override`: the index in [`Supergraph::override_labels`] of the label that
    /// decides whether this graph resolves the field on a given request.
    pub override_label: Option<usize>,
    /// With `override_label`: `true` on the overriding graph (resolves while the label is on),
    /// `false` on the overridden one (resolves while it is off).
    pub overrides: bool,
    /// Arguments this graph's field takes from a context (`@fromContext`), not from the client.
    pub context_arguments: Vec<ContextArgument>,
    /// The field's type in this graph when it differs from the supergraph's
    /// (`@join__field(type:)`): a subgraph may return a member object where the supergraph has
    /// the union, or a non-null where it has a nullable type. Fetches are written against it.
    pub ty: Option<apollo_compiler::ast::Type>,
}

impl FieldSource {
    /// Whether this graph resolves the field itself on a request with `labels` switched on.
    pub fn resolves(&self, labels: ActiveLabels) -> bool {
        if self.external || self.used_overridden {
            return false;
        }
        match self.override_label {
            Some(label) => labels.contains(label) == self.overrides,
            None => true,
        }
    }
}

/// The progressive-override labels switched on for one request: bit `i` stands for
/// [`Supergraph::override_labels`]`[i]`. Plans depend on it, so it is part of the plan cache key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ActiveLabels(pub u64);

impl ActiveLabels {
    /// Labels past the 64th are never on: their fields stay with the subgraph they override.
    pub fn contains(self, label: usize) -> bool {
        label < 64 && self.0 & (1 << label) != 0
    }

    pub fn with(self, label: usize) -> Self {
        if label < 64 {
            Self(self.0 | 1 << label)
        } else {
            self
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct FieldInfo {
    /// Empty when the field carries no `@join__field`: then every graph of its parent type resolves it.
    pub sources: Vec<FieldSource>,
    /// A bare `@join__field` (no graph): no subgraph that has the parent type resolves the field
    /// itself. Apollo marks fields that implementations get from an `@interfaceObject` this way.
    pub unresolved_here: bool,
    /// `@authenticated`, `@requiresScopes` and `@policy` on the field.
    pub access: AccessRequirements,
}

#[derive(Debug, Clone, Default)]
pub struct TypeInfo {
    pub graphs: Vec<TypeInGraph>,
    pub fields: HashMap<Name, FieldInfo>,
    /// For interfaces and unions: per subgraph, the object types it knows as members/implementations.
    pub possible_in_graph: HashMap<SubgraphId, Vec<Name>>,
    /// `@authenticated`, `@requiresScopes` and `@policy` on the type.
    pub access: AccessRequirements,
}

#[derive(Debug, thiserror::Error)]
pub enum SupergraphError {
    #[error("the supergraph SDL is not a valid schema:\n{0}")]
    InvalidSchema(String),
    #[error(
        "the supergraph has no `join__Graph` enum; is it a federation supergraph (join v0.1–v0.5)?"
    )]
    NoGraphs,
    #[error("invalid @{directive} on {coordinate}: {message}")]
    InvalidDirective {
        directive: &'static str,
        coordinate: String,
        message: String,
    },
    #[error(
        "the supergraph links {url} for {purpose}, which Seam does not implement; serving it \
         would ignore what that spec requires (an @authenticated field would be public, say), \
         so Seam will not serve this supergraph"
    )]
    UnsupportedSpec { url: String, purpose: String },
    /// A config `merge:` lookup that the supergraph cannot serve (stitching).
    #[error(
        "the `merge` lookup of {type_name} in subgraph `{subgraph}` cannot be used: {message}"
    )]
    InvalidLookup {
        subgraph: String,
        type_name: String,
        message: String,
    },
    /// A subgraph the supergraph gives no URL (an event subgraph) that the config says nothing of.
    #[error(
        "subgraph `{0}` has no URL in the supergraph: give its `url` under `subgraphs` in the \
         config, or its `sdl` if it is an event subgraph"
    )]
    NoUrl(String),
}

/// The immutable model one schema generation serves from; swapped whole on reload.
pub struct Supergraph {
    /// The supergraph schema as written, with every `@join__*` directive.
    pub schema: Valid<Schema>,
    /// What clients see: federation machinery and `@inaccessible` elements removed.
    pub api_schema: Valid<Schema>,
    /// The API schema's implementers, computed once for introspection.
    pub api_implementers: apollo_compiler::collections::HashMap<Name, Implementers>,
    pub subgraphs: Vec<Subgraph>,
    types: HashMap<Name, TypeInfo>,
    /// Every distinct `overrideLabel` in the supergraph, in the order first seen.
    pub override_labels: Vec<Arc<str>>,
    /// `N` of each label that is `percent(N)`, parsed once rather than on every request.
    label_percents: Vec<Option<f64>>,
    /// The `@interfaceObject` graphs of each interface, for fields implementations get from them.
    interface_objects: HashMap<Name, Vec<SubgraphId>>,
    /// Stitching: entities of plain services, fetched through a lookup field (`lookups.rs`).
    lookups: lookups::Lookups,
    /// `@cost` and `@listSize`, for estimating what an operation costs (`cost.rs`).
    pub cost: CostModel,
    /// Which types set each `@context` (`contexts.rs`).
    contexts: contexts::Contexts,
    /// The scopes and policies the access rules name, so a request's rights (and the plans
    /// cached for them) depend only on what this supergraph asks about.
    pub access: AccessVocabulary,
    /// The supergraph SDL text, kept for `seam compose` and readiness reports.
    pub sdl: String,
}

impl fmt::Debug for Supergraph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Supergraph")
            .field("subgraphs", &self.subgraphs)
            .finish_non_exhaustive()
    }
}

impl Supergraph {
    pub fn parse(sdl: &str) -> Result<Self, SupergraphError> {
        let schema = Schema::parse_and_validate(sdl, "supergraph.graphql")
            .map_err(|e| SupergraphError::InvalidSchema(e.errors.to_string()))?;
        let subgraphs = read_graphs(&schema)?;
        let graph_ids: HashMap<Name, SubgraphId> = subgraphs
            .iter()
            .enumerate()
            .map(|(i, g)| (g.graph_value.clone(), SubgraphId(i as u16)))
            .collect();
        let access_names = access::AccessNames::read(&schema);
        let mut types = HashMap::new();
        let mut override_labels = Vec::new();
        let mut interface_objects: HashMap<Name, Vec<SubgraphId>> = HashMap::new();
        for (name, ty) in &schema.types {
            if ty.is_built_in() || name.starts_with("join__") || name.starts_with("link__") {
                continue;
            }
            let mut info = read_type(&schema, &graph_ids, name, ty, &mut override_labels)?;
            read_access(&access_names, ty, &mut info);
            for g in info.graphs.iter().filter(|g| g.is_interface_object) {
                interface_objects
                    .entry(name.clone())
                    .or_default()
                    .push(g.graph);
            }
            types.insert(name.clone(), info);
        }
        if override_labels.len() > 64 {
            tracing::warn!(
                labels = override_labels.len(),
                "the supergraph has more than 64 progressive-override labels; fields of the \
                 labels past the 64th stay with the subgraph they override"
            );
        }
        let cost = CostModel::read(&schema)?;
        let mut access = AccessVocabulary::default();
        for info in types.values() {
            access.add(&info.access);
            for field in info.fields.values() {
                access.add(&field.access);
            }
        }
        let hidden_directives: Vec<Name> = cost
            .directive_names()
            .iter()
            .chain(access_names.directive_names())
            .cloned()
            .collect();
        let api_schema = api_schema::derive(&schema, &hidden_directives)?;
        let api_implementers = api_schema.implementers_map();
        let contexts = contexts::Contexts::read(&schema);
        Ok(Self {
            schema,
            api_schema,
            api_implementers,
            subgraphs,
            types,
            label_percents: override_labels.iter().map(|l| percent_label(l)).collect(),
            override_labels,
            interface_objects,
            lookups: lookups::Lookups::default(),
            contexts,
            cost,
            access,
            sdl: sdl.to_owned(),
        })
    }

    pub fn subgraph(&self, id: SubgraphId) -> &Subgraph {
        &self.subgraphs[id.0 as usize]
    }

    /// Whether `graph` defines `type_name` at all.
    pub fn type_in_graph(&self, type_name: &str, graph: SubgraphId) -> bool {
        self.types
            .get(type_name)
            .is_some_and(|t| t.graphs.iter().any(|g| g.graph == graph))
    }

    /// The resolvable keys of an entity in `graph`.
    pub fn keys_in(&self, type_name: &str, graph: SubgraphId) -> impl Iterator<Item = &Key> {
        self.types
            .get(type_name)
            .into_iter()
            .flat_map(|t| t.graphs.iter())
            .filter(move |g| g.graph == graph)
            .filter_map(|g| g.key.as_ref())
    }

    /// The graphs that can resolve `type_name.field` by themselves (not external, not overridden)
    /// on a request with `labels` switched on.
    pub fn field_resolvers(
        &self,
        type_name: &str,
        field: &str,
        labels: ActiveLabels,
    ) -> Vec<SubgraphId> {
        let Some(info) = self.types.get(type_name) else {
            return Vec::new();
        };
        match info.fields.get(field) {
            Some(f) if f.unresolved_here => Vec::new(),
            Some(f) if !f.sources.is_empty() => f
                .sources
                .iter()
                .filter(|s| s.resolves(labels))
                .map(|s| s.graph)
                .collect(),
            _ => {
                let mut graphs: Vec<SubgraphId> = info.graphs.iter().map(|g| g.graph).collect();
                graphs.dedup();
                graphs
            }
        }
    }

    /// The type of `type_name.field` in `graph`: its own where `@join__field(type:)` says it
    /// differs, the supergraph's otherwise. `None` for a field the supergraph does not have.
    pub fn field_type_in(
        &self,
        type_name: &str,
        field: &str,
        graph: SubgraphId,
    ) -> Option<&apollo_compiler::ast::Type> {
        if field == "__typename" {
            return Some(&TYPENAME_TYPE);
        }
        let own = self
            .field_source(type_name, field, graph)
            .and_then(|s| s.ty.as_ref());
        own.or_else(|| self.schema.type_field(type_name, field).ok().map(|d| &d.ty))
    }

    /// The `@join__field` of `type_name.field` in `graph`, if it has one.
    pub fn field_source(
        &self,
        type_name: &str,
        field: &str,
        graph: SubgraphId,
    ) -> Option<&FieldSource> {
        self.types
            .get(type_name)?
            .fields
            .get(field)?
            .sources
            .iter()
            .find(|s| s.graph == graph)
    }

    /// The object types `graph` may return for the abstract type `type_name`. Members the subgraph
    /// does not know are left out, so its answers are never asked to carry them.
    pub fn possible_types_in(&self, type_name: &str, graph: SubgraphId) -> &[Name] {
        self.types
            .get(type_name)
            .and_then(|t| t.possible_in_graph.get(&graph))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Whether some subgraph can look `type_name` up by a key: then a field one subgraph lacks can
    /// be fetched from another at the object itself.
    pub fn is_entity(&self, type_name: &str) -> bool {
        self.types.get(type_name).is_some_and(|t| {
            t.graphs
                .iter()
                .any(|g| g.key.as_ref().is_some_and(|k| k.resolvable))
        })
    }

    /// Whether `graph` sees the interface `type_name` as an `@interfaceObject` (an object type).
    pub fn is_interface_object_in(&self, type_name: &str, graph: SubgraphId) -> bool {
        self.interface_objects
            .get(type_name)
            .is_some_and(|graphs| graphs.contains(&graph))
    }

    /// The interfaces of `object_type` that some subgraph sees as an `@interfaceObject`, with those
    /// subgraphs: where fields that implementations do not resolve themselves come from.
    pub fn interface_objects_of(
        &self,
        object_type: &str,
    ) -> impl Iterator<Item = (&Name, &[SubgraphId])> {
        let interfaces = match self.schema.types.get(object_type) {
            Some(ExtendedType::Object(o)) => Some(&o.implements_interfaces),
            _ => None,
        };
        interfaces
            .into_iter()
            .flatten()
            .filter_map(|i| self.interface_objects.get_key_value(&i.name))
            .map(|(name, graphs)| (name, graphs.as_slice()))
    }

    /// Graphs where `type_name` is an entity whose resolvable keys answer with the concrete type:
    /// for an interface, the graphs that own it as an entity interface (not as an interface object).
    pub fn entity_graphs(&self, type_name: &str) -> Vec<SubgraphId> {
        let out: Vec<SubgraphId> = self
            .types
            .get(type_name)
            .into_iter()
            .flat_map(|t| t.graphs.iter())
            .filter(|g| !g.is_interface_object && g.key.as_ref().is_some_and(|k| k.resolvable))
            .map(|g| g.graph)
            .fold(Vec::new(), |mut graphs, g| {
                if !graphs.contains(&g) {
                    graphs.push(g);
                }
                graphs
            });
        out
    }

    /// Draws the labels for one request: each `percent(N)` label is on with probability N%, any
    /// other label is on when `enabled` (the config's `override_labels`) names it.
    pub fn draw_labels(&self, enabled: &[String]) -> ActiveLabels {
        let mut active = ActiveLabels::default();
        for (i, (label, percent)) in self
            .override_labels
            .iter()
            .zip(&self.label_percents)
            .enumerate()
        {
            let on = match *percent {
                Some(percent) => random_percent() < percent,
                None => enabled.iter().any(|e| e.as_str() == &**label),
            };
            if on {
                active = active.with(i);
            }
        }
        active
    }

    /// Exactly the labels `names` names, `percent(N)` ones included (for `seam plan --label`).
    pub fn labels_named(&self, names: &[String]) -> ActiveLabels {
        let mut active = ActiveLabels::default();
        for (i, label) in self.override_labels.iter().enumerate() {
            if names.iter().any(|n| n.as_str() == &**label) {
                active = active.with(i);
            }
        }
        active
    }

    /// Refuses to serve a supergraph that links, `for: SECURITY` or `for: EXECUTION`, a spec
    /// Seam does not implement (see `specs.rs`). Planning alone (`seam plan`) does not need it.
    pub fn check_specs_implemented(&self) -> Result<(), SupergraphError> {
        specs::check_implemented(&self.schema)
    }

    /// What a client needs to get values of `type_name` (`None` for an unknown type).
    pub fn type_access(&self, type_name: &str) -> Option<&AccessRequirements> {
        self.types.get(type_name).map(|info| &info.access)
    }

    /// What a client needs to get `type_name.field` (`None` for an unknown field).
    pub fn field_access(&self, type_name: &str, field: &str) -> Option<&AccessRequirements> {
        self.types
            .get(type_name)?
            .fields
            .get(field)
            .map(|info| &info.access)
    }

    /// Whether an object of type `object_type` satisfies a fragment's type condition.
    pub fn satisfies(&self, object_type: &str, condition: &str) -> bool {
        object_type == condition || self.schema.is_subtype(condition, object_type)
    }

    /// Whether any type sets a context: planning tracks ancestors only then.
    pub fn has_contexts(&self) -> bool {
        !self.contexts.is_empty()
    }

    /// The type whose `@context(name: context)` an object of `object_type` sets, if any.
    pub fn context_setter(&self, object_type: &str, context: &str) -> Option<&Name> {
        self.contexts.setter_for(&self.schema, object_type, context)
    }

    pub fn is_abstract(&self, type_name: &str) -> bool {
        matches!(
            self.schema.types.get(type_name),
            Some(ExtendedType::Interface(_) | ExtendedType::Union(_))
        )
    }

    /// The `__typename`s an object planned as `owner` may carry in the response: `owner` itself
    /// (an object type, or an interface met through an `@interfaceObject`, whose subgraph
    /// answers with the interface's name) and, for an abstract type, every object type in it
    /// (the owner of an interface object names the real one).
    pub fn typenames_of(&self, owner: &Name) -> Vec<Name> {
        let mut types = vec![owner.clone()];
        if self.is_abstract(owner) {
            types.extend(possible_types(&self.schema, owner));
        }
        types
    }
}

/// A uniform draw in [0, 100): a per-thread xorshift seeded from the std hasher's random keys,
/// so no random-number crate is needed for one coin toss per label and request.
fn random_percent() -> f64 {
    use std::cell::Cell;
    use std::hash::{BuildHasher, Hasher};
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(0x5EA3);
            h.finish() | 1
        });
    }
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64 * 100.0
    })
}

/// `__typename`'s type, the same on every object.
static TYPENAME_TYPE: apollo_compiler::ast::Type =
    apollo_compiler::ast::Type::NonNullNamed(Name::new_static_unchecked("String"));

/// Object types that satisfy `type_name` in the supergraph (itself for an object type).
pub fn possible_types(schema: &Schema, type_name: &str) -> Vec<Name> {
    match schema.types.get(type_name) {
        Some(ExtendedType::Object(_)) => Name::new(type_name).into_iter().collect(),
        Some(ExtendedType::Union(u)) => u.members.iter().map(|m| m.name.clone()).collect(),
        Some(ExtendedType::Interface(_)) => {
            let mut seen = HashSet::new();
            schema
                .types
                .iter()
                .filter_map(|(n, t)| match t {
                    ExtendedType::Object(o) if o.implements_interfaces.contains(type_name) => {
                        seen.insert(n.clone()).then(|| n.clone())
                    }
                    _ => None,
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
