//! Composition: subgraph SDLs into one supergraph SDL.
//!
//! The output is the supergraph format rover and Hive produce (`@link` + join v0.3 to v0.5), so the
//! `supergraph` module reads ours and theirs the same way. The steps, one file each:
//!
//! 0. `plain`: rewrite each plain (stitched) service as the Federation 2 subgraph it acts as.
//! 1. `subgraph`: parse each SDL and normalise it (federation directive names, root type names,
//!    federation plumbing removed); `fieldset` checks its `@key`/`@requires`/`@provides`, `cost`
//!    its `@cost`/`@listSize`; `externals` settles what `@external` means (Federation 1 rules
//!    look at every subgraph).
//! 2. `interfaces` checks entity interfaces and `@interfaceObject`s across subgraphs.
//! 3. `merge`: merge every type across subgraphs (`fields` for object and interface fields, with
//!    `subtypes` for field types that differ by subtyping, `values` for enums, input objects and
//!    arguments, `cost` for `@cost`/`@listSize`, `access` for `@authenticated`/`@requiresScopes`/
//!    `@policy`, `composed` for `@composeDirective`, `executable` for directives clients write)
//!    into the `model`; `defaults` then checks that every default value still fits the merged
//!    types, `inaccessible` that the API schema does not leak what `@inaccessible` hides, and
//!    `satisfiability` that every field clients can reach has a subgraph to resolve it.
//! 4. `print`: print the model, then validate the result with apollo-compiler as a last guard.
//!
//! Composition reports every error it finds rather than stopping at the first one.

mod access;
mod composed;
mod contexts;
mod cost;
mod defaults;
mod errors;
mod executable;
mod externals;
mod fields;
mod fieldset;
mod inaccessible;
mod interfaces;
mod links;
mod merge;
mod model;
mod plain;
mod print;
mod satisfiability;
mod subgraph;
mod subtypes;
mod transitive_access;
mod values;

#[cfg(test)]
mod tests;

use std::collections::HashSet;

use apollo_compiler::Schema;

pub use errors::{CompositionError, CompositionErrors, ErrorCode};

use crate::sources::SubgraphSdl;

/// Composes subgraph SDLs into a supergraph SDL.
///
/// Subgraphs are ordered by name first, so the output does not depend on the order of the
/// config file. SDL-only subgraphs (`url: None`) get `url: ""` in `join__Graph`.
pub fn compose(subgraphs: &[SubgraphSdl]) -> Result<String, CompositionErrors> {
    let mut errors = Vec::new();
    check_names(subgraphs, &mut errors);
    // Two subgraphs with one name would be reported again as every field they share.
    if !errors.is_empty() {
        return Err(CompositionErrors::new(errors));
    }

    let mut ordered: Vec<&SubgraphSdl> = subgraphs.iter().collect();
    ordered.sort_by(|a, b| a.name.cmp(&b.name));
    // Stitching: plain services become Federation 2 subgraphs before anything else reads them.
    let federated = plain::federate(&ordered, &mut errors);
    let ordered: Vec<&SubgraphSdl> = federated.iter().collect();
    let names: Vec<&str> = ordered.iter().map(|s| s.name.as_str()).collect();
    let graph_values = graph_enum_values(&names);

    let mut parsed = Vec::new();
    let mut unparsable = false;
    for (input, graph) in ordered.into_iter().zip(graph_values) {
        match subgraph::parse_subgraph(input, graph, &mut errors) {
            Some(subgraph) => parsed.push(subgraph),
            None => unparsable = true,
        }
    }
    // Merging without a subgraph would report errors that are only echoes of its absence.
    if unparsable {
        return Err(CompositionErrors::new(errors));
    }

    externals::normalise(&mut parsed, &mut errors);
    interfaces::check(&parsed, &mut errors);
    let supergraph = merge::merge(&parsed, &mut errors);
    defaults::check(&supergraph, &mut errors);
    inaccessible::check(&supergraph, &parsed, &mut errors);
    transitive_access::check(&supergraph, &parsed, &mut errors);
    // Only a supergraph that merged cleanly is worth checking: echoes of earlier errors
    // (a field dropped by a failed merge, say) would be reported again here.
    if errors.is_empty() {
        satisfiability::check(&supergraph, &parsed, &mut errors);
    }
    if !errors.is_empty() {
        return Err(CompositionErrors::new(errors));
    }
    let sdl = print::print(&supergraph);

    // The rules above do not cover all of GraphQL validation (an object missing a field its
    // interface gained from another subgraph, say); refusing an invalid supergraph here keeps
    // it from reaching the gateway.
    if let Err(invalid) = Schema::parse_and_validate(&sdl, "supergraph.graphql") {
        let errors = invalid
            .errors
            .iter()
            .map(|diagnostic| {
                CompositionError::new(
                    ErrorCode::InvalidSupergraph,
                    format!("The composed supergraph is invalid: {}", diagnostic.error),
                )
            })
            .collect();
        return Err(CompositionErrors::new(errors));
    }
    Ok(sdl)
}

fn check_names(subgraphs: &[SubgraphSdl], errors: &mut Vec<errors::CompositionError>) {
    let mut seen = HashSet::new();
    for subgraph in subgraphs {
        if subgraph.name.trim().is_empty() {
            errors.push(CompositionError::new(
                ErrorCode::InvalidSubgraphName,
                "A subgraph has an empty name",
            ));
        } else if !seen.insert(subgraph.name.as_str()) {
            errors.push(CompositionError::new(
                ErrorCode::InvalidSubgraphName,
                format!("Two subgraphs are named \"{}\"", subgraph.name),
            ));
        }
    }
}

/// `join__Graph` values: the name upper-cased, anything but letters and digits as `_`, a `_`
/// in front of a leading digit, and `_1`, `_2`, ... to tell apart names that end up the same.
fn graph_enum_values(names: &[&str]) -> Vec<String> {
    let mut taken = HashSet::new();
    names
        .iter()
        .map(|name| {
            let mut base: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_uppercase()
                    } else {
                        '_'
                    }
                })
                .collect();
            if base.is_empty() || base.starts_with(|c: char| c.is_ascii_digit()) {
                base.insert(0, '_');
            }
            let mut value = base.clone();
            let mut suffix = 1;
            while taken.contains(&value) {
                value = format!("{base}_{suffix}");
                suffix += 1;
            }
            taken.insert(value.clone());
            value
        })
        .collect()
}

#[cfg(test)]
mod graph_name_tests {
    use super::graph_enum_values;

    #[test]
    fn graph_enum_values_are_upper_case_identifiers_without_collisions() {
        assert_eq!(
            graph_enum_values(&["accounts", "a-b", "a_b", "A.B", "2fa", ""]),
            ["ACCOUNTS", "A_B", "A_B_1", "A_B_2", "_2FA", "_"]
        );
    }
}
