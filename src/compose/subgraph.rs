//! One subgraph's SDL, parsed and normalised before merging.
//!
//! Subgraph SDLs come from many frameworks and from both federation versions, so this step
//! turns each one into the same shape: federation directives read into flags (whatever the
//! subgraph calls them), federation plumbing (`_Service`, `_entities`, `FieldSet`, ...) dropped,
//! root types renamed to `Query`/`Mutation`/`Subscription`, and only the directives the
//! supergraph keeps (`@inaccessible`, `@tag`, `@cost`, `@listSize`, the access-control ones,
//! `@deprecated`, `@specifiedBy`, `@oneOf` and those `@composeDirective` names) carried on.

use std::collections::{HashMap, HashSet};

use apollo_compiler::ast::{self, Directive, FieldDefinition, InputValueDefinition, Type, Value};
use apollo_compiler::schema::{self, ExtendedType};
use apollo_compiler::{Name, Node, Schema};
use indexmap::IndexMap;

use super::composed::{self, ComposedDirective};
use super::cost;
use super::errors::{CompositionError, ErrorCode};
use super::executable::ExecutableDirective;
use super::fieldset;
use super::links::{bool_argument, string_argument, FederationNames};
use crate::sources::SubgraphSdl;

/// The kinds of named types, for matching a type across subgraphs and for printing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeKind {
    Scalar,
    Object,
    Interface,
    Union,
    Enum,
    InputObject,
}

impl TypeKind {
    /// How error messages name the kind.
    pub fn describe(self) -> &'static str {
        match self {
            TypeKind::Scalar => "a scalar",
            TypeKind::Object => "an object type",
            TypeKind::Interface => "an interface",
            TypeKind::Union => "a union",
            TypeKind::Enum => "an enum",
            TypeKind::InputObject => "an input object type",
        }
    }

    pub fn is_composite(self) -> bool {
        matches!(
            self,
            TypeKind::Object | TypeKind::Interface | TypeKind::Union
        )
    }
}

/// A field pointed at by its parent type's name and its own.
pub(crate) type FieldCoordinate = (Name, Name);

/// A subgraph ready for merging.
#[derive(Debug, Clone)]
pub(crate) struct Subgraph {
    pub name: String,
    /// The subgraph's value in the supergraph's `join__Graph` enum.
    pub graph: String,
    pub url: String,
    pub fed2: bool,
    /// The minor version of the federation v2 spec the subgraph links; 0 for Federation 1.
    pub minor_version: u32,
    pub types: IndexMap<Name, SubgraphType>,
    /// Fields some `@key` selects, nested ones included: they are implicitly shareable.
    pub key_fields: HashSet<FieldCoordinate>,
    /// Fields some `@key` declared on a type extension selects.
    pub extension_key_fields: HashSet<FieldCoordinate>,
    /// Fields some `@key`, `@requires` or `@provides` selects: an overridden field that is still
    /// used this way stays in the supergraph with `usedOverridden: true`.
    pub used_fields: HashSet<FieldCoordinate>,
    /// `@external` fields that a `@provides` makes resolvable on some paths.
    pub provided_fields: HashSet<FieldCoordinate>,
    /// The names the subgraph applies `@cost` and `@listSize` under.
    pub cost_names: cost::UsedNames,
    /// Custom directives `@composeDirective` keeps.
    pub composed_directives: Vec<ComposedDirective>,
    /// Directives clients may write in operations (`executable`).
    pub executable_directives: Vec<ExecutableDirective>,
}

