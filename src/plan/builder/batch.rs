//! Batching entity fetches: groups to one subgraph whose dependencies are all met at the same step
//! of the plan go out as one request rather than one each.
//!
//! A plan's steps are the levels of its dependency graph (a group's level is one more than the
//! deepest group it waits for), so groups at one level can start together. The benchmark's deep
//! query asks the products subgraph for the products under three different paths at one level;
//! batched, that is one call and each product is asked for once.

use super::*;
use crate::plan::BatchFetch;

impl Builder<'_> {
    /// The plan's units: each a list of group indices that run as one request, in the order of
    /// their first group. Most units are one group; entity groups to one subgraph at one level and
    /// under the same variable conditions share a unit. Mutations are not batched (their entity
    /// fetches follow each root field in order), nor are groups whose requests are built per
    /// entity (context values, stitched lookups).
    pub(super) fn batch_units(
        &self,
        kind: OperationKind,
        fetches: &[FetchNode],
    ) -> Vec<Vec<usize>> {
        let mut units: Vec<Vec<usize>> = Vec::with_capacity(self.groups.len());
        if kind == OperationKind::Mutation {
            return (0..self.groups.len()).map(|i| vec![i]).collect();
        }
        let mut levels: HashMap<usize, usize> = HashMap::new();
        // (level, subgraph) ▶ the units of batchable groups there.
        let mut open: HashMap<(usize, SubgraphId), Vec<usize>> = HashMap::new();
        for (i, group) in self.groups.iter().enumerate() {
            let batchable = fetches[i]
                .entity
                .as_ref()
                .is_some_and(|e| e.lookup.is_none() && e.contexts.is_empty());
            if !batchable {
                units.push(vec![i]);
                continue;
            }
            let level = self.level_of(i, &mut levels);
            let candidates = open.entry((level, group.subgraph)).or_default();
            let same_conditions = |unit: &usize| {
                let other = &self.groups[units[*unit][0]].conditions;
                other.len() == group.conditions.len()
                    && other.iter().all(|c| group.conditions.contains(c))
            };
            match candidates.iter().copied().find(same_conditions) {
                Some(unit) => units[unit].push(i),
                None => {
                    candidates.push(units.len());
                    units.push(vec![i]);
                }
            }
        }
        units
    }
}

/// The batch of the entity fetches `members` (at least two, one subgraph): fetches with the same
/// operation share an entry, and so one representation list.
pub(super) fn batch_fetch(
    supergraph: &Supergraph,
    members: Vec<FetchNode>,
    operation: &Operation,
) -> BatchFetch {
    let mut entries: Vec<Vec<FetchNode>> = Vec::new();
    for fetch in members {
        match entries
            .iter_mut()
            .find(|entry| entry[0].operation == fetch.operation)
        {
            Some(entry) => entry.push(fetch),
            None => entries.push(vec![fetch]),
        }
    }
    let first = &entries[0][0];
    let (subgraph, service_name) = (first.subgraph, first.service_name.clone());
    if entries.len() == 1 {
        // One selection: the members' own operation, with their representations in one list.
        return BatchFetch {
            subgraph,
            service_name,
            operation: first.operation.clone(),
            variable_usages: first.variable_usages.clone(),
            representations: Name::new_static_unchecked("representations"),
            entries,
        };
    }
    let mut variables: Vec<Name> = Vec::new();
    for fetch in entries.iter().map(|entry| &entry[0]) {
        for v in &fetch.variable_usages {
            if !variables.contains(v) {
                variables.push(v.clone());
            }
        }
    }
    let representations = representations_prefix(operation);
    let mut text = String::from("query(");
    for i in 0..entries.len() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!("${representations}{i}:[_Any!]!"));
    }
    let mut definitions = String::new();
    arrange::write_variable_definitions(operation, &variables, false, &mut definitions);
    if let Some(inner) = definitions
        .strip_prefix('(')
        .and_then(|d| d.strip_suffix(')'))
    {
        text.push(',');
        text.push_str(inner);
    }
    text.push(')');
    text.push_str(&arrange::operation_directives(
        supergraph,
        operation,
        true,
        &mut Vec::new(),
    ));
    text.push('{');
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            text.push(' ');
        }
        text.push_str(&format!(
            "_{i}:_entities(representations:${representations}{i})"
        ));
        entry[0].selection.write_compact(&mut text);
    }
    text.push('}');
    BatchFetch {
        subgraph,
        service_name,
        operation: text,
        variable_usages: variables,
        representations,
        entries,
    }
}

/// `r`, or with as many leading underscores as it takes for no client variable to be that
/// prefix followed by digits.
fn representations_prefix(operation: &Operation) -> Name {
    let mut prefix = String::from("r");
    let taken = |prefix: &str| {
        operation.variables.iter().any(|v| {
            v.name
                .strip_prefix(prefix)
                .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
        })
    };
    while taken(&prefix) {
        prefix.insert(0, '_');
    }
    Name::new(&prefix).unwrap_or_else(|_| Name::new_static_unchecked("r"))
}
