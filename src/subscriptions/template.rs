//! Topic templates and event filters of Seam's bridge directives, and the argument values they
//! are filled from.
//!
//! Both are parsed once, when the event subgraph's SDL is read, and checked against the field's
//! arguments there, so a typo in a directive stops startup instead of failing every request.

use std::fmt;

use apollo_compiler::ast::{Argument, InputValueDefinition, Value as AstValue};
use apollo_compiler::Node;
use serde_json::{Map, Value as Json};

use crate::response::Value;

/// `reviews.{args.productUpc}`: literal text with argument placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicTemplate {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Text(String),
    /// A path into the arguments: `args.review.productUpc` ▶ `["review", "productUpc"]`.
    Argument(ArgumentPath),
}

/// A path into a field's argument values; the first element names the argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgumentPath(Vec<String>);

impl ArgumentPath {
    /// Reads `{args.a.b}`'s inside (`args.a.b`).
    fn parse(placeholder: &str) -> Result<Self, String> {
        let path = placeholder
            .trim()
            .strip_prefix("args.")
            .ok_or_else(|| format!("`{{{placeholder}}}` must start with `args.`"))?;
        let parts: Vec<String> = path.split('.').map(str::to_owned).collect();
        if parts.iter().any(String::is_empty) {
            return Err(format!("`{{{placeholder}}}` has an empty path element"));
        }
        Ok(Self(parts))
    }

    pub fn argument(&self) -> &str {
        &self.0[0]
    }

    /// The value at the path; `None` when an argument or an input field on the way is absent.
    fn lookup<'a>(&self, arguments: &'a Map<String, Json>) -> Option<&'a Json> {
        let mut value = arguments.get(&self.0[0])?;
        for key in &self.0[1..] {
            value = value.as_object()?.get(key)?;
        }
        Some(value)
    }
}

impl fmt::Display for ArgumentPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "args.{}", self.0.join("."))
    }
}

impl TopicTemplate {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut segments = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                segments.push(Segment::Text(rest[..open].to_owned()));
            }
            let close = rest[open..]
                .find('}')
                .map(|c| open + c)
                .ok_or_else(|| format!("topic `{text}` has a `{{` without its `}}`"))?;
            segments.push(Segment::Argument(ArgumentPath::parse(
                &rest[open + 1..close],
            )?));
            rest = &rest[close + 1..];
        }
        if rest.contains('}') {
            return Err(format!("topic `{text}` has a `}}` without its `{{`"));
        }
        if !rest.is_empty() {
            segments.push(Segment::Text(rest.to_owned()));
        }
        if segments.is_empty() {
            return Err("the topic is empty".to_owned());
        }
        Ok(Self { segments })
    }

    pub fn arguments(&self) -> impl Iterator<Item = &ArgumentPath> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Argument(path) => Some(path),
            Segment::Text(_) => None,
        })
    }

    /// The topic for these argument values. A placeholder whose value is null, absent, a list
    /// or an object cannot name a topic, and says so.
    pub fn render(&self, arguments: &Map<String, Json>) -> Result<String, String> {
        let mut topic = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Text(text) => topic.push_str(text),
                Segment::Argument(path) => match path.lookup(arguments) {
                    Some(Json::String(s)) => topic.push_str(s),
                    Some(Json::Number(n)) => topic.push_str(&n.to_string()),
                    Some(Json::Bool(b)) => topic.push_str(if *b { "true" } else { "false" }),
                    Some(Json::Null) | None => {
                        return Err(format!("the topic needs a value for `{path}`"))
                    }
                    Some(_) => {
                        return Err(format!(
                            "`{path}` is a list or an object and cannot be part of a topic"
                        ))
                    }
                },
            }
        }
        Ok(topic)
    }
}

