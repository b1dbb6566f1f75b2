//! The gateway's Prometheus metrics: one registry per gateway (so two gateways embedded in one
//! process keep their own counts), written to as things happen and read by `GET /metrics`.
//!
//! Counters and histograms are updated on the request path, so their label handles are looked
//! up cheaply: a subgraph's handles are resolved once per schema generation
//! ([`SubgraphMetrics`]), and operation names go through [`OperationNames`], which caps how many
//! distinct names get a series. Gauges of things that exist elsewhere (open streams, breaker
//! states, cache size) are read from their owners when scraped, not mirrored on every change.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry,
};

/// Latency buckets in seconds: from a cached plan answered locally (1 ms) to a subgraph timeout.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The label value of operations past the cap, and of anonymous operations.
pub const OTHER_OPERATIONS: &str = "other";
/// The longest operation name that gets a series of its own. A name is repeated in every line of
/// every series it labels, and a client chooses it: a 1 MB name made each scrape of `/metrics`
/// gigabytes. Longer names count under [`OTHER_OPERATIONS`].
pub const MAX_OPERATION_NAME_LABEL: usize = 128;
pub const ANONYMOUS_OPERATION: &str = "anonymous";

/// How one client operation ended, as the `outcome` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationOutcome {
    /// Executed with no error.
    Ok,
    /// Executed, with errors in the response (partial data or none).
    Errors,
    /// Refused before execution: a request error, a limit, a rule.
    Refused,
    /// The client went away before its answer was ready.
    Cancelled,
}

impl OperationOutcome {
    fn label(self) -> &'static str {
        match self {
            OperationOutcome::Ok => "ok",
            OperationOutcome::Errors => "errors",
            OperationOutcome::Refused => "refused",
            OperationOutcome::Cancelled => "cancelled",
        }
    }
}

/// How one subgraph request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubgraphOutcome {
    /// A GraphQL answer without errors.
    Ok,
    /// A GraphQL answer with errors.
    Errors,
    /// No usable answer: transport failure, HTTP error, timeout, malformed body, open breaker.
    Failed,
}

const SUBGRAPH_OUTCOMES: [SubgraphOutcome; 3] = [
    SubgraphOutcome::Ok,
    SubgraphOutcome::Errors,
    SubgraphOutcome::Failed,
];

impl SubgraphOutcome {
    fn label(self) -> &'static str {
        match self {
            SubgraphOutcome::Ok => "ok",
            SubgraphOutcome::Errors => "errors",
            SubgraphOutcome::Failed => "failed",
        }
    }
}

/// Which kind of streaming client a gauge counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    WebSocket,
    Sse,
    Multipart,
}

/// What `/metrics` reads from the rest of the gateway when scraped.
#[derive(Debug, Default)]
pub struct LiveState {
    pub operation_cache_entries: u64,
    pub websockets: usize,
    pub sse_streams: usize,
    pub multipart_streams: usize,
    pub subscriptions: usize,
    /// Threads of the runtime serving requests (`worker_threads`).
    pub worker_threads: usize,
    pub bridge_reconnects: u64,
    pub bridge_gaps: u64,
    /// Subscription clients closed for falling behind (`SUBSCRIPTION_CLIENT_TOO_SLOW`).
    pub slow_subscription_clients: u64,
    /// Each subgraph's breaker: 0 closed, 1 half-open, 2 open.
    pub breakers: Vec<(String, i64)>,
}

/// Operation names as label values, at most `cap` distinct ones; later names share
/// [`OTHER_OPERATIONS`]. Names already admitted are found under a read lock, so the common case
/// does not contend.
pub struct OperationNames {
    cap: usize,
    known: RwLock<HashSet<Arc<str>>>,
    /// Made once, so the label of an anonymous or uncounted operation costs no allocation.
    anonymous: Arc<str>,
    other: Arc<str>,
}

impl OperationNames {
    pub fn new(cap: usize) -> Self {
        Self {
            cap,
            known: RwLock::new(HashSet::new()),
            anonymous: Arc::from(ANONYMOUS_OPERATION),
            other: Arc::from(OTHER_OPERATIONS),
        }
    }

    /// The label value for `name`.
    pub fn label(&self, name: Option<&str>) -> Arc<str> {
        let Some(name) = name else {
            return self.anonymous.clone();
        };
        if name.len() > MAX_OPERATION_NAME_LABEL {
            return self.other.clone();
        }
        if let Ok(known) = self.known.read() {
            if let Some(found) = known.get(name) {
                return found.clone();
            }
            if known.len() >= self.cap {
                return self.other.clone();
            }
        }
        let Ok(mut known) = self.known.write() else {
            return self.other.clone();
        };
        if let Some(found) = known.get(name) {
            return found.clone();
        }
        if known.len() >= self.cap {
            return self.other.clone();
        }
        let label: Arc<str> = Arc::from(name);
        known.insert(label.clone());
        label
    }
}

