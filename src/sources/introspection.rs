//! A plain GraphQL service's schema, read by introspection and printed as SDL.
//!
//! Composition reads SDL, so an introspection answer is printed back into the SDL the service
//! would have written: types, fields, arguments with their defaults, enums, input objects,
//! interfaces, unions, descriptions and deprecations. Built-in scalars and `__` types are left
//! out (every schema has them); directive definitions are too, since composition does not carry
//! custom directives into the supergraph.

use std::fmt::Write;

use serde::Deserialize;

/// Type references nine wrappers deep (`[[[[Int!]!]!]!]!`), as graphql-js asks, and more.
macro_rules! type_ref_fragment {
    () => {
        "fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { \
        kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name \
        ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { \
        kind name ofType { kind name } } } } } } } } } } } } } }"
    };
}

/// The introspection query asked first: what the October 2021 spec and its drafts added —
/// deprecated arguments and input fields, `specifiedByURL`, `isOneOf`. Servers that do not
/// know these refuse the whole query.
pub(super) const FULL_QUERY: &str = concat!(
    "query SeamIntrospection { __schema { \
    queryType { name } mutationType { name } subscriptionType { name } \
    types { ...FullType } } } \
    fragment FullType on __Type { kind name description specifiedByURL isOneOf \
    fields(includeDeprecated: true) { name description \
    args(includeDeprecated: true) { ...InputValue } \
    type { ...TypeRef } isDeprecated deprecationReason } \
    inputFields(includeDeprecated: true) { ...InputValue } interfaces { ...TypeRef } \
    enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } \
    possibleTypes { ...TypeRef } } \
    fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue \
    isDeprecated deprecationReason } ",
    type_ref_fragment!()
);

/// The fallback when a server refuses [`FULL_QUERY`], limited to what every GraphQL server of
/// the last years answers: no `specifiedByURL`, `isOneOf` or deprecated arguments.
pub(super) const QUERY: &str = concat!(
    "query SeamIntrospection { __schema { \
    queryType { name } mutationType { name } subscriptionType { name } \
    types { ...FullType } } } \
    fragment FullType on __Type { kind name description \
    fields(includeDeprecated: true) { name description args { ...InputValue } \
    type { ...TypeRef } isDeprecated deprecationReason } \
    inputFields { ...InputValue } interfaces { ...TypeRef } \
    enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } \
    possibleTypes { ...TypeRef } } \
    fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue } ",
    type_ref_fragment!()
);

const BUILT_IN_SCALARS: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Schema {
    query_type: Option<NamedType>,
    mutation_type: Option<NamedType>,
    subscription_type: Option<NamedType>,
    types: Vec<FullType>,
}

