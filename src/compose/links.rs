//! Which names a subgraph uses for the federation directives and types.
//!
//! A Federation 2 subgraph declares the spec with
//! `@link(url: "https://specs.apollo.dev/federation/v2.x", import: [...])`: imported directives keep
//! their name (or take the `as:` name), the rest are reachable as `@federation__name` (or with the
//! link's `as:` prefix). A Federation 1 subgraph has no such link and uses the plain names.

use std::collections::HashMap;

use apollo_compiler::ast::{Directive, Value};
use apollo_compiler::Node;

use super::errors::{CompositionError, ErrorCode};

/// The directives the federation spec (up to v2.9) defines, by their canonical names.
const FEDERATION_DIRECTIVES: &[&str] = &[
    "key",
    "requires",
    "provides",
    "external",
    "shareable",
    "override",
    "extends",
    "inaccessible",
    "tag",
    "interfaceObject",
    "composeDirective",
    "authenticated",
    "requiresScopes",
    "policy",
    "context",
    "fromContext",
    "cost",
    "listSize",
];

/// How one subgraph spells the federation directives and types.
#[derive(Debug, Clone)]
pub(crate) struct FederationNames {
    /// The subgraph links the federation v2 spec; otherwise it is a Federation 1 subgraph.
    pub fed2: bool,
    /// The minor version of the linked federation v2 spec (`v2.3` ▶ 3); 0 for Federation 1.
    /// Features newer than the linked version are refused where Apollo refuses them.
    pub minor_version: u32,
    /// Local directive name (without `@`) ▶ canonical federation directive name.
    directives: HashMap<String, &'static str>,
    /// Prefixes (`federation__`, `link__`, ...) of the spec types the subgraph may carry.
    type_prefixes: Vec<String>,
}

impl FederationNames {
    /// Reads the `@link`s applied to the subgraph's schema definition or extension.
    pub fn from_schema_directives<'a>(
        schema_directives: impl IntoIterator<Item = &'a Node<Directive>>,
    ) -> Self {
        let mut names = FederationNames {
            fed2: false,
            minor_version: 0,
            directives: HashMap::new(),
            type_prefixes: vec!["link__".to_string(), "federation__".to_string()],
        };
        // Canonical names that an import has bound to a local name, and local names an import
        // has taken: both stop the plain canonical name from being recognised.
        let mut imported: Vec<&'static str> = Vec::new();
        let mut taken: Vec<String> = Vec::new();

        for link in schema_directives {
            if link.name != "link" {
                continue;
            }
            let Some(url) = string_argument(link, "url") else {
                continue;
            };
            let alias = string_argument(link, "as");
            if url.contains("/federation/") {
                names.fed2 = true;
                names.minor_version = names.minor_version.max(federation_minor_version(url));
                let namespace = alias.unwrap_or("federation");
                names.type_prefixes.push(format!("{namespace}__"));
                for (canonical, local) in imports(link) {
                    if let Some(canonical) = canonical_name(canonical) {
                        names.directives.insert(local.to_string(), canonical);
                        imported.push(canonical);
                        taken.push(local.to_string());
                    }
                }
                for canonical in FEDERATION_DIRECTIVES {
                    names
                        .directives
                        .insert(format!("{namespace}__{canonical}"), canonical);
                }
            } else {
                // The inaccessible and tag specs name their one directive after the spec.
                for canonical in ["inaccessible", "tag"] {
                    if url.contains(&format!("/{canonical}/")) {
                        let local = alias.unwrap_or(canonical);
                        names.directives.insert(local.to_string(), canonical);
                        imported.push(canonical);
                        taken.push(local.to_string());
                    }
                }
            }
        }

        // Leniency: frameworks often use a federation directive without importing it; accept the
        // plain name unless the subgraph bound that name or that directive to something else.
        // Not for `@cost` and `@listSize`: custom directives of those names are common (cost
        // analysis libraries define their own `@cost`), so only an import or the
        // `federation__` prefix makes them federation's.
        for canonical in FEDERATION_DIRECTIVES
            .iter()
            .filter(|canonical| !matches!(**canonical, "cost" | "listSize"))
        {
            if !imported.contains(canonical) && !taken.iter().any(|local| local == canonical) {
                names
                    .directives
                    .entry(canonical.to_string())
                    .or_insert(canonical);
            }
        }
        names
    }

    /// The canonical federation name of a directive the subgraph applies, if it is one.
    pub fn canonical(&self, local: &str) -> Option<&'static str> {
        self.directives.get(local).copied()
    }

    /// Types that exist only to support federation in the subgraph and never reach the
    /// supergraph. `FieldSet` and friends count only as scalars, so a user's object type that
    /// happens to share the name survives.
    pub fn is_federation_type(&self, name: &str, is_scalar: bool) -> bool {
        matches!(name, "_Service" | "_Entity")
            || (is_scalar && matches!(name, "_Any" | "_FieldSet" | "FieldSet"))
            || self
                .type_prefixes
                .iter()
                .any(|prefix| name.starts_with(prefix.as_str()))
    }
}

