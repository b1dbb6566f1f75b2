//! Coerce: the request's variables ▶ the values the operation runs with (GraphQL spec,
//! CoerceVariableValues): defaults filled in, types checked, lists wrapped, `ID` integers made
//! strings.
//!
//! Errors say which variable and where inside it, and what type was expected — never the value
//! itself, which may be a secret or megabytes long.

use apollo_compiler::ast::{Type, Value as AstValue};
use apollo_compiler::executable::Operation;
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::validation::Valid;
use apollo_compiler::{Node, Schema};
use serde_json::{Map, Number, Value};

use super::receive::Variables;
use crate::response::GraphqlError;

const CODE: &str = "VALIDATION_INVALID_TYPE_VARIABLE";

pub(super) fn coerce_variables(
    schema: &Valid<Schema>,
    operation: &Operation,
    raw: Option<Variables>,
) -> Result<Map<String, Value>, Vec<GraphqlError>> {
    let mut raw = match raw {
        None => Map::new(),
        Some(Variables::Parsed(variables)) => variables,
        Some(Variables::Text(text)) => declared_only(operation, text.get())?,
    };
    let mut coerced = Map::new();
    let mut errors = Vec::new();
    for definition in &operation.variables {
        let name = definition.name.as_str();
        let mut at = Path::new(name);
        let value = match raw.remove(name) {
            Some(value) => value,
            None => match &definition.default_value {
                Some(default) => literal_to_json(default),
                None if definition.ty.is_non_null() => {
                    errors.push(GraphqlError::new(
                        format!(
                            "variable `${name}` of type `{}` was not provided",
                            definition.ty
                        ),
                        CODE,
                    ));
                    continue;
                }
                None => continue,
            },
        };
        match coerce(schema, &definition.ty, value, &mut at) {
            Ok(value) => {
                coerced.insert(name.to_owned(), value);
            }
            Err(problem) => errors.push(GraphqlError::new(
                format!(
                    "variable `${name}` got an invalid value{}: {problem}",
                    at.describe()
                ),
                CODE,
            )),
        }
    }
    if errors.is_empty() {
        return Ok(coerced);
    }
    // One error per variable: a document declaring thousands earns no more than any other.
    let total = errors.len();
    super::cap_errors(&mut errors, total, CODE);
    Err(errors)
}

/// Where inside a variable a problem is: `input.items[2].quantity`.
struct Path {
    segments: Vec<String>,
}

impl Path {
    fn new(root: &str) -> Self {
        Path {
            segments: vec![root.to_owned()],
        }
    }

    fn describe(&self) -> String {
        if self.segments.len() == 1 {
            return String::new();
        }
        let mut text = String::from(" at `");
        text.push_str(&self.segments[0]);
        for segment in &self.segments[1..] {
            text.push_str(segment);
        }
        text.push('`');
        text
    }
}

fn coerce(schema: &Schema, ty: &Type, value: Value, at: &mut Path) -> Result<Value, String> {
    if value.is_null() {
        return if ty.is_non_null() {
            Err(format!("null is not allowed for `{ty}`"))
        } else {
            Ok(Value::Null)
        };
    }
    match ty {
        Type::List(item) | Type::NonNullList(item) => match value {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (index, item_value) in items.into_iter().enumerate() {
                    at.segments.push(format!("[{index}]"));
                    out.push(coerce(schema, item, item_value, at)?);
                    at.segments.pop();
                }
                Ok(Value::Array(out))
            }
            // Input coercion wraps a single value in a list.
            single => Ok(Value::Array(vec![coerce(schema, item, single, at)?])),
        },
        Type::Named(name) | Type::NonNullNamed(name) => {
            let Some(definition) = schema.types.get(name) else {
                return Err(format!("`{name}` is not a type of this schema"));
            };
            coerce_named(schema, name.as_str(), definition, value, at)
        }
    }
}

