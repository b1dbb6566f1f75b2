//! Receive: an HTTP body or query string ▶ a GraphQL request.
//!
//! Only decoding happens here. What the HTTP edge refuses before a body is read — methods, content
//! types, CSRF, sizes — is refused by the edge's layers, so a request that reaches this stage
//! is one Seam is willing to read.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::extensions::RequestExtensions;
use crate::response::GraphqlError;

/// A GraphQL-over-HTTP request; `null` is accepted for every member.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphqlRequest {
    #[serde(default)]
    pub query: Option<String>,
    #[serde(default)]
    pub operation_name: Option<String>,
    #[serde(default)]
    pub variables: Option<Variables>,
    #[serde(default)]
    pub extensions: Option<RequestExtensions>,
    /// A persisted document's id: `documentId` (GraphQL over HTTP's persisted documents, Hive
    /// Router) or `doc_id` (Relay).
    #[serde(default, alias = "doc_id")]
    pub document_id: Option<String>,
}

/// A request's `variables`. A POST body's stay JSON text until the operation is known, so that
/// only the variables it declares are ever parsed: a body of a million tiny undeclared values
/// would otherwise become a tree a hundred times its size, held while the request runs.
#[derive(Debug, Clone)]
pub enum Variables {
    Parsed(Map<String, Value>),
    /// A JSON object's text, checked as JSON and as an object.
    Text(Box<RawValue>),
}

impl From<Map<String, Value>> for Variables {
    fn from(variables: Map<String, Value>) -> Self {
        Variables::Parsed(variables)
    }
}

impl<'de> Deserialize<'de> for Variables {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Map::deserialize(deserializer).map(Variables::Parsed)
    }
}

/// A POST body: as [`GraphqlRequest`], with `variables` kept as text.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostBody {
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    operation_name: Option<String>,
    #[serde(default)]
    variables: Option<Box<RawValue>>,
    #[serde(default)]
    extensions: Option<RequestExtensions>,
    #[serde(default, alias = "doc_id")]
    document_id: Option<String>,
}

impl GraphqlRequest {
    /// A request for `query` with nothing else (embedding, tests).
    pub fn new(query: impl Into<String>) -> Self {
        GraphqlRequest {
            query: Some(query.into()),
            ..Default::default()
        }
    }

    /// The operation text, when the request has a non-blank one.
    pub fn query_text(&self) -> Result<&str, GraphqlError> {
        match self.query.as_deref() {
            Some(q) if !q.trim().is_empty() => Ok(q),
            _ => Err(GraphqlError::new(
                "the request has no `query`: send {\"query\": \"...\"}",
                "MISSING_QUERY",
            )),
        }
    }
}

/// The members of a `GET /graphql?…` query string, each JSON-encoded where the spec says so.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryParams {
    pub query: Option<String>,
    pub operation_name: Option<String>,
    pub variables: Option<String>,
    pub extensions: Option<String>,
    pub document_id: Option<String>,
    /// Relay's name for `documentId`, spelled as Relay spells it.
    #[serde(rename = "doc_id")]
    pub doc_id: Option<String>,
}

/// Decodes a POST body. serde would read a struct from a JSON array too, but a GraphQL request
/// is an object (Seam does not batch), so anything else is refused first.
pub fn from_json_body(body: &[u8]) -> Result<GraphqlRequest, GraphqlError> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(bad_request(
            "the request body must be a JSON object: {\"query\": \"...\"}".into(),
        ));
    }
    let body: PostBody = serde_json::from_slice(body).map_err(|e| {
        bad_request(format!(
            "the request body is not a valid GraphQL request: {}",
            brief(&e)
        ))
    })?;
    extensions_are_a_map(&body.extensions)?;
    let variables = match body.variables {
        Some(text) if text.get().starts_with('{') => Some(Variables::Text(text)),
        Some(_) => {
            return Err(bad_request(
                "`variables` must be a JSON object (or null)".into(),
            ))
        }
        None => None,
    };
    Ok(GraphqlRequest {
        query: body.query,
        operation_name: body.operation_name,
        variables,
        extensions: body.extensions,
        document_id: body.document_id,
    })
}

/// GraphQL over HTTP makes `extensions` a map; anything else is a malformed request, refused
/// as a non-object `variables` is.
fn extensions_are_a_map(extensions: &Option<RequestExtensions>) -> Result<(), GraphqlError> {
    match extensions {
        Some(extensions) if extensions.not_an_object => Err(bad_request(
            "`extensions` must be a JSON object (or null)".into(),
        )),
        _ => Ok(()),
    }
}

/// Decodes the query string of a GET request.
pub fn from_query_params(params: QueryParams) -> Result<GraphqlRequest, GraphqlError> {
    let variables = match params.variables.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some(text) => serde_json::from_str::<Option<Map<String, Value>>>(text)
            .map_err(|e| bad_request(format!("`variables` is not a JSON object: {}", brief(&e))))?,
    };
    let extensions = match params.extensions.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some(text) => serde_json::from_str(text)
            .map_err(|e| bad_request(format!("`extensions` is not JSON: {}", brief(&e))))?,
    };
    extensions_are_a_map(&extensions)?;
    Ok(GraphqlRequest {
        query: params.query,
        operation_name: params.operation_name,
        variables: variables.map(Variables::Parsed),
        extensions,
        document_id: params.document_id.or(params.doc_id),
    })
}

fn bad_request(message: String) -> GraphqlError {
    GraphqlError::new(message, "BAD_REQUEST")
}

/// serde's message with its position, without the offending input (which it sometimes quotes).
pub(super) fn brief(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    // serde's own text, matched only for the causes a well-formed body can have, so the client
    // is not told its valid JSON is malformed.
    let text = error.to_string();
    let what = match error.classify() {
        Category::Syntax if text.starts_with("recursion limit exceeded") => {
            "JSON nested deeper than 128 levels"
        }
        Category::Syntax if text.starts_with("number out of range") => {
            "a number too large to represent"
        }
        Category::Data if text.starts_with("duplicate field") => "a member given twice",
        Category::Syntax => "malformed JSON",
        Category::Eof => "the JSON ends too early",
        Category::Data => "a member has the wrong type",
        Category::Io => "it could not be read",
    };
    format!("{what} at line {} column {}", error.line(), error.column())
}
