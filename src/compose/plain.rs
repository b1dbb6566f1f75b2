//! Stitching: plain GraphQL services turned into Federation 2 subgraphs before composition.
//!
//! A plain service knows nothing of federation, so its SDL is rewritten into the federation
//! subgraph it behaves like, and the rest of composition treats it as any other subgraph:
//! - every object type is `@shareable`: a type that two services both define is one value type;
//! - a type the service's `merge:` config can look up gets `@key(fields: "<key>")`, so other
//!   services' objects of that type can reach it (the gateway sends the lookup query instead of
//!   `_entities`);
//! - a type that another service looks up, and that this one has the key fields of, gets
//!   `@key(fields: "<key>", resolvable: false)`: its objects can leave for that service.
//!
//! Root fields are not shared: two services offering `Query.users` would leave the gateway to
//! guess which one a client means, so that is an error naming both. A type that is an object in
//! one service and an enum in another, or a field whose type differs between services, is left
//! to the ordinary merge rules, whose errors already name both subgraphs, the type and the field.

use std::collections::{BTreeMap, HashSet};

use apollo_compiler::ast::{
    self, Argument, Definition, Directive, DirectiveList, SchemaExtension, Type, Value,
};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::{Name, Node, Schema};

use super::errors::{quoted_list, CompositionError, ErrorCode};
use crate::config::MergeRule;
use crate::sources::{SubgraphKind, SubgraphSdl};

/// The federation version a converted service links: the first with `@key(resolvable:)` and
/// type-level `@shareable` both settled.
const FEDERATION_LINK: &str = "https://specs.apollo.dev/federation/v2.3";

/// Returns the subgraphs with every plain service rewritten as a Federation 2 subgraph, in the
/// same order; federation subgraphs are passed through untouched.
pub(super) fn federate(
    subgraphs: &[&SubgraphSdl],
    errors: &mut Vec<CompositionError>,
) -> Vec<SubgraphSdl> {
    for subgraph in subgraphs {
        if subgraph.kind == SubgraphKind::Federation {
            for rule in &subgraph.merge {
                errors.push(CompositionError::new(
                    ErrorCode::MergeLookupInvalid,
                    format!(
                        "[{}] the config has a `merge` entry for {}, but this is a federation \
                         subgraph (it answers `_service`); give {} `@key(fields: \"{}\")` in its \
                         schema instead",
                        subgraph.name,
                        rule.type_name,
                        rule.type_name,
                        rule.key()
                    ),
                ));
            }
        }
    }
    if subgraphs.iter().all(|s| s.kind == SubgraphKind::Federation) {
        return subgraphs.iter().map(|s| (*s).clone()).collect();
    }

    // A subgraph whose SDL does not parse is passed on as it is: reading it for composition
    // reports why, with line and column.
    let schemas: Vec<Option<Schema>> = subgraphs.iter().map(|s| read_schema(s)).collect();

    // Type name ▶ the keys it is looked up by, and which services can look it up.
    let mut lookups: BTreeMap<&str, Vec<(usize, String)>> = BTreeMap::new();
    for (index, subgraph) in subgraphs.iter().enumerate() {
        let (SubgraphKind::Plain, Some(schema)) = (subgraph.kind, &schemas[index]) else {
            continue;
        };
        for rule in &subgraph.merge {
            if let Err(message) = check_rule(schema, rule) {
                errors.push(CompositionError::new(
                    ErrorCode::MergeLookupInvalid,
                    format!("[{}] {message}", subgraph.name),
                ));
                continue;
            }
            lookups
                .entry(rule.type_name.as_str())
                .or_default()
                .push((index, rule.key()));
        }
    }

    let dropped = root_field_conflicts(subgraphs, &schemas, errors);

    subgraphs
        .iter()
        .enumerate()
        .map(|(index, subgraph)| match (subgraph.kind, &schemas[index]) {
            (SubgraphKind::Plain, Some(schema)) => {
                let plan = Conversion {
                    index,
                    schema,
                    lookups: &lookups,
                    dropped: &dropped[index],
                };
                SubgraphSdl {
                    sdl: plan.rewrite(&subgraph.sdl, &subgraph.name),
                    ..(*subgraph).clone()
                }
            }
            _ => (*subgraph).clone(),
        })
        .collect()
}

fn read_schema(subgraph: &SubgraphSdl) -> Option<Schema> {
    let document =
        ast::Document::parse(subgraph.sdl.as_str(), format!("{}.graphql", subgraph.name)).ok()?;
    Schema::builder()
        .adopt_orphan_extensions()
        .ignore_builtin_redefinitions()
        .add_ast(&document)
        .build()
        .ok()
}

