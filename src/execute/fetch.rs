//! One fetch: build the subgraph request from the response so far, send it, merge the answer back.
//!
//! Entity targets are remembered as the list indices along the fetch's merge path (the keys are the
//! path's own), so no per-entity path is allocated, and merging does not depend on the tree keeping
//! its shape while other fetches run.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Map;

use super::report::{client_path, client_segments, Report};
use super::representation::{has_required_fields, report_unmet_requirements, write_projection};
use crate::response::merge::deep_merge;
use crate::response::value::{write_json_string, Object, Value};

use crate::plan::{client_key, EntityFetch, FetchNode, PathElement};
use crate::response::{GraphqlError, PathSegment};
use crate::traffic::{FetchError, SubgraphResponse};
use apollo_compiler::Name;

/// A prepared request plus what is needed to merge its answer.
pub(super) struct PreparedFetch {
    pub body: Vec<u8>,
    /// For entity fetches: list indices of each target along the merge path, `stride` per target.
    targets: Vec<usize>,
    stride: usize,
    /// The representation each target sent (`None`: its key was null, nothing was sent for it).
    target_reps: Vec<Option<usize>>,
    /// The entity type index (in the fetch's `types`) of each target.
    target_types: Vec<usize>,
    /// How many distinct representations were sent.
    pub rep_count: usize,
}

impl PreparedFetch {
    /// How many places the answer fills and how many entities it was asked for (both 0 for a
    /// root fetch): what merging it may copy, for the response budget.
    pub(super) fn fan_out(&self) -> (usize, usize) {
        let places = self.target_reps.iter().filter(|rep| rep.is_some()).count();
        (places, self.rep_count)
    }
}