/// The minor version in a federation spec URL (`.../federation/v2.7` ▶ 7). A version that does
/// not parse counts as the newest, so an unusual URL never makes a subgraph lose features.
fn federation_minor_version(url: &str) -> u32 {
    url.split_once("/federation/v2.")
        .map(|(_, rest)| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|minor| minor.parse().ok())
        .unwrap_or(u32::MAX)
}

/// Refuses a directive a subgraph's federation `@link` imports that the spec does not define
/// (`"@bogus"`, a typo of one that is): Apollo refuses it with `INVALID_LINK_DIRECTIVE_USAGE`,
/// and read as a custom directive it would silently do nothing. A directive newer than the
/// linked version (`@interfaceObject` from v2.2, `@override(label:)` before v2.7) is accepted
/// on purpose, where Apollo refuses it: frameworks often link an older version than the
/// features they use. So is an unknown import from a version after v2.9, which may define it.
pub(super) fn check_imports<'a>(
    subgraph: &str,
    schema_directives: impl IntoIterator<Item = &'a Node<Directive>>,
    errors: &mut Vec<CompositionError>,
) {
    for link in schema_directives {
        let federation =
            string_argument(link, "url").is_some_and(|url| url.contains("/federation/"));
        if link.name != "link" || !federation {
            continue;
        }
        // Versions after v2.9 may define directives this list does not know yet.
        if string_argument(link, "url").is_some_and(|url| federation_minor_version(url) > 9) {
            continue;
        }
        for (imported, _) in imports(link) {
            if !imported.starts_with('@') || canonical_name(imported).is_some() {
                continue;
            }
            errors.push(CompositionError::new(
                ErrorCode::InvalidLinkDirectiveUsage,
                format!(
                    "[{subgraph}] imports {imported}, which the federation spec does not define"
                ),
            ));
        }
    }
}

fn canonical_name(imported: &str) -> Option<&'static str> {
    let name = imported.strip_prefix('@')?;
    FEDERATION_DIRECTIVES
        .iter()
        .copied()
        .find(|canonical| *canonical == name)
}

/// `(imported name, local name)` for every entry of `import:`. The imported name keeps its `@`
/// so directives can be told from types; the local name drops it.
fn imports(link: &Directive) -> Vec<(&str, &str)> {
    crate::supergraph::link_imports::link_imports(link)
        .into_iter()
        .map(|import| (import.name, import.local.trim_start_matches('@')))
        .collect()
}

pub(crate) fn string_argument<'a>(directive: &'a Directive, name: &str) -> Option<&'a str> {
    directive
        .specified_argument_by_name(name)
        .and_then(|value| value.as_str())
}

pub(crate) fn bool_argument(directive: &Directive, name: &str) -> Option<bool> {
    match directive.specified_argument_by_name(name)?.as_ref() {
        Value::Boolean(value) => Some(*value),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::federation_minor_version;

    #[test]
    fn minor_version_of_federation_urls() {
        for (url, minor) in [
            ("https://specs.apollo.dev/federation/v2.0", 0),
            ("https://specs.apollo.dev/federation/v2.7", 7),
            ("https://specs.apollo.dev/federation/v2.10/", 10),
            ("https://specs.apollo.dev/federation/v2", u32::MAX),
            ("https://example.com/federation/latest", u32::MAX),
        ] {
            assert_eq!(federation_minor_version(url), minor, "{url}");
        }
    }
}
