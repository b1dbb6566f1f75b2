//! Getting each subgraph's SDL.

/// One subgraph's SDL together with where it is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubgraphSdl {
    /// The subgraph's name from the config; it becomes the `join__Graph` value.
    pub name: String,
    /// Where queries go; `None` for an SDL-only subgraph (e.g. an event subgraph).
    pub url: Option<String>,
    pub sdl: String,
}
