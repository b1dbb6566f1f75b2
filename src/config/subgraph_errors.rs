//! `subgraph_errors:` — how much of a subgraph's GraphQL errors reaches clients.
//!
//! By default a client sees each error's message, its path (rewritten to the client's) and its
//! `extensions.code`: enough to act on, while other extensions (stack traces, internal ids that
//! some servers add) stay behind. Messages can be redacted for subgraphs that put internals in
//! them, and all extensions kept for subgraphs whose extensions are part of their API.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::ConfigProblem;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubgraphErrorsConfig {
    #[serde(default)]
    pub all: ErrorPolicy,
    /// Per subgraph by name; each key given here overrides the one under `all`.
    #[serde(default)]
    pub subgraphs: BTreeMap<String, ErrorPolicy>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorPolicy {
    /// Replace each message with a generic one (default false).
    #[serde(default)]
    pub redact_message: Option<bool>,
    /// Pass every extension on, not only `code` (default false).
    #[serde(default)]
    pub keep_extensions: Option<bool>,
}

/// The policy one subgraph's errors get.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResolvedErrorPolicy {
    pub redact_message: bool,
    pub keep_extensions: bool,
}

impl SubgraphErrorsConfig {
    pub fn for_subgraph(&self, name: &str) -> ResolvedErrorPolicy {
        let own = self.subgraphs.get(name);
        let pick = |get: fn(&ErrorPolicy) -> Option<bool>| {
            own.and_then(get).or(get(&self.all)).unwrap_or(false)
        };
        ResolvedErrorPolicy {
            redact_message: pick(|p| p.redact_message),
            keep_extensions: pick(|p| p.keep_extensions),
        }
    }

    pub(super) fn problems(&self, known_subgraphs: Option<&[&str]>, out: &mut Vec<ConfigProblem>) {
        let Some(known) = known_subgraphs else {
            return;
        };
        for name in self.subgraphs.keys() {
            if !known.contains(&name.as_str()) {
                out.push(ConfigProblem {
                    key: format!("subgraph_errors.subgraphs.{name}"),
                    message: format!(
                        "no subgraph is named `{name}`; the subgraphs are: {}",
                        known.join(", ")
                    ),
                });
            }
        }
    }
}