/// Every metric of one gateway.
pub struct Metrics {
    registry: Registry,
    names: OperationNames,
    operations: IntCounterVec,
    operation_seconds: HistogramVec,
    subgraph_requests: IntCounterVec,
    subgraph_seconds: HistogramVec,
    cache_hits: IntCounter,
    cache_misses: IntCounter,
    cache_entries: IntGauge,
    streams: IntGaugeVec,
    subscriptions: IntGauge,
    worker_threads: IntGauge,
    bridge_events: IntCounterVec,
    bridge_reconnects: IntCounter,
    bridge_gaps: IntCounter,
    slow_subscription_clients: IntCounter,
    breaker_state: IntGaugeVec,
    refused: IntCounterVec,
    reloads: IntCounterVec,
    shared_queries: IntCounter,
    shared_subgraph_requests: IntCounterVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new(100)
    }
}

/// Registers `metric` and hands it back; a name taken twice is a bug in this file, caught by
/// its tests, so it is only logged here rather than failing a gateway.
fn registered<M: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    metric: M,
) -> M {
    if let Err(error) = registry.register(Box::new(metric.clone())) {
        tracing::error!(%error, "a metric could not be registered");
    }
    metric
}

fn counter_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let metric = IntCounterVec::new(Opts::new(name, help), labels)
        .unwrap_or_else(|_| unreachable_metric(name));
    registered(registry, metric)
}

fn histogram_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> HistogramVec {
    let opts = HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec());
    let metric = HistogramVec::new(opts, labels).unwrap_or_else(|_| unreachable_metric(name));
    registered(registry, metric)
}

fn counter(registry: &Registry, name: &str, help: &str) -> IntCounter {
    let metric = IntCounter::new(name, help).unwrap_or_else(|_| unreachable_metric(name));
    registered(registry, metric)
}

fn gauge(registry: &Registry, name: &str, help: &str) -> IntGauge {
    let metric = IntGauge::new(name, help).unwrap_or_else(|_| unreachable_metric(name));
    registered(registry, metric)
}

fn gauge_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let metric = IntGaugeVec::new(Opts::new(name, help), labels)
        .unwrap_or_else(|_| unreachable_metric(name));
    registered(registry, metric)
}

/// The names and labels above are constants that the unit tests register, so construction
/// cannot fail at run time; this keeps the code free of `unwrap` all the same.
#[cold]
fn unreachable_metric<T>(name: &str) -> T {
    panic!("the metric `{name}` has an invalid name or labels")
}

