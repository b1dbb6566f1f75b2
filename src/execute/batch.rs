//! A batch: the entity fetches of a [`BatchFetch`] sent to their subgraph as one request, and its
//! answer split back into one `_entities` answer per entry, merged as each fetch's own would be.
//!
//! The fetches of an entry share one representation list, so an entity that two of them reach
//! is sent once and its answer merged at each place. Errors go back to their entry by the
//! response key their path starts with (`_1` in `["_1", 3, "name"]`) and are then mapped to
//! client paths exactly as a single fetch's are.

use serde_json::Map;

use super::fetch::{self, collect_targets, write_client_variables, EntitiesAnswer, PreparedFetch};
use super::report::Report;
use crate::plan::{BatchFetch, FetchNode};
use crate::response::value::{write_json_string, Value};
use crate::response::{GraphqlError, PathSegment};
use crate::traffic::SubgraphResponse;

/// A prepared batch request and what is needed to merge its answer.
pub(super) struct PreparedBatch {
    pub body: Vec<u8>,
    /// Per entry: each fetch's targets, and how many distinct representations the entry sent.
    entries: Vec<(Vec<PreparedFetch>, usize)>,
}

impl PreparedBatch {
    /// How many places the answer fills and how many entities it was asked for, over every
    /// entry (see `PreparedFetch::fan_out`).
    pub(super) fn fan_out(&self) -> (usize, usize) {
        self.entries
            .iter()
            .fold((0, 0), |(places, asked), (fetches, sent)| {
                let filled: usize = fetches.iter().map(|fetch| fetch.fan_out().0).sum();
                (places + filled, asked + sent)
            })
    }
}

/// Builds the request; `None` when no fetch of the batch has an entity to ask for. An entry with
/// none is sent an empty list, so the operation text stays the one the plan made.
pub(super) fn prepare(
    batch: &BatchFetch,
    data: &Value,
    variables: &Map<String, serde_json::Value>,
    report: &mut Report,
) -> Option<PreparedBatch> {
    let mut body = Vec::with_capacity(batch.operation.len() + 512);
    body.extend_from_slice(b"{\"query\":");
    write_json_string(&mut body, &batch.operation);
    body.extend_from_slice(b",\"variables\":{");
    let mut first = !write_client_variables(&batch.variable_usages, variables, &mut body);
    let mut entries = Vec::with_capacity(batch.entries.len());
    let mut sent = 0;
    for (i, entry) in batch.entries.iter().enumerate() {
        if !first {
            body.push(b',');
        }
        first = false;
        write_json_string(&mut body, &batch.entry_variable(i));
        body.extend_from_slice(b":[");
        let mut seen = fetch::RepIndex::default();
        let mut members = Vec::with_capacity(entry.len());
        for member in entry {
            let Some(entity) = &member.entity else {
                continue;
            };
            members.push(collect_targets(
                member,
                entity,
                data,
                report,
                None,
                &mut seen,
                &mut |index, _, _, rep| {
                    if index > 0 {
                        body.push(b',');
                    }
                    body.extend_from_slice(rep);
                },
            ));
        }
        body.push(b']');
        sent += seen.len();
        entries.push((members, seen.len()));
    }
    if sent == 0 {
        return None;
    }
    body.extend_from_slice(b"}}");
    Some(PreparedBatch { body, entries })
}

/// The fetches of entry `i` with their prepared targets. Fetches without an entity were skipped
/// by [`prepare`], and are here too, so the two lists stay in step.
fn members<'a>(
    batch: &'a BatchFetch,
    prepared: &'a PreparedBatch,
    i: usize,
) -> Vec<(&'a FetchNode, &'a PreparedFetch)> {
    let fetches = batch.entries[i].iter().filter(|f| f.entity.is_some());
    fetches.zip(&prepared.entries[i].0).collect()
}

/// Splits the answer by entry and merges each entry's `_entities` list.
pub(super) fn merge(
    batch: &BatchFetch,
    prepared: PreparedBatch,
    response: SubgraphResponse,
    data: &mut Value,
    report: &mut Report,
) {
    let count = batch.entries.len();
    let any_errors = !response.errors.is_empty();
    let mut entry_errors: Vec<Vec<GraphqlError>> = vec![Vec::new(); count];
    // Errors about no entry (no path, or one the gateway cannot place) are reported once.
    let mut unplaced = Vec::new();
    for mut error in response.errors {
        match error.path.as_mut().and_then(|path| entry_of(batch, path)) {
            Some(i) => entry_errors[i].push(error),
            None => unplaced.push(GraphqlError {
                path: None,
                ..error
            }),
        }
    }
    let mut object = fetch::AnswerObject::of(response.data);
    // Without data at all, an error about one entry explains every entry's missing list (a
    // non-null `_entities` that failed takes the whole `data` with it).
    let explained = any_errors && object.is_none();
    for (i, errors) in entry_errors.into_iter().enumerate() {
        let entities = object
            .as_mut()
            .and_then(|o| o.take_or_borrow(&batch.entry_key(i)));
        let answer = EntitiesAnswer {
            entities,
            had_errors: explained || !errors.is_empty() || !unplaced.is_empty(),
            errors,
        };
        let rep_count = prepared.entries[i].1;
        fetch::merge_entities(
            &members(batch, &prepared, i),
            rep_count,
            answer,
            data,
            report,
        );
    }
    report.errors.extend(unplaced);
}

/// The entry an error path starts in; the path then starts at `_entities`, as a single fetch's.
fn entry_of(batch: &BatchFetch, path: &mut [PathSegment]) -> Option<usize> {
    let Some(PathSegment::Key(key)) = path.first_mut() else {
        return None;
    };
    if batch.entries.len() == 1 {
        return (key == "_entities").then_some(0);
    }
    let i: usize = key.strip_prefix('_')?.parse().ok()?;
    if i >= batch.entries.len() || *key != batch.entry_key(i) {
        return None;
    }
    *key = "_entities".to_owned();
    Some(i)
}

/// Records a failure of the whole request at the client paths of every entity each fetch sent,
/// as each fetch's own failure would be; once without a path if none sent any.
pub(super) fn fail(
    batch: &BatchFetch,
    prepared: &PreparedBatch,
    error: GraphqlError,
    report: &mut Report,
) {
    let mut reported = false;
    for i in 0..batch.entries.len() {
        for (fetch, targets) in members(batch, prepared, i) {
            reported |= fetch::fail_targets(fetch, targets, &error, report);
        }
    }
    if !reported {
        report.errors.push(error);
    }
}
