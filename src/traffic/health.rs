//! Health checks: a small task per subgraph that has one configured, asking it at an interval
//! whether it is well and telling its circuit breaker. A subgraph that fails its checks
//! `unhealthy_after` times in a row has its breaker opened before client requests find out the
//! slow way; once the breaker's timer is over, a passing check closes it without waiting for a
//! client request to probe.
//!
//! The task holds its breaker weakly and ends when the gateway that owns the breaker is gone.

use std::sync::{Arc, Weak};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use http::HeaderMap;

use super::breaker::Breaker;
use crate::config::{HealthCheckSettings, HealthProbe};

/// Where and how one subgraph is checked; replaced when a reload moves the subgraph.
pub(super) struct HealthTarget {
    pub client: reqwest::Client,
    /// The subgraph's GraphQL URL; a `path` check goes to the same scheme, host and port.
    pub url: reqwest::Url,
    /// What the header rules add to a request that has no client (fixed values, defaults), so
    /// a subgraph behind an API key can be checked.
    pub headers: HeaderMap,
}

/// Starts the checks. Needs a Tokio runtime; without one (a gateway built outside any) the
/// checks are skipped with a warning rather than failing the gateway.
pub(super) fn spawn(
    subgraph: String,
    settings: HealthCheckSettings,
    breaker: Weak<Breaker>,
    target: Arc<ArcSwapOption<HealthTarget>>,
) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!(subgraph, "health checks not started: no Tokio runtime");
        return;
    };
    runtime.spawn(async move {
        let mut ticker = tokio::time::interval(settings.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failures = 0u32;
        loop {
            ticker.tick().await;
            if breaker.strong_count() == 0 {
                return;
            }
            let Some(target) = target.load_full() else {
                continue;
            };
            let healthy = check(&subgraph, &settings, &target).await;
            let Some(breaker) = breaker.upgrade() else {
                return;
            };
            if healthy {
                failures = 0;
                breaker.check_passed();
            } else {
                failures = failures.saturating_add(1);
                if failures >= settings.unhealthy_after {
                    breaker.check_failed();
                }
            }
        }
    });
}

async fn check(subgraph: &str, settings: &HealthCheckSettings, target: &HealthTarget) -> bool {
    let request = match &settings.probe {
        HealthProbe::Path(path) => {
            let Ok(url) = target.url.join(path) else {
                return false;
            };
            target.client.get(url)
        }
        HealthProbe::Query(query) => target
            .client
            .post(target.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(serde_json::json!({ "query": query }).to_string()),
    };
    let answer = request
        .headers(target.headers.clone())
        .timeout(settings.timeout)
        .send()
        .await;
    match answer {
        Ok(response) if response.status().is_success() => match settings.probe {
            HealthProbe::Path(_) => true,
            HealthProbe::Query(_) => answers_without_errors(response, settings.timeout).await,
        },
        Ok(response) => {
            tracing::debug!(
                subgraph,
                status = response.status().as_u16(),
                "health check failed"
            );
            false
        }
        Err(error) => {
            tracing::debug!(subgraph, %error, "health check failed");
            false
        }
    }
}

/// Whether a GraphQL answer has data and no errors. Health answers are small; a large one is
/// cut off at a limit rather than read whole.
async fn answers_without_errors(mut response: reqwest::Response, timeout: Duration) -> bool {
    const LIMIT: usize = 64 * 1024;
    let mut body = Vec::new();
    let read = tokio::time::timeout(timeout, async {
        while let Ok(Some(chunk)) = response.chunk().await {
            body.extend_from_slice(&chunk);
            if body.len() > LIMIT {
                return false;
            }
        }
        true
    })
    .await;
    if read != Ok(true) {
        return false;
    }
    let Ok(answer) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return false;
    };
    let no_errors = answer
        .get("errors")
        .is_none_or(|errors| errors.is_null() || errors.as_array().is_some_and(Vec::is_empty));
    no_errors && answer.get("data").is_some_and(|data| !data.is_null())
}