/// Builds the request body; `None` when an entity fetch has nothing to ask for. Entities whose
/// required fields never arrived are reported in `report` and not sent.
///
/// `part`: for a fetch with context variables, one set of their values (JSON members) and the
/// test of which entities have exactly those values; only those entities are sent.
pub(super) fn prepare(
    fetch: &FetchNode,
    data: &Value,
    variables: &Map<String, serde_json::Value>,
    report: &mut Report,
    part: Option<(&[u8], &TargetFilter<'_>)>,
) -> Option<PreparedFetch> {
    let mut body = Vec::with_capacity(fetch.operation.len() + 256);
    body.extend_from_slice(b"{\"query\":");
    write_json_string(&mut body, &fetch.operation);
    body.extend_from_slice(b",\"variables\":{");
    let mut first = !write_client_variables(&fetch.variable_usages, variables, &mut body);
    if let Some((values, _)) = part.filter(|(values, _)| !values.is_empty()) {
        if !first {
            body.push(b',');
        }
        body.extend_from_slice(values);
        first = false;
    }
    let Some(entity) = &fetch.entity else {
        body.extend_from_slice(b"}}");
        return Some(PreparedFetch {
            body,
            targets: Vec::new(),
            stride: 0,
            target_reps: Vec::new(),
            target_types: Vec::new(),
            rep_count: 0,
        });
    };
    if !first {
        body.push(b',');
    }
    body.extend_from_slice(b"\"representations\":[");
    let keep = part.map(|(_, keep)| keep);
    let mut prepared = collect_targets(
        fetch,
        entity,
        data,
        report,
        keep,
        &mut RepIndex::default(),
        &mut |index, _, _, rep| {
            if index > 0 {
                body.push(b',');
            }
            body.extend_from_slice(rep);
        },
    );
    if prepared.rep_count == 0 {
        return None;
    }
    body.extend_from_slice(b"]}}");
    prepared.body = body;
    Some(prepared)
}

/// Writes the client variables a fetch uses as `"name":value` pairs; true if it wrote any.
pub(super) fn write_client_variables(
    usages: &[Name],
    variables: &Map<String, serde_json::Value>,
    body: &mut Vec<u8>,
) -> bool {
    let mut wrote = false;
    for name in usages {
        if let Some(value) = variables.get(name.as_str()) {
            if wrote {
                body.push(b',');
            }
            wrote = true;
            write_json_string(body, name);
            body.push(b':');
            let _ = serde_json::to_writer(&mut *body, value);
        }
    }
    wrote
}

/// Called once per distinct representation, in order: its index, the entity type's index in
/// the fetch, the object it was projected from, and the representation's JSON.
pub(super) type RepresentationSink<'s> = dyn FnMut(usize, usize, &Object, &[u8]) + 's;

/// The index of each distinct representation by its JSON. Found by hash because the same entity
/// (an author of many reviews) often appears many times in one list; shared by the fetches of a
/// batch entry, so an entity they both reach is asked for once.
pub(super) type RepIndex = HashMap<Vec<u8>, usize, ahash::RandomState>;

/// Whether the entity reached through these list indices belongs to the request being built.
pub(super) type TargetFilter<'f> = dyn Fn(&[usize]) -> bool + 'f;

/// Finds the objects an entity fetch targets and their representations. The result has no body
/// yet; `unique` sees each representation not yet in `seen` once, to write it into one.
pub(super) fn collect_targets(
    fetch: &FetchNode,
    entity: &EntityFetch,
    data: &Value,
    report: &mut Report,
    keep: Option<&TargetFilter<'_>>,
    seen: &mut RepIndex,
    unique: &mut RepresentationSink<'_>,
) -> PreparedFetch {
    let stride = fetch
        .merge_path
        .iter()
        .filter(|p| matches!(p, PathElement::List))
        .count();
    let mut prepared = PreparedFetch {
        body: Vec::new(),
        targets: Vec::new(),
        stride,
        target_reps: Vec::new(),
        target_types: Vec::new(),
        rep_count: 0,
    };
    let mut indices = Vec::with_capacity(stride);
    let mut rep = Vec::with_capacity(64);
    visit_targets(
        data,
        &fetch.merge_path,
        &mut indices,
        &mut |object, indices| {
            if keep.is_some_and(|keep| !keep(indices)) {
                return;
            }
            let typename = object.get("__typename").and_then(Value::as_str);
            let type_index = match typename {
                Some(t) => entity
                    .types
                    .iter()
                    .position(|e| e.name == t || e.object_types.iter().any(|o| o == t)),
                None if entity.types.len() == 1 => Some(0),
                None => None,
            };
            let Some(type_index) = type_index else {
                return;
            };
            let entity_type = &entity.types[type_index];
            let key_present = entity_type
                .key_fields
                .iter()
                .all(|k| object.get(k.as_str()).is_some_and(|v| !v.is_null()));
            prepared.targets.extend_from_slice(indices);
            prepared.target_types.push(type_index);
            if !key_present {
                prepared.target_reps.push(None);
                return;
            }
            if !has_required_fields(
                object,
                &entity_type.representation,
                &entity_type.non_null_nested,
            ) {
                prepared.target_reps.push(None);
                report_unmet_requirements(fetch, entity_type, indices, report);
                return;
            }
            rep.clear();
            // An object reached through an `@interfaceObject` is sent as its interface.
            let forced = (!entity_type.object_types.is_empty()).then_some(&entity_type.name);
            write_projection(
                &mut rep,
                object,
                &entity_type.representation,
                &entity_type.name,
                forced,
            );
            let next = seen.len();
            let index = match seen.get(rep.as_slice()) {
                Some(i) => *i,
                None => {
                    seen.insert(rep.clone(), next);
                    next
                }
            };
            if index == next {
                unique(index, type_index, object, &rep);
            }
            prepared.target_reps.push(Some(index));
        },
    );
    prepared.rep_count = seen.len();
    prepared
}

/// Called for every entity target with the list indices that lead to it.
pub(super) type TargetVisitor<'v, 'f> = dyn FnMut(&'v Object, &[usize]) + 'f;

/// Calls `f` for every object at `path`, with the list indices that lead to it.
pub(super) fn visit_targets<'v>(
    value: &'v Value,
    path: &[PathElement],
    indices: &mut Vec<usize>,
    f: &mut TargetVisitor<'v, '_>,
) {
    match path.split_first() {
        // The path has a list step for every list level of the schema, so a list here is an
        // answer nested deeper than its type: no target (the shaper reports the bad value), and
        // every target keeps exactly one index per list step, which merging relies on.
        None => {
            if let Value::Object(object) = value {
                f(object, indices)
            }
        }
        Some((PathElement::Key(key), rest)) => {
            if let Some(child) = value.as_object().and_then(|o| o.get(key.as_str())) {
                visit_targets(child, rest, indices, f);
            }
        }
        Some((PathElement::List, rest)) => {
            if let Value::Array(items) = value {
                for (i, item) in items.iter().enumerate() {
                    indices.push(i);
                    visit_targets(item, rest, indices, f);
                    indices.pop();
                }
            }
        }
    }
}

/// Merges a subgraph answer into the response and returns the errors to report.
///
/// An answer that does not have the shape asked for is reported at the client paths it should
/// have filled (like a failed fetch), never merged: a string where an object belongs would
/// otherwise replace what other subgraphs already put there.
pub(super) fn merge(
    fetch: &FetchNode,
    prepared: PreparedFetch,
    response: SubgraphResponse,
    data: &mut Value,
    report: &mut Report,
) {
    let had_errors = !response.errors.is_empty();
    if fetch.entity.is_none() {
        report
            .errors
            .extend(response.errors.into_iter().map(|mut error| {
                if let Some(path) = &mut error.path {
                    client_segments(fetch, path);
                }
                error
            }));
        match response.data {
            Some(value) if value.as_object().is_some() => match Arc::try_unwrap(value) {
                Err(shared) if fetch.renames.is_empty() => deep_merge(data, &*shared),
                // Renaming changes the answer, so a shared one is copied first.
                owned_or_shared => {
                    let mut value = owned_or_shared.unwrap_or_else(|shared| (*shared).clone());
                    super::rename::apply(&fetch.renames, &mut value);
                    deep_merge(data, value)
                }
            },
            // `data: null` with errors: the errors say why the fields are missing.
            None if had_errors => {}
            None => fail(
                fetch,
                &prepared,
                malformed(fetch, "the response has neither `data` nor `errors`".into()),
                report,
            ),
            Some(_) => fail(
                fetch,
                &prepared,
                malformed(fetch, "`data` is not an object".into()),
                report,
            ),
        }
        return;
    }
    let mut object = AnswerObject::of(response.data);
    let entities = object.as_mut().and_then(|o| o.take_or_borrow("_entities"));
    let rep_count = prepared.rep_count;
    let members = [(fetch, &prepared)];
    let answer = EntitiesAnswer {
        entities,
        errors: response.errors,
        had_errors,
    };
    merge_entities(&members, rep_count, answer, data, report);
}

/// The `data` object of an answer, taken apart by key: moved out of when this request holds the
/// only reference to it, read in place when requests in flight together share it.
pub(super) enum AnswerObject {
    Own(Object),
    Shared(Arc<Value>),
}

impl AnswerObject {
    /// `None` when there is no `data` or it is not an object.
    pub fn of(data: Option<Arc<Value>>) -> Option<Self> {
        match Arc::try_unwrap(data?) {
            Ok(Value::Object(object)) => Some(Self::Own(object)),
            Ok(_) => None,
            Err(shared) => shared.as_object().is_some().then_some(Self::Shared(shared)),
        }
    }

    /// The value under `key`: moved out when owned, borrowed when shared.
    pub fn take_or_borrow(&mut self, key: &str) -> Option<Cow<'_, Value>> {
        match self {
            Self::Own(object) => object.remove(key).map(Cow::Owned),
            Self::Shared(shared) => shared.as_object()?.get(key).map(Cow::Borrowed),
        }
    }
}

