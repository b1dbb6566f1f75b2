//! Persisted operations: a request that names its document instead of sending it ▶ the
//! document's text.
//!
//! Two kinds, looked up in this order:
//! - **persisted documents** (trusted documents) from a manifest, named by a top-level
//!   `documentId` (or Relay's `doc_id`) or by Apollo's `extensions.persistedQuery.sha256Hash`;
//! - **automatic persisted queries** (Apollo's APQ protocol): a client sends the hash alone,
//!   gets `PERSISTED_QUERY_NOT_FOUND` the first time, then sends hash and query, which registers
//!   the query once its hash is checked.
//!
//! With `only_persisted`, everything but a manifest document is refused.

mod apq;
pub mod manifest;

use std::ops::Deref;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::extensions::{PersistedQueryExtension, RequestExtensions};
use super::respond::{Answer, Outcome};
use super::GraphqlRequest;
use crate::config::PersistedQueriesConfig;
use crate::response::GraphqlError;
use apq::ApqStore;
pub use manifest::{Manifest, ManifestError};

/// The persisted-operation rules and stores of one gateway; they outlive schema generations.
pub struct PersistedOperations {
    apq: Option<ApqStore>,
    manifest: Option<Arc<Manifest>>,
    only_persisted: bool,
}

/// The operation text a request runs, and the APQ hash to register it under once it has proved
/// to be a valid operation (so the store never holds documents that cannot run).
pub(super) struct Resolved<'a> {
    pub(super) text: Text<'a>,
    pub(super) register: Option<&'a str>,
}

/// Operation text without a copy: the request's own, or a stored document shared with the store.
pub(super) enum Text<'a> {
    Sent(&'a str),
    Stored(Arc<str>),
}

impl Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            Text::Sent(text) => text,
            Text::Stored(text) => text,
        }
    }
}

/// `extensions.persistedQuery`, as Apollo's clients send it.
struct PersistedQuery<'a> {
    hash: &'a str,
}

impl PersistedOperations {
    /// The rules of `config`; the manifest is added with [`PersistedOperations::with_manifest`]
    /// because reading it can fail startup.
    pub fn new(config: &PersistedQueriesConfig) -> Self {
        PersistedOperations {
            apq: (config.apq.enabled && !config.only_persisted).then(|| ApqStore::new(&config.apq)),
            manifest: None,
            only_persisted: config.only_persisted,
        }
    }

    pub fn with_manifest(mut self, manifest: Manifest) -> Self {
        self.manifest = Some(Arc::new(manifest));
        self
    }