/// `product.upc == {args.productUpc} && stars == 5`: every clause compares a field of the event
/// (a dotted path) with an argument or a JSON literal. A clause whose argument is null or absent
/// is dropped, so an optional argument left out means "no filtering on it".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter {
    clauses: Vec<Clause>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Clause {
    event_path: Vec<String>,
    expected: Expected,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expected {
    Argument(ArgumentPath),
    /// Kept as text (parsed when bound) so the type stays `Eq`.
    Literal(String),
}

/// A filter with its argument values filled in, ready to test events.
#[derive(Debug, Clone, Default)]
pub struct BoundFilter {
    clauses: Vec<(Vec<String>, Json)>,
}

impl EventFilter {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut clauses = Vec::new();
        for clause in text.split("&&") {
            let (left, right) = clause
                .split_once("==")
                .ok_or_else(|| format!("filter clause `{}` has no `==`", clause.trim()))?;
            let left = left.trim();
            if left.is_empty() || left.split('.').any(|part| part.trim().is_empty()) {
                return Err(format!(
                    "filter clause `{}` must start with an event field path such as `product.upc`",
                    clause.trim()
                ));
            }
            let right = right.trim();
            let expected = match right
                .strip_prefix('{')
                .and_then(|inner| inner.strip_suffix('}'))
            {
                Some(inner) => Expected::Argument(ArgumentPath::parse(inner)?),
                None => {
                    serde_json::from_str::<Json>(right).map_err(|_| {
                        format!(
                            "filter clause `{}`: `{right}` is neither `{{args.name}}` nor a JSON value",
                            clause.trim()
                        )
                    })?;
                    Expected::Literal(right.to_owned())
                }
            };
            clauses.push(Clause {
                event_path: left.split('.').map(|p| p.trim().to_owned()).collect(),
                expected,
            });
        }
        Ok(Self { clauses })
    }

    pub fn arguments(&self) -> impl Iterator<Item = &ArgumentPath> {
        self.clauses.iter().filter_map(|c| match &c.expected {
            Expected::Argument(path) => Some(path),
            Expected::Literal(_) => None,
        })
    }

    pub fn bind(&self, arguments: &Map<String, Json>) -> BoundFilter {
        let clauses = self
            .clauses
            .iter()
            .filter_map(|clause| {
                let value = match &clause.expected {
                    Expected::Argument(path) => match path.lookup(arguments) {
                        None | Some(Json::Null) => return None,
                        Some(value) => value.clone(),
                    },
                    Expected::Literal(text) => serde_json::from_str(text).unwrap_or(Json::Null),
                };
                Some((clause.event_path.clone(), value))
            })
            .collect();
        BoundFilter { clauses }
    }
}

impl BoundFilter {
    pub fn matches(&self, event: &Value) -> bool {
        self.clauses.iter().all(|(path, expected)| {
            let mut value = event;
            for key in path {
                match value.as_object().and_then(|o| o.get(key)) {
                    Some(v) => value = v,
                    None => return expected.is_null(),
                }
            }
            same(value, expected)
        })
    }
}

/// Equality as a client means it: an `ID` argument is a string even when the event carries the
/// id as a number, so a number and a string of exactly its text match (`"07"` is not `7`).
/// Numbers are equal by value, integers exactly (two ids past 2^53 differ though an `f64`
/// cannot tell them apart).
fn same(event: &Value, expected: &Json) -> bool {
    match (event, expected) {
        (Value::Null, Json::Null) => true,
        (Value::Bool(a), Json::Bool(b)) => a == b,
        (Value::String(a), Json::String(b)) => a.as_str() == b,
        (Value::Number(a), Json::Number(b)) => same_number(a, &b.to_string()),
        (Value::Number(a), Json::String(b)) => a.as_str() == b,
        (Value::String(a), Json::Number(b)) => a.as_str() == b.to_string(),
        (Value::Array(_) | Value::Object(_), _) => {
            let mut text = Vec::new();
            event.write_json(&mut text);
            serde_json::from_slice::<Json>(&text).is_ok_and(|v| &v == expected)
        }
        _ => false,
    }
}

fn same_number(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (a.parse::<i128>(), b.parse::<i128>()) {
        (Ok(x), Ok(y)) => x == y,
        // An integer too long for i128, or a fraction or exponent on either side.
        _ => matches!((a.parse::<f64>(), b.parse::<f64>()), (Ok(x), Ok(y)) if x == y),
    }
}

/// The field's argument values as JSON: given ones (variables replaced by their coerced values),
/// then defaults. Arguments neither given nor defaulted are absent.
pub fn argument_values(
    given: &[Node<Argument>],
    definitions: &[Node<InputValueDefinition>],
    variables: &Map<String, Json>,
) -> Map<String, Json> {
    let mut values = Map::new();
    for definition in definitions {
        let name = definition.name.as_str();
        let value = match given.iter().find(|a| a.name == definition.name) {
            Some(argument) => match &*argument.value {
                AstValue::Variable(v) => match variables.get(v.as_str()) {
                    Some(value) => Some(value.clone()),
                    None => definition
                        .default_value
                        .as_deref()
                        .map(|d| json(d, variables)),
                },
                value => Some(json(value, variables)),
            },
            None => definition
                .default_value
                .as_deref()
                .map(|d| json(d, variables)),
        };
        if let Some(value) = value {
            values.insert(name.to_owned(), value);
        }
    }
    values
}