impl Metrics {
    /// Fresh metrics; at most `max_operation_names` operation names get a series of their own.
    pub fn new(max_operation_names: usize) -> Self {
        let r = Registry::new();
        let metrics = Metrics {
            names: OperationNames::new(max_operation_names),
            operations: counter_vec(
                &r,
                "seam_operations_total",
                "Client operations by name, kind and outcome (ok, errors, refused).",
                &["operation", "kind", "outcome"],
            ),
            operation_seconds: histogram_vec(
                &r,
                "seam_operation_duration_seconds",
                "Time to answer a client operation (to the start of its stream for subscriptions).",
                &["operation", "kind", "outcome"],
            ),
            subgraph_requests: counter_vec(
                &r,
                "seam_subgraph_requests_total",
                "Requests to subgraphs by subgraph and outcome (ok, errors, failed), retries included.",
                &["subgraph", "outcome"],
            ),
            subgraph_seconds: histogram_vec(
                &r,
                "seam_subgraph_request_duration_seconds",
                "Time for a subgraph request, retries included.",
                &["subgraph", "outcome"],
            ),
            cache_hits: counter(
                &r,
                "seam_operation_cache_hits_total",
                "Operations whose plan came from the operation cache.",
            ),
            cache_misses: counter(
                &r,
                "seam_operation_cache_misses_total",
                "Operations parsed, validated and planned anew.",
            ),
            cache_entries: gauge(
                &r,
                "seam_operation_cache_entries",
                "Documents held by the operation cache of the schema being served.",
            ),
            streams: gauge_vec(
                &r,
                "seam_open_streams",
                "Open streaming clients by transport (websocket, sse, multipart).",
                &["transport"],
            ),
            subscriptions: gauge(
                &r,
                "seam_active_subscriptions",
                "Running subscriptions (identical ones shared count once).",
            ),
            worker_threads: gauge(
                &r,
                "seam_worker_threads",
                "Threads serving requests (worker_threads; by default one per core).",
            ),
            bridge_events: counter_vec(
                &r,
                "seam_bridge_events_total",
                "Bridge events received by subscriptions (in) and published (out).",
                &["direction"],
            ),
            bridge_reconnects: counter(
                &r,
                "seam_bridge_reconnects_total",
                "Bridge connections re-established after a loss.",
            ),
            bridge_gaps: counter(
                &r,
                "seam_bridge_gaps_total",
                "Bridge connection losses while topics had subscribers (events may be missed).",
            ),
            slow_subscription_clients: counter(
                &r,
                "seam_subscription_clients_too_slow_total",
                "Subscription clients closed for falling behind: more responses waiting than \
                 their queue holds, or more bytes than limits.max_stream_queue_bytes.",
            ),
            breaker_state: gauge_vec(
                &r,
                "seam_circuit_breaker_state",
                "Each subgraph's circuit breaker: 0 closed, 1 half-open, 2 open.",
                &["subgraph"],
            ),
            refused: counter_vec(
                &r,
                "seam_requests_refused_total",
                "Requests refused before execution, by the error code they were answered with.",
                &["code"],
            ),
            reloads: counter_vec(
                &r,
                "seam_reloads_total",
                "Schema reloads by outcome (success, failure).",
                &["outcome"],
            ),
            shared_queries: counter(
                &r,
                "seam_client_requests_shared_total",
                "Queries answered by an identical query's execution already in flight \
                 (traffic.dedupe_client_requests) instead of one of their own.",
            ),
            shared_subgraph_requests: counter_vec(
                &r,
                "seam_subgraph_requests_shared_total",
                "Subgraph requests answered by an identical request already in flight \
                 (traffic.dedupe_subgraph_requests) instead of a call of their own.",
                &["subgraph"],
            ),
            registry: r,
        };
        // Series of a fixed label set exist from the start at 0, so an alert on their increase
        // (a failed reload) has something to read before the first event.
        for outcome in ["success", "failure"] {
            metrics.reloads.with_label_values(&[outcome]);
        }
        for direction in ["in", "out"] {
            metrics.bridge_events.with_label_values(&[direction]);
        }
        metrics
    }

    /// Counts one client operation and its duration.
    pub fn operation(
        &self,
        name: Option<&str>,
        kind: &'static str,
        outcome: OperationOutcome,
        took: Duration,
    ) {
        let name = self.names.label(name);
        let labels = [&*name, kind, outcome.label()];
        self.operations.with_label_values(&labels).inc();
        self.operation_seconds
            .with_label_values(&labels)
            .observe(took.as_secs_f64());
    }

    /// The handles of one subgraph's series, resolved once.
    pub fn subgraph(&self, name: &str) -> SubgraphMetrics {
        let per_outcome = SUBGRAPH_OUTCOMES.map(|outcome| {
            let labels = [name, outcome.label()];
            (
                self.subgraph_requests.with_label_values(&labels),
                self.subgraph_seconds.with_label_values(&labels),
            )
        });
        SubgraphMetrics { per_outcome }
    }

    /// The counter of `name`'s requests that joined an identical one in flight.
    pub fn subgraph_shared(&self, name: &str) -> IntCounter {
        self.shared_subgraph_requests.with_label_values(&[name])
    }

    pub fn cache_lookup(&self, hit: bool) {
        if hit {
            self.cache_hits.inc();
        } else {
            self.cache_misses.inc();
        }
    }

    pub fn bridge_event_in(&self) {
        self.bridge_events.with_label_values(&["in"]).inc();
    }

    pub fn bridge_event_out(&self) {
        self.bridge_events.with_label_values(&["out"]).inc();
    }

    /// Counts a request refused with `code` (its GraphQL `extensions.code`).
    pub fn refused(&self, code: &str) {
        self.refused.with_label_values(&[code]).inc();
    }

    /// Counts a query that joined an identical one's execution.
    pub fn client_request_shared(&self) {
        self.shared_queries.inc();
    }

    pub fn reload(&self, succeeded: bool) {
        let outcome = if succeeded { "success" } else { "failure" };
        self.reloads.with_label_values(&[outcome]).inc();
    }

