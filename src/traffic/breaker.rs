//! The circuit breaker of one subgraph: when too many of its recent requests failed, its fields
//! are answered at once with `SUBREQUEST_CIRCUIT_OPEN` instead of waiting on a subgraph that is
//! down — which would hold every client request for the subgraph's timeout and pile more load on
//! a service trying to recover.
//!
//! Closed, it counts successes and failures over a sliding window and opens when, with at least
//! `min_requests` in the window, the failure rate reaches `failure_rate`. Open, it refuses every
//! request until `open_for` has passed; then it is half-open and lets exactly one request through
//! as a probe: a success closes it, a failure opens it for another `open_for`. Health checks feed
//! it too (see `health.rs`). Its state outlives schema reloads: it belongs to the subgraph's name.
//!
//! No breaker crate fit these semantics (one probe at a time, a rate over a time window, a state
//! to read for `/ready` and metrics), and the state machine is small, so it is owned here.

use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

use super::errors::FetchError;
use super::{SubgraphRequest, SubgraphResponse};
use crate::config::BreakerSettings;

/// What a breaker is doing, as `/ready` and metrics show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Requests pass; failures are counted.
    Closed,
    /// Requests are refused until the timer runs out.
    Open,
    /// The timer ran out: the next request goes through as a probe (or one is in flight).
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }

    /// The state as the `seam_circuit_breaker_state` gauge shows it.
    pub fn gauge_value(self) -> i64 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::HalfOpen => 1,
            BreakerState::Open => 2,
        }
    }
}

/// The window is cut into this many slots, the oldest forgotten as time moves on: a sliding
/// window accurate to a tenth of its length, at the cost of ten counters.
const SLOTS: usize = 10;

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// Which slot-length of time since the breaker's start these counts are from.
    epoch: u64,
    successes: u32,
    failures: u32,
}

#[derive(Debug)]
enum Phase {
    Closed,
    /// Refusing until `until`; after it, the first request becomes the probe.
    Open {
        until: Instant,
    },
    /// A probe is in flight; every other request is refused until it ends.
    Probing,
}

#[derive(Debug)]
struct Inner {
    phase: Phase,
    slots: [Slot; SLOTS],
}

#[derive(Debug)]
pub struct Breaker {
    subgraph: String,
    settings: BreakerSettings,
    started: Instant,
    inner: Mutex<Inner>,
}

/// Whether a request may go to the subgraph, and whether it is the half-open probe.
pub(super) enum Admission {
    Pass(Ticket),
    Refused,
}

/// Held by an admitted request until its outcome is known. A probe whose request is dropped
/// before it ends (the client gave up) hands the probe on rather than leaving the breaker
/// half-open for good.
pub(super) struct Ticket {
    breaker: Arc<Breaker>,
    probe: bool,
    settled: bool,
}

impl Ticket {
    /// Records the request's outcome: `true` when the subgraph answered well enough.
    pub(super) fn settle(mut self, healthy: bool) {
        self.settled = true;
        self.breaker.record(self.probe, healthy);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.probe && !self.settled {
            self.breaker.abandon_probe();
        }
    }
}

impl Breaker {
    pub fn new(subgraph: &str, settings: BreakerSettings) -> Self {
        Breaker {
            subgraph: subgraph.to_owned(),
            settings,
            started: Instant::now(),
            inner: Mutex::new(Inner {
                phase: Phase::Closed,
                slots: [Slot::default(); SLOTS],
            }),
        }
    }