fn coerce_named(
    schema: &Schema,
    name: &str,
    definition: &ExtendedType,
    value: Value,
    at: &mut Path,
) -> Result<Value, String> {
    let expected = || format!("expected a value of type `{name}`");
    match definition {
        ExtendedType::Scalar(scalar) => match (scalar.name.as_str(), value) {
            ("Int", Value::Number(n)) => int(&n).map(Value::from).ok_or_else(expected),
            ("Float", Value::Number(n)) if n.as_f64().is_some_and(f64::is_finite) => {
                Ok(Value::Number(n))
            }
            ("String", value @ Value::String(_)) => Ok(value),
            ("Boolean", value @ Value::Bool(_)) => Ok(value),
            ("ID", value @ Value::String(_)) => Ok(value),
            // An `ID` given as an integer is the same identifier; subgraphs get it as a string.
            ("ID", Value::Number(n)) if n.is_i64() || n.is_u64() => {
                Ok(Value::String(n.to_string()))
            }
            ("Int" | "Float" | "String" | "Boolean" | "ID", _) => Err(expected()),
            // Custom scalars take any JSON: their meaning is the subgraph's.
            (_, value) => Ok(value),
        },
        ExtendedType::Enum(definition) => match value {
            Value::String(text) if definition.values.contains_key(text.as_str()) => {
                Ok(Value::String(text))
            }
            _ => Err(format!("expected one of the values of enum `{name}`")),
        },
        ExtendedType::InputObject(definition) => {
            let Value::Object(mut fields) = value else {
                return Err(format!("expected an object of input type `{name}`"));
            };
            if let Some(unknown) = fields
                .keys()
                .find(|key| !definition.fields.contains_key(key.as_str()))
            {
                // A field name is structure, not data, so it is named when it looks like one;
                // anything else could be arbitrary client text and is not repeated.
                let shown = if unknown.len() <= 64
                    && unknown
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    format!("`{unknown}`")
                } else {
                    "a field".to_owned()
                };
                return Err(format!("input type `{name}` has no field {shown}"));
            }
            let mut out = Map::new();
            for (field_name, field) in &definition.fields {
                at.segments.push(format!(".{field_name}"));
                let value = match fields.remove(field_name.as_str()) {
                    Some(value) => Some(value),
                    None => field.default_value.as_ref().map(literal_to_json),
                };
                match value {
                    Some(value) => {
                        out.insert(
                            field_name.to_string(),
                            coerce(schema, &field.ty, value, at)?,
                        );
                    }
                    None if field.ty.is_non_null() => {
                        return Err(format!(
                            "the required field of type `{}` is missing",
                            field.ty
                        ));
                    }
                    None => {}
                }
                at.segments.pop();
            }
            if definition.directives.has("oneOf") {
                let set = out.values().filter(|v| !v.is_null()).count();
                if set != 1 || out.len() != 1 {
                    return Err(format!(
                        "`{name}` is a @oneOf input: give exactly one field, and not null"
                    ));
                }
            }
            Ok(Value::Object(out))
        }
        _ => Err(format!("`{name}` is not an input type")),
    }
}

/// A 32-bit integer, also from a float with no fraction (`1.0`), as JSON encoders write some.
fn int(n: &Number) -> Option<i64> {
    let value = match n.as_i64() {
        Some(i) => i,
        None => {
            let f = n.as_f64()?;
            if f.fract() != 0.0 || !f.is_finite() {
                return None;
            }
            f as i64
        }
    };
    (i64::from(i32::MIN)..=i64::from(i32::MAX))
        .contains(&value)
        .then_some(value)
}

/// A default value from the document or the schema, as JSON. Validation has checked it against
/// its type (and it holds no variables), so it is converted as written and then coerced like a
/// value the client sent.
fn literal_to_json(value: &Node<AstValue>) -> Value {
    match &**value {
        AstValue::Null | AstValue::Variable(_) => Value::Null,
        AstValue::Enum(name) => Value::String(name.to_string()),
        AstValue::String(text) => Value::String(text.clone()),
        AstValue::Boolean(b) => Value::Bool(*b),
        AstValue::Int(i) => i
            .try_to_i32()
            .map(Value::from)
            .or_else(|_| i.try_to_f64().map(Value::from))
            .unwrap_or(Value::Null),
        AstValue::Float(f) => f.try_to_f64().map(Value::from).unwrap_or(Value::Null),
        AstValue::List(items) => Value::Array(items.iter().map(literal_to_json).collect()),
        AstValue::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(name, value)| (name.to_string(), literal_to_json(value)))
                .collect(),
        ),
    }
}

