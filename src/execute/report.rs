//! What running a plan reports besides data, and the client paths it reports at. Shared by the
//! fetches and the representations they send, so neither needs the other's file for it.

use crate::plan::{client_key, FetchNode, PathElement};
use crate::response::{GraphqlError, PathSegment};

/// What fetches report besides data: errors, and the objects a failed entity fetch was to fill
/// (their missing fields are explained by that failure, so shaping adds no error of its own).
#[derive(Default)]
pub(super) struct Report {
    pub errors: Vec<GraphqlError>,
    pub failed_objects: Vec<Vec<PathSegment>>,
}

/// The client path of the object an entity fetch reaches through the list `indices`.
pub(super) fn client_path(fetch: &FetchNode, indices: &[usize]) -> Vec<PathSegment> {
    let mut indices = indices.iter();
    let mut path = Vec::with_capacity(fetch.merge_path.len());
    for element in &fetch.merge_path {
        match element {
            PathElement::Key(k) => path.push(PathSegment::Key(client_key(k).to_string())),
            PathElement::List => {
                if let Some(i) = indices.next() {
                    path.push(PathSegment::Index(*i));
                }
            }
        }
    }
    // Trailing indices: the path ended at a list field whose elements are the entities.
    for i in indices {
        path.push(PathSegment::Index(*i));
    }
    path
}

/// Maps the keys of an error path a subgraph gave to the client's keys: a key the fetch aliased
/// apart is renamed back ([`crate::plan::KeyRename`]) and a moved one returns ([`client_key`]),
/// so an error never shows a key the client did not write.
pub(super) fn client_segments(fetch: &FetchNode, path: &mut [PathSegment]) {
    for segment in path {
        let PathSegment::Key(key) = segment else {
            continue;
        };
        if let Some(rename) = fetch.renames.iter().find(|r| r.from == key.as_str()) {
            *key = client_key(&rename.to).to_string();
        } else if client_key(key).len() != key.len() {
            *key = client_key(key).to_string();
        }
    }
}
