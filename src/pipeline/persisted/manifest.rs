//! A manifest of persisted documents, read once at startup: Apollo's format
//! (`{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id","body",…}]}`)
//! or Relay's (`{"<id>": "<body>", …}`). A broken manifest stops startup, because serving
//! without the documents clients were built against would fail every one of their requests.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

const APOLLO_FORMAT: &str = "apollo-persisted-query-manifest";

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("persisted_queries.manifest: cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("persisted_queries.manifest: {} is not a usable manifest: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

/// Document bodies by id.
#[derive(Debug, Default)]
pub struct Manifest {
    documents: HashMap<String, Arc<str>>,
}

#[derive(Deserialize)]
struct ApolloManifest {
    version: Value,
    operations: Vec<ApolloOperation>,
}

#[derive(Deserialize)]
struct ApolloOperation {
    id: String,
    body: String,
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Manifest::parse(&text).map_err(|message| ManifestError::Invalid {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Reads either format; which one is told by Apollo's `format` member.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let json: Value =
            serde_json::from_str(text).map_err(|error| format!("not JSON ({error})"))?;
        let Value::Object(members) = &json else {
            return Err("expected a JSON object (Apollo's or Relay's manifest format)".into());
        };
        let entries: Vec<(String, String)> = match members.get("format") {
            Some(Value::String(format)) if format == APOLLO_FORMAT => {
                let manifest: ApolloManifest = serde_json::from_value(json.clone())
                    .map_err(|error| format!("not an Apollo manifest: {error}"))?;
                if manifest.version != 1 {
                    return Err(format!(
                        "Apollo manifest version {} is not supported; expected 1",
                        manifest.version
                    ));
                }
                manifest
                    .operations
                    .into_iter()
                    .map(|operation| (operation.id, operation.body))
                    .collect()
            }
            Some(format) => {
                return Err(format!(
                    "unknown manifest format {format}; expected \"{APOLLO_FORMAT}\" or a Relay \
                     manifest (an object of id ▶ document)"
                ))
            }
            None => members
                .iter()
                .map(|(id, body)| match body {
                    Value::String(body) => Ok((id.clone(), body.clone())),
                    _ => Err(format!(
                        "the entry `{id}` is not a string; a Relay manifest maps ids to documents"
                    )),
                })
                .collect::<Result<_, _>>()?,
        };
        let mut documents = HashMap::with_capacity(entries.len());
        for (id, body) in entries {
            if id.is_empty() {
                return Err("a document has an empty id".into());
            }
            if body.trim().is_empty() {
                return Err(format!("the document `{id}` has an empty body"));
            }
            let body: Arc<str> = body.into();
            if let Some(earlier) = documents.insert(id.clone(), body.clone()) {
                if earlier != body {
                    return Err(format!("the id `{id}` is given to two different documents"));
                }
            }
        }
        Ok(Manifest { documents })
    }

    pub fn get(&self, id: &str) -> Option<&Arc<str>> {
        self.documents.get(id)
    }

    pub fn len(&self) -> usize {
        self.documents.len()
    }

    pub fn is_empty(&self) -> bool {
        self.documents.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_formats() {
        let apollo = Manifest::parse(
            r#"{"format":"apollo-persisted-query-manifest","version":1,"operations":[
                {"id":"a1","body":"query A { a }","name":"A","type":"query"}]}"#,
        )
        .unwrap();
        assert_eq!(apollo.get("a1").map(|b| &**b), Some("query A { a }"));
        let relay = Manifest::parse(r#"{"r1":"query R { r }","r2":"{ s }"}"#).unwrap();
        assert_eq!(relay.len(), 2);
        assert_eq!(relay.get("r2").map(|b| &**b), Some("{ s }"));
    }

    #[test]
    fn says_what_is_wrong() {
        for (text, expected) in [
            ("[]", "expected a JSON object"),
            ("{", "not JSON"),
            (r#"{"format":"other"}"#, "unknown manifest format"),
            (
                r#"{"format":"apollo-persisted-query-manifest","version":2,"operations":[]}"#,
                "version 2 is not supported",
            ),
            (
                r#"{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"x"}]}"#,
                "not an Apollo manifest",
            ),
            (r#"{"r1": 3}"#, "`r1` is not a string"),
            (r#"{"r1": " "}"#, "empty body"),
        ] {
            let error = Manifest::parse(text).unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