/// Checks a `merge:` entry against the service's schema; the message says what to fix.
fn check_rule(schema: &Schema, rule: &MergeRule) -> Result<(), String> {
    let type_name = rule.type_name.as_str();
    let object = match schema.types.get(type_name) {
        Some(ExtendedType::Object(object)) => object,
        Some(other) => {
            return Err(format!(
                "`merge` names {type_name}, which is {} in this service; only object types can be \
                 looked up",
                kind_of(other)
            ))
        }
        None => {
            return Err(format!(
                "`merge` names type {type_name}, which this service does not define"
            ))
        }
    };
    for key_field in &rule.key_fields {
        let Some(field) = object.fields.get(key_field.as_str()) else {
            return Err(format!(
                "the merge key of {type_name} selects \"{key_field}\", which {type_name} does not \
                 have"
            ));
        };
        let leaf = schema
            .types
            .get(field.ty.inner_named_type())
            .is_some_and(|ty| matches!(ty, ExtendedType::Scalar(_) | ExtendedType::Enum(_)));
        if !leaf || field.ty.is_list() {
            return Err(format!(
                "the merge key of {type_name} selects {type_name}.{key_field} of type {}; key \
                 fields of a lookup must be scalars or enums",
                field.ty
            ));
        }
    }
    let query_root = schema.schema_definition.query.as_ref().and_then(|root| {
        match schema.types.get(root.name.as_str()) {
            Some(ExtendedType::Object(object)) => Some(object),
            _ => None,
        }
    });
    let Some(lookup) = query_root.and_then(|root| root.fields.get(rule.query.as_str())) else {
        return Err(format!(
            "the merge lookup for {type_name} is Query.{}, which this service does not have",
            rule.query
        ));
    };
    let returns_one =
        matches!(&lookup.ty, Type::Named(name) | Type::NonNullNamed(name) if name == type_name);
    if !returns_one {
        return Err(format!(
            "the merge lookup Query.{} returns {}; a lookup must return one {type_name} (or null) \
             for a key",
            rule.query, lookup.ty
        ));
    }
    for (argument, key_field) in &rule.arguments {
        if !lookup.arguments.iter().any(|a| a.name == argument.as_str()) {
            return Err(format!(
                "the merge lookup Query.{} has no argument \"{argument}\" to take the key field \
                 {type_name}.{key_field} (map the argument to it under `args:`)",
                rule.query
            ));
        }
    }
    for argument in &lookup.arguments {
        let filled = rule
            .arguments
            .iter()
            .any(|(a, _)| argument.name == a.as_str());
        if !filled && argument.is_required() {
            return Err(format!(
                "the merge lookup Query.{} has the required argument \"{}\", which no key field \
                 of {type_name} fills",
                rule.query, argument.name
            ));
        }
    }
    Ok(())
}

fn kind_of(ty: &ExtendedType) -> &'static str {
    match ty {
        ExtendedType::Scalar(_) => "a scalar",
        ExtendedType::Object(_) => "an object type",
        ExtendedType::Interface(_) => "an interface",
        ExtendedType::Union(_) => "a union",
        ExtendedType::Enum(_) => "an enum",
        ExtendedType::InputObject(_) => "an input object type",
    }
}

/// Per subgraph, the `(root type, field)` pairs taken out of its converted SDL.
type Dropped = Vec<HashSet<(Name, Name)>>;

/// Reports every root field that a plain service offers and another subgraph offers too, and
/// drops those fields from the plain services so the merge does not report them again.
fn root_field_conflicts(
    subgraphs: &[&SubgraphSdl],
    schemas: &[Option<Schema>],
    errors: &mut Vec<CompositionError>,
) -> Dropped {
    let mut dropped: Dropped = vec![HashSet::new(); subgraphs.len()];
    for operation in ["Query", "Mutation", "Subscription"] {
        // Field ▶ (subgraph index, the subgraph's own name for the root type).
        let mut offered: BTreeMap<&Name, Vec<(usize, &Name)>> = BTreeMap::new();
        for (index, schema) in schemas.iter().enumerate() {
            let Some(schema) = schema else { continue };
            let Some((root_name, root)) = root_type(schema, operation) else {
                continue;
            };
            for field in root.fields.keys() {
                if !matches!(field.as_str(), "_service" | "_entities") {
                    offered.entry(field).or_default().push((index, root_name));
                }
            }
        }
        for (field, offers) in offered {
            let plain = offers
                .iter()
                .any(|(index, _)| subgraphs[*index].kind == SubgraphKind::Plain);
            if offers.len() < 2 || !plain {
                continue;
            }
            let names: Vec<&str> = offers
                .iter()
                .map(|(index, _)| subgraphs[*index].name.as_str())
                .collect();
            errors.push(CompositionError::new(
                ErrorCode::RootFieldConflict,
                format!(
                    "Root field {operation}.{field} is offered by subgraphs {}; a plain service's \
                     root fields cannot be shared, so rename or remove all but one",
                    quoted_list(&names)
                ),
            ));
            for (index, root_name) in offers {
                if subgraphs[index].kind == SubgraphKind::Plain {
                    dropped[index].insert((root_name.clone(), field.clone()));
                }
            }
        }
    }
    dropped
}

