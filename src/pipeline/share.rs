//! Share: identical client queries in flight together run once (`traffic.dedupe_client_requests`).
//!
//! When many clients ask the same thing at once (a landing page's query at a traffic peak), each
//! would cost a whole execution: every subgraph call, the merging and the shaping of the same
//! response. With the switch on, a query that is identical to one already executing waits for
//! that execution and sends the same response body instead of running its own.
//!
//! The stage sits after the per-client stages — authentication, rate limits, preparation with
//! the client's access rights, variable coercion, demand control — so every client still gets its
//! own refusals, and before execution. Two queries are identical when they have the same prepared
//! operation (the same document, operation name, override labels, access rights and schema
//! generation), the same coerced variables, the same headers forwarded to each subgraph by the
//! header rules, and the same verified token claims: everything an answer can depend on. Only
//! queries are shared; a mutation must run once per request, and subscriptions share their event
//! sources elsewhere (`crate::subscriptions`).
//!
//! An answer, error or not, is shared only with the queries that were waiting when it came: the
//! table holds executions in flight, never answers. The execution is a task of its own, so the
//! client that started it may go away without cancelling it for the others; when every waiting
//! client is gone the task is aborted, as a lone client's execution would be.

use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use http::{HeaderName, HeaderValue};
use serde_json::{Map, Value as Json};

use super::prepare::PreparedOperation;
use super::respond::{GatewayResponse, Outcome};
use crate::context::RequestContext;
use crate::response::GraphqlError;
use crate::traffic::in_flight::{InFlightTable, Joint};
use crate::traffic::Subgraphs;

type SharedAnswer = Arc<GatewayResponse>;

/// What makes two client queries the same query.
#[derive(Clone)]
pub(super) struct ShareKey {
    /// Stands for the document, the operation name, the override labels, the access rights and
    /// the schema generation: the operation cache hands out one per combination. Compared by
    /// address and held, so no other operation can take that address while the key exists.
    prepared: Arc<PreparedOperation>,
    /// The coerced variables as JSON text.
    variables: String,
    /// What the header rules forward to each subgraph (see `Subgraphs::forwarded_all`).
    forwarded: Vec<(usize, HeaderName, HeaderValue)>,
    /// The verified token's claims as JSON text: the identity may shape an answer beyond the
    /// access rights (a claim a header rule forwards is in `forwarded` too).
    identity: Option<String>,
}

impl ShareKey {
    pub(super) fn new(
        prepared: &Arc<PreparedOperation>,
        variables: &Map<String, Json>,
        subgraphs: &Subgraphs,
        context: &RequestContext,
    ) -> Self {
        ShareKey {
            prepared: prepared.clone(),
            variables: serde_json::to_string(variables).unwrap_or_default(),
            forwarded: subgraphs.forwarded_all(context),
            identity: context
                .identity
                .as_ref()
                .map(|identity| serde_json::to_string(&identity.claims).unwrap_or_default()),
        }
    }
}

impl PartialEq for ShareKey {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.prepared, &other.prepared)
            && self.variables == other.variables
            && self.forwarded == other.forwarded
            && self.identity == other.identity
    }
}

impl Eq for ShareKey {}

impl Hash for ShareKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::ptr::hash(Arc::as_ptr(&self.prepared), state);
        self.variables.hash(state);
        self.forwarded.hash(state);
        self.identity.hash(state);
    }
}

/// The shared executions of one gateway.
#[derive(Default)]
pub(super) struct InFlightQueries {
    executions: Arc<InFlightTable<ShareKey, SharedAnswer>>,
    /// Clients waiting for a shared execution, the one that started it included.
    waiting: AtomicUsize,
}

/// Client queries sharing executions right now (for tests and operators).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SharedQueries {
    /// Executions in flight that identical queries may join.
    pub executions: usize,
    /// Clients waiting for one of them.
    pub waiting: usize,
}

/// How a client came to its execution.
pub(super) enum Joined {
    /// It started the execution.
    Started(Waiter),
    /// An identical query's execution was in flight: it waits for that one.
    Shared(Waiter),
}

/// One client's wait for an execution. Counted while it exists, so a client that goes away
/// (its connection dropped, its timeout passed) stops counting at once.
pub(super) struct Waiter {
    execution: Joint<SharedAnswer>,
    in_flight: Arc<InFlightQueries>,
}

impl Drop for Waiter {
    fn drop(&mut self) {
        self.in_flight.waiting.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Waiter {
    /// The execution's response; every client sends the same body bytes.
    pub(super) async fn response(self) -> GatewayResponse {
        let answer = self.execution.clone().await;
        drop(self);
        Arc::try_unwrap(answer).unwrap_or_else(|shared| GatewayResponse {
            outcome: shared.outcome,
            body: shared.body.clone(),
            error_count: shared.error_count,
            refused_code: shared.refused_code.clone(),
        })
    }
}

/// The execution's task, aborted when the last waiting client drops it.
struct Task(tokio::task::JoinHandle<SharedAnswer>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl InFlightQueries {
    /// Joins the execution in flight for `key`, or starts `execute` as a task of its own.
    pub(super) fn join_or_start<F>(
        self: &Arc<Self>,
        key: ShareKey,
        execute: impl FnOnce() -> F,
    ) -> Joined
    where
        F: Future<Output = GatewayResponse> + Send + 'static,
    {
        let (execution, started) = self.executions.join_or_start(key, || {
            let run = execute();
            // The task belongs to the request that starts it: its spans are that request's.
            let span = tracing::Span::current();
            let task = Task(tokio::spawn(tracing::Instrument::instrument(
                async move { Arc::new(run.await) },
                span,
            )));
            async move {
                let mut task = task;
                match (&mut task.0).await {
                    Ok(answer) => answer,
                    Err(error) => {
                        tracing::error!(%error, "a shared execution failed");
                        Arc::new(GatewayResponse::errors(
                            Outcome::Executed,
                            &[GraphqlError::new(
                                "the operation failed",
                                "INTERNAL_SERVER_ERROR",
                            )],
                        ))
                    }
                }
            }
        });
        let waiter = self.waiter(execution);
        if started {
            Joined::Started(waiter)
        } else {
            Joined::Shared(waiter)
        }
    }

    fn waiter(self: &Arc<Self>, execution: Joint<SharedAnswer>) -> Waiter {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        Waiter {
            execution,
            in_flight: self.clone(),
        }
    }

    pub(super) fn stats(&self) -> SharedQueries {
        SharedQueries {
            executions: self.executions.len(),
            waiting: self.waiting.load(Ordering::Relaxed),
        }
    }
}