    pub fn state(&self) -> BreakerState {
        match self.lock().phase {
            Phase::Closed => BreakerState::Closed,
            Phase::Open { until } if Instant::now() < until => BreakerState::Open,
            Phase::Open { .. } | Phase::Probing => BreakerState::HalfOpen,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn admit(self: &Arc<Self>) -> Admission {
        let mut inner = self.lock();
        let probe = match inner.phase {
            Phase::Closed => false,
            Phase::Open { until } if Instant::now() >= until => {
                inner.phase = Phase::Probing;
                tracing::info!(
                    subgraph = %self.subgraph,
                    breaker = "half_open",
                    "circuit breaker half-open: one probe request goes through"
                );
                true
            }
            Phase::Open { .. } | Phase::Probing => return Admission::Refused,
        };
        Admission::Pass(Ticket {
            breaker: self.clone(),
            probe,
            settled: false,
        })
    }

    fn record(&self, probe: bool, healthy: bool) {
        let mut inner = self.lock();
        if probe {
            if healthy {
                self.close(&mut inner, "the probe request succeeded");
            } else {
                self.open(&mut inner, "the probe request failed");
            }
            return;
        }
        // Requests admitted before the breaker opened may end after it: they no longer count.
        if !matches!(inner.phase, Phase::Closed) {
            return;
        }
        let slot_length = (self.settings.window / SLOTS as u32).max(Duration::from_millis(1));
        let epoch = (self.started.elapsed().as_nanos() / slot_length.as_nanos()) as u64;
        let slot = &mut inner.slots[(epoch % SLOTS as u64) as usize];
        if slot.epoch != epoch {
            *slot = Slot {
                epoch,
                ..Slot::default()
            };
        }
        if healthy {
            slot.successes += 1;
        } else {
            slot.failures += 1;
        }
        let recent = inner
            .slots
            .iter()
            .filter(|s| s.epoch + (SLOTS as u64) > epoch);
        let (successes, failures) = recent.fold((0u64, 0u64), |(s, f), slot| {
            (s + u64::from(slot.successes), f + u64::from(slot.failures))
        });
        let total = successes + failures;
        if total >= u64::from(self.settings.min_requests)
            && failures as f64 >= self.settings.failure_rate * total as f64
        {
            let reason = format!("{failures} of the last {total} requests failed");
            self.open(&mut inner, &reason);
        }
    }

    /// The probe's request was dropped unfinished: the next request may probe at once.
    fn abandon_probe(&self) {
        let mut inner = self.lock();
        if matches!(inner.phase, Phase::Probing) {
            inner.phase = Phase::Open {
                until: Instant::now(),
            };
        }
    }

    /// Health checks failed `unhealthy_after` times in a row: open, or stay open for another
    /// `open_for` rather than send a probe to a subgraph known to be down.
    pub(super) fn check_failed(&self) {
        let mut inner = self.lock();
        match inner.phase {
            Phase::Closed => self.open(&mut inner, "its health checks failed"),
            Phase::Open { .. } => {
                inner.phase = Phase::Open {
                    until: Instant::now() + self.settings.open_for,
                }
            }
            Phase::Probing => {}
        }
    }

    /// A health check passed: once the breaker has been open for `open_for`, that is as good
    /// as a successful probe.
    pub(super) fn check_passed(&self) {
        let mut inner = self.lock();
        let due = match inner.phase {
            Phase::Closed => false,
            Phase::Open { until } => Instant::now() >= until,
            Phase::Probing => true,
        };
        if due {
            self.close(&mut inner, "its health check passed");
        }
    }

    fn open(&self, inner: &mut Inner, reason: &str) {
        inner.phase = Phase::Open {
            until: Instant::now() + self.settings.open_for,
        };
        tracing::warn!(
            subgraph = %self.subgraph,
            breaker = "open",
            open_for = %humantime::format_duration(self.settings.open_for),
            "circuit breaker opened: {reason}; the subgraph's fields fail at once with \
             SUBREQUEST_CIRCUIT_OPEN"
        );
    }

    fn close(&self, inner: &mut Inner, reason: &str) {
        inner.phase = Phase::Closed;
        inner.slots = [Slot::default(); SLOTS];
        tracing::info!(
            subgraph = %self.subgraph,
            breaker = "closed",
            "circuit breaker closed: {reason}"
        );
    }
}

/// The tower layer that puts a subgraph's breaker in front of its calls.
#[derive(Clone)]
pub(super) struct BreakerLayer(pub Arc<Breaker>);

impl<S> tower::Layer<S> for BreakerLayer {
    type Service = WithBreaker<S>;

    fn layer(&self, inner: S) -> Self::Service {
        WithBreaker {
            breaker: self.0.clone(),
            inner,
        }
    }
}

#[derive(Clone)]
pub(super) struct WithBreaker<S> {
    breaker: Arc<Breaker>,
    inner: S,
}

impl<S> tower::Service<SubgraphRequest> for WithBreaker<S>
where
    S: tower::Service<SubgraphRequest, Response = SubgraphResponse, Error = FetchError>,
    S::Future: Send + 'static,
{
    type Response = SubgraphResponse;
    type Error = FetchError;
    type Future = BoxFuture<'static, Result<SubgraphResponse, FetchError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), FetchError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: SubgraphRequest) -> Self::Future {
        let ticket = match self.breaker.admit() {
            Admission::Pass(ticket) => ticket,
            Admission::Refused => {
                let error = FetchError::CircuitOpen {
                    subgraph: self.breaker.subgraph.clone(),
                };
                return Box::pin(std::future::ready(Err(error)));
            }
        };
        let answer = self.inner.call(request);
        Box::pin(async move {
            let result = answer.await;
            let healthy = match &result {
                Ok(response) => !response
                    .http_error
                    .as_ref()
                    .is_some_and(FetchError::shows_subgraph_unwell),
                Err(error) => !error.shows_subgraph_unwell(),
            };
            ticket.settle(healthy);
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(min_requests: u32, open_for: Duration) -> Arc<Breaker> {
        Arc::new(Breaker::new(
            "s",
            BreakerSettings {
                window: Duration::from_secs(60),
                min_requests,
                failure_rate: 0.5,
                open_for,
            },
        ))
    }

    fn pass(breaker: &Arc<Breaker>) -> Ticket {
        match breaker.admit() {
            Admission::Pass(ticket) => ticket,
            Admission::Refused => panic!("refused in state {:?}", breaker.state()),
        }
    }

    #[test]
    fn opens_only_once_enough_requests_show_the_failure_rate() {
        let b = breaker(4, Duration::from_secs(60));
        pass(&b).settle(false);
        pass(&b).settle(false);
        pass(&b).settle(false);
        assert_eq!(
            b.state(),
            BreakerState::Closed,
            "3 requests are below min_requests"
        );
        pass(&b).settle(true);
        assert_eq!(b.state(), BreakerState::Open, "2 failures of 4 reach 50%");
        assert!(matches!(b.admit(), Admission::Refused));
    }

    #[test]
    fn a_low_failure_rate_keeps_it_closed() {
        let b = breaker(4, Duration::from_secs(60));
        for healthy in [true, true, false, true, true, true, false, true] {
            pass(&b).settle(healthy);
        }
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn half_open_lets_one_probe_through_and_its_outcome_decides() {
        let b = breaker(1, Duration::ZERO);
        pass(&b).settle(false);
        assert_eq!(
            b.state(),
            BreakerState::HalfOpen,
            "open_for 0 is over at once"
        );
        let probe = pass(&b);
        assert!(
            matches!(b.admit(), Admission::Refused),
            "one probe at a time"
        );
        probe.settle(false);
        let probe = pass(&b);
        probe.settle(true);
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn a_dropped_probe_hands_the_probe_on() {
        let b = breaker(1, Duration::ZERO);
        pass(&b).settle(false);
        drop(pass(&b));
        pass(&b).settle(true);
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn health_checks_open_it_and_close_it_once_the_timer_is_over() {
        let b = breaker(100, Duration::from_secs(60));
        b.check_failed();
        assert_eq!(b.state(), BreakerState::Open);
        b.check_passed();
        assert_eq!(b.state(), BreakerState::Open, "open_for is not over yet");
        let b = breaker(100, Duration::ZERO);
        b.check_failed();
        b.check_passed();
        assert_eq!(b.state(), BreakerState::Closed);
    }
}