/// One `_entities` field of a subgraph's answer.
pub(super) struct EntitiesAnswer<'a> {
    /// The field's value, if the answer had it.
    pub entities: Option<Cow<'a, Value>>,
    /// The subgraph's errors about it, with paths that start at `_entities`.
    pub errors: Vec<GraphqlError>,
    /// Whether errors explain a missing list (those about it, or about the whole answer).
    pub had_errors: bool,
}

/// Merges an `_entities` answer into the response. `members` are the fetches whose
/// representations made up the list sent (one fetch, or the fetches of a batch entry, which
/// share one list), and `rep_count` how many were sent.
pub(super) fn merge_entities(
    members: &[(&FetchNode, &PreparedFetch)],
    rep_count: usize,
    answer: EntitiesAnswer<'_>,
    data: &mut Value,
    report: &mut Report,
) {
    let Some(&(first, _)) = members.first() else {
        return;
    };
    let (results, wrong_shape): (Option<Cow<'_, [Value]>>, _) = match answer.entities {
        Some(Cow::Owned(Value::Array(items))) if items.len() == rep_count => {
            (Some(Cow::Owned(items)), None)
        }
        Some(Cow::Borrowed(Value::Array(items))) if items.len() == rep_count => {
            (Some(Cow::Borrowed(items.as_slice())), None)
        }
        other => (None, other),
    };
    for error in answer.errors {
        let paths = entity_error_paths(
            members,
            rep_count,
            error.path.as_deref(),
            results.as_deref(),
        );
        if paths.is_empty() {
            // A path the gateway cannot map (or none) would mislead the client: report it without.
            report.errors.push(GraphqlError {
                path: None,
                ..error
            });
            continue;
        }
        // One representation can stand for several places in the response (deduplication).
        for path in paths {
            report.errors.push(error.clone().with_path(path));
        }
    }
    let failure = match (results, wrong_shape.as_deref()) {
        (Some(items), _) => Ok(items),
        // The whole `_entities` field failed; the subgraph's errors say why.
        (None, None | Some(Value::Null)) if answer.had_errors => return,
        (None, Some(Value::Array(items))) => Err(format!(
            "it returned {} entities for {} representations",
            items.len(),
            rep_count
        )),
        (None, None | Some(Value::Null)) => Err("the response has no `_entities` list".to_owned()),
        (None, Some(_)) => Err("`_entities` is not a list".to_owned()),
    };
    let mut results = match failure {
        Ok(items) => items,
        Err(message) => {
            for (fetch, prepared) in members {
                fail(fetch, prepared, malformed(fetch, message.clone()), report);
            }
            return;
        }
    };
    // The fetches of one entry ask for the same selection, so they rename the same keys.
    if !first.renames.is_empty() {
        let mut items = results.into_owned();
        for item in &mut items {
            super::rename::apply(&first.renames, item);
        }
        results = Cow::Owned(items);
    }
    // An answer of this request's own is moved into its last target and copied into earlier
    // duplicates; a shared answer is copied into each, as it is merged. (With renames it was
    // copied whole above, to rename the copy.)
    let mut remaining = Vec::new();
    if let Cow::Owned(items) = &results {
        remaining.resize(items.len(), 0usize);
        for (_, prepared) in members {
            for rep in prepared.target_reps.iter().flatten() {
                remaining[*rep] += 1;
            }
        }
    }
    for (fetch, prepared) in members {
        for t in 0..prepared.target_reps.len() {
            let Some(rep) = prepared.target_reps[t] else {
                continue;
            };
            if !matches!(results[rep], Value::Null | Value::Object(_)) {
                let path = target_error_path(fetch, prepared, t);
                let message = format!("entity {rep} is not an object");
                report
                    .errors
                    .push(malformed(fetch, message).with_path(path));
                report.failed_objects.push(target_path(fetch, prepared, t));
            }
        }
        for_each_target_mut(
            data,
            &fetch.merge_path,
            prepared,
            0,
            0..prepared.target_reps.len(),
            &mut |t, target| {
                let Some(rep) = prepared.target_reps[t] else {
                    return;
                };
                if !matches!(results[rep], Value::Object(_)) {
                    return;
                }
                match &mut results {
                    Cow::Owned(items) => {
                        remaining[rep] -= 1;
                        if remaining[rep] == 0 {
                            deep_merge(target, std::mem::take(&mut items[rep]));
                        } else {
                            deep_merge(target, &items[rep]);
                        }
                    }
                    Cow::Borrowed(items) => deep_merge(target, &items[rep]),
                }
            },
        );
    }
}

