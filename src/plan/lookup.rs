//! Stitching: the plan side of entity fetches from plain services (see `execute/lookup.rs`).

use apollo_compiler::Name;

use super::selection::SelectionSet;
use super::{LookupFetch, LookupType};
use crate::supergraph::{SubgraphId, Supergraph};

/// The lookup of every entity type of a fetch from `graph`, with the selection it fetches;
/// `None` unless every type has one, since one request cannot mix lookups and `_entities`.
pub(super) fn lookup_types<'a>(
    supergraph: &Supergraph,
    graph: SubgraphId,
    types: impl Iterator<Item = (&'a Name, &'a SelectionSet)>,
) -> Option<Vec<LookupType>> {
    types
        .map(|(name, fields)| {
            let lookup = supergraph.lookup(graph, name)?.clone();
            let mut selection = String::new();
            if fields.is_empty() {
                // Nothing but the entity itself was asked for; a selection may not be empty.
                selection.push_str("{__typename}");
            } else {
                fields.write_compact(&mut selection);
            }
            Some(LookupType { lookup, selection })
        })
        .collect::<Option<Vec<_>>>()
        .filter(|types| !types.is_empty())
}

/// `definitions` is the fetch's client variable definitions as the `_entities` operation
/// writes them: `($first:Int)`, or nothing.
pub(super) fn fetch(types: Vec<LookupType>, definitions: &str) -> LookupFetch {
    let inner = definitions
        .strip_prefix('(')
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or(definitions);
    LookupFetch {
        types,
        variable_definitions: inner.to_string(),
    }
}
