//! Prepare: parse ▶ limits ▶ validate ▶ authorize ▶ plan, done once per document, schema
//! generation, override labels and access rights.
//!
//! Preparing a new document is the most expensive thing a request can ask for, and its cost is in
//! the client's hands. So it never runs on the async workers: a bounded pool of blocking threads
//! does it, within a time limit, while `/health`, cached operations and subscriptions keep being
//! served. Identical documents arriving together are prepared once (the cache's single flight).
//! The cache is bounded by an estimate of the bytes its entries hold and evicts the least useful
//! ones, so a flood of distinct documents cannot grow it or flush it whole.

use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::parse::{parse, ParseLimits};
use super::{authorize, plan, validate};
use crate::auth::Rights;
use crate::config::limits::LimitsConfig;
use crate::plan::PlannedOperation;
use crate::response::GraphqlError;
use crate::supergraph::{ActiveLabels, Supergraph};
use crate::telemetry::{Metrics, SPAN_TARGET};

/// A document ready to run, as the operation cache keeps it.
pub struct PreparedOperation {
    pub query: Box<str>,
    pub operation_name: Option<Box<str>>,
    pub labels: ActiveLabels,
    /// Whether `__schema`/`__type` appear, so the introspection executor must run.
    pub has_introspection: bool,
    pub planned: Arc<PlannedOperation>,
    /// The size of this operation's last response: the next one is written into a buffer of
    /// that size instead of growing one by doubling (each step a copy of everything so far).
    pub last_response_len: AtomicUsize,
}

/// How a new document is prepared (from the config's `limits` and `introspection`).
#[derive(Debug, Clone)]
pub struct PrepareSettings {
    pub limits: Arc<LimitsConfig>,
    pub introspection: bool,
    /// `auth.reject_unauthorized`: refuse an operation that asks for anything the request may
    /// not see, rather than answer it without.
    pub reject_unauthorized: bool,
}

impl PrepareSettings {
    fn parse_limits(&self) -> ParseLimits {
        // Neither may be `unlimited` (config validation refuses it); the fallbacks are the
        // defaults, for settings built in code.
        ParseLimits {
            max_tokens: self.limits.max_tokens.as_usize().unwrap_or(15_000),
            max_recursion: self.limits.max_parser_recursion.as_usize().unwrap_or(500),
        }
    }
}

/// The outcome of preparing one document: request errors are cached too, so a client repeating
/// a broken or refused document costs a lookup, not another parse.
type Outcome = Result<Arc<PreparedOperation>, Arc<[GraphqlError]>>;

struct Entry {
    query: Box<str>,
    operation_name: Option<Box<str>>,
    labels: ActiveLabels,
    /// The rights the operation was filtered for: a plan without a field must never serve a
    /// request that may see it, nor the other way round.
    rights: Rights,
    outcome: Outcome,
}

impl Entry {
    fn is_for(
        &self,
        query: &str,
        operation_name: Option<&str>,
        labels: ActiveLabels,
        rights: &Rights,
    ) -> bool {
        &*self.query == query
            && self.operation_name.as_deref() == operation_name
            && self.labels == labels
            && self.rights == *rights
    }

    /// An estimate of the memory the entry holds: the syntax trees and the plan grow with the
    /// document's text, about twenty bytes per byte of it in practice.
    fn weight(&self) -> u32 {
        let text = self.query.len();
        let plan = match &self.outcome {
            Ok(prepared) => prepared.planned.plan.text_size(),
            // An error holds its message, an extensions map and locations: a few hundred
            // bytes beside the text.
            Err(errors) => errors.iter().map(|e| e.message.len() + 512).sum(),
        };
        u32::try_from(text * 20 + plan + 1024).unwrap_or(u32::MAX)
    }
}

/// The prepared documents of one schema generation.
pub struct OperationCache {
    entries: moka::future::Cache<u64, Arc<Entry>>,
    hasher: ahash::RandomState,
    hits: AtomicU64,
    preparations: AtomicU64,
}

/// What the operation cache did, for tests and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Entries held (eviction runs in the background, so this trails a little).
    pub entries: u64,
    /// Requests answered from the cache.
    pub hits: u64,
    /// Documents prepared (identical ones arriving together count once).
    pub preparations: u64,
}

impl OperationCache {
    pub fn new(max_bytes: u64) -> Self {
        OperationCache {
            entries: moka::future::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|_, entry: &Arc<Entry>| entry.weight())
                .build(),
            hasher: ahash::RandomState::new(),
            hits: AtomicU64::new(0),
            preparations: AtomicU64::new(0),
        }
    }

    /// The counters, after eviction has caught up.
    pub async fn stats(&self) -> CacheStats {
        self.entries.run_pending_tasks().await;
        CacheStats {
            entries: self.entries.entry_count(),
            hits: self.hits.load(Ordering::Relaxed),
            preparations: self.preparations.load(Ordering::Relaxed),
        }
    }
}

/// The bounded pool new documents are prepared in.
pub struct Preparer {
    permits: Arc<Semaphore>,
    timeout: Duration,
    /// Where cache hits and misses are counted.
    metrics: Arc<Metrics>,
}

impl Preparer {
    pub fn new(threads: usize, timeout: Duration, metrics: Arc<Metrics>) -> Self {
        Preparer {
            permits: Arc::new(Semaphore::new(threads.max(1))),
            timeout,
            metrics,
        }
    }

