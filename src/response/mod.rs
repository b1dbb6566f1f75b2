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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<serde_json::Map<String, serde_json::Value>>,
}

impl GraphqlError {
    pub fn new(message: impl Into<String>, code: &str) -> Self {
        let mut extensions = serde_json::Map::new();
        extensions.insert("code".into(), code.into());
        Self {
            message: message.into(),
            locations: None,
            path: None,
            extensions: Some(extensions),
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
}
