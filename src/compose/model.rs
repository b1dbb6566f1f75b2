//! The composed supergraph, between merging and printing.
//!
//! Graphs are referred to by their index in [`Supergraph::graphs`], which is also their order
//! in the `join__Graph` enum.

use apollo_compiler::ast::{Directive, Type, Value};
use apollo_compiler::{Name, Node};
use indexmap::IndexMap;

use super::access::AccessSpecs;
use super::composed::ComposedDirective;
use super::cost::SupergraphNames;
use super::subgraph::TypeKind;

#[derive(Debug, Clone)]
pub(crate) struct Supergraph {
    pub graphs: Vec<Graph>,
    pub join_version: JoinVersion,
    /// In print order: root types first, then by name.
    pub types: Vec<SuperType>,
    pub uses_inaccessible: bool,
    pub uses_tag: bool,
    /// The names of `@cost` and `@listSize` when some subgraph applies one: the cost spec is
    /// linked then.
    pub cost: Option<SupergraphNames>,
    /// The access-control specs some subgraph applies a directive of.
    pub access: AccessSpecs,
    /// Custom directives kept through `@composeDirective`.
    pub composed: Vec<ComposedDirective>,
    /// Directives clients may write in operations, defined by every subgraph (`executable`).
    pub executable: Vec<Node<apollo_compiler::ast::DirectiveDefinition>>,
    /// Some input object is `@oneOf`, so the supergraph defines the directive.
    pub uses_one_of: bool,
    /// Some type sets a context: the context spec is linked and `@context` defined.
    pub uses_context: bool,
}

/// The version of the join spec the supergraph links. Apollo links the one that matches the
/// newest federation spec among the subgraphs (v0.4 from Federation 2.7, v0.5 from 2.8), and
/// the newer versions only add arguments and types; Seam does the same, and links at least v0.4
/// when a progressive override label needs `@join__field(overrideLabel:)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum JoinVersion {
    V0_3,
    V0_4,
    V0_5,
}

impl Supergraph {
    /// The types by name, for checks that follow field types from type to type.
    pub fn types_by_name(&self) -> std::collections::HashMap<&Name, &SuperType> {
        self.types.iter().map(|ty| (&ty.name, ty)).collect()
    }
}

impl JoinVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            JoinVersion::V0_3 => "v0.3",
            JoinVersion::V0_4 => "v0.4",
            JoinVersion::V0_5 => "v0.5",
        }
    }

    /// The version Apollo links for a subgraph of federation v2.`minor`.
    pub fn for_federation_minor(minor: u32) -> Self {
        match minor {
            0..=6 => JoinVersion::V0_3,
            7 => JoinVersion::V0_4,
            _ => JoinVersion::V0_5,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Graph {
    /// The `join__Graph` value, e.g. `ACCOUNTS`.
    pub enum_value: String,
    /// The subgraph's name from the config.
    pub name: String,
    pub url: String,
}

#[derive(Debug, Clone)]
pub(crate) struct SuperType {
    pub name: Name,
    pub kind: TypeKind,
    pub description: Option<Node<str>>,
    pub directives: Vec<Node<Directive>>,
    pub join_types: Vec<JoinType>,
    /// Interfaces the type implements in at least one subgraph.
    pub interfaces: Vec<Name>,
    /// `(graph, interface)`: where each implementation is declared.
    pub join_implements: Vec<(usize, Name)>,
    /// Fields of objects and interfaces, or input fields.
    pub fields: IndexMap<Name, SuperField>,
    pub members: Vec<Name>,
    /// `(graph, member)`: which subgraph declares which union member.
    pub join_members: Vec<(usize, Name)>,
    pub values: IndexMap<Name, SuperEnumValue>,
    /// The contexts the type sets, by supergraph name (`catalog__shop`).
    pub contexts: Vec<String>,
}

impl SuperType {
    pub fn new(name: Name, kind: TypeKind) -> Self {
        SuperType {
            name,
            kind,
            description: None,
            directives: Vec::new(),
            join_types: Vec::new(),
            interfaces: Vec::new(),
            join_implements: Vec::new(),
            fields: IndexMap::new(),
            members: Vec::new(),
            join_members: Vec::new(),
            values: IndexMap::new(),
            contexts: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct JoinType {
    pub graph: usize,
    pub key: Option<String>,
    pub extension: bool,
    pub resolvable: bool,
    pub interface_object: bool,
}

/// An object or interface field, or an input field (which has no arguments but may have a
/// default).
#[derive(Debug, Clone)]
pub(crate) struct SuperField {
    pub name: Name,
    pub description: Option<Node<str>>,
    pub ty: Type,
    pub args: Vec<SuperInputValue>,
    pub default: Option<Node<Value>>,
    pub directives: Vec<Node<Directive>>,
    /// Empty when the field is resolvable by every graph of its parent type, which is what
    /// a field without `@join__field` means.
    pub join_fields: Vec<JoinField>,
}

#[derive(Debug, Clone)]
pub(crate) struct SuperInputValue {
    pub name: Name,
    pub description: Option<Node<str>>,
    pub ty: Type,
    pub default: Option<Node<Value>>,
    pub directives: Vec<Node<Directive>>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct JoinField {
    /// `None` prints a bare `@join__field`: the field exists only through an
    /// `@interfaceObject` and no subgraph resolves it on this type directly.
    pub graph: Option<usize>,
    pub requires: Option<String>,
    pub provides: Option<String>,
    /// The field's type in this graph, given when the graphs disagree on it.
    pub ty: Option<Type>,
    pub external: bool,
    pub override_from: Option<String>,
    pub used_overridden: bool,
    /// The progressive override label (`percent(25)`, a flag name): on the overriding graph it
    /// says when the override applies; on the overridden one, that it still resolves the field
    /// while the label is inactive.
    pub override_label: Option<String>,
    /// Arguments the field takes from contexts in this graph (join v0.5 `contextArguments`).
    pub context_arguments: Vec<JoinContextArgument>,
}

/// One entry of `@join__field(contextArguments:)`.
#[derive(Debug, Clone)]
pub(crate) struct JoinContextArgument {
    /// The supergraph name of the context (`pricing__store`).
    pub context: String,
    pub name: String,
    /// The argument's type in the subgraph, as GraphQL text.
    pub ty: String,
    /// The selection as the subgraph wrote it after the context's name.
    pub selection: String,
}

#[derive(Debug, Clone)]
pub(crate) struct SuperEnumValue {
    pub name: Name,
    pub description: Option<Node<str>>,
    pub directives: Vec<Node<Directive>>,
    pub graphs: Vec<usize>,
}