    /// The Prometheus text exposition, with the gauges read from `live` first.
    pub fn render(&self, live: &LiveState) -> String {
        self.cache_entries
            .set(i64::try_from(live.operation_cache_entries).unwrap_or(i64::MAX));
        for (kind, open) in [
            ("websocket", live.websockets),
            ("sse", live.sse_streams),
            ("multipart", live.multipart_streams),
        ] {
            self.streams
                .with_label_values(&[kind])
                .set(i64::try_from(open).unwrap_or(i64::MAX));
        }
        self.subscriptions
            .set(i64::try_from(live.subscriptions).unwrap_or(i64::MAX));
        self.worker_threads
            .set(i64::try_from(live.worker_threads).unwrap_or(i64::MAX));
        // Monotonic counts kept by the bridge: the counters catch up to them.
        for (counter, total) in [
            (&self.bridge_reconnects, live.bridge_reconnects),
            (&self.bridge_gaps, live.bridge_gaps),
            (
                &self.slow_subscription_clients,
                live.slow_subscription_clients,
            ),
        ] {
            let seen = counter.get();
            if total > seen {
                counter.inc_by(total - seen);
            }
        }
        self.breaker_state.reset();
        for (subgraph, state) in &live.breakers {
            self.breaker_state
                .with_label_values(&[subgraph])
                .set(*state);
        }
        let encoder = prometheus::TextEncoder::new();
        encoder
            .encode_to_string(&self.registry.gather())
            .unwrap_or_else(|error| format!("# the metrics could not be encoded: {error}\n"))
    }
}

/// One subgraph's request counters and latency histograms, by outcome.
#[derive(Clone)]
pub struct SubgraphMetrics {
    per_outcome: [(IntCounter, Histogram); 3],
}

impl SubgraphMetrics {
    pub fn record(&self, outcome: SubgraphOutcome, took: Duration) {
        let (count, seconds) = &self.per_outcome[outcome as usize];
        count.inc();
        seconds.observe(took.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_past_the_cap_share_one_label() {
        let names = OperationNames::new(2);
        assert_eq!(&*names.label(Some("A")), "A");
        assert_eq!(&*names.label(Some("B")), "B");
        assert_eq!(&*names.label(Some("C")), OTHER_OPERATIONS);
        assert_eq!(&*names.label(Some("A")), "A");
        assert_eq!(&*names.label(None), ANONYMOUS_OPERATION);
        let names = OperationNames::new(10);
        let long = "N".repeat(MAX_OPERATION_NAME_LABEL + 1);
        assert_eq!(&*names.label(Some(&long)), OTHER_OPERATIONS);
        let longest = "N".repeat(MAX_OPERATION_NAME_LABEL);
        assert_eq!(&*names.label(Some(&longest)), longest);
    }

    #[test]
    fn every_metric_registers_and_renders() {
        let metrics = Metrics::new(10);
        metrics.operation(
            Some("Q"),
            "query",
            OperationOutcome::Ok,
            Duration::from_millis(3),
        );
        metrics
            .subgraph("accounts")
            .record(SubgraphOutcome::Failed, Duration::from_millis(1));
        metrics.cache_lookup(true);
        metrics.refused("RATE_LIMITED");
        metrics.reload(false);
        metrics.bridge_event_in();
        metrics.client_request_shared();
        metrics.subgraph_shared("reviews").inc();
        let text = metrics.render(&LiveState {
            bridge_reconnects: 2,
            slow_subscription_clients: 4,
            breakers: vec![("accounts".into(), 2)],
            worker_threads: 3,
            ..LiveState::default()
        });
        for line in [
            "seam_operations_total{kind=\"query\",operation=\"Q\",outcome=\"ok\"} 1",
            "seam_subgraph_requests_total{outcome=\"failed\",subgraph=\"accounts\"} 1",
            "seam_operation_cache_hits_total 1",
            "seam_requests_refused_total{code=\"RATE_LIMITED\"} 1",
            "seam_reloads_total{outcome=\"failure\"} 1",
            "seam_client_requests_shared_total 1",
            "seam_reloads_total{outcome=\"success\"} 0",
            "seam_bridge_events_total{direction=\"out\"} 0",
            "seam_subscription_clients_too_slow_total 4",
            "seam_subgraph_requests_shared_total{subgraph=\"reviews\"} 1",
            "seam_worker_threads 3",
            "seam_bridge_events_total{direction=\"in\"} 1",
            "seam_bridge_reconnects_total 2",
            "seam_circuit_breaker_state{subgraph=\"accounts\"} 2",
            "seam_open_streams{transport=\"websocket\"} 0",
        ] {
            assert!(text.contains(line), "missing `{line}` in:\n{text}");
        }
    }
}
