//! The `merge:` entries of a plain (stitched) subgraph: how the service looks up an object of
//! a type by its key, and the rules such an entry must follow.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::SubgraphConfig;

impl SubgraphConfig {
    /// The `merge:` entries as lookups, in type-name order.
    pub fn merge_rules(&self) -> Vec<MergeRule> {
        self.merge
            .iter()
            .map(|(type_name, merge)| MergeRule {
                type_name: type_name.clone(),
                key_fields: merge.key_fields().map(str::to_string).collect(),
                query: merge.query.trim().to_string(),
                arguments: merge.arguments(),
            })
            .collect()
    }
}

/// One entry under a subgraph's `merge:`: how the service looks up an object of the type by
/// its key, e.g. `User: { key: id, query: userById }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeConfig {
    /// The key fields, space-separated (`id` or `id orgId`): top-level fields of the type.
    pub key: String,
    /// A field of this service's `Query` type that returns the type given its key.
    pub query: String,
    /// Argument name ▶ key field, for arguments not named like the key field they take.
    #[serde(default)]
    pub args: BTreeMap<String, String>,
}

impl MergeConfig {
    fn key_fields(&self) -> impl Iterator<Item = &str> {
        self.key
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|part| !part.is_empty())
    }

    /// `(argument, key field)` for every key field: the argument `args` maps to it, else the
    /// argument of the same name.
    fn arguments(&self) -> Vec<(String, String)> {
        self.key_fields()
            .map(|field| {
                let argument = self
                    .args
                    .iter()
                    .find(|(_, key_field)| key_field.trim() == field)
                    .map_or(field, |(argument, _)| argument.trim());
                (argument.to_string(), field.to_string())
            })
            .collect()
    }
}

/// A validated `merge:` entry, as composition and the gateway use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeRule {
    pub type_name: String,
    pub key_fields: Vec<String>,
    /// The lookup field on the service's `Query` type.
    pub query: String,
    /// `(argument, key field)`, one per key field, in key order.
    pub arguments: Vec<(String, String)>,
}

impl MergeRule {
    /// The key as a federation field set (`id orgId`).
    pub fn key(&self) -> String {
        self.key_fields.join(" ")
    }
}

/// The rules of one subgraph's `merge:` entries.
pub(super) fn merge_problems(
    subgraph: &SubgraphConfig,
    at: &str,
    of: &str,
    problem: &mut impl FnMut(String, String),
) {
    if subgraph.merge.is_empty() {
        return;
    }
    if subgraph.plain == Some(false) {
        problem(
            format!("{at}.merge"),
            format!(
                "`merge` is for plain GraphQL services, but `plain: false` says this is a \
                 federation subgraph; give its entities `@key` in its schema instead {of}"
            ),
        );
    } else if subgraph.sdl.is_some() && subgraph.plain.is_none() {
        problem(
            format!("{at}.merge"),
            format!(
                "`merge` is for plain GraphQL services; add `plain: true` to say the `sdl` file \
                 is one {of}"
            ),
        );
    }
    if subgraph.url.is_none() {
        problem(
            format!("{at}.merge"),
            format!("lookups are sent to the service, so `merge` needs a `url` {of}"),
        );
    }
    for (type_name, merge) in &subgraph.merge {
        let at = format!("{at}.merge.{type_name}");
        if let Err(message) = check_graphql_name(type_name, "type name") {
            problem(at.clone(), format!("{message} {of}"));
        }
        if merge.key_fields().next().is_none() {
            problem(
                format!("{at}.key"),
                format!("the key is empty; name the fields that identify a {type_name}, e.g. `key: id` {of}"),
            );
        }
        if merge.key.contains(['{', '}']) {
            problem(
                format!("{at}.key"),
                format!(
                    "`{}` selects nested fields; a lookup key lists top-level fields only, e.g. \
                     `id` or `id orgId` {of}",
                    merge.key.trim()
                ),
            );
        } else {
            for field in merge.key_fields() {
                if let Err(message) = check_graphql_name(field, "key field") {
                    problem(
                    format!("{at}.key"),
                        format!("{message}; a lookup key lists field names, e.g. `id` or `id orgId` {of}"),
                    );
                }
            }
        }
        let query = merge.query.trim();
        if query.is_empty() {
            problem(
                format!("{at}.query"),
                format!("the query is empty; name the Query field that returns a {type_name} by its key {of}"),
            );
        } else if let Err(message) = check_graphql_name(query, "query field") {
            problem(format!("{at}.query"), format!("{message} {of}"));
        }
        for (argument, key_field) in &merge.args {
            if let Err(message) = check_graphql_name(argument.trim(), "argument name") {
                problem(format!("{at}.args"), format!("{message} {of}"));
            }
            if !merge.key_fields().any(|field| field == key_field.trim()) {
                problem(
                    format!("{at}.args.{argument}"),
                    format!(
                        "`{key_field}` is not a field of the key `{}`; each argument takes a key \
                         field {of}",
                        merge.key.trim()
                    ),
                );
            }
        }
    }
}

/// GraphQL names: an ASCII letter or `_` first, then ASCII letters, digits or `_`; a leading
/// `__` is reserved for introspection.
fn check_graphql_name(name: &str, what: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__");
    if valid {
        Ok(())
    } else {
        Err(format!("`{name}` is not a valid {what} (a GraphQL name)"))
    }
}