#[derive(Debug, Clone)]
pub(crate) struct SubgraphType {
    pub name: Name,
    pub kind: TypeKind,
    pub description: Option<Node<str>>,
    /// Directives the supergraph keeps, under their canonical names.
    pub directives: Vec<Node<Directive>>,
    pub keys: Vec<Key>,
    pub shareable: bool,
    pub interface_object: bool,
    /// An object or interface the subgraph only extends (`extend type`, or `@extends`): a
    /// Federation 1 subgraph may extend only what another subgraph defines.
    pub extension: bool,
    /// Some of the type comes from a definition rather than an extension.
    pub defined: bool,
    pub implements: Vec<Name>,
    /// Object and interface fields.
    pub fields: IndexMap<Name, SubgraphField>,
    pub input_fields: IndexMap<Name, InputValue>,
    pub members: Vec<Name>,
    pub values: IndexMap<Name, EnumValue>,
    /// The names of the contexts the type sets (`@context(name:)`), as the subgraph wrote them.
    pub contexts: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Key {
    /// The selection as written, whitespace collapsed.
    pub fields: String,
    pub resolvable: bool,
    /// The key was declared on a type extension (`extend type`, or `@extends`).
    pub extension: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct SubgraphField {
    pub name: Name,
    pub description: Option<Node<str>>,
    pub ty: Type,
    pub args: IndexMap<Name, InputValue>,
    pub directives: Vec<Node<Directive>>,
    pub external: bool,
    pub shareable: bool,
    pub requires: Option<String>,
    pub provides: Option<String>,
    pub override_from: Option<String>,
    /// `@override(label:)`: the override applies only while the label is active (progressive
    /// override, Federation 2.7).
    pub override_label: Option<String>,
    /// Arguments the field takes from a context (`@fromContext`); they are not in `args`, since
    /// clients never pass them.
    pub context_arguments: Vec<ContextUse>,
}

/// One `@fromContext` argument: `taxRate(currency: String @fromContext(field: "$store { currency }"))`.
#[derive(Debug, Clone)]
pub(crate) struct ContextUse {
    pub argument: Name,
    pub ty: Type,
    /// The context's name as the subgraph wrote it (`store`).
    pub context: String,
    /// What follows the name in `field`, as written (` { currency }`).
    pub selection: String,
}

/// An argument or an input field.
#[derive(Debug, Clone)]
pub(crate) struct InputValue {
    pub name: Name,
    pub description: Option<Node<str>>,
    pub ty: Type,
    pub default: Option<Node<Value>>,
    pub directives: Vec<Node<Directive>>,
}

impl InputValue {
    /// A caller must always pass it: non-null and without a default.
    pub fn is_required(&self) -> bool {
        self.ty.is_non_null() && self.default.is_none()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct EnumValue {
    pub description: Option<Node<str>>,
    pub directives: Vec<Node<Directive>>,
}

/// Parses and normalises one subgraph. Returns `None` (with errors pushed) when the SDL is not
/// a usable type system document.
pub(crate) fn parse_subgraph(
    input: &SubgraphSdl,
    graph: String,
    errors: &mut Vec<CompositionError>,
) -> Option<Subgraph> {
    let path = format!("{}.graphql", input.name);
    let document = match ast::Document::parse(input.sdl.as_str(), &path) {
        Ok(document) => document,
        Err(invalid) => {
            report_diagnostics(&input.name, &invalid.errors, errors);
            return None;
        }
    };
    // Orphan extensions are adopted because Federation 1 subgraphs `extend type Query` and
    // entities they do not own; built-in redefinitions are ignored because some printers emit
    // `scalar String` and the like.
    let schema = match Schema::builder()
        .adopt_orphan_extensions()
        .ignore_builtin_redefinitions()
        .add_ast(&document)
        .build()
    {
        Ok(schema) => schema,
        Err(invalid) => {
            report_diagnostics(&input.name, &invalid.errors, errors);
            return None;
        }
    };

    let names = FederationNames::from_schema_directives(
        schema
            .schema_definition
            .directives
            .iter()
            .map(|directive| &directive.node),
    );
    super::links::check_imports(
        &input.name,
        schema
            .schema_definition
            .directives
            .iter()
            .map(|directive| &directive.node),
        errors,
    );
    let cost_names = cost::read_subgraph(&input.name, &schema, &names, errors);
    let composed_directives = composed::read_subgraph(&input.name, &schema, &names, errors);
    let mut reader = Reader {
        subgraph: &input.name,
        schema: &schema,
        names: &names,
        composed: &composed_directives,
        renames: HashMap::new(),
        errors,
    };
    reader.collect_root_renames();

    let mut types = IndexMap::new();
    for (name, extended) in &schema.types {
        if extended.is_built_in() || names.is_federation_type(name, extended.is_scalar()) {
            continue;
        }
        if let Some(ty) = reader.read_type(extended) {
            types.insert(ty.name.clone(), ty);
        }
    }

    let executable_directives = reader.read_executable_directives();

    let mut subgraph = Subgraph {
        name: input.name.clone(),
        graph,
        url: input.url.clone().unwrap_or_default(),
        fed2: names.fed2,
        minor_version: names.minor_version,
        types,
        key_fields: HashSet::new(),
        extension_key_fields: HashSet::new(),
        used_fields: HashSet::new(),
        provided_fields: HashSet::new(),
        cost_names,
        composed_directives,
        executable_directives,
    };
    let usage = fieldset::check_field_sets(&subgraph, errors);
    let context_fields = super::contexts::check(&subgraph, errors);
    subgraph.key_fields = usage.key_fields;
    subgraph.extension_key_fields = usage.extension_key_fields;
    subgraph.used_fields = usage.used_fields;
    subgraph.used_fields.extend(context_fields);
    subgraph.provided_fields = usage.provided_fields;
    Some(subgraph)
}

fn report_diagnostics(
    subgraph: &str,
    diagnostics: &apollo_compiler::validation::DiagnosticList,
    errors: &mut Vec<CompositionError>,
) {
    for diagnostic in diagnostics.iter() {
        let place = diagnostic
            .line_column_range()
            .map(|range| {
                format!(
                    " (line {}, column {})",
                    range.start.line, range.start.column
                )
            })
            .unwrap_or_default();
        errors.push(CompositionError::new(
            ErrorCode::InvalidGraphql,
            format!("[{subgraph}] {}{place}", diagnostic.error),
        ));
    }
}

/// Converts the apollo-compiler schema of one subgraph into [`SubgraphType`]s.
struct Reader<'a> {
    subgraph: &'a str,
    schema: &'a Schema,
    names: &'a FederationNames,
    composed: &'a [ComposedDirective],
    /// Non-standard root type names (`RootQuery`) ▶ the standard ones (`Query`).
    renames: HashMap<Name, Name>,
    errors: &'a mut Vec<CompositionError>,
}

/// What the federation directives on a type say.
#[derive(Default)]
struct TypeDirectives {
    kept: Vec<Node<Directive>>,
    keys: Vec<Key>,
    shareable: bool,
    /// The definition and extension blocks a `@shareable` on the type was written on: it shares
    /// the fields declared in that block only, as Apollo reads it.
    shareable_blocks: Vec<schema::ComponentOrigin>,
    interface_object: bool,
    extends: bool,
    /// `@external` on the type itself (Federation 2): every field of it is external.
    external: bool,
    contexts: Vec<String>,
}

impl Reader<'_> {
    fn collect_root_renames(&mut self) {
        let definition = &self.schema.schema_definition;
        for (root, standard) in [
            (&definition.query, "Query"),
            (&definition.mutation, "Mutation"),
            (&definition.subscription, "Subscription"),
        ] {
            let Some(root) = root else { continue };
            if root.name == standard {
                continue;
            }
            if self.schema.types.contains_key(standard) {
                let code = match standard {
                    "Query" => ErrorCode::RootQueryUsed,
                    "Mutation" => ErrorCode::RootMutationUsed,
                    _ => ErrorCode::RootSubscriptionUsed,
                };
                self.errors.push(CompositionError::new(
                    code,
                    format!(
                        "[{}] the {} root type is {}, but another type is named {standard}; \
                         the supergraph names root types {standard}, so rename one of them",
                        self.subgraph,
                        standard.to_lowercase(),
                        root.name
                    ),
                ));
                continue;
            }
            self.renames
                .insert(root.name.clone(), Name::new_unchecked(standard));
        }
    }

    fn rename(&self, name: &Name) -> Name {
        self.renames.get(name).unwrap_or(name).clone()
    }

    fn rename_type(&self, ty: &Type) -> Type {
        match ty {
            Type::Named(name) => Type::Named(self.rename(name)),
            Type::NonNullNamed(name) => Type::NonNullNamed(self.rename(name)),
            Type::List(inner) => Type::List(Box::new(self.rename_type(inner))),
            Type::NonNullList(inner) => Type::NonNullList(Box::new(self.rename_type(inner))),
        }
    }

    /// Reports a reference to a type the subgraph does not define.
    fn check_defined(&mut self, referenced: &Name, user: impl FnOnce() -> String) {
        if !self.schema.types.contains_key(referenced) {
            let user = user();
            self.errors.push(CompositionError::new(
                ErrorCode::InvalidGraphql,
                format!(
                    "[{}] {user} refers to type {referenced}, which the subgraph does not define",
                    self.subgraph
                ),
            ));
        }
    }

    fn read_type(&mut self, extended: &ExtendedType) -> Option<SubgraphType> {
        let name = self.rename(extended.name());
        let type_directives = self.read_type_directives(&name, extended.directives());
        let (extension, defined) = extension_and_definition(extended, type_directives.extends);
        // Apollo's upgrade of a Federation 1 subgraph drops `@external` on types.
        let all_fields_external = type_directives.external && self.names.fed2;
        let mut ty = SubgraphType {
            name: name.clone(),
            kind: TypeKind::Scalar,
            description: extended.description().cloned(),
            directives: type_directives.kept,
            keys: type_directives.keys,
            shareable: type_directives.shareable,
            interface_object: type_directives.interface_object,
            extension,
            defined,
            implements: Vec::new(),
            fields: IndexMap::new(),
            input_fields: IndexMap::new(),
            members: Vec::new(),
            values: IndexMap::new(),
            contexts: type_directives.contexts,
        };
        match extended {
            ExtendedType::Scalar(_) => ty.kind = TypeKind::Scalar,
            ExtendedType::Object(object) => {
                ty.kind = TypeKind::Object;
                ty.implements = self.read_implements(&name, &object.implements_interfaces);
                ty.fields = self.read_fields(&name, &object.fields);
                for (field_name, definition) in &object.fields {
                    if type_directives
                        .shareable_blocks
                        .contains(&definition.origin)
                    {
                        if let Some(field) = ty.fields.get_mut(field_name) {
                            field.shareable = true;
                        }
                    }
                }
                if all_fields_external {
                    for field in ty.fields.values_mut() {
                        field.external = true;
                    }
                }
                if name == "Query" && ty.fields.is_empty() {
                    // Only `_service`/`_entities` were there: the subgraph has no root query of
                    // its own, so it gets no `@join__type` on `Query`.
                    return None;
                }
            }
            ExtendedType::Interface(interface) => {
                ty.kind = TypeKind::Interface;
                ty.implements = self.read_implements(&name, &interface.implements_interfaces);
                ty.fields = self.read_fields(&name, &interface.fields);
                self.check_interface_keys(&mut ty);
                self.refuse_shareable_interface(&ty);
                self.refuse_field_sets_on_interface(&ty);
            }
            ExtendedType::Union(union) => {
                ty.kind = TypeKind::Union;
                // `@key` is not allowed on a union (its locations are objects and interfaces):
                // the subgraph's own schema is invalid GraphQL, as Apollo reports it.
                if !ty.keys.is_empty() {
                    self.errors.push(CompositionError::new(
                        ErrorCode::InvalidGraphql,
                        format!(
                            "[{}] @key on union {name}: @key applies to object and interface \
                             types only",
                            self.subgraph
                        ),
                    ));
                    ty.keys.clear();
                }
                for member in &union.members {
                    self.check_defined(&member.name, || format!("union {name}"));
                    ty.members.push(self.rename(&member.name));
                }
            }
            ExtendedType::Enum(enum_type) => {
                ty.kind = TypeKind::Enum;
                for (value_name, value) in &enum_type.values {
                    let directives = self.kept_directives(&value.directives);
                    ty.values.insert(
                        value_name.clone(),
                        EnumValue {
                            description: value.description.clone(),
                            directives,
                        },
                    );
                }
            }
            ExtendedType::InputObject(input) => {
                ty.kind = TypeKind::InputObject;
                for (field_name, field) in &input.fields {
                    let value = self.read_input_value(field, || format!("{name}.{field_name}"));
                    ty.input_fields.insert(field_name.clone(), value);
                }
            }
        }
        Some(ty)
    }

    /// `@key` on an interface makes it an entity interface, which Federation 2.3 introduced.
    /// Federation 1 subgraphs had no such thing and Apollo drops their interface keys.
    fn check_interface_keys(&mut self, ty: &mut SubgraphType) {
        if ty.keys.is_empty() {
            return;
        }
        if !self.names.fed2 {
            ty.keys.clear();
        } else if self.names.minor_version < 3 {
            self.errors.push(CompositionError::new(
                ErrorCode::KeyUnsupportedOnInterface,
                format!(
                    "[{}] @key on interface {} needs Federation 2.3 or later, but the subgraph \
                     links federation v2.{}",
                    self.subgraph, ty.name, self.names.minor_version
                ),
            ));
            ty.keys.clear();
        }
    }

    fn read_implements(
        &mut self,
        type_name: &Name,
        interfaces: &apollo_compiler::collections::IndexSet<schema::ComponentName>,
    ) -> Vec<Name> {
        let mut names = Vec::new();
        for interface in interfaces {
            self.check_defined(&interface.name, || format!("type {type_name}"));
            names.push(self.rename(&interface.name));
        }
        names
    }

    fn read_type_directives(
        &mut self,
        type_name: &Name,
        directives: &schema::DirectiveList,
    ) -> TypeDirectives {
        let mut read = TypeDirectives::default();
        let mut extends = false;
        for directive in directives.iter() {
            match self.names.canonical(&directive.name) {
                Some("key") => {
                    let Some(fields) = string_argument(directive, "fields") else {
                        self.errors.push(CompositionError::new(
                            ErrorCode::KeyInvalidFields,
                            format!(
                                "[{}] @key on {type_name} has no `fields` string",
                                self.subgraph
                            ),
                        ));
                        continue;
                    };
                    read.keys.push(Key {
                        fields: collapse_whitespace(fields),
                        resolvable: bool_argument(directive, "resolvable").unwrap_or(true),
                        extension: directive.origin.extension_id().is_some(),
                    });
                }
                Some("extends") => extends = true,
                Some("shareable") => {
                    read.shareable = true;
                    read.shareable_blocks.push(directive.origin.clone());
                }
                Some("interfaceObject") => read.interface_object = true,
                Some("external") => read.external = true,
                Some("context") => {
                    if let Some(name) = string_argument(directive, "name") {
                        read.contexts.push(name.to_string());
                    }
                }
                _ => {
                    if let Some(kept) = self.keep_directive(&directive.node) {
                        read.kept.push(kept);
                    }
                }
            }
        }
        // Federation 1 subgraphs are read as Apollo upgrades them to Federation 2: `extend type`
        // becomes a plain definition, so only `@extends` still marks the keys as an extension's.
        if extends || !self.names.fed2 {
            for key in &mut read.keys {
                key.extension = extends;
            }
        }
        read.extends = extends;
        read
    }

    fn read_fields(
        &mut self,
        type_name: &Name,
        fields: &apollo_compiler::collections::IndexMap<Name, schema::Component<FieldDefinition>>,
    ) -> IndexMap<Name, SubgraphField> {
        let mut read = IndexMap::new();
        for (field_name, definition) in fields {
            if type_name == "Query" && matches!(field_name.as_str(), "_service" | "_entities") {
                continue;
            }
            let field = self.read_field(type_name, definition);
            read.insert(field_name.clone(), field);
        }
        read
    }

    fn read_field(&mut self, type_name: &Name, definition: &FieldDefinition) -> SubgraphField {
        let field_name = &definition.name;
        self.check_defined(definition.ty.inner_named_type(), || {
            format!("{type_name}.{field_name}")
        });
        let mut field = SubgraphField {
            name: field_name.clone(),
            description: definition.description.clone(),
            ty: self.rename_type(&definition.ty),
            args: IndexMap::new(),
            directives: Vec::new(),
            external: false,
            shareable: false,
            requires: None,
            provides: None,
            override_from: None,
            override_label: None,
            context_arguments: Vec::new(),
        };
        for argument in &definition.arguments {
            let from_context = argument
                .directives
                .iter()
                .find(|d| self.names.canonical(&d.name) == Some("fromContext"));
            if let Some(directive) = from_context {
                let coordinate = format!("{type_name}.{field_name}({}:)", argument.name);
                match string_argument(directive, "field").and_then(super::contexts::parse_field) {
                    Some((context, selection)) => field.context_arguments.push(ContextUse {
                        argument: argument.name.clone(),
                        ty: self.rename_type(&argument.ty),
                        context,
                        selection,
                    }),
                    None => self.errors.push(CompositionError::new(
                        ErrorCode::ContextInvalidSelection,
                        format!(
                            "[{}] @fromContext on \"{coordinate}\" must name a context and a \
                             selection (\"$name {{ field }}\")",
                            self.subgraph
                        ),
                    )),
                }
                continue;
            }
            let value = self.read_input_value(argument, || {
                format!("{type_name}.{field_name}({}:)", argument.name)
            });
            field.args.insert(argument.name.clone(), value);
        }
        for directive in definition.directives.iter() {
            match self.names.canonical(&directive.name) {
                Some("external") => field.external = true,
                Some("shareable") => field.shareable = true,
                Some("requires") => {
                    field.requires = string_argument(directive, "fields").map(collapse_whitespace)
                }
                Some("provides") => {
                    field.provides = string_argument(directive, "fields").map(collapse_whitespace)
                }
                Some("override") => {
                    field.override_from = string_argument(directive, "from").map(str::to_string);
                    // An empty label is no label, as in Apollo's composition.
                    field.override_label = string_argument(directive, "label")
                        .filter(|label| !label.is_empty())
                        .map(str::to_string);
                }
                _ => {
                    if let Some(kept) = self.keep_directive(directive) {
                        field.directives.push(kept);
                    }
                }
            }
        }
        field
    }

    fn read_input_value(
        &mut self,
        definition: &InputValueDefinition,
        coordinate: impl FnOnce() -> String,
    ) -> InputValue {
        let coordinate = coordinate();
        // The GraphQL spec: a value clients must give cannot be deprecated (they could not
        // stop giving it).
        let required = definition.ty.is_non_null() && definition.default_value.is_none();
        if required && definition.directives.get("deprecated").is_some() {
            self.errors.push(CompositionError::new(
                ErrorCode::InvalidGraphql,
                format!(
                    "[{}] {coordinate} is required (non-null without a default) and so cannot \
                     be @deprecated",
                    self.subgraph
                ),
            ));
        }
        self.check_defined(definition.ty.inner_named_type(), || coordinate);
        InputValue {
            name: definition.name.clone(),
            description: definition.description.clone(),
            ty: self.rename_type(&definition.ty),
            default: definition.default_value.clone(),
            directives: self.kept_directives(&definition.directives),
        }
    }

    /// `@shareable` says a field may be resolved by several subgraphs; an interface resolves
    /// nothing itself (its implementations do), so Apollo refuses it there.
    fn refuse_shareable_interface(&mut self, ty: &SubgraphType) {
        let mut places: Vec<String> = Vec::new();
        if ty.shareable {
            places.push(format!("interface {}", ty.name));
        }
        places.extend(
            ty.fields
                .values()
                .filter(|field| field.shareable)
                .map(|field| format!("interface field {}.{}", ty.name, field.name)),
        );
        for place in places {
            self.errors.push(CompositionError::new(
                ErrorCode::InvalidShareableUsage,
                format!(
                    "[{}] @shareable on {place}: interfaces are not resolved themselves, so they \
                     cannot be shared; mark the implementations' fields instead",
                    self.subgraph
                ),
            ));
        }
    }

    /// `@requires` and `@provides` say how a subgraph resolves a field; an interface field is
    /// resolved by its implementations, so Apollo refuses them there.
    fn refuse_field_sets_on_interface(&mut self, ty: &SubgraphType) {
        for field in ty.fields.values() {
            for (set, directive, code) in [
                (
                    &field.requires,
                    "requires",
                    ErrorCode::RequiresUnsupportedOnInterface,
                ),
                (
                    &field.provides,
                    "provides",
                    ErrorCode::ProvidesUnsupportedOnInterface,
                ),
            ] {
                if set.is_some() {
                    self.errors.push(CompositionError::new(
                        code,
                        format!(
                            "[{}] @{directive} on interface field {}.{}: only the fields of \
                             object types are resolved, so put it on the implementations",
                            self.subgraph, ty.name, field.name
                        ),
                    ));
                }
            }
        }
    }

    /// The subgraph's own directives with executable locations; federation's, the built-in
    /// ones and those `@composeDirective` keeps are composed by their own rules.
    fn read_executable_directives(&mut self) -> Vec<ExecutableDirective> {
        let schema = self.schema;
        let mut out = Vec::new();
        for (name, definition) in &schema.directive_definitions {
            let locations = super::executable::executable_locations(&definition.locations);
            // The spec's own directives count as built in even where a printer redefines them
            // (async-graphql prints `@skip` and `@include`); `@defer`/`@stream` are the
            // gateway's business, never a subgraph's.
            let standard = matches!(
                name.as_str(),
                "skip" | "include" | "deprecated" | "specifiedBy" | "oneOf" | "defer" | "stream"
            );
            if definition.is_built_in()
                || standard
                || locations.is_empty()
                || self.names.canonical(name).is_some()
                || name == "link"
                || self.composed.iter().any(|composed| &composed.name == name)
            {
                continue;
            }
            let args = definition
                .arguments
                .iter()
                .map(|arg| {
                    let value = self.read_input_value(arg, || format!("@{name}({}:)", arg.name));
                    (value.name.clone(), value)
                })
                .collect();
            out.push(ExecutableDirective {
                name: name.clone(),
                description: definition.description.clone(),
                args,
                repeatable: definition.repeatable,
                locations,
            });
        }
        out
    }

    fn kept_directives(&self, directives: &ast::DirectiveList) -> Vec<Node<Directive>> {
        directives
            .iter()
            .filter_map(|directive| self.keep_directive(directive))
            .collect()
    }

    /// The directive as the supergraph carries it, or `None` if it does not reach the supergraph:
    /// federation directives become `@join__*` arguments, and custom directives are composed
    /// only when `@composeDirective` asks for them.
    fn keep_directive(&self, directive: &Node<Directive>) -> Option<Node<Directive>> {
        match self.names.canonical(&directive.name) {
            Some(
                canonical @ ("inaccessible" | "tag" | "cost" | "listSize" | "authenticated"
                | "requiresScopes" | "policy"),
            ) => {
                if directive.name == canonical {
                    Some(directive.clone())
                } else {
                    Some(Node::new(Directive {
                        name: Name::new_unchecked(canonical),
                        arguments: directive.arguments.clone(),
                    }))
                }
            }
            Some(_) => None,
            None => {
                let kept = matches!(
                    directive.name.as_str(),
                    "deprecated" | "specifiedBy" | "oneOf"
                ) || self
                    .composed
                    .iter()
                    .any(|composed| composed.name == directive.name);
                kept.then(|| directive.clone())
            }
        }
    }
}

/// Whether an object or interface is only an extension in this subgraph (Apollo's rule: it has
/// extension parts or `@extends`, and `@extends` or no part from a definition), and whether any
/// part of it comes from a definition.
fn extension_and_definition(extended: &ExtendedType, extends: bool) -> (bool, bool) {
    let origins: Vec<bool> = match extended {
        ExtendedType::Object(object) => object
            .directives
            .iter()
            .map(|directive| directive.origin.extension_id().is_some())
            .chain(
                object
                    .fields
                    .values()
                    .map(|field| field.origin.extension_id().is_some()),
            )
            .collect(),
        ExtendedType::Interface(interface) => interface
            .directives
            .iter()
            .map(|directive| directive.origin.extension_id().is_some())
            .chain(
                interface
                    .fields
                    .values()
                    .map(|field| field.origin.extension_id().is_some()),
            )
            .collect(),
        _ => return (false, true),
    };
    let has_extension_parts = origins.iter().any(|from_extension| *from_extension);
    let defined = origins.iter().any(|from_extension| !*from_extension);
    let extension = extends || (has_extension_parts && !defined);
    (extension, defined)
}

/// Field sets are compared and printed in one canonical spacing.
fn collapse_whitespace(fields: &str) -> String {
    fields
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
