//! The GraphQL response pieces shared by execution, the subgraph client and the HTTP edge: the
//! JSON value tree responses are parsed into and merged in, its parser, and GraphQL errors.

pub mod json;
pub(crate) mod merge;
mod scan;
pub mod value;

pub use value::{Object, Text, Value};

use serde::{Deserialize, Serialize};

/// One segment of an error `path`: a response key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PathSegment {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// A GraphQL error as the spec shapes it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GraphqlError {
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locations: Option<Vec<Location>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<Vec<PathSegment>>,
    /// Boxed: errors travel in `Result`s on every path, and an inline map (ordered, so
    /// a client's JSON keeps its key order) would make each of them twice the size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Box<serde_json::Map<String, serde_json::Value>>>,
}

impl GraphqlError {
    pub fn new(message: impl Into<String>, code: &str) -> Self {
        let mut extensions = serde_json::Map::new();
        extensions.insert("code".into(), code.into());
        Self {
            message: message.into(),
            locations: None,
            path: None,
            extensions: Some(Box::new(extensions)),
        }
    }

    pub fn with_path(mut self, path: Vec<PathSegment>) -> Self {
        self.path = Some(path);
        self
    }

    pub fn with_extension(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.extensions
            .get_or_insert_with(Default::default)
            .insert(key.into(), value.into());
        self
    }

    pub fn code(&self) -> Option<&str> {
        self.extensions.as_ref()?.get("code")?.as_str()
    }

    /// One entry of a subgraph's `errors`, whatever its shape: what follows the spec is kept,
    /// what does not is left out (a `path` or `locations` that is not a list of valid entries,
    /// `extensions` that is not an object), and a `message` that is not a string becomes its
    /// JSON text. So one malformed error cannot make a subgraph's whole answer unreadable.
    pub fn from_subgraph(value: &serde_json::Value) -> GraphqlError {
        let text = |value: &serde_json::Value| match value {
            serde_json::Value::String(text) => text.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        let Some(error) = value.as_object() else {
            return GraphqlError {
                message: text(value),
                locations: None,
                path: None,
                extensions: None,
            };
        };
        let path = error.get("path").and_then(|path| {
            path.as_array()?
                .iter()
                .map(|segment| match segment {
                    serde_json::Value::String(key) => Some(PathSegment::Key(key.clone())),
                    serde_json::Value::Number(index) => index
                        .as_u64()
                        .and_then(|i| usize::try_from(i).ok())
                        .map(PathSegment::Index),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
        });
        let locations = error.get("locations").and_then(|locations| {
            locations
                .as_array()?
                .iter()
                .map(|location| {
                    let number = |key: &str| {
                        location
                            .get(key)?
                            .as_u64()
                            .and_then(|n| usize::try_from(n).ok())
                    };
                    Some(Location {
                        line: number("line")?,
                        column: number("column")?,
                    })
                })
                .collect::<Option<Vec<_>>>()
        });
        GraphqlError {
            message: error.get("message").map(text).unwrap_or_default(),
            locations,
            path,
            extensions: error
                .get("extensions")
                .and_then(|e| e.as_object())
                .cloned()
                .map(Box::new),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_subgraph_error_keeps_what_follows_the_spec_and_drops_the_rest() {
        let error = GraphqlError::from_subgraph(&json!({
            "message": "boom",
            "locations": [{ "line": 2, "column": 5 }],
            "path": ["a", 0, "b"],
            "extensions": { "code": "X" }
        }));
        assert_eq!(error.message, "boom");
        assert_eq!(error.locations, Some(vec![Location { line: 2, column: 5 }]));
        assert_eq!(
            error.path,
            Some(vec![
                PathSegment::Key("a".into()),
                PathSegment::Index(0),
                PathSegment::Key("b".into())
            ])
        );
        assert_eq!(error.code(), Some("X"));

        for (value, message) in [
            (json!({ "message": null }), ""),
            (json!({}), ""),
            (json!({ "message": 42 }), "42"),
            (json!({ "message": ["a"] }), "[\"a\"]"),
            (json!("bare"), "bare"),
            (json!(7), "7"),
        ] {
            let error = GraphqlError::from_subgraph(&value);
            assert_eq!(error.message, message, "{value}");
            assert_eq!(
                (error.path, error.locations, error.extensions),
                (None, None, None)
            );
        }
        for path in [
            json!(["a", -1]),
            json!(["a", 1.5]),
            json!(["a", null]),
            json!("a.b"),
            json!({}),
        ] {
            let error = GraphqlError::from_subgraph(&json!({ "message": "m", "path": path }));
            assert_eq!(error.path, None, "{path}");
        }
        for locations in [
            json!("x"),
            json!([{ "line": 1 }]),
            json!([{ "line": -1, "column": 1 }]),
        ] {
            let error =
                GraphqlError::from_subgraph(&json!({ "message": "m", "locations": locations }));
            assert_eq!(error.locations, None, "{locations}");
        }
        let error = GraphqlError::from_subgraph(&json!({ "message": "m", "extensions": "x" }));
        assert_eq!(error.extensions, None);
    }
}