fn json(value: &AstValue, variables: &Map<String, Json>) -> Json {
    match value {
        AstValue::Null => Json::Null,
        AstValue::Enum(name) => Json::String(name.to_string()),
        AstValue::Variable(v) => variables.get(v.as_str()).cloned().unwrap_or(Json::Null),
        AstValue::String(s) => Json::String(s.clone()),
        AstValue::Float(f) => serde_json::from_str(f.as_str()).unwrap_or(Json::Null),
        AstValue::Int(i) => serde_json::from_str(i.as_str()).unwrap_or(Json::Null),
        AstValue::Boolean(b) => Json::Bool(*b),
        AstValue::List(items) => Json::Array(items.iter().map(|v| json(v, variables)).collect()),
        AstValue::Object(fields) => Json::Object(
            fields
                .iter()
                .filter_map(|(name, v)| {
                    // An object field given as an absent variable is left out, as coercion does.
                    if let AstValue::Variable(var) = &**v {
                        if !variables.contains_key(var.as_str()) {
                            return None;
                        }
                    }
                    Some((name.to_string(), json(v, variables)))
                })
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(value: Json) -> Map<String, Json> {
        match value {
            Json::Object(map) => map,
            _ => Map::new(),
        }
    }

    fn event(value: Json) -> Value {
        crate::response::json::parse(value.to_string().as_bytes()).expect("event JSON")
    }

    #[test]
    fn topics_are_filled_from_arguments() {
        let topic = TopicTemplate::parse("reviews.{args.review.productUpc}.{args.n}").unwrap();
        let rendered = topic.render(&args(json!({"review": {"productUpc": "1"}, "n": 5})));
        assert_eq!(rendered.as_deref(), Ok("reviews.1.5"));
        assert_eq!(
            topic.render(&args(json!({"n": 5}))),
            Err("the topic needs a value for `args.review.productUpc`".to_owned())
        );
        assert!(TopicTemplate::parse("reviews.{productUpc}").is_err());
        assert!(TopicTemplate::parse("reviews.{args.upc").is_err());
        assert!(TopicTemplate::parse("").is_err());
    }

    #[test]
    fn filters_compare_event_fields_with_arguments_and_literals() {
        let filter = EventFilter::parse("product.upc == {args.upc} && stars == 5").unwrap();
        let bound = filter.bind(&args(json!({"upc": "1"})));
        assert!(bound.matches(&event(json!({"product": {"upc": 1}, "stars": 5}))));
        assert!(bound.matches(&event(json!({"product": {"upc": "1"}, "stars": 5.0}))));
        assert!(!bound.matches(&event(json!({"product": {"upc": "2"}, "stars": 5}))));
        assert!(!bound.matches(&event(json!({"product": {"upc": "1"}, "stars": 4}))));
        assert!(!bound.matches(&event(json!({"stars": 5}))));
        // A null or absent argument drops its clause.
        let open = filter.bind(&args(json!({"upc": null})));
        assert!(open.matches(&event(json!({"product": {"upc": "9"}, "stars": 5}))));
        assert!(EventFilter::parse("upc = {args.upc}").is_err());
        assert!(EventFilter::parse("upc == nope").is_err());
    }

    /// A number and a string match only by the same text; numbers by value, integers exactly.
    #[test]
    fn filters_match_numbers_and_strings_strictly() {
        let filter = EventFilter::parse("id == {args.id}").unwrap();
        let matches = |argument: Json, value: Json| {
            filter
                .bind(&args(json!({ "id": argument })))
                .matches(&event(json!({ "id": value })))
        };
        assert!(matches(json!("7"), json!(7)));
        assert!(matches(json!(7), json!("7")));
        for text in ["07", "7.0", "7e0", " 7"] {
            assert!(!matches(json!(text), json!(7)), "{text}");
            assert!(!matches(json!(7), json!(text)), "{text}");
        }
        // Past 2^53 two ids an f64 cannot tell apart.
        assert!(!matches(
            json!("1234567890123456788"),
            json!(1234567890123456789u64)
        ));
        assert!(!matches(
            json!(1234567890123456788u64),
            json!(1234567890123456789u64)
        ));
        assert!(matches(
            json!(1234567890123456789u64),
            json!(1234567890123456789u64)
        ));
        // Numbers are equal by value.
        assert!(matches(json!(5), json!(5.0)));
        assert!(matches(json!(0.5), json!(5e-1)));
        assert!(!matches(json!(5), json!(5.5)));
    }
}