/// The root type of `operation` (`Query`, ...) in a subgraph, under the subgraph's own name.
fn root_type<'s>(
    schema: &'s Schema,
    operation: &str,
) -> Option<(&'s Name, &'s apollo_compiler::schema::ObjectType)> {
    let definition = &schema.schema_definition;
    let root = match operation {
        "Query" => definition.query.as_ref(),
        "Mutation" => definition.mutation.as_ref(),
        _ => definition.subscription.as_ref(),
    }?;
    match schema.types.get(root.name.as_str()) {
        Some(ExtendedType::Object(object)) => Some((&root.name, object)),
        _ => None,
    }
}

/// What to change in one plain service's SDL.
struct Conversion<'a> {
    index: usize,
    schema: &'a Schema,
    lookups: &'a BTreeMap<&'a str, Vec<(usize, String)>>,
    dropped: &'a HashSet<(Name, Name)>,
}

impl Conversion<'_> {
    fn rewrite(&self, sdl: &str, name: &str) -> String {
        let Ok(mut document) = ast::Document::parse(sdl, format!("{name}.graphql")) else {
            return sdl.to_string();
        };
        let roots: Vec<&Name> = ["Query", "Mutation", "Subscription"]
            .into_iter()
            .filter_map(|operation| root_type(self.schema, operation).map(|(name, _)| name))
            .collect();
        // The directives go on one definition per type: the definition, or the first extension
        // of a type that is only extended.
        let mut decorated: HashSet<Name> = HashSet::new();
        for definition in &mut document.definitions {
            let (type_name, directives, fields) = match definition {
                Definition::ObjectTypeDefinition(object) => {
                    let object = object.make_mut();
                    (&object.name, &mut object.directives, &mut object.fields)
                }
                Definition::ObjectTypeExtension(object) => {
                    let object = object.make_mut();
                    (&object.name, &mut object.directives, &mut object.fields)
                }
                _ => continue,
            };
            fields.retain(|field| {
                !self
                    .dropped
                    .contains(&(type_name.clone(), field.name.clone()))
            });
            if roots.contains(&type_name) || !decorated.insert(type_name.clone()) {
                continue;
            }
            directives.push(directive("shareable", Vec::new()));
            for (key, resolvable) in self.keys(type_name) {
                let mut arguments = vec![argument("fields", Value::String(key))];
                if !resolvable {
                    arguments.push(argument("resolvable", Value::Boolean(false)));
                }
                directives.push(directive("key", arguments));
            }
        }
        let import = ["@key", "@shareable"]
            .into_iter()
            .map(|name| Node::new(Value::String(name.to_string())))
            .collect();
        let link = directive(
            "link",
            vec![
                argument("url", Value::String(FEDERATION_LINK.to_string())),
                argument("import", Value::List(import)),
            ],
        );
        document.definitions.insert(
            0,
            Definition::SchemaExtension(Node::new(SchemaExtension {
                directives: DirectiveList(vec![link]),
                root_operations: Vec::new(),
            })),
        );
        document.to_string()
    }

    /// The keys `type_name` gets here: resolvable for this service's own lookups; not
    /// resolvable for other services' lookups whose key fields the type has here.
    fn keys(&self, type_name: &Name) -> Vec<(String, bool)> {
        let Some(lookups) = self.lookups.get(type_name.as_str()) else {
            return Vec::new();
        };
        let own: Vec<(String, bool)> = lookups
            .iter()
            .filter(|(index, _)| *index == self.index)
            .map(|(_, key)| (key.clone(), true))
            .collect();
        if !own.is_empty() {
            return own;
        }
        let Some(ExtendedType::Object(object)) = self.schema.types.get(type_name) else {
            return Vec::new();
        };
        let mut keys: Vec<(String, bool)> = Vec::new();
        for (_, key) in lookups {
            let has_fields = key
                .split(' ')
                .all(|field| object.fields.contains_key(field));
            if has_fields && !keys.iter().any(|(k, _)| k == key) {
                keys.push((key.clone(), false));
            }
        }
        keys
    }
}

fn directive(name: &str, arguments: Vec<Node<Argument>>) -> Node<Directive> {
    Node::new(Directive {
        name: Name::new_unchecked(name),
        arguments,
    })
}

fn argument(name: &str, value: Value) -> Node<Argument> {
    Node::new(Argument {
        name: Name::new_unchecked(name),
        value: Node::new(value),
    })
}

#[cfg(test)]
mod tests;