fn malformed(fetch: &FetchNode, message: String) -> GraphqlError {
    FetchError::Malformed {
        subgraph: fetch.service_name.to_string(),
        message,
    }
    .into_graphql()
}

/// Records errors for a fetch that failed as a whole, at the client paths it would have filled.
pub(super) fn fail(
    fetch: &FetchNode,
    prepared: &PreparedFetch,
    error: GraphqlError,
    report: &mut Report,
) {
    match &fetch.entity {
        None => {
            let errors = &mut report.errors;
            if fetch.root_keys.is_empty() {
                errors.push(error);
                return;
            }
            for key in &fetch.root_keys {
                errors.push(
                    error
                        .clone()
                        .with_path(vec![PathSegment::Key(client_key(key).to_string())]),
                );
            }
        }
        Some(_) => {
            if !fail_targets(fetch, prepared, &error, report) {
                report.errors.push(error);
            }
        }
    }
}

/// Records `error` at the client path of each entity an entity fetch sent; false if it sent none.
pub(super) fn fail_targets(
    fetch: &FetchNode,
    prepared: &PreparedFetch,
    error: &GraphqlError,
    report: &mut Report,
) -> bool {
    let mut reported = false;
    for t in 0..prepared.target_reps.len() {
        if prepared.target_reps[t].is_none() {
            continue;
        }
        let path = target_error_path(fetch, prepared, t);
        report.errors.push(error.clone().with_path(path));
        report.failed_objects.push(target_path(fetch, prepared, t));
        reported = true;
    }
    reported
}