/// Parses the variables the operation declares out of a JSON object's text; the others are
/// checked as JSON and dropped unread.
fn declared_only(
    operation: &Operation,
    text: &str,
) -> Result<Map<String, Value>, Vec<GraphqlError>> {
    use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};

    struct Declared<'a>(std::collections::HashSet<&'a str>);

    impl<'de> Visitor<'de> for Declared<'_> {
        type Value = Map<String, Value>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("`variables` as a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut declared = Map::new();
            while let Some(name) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if self.0.contains(&*name) {
                    declared.insert(name.into_owned(), map.next_value()?);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(declared)
        }
    }

    impl<'de> DeserializeSeed<'de> for Declared<'_> {
        type Value = Map<String, Value>;

        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
    }

    let mut reader = serde_json::Deserializer::from_str(text);
    let names = operation
        .variables
        .iter()
        .map(|v| v.name.as_str())
        .collect();
    Declared(names).deserialize(&mut reader).map_err(|error| {
        // The receiving stage checked the text as JSON, skipping values over; a declared one
        // is read in full here, and may still be what JSON cannot hold (a lone surrogate
        // `"\ud800"`, `1e400`, nesting past serde's 128 levels).
        vec![GraphqlError::new(
            format!(
                "a declared variable's value cannot be read: {}",
                super::receive::brief(&error)
            ),
            CODE,
        )]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use apollo_compiler::ExecutableDocument;
    use serde_json::json;

    const SCHEMA: &str = r#"
        type Query { f(a: Int, b: [Int!], c: In, d: ID, e: Color, s: String, o: One, j: Json): Int }
        input In { x: Int!, y: String = "dflt", nested: [In!] }
        input One @oneOf { a: Int, b: String }
        enum Color { RED GREEN }
        scalar Json
        directive @oneOf on INPUT_OBJECT
    "#;

    fn run(vars: &str, raw: Value) -> Result<Value, Vec<String>> {
        let schema = Schema::parse_and_validate(SCHEMA, "s.graphql").expect("schema");
        let arguments: Vec<String> = vars
            .split(',')
            .filter_map(|v| {
                v.trim()
                    .strip_prefix('$')?
                    .split(':')
                    .next()
                    .map(str::to_owned)
            })
            .map(|name| format!("{name}: ${name}"))
            .collect();
        let query = format!("query Q({vars}) {{ f({}) }}", arguments.join(", "));
        let document =
            ExecutableDocument::parse_and_validate(&schema, query, "q.graphql").expect("query");
        let operation = document.operations.get(None).expect("op");
        let raw = match raw {
            Value::Object(map) => Some(map),
            _ => None,
        };
        let run = |variables| {
            coerce_variables(&schema, operation, variables)
                .map(Value::Object)
                .map_err(|errors| errors.into_iter().map(|e| e.message).collect::<Vec<_>>())
        };
        // Parsed (WebSocket, GET) and as a POST body's text: the same answer either way.
        let text = raw.as_ref().map(|map| {
            let text = serde_json::to_string(map).expect("JSON");
            Variables::Text(serde_json::value::RawValue::from_string(text).expect("raw"))
        });
        let parsed = run(raw.map(Variables::Parsed));
        assert_eq!(run(text), parsed);
        parsed
    }

    #[test]
    fn defaults_fill_absent_variables_and_nested_fields() {
        assert_eq!(
            run("$a: Int = 3, $c: In = {x: 1}", json!({})).expect("ok"),
            json!({ "a": 3, "c": { "x": 1, "y": "dflt" } })
        );
        // An explicit null is kept, not replaced by the default.
        assert_eq!(
            run("$a: Int = 3", json!({ "a": null })).expect("ok"),
            json!({ "a": null })
        );
    }

    #[test]
    fn lists_wrap_single_values_and_ids_become_strings() {
        assert_eq!(
            run("$b: [Int!], $d: ID", json!({ "b": 5, "d": 42 })).expect("ok"),
            json!({ "b": [5], "d": "42" })
        );
    }

    #[test]
    fn errors_name_the_place_and_the_type_but_never_the_value() {
        let secret = "hunter2-secret";
        let errors = run(
            "$a: Int, $c: In, $e: Color, $s: String!",
            json!({ "a": secret, "c": { "x": 1, "nested": [{ "x": secret }] }, "e": secret }),
        )
        .expect_err("invalid");
        assert_eq!(errors.len(), 4, "{errors:?}");
        for error in &errors {
            assert!(!error.contains(secret), "{error}");
        }
        assert!(errors[0].contains("`$a`") && errors[0].contains("`Int`"));
        assert!(errors[1].contains("at `c.nested[0].x`"), "{}", errors[1]);
        assert!(errors[2].contains("enum `Color`"));
        assert!(errors[3].contains("`$s`") && errors[3].contains("not provided"));
    }

    #[test]
    fn ints_are_32_bit_and_floats_may_be_integral() {
        assert!(run("$a: Int", json!({ "a": 2147483648i64 })).is_err());
        assert!(run("$a: Int", json!({ "a": 1.5 })).is_err());
        assert_eq!(
            run("$a: Int", json!({ "a": 2.0 })).expect("ok"),
            json!({ "a": 2 })
        );
    }

    #[test]
    fn unknown_input_fields_and_one_of_violations_are_refused() {
        assert!(run("$c: In", json!({ "c": { "x": 1, "zzz": 2 } })).is_err());
        assert!(run("$o: One", json!({ "o": { "a": 1, "b": "x" } })).is_err());
        assert!(run("$o: One", json!({ "o": { "a": null } })).is_err());
        assert_eq!(
            run("$o: One", json!({ "o": { "b": "x" } })).expect("ok"),
            json!({ "o": { "b": "x" } })
        );
    }

    #[test]
    fn custom_scalars_take_any_json() {
        assert_eq!(
            run("$j: Json", json!({ "j": { "deep": [1, "two"] } })).expect("ok"),
            json!({ "j": { "deep": [1, "two"] } })
        );
    }
}
