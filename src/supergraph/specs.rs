//! Which linked specs Seam implements. A spec linked `for: SECURITY` or `for: EXECUTION` changes
//! what serving the supergraph correctly means (who may see a field, how to run a query), so a
//! gateway that does not implement one must not serve the supergraph at all: it would, say, give
//! `@authenticated` fields to anyone. Apollo Router refuses such supergraphs the same way.
//!
//! Implementing a spec (or putting it behind a config switch) means adding it to [`IMPLEMENTED`].

use apollo_compiler::Schema;

use super::SupergraphError;

/// Spec identities (URLs without the version) whose semantics Seam implements.
const IMPLEMENTED: &[&str] = &[
    "https://specs.apollo.dev/core/",
    "https://specs.apollo.dev/link/",
    "https://specs.apollo.dev/join/",
    "https://specs.apollo.dev/inaccessible/",
    "https://specs.apollo.dev/tag/",
    "https://specs.apollo.dev/cost/",
    "https://specs.apollo.dev/context/",
    // Enforced by `crate::auth`: fields and types a request may not see are filtered out.
    "https://specs.apollo.dev/authenticated/",
    "https://specs.apollo.dev/requiresScopes/",
    "https://specs.apollo.dev/policy/",
];

/// Refuses a supergraph that links a `SECURITY` or `EXECUTION` spec Seam does not implement,
/// naming the spec. Both `@link(url:, for:)` and the older `@core(feature:, for:)` count.
pub(super) fn check_implemented(schema: &Schema) -> Result<(), SupergraphError> {
    for link in schema.schema_definition.directives.iter() {
        let url_argument = match link.name.as_str() {
            "link" => "url",
            "core" => "feature",
            _ => continue,
        };
        let Some(purpose) = link
            .specified_argument_by_name("for")
            .and_then(|purpose| purpose.as_enum())
        else {
            continue;
        };
        if !matches!(purpose.as_str(), "SECURITY" | "EXECUTION") {
            continue;
        }
        let url = link
            .specified_argument_by_name(url_argument)
            .and_then(|url| url.as_str())
            .unwrap_or_default();
        if !IMPLEMENTED.iter().any(|spec| url.starts_with(spec)) {
            return Err(SupergraphError::UnsupportedSpec {
                url: url.to_string(),
                purpose: purpose.to_string(),
            });
        }
    }
    Ok(())
}