/// The client path of target `t` of an entity fetch.
fn target_path(fetch: &FetchNode, prepared: &PreparedFetch, t: usize) -> Vec<PathSegment> {
    client_path(
        fetch,
        &prepared.targets[t * prepared.stride..(t + 1) * prepared.stride],
    )
}

/// Where a failure of target `t` of an entity fetch is reported: the entity's client path and
/// the first field the fetch was to add to it.
fn target_error_path(fetch: &FetchNode, prepared: &PreparedFetch, t: usize) -> Vec<PathSegment> {
    let mut path = target_path(fetch, prepared, t);
    let key = fetch
        .entity
        .as_ref()
        .and_then(|e| e.types[prepared.target_types[t]].error_key.as_ref());
    if let Some(key) = key {
        path.push(PathSegment::Key(client_key(key).to_string()));
    }
    path
}

/// The client paths of an `_entities` error path: one per place its representation fills, in
/// any of the fetches that shared the list.
fn entity_error_paths(
    members: &[(&FetchNode, &PreparedFetch)],
    rep_count: usize,
    path: Option<&[PathSegment]>,
    results: Option<&[Value]>,
) -> Vec<Vec<PathSegment>> {
    let (indices, rest): (Vec<usize>, &[PathSegment]) = match path {
        Some([PathSegment::Key(k), PathSegment::Index(i), rest @ ..]) if k == "_entities" => {
            (vec![*i], rest)
        }
        // Some servers (async-graphql among them) omit the index. With one representation it is
        // unambiguous; otherwise the failed entities are those whose answer lacks the field.
        Some([PathSegment::Key(k), rest @ ..]) if k == "_entities" => {
            if rep_count == 1 {
                (vec![0], rest)
            } else {
                match (rest.first(), results) {
                    (Some(PathSegment::Key(field)), Some(results)) => {
                        let missing = results
                            .iter()
                            .enumerate()
                            .filter(|(_, r)| match r {
                                Value::Object(o) => o.get(field).is_none_or(Value::is_null),
                                _ => true,
                            })
                            .map(|(i, _)| i)
                            .collect();
                        (missing, rest)
                    }
                    _ => return Vec::new(),
                }
            }
        }
        _ => return Vec::new(),
    };
    let mut paths = Vec::new();
    for (fetch, prepared) in members {
        for t in 0..prepared.target_reps.len() {
            if !prepared.target_reps[t].is_some_and(|r| indices.contains(&r)) {
                continue;
            }
            let mut client = target_path(fetch, prepared, t);
            let from = client.len();
            client.extend_from_slice(rest);
            client_segments(fetch, &mut client[from..]);
            paths.push(client);
        }
    }
    paths
}

