//! Parse, validate and plan an operation once per (document, operation name) and schema generation.

use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Arc, RwLock};

use apollo_compiler::executable::Operation;
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Node};

use crate::config::limits::LimitsConfig;
use crate::plan::{plan_operation, OperationKind, QueryPlan};
use crate::response::{GraphqlError, Location};
use crate::supergraph::{ActiveLabels, Supergraph};

/// Cached entries per schema generation; when full the cache starts over (cheap, and a hot set refills at once).
const CACHE_CAPACITY: usize = 2048;

pub struct PreparedOperation {
    pub query: String,
    pub operation_name: Option<String>,
    pub document: Valid<ExecutableDocument>,
    pub operation: Node<Operation>,
    pub plan: QueryPlan,
    /// The progressive-override labels the plan was made for.
    pub labels: ActiveLabels,
    /// Whether `__schema`/`__type` appear, so the introspection executor must run.
    pub has_introspection: bool,
}

impl PreparedOperation {
    pub fn kind(&self) -> OperationKind {
        self.plan.kind
    }
}

/// Why an operation cannot run; all are request errors (no `data` in the response).
#[derive(Debug, Clone)]
pub struct PrepareError {
    pub errors: Vec<GraphqlError>,
}

#[derive(Default)]
pub struct OperationCache {
    entries: RwLock<std::collections::HashMap<u64, Arc<PreparedOperation>>>,
    hasher: ahash::RandomState,
}

impl OperationCache {
    pub fn get_or_prepare(
        &self,
        supergraph: &Supergraph,
        query: &str,
        operation_name: Option<&str>,
        labels: ActiveLabels,
        limits: &LimitsConfig,
    ) -> Result<Arc<PreparedOperation>, PrepareError> {
        let mut hasher = self.hasher.build_hasher();
        query.hash(&mut hasher);
        operation_name.hash(&mut hasher);
        labels.hash(&mut hasher);
        let key = hasher.finish();
        if let Ok(entries) = self.entries.read() {
            if let Some(hit) = entries.get(&key) {
                // The hash picks the slot; the texts confirm it is really this operation.
                if hit.query == query
                    && hit.operation_name.as_deref() == operation_name
                    && hit.labels == labels
                {
                    return Ok(hit.clone());
                }
            }
        }
        let prepared = Arc::new(prepare(supergraph, query, operation_name, labels, limits)?);
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= CACHE_CAPACITY {
                entries.clear();
            }
            entries.insert(key, prepared.clone());
        }
        Ok(prepared)
    }
}

fn prepare(
    supergraph: &Supergraph,
    query: &str,
    operation_name: Option<&str>,
    labels: ActiveLabels,
    limits: &LimitsConfig,
) -> Result<PreparedOperation, PrepareError> {
    let schema = &supergraph.api_schema;
    let mut parser = apollo_compiler::parser::Parser::new();
    if let Some(tokens) = limits.max_tokens.as_usize() {
        parser = parser.token_limit(tokens);
    }
    if let Some(nesting) = limits.max_parser_recursion.as_usize() {
        parser = parser.recursion_limit(nesting);
    }
    let ast = parser
        .parse_ast(query, "query.graphql")
        .map_err(|e| PrepareError {
            errors: diagnostics(&e.errors, "GRAPHQL_PARSE_FAILED"),
        })?;
    crate::pipeline::limits::check_operation_limits(&ast, operation_name, limits).map_err(
        |error| PrepareError {
            errors: vec![error],
        },
    )?;
    let document = ast
        .to_executable_validate(schema)
        .map_err(|e| PrepareError {
            errors: diagnostics(&e.errors, "GRAPHQL_VALIDATION_FAILED"),
        })?;
    let operation = document
        .operations
        .get(operation_name)
        .map_err(|e| PrepareError {
            errors: vec![GraphqlError::new(
                e.message().to_string(),
                if operation_name.is_some() {
                    "GRAPHQL_UNKNOWN_OPERATION_NAME"
                } else {
                    "GRAPHQL_VALIDATION_FAILED"
                },
            )],
        })?
        .clone();
    let has_introspection = operation
        .root_fields(&document)
        .any(|f| f.name == "__schema" || f.name == "__type");
    let plan =
        plan_operation(supergraph, &document, &operation, labels).map_err(|e| PrepareError {
            errors: vec![GraphqlError::new(e.to_string(), "QUERY_PLANNING_FAILED")],
        })?;
    Ok(PreparedOperation {
        query: query.to_owned(),
        operation_name: operation_name.map(str::to_owned),
        document,
        operation,
        plan,
        labels,
        has_introspection,
    })
}

fn diagnostics(
    list: &apollo_compiler::validation::DiagnosticList,
    code: &str,
) -> Vec<GraphqlError> {
    list.iter()
        .map(|d| {
            let json = d.to_json();
            let mut error = GraphqlError::new(json.message, code);
            if !json.locations.is_empty() {
                error.locations = Some(
                    json.locations
                        .iter()
                        .map(|l| Location {
                            line: l.line,
                            column: l.column,
                        })
                        .collect(),
                );
            }
            error
        })
        .collect()
}
