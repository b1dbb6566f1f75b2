//! Retries of subgraph requests that are safe to repeat.
//!
//! A query's fetches (its root fields and its `_entities` calls, and those that complete a
//! subscription's events) only read, so a request that failed on the way — no connection, no
//! answer in time, a 502/503/504 from a proxy or a restarting service — is sent again after a
//! backoff. A mutation's fetches never are: a mutation that timed out may have run, and running it
//! twice is worse than reporting the failure.
//!
//! Three things keep retries from making an outage worse:
//! - the backoff doubles from `min_delay` up to `max_delay`, each delay lengthened by a random
//!   share of itself (backon's jitter), so clients that failed together do not retry together;
//! - a retry budget per subgraph (tower's `TpsBudget`) allows retries only as a share of the
//!   requests sent lately, so a subgraph that is down gets little more than the traffic it
//!   would get without retries;
//! - the client request's deadline: no retry starts that is not expected to end before it.
//!
//! The circuit breaker sits inside this layer, so every attempt counts in its window and a retry
//! of a subgraph whose breaker has just opened fails at once rather than being sent.

use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use tower::retry::budget::{Budget, TpsBudget};

use super::errors::FetchError;
use super::{SubgraphRequest, SubgraphResponse};
use crate::config::RetrySettings;
use crate::plan::OperationKind;

/// Whether a subgraph request of an operation of `kind` may be sent more than once.
pub(super) fn safe_to_repeat(kind: OperationKind) -> bool {
    match kind {
        OperationKind::Query | OperationKind::Subscription => true,
        OperationKind::Mutation => false,
    }
}

/// One subgraph's retry rules and budget; the budget outlives schema reloads.
pub(super) struct Retries {
    subgraph: String,
    max_attempts: u32,
    backoff: ExponentialBuilder,
    budget: TpsBudget,
}

impl Retries {
    pub(super) fn new(subgraph: &str, settings: &RetrySettings) -> Self {
        let backoff = ExponentialBuilder::new()
            .with_min_delay(settings.min_delay)
            .with_max_delay(settings.max_delay)
            .with_factor(2.0)
            .with_jitter()
            .without_max_times();
        Retries {
            subgraph: subgraph.to_owned(),
            max_attempts: settings.max_attempts,
            backoff,
            // Config validation keeps the window within 1s..=60s and the ratio within 0..=1,
            // which is what `TpsBudget::new` accepts.
            budget: TpsBudget::new(
                settings.budget_window,
                settings.budget_min_per_second,
                settings.budget_ratio as f32,
            ),
        }
    }

    /// The delay before retry number `retry` (1 for the first): the `retry`-th step of the
    /// backoff. Each step's base is fixed and only its jitter is random, so taking the n-th of a
    /// fresh sequence draws from the same distribution as walking one sequence.
    fn delay_before(&self, retry: u32) -> Duration {
        self.backoff
            .build()
            .nth(retry.saturating_sub(1) as usize)
            .unwrap_or(Duration::ZERO)
    }
}

/// Whether a retry that waits `delay` can be expected to end before the deadline, taking the
/// attempt that just failed as the measure of how long one takes.
fn fits_before_deadline(
    remaining: Option<Duration>,
    delay: Duration,
    last_attempt: Duration,
) -> bool {
    remaining.is_none_or(|left| left > delay + last_attempt)
}

/// The tower retry policy of one call: cloned per request, so it counts that request's attempts.
#[derive(Clone)]
pub(super) struct RetryPolicy {
    retries: Arc<Retries>,
    /// Attempts made and failed so far.
    failed: u32,
    /// When the current attempt started.
    started: Instant,
}

impl RetryPolicy {
    pub(super) fn new(retries: Arc<Retries>) -> Self {
        RetryPolicy {
            retries,
            failed: 0,
            started: Instant::now(),
        }
    }
}

impl tower::retry::Policy<SubgraphRequest, SubgraphResponse, FetchError> for RetryPolicy {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        request: &mut SubgraphRequest,
        result: &mut Result<SubgraphResponse, FetchError>,
    ) -> Option<Self::Future> {
        let Err(error) = result else {
            return None;
        };
        if !error.is_transient() {
            return None;
        }
        self.failed += 1;
        let retries = &self.retries;
        let subgraph = retries.subgraph.as_str();
        if self.failed >= retries.max_attempts {
            return None;
        }
        let delay = retries.delay_before(self.failed);
        let last_attempt = self.started.elapsed();
        if !fits_before_deadline(request.context.remaining(), delay, last_attempt) {
            tracing::debug!(subgraph, %error, "not retried: it could not end before the request's deadline");
            return None;
        }
        if !retries.budget.withdraw() {
            tracing::debug!(subgraph, %error, "not retried: the subgraph's retry budget is spent");
            return None;
        }
        tracing::debug!(
            subgraph,
            %error,
            attempt = self.failed + 1,
            delay_ms = delay.as_millis() as u64,
            "retrying a subgraph request"
        );
        tracing::Span::current().record("seam.retries", i64::from(self.failed));
        Some(tokio::time::sleep(delay))
    }

    /// Called before each attempt. The first is every request's deposit into the budget; a
    /// request that is not safe to repeat is not copied, which is what keeps it from ever being
    /// retried.
    fn clone_request(&mut self, request: &SubgraphRequest) -> Option<SubgraphRequest> {
        if self.failed == 0 {
            self.retries.budget.deposit();
        }
        if !safe_to_repeat(request.operation) || self.retries.max_attempts <= 1 {
            return None;
        }
        self.started = Instant::now();
        Some(request.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retries(max_attempts: u32) -> Retries {
        Retries::new(
            "s",
            &RetrySettings {
                max_attempts,
                min_delay: Duration::from_millis(100),
                max_delay: Duration::from_millis(350),
                budget_ratio: 0.2,
                budget_min_per_second: 10,
                budget_window: Duration::from_secs(10),
            },
        )
    }

    #[test]
    fn only_mutations_are_never_repeated() {
        assert!(safe_to_repeat(OperationKind::Query));
        assert!(safe_to_repeat(OperationKind::Subscription));
        assert!(!safe_to_repeat(OperationKind::Mutation));
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum_with_jitter_of_up_to_itself() {
        let r = retries(5);
        for (retry, base) in [(1, 100), (2, 200), (3, 350), (4, 350)] {
            let base = Duration::from_millis(base);
            let delays: Vec<Duration> = (0..20).map(|_| r.delay_before(retry)).collect();
            for delay in &delays {
                assert!(
                    *delay >= base && *delay <= base * 2,
                    "retry {retry}: {delay:?}"
                );
            }
            assert!(delays.iter().any(|d| *d > base), "no jitter: {delays:?}");
        }
    }

    #[test]
    fn a_retry_must_be_expected_to_end_before_the_deadline() {
        let ms = Duration::from_millis;
        assert!(fits_before_deadline(None, ms(100), ms(10_000)));
        assert!(fits_before_deadline(Some(ms(1000)), ms(100), ms(500)));
        assert!(!fits_before_deadline(Some(ms(1000)), ms(600), ms(500)));
        assert!(!fits_before_deadline(Some(ms(0)), ms(0), ms(0)));
    }
}