/// Calls `f` with each target `t` in `targets` (a range of `prepared`'s targets, in the
/// order they were collected, which is the order of the tree) and the object it names.
///
/// One walk down the merge path serves all targets: targets that share list indices up to a
/// level share the walk to it, so each object on the way is looked up once per fetch instead of
/// once per target below it (thousands of lookups in the same few objects on deep paths).
/// Targets the tree no longer has are skipped.
fn for_each_target_mut(
    value: &mut Value,
    path: &[PathElement],
    prepared: &PreparedFetch,
    depth: usize,
    targets: std::ops::Range<usize>,
    f: &mut dyn FnMut(usize, &mut Value),
) {
    let index_of = |t: usize| prepared.targets[t * prepared.stride + depth];
    match path.split_first() {
        Some((PathElement::Key(key), rest)) => {
            if let Some(child) = value.as_object_mut().and_then(|o| o.get_mut(key.as_str())) {
                for_each_target_mut(child, rest, prepared, depth, targets, f);
            }
        }
        // Every target has one index per list step (`visit_targets` yields no others), so
        // `depth` is below the stride here.
        Some((PathElement::List, rest)) => {
            let Some(items) = value.as_array_mut() else {
                return;
            };
            let mut start = targets.start;
            while start < targets.end {
                let index = index_of(start);
                let mut end = start + 1;
                while end < targets.end && index_of(end) == index {
                    end += 1;
                }
                if let Some(item) = items.get_mut(index) {
                    for_each_target_mut(item, rest, prepared, depth + 1, start..end, f);
                }
                start = end;
            }
        }
        None => {
            for t in targets {
                f(t, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> PathElement {
        PathElement::Key(Name::new(name).expect("a valid name"))
    }

    /// Targets as `collect_targets` lists them: list indices along the path, in tree order.
    fn prepared(targets: &[&[usize]], stride: usize) -> PreparedFetch {
        PreparedFetch {
            body: Vec::new(),
            targets: targets.iter().flat_map(|t| t.iter().copied()).collect(),
            stride,
            target_reps: vec![Some(0); targets.len()],
            target_types: vec![0; targets.len()],
            rep_count: 1,
        }
    }

    fn visit(data: &mut Value, path: &[PathElement], prepared: &PreparedFetch) -> Vec<String> {
        let mut seen = Vec::new();
        let count = prepared.target_reps.len();
        for_each_target_mut(data, path, prepared, 0, 0..count, &mut |t, target| {
            let id = target
                .as_object()
                .and_then(|o| o.get("id"))
                .and_then(Value::as_str)
                .unwrap_or("?");
            seen.push(format!("{t}:{id}"));
        });
        seen
    }

    #[test]
    fn each_target_is_found_through_nested_lists_and_missing_ones_are_skipped() {
        let mut data = crate::response::json::parse(
            br#"{"a":[{"b":[{"id":"x"},{"id":"y"}]},{"b":null},{"b":[{"id":"z"}]}]}"#,
        )
        .expect("valid JSON");
        let path = [key("a"), PathElement::List, key("b"), PathElement::List];
        // [1, 0] is under a null list and [2, 5] past the end of one: both are skipped.
        let targets = prepared(&[&[0, 0], &[0, 1], &[1, 0], &[2, 0], &[2, 5]], 2);
        assert_eq!(visit(&mut data, &path, &targets), ["0:x", "1:y", "3:z"]);
    }

    #[test]
    fn targets_are_found_in_siblings_whose_keys_come_in_other_orders() {
        // Each step's key sits elsewhere in each sibling.
        let text = br#"{"a":[{"b":[{"id":"x"}],"c":1},{"c":2,"d":3,"b":[{"n":0,"id":"y"}]},{"b":[{"id":"z"}]}]}"#;
        let mut data = crate::response::json::parse(text).expect("valid JSON");
        let path = [key("a"), PathElement::List, key("b"), PathElement::List];
        let targets = prepared(&[&[0, 0], &[1, 0], &[2, 0]], 2);
        assert_eq!(visit(&mut data, &path, &targets), ["0:x", "1:y", "2:z"]);
        let mut ids = Vec::new();
        visit_targets(&data, &path, &mut Vec::new(), &mut |object, indices| {
            ids.push((indices.to_vec(), object.get("id").and_then(Value::as_str)));
        });
        assert_eq!(
            ids,
            [
                (vec![0, 0], Some("x")),
                (vec![1, 0], Some("y")),
                (vec![2, 0], Some("z"))
            ]
        );
    }

    #[test]
    fn a_list_nested_deeper_than_the_path_holds_no_target() {
        // `a: [T]` answered as `[[T], T]`: only the object where the schema puts one is a target,
        // with one index per list step.
        let data = crate::response::json::parse(br#"{"a":[[{"id":"p"}],{"id":"q"}]}"#)
            .expect("valid JSON");
        let path = [key("a"), PathElement::List];
        let mut found = Vec::new();
        visit_targets(&data, &path, &mut Vec::new(), &mut |object, indices| {
            found.push((indices.to_vec(), object.get("id").cloned()));
        });
        assert_eq!(found, [(vec![1], Some(Value::String("q".into())))]);
    }

    #[test]
    fn a_key_the_tree_lacks_skips_every_target_below_it() {
        let mut data = crate::response::json::parse(br#"{"other":[{"id":"x"}]}"#).expect("JSON");
        let path = [key("a"), PathElement::List];
        assert!(visit(&mut data, &path, &prepared(&[&[0]], 1)).is_empty());
    }
}