    pub(super) async fn resolve<'a>(
        &self,
        request: &'a GraphqlRequest,
    ) -> Result<Resolved<'a>, Answer> {
        let query = request.query.as_deref().filter(|q| !q.trim().is_empty());
        if let Some(id) = request.document_id.as_deref() {
            let body = self.document(id)?;
            return match query {
                Some(query) if query != &*body => Err(refuse(
                    Outcome::BadRequest,
                    "the request has both a `documentId` and a different `query`; send one",
                    "BAD_REQUEST",
                )),
                _ => Ok(Resolved {
                    text: Text::Stored(body.clone()),
                    register: None,
                }),
            };
        }
        let Some(persisted) = persisted_query(request.extensions.as_ref())? else {
            if self.only_persisted {
                return Err(only_persisted());
            }
            return Ok(Resolved {
                text: Text::Sent(
                    request
                        .query_text()
                        .map_err(|error| Answer::refuse(Outcome::BadRequest, &[error]))?,
                ),
                register: None,
            });
        };
        if let Some(body) = self.manifest.as_ref().and_then(|m| m.get(persisted.hash)) {
            if query.is_none_or(|query| query == &**body) {
                return Ok(Resolved {
                    text: Text::Stored(body.clone()),
                    register: None,
                });
            }
        }
        if self.only_persisted {
            return Err(match query {
                Some(_) => only_persisted(),
                None => not_in_list(),
            });
        }
        let Some(store) = &self.apq else {
            // A client that sends its query anyway can be served without the store.
            return match query {
                Some(query) => Ok(Resolved {
                    text: Text::Sent(query),
                    register: None,
                }),
                None if self.manifest.is_some() => Err(not_in_list()),
                None => Err(refuse(
                    Outcome::BadRequest,
                    "automatic persisted queries are switched off; send the query",
                    "PERSISTED_QUERY_NOT_SUPPORTED",
                )),
            };
        };
        match query {
            Some(query) => {
                if !sha256_hex(query).eq_ignore_ascii_case(persisted.hash) {
                    return Err(refuse(
                        Outcome::BadRequest,
                        "the `sha256Hash` of `extensions.persistedQuery` is not the SHA-256 of \
                         the query",
                        "PERSISTED_QUERY_HASH_MISMATCH",
                    ));
                }
                Ok(Resolved {
                    text: Text::Sent(query),
                    register: Some(persisted.hash),
                })
            }
            None => match store.get(&persisted.hash.to_ascii_lowercase()).await {
                Some(text) => Ok(Resolved {
                    text: Text::Stored(text),
                    register: None,
                }),
                // Apollo's clients read this code and send the query with its hash.
                None => Err(refuse(
                    Outcome::PersistedQueryNotFound,
                    "PersistedQueryNotFound",
                    "PERSISTED_QUERY_NOT_FOUND",
                )),
            },
        }
    }

    /// Registers an APQ query that prepared without errors.
    pub(super) async fn register(&self, hash: &str, query: &str) {
        if let Some(store) = &self.apq {
            store.put(&hash.to_ascii_lowercase(), query).await;
        }
    }

    fn document(&self, id: &str) -> Result<Arc<str>, Answer> {
        match &self.manifest {
            Some(manifest) => manifest.get(id).cloned().ok_or_else(not_in_list),
            None => Err(refuse(
                Outcome::BadRequest,
                "this gateway has no persisted documents; send the query",
                "PERSISTED_QUERY_NOT_SUPPORTED",
            )),
        }
    }
}

/// Reads `extensions.persistedQuery`; `None` when the request has none.
fn persisted_query(
    extensions: Option<&RequestExtensions>,
) -> Result<Option<PersistedQuery<'_>>, Answer> {
    let Some(extension) = extensions.and_then(|e| e.persisted_query.as_ref()) else {
        return Ok(None);
    };
    let (version, hash) = match extension {
        PersistedQueryExtension::Object {
            version,
            sha256_hash,
        } => (version.as_u64(), sha256_hash.as_str()),
        PersistedQueryExtension::NotAnObject => (None, None),
    };
    if version != Some(1) {
        return Err(refuse(
            Outcome::BadRequest,
            "`extensions.persistedQuery.version` must be 1",
            "PERSISTED_QUERY_VERSION_NOT_SUPPORTED",
        ));
    }
    match hash {
        Some(hash) if !hash.is_empty() => Ok(Some(PersistedQuery { hash })),
        _ => Err(refuse(
            Outcome::BadRequest,
            "`extensions.persistedQuery` needs a `sha256Hash` string",
            "BAD_REQUEST",
        )),
    }
}

fn sha256_hex(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    hex
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn refuse(outcome: Outcome, message: &str, code: &str) -> Answer {
    Answer::refuse(outcome, &[GraphqlError::new(message, code)])
}

fn only_persisted() -> Answer {
    refuse(
        Outcome::Forbidden,
        "this gateway runs only persisted documents: send a `documentId` (or \
         `extensions.persistedQuery.sha256Hash`) from the manifest instead of a query",
        "PERSISTED_QUERY_ONLY",
    )
}

fn not_in_list() -> Answer {
    refuse(
        Outcome::BadRequest,
        "no persisted document has this id",
        "PERSISTED_QUERY_NOT_IN_LIST",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_as_apollo_clients_do() {
        // The SHA-256 test vector of "abc".
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