#[derive(Deserialize)]
struct NamedType {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FullType {
    kind: String,
    name: Option<String>,
    description: Option<String>,
    fields: Option<Vec<Field>>,
    input_fields: Option<Vec<InputValue>>,
    interfaces: Option<Vec<TypeRef>>,
    enum_values: Option<Vec<EnumValue>>,
    possible_types: Option<Vec<TypeRef>>,
    #[serde(default, rename = "specifiedByURL")]
    specified_by_url: Option<String>,
    #[serde(default)]
    is_one_of: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Field {
    name: String,
    description: Option<String>,
    #[serde(default)]
    args: Vec<InputValue>,
    #[serde(rename = "type")]
    ty: TypeRef,
    #[serde(default)]
    is_deprecated: bool,
    deprecation_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InputValue {
    name: String,
    description: Option<String>,
    #[serde(rename = "type")]
    ty: TypeRef,
    /// Already GraphQL literal text (`"abc"`, `5`, `{a: 1}`), so it is printed as it is.
    default_value: Option<String>,
    #[serde(default)]
    is_deprecated: bool,
    deprecation_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EnumValue {
    name: String,
    description: Option<String>,
    #[serde(default)]
    is_deprecated: bool,
    deprecation_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypeRef {
    kind: String,
    name: Option<String>,
    of_type: Option<Box<TypeRef>>,
}

/// Prints `data.__schema` of an introspection answer as SDL; the error says what is missing.
pub(super) fn sdl_from_schema(schema: &serde_json::Value) -> Result<String, String> {
    let schema = Schema::deserialize(schema).map_err(|error| error.to_string())?;
    let mut out = String::new();
    write_schema_definition(&schema, &mut out);
    for ty in &schema.types {
        let Some(name) = ty.name.as_deref() else {
            return Err(format!("a type of kind {} has no name", ty.kind));
        };
        if name.starts_with("__") || (ty.kind == "SCALAR" && BUILT_IN_SCALARS.contains(&name)) {
            continue;
        }
        write_type(ty, name, &mut out)?;
    }
    Ok(out)
}

/// A `schema { ... }` block, needed only when a root type has a name other than the standard
/// one (composition renames it to `Query`/`Mutation`/`Subscription`).
fn write_schema_definition(schema: &Schema, out: &mut String) {
    let roots = [
        ("query", "Query", &schema.query_type),
        ("mutation", "Mutation", &schema.mutation_type),
        ("subscription", "Subscription", &schema.subscription_type),
    ];
    let standard = roots
        .iter()
        .all(|(_, standard, root)| root.as_ref().is_none_or(|root| root.name == *standard));
    if standard {
        return;
    }
    out.push_str("schema {\n");
    for (operation, _, root) in roots {
        if let Some(root) = root {
            let _ = writeln!(out, "  {operation}: {}", root.name);
        }
    }
    out.push_str("}\n\n");
}

fn write_type(ty: &FullType, name: &str, out: &mut String) -> Result<(), String> {
    write_description(ty.description.as_deref(), "", out);
    match ty.kind.as_str() {
        "SCALAR" => {
            let _ = write!(out, "scalar {name}");
            if let Some(url) = &ty.specified_by_url {
                let _ = write!(out, " @specifiedBy(url: {})", string_literal(url));
            }
            out.push('\n');
        }
        "OBJECT" | "INTERFACE" => {
            let keyword = if ty.kind == "OBJECT" {
                "type"
            } else {
                "interface"
            };
            let _ = write!(out, "{keyword} {name}");
            let interfaces = names(ty.interfaces.as_deref().unwrap_or_default(), name)?;
            if !interfaces.is_empty() {
                let _ = write!(out, " implements {}", interfaces.join(" & "));
            }
            out.push_str(" {\n");
            for field in ty.fields.as_deref().unwrap_or_default() {
                write_field(field, out)?;
            }
            out.push_str("}\n");
        }
        "UNION" => {
            let members = names(ty.possible_types.as_deref().unwrap_or_default(), name)?;
            let _ = writeln!(out, "union {name} = {}", members.join(" | "));
        }
        "ENUM" => {
            let _ = writeln!(out, "enum {name} {{");
            for value in ty.enum_values.as_deref().unwrap_or_default() {
                write_description(value.description.as_deref(), "  ", out);
                let _ = write!(out, "  {}", value.name);
                write_deprecation(
                    value.is_deprecated,
                    value.deprecation_reason.as_deref(),
                    out,
                );
                out.push('\n');
            }
            out.push_str("}\n");
        }
        "INPUT_OBJECT" => {
            let one_of = if ty.is_one_of == Some(true) {
                " @oneOf"
            } else {
                ""
            };
            let _ = writeln!(out, "input {name}{one_of} {{");
            for field in ty.input_fields.as_deref().unwrap_or_default() {
                write_description(field.description.as_deref(), "  ", out);
                out.push_str("  ");
                write_input_value(field, out)?;
                out.push('\n');
            }
            out.push_str("}\n");
        }
        other => return Err(format!("type {name} has the unknown kind {other}")),
    }
    out.push('\n');
    Ok(())
}

fn write_field(field: &Field, out: &mut String) -> Result<(), String> {
    write_description(field.description.as_deref(), "  ", out);
    let _ = write!(out, "  {}", field.name);
    if !field.args.is_empty() {
        // One argument per line keeps argument descriptions readable.
        out.push_str("(\n");
        for argument in &field.args {
            write_description(argument.description.as_deref(), "    ", out);
            out.push_str("    ");
            write_input_value(argument, out)?;
            out.push('\n');
        }
        out.push_str("  )");
    }
    let _ = write!(out, ": {}", type_text(&field.ty)?);
    write_deprecation(
        field.is_deprecated,
        field.deprecation_reason.as_deref(),
        out,
    );
    out.push('\n');
    Ok(())
}

fn write_input_value(value: &InputValue, out: &mut String) -> Result<(), String> {
    let _ = write!(out, "{}: {}", value.name, type_text(&value.ty)?);
    if let Some(default) = &value.default_value {
        let _ = write!(out, " = {default}");
    }
    write_deprecation(
        value.is_deprecated,
        value.deprecation_reason.as_deref(),
        out,
    );
    Ok(())
}

fn write_deprecation(deprecated: bool, reason: Option<&str>, out: &mut String) {
    if !deprecated {
        return;
    }
    match reason {
        Some(reason) => {
            let _ = write!(out, " @deprecated(reason: {})", string_literal(reason));
        }
        None => out.push_str(" @deprecated"),
    }
}

fn write_description(description: Option<&str>, indent: &str, out: &mut String) {
    if let Some(description) = description.filter(|d| !d.is_empty()) {
        let _ = writeln!(out, "{indent}{}", string_literal(description));
    }
}

/// The names of a list of named type references (interfaces, union members).
fn names(refs: &[TypeRef], owner: &str) -> Result<Vec<String>, String> {
    refs.iter()
        .map(|r| {
            r.name
                .clone()
                .ok_or_else(|| format!("type {owner} refers to a type without a name"))
        })
        .collect()
}

/// `[String!]!` and the like, from the nested `ofType` chain.
fn type_text(ty: &TypeRef) -> Result<String, String> {
    match ty.kind.as_str() {
        "NON_NULL" => {
            let inner = ty
                .of_type
                .as_deref()
                .ok_or("a NON_NULL type has no ofType")?;
            Ok(format!("{}!", type_text(inner)?))
        }
        "LIST" => {
            let inner = ty.of_type.as_deref().ok_or("a LIST type has no ofType")?;
            Ok(format!("[{}]", type_text(inner)?))
        }
        kind => ty
            .name
            .clone()
            .ok_or_else(|| format!("a type reference of kind {kind} has no name")),
    }
}

/// A GraphQL string literal: quotes, backslashes and control characters escaped. Composition
/// prints the supergraph's strings with it too, so both SDL printers escape alike.
pub(crate) fn string_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn named(kind: &str, name: &str) -> serde_json::Value {
        json!({ "kind": kind, "name": name, "ofType": null })
    }

    fn non_null(inner: serde_json::Value) -> serde_json::Value {
        json!({ "kind": "NON_NULL", "name": null, "ofType": inner })
    }

    fn list(inner: serde_json::Value) -> serde_json::Value {
        json!({ "kind": "LIST", "name": null, "ofType": inner })
    }

    #[test]
    fn prints_every_kind_of_type() {
        let schema = json!({
            "queryType": { "name": "Query" },
            "mutationType": null,
            "subscriptionType": null,
            "types": [
                {
                    "kind": "OBJECT", "name": "Query", "description": null,
                    "fields": [{
                        "name": "users", "description": "All \"users\"\nsorted",
                        "args": [
                            { "name": "first", "description": null,
                              "type": named("SCALAR", "Int"), "defaultValue": "10" },
                            { "name": "role", "description": "Only these",
                              "type": list(non_null(named("ENUM", "Role"))), "defaultValue": "[ADMIN]" }
                        ],
                        "type": non_null(list(non_null(named("OBJECT", "User")))),
                        "isDeprecated": false, "deprecationReason": null
                    }],
                    "inputFields": null, "interfaces": [], "enumValues": null, "possibleTypes": null
                },
                {
                    "kind": "OBJECT", "name": "User", "description": null,
                    "fields": [
                        { "name": "id", "description": null, "args": [],
                          "type": non_null(named("SCALAR", "ID")), "isDeprecated": false, "deprecationReason": null },
                        { "name": "nick", "description": null, "args": [],
                          "type": named("SCALAR", "String"), "isDeprecated": true, "deprecationReason": "use name" }
                    ],
                    "inputFields": null, "interfaces": [named("INTERFACE", "Node")],
                    "enumValues": null, "possibleTypes": null
                },
                {
                    "kind": "INTERFACE", "name": "Node", "description": "Has an id",
                    "fields": [{ "name": "id", "description": null, "args": [],
                        "type": non_null(named("SCALAR", "ID")), "isDeprecated": false, "deprecationReason": null }],
                    "inputFields": null, "interfaces": [], "enumValues": null,
                    "possibleTypes": [named("OBJECT", "User")]
                },
                {
                    "kind": "UNION", "name": "Result", "description": null, "fields": null,
                    "inputFields": null, "interfaces": null, "enumValues": null,
                    "possibleTypes": [named("OBJECT", "User"), named("OBJECT", "Query")]
                },
                {
                    "kind": "ENUM", "name": "Role", "description": null, "fields": null,
                    "inputFields": null, "interfaces": null, "possibleTypes": null,
                    "enumValues": [
                        { "name": "ADMIN", "description": null, "isDeprecated": false, "deprecationReason": null },
                        { "name": "GUEST", "description": "Read only", "isDeprecated": true, "deprecationReason": null }
                    ]
                },
                {
                    "kind": "INPUT_OBJECT", "name": "Filter", "description": null, "fields": null,
                    "inputFields": [{ "name": "name", "description": null,
                        "type": named("SCALAR", "String"), "defaultValue": "\"a\"" }],
                    "interfaces": null, "enumValues": null, "possibleTypes": null
                },
                { "kind": "SCALAR", "name": "DateTime", "description": null, "fields": null,
                  "inputFields": null, "interfaces": null, "enumValues": null, "possibleTypes": null },
                { "kind": "SCALAR", "name": "String", "description": null, "fields": null,
                  "inputFields": null, "interfaces": null, "enumValues": null, "possibleTypes": null },
                { "kind": "OBJECT", "name": "__Type", "description": null, "fields": [],
                  "inputFields": null, "interfaces": [], "enumValues": null, "possibleTypes": null }
            ]
        });
        let sdl = sdl_from_schema(&schema).unwrap();
        assert_eq!(
            sdl,
            r#"type Query {
  "All \"users\"\nsorted"
  users(
    first: Int = 10
    "Only these"
    role: [Role!] = [ADMIN]
  ): [User!]!
}

type User implements Node {
  id: ID!
  nick: String @deprecated(reason: "use name")
}

"Has an id"
interface Node {
  id: ID!
}

union Result = User | Query

enum Role {
  ADMIN
  "Read only"
  GUEST @deprecated
}

input Filter {
  name: String = "a"
}

scalar DateTime

"#
        );
        apollo_compiler::Schema::parse_and_validate(&sdl, "plain.graphql")
            .expect("the printed SDL is a valid schema");
    }

    #[test]
    fn non_standard_root_names_get_a_schema_definition() {
        let schema = json!({
            "queryType": { "name": "RootQuery" },
            "mutationType": { "name": "Mutation" },
            "subscriptionType": null,
            "types": []
        });
        assert_eq!(
            sdl_from_schema(&schema).unwrap(),
            "schema {\n  query: RootQuery\n  mutation: Mutation\n}\n\n"
        );
    }

    #[test]
    fn broken_answers_say_what_is_wrong() {
        let no_name = json!({ "queryType": null, "types": [{ "kind": "OBJECT" }] });
        assert_eq!(
            sdl_from_schema(&no_name).unwrap_err(),
            "a type of kind OBJECT has no name"
        );
        let dangling = json!({ "types": [{
            "kind": "OBJECT", "name": "Query",
            "fields": [{ "name": "a", "type": { "kind": "NON_NULL", "name": null } }]
        }] });
        assert_eq!(
            sdl_from_schema(&dangling).unwrap_err(),
            "a NON_NULL type has no ofType"
        );
        let not_a_schema = json!({ "types": 3 });
        assert!(sdl_from_schema(&not_a_schema)
            .unwrap_err()
            .contains("invalid type"));
    }
}