    /// The prepared operation for `query`, from the cache or prepared now.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn get_or_prepare(
        &self,
        cache: &OperationCache,
        supergraph: &Arc<Supergraph>,
        settings: &PrepareSettings,
        query: &str,
        operation_name: Option<&str>,
        labels: ActiveLabels,
        rights: &Rights,
    ) -> Result<Arc<PreparedOperation>, Vec<GraphqlError>> {
        let mut hasher = cache.hasher.build_hasher();
        query.hash(&mut hasher);
        operation_name.hash(&mut hasher);
        labels.hash(&mut hasher);
        rights.hash(&mut hasher);
        let key = hasher.finish();
        // Whether this request prepared the document itself: a request that waited for an
        // identical one being prepared is served from the cache as much as a later one is.
        let prepared_here = std::sync::atomic::AtomicBool::new(false);
        let entry = match cache.entries.get(&key).await {
            Some(hit) => {
                cache.hits.fetch_add(1, Ordering::Relaxed);
                hit
            }
            None => cache
                .entries
                .try_get_with(key, async {
                    prepared_here.store(true, Ordering::Relaxed);
                    cache.preparations.fetch_add(1, Ordering::Relaxed);
                    let outcome = self
                        .prepare(supergraph, settings, query, operation_name, labels, rights)
                        .await?;
                    Ok::<_, GraphqlError>(Arc::new(Entry {
                        query: query.into(),
                        operation_name: operation_name.map(Into::into),
                        labels,
                        rights: rights.clone(),
                        outcome,
                    }))
                })
                .await
                .map_err(|error| vec![(*error).clone()])?,
        };
        let hit = !prepared_here.load(Ordering::Relaxed);
        self.metrics.cache_lookup(hit);
        if hit {
            // The plan span of a cached operation: it shows the lookup, and that nothing was
            // parsed, validated or planned for this request.
            drop(tracing::info_span!(target: SPAN_TARGET, "plan", seam.cache.hit = true).entered());
        }
        // The hash picks the entry; the texts confirm it is this document. Two documents with
        // one hash (never seen in practice) are prepared each time rather than mixed up.
        let outcome = if entry.is_for(query, operation_name, labels, rights) {
            entry.outcome.clone()
        } else {
            self.prepare(supergraph, settings, query, operation_name, labels, rights)
                .await
                .map_err(|e| vec![e])?
        };
        outcome.map_err(|errors| errors.to_vec())
    }

    /// Runs the stages on a pool thread. `Err` is for a document that could not be prepared in
    /// time, which is not cached: under less load it may well succeed.
    async fn prepare(
        &self,
        supergraph: &Arc<Supergraph>,
        settings: &PrepareSettings,
        query: &str,
        operation_name: Option<&str>,
        labels: ActiveLabels,
        rights: &Rights,
    ) -> Result<Outcome, GraphqlError> {
        let timed_out = || {
            GraphqlError::new(
                format!(
                    "the operation could not be prepared within {:?}; the gateway is busy or \
                     the document is too complex",
                    self.timeout
                ),
                "PLANNING_TIMEOUT",
            )
        };
        let work = async {
            let permit = self
                .permits
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| timed_out())?;
            let supergraph = supergraph.clone();
            let settings = settings.clone();
            let query: Box<str> = query.into();
            let operation_name: Option<Box<str>> = operation_name.map(Into::into);
            let rights = rights.clone();
            // The stages' spans belong to the request's, which the pool thread does not know.
            let parent = tracing::Span::current();
            // The permit goes with the thread: a timed-out preparation still holds its place in
            // the pool until it finishes, so abandoned work cannot pile up beyond the pool.
            tokio::task::spawn_blocking(move || {
                let _permit = permit;
                parent.in_scope(|| {
                    prepare_now(
                        &supergraph,
                        &settings,
                        query,
                        operation_name,
                        labels,
                        &rights,
                    )
                })
            })
            .await
            .map_err(|_| {
                GraphqlError::new(
                    "the operation could not be planned",
                    "QUERY_PLANNING_FAILED",
                )
            })
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| timed_out())?
    }
}

fn prepare_now(
    supergraph: &Supergraph,
    settings: &PrepareSettings,
    query: Box<str>,
    operation_name: Option<Box<str>>,
    labels: ActiveLabels,
    rights: &Rights,
) -> Outcome {
    let stages = || -> Result<PreparedOperation, Vec<GraphqlError>> {
        let ast = tracing::info_span!(target: SPAN_TARGET, "parse")
            .in_scope(|| parse(&query, settings.parse_limits()))?;
        let validated = tracing::info_span!(target: SPAN_TARGET, "validate").in_scope(|| {
            super::limits::check_operation_limits(
                &ast,
                operation_name.as_deref(),
                &settings.limits,
            )
            .map_err(|e| vec![e])?;
            validate::validate(
                ast,
                &supergraph.api_schema,
                operation_name.as_deref(),
                settings.introspection,
            )
        })?;
        let has_introspection = validated.has_introspection;
        let (validated, instead) =
            authorize::authorize(supergraph, validated, rights, settings.reject_unauthorized)?;
        let planned = tracing::info_span!(target: SPAN_TARGET, "plan", seam.cache.hit = false)
            .in_scope(|| plan::plan(supergraph, validated, instead, labels))?;
        Ok(PreparedOperation {
            query: query.clone(),
            operation_name: operation_name.clone(),
            labels,
            has_introspection,
            planned: Arc::new(planned),
            last_response_len: AtomicUsize::new(0),
        })
    };
    stages().map(Arc::new).map_err(Arc::from)
}
