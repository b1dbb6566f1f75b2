//! The `graphiql:` switch: whether a browser opening the GraphQL path gets the GraphiQL IDE.

use serde::Deserialize;

/// `graphiql: true` (the default) or `false`. A type of its own because the default is on, which
/// a plain `bool` field of a `#[derive(Default)]` config could not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct GraphiqlConfig {
    pub enabled: bool,
}

impl Default for GraphiqlConfig {
    fn default() -> Self {
        Self { enabled: true }
    }
}
